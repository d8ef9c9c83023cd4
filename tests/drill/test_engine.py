"""Matching engine: book views, the three kinds of fills, priority, order types, events, queries.

The helpers at the top are shared by the other tests/drill/test_engine_*.py files.
"""

from __future__ import annotations

import itertools
from decimal import Decimal

from polymaker.drill.engine import (
    BookChanged,
    Event,
    MarketClosed,
    MarketSpec,
    MatchingEngine,
    OrderRequest,
    OrderUpdate,
    TickSizeChanged,
    TradePrinted,
    TradeUpdate,
)
from polymaker.drill.ledger import Ledger

D = Decimal
CID = "0xcond"
YES = "1111"
NO = "2222"
A = "0x" + "a" * 40
B = "0x" + "b" * 40
C = "0x" + "c" * 40
_ids = itertools.count(1)


def make_engine(
    *,
    fee_rate: str = "0",
    fee_exponent: str = "1",
    delays: tuple[int, int] = (1000, 2000),
    balance: str = "1000",
    tick: str = "0.01",
) -> tuple[MatchingEngine, Ledger]:
    """An engine with one market (CID: YES/NO), accounts funded with ``balance`` pUSD."""
    ledger = Ledger(D(balance))
    engine = MatchingEngine(ledger, settle_delays_ms=delays)
    spec = MarketSpec(CID, YES, NO, D(tick), D("5"), False, D(fee_rate), D(fee_exponent))
    engine.add_market(spec)
    return engine, ledger


def req(
    address: str,
    token: str,
    side: str,
    price: str,
    size: str,
    *,
    order_type: str = "GTC",
    post_only: bool = False,
    expiration: int = 0,
    order_id: str | None = None,
) -> OrderRequest:
    """An order of ``address`` (API key ``key-<address>``) with a fresh id unless given."""
    oid = order_id if order_id is not None else f"0xorder{next(_ids)}"
    return OrderRequest(
        oid, f"key-{address}", address, token, side, D(price), D(size), order_type, post_only,
        expiration,
    )  # fmt: skip


def mint(engine: MatchingEngine, yes_holder: str, no_holder: str, size: str, now: int = 0) -> int:
    """Create ``size`` complete sets at 0.50 (YES to one, NO to the other), settled.

    Returns the engine time after confirmation.
    """
    assert engine.place(req(yes_holder, YES, "BUY", "0.50", size), now).success
    assert engine.place(req(no_holder, NO, "BUY", "0.50", size), now).status == "matched"
    engine.advance(now + 2000)
    engine.drain_events()
    return now + 2000


def of_type(events: list[Event], kind: type) -> list:
    return [e for e in events if isinstance(e, kind)]


def test_no_book_is_the_mirror_of_the_yes_book() -> None:
    engine, _ = make_engine()
    engine.place(req(A, YES, "BUY", "0.40", "10"), 0)
    engine.place(req(A, YES, "BUY", "0.38", "7"), 0)
    engine.place(req(B, NO, "BUY", "0.55", "6"), 0)  # a YES ask at 0.45
    engine.place(req(B, NO, "BUY", "0.50", "8"), 0)  # a YES ask at 0.50
    yes, no = engine.book(YES), engine.book(NO)
    assert yes.bids == ((D("0.38"), D("7")), (D("0.40"), D("10")))
    assert yes.asks == ((D("0.50"), D("8")), (D("0.45"), D("6")))
    assert no.bids == ((D("0.50"), D("8")), (D("0.55"), D("6")))
    assert no.asks == ((D("0.62"), D("7")), (D("0.60"), D("10")))
    assert (yes.market, yes.asset_id, no.asset_id) == (CID, YES, NO)
    assert yes.tick_size == D("0.01") and yes.min_order_size == D("5")


def test_transfer_executes_at_the_makers_price() -> None:
    engine, ledger = make_engine()
    mint(engine, A, B, "10")
    engine.place(req(A, YES, "SELL", "0.60", "10"), 3000)
    result = engine.place(req(C, YES, "BUY", "0.65", "10"), 3000)
    assert result.success and result.status == "matched"
    assert (result.making_amount, result.taking_amount) == (D("6.00"), D("10"))
    [trade] = engine.trades(trade_id=result.trade_ids[0])
    assert (trade.price, trade.size, trade.side, trade.asset_id) == (D("0.60"), D("10"), "BUY", YES)
    assert trade.maker_orders[0].price == D("0.60")
    assert ledger.balance(C) == D("994.00") and ledger.shares(C, YES) == D("10")
    assert ledger.balance(A) == D("1001.00") and ledger.shares(A, YES) == 0


