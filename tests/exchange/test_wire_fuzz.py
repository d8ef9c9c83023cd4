"""Fuzz: mutated versions of every recorded payload through the real decoders.

Each outcome must be a typed value or the project's own refusal (``WireError``, an
``UnparsedEvent`` that is not a decoder bug), never another exception; and whatever parses must
be in range (prices in (0, 1) or [0, 1] for reported quotes, amounts 0 or 1e-30..1e15, epoch
milliseconds a real date), then survive the next consumer: the local book, the position
ledger, the strategy's translation. The ``data_api_v2_*`` payloads have no decoder in
polymaker (only the drill exchange serves that shape), so they are not fuzzed here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from polymaker.exchange.local_book import LocalBook
from polymaker.exchange.wire import (
    AccountIdentity,
    OrderBookSnapshot,
    OrderEvent,
    PriceChange,
    TradeEvent,
    UnparsedEvent,
    UserDecoder,
    WireError,
    decode_market_event,
    decode_market_frame,
    parse_book,
    parse_clob_market,
    parse_orders_page,
    parse_trades_page,
)
from polymaker.exchange.wire._decode import DECODER_BUG
from polymaker.exchange.wire._fields import ms_to_utc
from polymaker.strategy.events import Fill
from polymaker.strategy.position import Position
from polymaker.worker import translate
from tests.conftest import load_fixture
from tests.fuzzing import FUZZ_SETTINGS, Sample, mutated

OURS = AccountIdentity.of(
    "3e2c94ca-8124-c4c1-c7ea-be1ea21b71fe", ["0xa3D82Ed56F4c68d2328Fb8c29e568Ba2cAF7d7c8"]
)
MARKET_FIXTURES = [
    "ws_market_best_bid_ask_2025-12.json",
    "ws_market_book_2024-10.json",
    "ws_market_book_2026-08.json",
    "ws_market_last_trade_price_2024-08.json",
    "ws_market_new_market_2025-12.json",
    "ws_market_price_change_batched_2026-09.json",
    "ws_market_price_change_legacy_2024-08.json",
    "ws_market_stream_book_then_price_changes_2026-09.json",
    "ws_market_tick_size_change_2025-02.json",
]
USER_FIXTURES = [
    "ws_user_order_cancellation_2024-09.json",
    "ws_user_order_fok_killed_2026-05.json",
    "ws_user_order_placement_2024-09.json",
    "ws_user_trade_maker_confirmed_2025-11.json",
    "ws_user_trade_taker_mined_2024-09.json",
]
QUOTE_FIELDS = {"best_bid", "best_ask", "last_trade_price", "spread"}
PRICE_FIELDS = {"price", "old_tick_size", "new_tick_size", "tick_size"}
_MAX_MS = 10**14


def _mutated_fixture(names: list[str]) -> st.SearchStrategy[Sample]:
    """A mutation of one of the named recorded payloads."""
    return st.sampled_from(names).flatmap(lambda name: mutated(load_fixture(name)))


def _values(value: Any, name: str = "") -> Iterator[tuple[str, Any]]:
    """Every (field name, value) inside a parsed result, recursively."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from _values(getattr(value, field.name), field.name)
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _values(item, name)
    else:
        yield name, value


def assert_in_range(parsed: Any) -> None:
    """Nothing out of range leaves the wire layer (module docstring)."""
    for name, value in _values(parsed):
        if isinstance(value, Decimal):
            assert value.is_finite(), (name, value)
            assert value == 0 or -30 <= value.adjusted() <= 14, (name, value)
            if name in PRICE_FIELDS:
                assert 0 < value < 1, (name, value)
            if name in QUOTE_FIELDS:
                assert 0 <= value <= 1, (name, value)
            if name in {"size", "original_size", "size_matched", "matched_amount"}:
                assert value >= 0, (name, value)
        elif isinstance(value, int) and not isinstance(value, bool) and name.endswith("_ms"):
            assert 0 < value < _MAX_MS, (name, value)
            ms_to_utc(value)
        elif isinstance(value, datetime):
            assert value.tzinfo is not None, name
    if hasattr(parsed, "remaining"):
        assert parsed.remaining >= 0


