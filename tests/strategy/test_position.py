"""Fill accounting: dedupe, size_matched without trades, FAILED reversal, settlement, PnL."""

from __future__ import annotations

from decimal import Decimal

from polymaker.strategy.events import Fill, Side, TradeStatus
from polymaker.strategy.position import FillOutcome, Position

D = Decimal


def _fill(
    trade: str,
    order: str,
    side: Side,
    price: str,
    size: str,
    status: TradeStatus = TradeStatus.CONFIRMED,
) -> Fill:
    return Fill(0, trade, order, side, D(price), D(size), status)


def test_average_entry_is_size_weighted() -> None:
    pos = Position()
    pos.register_order("a", Side.BUY, D("0.50"), D("100"))
    pos.register_order("b", Side.BUY, D("0.60"), D("100"))
    pos.record_fill(_fill("t1", "a", Side.BUY, "0.50", "4"))
    pos.record_fill(_fill("t2", "b", Side.BUY, "0.60", "6"))
    assert pos.avg_entry == D("0.56")
    assert pos.position == D("10")


def test_size_matched_counts_before_the_trade_arrives_and_not_twice() -> None:
    pos = Position()
    pos.register_order("a", Side.BUY, D("0.50"), D("100"))
    assert pos.record_matched("a", D("5"))
    assert not pos.record_matched("a", D("3"))  # never shrinks
    assert pos.position == D("5") and pos.sellable == 0
    pos.record_fill(_fill("t1", "a", Side.BUY, "0.50", "5", TradeStatus.CONFIRMED))
    assert pos.position == D("5") and pos.sellable == D("5")


def test_duplicates_unknown_orders_and_bad_values() -> None:
    pos = Position()
    pos.register_order("a", Side.BUY, D("0.50"), D("100"))
    fill = _fill("t1", "a", Side.BUY, "0.50", "5")
    assert pos.record_fill(fill) == FillOutcome.NEW
    assert pos.record_fill(fill) == FillOutcome.DUPLICATE
    assert pos.record_fill(_fill("t2", "zzz", Side.BUY, "0.5", "1")) == FillOutcome.EARLY
    assert pos.record_fill(_fill("t3", "a", Side.SELL, "0.5", "1")) == FillOutcome.SIDE_MISMATCH
    assert pos.record_fill(_fill("t4", "a", Side.BUY, "1.5", "1")) == FillOutcome.BAD_VALUES
    assert pos.position == D("5")


def test_failed_trade_is_reversed_even_with_size_matched() -> None:
    pos = Position()
    pos.register_order("a", Side.BUY, D("0.50"), D("100"))
    pos.record_matched("a", D("5"))
    pos.record_fill(_fill("t1", "a", Side.BUY, "0.50", "5", TradeStatus.MATCHED))
    assert pos.record_fill(_fill("t1", "a", Side.BUY, "0.50", "5", TradeStatus.FAILED))
    assert pos.position == 0
    # a late, stale status cannot resurrect a failed trade
    assert pos.record_fill(_fill("t1", "a", Side.BUY, "0.50", "5", TradeStatus.MINED)) == (
        FillOutcome.DUPLICATE
    )


def test_realized_pnl_average_cost() -> None:
    pos = Position()
    pos.adopt(D("10"), D("0.40"))
    pos.register_order("s", Side.SELL, D("0.45"), D("100"))
    pos.record_fill(_fill("t1", "s", Side.SELL, "0.45", "4"))
    assert pos.realized_pnl == D("0.20")
    assert pos.avg_entry == D("0.40")
    pos.record_fill(_fill("t2", "s", Side.SELL, "0.50", "6"))
    assert pos.realized_pnl == D("0.80")
    assert pos.position == 0 and pos.avg_entry is None


def test_balance_read_decides_sellable_until_a_buy_changes() -> None:
    pos = Position()
    pos.register_order("a", Side.BUY, D("0.50"), D("100"))
    pos.record_fill(_fill("t1", "a", Side.BUY, "0.50", "10", TradeStatus.CONFIRMED))
    assert pos.sellable == D("10")
    pos.note_balance(D("4"), D("100"))  # the chain says only 4 arrived
    assert pos.sellable == D("4")
    pos.register_order("s", Side.SELL, D("0.55"), D("100"))
    pos.record_fill(_fill("t2", "s", Side.SELL, "0.55", "4", TradeStatus.MATCHED))
    assert pos.sellable == 0  # 4 - 4 sold since the read
    assert pos.cash == D("102.20")  # 100 + 4 x 0.55 sold since the read


def test_a_trade_that_beats_its_acceptance_is_counted_once_the_order_is_known() -> None:
    pos = Position()
    assert pos.record_fill(_fill("t1", "a", Side.BUY, "0.50", "5")) == FillOutcome.EARLY
    assert pos.position == 0
    pos.register_order("a", Side.BUY, D("0.50"), D("100"))
    assert pos.position == D("5")


def test_mined_shares_are_not_sellable_until_confirmed() -> None:
    pos = Position()
    pos.register_order("a", Side.BUY, D("0.50"), D("100"))
    pos.record_fill(_fill("t1", "a", Side.BUY, "0.50", "10", TradeStatus.MATCHED))
    pos.record_fill(_fill("t1", "a", Side.BUY, "0.50", "10", TradeStatus.MINED))
    assert pos.position == D("10") and pos.sellable == 0
    pos.record_fill(_fill("t1", "a", Side.BUY, "0.50", "10", TradeStatus.CONFIRMED))
    assert pos.sellable == D("10")
