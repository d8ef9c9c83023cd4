"""One test per declared edge of the strategy state machine (states.ALLOWED_FROM)."""

from __future__ import annotations

from polymaker.strategy import ExitReason, State
from polymaker.strategy.commands import CancelAll, CancelOrder, Finish, PlaceOrder, RefreshBalances
from polymaker.strategy.events import (
    AllOrdersCanceled,
    MarketClosed,
    PositionAdopted,
    RejectCode,
    Side,
    StopRequested,
    Timer,
    TradeStatus,
)
from polymaker.strategy.states import ALLOWED_FROM
from tests.strategy.driver import HOUR_MS, D, Driver, params


def _finish(commands: list) -> Finish:
    return next(c for c in commands if isinstance(c, Finish))


def test_every_edge_has_a_test() -> None:
    names = {name for name in globals() if name.startswith("test_transition_")}
    for target, sources in ALLOWED_FROM.items():
        for source in sources:
            prefix = f"test_transition_{source.value}_to_{target.value}"
            assert any(n == prefix or n.startswith(prefix + "_") for n in names), prefix


def test_transition_starting_to_idle() -> None:
    d = Driver()
    out = d.send(Timer(d.now))
    assert out == [CancelAll(), RefreshBalances()]
    assert d.state == State.STARTING
    d.send(AllOrdersCanceled(d.now, 0))
    assert d.state == State.IDLE


def test_transition_starting_to_holding_adopted_position() -> None:
    d = Driver()
    d.send(PositionAdopted(d.now, D("10"), D("0.80")))
    d.send(AllOrdersCanceled(d.now, 0))
    assert d.went(State.STARTING, State.HOLDING)
    assert d.state == State.SELLING  # adopted shares are settled: sell them (once a book arrives)
    assert d.s.snapshot().avg_entry == D("0.80")
    out = d.book("0.79", "0.83")
    place = next(c for c in out if isinstance(c, PlaceOrder))
    assert (place.side, place.price, place.size) == (Side.SELL, D("0.83"), D("10.00"))


def test_transition_starting_to_exiting_stop_during_sweep() -> None:
    d = Driver()
    d.send(Timer(d.now))
    d.send(StopRequested(d.now))
    assert d.state == State.EXITING
    out = d.send(AllOrdersCanceled(d.now, 0))
    assert out == [CancelAll()]  # confirm nothing remains
    out = d.send(AllOrdersCanceled(d.now, 0))
    assert _finish(out) == Finish(ExitReason.STOPPED, clean=True)
    assert d.state == State.DONE


def test_transition_idle_to_buying_on_dip() -> None:
    d = Driver()
    d.start()
    d.warm("0.90", "0.92")
    assert d.state == State.IDLE
    out = d.book("0.89", "0.92")
    assert d.state == State.BUYING
    place = next(c for c in out if isinstance(c, PlaceOrder))
    assert (place.side, place.price, place.size) == (Side.BUY, D("0.89"), D("10.00"))


def test_transition_idle_to_buying_on_threshold() -> None:
    d = Driver(params(buy_price_threshold=0.5))
    d.start()
    d.book("0.50", "0.52")  # no window yet, but the threshold is reached
    assert d.state == State.BUYING
    assert d.last_place().intent == "buy_threshold"


def test_transition_idle_to_holding_late_fill() -> None:
    d = Driver()
    buy_id = d.to_buying()
    d.advance(601_000)  # buy timeout: cancel
    d.canceled(buy_id, "0")
    assert d.state == State.IDLE
    d.fill(buy_id, Side.BUY, "0.89", "6", TradeStatus.MATCHED)  # a late trade of that order
    assert d.state == State.HOLDING


def test_transition_idle_to_exiting_sell_only_flat() -> None:
    d = Driver(end_in_ms=2 * HOUR_MS)
    d.start()
    d.advance(HOUR_MS)  # sell-only window (60 min before end) starts
    assert d.state == State.EXITING
    out = d.send(AllOrdersCanceled(d.now, 0))
    assert _finish(out).reason == ExitReason.SELL_ONLY_DONE


def test_transition_buying_to_idle_timeout_without_fill() -> None:
    d = Driver()
    buy_id = d.to_buying()
    out = d.advance(600_000)
    assert CancelOrder(buy_id) in out
    assert d.state == State.BUYING
    d.canceled(buy_id, "0")
    assert d.state == State.IDLE


def test_transition_buying_to_holding_filled_unsettled() -> None:
    d = Driver()
    buy_id = d.to_buying()
    d.fill(buy_id, Side.BUY, "0.89", "10", TradeStatus.MATCHED)
    out = d.matched(buy_id, "10", open_=False)
    assert d.state == State.HOLDING
    assert RefreshBalances() in out  # ask whether the shares arrived


def test_transition_buying_to_exiting_stop() -> None:
    d = Driver()
    buy_id = d.to_buying()
    out = d.send(StopRequested(d.now))
    assert d.state == State.EXITING
    assert out == [CancelOrder(buy_id)]


