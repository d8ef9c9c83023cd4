"""Scenario tests: whole stories through the strategy, with exact Decimal results."""

from __future__ import annotations

from polymaker.strategy import ExitReason, State
from polymaker.strategy.commands import (
    CancelAll,
    CancelOrder,
    Finish,
    PlaceOrder,
    ReconcileFills,
    RefreshBalances,
    RefreshBook,
)
from polymaker.strategy.events import (
    AllOrdersCanceled,
    BookUpdate,
    FlattenRequested,
    OrderAccepted,
    RejectCode,
    Side,
    StopRequested,
    TickSizeChanged,
    TradeStatus,
)
from tests.strategy.driver import HOUR_MS, D, Driver, levels, params


def _places(out: list) -> list[PlaceOrder]:
    return [c for c in out if isinstance(c, PlaceOrder)]


def test_full_round_trip_exact_pnl_with_requote_up() -> None:
    d = Driver(params(buy_price_threshold=0.6, profit_pct=0.01))
    d.start()
    d.book("0.50", "0.55")
    first = d.accept()
    d.fill(first, Side.BUY, "0.50", "4")
    d.book("0.51", "0.55", extra_bids=(("0.50", "6"),))  # outbid; our 6 left at 0.50
    assert d.cancels() == []  # not before min_requote_interval_s
    out = d.advance(5_000)
    assert out == [CancelOrder(first)]
    out = d.canceled(first, "4")
    (second,) = _places(out)
    assert (second.price, second.size) == (D("0.51"), D("6.00"))
    second_id = d.accept()
    d.fill(second_id, Side.BUY, "0.51", "6")
    d.matched(second_id, "6", open_=False)
    snap = d.s.snapshot()
    assert snap.avg_entry == D("0.506")
    assert snap.floor == D("0.52")  # max(0.506 * 1.01, 0.506 + 0.01) rounded up
    assert d.state == State.SELLING
    sell = d.last_place()
    assert (sell.side, sell.price, sell.size) == (Side.SELL, D("0.55"), D("10.00"))
    sell_id = d.accept()
    d.fill(sell_id, Side.SELL, "0.55", "3")
    d.fill(sell_id, Side.SELL, "0.55", "7")
    d.matched(sell_id, "10", open_=False)
    assert d.s.snapshot().realized_pnl == D("0.44")
    assert d.s.snapshot().position == 0
    assert d.state == State.COOLDOWN


def test_partial_buy_fill_then_cancel_counts_the_partial() -> None:
    d = Driver()
    buy_id = d.to_buying()
    d.matched(buy_id, "2")  # size_matched only, the trade event has not arrived
    d.advance(600_000)  # buy timeout
    d.canceled(buy_id, "6")  # the final size_matched after the cancel
    snap = d.s.snapshot()
    assert snap.position == D("6")
    assert snap.avg_entry == D("0.89")  # priced at the order's limit
    assert d.went(State.BUYING, State.HOLDING)
    d.fill(buy_id, Side.BUY, "0.89", "6", TradeStatus.CONFIRMED)  # the trade arrives later
    assert d.s.snapshot().position == D("6")  # not counted twice


def test_post_only_rejection_requotes_on_a_fresh_book() -> None:
    d = Driver(params(buy_price_threshold=0.6))
    d.start()
    d.book("0.50", "0.52")
    out = d.reject(RejectCode.POST_ONLY_WOULD_CROSS)
    assert RefreshBook() in out
    assert d.state == State.BUYING  # a requote, not a failure
    assert _places(d.advance(10_000)) == []  # the refused (old) book is not traded on again
    (again,) = _places(d.book("0.49", "0.51"))
    assert (again.side, again.price) == (Side.BUY, D("0.49"))


def test_not_enough_balance_refreshes_and_retries_without_shrinking() -> None:
    d = Driver()
    buy_id = d.to_buying()
    d.fill(buy_id, Side.BUY, "0.89", "10", TradeStatus.CONFIRMED)
    d.matched(buy_id, "10", open_=False)
    first = d.last_place()
    assert (first.side, first.size) == (Side.SELL, D("10.00"))
    out = d.reject(RejectCode.NOT_ENOUGH_BALANCE)
    assert RefreshBalances() in out
    assert _places(d.advance(60_000)) == []  # waits for the balance, no blind retry
    d.book("0.89", "0.92")
    out = d.balance("10")
    (retry,) = _places(out)
    assert retry.size == D("10.00")  # the same size: nothing shrank
    assert d.s.snapshot().last_error.startswith("SELL rejected: not_enough_balance")