def test_mint_buy_yes_against_buy_no_creates_a_complete_set() -> None:
    engine, ledger = make_engine()
    engine.place(req(A, YES, "BUY", "0.40", "10"), 0)
    result = engine.place(req(B, NO, "BUY", "0.65", "10"), 0)
    [trade] = engine.trades(trade_id=result.trade_ids[0])
    assert (trade.asset_id, trade.price, trade.side) == (NO, D("0.60"), "BUY")
    assert trade.maker_orders[0].asset_id == YES and trade.maker_orders[0].price == D("0.40")
    assert ledger.balance(A) == D("996.00") and ledger.shares(A, YES) == D("10")
    assert ledger.balance(B) == D("994.00") and ledger.shares(B, NO) == D("10")
    assert ledger.available(B) == D("994.00")  # the better price released the excess reserve


def test_merge_sell_yes_against_sell_no_destroys_the_set() -> None:
    engine, ledger = make_engine()
    now = mint(engine, A, B, "10")
    engine.place(req(A, YES, "SELL", "0.40", "10"), now)
    result = engine.place(req(B, NO, "SELL", "0.55", "10"), now)  # YES bid 0.45 crosses 0.40
    [trade] = engine.trades(trade_id=result.trade_ids[0])
    assert (trade.asset_id, trade.side, trade.price) == (NO, "SELL", D("0.60"))
    assert ledger.balance(A) == D("999.00")  # paid 5.00 in the mint, got 4.00
    assert ledger.balance(B) == D("1001.00")  # paid 5.00, got 6.00
    assert ledger.positions(A) == {} and ledger.positions(B) == {}


def test_transfer_of_no_shares() -> None:
    engine, ledger = make_engine()
    now = mint(engine, A, B, "10")
    engine.place(req(C, NO, "BUY", "0.52", "10"), now)
    result = engine.place(req(B, NO, "SELL", "0.50", "10"), now)
    assert engine.trades(trade_id=result.trade_ids[0])[0].price == D("0.52")
    assert ledger.shares(C, NO) == D("10") and ledger.shares(B, NO) == 0
    assert ledger.balance(B) == D("1000.20") and ledger.balance(C) == D("994.80")


def test_better_price_first_then_arrival_order_within_a_level() -> None:
    engine, _ = make_engine()
    first = engine.place(req(A, NO, "BUY", "0.50", "5"), 0).order_id  # YES ask 0.50
    second = engine.place(req(B, NO, "BUY", "0.50", "5"), 1).order_id  # YES ask 0.50, later
    better = engine.place(req(C, NO, "BUY", "0.51", "5"), 2).order_id  # YES ask 0.49
    result = engine.place(req(C, YES, "BUY", "0.50", "12"), 3)
    trades = [engine.trades(trade_id=t)[0] for t in result.trade_ids]
    assert [t.price for t in trades] == [D("0.49"), D("0.50")]
    fills = [(m.order_id, m.matched_amount) for t in trades for m in t.maker_orders]
    assert fills == [(better, D("5")), (first, D("5")), (second, D("2"))]
    [left] = engine.open_orders(order_id=second)
    assert (left.size_matched, left.status) == (D("2"), "LIVE")
    assert engine.order(first).status == "MATCHED"


def test_partial_fill_rests_the_remainder() -> None:
    engine, ledger = make_engine()
    engine.place(req(A, NO, "BUY", "0.50", "5"), 0)
    result = engine.place(req(B, YES, "BUY", "0.55", "8"), 0)
    assert result.status == "matched" and result.taking_amount == D("5")
    [rest] = engine.open_orders(maker_address=B)
    assert (rest.original_size, rest.size_matched, rest.status) == (D("8"), D("5"), "LIVE")
    assert engine.book(YES).bids == ((D("0.55"), D("3")),)
    assert ledger.available(B) == D("1000") - D("2.50") - D("0.55") * 3


