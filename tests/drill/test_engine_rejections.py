"""Every refusal of ``MatchingEngine.place`` carries the venue's exact message and has no effect."""

from __future__ import annotations

from decimal import Decimal

import pytest

from polymaker.drill.engine import MarketSpec, MatchingEngine, OrderRequest
from polymaker.drill.ledger import Ledger
from tests.drill.test_engine import CID, NO, YES, A, B, make_engine, mint, req

D = Decimal


def _refused(engine: MatchingEngine, ledger: Ledger, order: OrderRequest, now: int = 0) -> str:
    """Place ``order``, assert it changed nothing, return the error message."""
    before = (ledger.balance(order.maker_address), ledger.available(order.maker_address))
    books = (engine.book(YES), engine.book(NO))
    engine.drain_events()
    result = engine.place(order, now)
    assert not result.success and result.status == "unmatched" and result.trade_ids == []
    assert (ledger.balance(order.maker_address), ledger.available(order.maker_address)) == before
    assert (engine.book(YES), engine.book(NO)) == books
    assert engine.drain_events() == []
    return result.error


@pytest.mark.parametrize("price", ["0.405", "0", "0.00", "1", "0.995", "-0.40", "NaN"])
def test_price_off_the_tick_grid_or_out_of_range(price: str) -> None:
    engine, ledger = make_engine()
    order = req(A, YES, "BUY", price, "10", order_id="0xp")
    assert _refused(engine, ledger, order) == (
        f"order 0xp is invalid. Price ({D(price)}) breaks minimum tick size rule: 0.01"
    )


def test_price_limits_follow_the_tick() -> None:
    engine, _ = make_engine(tick="0.1")
    assert engine.place(req(A, YES, "BUY", "0.1", "10"), 0).success
    assert engine.place(req(A, NO, "BUY", "0.9", "10"), 0).success
    assert (
        "breaks minimum tick size rule: 0.1"
        in engine.place(req(A, YES, "BUY", "0.95", "10"), 0).error
    )


@pytest.mark.parametrize("size", ["4.99", "0", "-5"])
def test_size_below_the_minimum(size: str) -> None:
    engine, ledger = make_engine()
    order = req(A, YES, "BUY", "0.40", size, order_id="0xs")
    assert _refused(engine, ledger, order) == (
        f"order 0xs is invalid. Size ({D(size)}) lower than the minimum: 5"
    )


def test_duplicated_order_id() -> None:
    engine, ledger = make_engine()
    assert engine.place(req(A, YES, "BUY", "0.40", "10", order_id="0xd"), 0).success
    order = req(A, YES, "BUY", "0.41", "10", order_id="0xd")
    assert _refused(engine, ledger, order) == "order 0xd is invalid. Duplicated."


def test_killed_fok_id_counts_as_used() -> None:
    engine, _ = make_engine()
    engine.place(req(A, YES, "BUY", "0.40", "10", order_type="FOK", order_id="0xk"), 0)
    again = engine.place(req(A, YES, "BUY", "0.40", "10", order_id="0xk"), 0)
    assert again.error == "order 0xk is invalid. Duplicated."


def test_unknown_token_is_not_found() -> None:
    engine, _ = make_engine()
    result = engine.place(req(A, "9999", "BUY", "0.40", "10"), 0)
    assert not result.success and "not found" in result.error
    with pytest.raises(KeyError):
        engine.book("9999")
    with pytest.raises(KeyError):
        engine.market("0xnone")


def test_market_not_accepting_orders_yet() -> None:
    ledger = Ledger()
    engine = MatchingEngine(ledger)
    spec = MarketSpec(CID, YES, NO, D("0.01"), D("5"), False, accepting_orders=False)
    engine.add_market(spec)
    order = req(A, YES, "BUY", "0.40", "10")
    assert _refused(engine, ledger, order) == "the market is not yet ready to process new orders"