def test_tick_size_change_mid_sell_regrids() -> None:
    d = Driver()
    sell_id = d.to_selling()
    assert d.last_place().price == D("0.92")
    out = d.send(TickSizeChanged(d.now, D("0.001")))
    assert out == [RefreshBook()]
    d.advance(5_000)
    out = d.book("0.895", "0.915")
    assert out == [CancelOrder(sell_id)]
    (new,) = _places(d.canceled(sell_id))
    assert new.price == D("0.915")
    assert d.s.snapshot().floor == D("0.899")  # max(0.89 * 1.01, 0.89 + 0.001) on the new grid


def test_sell_only_with_a_partial_position() -> None:
    d = Driver(end_in_ms=2 * HOUR_MS)
    buy_id = d.to_buying()
    d.fill(buy_id, Side.BUY, "0.89", "6")
    out = d.advance(HOUR_MS)  # 60 minutes before the end: no more buying
    assert CancelOrder(buy_id) in out
    d.canceled(buy_id, "6")
    d.book("0.89", "0.92")
    sell = d.last_place()
    assert (sell.side, sell.size, sell.price) == (Side.SELL, D("6.00"), D("0.92"))
    sell_id = d.accept()
    d.fill(sell_id, Side.SELL, "0.92", "6")
    out = d.matched(sell_id, "6", open_=False)
    assert d.state == State.EXITING
    assert out[-1] == CancelAll()
    out = d.send(AllOrdersCanceled(d.now, 0))
    assert out == [Finish(ExitReason.SELL_ONLY_DONE, clean=True)]


def test_stop_while_buying_keeps_the_partial_and_finishes() -> None:
    d = Driver()
    buy_id = d.to_buying()
    d.fill(buy_id, Side.BUY, "0.89", "3")
    out = d.send(StopRequested(d.now))
    assert out == [CancelOrder(buy_id)]
    out = d.canceled(buy_id, "3")
    assert out == [CancelAll()]
    assert _places(out) == []
    out = d.send(AllOrdersCanceled(d.now, 0))
    assert out == [Finish(ExitReason.STOPPED, clean=True)]
    assert d.s.snapshot().position == D("3")


def test_stop_while_selling_cancels_and_confirms() -> None:
    d = Driver()
    sell_id = d.to_selling()
    out = d.send(StopRequested(d.now))
    assert out == [CancelOrder(sell_id)]
    assert d.canceled(sell_id, "0") == [CancelAll()]
    assert d.send(AllOrdersCanceled(d.now, 1)) == []  # one still open: not done
    out = d.advance(10_000)
    assert out[-1] == Finish(ExitReason.STOPPED, clean=False)


def test_adopted_position_sells_at_its_floor() -> None:
    d = Driver()
    d.start(adopt=("12.5", "0.80"))
    out = d.book("0.78", "0.80")
    (sell,) = _places(out)
    assert (sell.side, sell.price, sell.size) == (Side.SELL, D("0.81"), D("12.50"))


def test_failed_sell_trade_is_reversed_with_its_pnl() -> None:
    d = Driver()
    sell_id = d.to_selling()
    d.fill(sell_id, Side.SELL, "0.92", "5", TradeStatus.MATCHED, trade_id="s1")
    assert d.s.snapshot().realized_pnl == D("0.15")
    d.fill(sell_id, Side.SELL, "0.92", "5", TradeStatus.FAILED, trade_id="s1")
    snap = d.s.snapshot()
    assert (snap.realized_pnl, snap.position) == (D("0"), D("10"))


def test_duplicate_trade_ids_are_ignored() -> None:
    d = Driver()
    buy_id = d.to_buying()
    for _ in range(3):
        d.fill(buy_id, Side.BUY, "0.89", "4", TradeStatus.MATCHED, trade_id="same")
    assert d.s.snapshot().position == D("4")
    d.fill(buy_id, Side.BUY, "0.89", "4", TradeStatus.CONFIRMED, trade_id="same")
    assert d.s.snapshot().position == D("4")


