"""Settlement timing and sellability, FAILED-trade reversal, and taker fees."""

from __future__ import annotations

from decimal import Decimal

import pytest

from polymaker.drill.engine import OrderUpdate, TradeUpdate
from polymaker.drill.ledger import FEE_ADDRESS
from tests.drill.test_engine import NO, YES, A, B, C, make_engine, mint, of_type, req

D = Decimal


def test_trade_goes_matched_mined_confirmed_on_schedule() -> None:
    engine, _ = make_engine(delays=(1500, 4000))
    engine.place(req(A, YES, "BUY", "0.50", "10"), 10_000)
    trade_id = engine.place(req(B, NO, "BUY", "0.50", "10"), 10_000).trade_ids[0]
    assert engine.trades(trade_id=trade_id)[0].status == "MATCHED"
    assert engine.trades(trade_id=trade_id)[0].transaction_hash == ""
    assert engine.advance(11_499) == []
    [mined] = engine.advance(11_500)
    assert isinstance(mined, TradeUpdate) and mined.trade.status == "MINED"
    assert mined.trade.transaction_hash.startswith("0x") and mined.trade.last_update == 11
    assert mined.owners == (f"key-{B}", f"key-{A}")
    assert engine.advance(13_999) == []
    [confirmed] = engine.advance(14_000)
    assert confirmed.trade.status == "CONFIRMED" and confirmed.trade.match_time == 10
    assert engine.advance(60_000) == []


def test_bought_shares_become_sellable_only_when_confirmed() -> None:
    engine, ledger = make_engine()
    engine.place(req(A, YES, "BUY", "0.50", "10"), 0)
    engine.place(req(B, NO, "BUY", "0.50", "10"), 0)
    assert ledger.shares(A, YES) == D("10") and ledger.sellable(A, YES) == 0
    early = engine.place(req(A, YES, "SELL", "0.60", "10"), 1999)
    assert early.error == "not enough balance / allowance"
    assert engine.place(req(A, YES, "SELL", "0.60", "10"), 2000).status == "live"
    assert ledger.sellable(A, YES) == 0  # now reserved by the SELL


def test_sale_proceeds_are_credited_at_match_and_spendable() -> None:
    engine, ledger = make_engine(balance="10")
    now = mint(engine, A, B, "10")  # A: 5.00 pUSD and 10 YES
    engine.place(req(C, YES, "BUY", "0.90", "10"), now)
    engine.place(req(A, YES, "SELL", "0.90", "10"), now)
    assert ledger.balance(A) == D("14.00")
    assert engine.place(req(A, NO, "BUY", "0.50", "28"), now).success  # needs 14.00


def test_fail_trade_reverses_a_transfer() -> None:
    engine, ledger = make_engine()
    now = mint(engine, A, B, "10")
    engine.place(req(A, YES, "SELL", "0.60", "10"), now)
    trade_id = engine.place(req(C, YES, "BUY", "0.60", "10"), now).trade_ids[0]
    events = engine.fail_trade(trade_id, now + 500)
    [failed] = of_type(events, TradeUpdate)
    assert failed.trade.status == "FAILED" and failed.trade.last_update == (now + 500) // 1000
    assert ledger.balance(C) == D("1000") and ledger.shares(C, YES) == 0
    assert ledger.balance(A) == D("995.00") and ledger.sellable(A, YES) == D("10")
    assert engine.order(engine.trades(trade_id=trade_id)[0].taker_order_id).size_matched == 10
    engine.advance(now + 10_000)
    assert engine.trades(trade_id=trade_id)[0].status == "FAILED"
    assert ledger.shares(C, YES) == 0


def test_fail_trade_reverses_a_mint_with_fees() -> None:
    engine, ledger = make_engine(fee_rate="0.04")
    engine.place(req(A, YES, "BUY", "0.40", "10"), 0)
    trade_id = engine.place(req(B, NO, "BUY", "0.60", "10"), 0).trade_ids[0]
    assert ledger.shares(FEE_ADDRESS, NO) == D("0.09600")
    engine.advance(1000)  # MINED can still fail
    engine.fail_trade(trade_id, 1500)
    for address in (A, B):
        assert ledger.balance(address) == D("1000") and ledger.positions(address) == {}
    assert ledger.positions(FEE_ADDRESS) == {} and ledger.balance(FEE_ADDRESS) == 0


