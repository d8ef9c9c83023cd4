"""The local book: snapshot + deltas, best prices by value, invalidation rules, venue hash."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from polymaker.exchange.local_book import NO_SNAPSHOT, LocalBook, compute_book_hash
from polymaker.exchange.wire import (
    LevelChange,
    OrderBookSnapshot,
    PriceChange,
    PriceLevel,
    Side,
    decode_market_event,
    parse_book,
)
from tests.conftest import load_fixture

STREAM = "ws_market_stream_book_then_price_changes_2026-09.json"
YES_7667 = "76670567130917723816490572615540605537878462672464291990940067659127658071111"


def _stream() -> tuple[OrderBookSnapshot, list[PriceChange]]:
    raw = load_fixture(STREAM)
    snapshot = parse_book(raw[0])
    changes = [decode_market_event(item) for item in raw[1:]]
    assert all(isinstance(c, PriceChange) for c in changes)
    return snapshot, changes  # type: ignore[return-value]


def _change(side: Side, price: str, size: str) -> LevelChange:
    return LevelChange("a", side, Decimal(price), Decimal(size), None, None, None)


def _snapshot(bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> OrderBookSnapshot:
    return OrderBookSnapshot(
        condition_id="m",
        asset_id="a",
        timestamp_ms=1,
        hash=None,
        bids=tuple(PriceLevel(Decimal(p), Decimal(s)) for p, s in bids),
        asks=tuple(PriceLevel(Decimal(p), Decimal(s)) for p, s in asks),
        tick_size=Decimal("0.01"),
        min_order_size=None,
        neg_risk=None,
        last_trade_price=None,
    )


def test_served_hash_reproduces_on_rest_book_as_is() -> None:
    payload = load_fixture("clob_book_negrisk_empty_ask_2026-08.json")
    assert compute_book_hash(parse_book(payload)) == payload["hash"]


def test_served_hash_reproduces_on_ws_books_with_default_min_size_and_neg_risk() -> None:
    for payload in (load_fixture("ws_market_book_2026-08.json"), load_fixture(STREAM)[0]):
        book = parse_book(payload)
        assert compute_book_hash(book) != payload["hash"]  # the WS frame omits two fields
        filled = compute_book_hash(book, min_order_size=Decimal("5"), neg_risk=False)
        assert filled == payload["hash"]


def test_recorded_stream_top_matches_venue_and_every_delta_hash_reproduces() -> None:
    # Arrange
    snapshot, events = _stream()
    book = LocalBook(YES_7667)
    book.apply_snapshot(snapshot, now=0.0)
    checked = 0
    # Act / Assert: after each delta of our token, top == the venue's best_bid/best_ask and
    # the venue's hash of the book after the change == ours (frame timestamp, same fill-ins).
    for event in events:
        for change in event.changes:
            if change.asset_id != YES_7667:
                continue
            assert book.apply_change(change, event.timestamp_ms, now=1.0)
            top = book.top()
            assert top is not None and top.best_bid and top.best_ask
            assert (top.best_bid.price, top.best_ask.price) == (change.best_bid, change.best_ask)
            state = book.as_snapshot()
            assert state is not None
            ours = compute_book_hash(state, min_order_size=Decimal("5"), neg_risk=False)
            assert ours == change.hash
            checked += 1
    assert checked == 15
    final = book.top()
    assert final is not None
    assert final.best_bid == PriceLevel(Decimal("0.311"), Decimal("2000"))
    assert final.best_ask == PriceLevel(Decimal("0.36"), Decimal("300"))
    assert final.timestamp_ms == 1790658701600
    assert final.spread == Decimal("0.049")
    assert book.crossed_count == 0 and book.diverged_count == 0


def test_no_top_before_snapshot_and_deltas_are_ignored() -> None:
    book = LocalBook("a")
    assert book.invalid_reason == NO_SNAPSHOT
    assert book.apply_change(_change(Side.BUY, "0.5", "10"), 5, now=0.0) is False
    assert book.top() is None
    assert book.levels(Side.BUY, 3) == ()


def test_size_is_the_new_total_and_zero_deletes_the_best_level() -> None:
    book = LocalBook("a")
    book.apply_snapshot(_snapshot([("0.40", "10"), ("0.45", "5")], [("0.60", "7")]), now=0.0)
    book.apply_change(_change(Side.BUY, "0.45", "8"), 2, now=1.0)
    assert book.top().best_bid == PriceLevel(Decimal("0.45"), Decimal("8"))  # replaced, not added
    book.apply_change(_change(Side.BUY, "0.45", "0"), 3, now=2.0)
    top = book.top()
    assert top.best_bid == PriceLevel(Decimal("0.40"), Decimal("10"))
    assert top.timestamp_ms == 3
    assert book.updated_at == 2.0
    book.apply_change(_change(Side.SELL, "0.55", "1"), 4, now=3.0)
    assert book.top().best_ask == PriceLevel(Decimal("0.55"), Decimal("1"))
    assert book.levels(Side.SELL, 5) == (
        PriceLevel(Decimal("0.55"), Decimal("1")),
        PriceLevel(Decimal("0.60"), Decimal("7")),
    )


def test_top_levels_are_best_first_whatever_the_served_order() -> None:
    book = LocalBook("a")
    book.apply_snapshot(_snapshot([("0.1", "1"), ("0.3", "3"), ("0.2", "2")], []), now=0.0)
    assert [lv.price for lv in book.levels(Side.BUY, 2)] == [Decimal("0.3"), Decimal("0.2")]
    assert book.top().best_ask is None and book.top().mid is None


def test_crossing_delta_invalidates_and_is_counted_until_next_snapshot() -> None:
    book = LocalBook("a")
    snapshot = _snapshot([("0.40", "10")], [("0.50", "10")])
    book.apply_snapshot(snapshot, now=0.0)
    assert book.apply_change(_change(Side.BUY, "0.50", "1"), 2, now=1.0) is False
    assert book.crossed_count == 1
    assert book.top() is None and book.invalid_reason.startswith("crossed")
    assert book.apply_change(_change(Side.BUY, "0.30", "1"), 3, now=2.0) is False  # ignored
    book.apply_snapshot(snapshot, now=3.0)
    assert book.is_valid and book.top().best_bid.price == Decimal("0.40")


def test_crossed_snapshot_is_invalid() -> None:
    book = LocalBook("a")
    book.apply_snapshot(_snapshot([("0.6", "1")], [("0.5", "1")]), now=0.0)
    assert not book.is_valid and book.crossed_count == 1


def test_delta_disagreeing_with_venue_top_means_a_missed_update() -> None:
    book = LocalBook("a")
    book.apply_snapshot(_snapshot([("0.40", "10")], [("0.50", "10")]), now=0.0)
    change = LevelChange("a", Side.BUY, Decimal("0.41"), Decimal("1"), None, Decimal("0.42"), None)
    assert book.apply_change(change, 2, now=1.0) is False
    assert book.diverged_count == 1 and book.invalid_reason.startswith("diverged")


def test_venue_zero_best_bid_means_empty_side() -> None:
    book = LocalBook("a")
    book.apply_snapshot(_snapshot([("0.40", "10")], [("0.50", "10")]), now=0.0)
    change = LevelChange(
        "a", Side.BUY, Decimal("0.40"), Decimal("0"), None, Decimal("0"), Decimal("0.50")
    )
    assert book.apply_change(change, 2, now=1.0) is True
    assert book.top().best_bid is None


def test_invalidate_on_tick_size_change_or_reconnect_drops_levels() -> None:
    book = LocalBook("a")
    book.apply_snapshot(_snapshot([("0.40", "10")], [("0.50", "10")]), now=0.0)
    book.invalidate("tick size 0.01 -> 0.001")
    assert book.top() is None and book.as_snapshot() is None
    assert book.invalid_reason == "tick size 0.01 -> 0.001"


_prices = st.integers(min_value=1, max_value=99).map(lambda n: Decimal(n) / 100)
_sizes = st.sampled_from([Decimal(0), Decimal(1), Decimal("2.5")])


@given(st.lists(st.tuples(st.sampled_from([Side.BUY, Side.SELL]), _prices, _sizes), max_size=60))
def test_cached_best_prices_equal_max_bid_and_min_ask(ops) -> None:
    book = LocalBook("a")
    book.apply_snapshot(_snapshot([], []), now=0.0)
    bids: dict[Decimal, Decimal] = {}
    asks: dict[Decimal, Decimal] = {}
    for side, price, size in ops:
        if not book.is_valid:
            break
        model = bids if side is Side.BUY else asks
        if size:
            model[price] = size
        else:
            model.pop(price, None)
        book.apply_change(LevelChange("a", side, price, size, None, None, None), 1, now=0.0)
        best_bid, best_ask = max(bids, default=None), min(asks, default=None)
        if best_bid is not None and best_ask is not None and best_bid >= best_ask:
            assert not book.is_valid
            break
        top = book.top()
        assert top is not None
        assert (top.best_bid.price if top.best_bid else None) == best_bid
        assert (top.best_ask.price if top.best_ask else None) == best_ask
