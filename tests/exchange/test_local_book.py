"""The local book: snapshot + deltas, best prices by value, operations, invalidation, hash."""

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


def _apply_one(book: LocalBook, change: LevelChange, timestamp_ms: int, now: float) -> bool:
    """One entry that is a whole operation: apply, then verify. True if the book is valid."""
    book.apply_change(change, timestamp_ms, now)
    book.settle()
    return book.is_valid


def test_recorded_stream_top_matches_venue_and_every_delta_hash_reproduces() -> None:
    # Arrange
    snapshot, events = _stream()
    book = LocalBook(YES_7667)
    book.apply_snapshot(snapshot, now=0.0)
    checked = 0
    # Act / Assert: after each frame, our token's operation is complete and consistent: top ==
    # the venue's best_bid/best_ask, and the venue's hash of the book after the operation ==
    # ours (frame timestamp, same fill-ins).
    for event in events:
        for change in event.changes:
            if change.asset_id != YES_7667:
                continue
            book.apply_change(change, event.timestamp_ms, now=1.0)
            assert book.settle_if_consistent()
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
    assert _apply_one(book, _change(Side.BUY, "0.5", "10"), 5, now=0.0) is False
    assert book.top() is None and book.entries == 0
    assert book.levels(Side.BUY, 3) == ()


def test_size_is_the_new_total_and_zero_deletes_the_best_level() -> None:
    book = LocalBook("a")
    book.apply_snapshot(_snapshot([("0.40", "10"), ("0.45", "5")], [("0.60", "7")]), now=0.0)
    _apply_one(book, _change(Side.BUY, "0.45", "8"), 2, now=1.0)
    assert book.top().best_bid == PriceLevel(Decimal("0.45"), Decimal("8"))  # replaced, not added
    _apply_one(book, _change(Side.BUY, "0.45", "0"), 3, now=2.0)
    top = book.top()
    assert top.best_bid == PriceLevel(Decimal("0.40"), Decimal("10"))
    assert top.timestamp_ms == 3
    assert book.updated_at == 2.0
    _apply_one(book, _change(Side.SELL, "0.55", "1"), 4, now=3.0)
    assert book.top().best_ask == PriceLevel(Decimal("0.55"), Decimal("1"))
    assert book.levels(Side.SELL, 5) == (
        PriceLevel(Decimal("0.55"), Decimal("1")),
        PriceLevel(Decimal("0.60"), Decimal("7")),
    )


def test_a_delta_older_than_the_snapshot_is_ignored() -> None:
    book = LocalBook("a")
    book.apply_snapshot(_snapshot([("0.40", "10")], [("0.50", "10")]), now=0.0)  # at ts 1
    book.apply_change(_change(Side.BUY, "0.45", "3"), 0, now=1.0)
    assert not book.pending and book.top().best_bid.price == Decimal("0.40")


def test_top_levels_are_best_first_whatever_the_served_order() -> None:
    book = LocalBook("a")
    book.apply_snapshot(_snapshot([("0.1", "1"), ("0.3", "3"), ("0.2", "2")], []), now=0.0)
    assert [lv.price for lv in book.levels(Side.BUY, 2)] == [Decimal("0.3"), Decimal("0.2")]
    assert book.top().best_ask is None and book.top().mid is None


def test_crossing_operation_invalidates_and_is_counted_until_next_snapshot() -> None:
    book = LocalBook("a")
    snapshot = _snapshot([("0.40", "10")], [("0.50", "10")])
    book.apply_snapshot(snapshot, now=0.0)
    book.apply_change(_change(Side.BUY, "0.50", "1"), 2, now=1.0)
    assert book.is_valid and book.pending and book.top() is None  # not judged, not published
    assert not book.settle_if_consistent()  # crossed at the end of the frame: wait
    book.settle()  # ... the operation is over (quiet time) and still crossed
    assert book.crossed_count == 1
    assert book.top() is None and book.invalid_reason.startswith("crossed")
    assert _apply_one(book, _change(Side.BUY, "0.30", "1"), 3, now=2.0) is False  # ignored
    book.apply_snapshot(snapshot, now=3.0)
    assert book.is_valid and book.top().best_bid.price == Decimal("0.40")


def test_crossed_snapshot_is_invalid() -> None:
    book = LocalBook("a")
    book.apply_snapshot(_snapshot([("0.6", "1")], [("0.5", "1")]), now=0.0)
    assert not book.is_valid and book.crossed_count == 1


