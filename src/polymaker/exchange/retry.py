"""Retry policy for exchange HTTP calls: pure backoff arithmetic and a retry predicate.

Kept free of I/O and clocks so it can be tested exactly: the randomness comes in as a
``random.Random`` and "now" (for an HTTP-date ``Retry-After``) as a datetime.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from polymaker.errors import RateLimitError, RequestRejectedError, TransportError

DEFAULT_RETRIES = 3
DEFAULT_BACKOFF_BASE_S = 0.25
DEFAULT_BACKOFF_MAX_S = 8.0
DEFAULT_RETRY_AFTER_MAX_S = 30.0


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait before repeating a failed request.

    retries: extra attempts after the first one (0 = try once).
    backoff_base_s: the delay scale of the first retry; it doubles per retry.
    backoff_max_s: cap of the exponential delay (before jitter).
    retry_after_max_s: cap on a server's ``Retry-After``, so a huge value cannot stall a run.
    """

    retries: int = DEFAULT_RETRIES
    backoff_base_s: float = DEFAULT_BACKOFF_BASE_S
    backoff_max_s: float = DEFAULT_BACKOFF_MAX_S
    retry_after_max_s: float = DEFAULT_RETRY_AFTER_MAX_S

    def __post_init__(self) -> None:
        if self.retries < 0:
            raise ValueError("retries must be >= 0")
        if self.backoff_base_s < 0 or self.backoff_max_s < 0 or self.retry_after_max_s < 0:
            raise ValueError("delays must be >= 0")

    @property
    def attempts(self) -> int:
        """Total number of attempts, the first one included."""
        return self.retries + 1


def backoff_delay(retry_number: int, policy: RetryPolicy, rng: random.Random) -> float:
    """Seconds to wait before retry ``retry_number`` (1 = first retry).

    Capped exponential with "equal jitter": half the capped delay is fixed, the other half is
    random. The fixed half keeps a minimum spacing; the random half de-synchronises many
    clients that failed at the same moment (a thundering herd after an outage).
    """
    if retry_number < 1:
        raise ValueError("retry_number starts at 1")
    capped = min(policy.backoff_max_s, policy.backoff_base_s * 2.0 ** (retry_number - 1))
    half = capped / 2
    return half + rng.uniform(0, half)


def retry_delay(
    retry_number: int,
    policy: RetryPolicy,
    rng: random.Random,
    retry_after_s: float | None = None,
) -> float:
    """The wait before a retry: the backoff, but never less than the server's ``Retry-After``."""
    delay = backoff_delay(retry_number, policy, rng)
    if retry_after_s is not None:
        delay = max(delay, min(retry_after_s, policy.retry_after_max_s))
    return delay


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date, RFC 9110 10.2.3).

    Returns None when the header is absent or unreadable; a date in the past gives 0.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if seconds == seconds else None  # NaN is unreadable
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    reference = now if now is not None else datetime.now(UTC)
    return max(0.0, (when - reference).total_seconds())


def should_retry(error: BaseException) -> bool:
    """True for failures that may pass on a second try: no answer, timeouts, 429 and 5xx.

    Any other refusal (4xx) or a wrong-shaped answer will fail the same way again.
    """
    if isinstance(error, TransportError | RateLimitError):
        return True
    if isinstance(error, RequestRejectedError):
        return error.status >= 500
    return False


__all__ = [
    "RetryPolicy",
    "backoff_delay",
    "parse_retry_after",
    "retry_delay",
    "should_retry",
]