def test_closed_market() -> None:
    engine, ledger = make_engine()
    engine.close_market(CID, 0)
    assert _refused(engine, ledger, req(A, YES, "BUY", "0.40", "10")) == "market is closed"


def test_closed_only_account_can_only_cancel() -> None:
    engine, ledger = make_engine()
    oid = engine.place(req(A, YES, "BUY", "0.40", "10"), 0).order_id
    ledger.set_closed_only(A, True)
    assert _refused(engine, ledger, req(A, YES, "BUY", "0.30", "10")) == (
        f"'{A}' address in closed only mode"
    )
    assert engine.cancel(oid, A, 1).canceled == [oid]


def test_buy_beyond_available_pusd() -> None:
    engine, ledger = make_engine(balance="10")
    assert engine.place(req(A, YES, "BUY", "0.50", "12"), 0).success  # holds 6.00
    order = req(A, NO, "BUY", "0.50", "8.01")  # needs 4.005 of the 4.00 left
    assert _refused(engine, ledger, order) == "not enough balance / allowance"
    assert engine.place(req(A, NO, "BUY", "0.40", "10"), 0).success  # exactly 4.00


def test_sell_without_shares() -> None:
    engine, ledger = make_engine()
    assert _refused(engine, ledger, req(A, YES, "SELL", "0.50", "5")) == (
        "not enough balance / allowance"
    )


def test_sell_of_shares_reserved_by_another_sell() -> None:
    engine, ledger = make_engine()
    now = mint(engine, A, B, "10")
    assert engine.place(req(A, YES, "SELL", "0.70", "6"), now).success
    order = req(A, YES, "SELL", "0.80", "5")
    assert _refused(engine, ledger, order, now) == "not enough balance / allowance"
    assert ledger.sellable(A, YES) == D("4")


def test_no_allowance_refuses_everything() -> None:
    engine, ledger = make_engine()
    ledger.set_allowance(A, False)
    assert _refused(engine, ledger, req(A, YES, "BUY", "0.10", "5")) == (
        "not enough balance / allowance"
    )


def test_post_only_that_would_cross() -> None:
    engine, ledger = make_engine()
    now = mint(engine, B, A, "10")  # A holds 10 NO
    engine.place(req(B, NO, "BUY", "0.55", "10"), now)  # YES ask 0.45
    crossing = req(A, YES, "BUY", "0.45", "10", post_only=True)
    assert _refused(engine, ledger, crossing, now) == "invalid post-only order: order crosses book"
    crossing_no = req(A, NO, "SELL", "0.55", "10", post_only=True)  # YES bid 0.45: crosses too
    assert _refused(engine, ledger, crossing_no, now) == (
        "invalid post-only order: order crosses book"
    )
    assert ledger.sellable(A, NO) == D("10")
    assert engine.place(req(A, YES, "BUY", "0.44", "10", post_only=True), now).status == "live"


@pytest.mark.parametrize("order_type", ["FOK", "FAK"])
def test_post_only_needs_a_resting_order_type(order_type: str) -> None:
    engine, ledger = make_engine()
    order = req(A, YES, "BUY", "0.40", "10", order_type=order_type, post_only=True)
    assert _refused(engine, ledger, order).startswith("invalid post-only order")


def test_gtd_expiration_must_be_a_minute_ahead() -> None:
    engine, ledger = make_engine()
    order = req(A, YES, "BUY", "0.40", "10", order_type="GTD", expiration=159)
    assert _refused(engine, ledger, order, now=100_000) == "invalid expiration"
    ok = req(A, YES, "BUY", "0.40", "10", order_type="GTD", expiration=160)
    assert engine.place(ok, 100_000).status == "live"


def test_unknown_side_or_type_is_an_invalid_payload() -> None:
    engine, ledger = make_engine()
    assert _refused(engine, ledger, req(A, YES, "HOLD", "0.40", "10")) == "Invalid order payload"
    assert _refused(engine, ledger, req(A, YES, "BUY", "0.40", "10", order_type="IOC")) == (
        "Invalid order payload"
    )