def test_fok_is_all_or_nothing() -> None:
    engine, ledger = make_engine()
    engine.place(req(A, NO, "BUY", "0.50", "5"), 0)
    engine.drain_events()
    killed = engine.place(req(B, YES, "BUY", "0.50", "6", order_type="FOK"), 0)
    assert not killed.success
    assert killed.error == "order couldn't be fully filled. FOK orders are fully filled or killed."
    [update] = engine.drain_events()
    assert update.kind == "CANCELLATION" and update.order.status == f"CANCELED_{killed.error}"
    assert ledger.available(B) == D("1000") and engine.book(YES).asks == ((D("0.50"), D("5")),)
    filled = engine.place(req(B, YES, "BUY", "0.50", "5", order_type="FOK"), 0)
    assert filled.success and filled.status == "matched" and engine.open_orders() == []
    assert engine.order(filled.order_id).status == "MATCHED"


def test_fak_fills_what_it_can_and_kills_the_rest() -> None:
    engine, ledger = make_engine()
    engine.place(req(A, NO, "BUY", "0.50", "5"), 0)
    partial = engine.place(req(B, YES, "BUY", "0.50", "9", order_type="FAK"), 0)
    assert partial.success and partial.taking_amount == D("5")
    assert engine.open_orders() == [] and ledger.available(B) == D("997.50")
    none = engine.place(req(B, YES, "BUY", "0.50", "9", order_type="FAK"), 0)
    assert none.error == (
        "no orders found to match with FAK order. FAK orders are partially filled or killed if "
        "no match is found."
    )
    assert ledger.available(B) == D("997.50")


def test_gtd_rests_until_expiration_then_advance_expires_it() -> None:
    engine, ledger = make_engine()
    order = req(A, YES, "BUY", "0.40", "10", order_type="GTD", expiration=100)
    assert engine.place(order, 0).status == "live"
    assert engine.advance(99_999) == []
    events = engine.advance(100_000)
    [update] = of_type(events, OrderUpdate)
    assert (update.kind, update.order.status) == ("CANCELLATION", "CANCELED_EXPIRED_ORDER")
    [book] = of_type(events, BookChanged)
    assert {(c.asset_id, c.size) for c in book.changes} == {(YES, 0), (NO, 0)}
    assert ledger.available(A) == D("1000") and engine.open_orders() == []


def test_expired_gtd_never_trades_even_before_advance() -> None:
    engine, _ = make_engine()
    engine.place(req(A, YES, "BUY", "0.40", "10", order_type="GTD", expiration=100), 0)
    result = engine.place(req(B, NO, "BUY", "0.60", "10"), 100_000)
    assert result.status == "live" and result.trade_ids == []


def test_cancel_only_the_owners_open_order() -> None:
    engine, ledger = make_engine()
    oid = engine.place(req(A, YES, "BUY", "0.40", "10"), 0).order_id
    assert engine.cancel(oid, B, 1).not_canceled == {
        oid: "order can't be found - already canceled or matched"
    }
    assert engine.cancel(oid, A.upper().replace("0X", "0x"), 1).canceled == [oid]
    assert ledger.available(A) == D("1000") and engine.book(YES).bids == ()
    assert engine.order(oid).status == "CANCELED"
    assert oid in engine.cancel(oid, A, 2).not_canceled


def test_cancel_where_filters_by_market_and_token() -> None:
    engine, _ = make_engine()
    engine.add_market(MarketSpec("0xother", "3333", "4444", D("0.01"), D("5"), True))
    yes_id = engine.place(req(A, YES, "BUY", "0.40", "10"), 0).order_id
    no_id = engine.place(req(A, NO, "BUY", "0.40", "10"), 0).order_id
    other = engine.place(req(A, "3333", "BUY", "0.40", "10"), 0).order_id
    assert engine.cancel_where(A, 1, condition_id=CID, token_id=NO).canceled == [no_id]
    assert engine.cancel_where(A, 1, condition_id=CID).canceled == [yes_id]
    assert engine.cancel_where(A, 1).canceled == [other]


def test_open_orders_filters() -> None:
    engine, _ = make_engine()
    a1 = engine.place(req(A, YES, "BUY", "0.40", "10"), 0).order_id
    b1 = engine.place(req(B, NO, "BUY", "0.40", "10"), 0).order_id
    assert [o.id for o in engine.open_orders()] == [a1, b1]
    assert [o.id for o in engine.open_orders(maker_address=B)] == [b1]
    assert [o.id for o in engine.open_orders(token_id=YES)] == [a1]
    assert [o.id for o in engine.open_orders(condition_id=CID, order_id=b1)] == [b1]
    assert engine.open_orders(maker_address=A, token_id=NO) == []
    view = engine.open_orders(order_id=b1)[0]
    assert (view.outcome, view.side, view.price, view.owner) == ("No", "BUY", D("0.40"), f"key-{B}")


