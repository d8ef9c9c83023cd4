"""The account-wide rate limiter: bucket math with an injected clock, shared file state, and
four real processes drawing on one budget."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from polymaker.exchange.ratelimit import (
    CANCEL,
    ORDER,
    PUBLIC,
    VENUE_LIMITS,
    AccountRateLimiter,
    BucketSpec,
    BucketState,
    drain,
    refill,
    take,
)

SPEC = BucketSpec(rate_per_s=10, capacity=5)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_venue_limits_are_the_documented_standard_tier():
    assert VENUE_LIMITS[ORDER] == BucketSpec(40, 60)
    assert VENUE_LIMITS[CANCEL] == BucketSpec(80, 120)
    assert VENUE_LIMITS[PUBLIC].rate_per_s * 10 + VENUE_LIMITS[PUBLIC].capacity <= 9_900


def test_scaled_takes_the_fraction_of_rate_and_capacity():
    assert VENUE_LIMITS[ORDER].scaled(0.5) == BucketSpec(20, 30)
    with pytest.raises(ValueError, match="fraction"):
        SPEC.scaled(0)
    with pytest.raises(ValueError, match="fraction"):
        SPEC.scaled(1.5)


def test_refill_starts_full_and_caps_at_capacity():
    assert refill(None, SPEC, 5.0) == BucketState(5, 5.0)
    assert refill(BucketState(0, 0.0), SPEC, 0.2) == BucketState(2, 0.2)
    assert refill(BucketState(4, 0.0), SPEC, 100.0) == BucketState(5, 100.0)


def test_refill_after_the_clock_went_backwards_is_full():
    assert refill(BucketState(-3, 50.0), SPEC, 1.0) == BucketState(5, 1.0)


def test_take_deducts_when_enough_tokens():
    state, wait = take(BucketState(3, 0.0), SPEC, 2, 0.0)
    assert (state, wait) == (BucketState(1, 0.0), 0.0)


def test_take_reports_the_wait_and_takes_nothing_when_short():
    state, wait = take(BucketState(1, 0.0), SPEC, 3, 0.0)
    assert state == BucketState(1, 0.0)
    assert wait == pytest.approx(0.2)


def test_take_above_capacity_waits_for_a_full_bucket_then_goes_into_debt():
    state, wait = take(BucketState(4, 0.0), SPEC, 12, 0.0)
    assert wait == pytest.approx(0.1) and state.tokens == 4
    state, wait = take(state, SPEC, 12, 0.1)
    assert wait == 0.0 and state.tokens == pytest.approx(-7)
    _, wait = take(state, SPEC, 1, 0.1)
    assert wait == pytest.approx(0.8)


def test_take_refuses_a_non_positive_cost():
    with pytest.raises(ValueError, match="positive"):
        take(None, SPEC, 0, 0.0)


def test_limiter_shares_state_through_the_file(tmp_path):
    clock = FakeClock()
    limits = {ORDER: BucketSpec(10, 4)}
    first = AccountRateLimiter(tmp_path, fraction=1.0, limits=limits, clock=clock)
    second = AccountRateLimiter(tmp_path, fraction=1.0, limits=limits, clock=clock)
    assert [first.try_acquire(ORDER) for _ in range(2)] == [0.0, 0.0]
    assert [second.try_acquire(ORDER) for _ in range(2)] == [0.0, 0.0]
    assert first.try_acquire(ORDER) == pytest.approx(0.1)
    assert oct(first.path(ORDER).stat().st_mode & 0o777) == "0o600"


def test_acquire_waits_with_the_injected_sleep(tmp_path):
    clock = FakeClock()
    limiter = AccountRateLimiter(
        tmp_path, fraction=0.5, limits={CANCEL: BucketSpec(20, 4)}, clock=clock, sleep=clock.sleep
    )

    async def run() -> list[float]:
        return [await limiter.acquire(CANCEL) for _ in range(4)]

    start = clock.now
    waited = asyncio.run(run())
    assert waited[:2] == [0.0, 0.0]
    assert waited[2] == pytest.approx(0.1) and waited[3] == pytest.approx(0.1)
    assert clock.now - start == pytest.approx(0.2)


def test_unknown_bucket_names_the_known_ones(tmp_path):
    limiter = AccountRateLimiter(tmp_path)
    with pytest.raises(KeyError, match="cancel"):
        limiter.try_acquire("orders")


_CHILD = textwrap.dedent(
    """
    import asyncio, json, sys, time
    from pathlib import Path
    from polymaker.exchange.ratelimit import AccountRateLimiter, BucketSpec
    directory, out, count = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    go = directory.parent / "go"
    while not go.exists():
        time.sleep(0.005)
    limiter = AccountRateLimiter(directory, fraction=0.5, limits={"order": BucketSpec(100, 20)})
    async def main():
        stamps = []
        for _ in range(count):
            await limiter.acquire("order")
            stamps.append(time.monotonic())
        out.write_text(json.dumps(stamps))
    asyncio.run(main())
    """
)


@pytest.mark.integration
def test_four_processes_stay_within_the_shared_budget(tmp_path):
    """4 x 25 acquisitions on a 50/s bucket holding 10: the combined rate is the budget's."""
    directory = tmp_path / "ratelimit"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    children = []
    try:
        for index in range(4):
            out = tmp_path / f"stamps{index}.json"
            command = [sys.executable, "-c", _CHILD, str(directory), str(out), "25"]
            children.append((subprocess.Popen(command, env=env, start_new_session=True), out))
        (tmp_path / "go").touch()
        for process, _ in children:
            assert process.wait(timeout=30) == 0
    finally:
        for process, _ in children:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
    stamps = sorted(s for _, out in children for s in json.loads(out.read_text()))
    assert len(stamps) == 100
    rate, capacity = 50.0, 10.0
    # Token-bucket invariant: in any window of length T at most capacity + rate * T pass.
    for i, start in enumerate(stamps):
        for j in range(i, len(stamps)):
            window = stamps[j] - start
            assert j - i + 1 <= capacity + rate * window + 1, (i, j, window)
    assert stamps[-1] - stamps[0] >= (100 - capacity) / rate * 0.95


def test_drain_puts_the_bucket_in_debt_for_the_wait():
    state = drain(SPEC, 1.5, 10.0)
    assert state == BucketState(-15, 10.0)
    _, wait = take(state, SPEC, 1, 10.0)
    assert wait == pytest.approx(1.6)
    with pytest.raises(ValueError, match="negative"):
        drain(SPEC, -1, 0.0)


def test_penalize_makes_every_limiter_of_the_account_wait(tmp_path):
    clock = FakeClock()
    limits = {ORDER: BucketSpec(10, 4)}
    worker_a = AccountRateLimiter(tmp_path, fraction=1.0, limits=limits, clock=clock)
    worker_b = AccountRateLimiter(tmp_path, fraction=1.0, limits=limits, clock=clock)
    worker_a.penalize(ORDER, 2.0)  # a 429 with Retry-After: 2
    assert worker_b.try_acquire(ORDER) == pytest.approx(2.1)
    clock.now += 2.1
    assert worker_b.try_acquire(ORDER) == 0.0


def test_a_float_noise_shortfall_is_taken_not_waited_for() -> None:
    from polymaker.exchange.ratelimit import BucketSpec, BucketState, take

    spec = BucketSpec(capacity=10.0, rate_per_s=5.0)
    _, wait = take(BucketState(1.0 - 1e-15, 0.0), spec, 1.0, 0.0)
    assert wait == 0.0
    _, wait = take(BucketState(0.5, 0.0), spec, 1.0, 0.0)
    assert wait > 0.0
