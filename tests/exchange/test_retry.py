"""Backoff arithmetic, Retry-After parsing and the retry predicate (pure)."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from polymaker.errors import (
    RateLimitError,
    RequestRejectedError,
    TransportError,
    UnexpectedResponseError,
)
from polymaker.exchange.retry import (
    RetryPolicy,
    backoff_delay,
    parse_retry_after,
    retry_delay,
    should_retry,
)


def test_backoff_doubles_within_equal_jitter_bounds():
    policy = RetryPolicy(retries=5, backoff_base_s=1.0, backoff_max_s=100.0)
    rng = random.Random(7)
    for n, capped in ((1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0)):
        for _ in range(50):
            delay = backoff_delay(n, policy, rng)
            assert capped / 2 <= delay <= capped


def test_backoff_is_capped():
    policy = RetryPolicy(backoff_base_s=1.0, backoff_max_s=3.0)
    delays = [backoff_delay(10, policy, random.Random(seed)) for seed in range(20)]
    assert max(delays) <= 3.0 and min(delays) >= 1.5


def test_backoff_is_deterministic_for_a_seed():
    policy = RetryPolicy()
    a = [backoff_delay(n, policy, random.Random(1)) for n in (1, 2, 3)]
    b = [backoff_delay(n, policy, random.Random(1)) for n in (1, 2, 3)]
    assert a == b


def test_backoff_rejects_retry_zero():
    with pytest.raises(ValueError):
        backoff_delay(0, RetryPolicy(), random.Random(0))


def test_retry_after_sets_a_floor_and_is_capped():
    policy = RetryPolicy(backoff_base_s=0.1, backoff_max_s=0.1, retry_after_max_s=5.0)
    assert retry_delay(1, policy, random.Random(0), retry_after_s=2.0) == 2.0
    assert retry_delay(1, policy, random.Random(0), retry_after_s=999.0) == 5.0
    assert retry_delay(1, policy, random.Random(0), retry_after_s=None) <= 0.1


def test_policy_validation():
    assert RetryPolicy(retries=2).attempts == 3
    with pytest.raises(ValueError):
        RetryPolicy(retries=-1)
    with pytest.raises(ValueError):
        RetryPolicy(backoff_base_s=-1)


@pytest.mark.parametrize(
    ("header", "expected"),
    [(None, None), ("", None), ("3", 3.0), ("1.5", 1.5), ("-4", 0.0), ("soon", None)],
)
def test_parse_retry_after_seconds(header, expected):
    assert parse_retry_after(header) == expected


def test_parse_retry_after_http_date():
    now = datetime(2026, 12, 3, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Thu, 03 Dec 2026 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("Thu, 03 Dec 2026 11:00:00 GMT", now) == 0.0


def test_should_retry_classification():
    url = "http://x/y"
    assert should_retry(TransportError(url, "timed out"))
    assert should_retry(RateLimitError(url, 429, "slow down"))
    assert should_retry(RequestRejectedError(url, 500, "boom"))
    assert should_retry(RequestRejectedError(url, 503, "busy"))
    assert not should_retry(RequestRejectedError(url, 400, "bad"))
    assert not should_retry(RequestRejectedError(url, 404, "missing"))
    assert not should_retry(UnexpectedResponseError("not json"))
    assert not should_retry(ValueError("bug"))