def test_book_changed_covers_both_tokens_with_bests_after_the_change() -> None:
    engine, _ = make_engine()
    engine.place(req(A, YES, "BUY", "0.40", "10"), 5)
    [_, changed] = engine.drain_events()
    assert changed.condition_id == CID and changed.timestamp_ms == 5
    yes, no = changed.changes
    assert (yes.asset_id, yes.price, yes.size, yes.side) == (YES, D("0.40"), D("10"), "BUY")
    assert (yes.best_bid, yes.best_ask) == (D("0.40"), None)
    assert (no.asset_id, no.price, no.size, no.side) == (NO, D("0.60"), D("10"), "SELL")
    assert (no.best_bid, no.best_ask) == (None, D("0.60"))
    engine.place(req(B, NO, "BUY", "0.60", "10"), 6)
    [changed] = of_type(engine.drain_events(), BookChanged)
    assert [(c.asset_id, c.size, c.best_bid, c.best_ask) for c in changed.changes] == [
        (YES, D("0"), None, None),
        (NO, D("0"), None, None),
    ]


def test_trade_events_reach_the_taker_and_every_maker() -> None:
    engine, _ = make_engine()
    engine.place(req(A, NO, "BUY", "0.50", "5"), 0)
    engine.place(req(C, NO, "BUY", "0.50", "5"), 0)
    engine.drain_events()
    result = engine.place(req(B, YES, "BUY", "0.50", "10"), 7)
    events = engine.drain_events()
    [update] = of_type(events, TradeUpdate)
    assert update.owners == (f"key-{B}", f"key-{A}", f"key-{C}")
    assert update.trade.status == "MATCHED" and update.trade.id == result.trade_ids[0]
    assert update.trade.for_viewer(owner=f"key-{A}").trader_side == "MAKER"
    assert update.trade.for_viewer(owner=f"key-{B}").trader_side == "TAKER"
    [printed] = of_type(events, TradePrinted)
    assert (printed.asset_id, printed.price, printed.size, printed.side) == (
        YES, D("0.50"), D("10"), "BUY",
    )  # fmt: skip
    kinds = [(e.owner, e.kind, e.order.status) for e in of_type(events, OrderUpdate)]
    assert kinds == [
        (f"key-{B}", "PLACEMENT", "MATCHED"),
        (f"key-{A}", "UPDATE", "MATCHED"),
        (f"key-{C}", "UPDATE", "MATCHED"),
    ]
    assert engine.book(NO).last_trade_price == D("0.50")


def test_trades_by_address_show_the_viewers_side() -> None:
    engine, _ = make_engine()
    engine.place(req(A, NO, "BUY", "0.50", "5"), 0)
    engine.place(req(B, YES, "BUY", "0.50", "5"), 1000)
    [as_maker] = engine.trades(address=A)
    [as_taker] = engine.trades(address=B)
    assert as_maker.trader_side == "MAKER" and as_taker.trader_side == "TAKER"
    assert as_taker.maker_address == B and as_taker.match_time == 1
    assert engine.trades(address=C) == [] and engine.trades(condition_id="0xnone") == []
    assert len(engine.trades(condition_id=CID)) == 1


def test_tick_size_change_emits_per_token_and_moves_the_grid() -> None:
    engine, _ = make_engine()
    events = engine.set_tick_size(CID, D("0.001"), 10)
    assert [(e.asset_id, e.old, e.new) for e in events] == [
        (YES, D("0.01"), D("0.001")),
        (NO, D("0.01"), D("0.001")),
    ]
    assert all(isinstance(e, TickSizeChanged) for e in events)
    assert engine.drain_events() == events
    assert engine.place(req(A, YES, "BUY", "0.995", "10"), 11).success
    assert engine.market(CID).tick_size == D("0.001") == engine.book(NO).tick_size


def test_close_market_cancels_its_orders_and_refuses_new_ones() -> None:
    engine, ledger = make_engine()
    oid = engine.place(req(A, YES, "BUY", "0.40", "10"), 0).order_id
    events = engine.close_market(CID, 5)
    [update] = of_type(events, OrderUpdate)
    assert update.order.status == "CANCELED_MARKET_RESOLVED" and update.order.id == oid
    assert isinstance(events[-1], MarketClosed) and ledger.available(A) == D("1000")
    assert engine.place(req(A, YES, "BUY", "0.40", "10"), 6).error == "market is closed"
    assert engine.market_of_token(NO).condition_id == CID
