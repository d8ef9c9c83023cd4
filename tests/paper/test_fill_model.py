"""The queue-position fill model: one test per rule, the recorded stream, and property tests
against an independent single-order oracle on generated streams."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from hypothesis import example, given, settings
from hypothesis import strategies as st

from polymaker.exchange.wire import PriceLevel, Side, decode_market_event
from polymaker.paper.fill_model import QueueFillModel, apply_market_event
from tests.conftest import load_fixture

D = Decimal
P = D("0.50")
TOKEN = "tok"


def book(bids=(), asks=()) -> QueueFillModel:
    model = QueueFillModel(TOKEN)
    model.on_snapshot(
        [PriceLevel(D(p), D(s)) for p, s in bids], [PriceLevel(D(p), D(s)) for p, s in asks], 0
    )
    return model


def test_placement_joins_behind_the_displayed_size():
    model = book(bids=[("0.50", "100"), ("0.49", "7")], asks=[("0.52", "10")])
    assert model.place("a", Side.BUY, P, D(10), 1) == D(100)
    assert model.place("b", Side.BUY, D("0.48"), D(10), 1) == D(0)


def test_print_at_our_price_consumes_the_queue_ahead_then_fills_us():
    model = book(bids=[("0.50", "100")])
    model.place("a", Side.BUY, P, D(10), 1)
    assert model.on_trade(P, D(60), Side.SELL, 2) == []
    assert model.queue_ahead("a") == D(40)
    fills = model.on_trade(P, D(45), Side.SELL, 3)
    assert [(f.order_id, f.price, f.size, f.through) for f in fills] == [("a", P, D(5), False)]
    fills = model.on_trade(P, D(100), Side.SELL, 4)
    assert [f.size for f in fills] == [D(5)]
    assert model.order("a") is None


def test_cancellations_are_taken_from_behind_first():
    model = book(bids=[("0.50", "100")])
    model.place("a", Side.BUY, P, D(10), 1)
    model.on_level(Side.BUY, P, D(150), 2)  # 50 join behind us
    model.on_level(Side.BUY, P, D(110), 3)  # 40 leave: from behind
    assert model.queue_ahead("a") == D(100)
    model.on_level(Side.BUY, P, D(30), 4)  # now the level is smaller than the queue ahead
    assert model.queue_ahead("a") == D(30)


def test_a_trade_is_not_counted_twice_whichever_arrives_first():
    delta_first = book(bids=[("0.50", "100")])
    delta_first.place("a", Side.BUY, P, D(10), 1)
    delta_first.on_level(Side.BUY, P, D(70), 2)
    delta_first.on_trade(P, D(30), Side.SELL, 3)
    print_first = book(bids=[("0.50", "100")])
    print_first.place("a", Side.BUY, P, D(10), 1)
    print_first.on_trade(P, D(30), Side.SELL, 2)
    print_first.on_level(Side.BUY, P, D(70), 3)
    assert delta_first.queue_ahead("a") == print_first.queue_ahead("a") == D(70)


def test_the_shrink_credit_expires_after_the_window():
    model = book(bids=[("0.50", "100")])
    model.place("a", Side.BUY, P, D(10), 1)
    model.on_level(Side.BUY, P, D(70), 1_000)
    model.on_trade(P, D(30), Side.SELL, 1_000 + model.absorb_window_ms + 1)
    assert model.queue_ahead("a") == D(40)


def test_a_print_through_our_bid_fills_up_to_the_print_size():
    model = book(bids=[("0.50", "100"), ("0.49", "5")])
    model.place("a", Side.BUY, P, D(10), 1)
    fills = model.on_trade(D("0.48"), D(4), Side.SELL, 2)
    assert [(f.size, f.price, f.trade_price, f.through) for f in fills] == [
        (D(4), P, D("0.48"), True)
    ]
    assert model.queue_ahead("a") == D(0)
    assert [f.size for f in model.on_trade(D("0.47"), D(50), Side.SELL, 3)] == [D(6)]


def test_a_print_through_our_ask_fills_it():
    model = book(asks=[("0.60", "30")])
    model.place("s", Side.SELL, D("0.60"), D(5), 1)
    assert model.on_trade(D("0.60"), D(30), Side.BUY, 2) == []
    assert [f.size for f in model.on_trade(D("0.61"), D(2), Side.BUY, 3)] == [D(2)]


def test_through_and_at_price_share_one_print():
    model = book(bids=[("0.50", "0"), ("0.49", "0")])
    model.place("a", Side.BUY, P, D(10), 1)
    model.place("b", Side.BUY, D("0.49"), D(10), 1)
    fills = model.on_trade(D("0.49"), D(12), Side.SELL, 2)
    assert [(f.order_id, f.size) for f in fills] == [("a", D(10)), ("b", D(2))]


def test_nothing_fills_without_a_print_against_us():
    model = book(bids=[("0.50", "10")], asks=[("0.51", "10")])
    model.place("a", Side.BUY, P, D(10), 1)
    model.on_level(Side.SELL, D("0.49"), D(100), 2)  # a crossing ask shown: not a trade
    assert model.on_trade(P, D(100), Side.BUY, 3) == []  # a taker on our own side
    assert model.on_trade(D("0.51"), D(100), Side.SELL, 4) == []  # above our bid
    assert model.order("a") is not None and model.order("a").filled == 0


def test_our_orders_at_one_price_fill_in_arrival_order():
    model = book(bids=[("0.50", "5")])
    model.place("first", Side.BUY, P, D(3), 1)
    model.on_level(Side.BUY, P, D(8), 2)
    assert model.place("second", Side.BUY, P, D(3), 3) == D(8)
    fills = model.on_trade(P, D(12), Side.SELL, 4)
    assert [(f.order_id, f.size) for f in fills] == [("first", D(3)), ("second", D(1))]


def test_cancel_returns_the_order_with_its_fills():
    model = book(bids=[("0.50", "0")])
    model.place("a", Side.BUY, P, D(10), 1)
    model.on_trade(P, D(4), Side.SELL, 2)
    cancelled = model.cancel("a")
    assert cancelled is not None and cancelled.filled == D(4)
    assert model.cancel("a") is None
    assert model.on_trade(P, D(4), Side.SELL, 3) == []


def test_recorded_stream_moves_the_queue_and_fills_nothing_without_prints():
    events = [
        decode_market_event(obj)
        for obj in load_fixture("ws_market_stream_book_then_price_changes_2026-09.json")
    ]
    token = events[0].asset_id
    model = QueueFillModel(token)
    apply_market_event(model, events[0])
    assert model.best_bid() == D("0.3") and model.best_ask() == D("0.397")
    assert model.place("ask", Side.SELL, D("0.397"), D(5), events[0].timestamp_ms) == D("100.09")
    fills = [fill for event in events[1:] for fill in apply_market_event(model, event)]
    assert fills == []
    assert model.queue_ahead("ask") == D(0)  # 100.09 -> 40.09 -> 0: the level emptied
    assert model.best_bid() == D("0.311")


# Property tests -------------------------------------------------------------------------


@dataclass
class Oracle:
    """One resting order, written from the rules in the module doc, independently of the model."""

    size: Decimal
    ahead: Decimal
    price: Decimal = P
    side: Side = Side.BUY
    behind: Decimal = Decimal(0)
    filled: Decimal = Decimal(0)
    credits: list[tuple[int, Decimal]] = field(default_factory=list)
    window_ms: int = 2_000

    def level(self, size: Decimal, ts: int) -> None:
        total = self.ahead + self.behind
        if size >= total:
            self.behind += size - total
            return
        cut = total - size
        from_behind = min(self.behind, cut)
        self.behind -= from_behind
        from_ahead = cut - from_behind
        self.ahead -= from_ahead
        if from_ahead > 0:
            self.credits.append((ts, from_ahead))

    def trade(self, price: Decimal, size: Decimal, taker: Side, ts: int) -> Decimal:
        against = Side.SELL if self.side is Side.BUY else Side.BUY
        through = price < self.price if self.side is Side.BUY else price > self.price
        if taker is not against or self.filled == self.size:
            return D(0)
        if price != self.price and not through:
            return D(0)
        if through:
            fill = min(self.size - self.filled, size)
            self.filled += fill
            self.ahead = D(0)
            return fill
        self.credits = [(t, c) for t, c in self.credits if ts - t <= self.window_ms]
        volume = size
        while self.credits and volume > 0:
            t, c = self.credits.pop(0)
            used = min(c, volume)
            volume -= used
            if used < c:
                self.credits.insert(0, (t, c - used))
        eaten = min(self.ahead, volume)
        self.ahead -= eaten
        volume -= eaten
        fill = min(self.size - self.filled, volume)
        self.filled += fill
        self.behind -= min(self.behind, volume - fill)
        return fill


PRICES = [D("0.48"), D("0.49"), D("0.50"), D("0.51"), D("0.52")]
sizes = st.integers(min_value=0, max_value=200).map(D)
level_events = st.tuples(st.just("level"), st.sampled_from(PRICES[:3]), sizes)
trade_events = st.tuples(
    st.just("trade"), st.sampled_from(PRICES), sizes.filter(bool), st.sampled_from(list(Side))
)
streams = st.lists(
    st.tuples(st.integers(min_value=0, max_value=1_500), st.one_of(level_events, trade_events)),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(initial=sizes, order_size=st.integers(1, 100).map(D), stream=streams)
def test_fills_match_the_single_order_oracle_exactly(initial, order_size, stream):
    model = book(bids=[("0.50", str(initial))])
    ahead = model.place("a", Side.BUY, P, order_size, 0)
    oracle = Oracle(order_size, ahead)
    ts = 0
    for gap, event in stream:
        ts += gap
        if event[0] == "level":
            _, price, size = event
            model.on_level(Side.BUY, price, size, ts)
            if price == P:
                oracle.level(size, ts)
            continue
        _, price, size, taker = event
        got = sum((f.size for f in model.on_trade(price, size, taker, ts)), D(0))
        assert got == oracle.trade(price, size, taker, ts)
        resting = model.order("a")
        assert (resting.filled if resting else order_size) == oracle.filled
        if resting is not None:
            assert model.queue_ahead("a") == oracle.ahead


orders = st.lists(
    st.tuples(st.sampled_from(list(Side)), st.sampled_from(PRICES), st.integers(1, 50).map(D)),
    min_size=1,
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(placed=orders, stream=streams)
@example(  # the bids ahead at 0.48 all left, then one share traded there: ours, rightly
    placed=[(Side.BUY, D("0.48"), D(1))],
    stream=[(0, ("level", D("0.48"), D(0))), (205, ("trade", D("0.48"), D(1), Side.SELL))],
)
def test_no_fill_at_a_price_the_market_did_not_trade_at_or_through(placed, stream):
    model = book(bids=[("0.49", "20"), ("0.48", "50")], asks=[("0.51", "20"), ("0.52", "40")])
    sides = {}
    for index, (side, price, size) in enumerate(placed):
        model.place(f"o{index}", side, price, size, 0)
        sides[f"o{index}"] = (side, price, size)
    traded_at: dict[str, Decimal] = {}
    traded_through: dict[str, Decimal] = {}
    beyond_queue: dict[str, Decimal] = {}  # traded at our price once the queue ahead was used
    ahead = {oid: model.queue_ahead(oid) for oid in sides}
    filled: dict[str, Decimal] = {}
    resized: set[tuple[Side, Decimal]] = set()  # levels whose displayed size changed
    ts = 0
    for gap, event in stream:
        ts += gap
        if event[0] == "level":
            model.on_level(Side.BUY, event[1], event[2], ts)
            resized.add((Side.BUY, event[1]))
            continue
        _, price, size, taker = event
        fills = model.on_trade(price, size, taker, ts)
        assert sum((f.size for f in fills), D(0)) <= size
        for oid, (side, limit, _) in sides.items():
            against = taker is not side
            if against and price == limit:
                traded_at[oid] = traded_at.get(oid, D(0)) + size
                used = min(ahead[oid], size)
                ahead[oid] -= used
                beyond_queue[oid] = beyond_queue.get(oid, D(0)) + size - used
            through = price < limit if side is Side.BUY else price > limit
            if against and through:
                traded_through[oid] = traded_through.get(oid, D(0)) + size
                ahead[oid] = D(0)  # a print through our price took everything ahead of us
        for fill in fills:
            side, limit, _ = sides[fill.order_id]
            assert fill.price == limit and fill.side is side
            assert taker is not side
            assert fill.trade_price <= limit if side is Side.BUY else fill.trade_price >= limit
            filled[fill.order_id] = filled.get(fill.order_id, D(0)) + fill.size
    for oid, total in filled.items():
        side, limit, size = sides[oid]
        at, through = traded_at.get(oid, D(0)), traded_through.get(oid, D(0))
        assert total <= at + through and total <= size  # only what traded at or through
        if (side, limit) not in resized:  # a shrinking level may also shorten the queue ahead
            assert total <= beyond_queue.get(oid, D(0)) + through


STREAM = [
    decode_market_event(obj)
    for obj in load_fixture("ws_market_stream_book_then_price_changes_2026-09.json")
]
TICK = D("0.001")
prints = st.tuples(
    st.integers(min_value=1, max_value=len(STREAM) - 1),
    st.integers(min_value=-2, max_value=2),
    st.integers(min_value=1, max_value=6000).map(D),
    st.sampled_from(list(Side)),
)


@settings(max_examples=200, deadline=None)
@given(
    side=st.sampled_from(list(Side)),
    level=st.integers(min_value=0, max_value=3),
    order_size=st.integers(5, 3000).map(D),
    inserted=st.lists(prints, max_size=25),
)
def test_replayed_stream_with_inserted_prints_matches_the_oracle(side, level, order_size, inserted):
    """The recorded book and deltas, with trade prints spliced in, fill exactly as specified."""
    snapshot = STREAM[0]
    token = snapshot.asset_id
    levels = sorted(snapshot.bids if side is Side.BUY else snapshot.asks, key=lambda lv: lv.price)
    price = (levels[-1 - level] if side is Side.BUY else levels[level]).price
    model = QueueFillModel(token)
    apply_market_event(model, snapshot)
    ahead = model.place("o", side, price, order_size, snapshot.timestamp_ms)
    oracle = Oracle(order_size, ahead, price=price, side=side)
    by_position: dict[int, list] = {}
    for position, ticks, size, taker in inserted:
        by_position.setdefault(position, []).append((price + ticks * TICK, size, taker))
    for position, event in enumerate(STREAM[1:], start=1):
        for change in event.changes:
            if change.asset_id == token and change.side is side and change.price == price:
                oracle.level(change.size, event.timestamp_ms)
        assert apply_market_event(model, event) == []
        for print_price, size, taker in by_position.get(position, []):
            got = sum(
                (f.size for f in model.on_trade(print_price, size, taker, event.timestamp_ms)), D(0)
            )
            assert got == oracle.trade(print_price, size, taker, event.timestamp_ms)
    resting = model.order("o")
    assert (resting.filled if resting else order_size) == oracle.filled