def test_operation_ending_off_the_venue_top_means_a_missed_update() -> None:
    book = LocalBook("a")
    book.apply_snapshot(_snapshot([("0.40", "10")], [("0.50", "10")]), now=0.0)
    change = LevelChange("a", Side.BUY, Decimal("0.41"), Decimal("1"), "h1", Decimal("0.42"), None)
    book.apply_change(change, 2, now=1.0)
    assert not book.settle_if_consistent() and book.diverged_count == 0
    # the next entry carries another hash: the first operation is over, and it was wrong
    book.apply_change(_op(Side.SELL, "0.55", "1", "h2", "0.42", "0.50"), 3, now=1.1)
    assert book.diverged_count == 1 and book.invalid_reason.startswith("diverged")
    assert book.top() is None


def test_venue_zero_best_bid_means_empty_side() -> None:
    book = LocalBook("a")
    book.apply_snapshot(_snapshot([("0.40", "10")], [("0.50", "10")]), now=0.0)
    change = LevelChange(
        "a", Side.BUY, Decimal("0.40"), Decimal("0"), None, Decimal("0"), Decimal("0.50")
    )
    assert _apply_one(book, change, 2, now=1.0) is True
    assert book.top().best_bid is None


def _op(side: Side, price: str, size: str, op_hash: str, bid: str, ask: str) -> LevelChange:
    """One entry of a venue operation, stamped with the top after the whole operation."""
    return LevelChange(
        "a", side, Decimal(price), Decimal(size), op_hash, Decimal(bid), Decimal(ask)
    )


def test_multi_level_trade_is_judged_once_with_the_top_after_the_whole_operation() -> None:
    book = LocalBook("a")
    book.apply_snapshot(
        _snapshot([("0.30", "10")], [("0.41", "10"), ("0.40", "10"), ("0.39", "10")]), now=0.0
    )
    # a buy of 20 takes the two best asks: both entries carry the final best ask 0.41
    book.apply_change(_op(Side.SELL, "0.39", "0", "h", "0.30", "0.41"), 2, now=1.0)
    assert book.top() is None and not book.settle_if_consistent()  # half-applied: held
    book.apply_change(_op(Side.SELL, "0.40", "0", "h", "0.30", "0.41"), 2, now=1.0)
    assert book.settle_if_consistent()
    assert book.top().best_ask.price == Decimal("0.41")
    assert book.diverged_count == 0 and book.crossed_count == 0


def test_crossing_order_that_trades_then_rests_is_never_crossed_in_the_verdict() -> None:
    book = LocalBook("a")
    book.apply_snapshot(_snapshot([("0.30", "10")], [("0.41", "10"), ("0.39", "5")]), now=0.0)
    # a buy of 25 at 0.41 (split over two frames): the rest (10) shows first, crossing the
    # asks it then takes; a maker's new ask at 0.42 ends it
    entries = [
        _op(Side.BUY, "0.41", "10", "h", "0.41", "0.42"),
        _op(Side.SELL, "0.39", "0", "h", "0.41", "0.42"),
        _op(Side.SELL, "0.41", "0", "h", "0.41", "0.42"),
        _op(Side.SELL, "0.42", "7", "h", "0.41", "0.42"),
    ]
    for entry in entries[:3]:
        book.apply_change(entry, 2, now=1.0)
        assert book.is_valid and book.top() is None
    assert not book.settle_if_consistent()  # the operation goes on in the next frame
    book.apply_change(entries[3], 2, now=1.01)
    assert book.settle_if_consistent()
    top = book.top()
    assert (top.best_bid.price, top.best_ask.price) == (Decimal("0.41"), Decimal("0.42"))
    assert book.crossed_count == 0 and book.diverged_count == 0


def test_a_snapshot_ends_a_pending_operation() -> None:
    book = LocalBook("a")
    book.apply_snapshot(_snapshot([("0.40", "10")], [("0.50", "10")]), now=0.0)
    book.apply_change(_op(Side.BUY, "0.55", "1", "h", "0.55", "0.60"), 2, now=1.0)
    assert book.pending
    book.apply_snapshot(_snapshot([("0.40", "10")], [("0.50", "10")]), now=2.0)
    assert not book.pending and book.is_valid and book.crossed_count == 0


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
        _apply_one(book, LevelChange("a", side, price, size, None, None, None), 1, now=0.0)
        best_bid, best_ask = max(bids, default=None), min(asks, default=None)
        if best_bid is not None and best_ask is not None and best_bid >= best_ask:
            assert not book.is_valid
            break
        top = book.top()
        assert top is not None
        assert (top.best_bid.price if top.best_bid else None) == best_bid
        assert (top.best_ask.price if top.best_ask else None) == best_ask
