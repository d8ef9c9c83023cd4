"""The rolling high is sampled by time, not by event count."""

from __future__ import annotations

from decimal import Decimal

import pytest

from polymaker.strategy.signals import RollingHigh

D = Decimal


def test_unknown_until_the_window_is_covered() -> None:
    high = RollingHigh(window_ms=60_000, sample_ms=5_000)
    high.observe(0, D("0.9"))
    assert high.high(59_999) is None
    assert high.high(60_000) == D("0.9")


def test_old_highs_leave_the_window() -> None:
    high = RollingHigh(60_000, 5_000)
    high.observe(0, D("0.95"))
    for t in range(5_000, 130_000, 5_000):
        high.observe(t, D("0.90"))
    assert high.high(125_000) == D("0.90")


def test_busy_market_does_not_shrink_the_window() -> None:
    high = RollingHigh(60_000, 5_000)
    high.observe(0, D("0.95"))
    for t in range(1, 59_000, 10):  # thousands of events in one minute
        high.observe(t, D("0.90"))
    assert high.high(59_000 + 1_000) == D("0.95")
    assert high.samples <= 13


def test_rejects_a_non_positive_window() -> None:
    with pytest.raises(ValueError):
        RollingHigh(0, 5_000)
