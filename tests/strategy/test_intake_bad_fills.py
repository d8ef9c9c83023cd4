"""A fill or match report beyond its order is bad data: counted, never applied, reconciled once.

The issue's reproducers: 15 shares filled on a 10-share buy, 1111111111111111111 shares, and
1e999999 (which used to raise ``decimal.InvalidOperation`` inside the strategy). Before the fix
the position took the number as is and the strategy then offered that many shares.
"""

from __future__ import annotations

import pytest

from polymaker.strategy import State
from polymaker.strategy.commands import PlaceOrder, ReconcileFills
from polymaker.strategy.events import Fill, Side, TradeStatus
from polymaker.strategy.position import FillOutcome, Position
from tests.strategy.driver import D, Driver


def _fill(trade_id: str, size: str, status: TradeStatus) -> Fill:
    return Fill(0, trade_id, "o", Side.BUY, D("0.5"), D(size), status)


def _reconciles(commands: list[object]) -> int:
    return sum(isinstance(command, ReconcileFills) for command in commands)


@pytest.mark.parametrize("size", ["15", "1111111111111111111", "1e999999", "10.000001"])
def test_a_fill_beyond_the_order_is_refused_and_reconciled_once(size: str) -> None:
    driver = Driver()
    buy = driver.to_buying()
    first = driver.fill(buy, Side.BUY, "0.89", size, trade_id="bad")
    again = driver.fill(buy, Side.BUY, "0.89", size, trade_id="bad")
    snap = driver.s.snapshot()
    assert snap.position == 0
    assert snap.ignored["fill_oversized"] == 2
    assert snap.last_error is not None and "exceeds" in snap.last_error
    assert _reconciles(first) == 1 and _reconciles(again) == 0
    assert driver.state == State.BUYING


def test_the_strategy_never_offers_the_shares_of_a_bad_fill() -> None:
    driver = Driver()
    buy = driver.to_buying()
    driver.fill(buy, Side.BUY, "0.89", "6", trade_id="ok")
    driver.fill(buy, Side.BUY, "0.89", "5", trade_id="too-much")  # 6 + 5 > 10
    driver.matched(buy, "6", open_=False)
    sells = [c for c in driver.commands if isinstance(c, PlaceOrder) and c.side == Side.SELL]
    assert driver.s.snapshot().position == D(6)
    assert sells and all(sell.size <= D(6) for sell in sells)


def test_a_size_matched_beyond_the_order_is_refused_and_reconciled() -> None:
    driver = Driver()
    buy = driver.to_buying()
    out = driver.matched(buy, "15")
    snap = driver.s.snapshot()
    assert snap.position == 0 and snap.ignored["order_update_oversized"] == 1
    assert _reconciles(out) == 1
    assert driver.state == State.BUYING


def test_fills_that_fit_the_order_exactly_are_applied() -> None:
    driver = Driver()
    buy = driver.to_buying()
    driver.fill(buy, Side.BUY, "0.89", "4", trade_id="a")
    driver.fill(buy, Side.BUY, "0.89", "6", trade_id="b")
    assert driver.s.snapshot().position == D(10)
    assert "fill_oversized" not in driver.s.snapshot().ignored


def test_a_failed_trade_frees_its_shares_for_the_retry() -> None:
    pos = Position()
    pos.register_order("o", Side.BUY, D("0.5"), D("10"))
    fill = _fill("t1", "10", TradeStatus.MATCHED)
    assert pos.record_fill(fill) is FillOutcome.NEW
    assert pos.record_fill(_fill("t1", "10", TradeStatus.FAILED)) is FillOutcome.UPDATED
    assert pos.record_fill(_fill("t2", "10", TradeStatus.MATCHED)) is FillOutcome.NEW
    assert pos.record_fill(_fill("t3", "1", TradeStatus.MATCHED)) is FillOutcome.OVERSIZED
    assert pos.position == D(10)


def test_an_early_fill_beyond_the_order_is_reported_when_the_order_is_accepted() -> None:
    pos = Position()
    assert pos.record_fill(_fill("t1", "12", TradeStatus.MATCHED)) is FillOutcome.EARLY
    replayed = pos.register_order("o", Side.BUY, D("0.5"), D("10"))
    assert [outcome for _, outcome in replayed] == [FillOutcome.OVERSIZED]
    assert pos.position == 0


def test_size_matched_beyond_the_order_is_not_recorded() -> None:
    pos = Position()
    pos.register_order("o", Side.BUY, D("0.5"), D("10"))
    assert not pos.within_size("o", D("10.5"))
    assert not pos.record_matched("o", D("10.5"))
    assert pos.record_matched("o", D("10")) and pos.position == D(10)
