"""The dip signal's rolling high, sampled on a fixed time grid.

The reference appended one point per event and capped the history at 600 points, so on a busy
market the "10 minute" window shrank to seconds. Here the window is divided into fixed slots of
``sample_ms``; each slot keeps the highest price seen in it, so the memory and the meaning of the
window do not depend on the event rate.
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal


class RollingHigh:
    """Highest observed price over the last ``window_ms``, known only once the window is full."""

    def __init__(self, window_ms: int, sample_ms: int) -> None:
        if window_ms <= 0 or sample_ms <= 0:
            raise ValueError("window and sample period must be positive")
        self._window_ms = window_ms
        self._sample_ms = sample_ms
        self._slots: deque[tuple[int, Decimal]] = deque()
        self._first_ms: int | None = None

    def observe(self, ts_ms: int, price: Decimal) -> None:
        """Record ``price`` in the slot of ``ts_ms`` (older timestamps fold into the last slot)."""
        slot = ts_ms // self._sample_ms
        if self._first_ms is None:
            self._first_ms = ts_ms
        if self._slots and self._slots[-1][0] >= slot:
            last_slot, last_high = self._slots[-1]
            self._slots[-1] = (last_slot, max(last_high, price))
        else:
            self._slots.append((slot, price))
        self._trim(ts_ms)

    def high(self, now_ms: int) -> Decimal | None:
        """The rolling high, or None until observations span a whole window."""
        self._trim(now_ms)
        if self._first_ms is None or now_ms - self._first_ms < self._window_ms or not self._slots:
            return None
        return max(price for _, price in self._slots)

    def _trim(self, now_ms: int) -> None:
        oldest = (now_ms - self._window_ms) // self._sample_ms
        while self._slots and self._slots[0][0] < oldest:
            self._slots.popleft()

    @property
    def samples(self) -> int:
        """Number of occupied slots (for the status snapshot)."""
        return len(self._slots)