def test_confirmed_or_failed_trade_cannot_fail() -> None:
    engine, _ = make_engine()
    engine.place(req(A, YES, "BUY", "0.50", "10"), 0)
    trade_id = engine.place(req(B, NO, "BUY", "0.50", "10"), 0).trade_ids[0]
    engine.advance(2000)
    with pytest.raises(ValueError, match="CONFIRMED"):
        engine.fail_trade(trade_id, 2001)
    with pytest.raises(KeyError):
        engine.fail_trade("nope", 0)


def test_failed_sale_whose_proceeds_were_spent_cancels_buys_then_owes() -> None:
    engine, ledger = make_engine(balance="10")
    now = mint(engine, A, B, "10")  # A: 5.00 pUSD and 10 YES
    engine.place(req(A, YES, "SELL", "0.50", "10"), now)
    sale = engine.place(req(C, YES, "BUY", "0.50", "10"), now).trade_ids[0]  # A: 10.00
    bought = engine.place(req(A, NO, "BUY", "0.50", "12"), now)  # rests, holds 6.00
    assert bought.status == "live"
    engine.drain_events()
    events = engine.fail_trade(sale, now + 1)
    [cancel] = [e for e in of_type(events, OrderUpdate) if e.order.id == bought.order_id]
    assert cancel.order.status == "CANCELED_NOT_ENOUGH_BALANCE"
    assert ledger.available(A) >= 0 and ledger.balance(A) == D("5.00")


def test_reversal_can_leave_a_debt_when_the_proceeds_were_traded_away() -> None:
    engine, ledger = make_engine(balance="10")
    now = mint(engine, A, B, "10")  # A: 5.00 pUSD and 10 YES
    engine.place(req(A, YES, "SELL", "0.50", "10"), now)
    sale = engine.place(req(C, YES, "BUY", "0.50", "10"), now).trade_ids[0]  # A: 10.00
    ledger.set_balance(B, D("100"))
    engine.place(req(B, YES, "BUY", "0.50", "20"), now)
    engine.place(req(A, NO, "BUY", "0.50", "20"), now)  # A spends all 10.00 on NO
    assert ledger.balance(A) == 0
    engine.fail_trade(sale, now + 1)
    assert ledger.balance(A) == D("-5.00")
    assert engine.place(req(A, NO, "BUY", "0.01", "5"), now + 2).error == (
        "not enough balance / allowance"
    )


def test_taker_buy_pays_the_fee_in_shares() -> None:
    engine, ledger = make_engine(fee_rate="0.04", fee_exponent="1")
    engine.place(req(A, YES, "BUY", "0.40", "10"), 0)  # maker: no fee
    trade_id = engine.place(req(B, NO, "BUY", "0.60", "10"), 0).trade_ids[0]
    [trade] = engine.trades(trade_id=trade_id)
    assert trade.fee == D("0.09600") and trade.fee_rate_bps == D("400")
    assert ledger.shares(B, NO) == D("9.90400") and ledger.balance(B) == D("994.00")
    assert ledger.shares(A, YES) == D("10") and ledger.balance(A) == D("996.00")
    assert ledger.shares(FEE_ADDRESS, NO) == D("0.09600")
    engine.advance(2000)
    assert ledger.sellable(B, NO) == D("9.90400") and ledger.sellable(FEE_ADDRESS, NO) == D("0.096")


def test_taker_sell_pays_the_fee_in_pusd() -> None:
    engine, ledger = make_engine(fee_rate="0.25", fee_exponent="2")
    now = mint(engine, A, B, "10")
    engine.place(req(C, YES, "BUY", "0.30", "10"), now)
    trade_id = engine.place(req(A, YES, "SELL", "0.30", "10"), now).trade_ids[0]
    fee = D("10") * D("0.25") * (D("0.30") * D("0.70")) ** 2  # 0.11025
    assert engine.trades(trade_id=trade_id)[0].fee == fee
    assert ledger.balance(A) == D("995.00") + D("3.00") - fee
    assert ledger.balance(FEE_ADDRESS) == fee and ledger.balance(C) == D("997.00")


def test_fee_is_rounded_half_up_to_five_places() -> None:
    engine, ledger = make_engine(fee_rate="0.0175", fee_exponent="1")
    engine.place(req(A, NO, "BUY", "0.67", "7"), 0)
    trade_id = engine.place(req(B, YES, "BUY", "0.33", "7"), 0).trade_ids[0]
    # 7 * 0.0175 * 0.33 * 0.67 = 0.027084750 -> 0.02708
    assert engine.trades(trade_id=trade_id)[0].fee == D("0.02708")
    assert ledger.shares(B, YES) == D("6.97292")
