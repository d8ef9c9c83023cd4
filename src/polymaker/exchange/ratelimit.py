"""Client-side rate limiting for the whole account, shared by every process that trades it.

The venue limits each signer with token buckets (polymarket_api.md 3.6: Standard tier 40/s,
burst 60 orders; 80/s, burst 120 cancels) and each IP with 10 s windows. The reference bot
limited nothing, per process. Here each bucket's state (tokens, last update) lives in a 16-byte
file ``<directory>/<bucket>.bucket`` guarded by ``fcntl.flock``, so N worker processes draw on
one budget; the budget is a configurable fraction (default 0.5) of the documented limits.

:meth:`AccountRateLimiter.acquire` waits (``asyncio.sleep``) instead of failing. A request that
costs more than the bucket holds (``cancel-all`` of many orders) waits for a full bucket and
then leaves it in debt, so the long-run rate still holds. The clock must be one every process
shares: ``time.monotonic`` (CLOCK_MONOTONIC, system-wide on Linux) is the default.
"""

from __future__ import annotations

import asyncio
import fcntl
import math
import os
import struct
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

ORDER = "order"
CANCEL = "cancel"
PUBLIC = "public"
DEFAULT_FRACTION = 0.5
_STATE_FORMAT = "<dd"  # tokens, updated_at (clock seconds)
_STATE_SIZE = struct.calcsize(_STATE_FORMAT)


@dataclass(frozen=True)
class BucketSpec:
    """A token bucket: ``rate_per_s`` tokens added per second, at most ``capacity`` held."""

    rate_per_s: float
    capacity: float

    def __post_init__(self) -> None:
        if not (self.rate_per_s > 0 and self.capacity > 0):
            raise ValueError("rate_per_s and capacity must be positive")
        if not (math.isfinite(self.rate_per_s) and math.isfinite(self.capacity)):
            raise ValueError("rate_per_s and capacity must be finite")

    def scaled(self, fraction: float) -> BucketSpec:
        """This bucket at ``fraction`` (0 < fraction <= 1) of its rate and capacity."""
        if not 0 < fraction <= 1:
            raise ValueError(f"fraction must be in (0, 1], got {fraction}")
        return BucketSpec(self.rate_per_s * fraction, self.capacity * fraction)


# The venue's documented limits (polymarket_api.md 3.6). order/cancel: per-signer buckets of the
# Standard tier. public: Cloudflare's CLOB general limit, 9,000 per 10 s per IP, as a bucket of
# 900/s holding 1 s worth (so even a full burst plus 10 s of refill stays under 9,000).
VENUE_LIMITS: Mapping[str, BucketSpec] = {
    ORDER: BucketSpec(rate_per_s=40, capacity=60),
    CANCEL: BucketSpec(rate_per_s=80, capacity=120),
    PUBLIC: BucketSpec(rate_per_s=900, capacity=900),
}


@dataclass(frozen=True)
class BucketState:
    """Tokens in a bucket at clock time ``updated_at`` (negative tokens: debt to repay)."""

    tokens: float
    updated_at: float


def refill(state: BucketState | None, spec: BucketSpec, now: float) -> BucketState:
    """The bucket at ``now``: tokens grow at the rate up to the capacity.

    No state yet, or a clock that went backwards (a reboot resets CLOCK_MONOTONIC), means a
    full bucket: the venue's own buckets have long refilled by then.
    """
    if state is None or now < state.updated_at:
        return BucketState(spec.capacity, now)
    tokens = min(spec.capacity, state.tokens + (now - state.updated_at) * spec.rate_per_s)
    return BucketState(tokens, now)


_TOLERANCE_TOKENS = 1e-9