def test_buy_moves_down_when_alone_above_the_book() -> None:
    d = Driver(params(buy_price_threshold=0.6))
    d.start()
    d.book("0.50", "0.55")
    order_id = d.accept()
    d.advance(5_000)
    out = d.book("0.50", "0.55", bid_size="10", extra_bids=(("0.46", "50"),))
    assert out == [CancelOrder(order_id)]
    (lower,) = _places(d.canceled(order_id))
    assert lower.price == D("0.46")  # joins the next bid


def test_aggressive_sell_steps_down_to_the_floor_and_stops() -> None:
    d = Driver(params(sell_mode="aggressive", aggressive_step_timeout_s=300.0))
    sell_id = d.to_selling()  # entry 0.89, floor 0.90, resting at 0.92
    prices = []
    for _ in range(4):
        d.advance(300_000)
        out = d.book("0.89", "0.92")
        if CancelOrder(sell_id) in out:
            (new,) = _places(d.canceled(sell_id))
            prices.append(new.price)
            sell_id = d.accept()
    assert prices == [D("0.91"), D("0.90")]


def test_conservative_sell_never_steps_down() -> None:
    d = Driver(params(sell_mode="conservative"))
    d.to_selling()
    for _ in range(4):
        assert d.advance(300_000) == []


def test_stop_loss_exits_below_the_floor() -> None:
    d = Driver(params(stop_loss_pct=0.05))
    sell_id = d.to_selling()
    out = d.book("0.84", "0.87")  # 0.84 <= 0.89 * 0.95
    assert out == [CancelOrder(sell_id)]  # at once, not after the requote interval
    (exit_order,) = _places(d.canceled(sell_id))
    assert (exit_order.price, exit_order.intent) == (D("0.86"), "stop_loss")
    assert d.s.snapshot().exit_mode == "stop_loss"


def test_flatten_while_selling_exits_below_the_floor_then_finishes_flat() -> None:
    d = Driver()
    sell_id = d.to_selling()  # entry 0.89, floor 0.90, take-profit resting at 0.92
    out = d.send(FlattenRequested(d.now))
    assert out == [CancelOrder(sell_id)]  # at once, not after the requote interval
    (exit_order,) = _places(d.canceled(sell_id))
    assert (exit_order.side, exit_order.price, exit_order.size) == (Side.SELL, D("0.91"), D("10"))
    assert exit_order.intent == "flatten" and d.s.snapshot().sell_only
    exit_id = d.accept()
    d.fill(exit_id, Side.SELL, "0.91", "10")
    out = d.matched(exit_id, "10", open_=False)
    assert d.state == State.EXITING and out[-1] == CancelAll()
    assert d.send(AllOrdersCanceled(d.now, 0)) == [Finish(ExitReason.FLATTENED, clean=True)]
    assert d.s.snapshot().realized_pnl == D("0.20")


def test_flatten_while_buying_cancels_the_buy_and_sells_what_filled() -> None:
    d = Driver()
    buy_id = d.to_buying()
    d.fill(buy_id, Side.BUY, "0.89", "6")
    out = d.send(FlattenRequested(d.now))
    assert out == [CancelOrder(buy_id)]
    (exit_order,) = _places(d.canceled(buy_id, "6"))
    assert (exit_order.side, exit_order.size, exit_order.intent) == (Side.SELL, D("6"), "flatten")
    assert _places(d.advance(3_600_000)) == []  # never another buy


def test_flatten_when_flat_finishes_without_an_order() -> None:
    d = Driver()
    d.start()
    d.book("0.89", "0.92")
    out = d.send(FlattenRequested(d.now))
    assert _places(out) == [] and out[-1] == CancelAll()
    assert d.send(AllOrdersCanceled(d.now, 0)) == [Finish(ExitReason.FLATTENED, clean=True)]


def test_max_hold_exits_after_the_holding_time() -> None:
    d = Driver(params(max_hold_minutes=2.0))
    sell_id = d.to_selling()
    d.advance(60_000)
    assert d.book("0.89", "0.92") == []
    out = d.advance(60_000)
    assert out == [CancelOrder(sell_id)]
    d.canceled(sell_id)
    (exit_order,) = _places(d.book("0.89", "0.92"))
    assert (exit_order.price, exit_order.intent) == (D("0.91"), "max_hold")


def test_never_buys_where_the_profit_target_is_unsellable() -> None:
    d = Driver(params(buy_price_threshold=0.998), tick="0.001")
    d.start()
    (order,) = _places(d.book("0.993", "0.995"))
    assert order.price == D("0.989")  # highest price whose floor (0.999) is still sellable