def test_transition_holding_to_selling_balance_arrives() -> None:
    d = Driver()
    buy_id = d.to_buying()
    d.fill(buy_id, Side.BUY, "0.89", "10", TradeStatus.MATCHED)
    d.matched(buy_id, "10", open_=False)
    out = d.balance("10")
    assert d.state == State.SELLING
    place = next(c for c in out if isinstance(c, PlaceOrder))
    assert (place.side, place.size) == (Side.SELL, D("10.00"))


def test_transition_holding_to_idle_failed_trade() -> None:
    d = Driver()
    buy_id = d.to_holding()
    d.fill(buy_id, Side.BUY, "0.89", "10", TradeStatus.FAILED, trade_id="tb")
    assert d.went(State.HOLDING, State.IDLE)
    assert d.s.snapshot().position == 0
    assert d.state == State.BUYING  # the dip is still there: a fresh buy


def test_transition_holding_to_exiting_market_closed() -> None:
    d = Driver()
    d.to_holding()
    out = d.send(MarketClosed(d.now))
    assert d.state == State.EXITING
    out = d.send(AllOrdersCanceled(d.now, 0))
    assert _finish(out).reason == ExitReason.MARKET_CLOSED


def test_transition_selling_to_holding_balance_short() -> None:
    d = Driver()
    d.to_buying()
    buy_id = "0xorder1"
    d.fill(buy_id, Side.BUY, "0.89", "10", TradeStatus.CONFIRMED)
    d.matched(buy_id, "10", open_=False)
    assert d.state == State.SELLING
    out = d.reject(RejectCode.NOT_ENOUGH_BALANCE)
    assert RefreshBalances() in out
    d.balance("0")  # the chain has not delivered the shares yet
    assert d.state == State.HOLDING


def test_transition_selling_to_cooldown_round_trip() -> None:
    d = Driver()
    sell_id = d.to_selling()
    d.fill(sell_id, Side.SELL, "0.92", "10")
    d.matched(sell_id, "10", open_=False)
    assert d.state == State.COOLDOWN


def test_transition_selling_to_exiting_market_ended() -> None:
    d = Driver(params(sell_only_minutes_before_end=0.0), end_in_ms=HOUR_MS)
    sell_id = d.to_selling()
    out = d.advance(HOUR_MS)
    assert d.state == State.EXITING
    assert CancelOrder(sell_id) in out
    d.canceled(sell_id)
    out = d.send(AllOrdersCanceled(d.now, 0))
    assert _finish(out).reason == ExitReason.MARKET_ENDED


def test_transition_cooldown_to_idle() -> None:
    d = Driver()
    sell_id = d.to_selling()
    d.fill(sell_id, Side.SELL, "0.92", "10")
    d.matched(sell_id, "10", open_=False)
    d.advance(29_000)
    assert d.state == State.COOLDOWN
    d.advance(1_000)
    assert d.went(State.COOLDOWN, State.IDLE)


def test_transition_cooldown_to_holding_sell_reversed() -> None:
    d = Driver()
    sell_id = d.to_selling()
    d.fill(sell_id, Side.SELL, "0.92", "10", TradeStatus.MATCHED, trade_id="s1")
    d.matched(sell_id, "10", open_=False)
    assert d.state == State.COOLDOWN
    d.fill(sell_id, Side.SELL, "0.92", "10", TradeStatus.FAILED, trade_id="s1")
    assert d.went(State.COOLDOWN, State.HOLDING)
    assert d.state == State.SELLING  # the shares are back and settled: offered again
    assert d.s.snapshot().position == D("10")


def test_transition_cooldown_to_exiting_sell_only() -> None:
    d = Driver(end_in_ms=2 * HOUR_MS)
    sell_id = d.to_selling()
    d.fill(sell_id, Side.SELL, "0.92", "10")
    d.matched(sell_id, "10", open_=False)
    assert d.state == State.COOLDOWN
    d.advance(HOUR_MS)
    assert d.state == State.EXITING
    assert d.s.snapshot().exit_reason == ExitReason.SELL_ONLY_DONE


def test_transition_exiting_to_done_clean() -> None:
    d = Driver()
    sell_id = d.to_selling()
    d.send(StopRequested(d.now))
    d.canceled(sell_id, "0")
    out = d.send(AllOrdersCanceled(d.now, 0))
    assert _finish(out) == Finish(ExitReason.STOPPED, clean=True)
    assert d.state == State.DONE
    assert d.advance(1_000) == []  # everything after DONE is ignored
    assert d.s.snapshot().ignored["after_done"] == 1


def test_transition_exiting_to_done_timeout_unclean() -> None:
    d = Driver()
    d.to_selling()
    d.send(StopRequested(d.now))
    out = d.advance(10_000)  # stop_timeout_s without a cancel confirmation
    assert _finish(out) == Finish(ExitReason.STOPPED, clean=False)
    assert d.s.snapshot().last_error


def test_transition_exiting_to_done_forced() -> None:
    d = Driver()
    d.to_buying()
    out = d.send(StopRequested(d.now, force=True))
    assert out == [CancelAll(), Finish(ExitReason.STOPPED, clean=False)]
    assert d.state == State.DONE
