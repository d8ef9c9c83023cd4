"""Tick-grid rounding, the profit floor and the feasibility bound."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from polymaker.strategy import pricing

D = Decimal
TICKS = [D("0.1"), D("0.01"), D("0.005"), D("0.0025"), D("0.001"), D("0.0001")]


def test_buys_round_down_and_sells_round_up() -> None:
    assert pricing.buy_price(D("0.4567"), D("0.01")) == D("0.45")
    assert pricing.sell_price(D("0.4512"), D("0.01")) == D("0.46")
    assert pricing.sell_price(D("0.455"), D("0.005")) == D("0.455")


def test_prices_are_clamped_to_the_valid_range() -> None:
    assert pricing.buy_price(D("0.004"), D("0.01")) is None
    assert pricing.buy_price(D("0.999"), D("0.01")) == D("0.99")
    assert pricing.sell_price(D("0.001"), D("0.01")) == D("0.01")
    assert pricing.sell_price(D("0.991"), D("0.01")) is None


def test_profit_floor_is_at_least_one_tick_above_entry() -> None:
    # 0.5 * 1.001 = 0.5005 would round to 0.51 anyway; a tiny pct on a coarse tick
    assert pricing.profit_floor(D("0.50"), D("0.001"), 1, D("0.01")) == D("0.51")
    assert pricing.profit_floor(D("0.50"), D("0.05"), 1, D("0.01")) == D("0.53")
    assert pricing.profit_floor(D("0.506"), D("0.01"), 1, D("0.01")) == D("0.52")


def test_max_feasible_buy_price() -> None:
    assert pricing.max_feasible_buy_price(D("0.01"), 1, D("0.01")) == D("0.98")
    assert pricing.max_feasible_buy_price(D("0.01"), 1, D("0.001")) == D("0.989")
    assert pricing.max_feasible_buy_price(D("0.5"), 9, D("0.1")) is None


def test_valid_tick() -> None:
    assert all(pricing.valid_tick(t) for t in TICKS)
    assert not any(pricing.valid_tick(D(t)) for t in ("0", "-0.01", "0.5", "0.03", "NaN"))


def test_round_size_never_rounds_up() -> None:
    assert pricing.round_size(D("7.019")) == D("7.01")
    assert pricing.round_size(D("-1")) == D("0.00")


@given(st.sampled_from(TICKS), st.decimals(D("0.00001"), D("0.99999"), places=5))
def test_snapped_prices_are_on_the_grid(tick: Decimal, target: Decimal) -> None:
    for price in (pricing.buy_price(target, tick), pricing.sell_price(target, tick)):
        if price is not None:
            assert pricing.on_grid(price, tick)
    buy = pricing.buy_price(target, tick)
    sell = pricing.sell_price(target, tick)
    assert buy is None or buy <= max(target, tick)
    assert sell is None or sell >= min(target, 1 - tick)


@given(
    st.sampled_from(TICKS),
    st.decimals(D("0.001"), D("0.5"), places=3),
    st.integers(1, 3),
)
def test_feasible_bound_is_the_highest_sellable_entry(tick: Decimal, pct: Decimal, k: int) -> None:
    best = pricing.max_feasible_buy_price(pct, k, tick)
    if best is None:
        return
    assert pricing.floor_sellable(pricing.profit_floor(best, pct, k, tick), tick)
    above = best + tick
    if above <= 1 - tick:
        assert not pricing.floor_sellable(pricing.profit_floor(above, pct, k, tick), tick)
