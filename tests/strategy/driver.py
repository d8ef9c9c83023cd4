"""A small driver for strategy tests: builds events at a controllable time, remembers commands."""

from __future__ import annotations

from decimal import Decimal

from polymaker.config.strategy import StrategyParams
from polymaker.strategy import MarketInfo, State, Strategy
from polymaker.strategy.commands import CancelAll, CancelOrder, Command, PlaceOrder
from polymaker.strategy.events import (
    AllOrdersCanceled,
    BalanceRefreshed,
    BookUpdate,
    Event,
    Fill,
    Level,
    OrderAccepted,
    OrderCanceled,
    OrderRejected,
    OrderUpdate,
    PositionAdopted,
    RejectCode,
    Side,
    Timer,
    TradeStatus,
)

D = Decimal
T0 = 1_800_000_000_000  # epoch ms
HOUR_MS = 3_600_000
FAST = {
    "drop_window_minutes": 1.0,
    "signal_sample_s": 5.0,
    "min_requote_interval_s": 5.0,
    "sell_only_minutes_before_end": 60.0,
    "cooldown_s": 30.0,
}


def params(**overrides: object) -> StrategyParams:
    """Strategy params with a one-minute signal window (tests stay short) plus overrides."""
    return StrategyParams.model_validate({**FAST, **overrides})


def levels(*pairs: tuple[str, str]) -> tuple[Level, ...]:
    return tuple(Level(D(p), D(s)) for p, s in pairs)


class Driver:
    """Feeds events to a Strategy at ``now`` and records every command it returns."""

    def __init__(
        self,
        strategy_params: StrategyParams | None = None,
        tick: str = "0.01",
        min_size: str = "5",
        end_in_ms: int = 24 * HOUR_MS,
    ) -> None:
        self.now = T0
        self.market = MarketInfo(D(tick), D(min_size), T0 + end_in_ms)
        self.s = Strategy(strategy_params or params(), self.market, self.now)
        self.commands: list[Command] = []
        self._trade_seq = 0
        self._order_seq = 0

    @property
    def state(self) -> State:
        return self.s.state

    def went(self, source: State, target: State) -> bool:
        """Whether the strategy ever moved ``source -> target``."""
        return any((a, b) == (source, target) for _, a, b, _ in self.s.transitions)

    def send(self, event: Event) -> list[Command]:
        out = self.s.handle(event)
        self.commands.extend(out)
        return out

    def advance(self, ms: int) -> list[Command]:
        self.now += ms
        return self.send(Timer(self.now))

    # -- market data --------------------------------------------------------------------------
    def book(
        self,
        bid: str | None,
        ask: str | None,
        bid_size: str = "100",
        ask_size: str = "100",
        extra_bids: tuple[tuple[str, str], ...] = (),
        extra_asks: tuple[tuple[str, str], ...] = (),
    ) -> list[Command]:
        bids = (levels((bid, bid_size)) if bid else ()) + levels(*extra_bids)
        asks = (levels((ask, ask_size)) if ask else ()) + levels(*extra_asks)
        return self.send(BookUpdate(self.now, bids, asks))

    # -- start-up -----------------------------------------------------------------------------
    def start(self, adopt: tuple[str, str] | None = None) -> list[Command]:
        out: list[Command] = []
        if adopt:
            out += self.send(PositionAdopted(self.now, D(adopt[0]), D(adopt[1])))
        else:
            out += self.send(Timer(self.now))
        assert any(isinstance(c, CancelAll) for c in out), out
        out += self.send(AllOrdersCanceled(self.now, 0))
        return out

    def warm(self, price: str, ask: str, ms: int = 61_000) -> None:
        """Fill the signal window with a steady bid at ``price``."""
        step = 5_000
        for _ in range(ms // step + 1):
            self.book(price, ask)
            self.advance(step)

    # -- orders -------------------------------------------------------------------------------
    def last_place(self) -> PlaceOrder:
        return [c for c in self.commands if isinstance(c, PlaceOrder)][-1]

    def places(self) -> list[PlaceOrder]:
        return [c for c in self.commands if isinstance(c, PlaceOrder)]

    def cancels(self) -> list[CancelOrder]:
        return [c for c in self.commands if isinstance(c, CancelOrder)]

    def accept(self, order: PlaceOrder | None = None) -> str:
        order = order or self.last_place()
        self._order_seq += 1
        order_id = f"0xorder{self._order_seq}"
        self.send(OrderAccepted(self.now, order.client_ref, order_id))
        return order_id

    def reject(self, code: RejectCode, order: PlaceOrder | None = None) -> list[Command]:
        order = order or self.last_place()
        return self.send(OrderRejected(self.now, order.client_ref, code, "refused"))

    def fill(
        self,
        order_id: str,
        side: Side,
        price: str,
        size: str,
        status: TradeStatus = TradeStatus.CONFIRMED,
        trade_id: str | None = None,
    ) -> list[Command]:
        if trade_id is None:
            self._trade_seq += 1
            trade_id = f"t{self._trade_seq}"
        return self.send(Fill(self.now, trade_id, order_id, side, D(price), D(size), status))

    def matched(self, order_id: str, size: str, open_: bool = True) -> list[Command]:
        return self.send(OrderUpdate(self.now, order_id, D(size), open_))

    def canceled(self, order_id: str, size_matched: str = "0") -> list[Command]:
        return self.send(OrderCanceled(self.now, order_id, D(size_matched)))

    def balance(self, shares: str, cash: str | None = None) -> list[Command]:
        return self.send(BalanceRefreshed(self.now, D(shares), None if cash is None else D(cash)))

    # -- composite steps ----------------------------------------------------------------------
    def to_buying(self, bid: str = "0.90", ask: str = "0.92", dip: str = "0.89") -> str:
        """Warm the window at ``bid``, dip to ``dip``: a buy is placed and accepted."""
        self.start()
        self.warm(bid, ask)
        self.book(dip, ask)
        assert self.state == State.BUYING, self.state
        return self.accept()

    def to_holding(self, entry: str = "0.89", size: str = "10") -> str:
        """Buy ``size`` at ``entry``, fully filled but not settled yet: HOLDING."""
        buy_id = self.to_buying(dip=entry)
        self.fill(buy_id, Side.BUY, entry, size, TradeStatus.MATCHED, trade_id="tb")
        self.matched(buy_id, size, open_=False)
        assert self.state == State.HOLDING, self.state
        return buy_id

    def to_selling(self, entry: str = "0.89", size: str = "10") -> str:
        """Buy ``size`` at ``entry`` (fully filled, settled), then a sell is placed and accepted."""
        buy_id = self.to_buying(dip=entry)
        self.fill(buy_id, Side.BUY, entry, size)
        self.matched(buy_id, size, open_=False)
        assert self.state == State.SELLING, self.state
        return self.accept()