def _not_a_bug(event: Any) -> None:
    if isinstance(event, UnparsedEvent):
        assert not event.reason.startswith(DECODER_BUG), event
    else:
        assert_in_range(event)


def _into_books(events: list[Any]) -> None:
    books: dict[str, LocalBook] = {}
    for event in events:
        if isinstance(event, OrderBookSnapshot):
            books.setdefault(event.asset_id, LocalBook(event.asset_id)).apply_snapshot(event, 0.0)
        elif isinstance(event, PriceChange):
            for change in event.changes:
                book = books.setdefault(change.asset_id, LocalBook(change.asset_id))
                book.apply_change(change, event.timestamp_ms, 0.0)
    for book in books.values():
        top = book.top()
        if top is not None and top.best_bid is not None and top.best_ask is not None:
            assert 0 < top.best_bid.price < top.best_ask.price < 1


@FUZZ_SETTINGS
@given(_mutated_fixture(MARKET_FIXTURES))
def test_market_channel_frames(sample: Sample) -> None:
    document = sample.value
    objects = document if isinstance(document, list) else [document]
    events = [decode_market_event(obj) for obj in objects]
    for event in events:
        _not_a_bug(event)
    _into_books(events)
    try:
        text = orjson.dumps(document)
    except TypeError:  # an int beyond 64 bits: no venue can send it as JSON text either
        return
    for event in decode_market_frame(text):
        _not_a_bug(event)


def _position_takes(fills: list[Fill]) -> None:
    """Fills reach the ledger of an order of 5 shares and never make it hold more."""
    position = Position()
    for fill in fills:
        position.register_order(fill.order_id, fill.side, Decimal("0.5"), Decimal(5))
        position.record_fill(fill)
    assert position.position <= 5 * len({fill.order_id for fill in fills})


def _our_token_and_market(event: OrderEvent | TradeEvent) -> tuple[set[str], str]:
    if isinstance(event, OrderEvent):
        return {event.order.asset_id}, event.order.condition_id
    return {fill.asset_id for fill in event.trade.fills}, event.trade.condition_id


@FUZZ_SETTINGS
@given(_mutated_fixture(USER_FIXTURES))
def test_user_channel_events(sample: Sample) -> None:
    event = UserDecoder(OURS).decode_event(sample.value)
    _not_a_bug(event)
    if not isinstance(event, OrderEvent | TradeEvent):
        return
    tokens, condition_id = _our_token_and_market(event)
    for token in tokens:
        strategy_events = translate.user_events(
            event, token_id=token, condition_id=condition_id, ts_ms=1
        )
        _position_takes([e for e in strategy_events if isinstance(e, Fill)])


def _refused_or_in_range(parse: Any, *args: Any) -> None:
    try:
        parsed = parse(*args)
    except WireError:
        return
    assert_in_range(parsed)


@FUZZ_SETTINGS
@given(_mutated_fixture(["clob_book_2024-10.json", "clob_book_negrisk_empty_ask_2026-08.json"]))
def test_rest_books(sample: Sample) -> None:
    _refused_or_in_range(parse_book, sample.value)


@FUZZ_SETTINGS
@given(
    mutated(
        {
            "data": [
                load_fixture("ws_user_order_placement_2024-09.json"),
                load_fixture("ws_user_order_cancellation_2024-09.json"),
            ],
            "next_cursor": "LTE=",
        }
    )
)
def test_rest_order_listings(sample: Sample) -> None:
    _refused_or_in_range(parse_orders_page, sample.value)


@FUZZ_SETTINGS
@given(
    mutated(
        {
            "data": [
                load_fixture("clob_data_trades_item_2024-09.json"),
                load_fixture("ws_user_trade_maker_confirmed_2025-11.json"),
            ],
            "next_cursor": "MTAw",
        }
    )
)
def test_rest_trade_listings(sample: Sample) -> None:
    _refused_or_in_range(parse_trades_page, sample.value, OURS)


@FUZZ_SETTINGS
@given(mutated(load_fixture("clob_market_by_condition_2024.json")))
def test_rest_market_metadata(sample: Sample) -> None:
    _refused_or_in_range(parse_clob_market, sample.value)