def take(
    state: BucketState | None, spec: BucketSpec, cost: float, now: float
) -> tuple[BucketState, float]:
    """Try to take ``cost`` tokens at ``now``: (new state, seconds to wait; 0 = taken).

    A cost above the capacity needs a full bucket and leaves it negative. When the wait is
    positive nothing is taken; ask again after waiting.
    """
    if cost <= 0:
        raise ValueError(f"cost must be positive, got {cost}")
    current = refill(state, spec, now)
    needed = min(cost, spec.capacity)
    # A shortfall far below one token is float noise: waiting for it could ask for a sleep
    # shorter than the clock's resolution and spin without time advancing.
    if current.tokens >= needed - _TOLERANCE_TOKENS:
        return BucketState(current.tokens - cost, now), 0.0
    return current, (needed - current.tokens) / spec.rate_per_s


def drain(spec: BucketSpec, wait_s: float, now: float) -> BucketState:
    """A bucket in debt by ``wait_s`` seconds of refill: nothing passes before ``now + wait_s``."""
    if wait_s < 0:
        raise ValueError(f"wait_s must not be negative, got {wait_s}")
    return BucketState(-wait_s * spec.rate_per_s, now)


_Step = tuple[BucketState, float]


class AccountRateLimiter:
    """Account-wide buckets in ``directory`` (created 0700), shared across processes.

    fraction: share of :data:`VENUE_LIMITS` to use (default 0.5, leaving headroom for other
    tools and for the venue's own accounting). clock/sleep: injected for tests.
    """

    def __init__(
        self,
        directory: Path,
        *,
        fraction: float = DEFAULT_FRACTION,
        limits: Mapping[str, BucketSpec] = VENUE_LIMITS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._directory = Path(directory)
        self._specs = {name: spec.scaled(fraction) for name, spec in limits.items()}
        self._clock = clock
        self._sleep = sleep
        self._directory.mkdir(mode=0o700, parents=True, exist_ok=True)

    def spec(self, bucket: str) -> BucketSpec:
        """The (scaled) limits of ``bucket``; KeyError names the known buckets."""
        try:
            return self._specs[bucket]
        except KeyError:
            raise KeyError(f"unknown bucket {bucket!r}; known: {sorted(self._specs)}") from None

    def path(self, bucket: str) -> Path:
        """The file holding ``bucket``'s shared state."""
        return self._directory / f"{bucket}.bucket"

    def _update(
        self, bucket: str, step: Callable[[BucketState | None, BucketSpec, float], _Step]
    ) -> float:
        """Run ``step`` on the bucket's shared state under the file lock; returns its wait."""
        spec = self.spec(bucket)
        fd = os.open(self.path(bucket), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # held for microseconds: read, compute, write
            raw = os.pread(fd, _STATE_SIZE, 0)
            state = None
            if len(raw) == _STATE_SIZE:
                state = BucketState(*struct.unpack(_STATE_FORMAT, raw))
            new_state, wait_s = step(state, spec, self._clock())
            os.pwrite(fd, struct.pack(_STATE_FORMAT, new_state.tokens, new_state.updated_at), 0)
            return wait_s
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def try_acquire(self, bucket: str, cost: float = 1) -> float:
        """Take ``cost`` tokens now if possible: 0.0 when taken, else the seconds to wait."""
        return self._update(bucket, lambda state, spec, now: take(state, spec, cost, now))

    def penalize(self, bucket: str, retry_after_s: float) -> None:
        """The venue answered 429: make every process of the account wait ``retry_after_s``."""
        self._update(bucket, lambda state, spec, now: (drain(spec, retry_after_s, now), 0.0))

    async def acquire(self, bucket: str, cost: float = 1) -> float:
        """Wait until ``cost`` tokens of ``bucket`` are taken; returns the seconds waited."""
        waited = 0.0
        while True:
            wait_s = self.try_acquire(bucket, cost)
            if wait_s <= 0:
                return waited
            await self._sleep(wait_s)
            waited += wait_s


__all__ = [
    "CANCEL",
    "DEFAULT_FRACTION",
    "ORDER",
    "PUBLIC",
    "VENUE_LIMITS",
    "AccountRateLimiter",
    "BucketSpec",
    "BucketState",
    "drain",
    "refill",
    "take",
]