def test_stale_crossed_and_out_of_range_books_are_not_traded() -> None:
    d = Driver(params(buy_price_threshold=0.6))
    d.start()
    d.send(BookUpdate(d.now, levels(("0.55", "10")), levels(("0.50", "10"))))
    d.send(BookUpdate(d.now, levels(("1.20", "10")), levels(("1.30", "10"))))
    d.send(BookUpdate(d.now - 31_000, levels(("0.50", "10")), levels(("0.55", "10"))))
    assert d.places() == []
    ignored = d.s.snapshot().ignored
    assert ignored["book_crossed"] == 1 and ignored["book_price_out_of_range"] == 1


def test_dust_is_held_and_flagged() -> None:
    d = Driver()
    buy_id = d.to_buying()
    d.advance(600_000)
    d.canceled(buy_id, "3")
    snap = d.s.snapshot()
    assert snap.dust and snap.position == D("3")
    assert d.went(State.BUYING, State.IDLE)


def test_buy_size_respects_max_position_and_cash() -> None:
    d = Driver(params(order_size=10, max_position_shares=12, buy_price_threshold=0.89))
    buy_id = d.to_buying()
    d.advance(600_000)
    d.canceled(buy_id, "3")  # 3 shares of dust held
    d.balance("3", cash="6.23")
    d.advance(1_000)
    d.book("0.89", "0.92")
    order = d.last_place()
    assert order.size == D("7.00")  # min(10, 12 - 3, 6.23 / 0.89 = 7.0)


def test_unanswered_placement_is_swept_and_a_late_ack_cancelled() -> None:
    d = Driver(params(buy_price_threshold=0.6))
    d.start()
    d.book("0.50", "0.55")
    lost = d.last_place()
    out = d.advance(30_000)
    assert out == [CancelAll(), ReconcileFills()]
    d.send(AllOrdersCanceled(d.now, 0))
    d.book("0.50", "0.55")
    current = d.last_place()
    assert current.client_ref != lost.client_ref
    out = d.send(OrderAccepted(d.now, lost.client_ref, "0xlate"))
    assert out == [CancelOrder("0xlate")]
    assert d.s.snapshot().open_orders == 2


def test_order_size_usdc_limits_the_shares() -> None:
    d = Driver(params(order_size_usdc=4.5, buy_price_threshold=0.6))
    d.start()
    (order,) = _places(d.book("0.45", "0.47"))
    assert order.size == D("7.50")  # sized at the cap (0.60): 4.5 / 0.6, never over budget


def test_unparsed_and_unknown_events_are_counted_not_traded() -> None:
    from polymaker.strategy.events import BookInvalidated, Unparsed

    d = Driver(params(buy_price_threshold=0.6))
    d.start()
    d.send(Unparsed(d.now, "price_change", "missing best_bid"))
    assert d.s.handle("not an event") == []  # type: ignore[arg-type]
    d.book("0.50", "0.55")
    order_id = d.accept()
    d.send(BookInvalidated(d.now))
    d.advance(5_000)
    assert d.cancels() == []  # no book: the resting bid is left alone, nothing new placed
    ignored = d.s.snapshot().ignored
    assert ignored["unparsed:price_change"] == 1 and ignored["unknown_event:str"] == 1
    assert d.s.snapshot().open_order.order_id == order_id


def test_take_profit_follows_the_ask_down_but_not_below_the_floor() -> None:
    d = Driver(params(sell_mode="conservative"))
    sell_id = d.to_selling()  # entry 0.89, floor 0.90, resting at 0.92
    d.advance(5_000)
    assert d.book("0.89", "0.91") == [CancelOrder(sell_id)]
    (lower,) = _places(d.canceled(sell_id))
    assert lower.price == D("0.91")
    sell_id = d.accept()
    d.advance(5_000)
    assert d.book("0.88", "0.89") == [CancelOrder(sell_id)]
    (at_floor,) = _places(d.canceled(sell_id))
    assert at_floor.price == D("0.90")  # the rest of the book is below the floor: rest at it


def test_unsellable_adopted_position_is_held_without_polling() -> None:
    d = Driver()
    d.start(adopt=("10", "0.99"))  # floor 1.00 > 1 - tick: no take-profit possible
    d.book("0.98", "0.99")
    out = d.advance(60_000)
    snap = d.s.snapshot()
    assert snap.unsellable and d.state == State.HOLDING
    assert out == [] and d.places() == []
