"""Property tests: random markets and exchange behaviour, the safety guarantees always hold.

A small fake venue answers the strategy's commands in a random order (accept, reject with a
random code, fill partly, confirm cancels late, lose acknowledgements, fail trades, resend
duplicates, change the tick) while the book random-walks. Every PlaceOrder is checked against
docs/strategy.md's guarantees at the moment it is emitted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from polymaker.strategy import MarketInfo, State, Strategy, pricing
from polymaker.strategy.commands import (
    EXIT_INTENTS,
    CancelAll,
    CancelOrder,
    Command,
    Finish,
    PlaceOrder,
    RefreshBalances,
)
from polymaker.strategy.events import (
    AllOrdersCanceled,
    BalanceRefreshed,
    BookUpdate,
    Event,
    Fill,
    FlattenRequested,
    Level,
    OrderAccepted,
    OrderCanceled,
    OrderRejected,
    OrderUpdate,
    RejectCode,
    Side,
    StopRequested,
    TickSizeChanged,
    Timer,
    TradeStatus,
)
from tests.strategy.driver import HOUR_MS, T0, params

D = Decimal


@dataclass
class _VenueOrder:
    order_id: str
    side: Side
    price: Decimal
    size: Decimal
    matched: Decimal = field(default_factory=Decimal)


@dataclass
class Venue:
    """Fake exchange state plus the invariants checked on each command."""

    strategy: Strategy
    tick: Decimal
    min_size: Decimal
    max_position: Decimal
    now: int = T0
    bid_idx: int = 0
    spread: int = 2
    pending_places: list[PlaceOrder] = field(default_factory=list)
    lost_places: list[PlaceOrder] = field(default_factory=list)
    live: dict[str, _VenueOrder] = field(default_factory=dict)
    done: dict[str, _VenueOrder] = field(default_factory=dict)
    pending_cancels: list[str] = field(default_factory=list)
    pending_sweeps: int = 0
    pending_balance: bool = False
    trades: list[Fill] = field(default_factory=list)
    settled: Decimal = field(default_factory=Decimal)
    placed: int = 0
    flattening: bool = False
    finished: bool = False
    seq: int = 0

    # -- delivery ------------------------------------------------------------------------------
    def send(self, event: Event) -> None:
        if self.finished:
            return
        for command in self.strategy.handle(event):
            self.execute(command)

    def execute(self, command: Command) -> None:
        if isinstance(command, PlaceOrder):
            self.check_place(command)
            self.pending_places.append(command)
        elif isinstance(command, CancelOrder):
            self.pending_cancels.append(command.order_id)
        elif isinstance(command, CancelAll):
            self.pending_sweeps += 1
        elif isinstance(command, RefreshBalances):
            self.pending_balance = True
        elif isinstance(command, Finish):
            self.finished = True
        # RefreshBook / ReconcileFills: the next book / order updates answer them

    # -- the guarantees ------------------------------------------------------------------------
    def check_place(self, order: PlaceOrder) -> None:
        snap = self.strategy.snapshot()
        tick = snap.tick_size
        assert order.post_only and order.order_type == "GTC"
        assert pricing.on_grid(order.price, tick), (order, tick)
        assert order.size >= self.min_size and order.size == pricing.round_size(order.size)
        assert not self.live and not self.pending_places, "two working orders"
        assert not self.pending_sweeps, "placed while a cancel-all is unanswered"
        if order.side == Side.BUY:
            assert not self.flattening, "a buy after the flatten request"
            assert order.book_best_ask is None or order.price < order.book_best_ask
            assert snap.position + order.size <= self.max_position
            floor = pricing.profit_floor(order.price, D("0.01"), 1, tick)
            assert pricing.floor_sellable(floor, tick), order
        else:
            assert order.book_best_bid is None or order.price > order.book_best_bid
            assert order.size <= snap.position
            if self.flattening:
                assert order.intent in EXIT_INTENTS, order
            if order.intent not in EXIT_INTENTS:
                assert snap.floor is not None and order.price >= snap.floor, (order, snap)
        self.placed += 1

    # -- venue actions -------------------------------------------------------------------------
    def book(self, move: int, spread: int, broken: bool) -> None:
        top = int(D(1) / self.tick) - 1
        self.bid_idx = max(1, min(top - 1, self.bid_idx + move))
        self.spread = spread
        bid = self.bid_idx
        ask = min(top, bid + spread)
        for order in self.live.values():  # resting orders cannot be crossed: they would trade
            at = int(order.price / self.tick)
            if order.side == Side.BUY:
                ask = max(ask, at + 1)
            else:
                bid = min(bid, at - 1)
        if broken:
            bids, asks = (Level(D("0.6"), D(5)),), (Level(D("0.4"), D(5)),)
        else:
            bids = tuple(Level(self.tick * i, D(50)) for i in range(bid, max(bid - 3, 0), -1))
            asks = tuple(Level(self.tick * i, D(50)) for i in range(ask, min(ask + 3, top + 1)))
        self.send(BookUpdate(self.now, bids, asks))

    def answer_place(self, accept: bool, code: RejectCode, lose: bool) -> None:
        if not self.pending_places:
            return
        order = self.pending_places.pop(0)
        if lose:
            self.lost_places.append(order)
            return
        if accept:
            self.seq += 1
            oid = f"0x{self.seq}"
            self.live[oid] = _VenueOrder(oid, order.side, order.price, order.size)
            self.send(OrderAccepted(self.now, order.client_ref, oid))
        else:
            self.send(OrderRejected(self.now, order.client_ref, code))

    def late_ack(self) -> None:
        if self.lost_places:
            order = self.lost_places.pop(0)
            self.seq += 1
            oid = f"0x{self.seq}"
            self.live[oid] = _VenueOrder(oid, order.side, order.price, order.size)
            self.send(OrderAccepted(self.now, order.client_ref, oid))

    def fill(self, fraction: int, status: TradeStatus) -> None:
        if not self.live:
            return
        order = next(iter(self.live.values()))
        size = pricing.round_size((order.size - order.matched) * fraction / 4)
        if size <= 0:
            return
        order.matched += size
        self.seq += 1
        trade = Fill(
            self.now, f"t{self.seq}", order.order_id, order.side, order.price, size, status
        )
        self.trades.append(trade)
        signed = size if order.side == Side.BUY else -size
        if status == TradeStatus.CONFIRMED or order.side == Side.SELL:
            self.settled += signed
        self.send(trade)
        done = order.matched >= order.size
        if done:
            self.done[order.order_id] = self.live.pop(order.order_id)
        self.send(OrderUpdate(self.now, order.order_id, order.matched, open=not done))

    def confirm_cancel(self) -> None:
        if not self.pending_cancels:
            return
        oid = self.pending_cancels.pop(0)
        order = self.live.pop(oid, None) or self.done.get(oid)
        if order is not None:  # a real runtime re-reads the order for its final size_matched
            self.done[oid] = order
            self.send(OrderCanceled(self.now, oid, order.matched))

    def confirm_sweep(self) -> None:
        if not self.pending_sweeps:
            return
        self.pending_sweeps = 0  # the answer covers every sweep sent so far
        for order in list(self.live.values()):
            self.done[order.order_id] = self.live.pop(order.order_id)
            self.send(OrderUpdate(self.now, order.order_id, order.matched, open=False))
        self.pending_cancels.clear()
        self.lost_places.clear()  # the sweep also kills placements still in flight
        self.pending_places.clear()
        self.send(AllOrdersCanceled(self.now, 0))

    def balance(self) -> None:
        if self.pending_balance:
            self.pending_balance = False
            self.send(BalanceRefreshed(self.now, max(self.settled, D(0)), D(1000)))

    def replay_trade(self, index: int, fail: bool) -> None:
        if not self.trades:
            return
        trade = self.trades[index % len(self.trades)]
        if fail and trade.status == TradeStatus.MATCHED and trade.side == Side.BUY:
            trade = Fill(
                self.now,
                trade.trade_id,
                trade.order_id,
                trade.side,
                trade.price,
                trade.size,
                TradeStatus.FAILED,
            )
        self.send(trade)


_KINDS = (
    ["book"] * 6
    + ["time"] * 4
    + ["place"] * 4
    + ["fill"] * 3
    + ["cancel"] * 2
    + ["sweep", "balance", "balance", "late_ack", "replay", "tick"]
)
_TIMES = (1_000, 5_000, 30_000, 300_000, 900_000)
_CODES = [c for c in RejectCode if c != RejectCode.MARKET_CLOSED]
_STATUSES = (TradeStatus.MATCHED, TradeStatus.MINED, TradeStatus.CONFIRMED)
# (kind index, a, b, c): flat integers keep generation cheap and shrinking effective
_ACTION = st.tuples(
    st.integers(0, len(_KINDS) - 1), st.integers(0, 6), st.integers(0, 6), st.booleans()
)


def _run(venue: Venue, action: tuple[int, int, int, bool]) -> None:
    kind, a, b, flag = _KINDS[action[0]], action[1], action[2], action[3]
    if kind == "book":
        venue.book(a - 3, 1 + b % 4, broken=flag and a == 6 and b == 6)
    elif kind == "time":
        venue.now += _TIMES[a % len(_TIMES)]
        venue.send(Timer(venue.now))
    elif kind == "place":
        venue.answer_place(accept=a > 1, code=_CODES[b % len(_CODES)], lose=flag and a == 0)
    elif kind == "fill":
        venue.fill(1 + a % 4, _STATUSES[b % 3])
    elif kind == "cancel":
        venue.confirm_cancel()
    elif kind == "sweep":
        venue.confirm_sweep()
    elif kind == "balance":
        venue.balance()
    elif kind == "late_ack":
        venue.late_ack()
    elif kind == "replay":
        venue.replay_trade(a * 7 + b, fail=flag)
    elif kind == "tick" and flag and a == 6:
        finer = venue.tick == D("0.01")
        venue.tick = D("0.001") if finer else D("0.01")
        venue.bid_idx = venue.bid_idx * 10 if finer else max(1, venue.bid_idx // 10)
        venue.send(TickSizeChanged(venue.now, venue.tick))


@settings(
    max_examples=int(os.environ.get("POLYMAKER_PROPERTY_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    actions=st.lists(_ACTION, min_size=20, max_size=150),
    stop_at=st.integers(0, 200),
    flatten_at=st.integers(0, 200),
    force=st.booleans(),
    start_idx=st.integers(40, 98),
    threshold=st.sampled_from([None, 0.5, 0.95, 0.99]),
    sell_mode=st.sampled_from(["conservative", "aggressive"]),
    stop_loss=st.sampled_from([None, 0.02]),
    max_hold=st.sampled_from([None, 5.0]),
)
def test_every_order_keeps_the_guarantees(
    actions: list[tuple[int, int, int, bool]],
    stop_at: int,
    flatten_at: int,
    force: bool,
    start_idx: int,
    threshold: float | None,
    sell_mode: str,
    stop_loss: float | None,
    max_hold: float | None,
) -> None:
    strategy_params = params(
        order_size=10,
        max_position_shares=15,
        buy_price_threshold=threshold,
        sell_mode=sell_mode,
        stop_loss_pct=stop_loss,
        max_hold_minutes=max_hold,
        aggressive_step_timeout_s=60.0,
    )
    market = MarketInfo(D("0.01"), D(5), T0 + 3 * HOUR_MS)
    venue = Venue(Strategy(strategy_params, market, T0), D("0.01"), D(5), D(15))
    venue.bid_idx = start_idx
    venue.send(Timer(venue.now))
    for step, action in enumerate(actions):
        if step == stop_at:
            venue.send(StopRequested(venue.now, force=force))
        if step == flatten_at:
            venue.flattening = True
            venue.send(FlattenRequested(venue.now))
        _run(venue, action)
        snap = venue.strategy.snapshot()
        assert snap.position <= D(15)
        assert snap.open_orders <= 2  # at most one working order plus a stray being cancelled
        if venue.finished:
            assert venue.strategy.state == State.DONE
            break
