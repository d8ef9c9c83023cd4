"""Values that used to raise plain exceptions in the wire parsers end in WireError or a parse.

Timestamps: Unicode digits, thousands of digits, microseconds, nanoseconds. Decimals: huge or
tiny exponents (``1E+999999999`` decoded and later overflowed ``Decimal``). Orders matched
beyond their size. And a decoder whose parser raises anyway still never ends a feed.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest

from polymaker.exchange.wire import (
    AccountIdentity,
    LastTradePrice,
    OrderEvent,
    TradeEvent,
    UnparsedEvent,
    UserDecoder,
    WireError,
    decode_market_event,
    parse_book,
    parse_order,
    parse_orders_page,
    parse_trade,
    parse_trades_page,
)
from polymaker.exchange.wire._decode import DECODER_BUG, decode_object
from tests.conftest import load_fixture

OURS = AccountIdentity.of(
    "3e2c94ca-8124-c4c1-c7ea-be1ea21b71fe", ["0xa3D82Ed56F4c68d2328Fb8c29e568Ba2cAF7d7c8"]
)
PLACEMENT = load_fixture("ws_user_order_placement_2024-09.json")
TRADE = load_fixture("ws_user_trade_taker_mined_2024-09.json")
LAST_TRADE = load_fixture("ws_market_last_trade_price_2024-08.json")
BOOK = load_fixture("clob_book_2024-10.json")
REST_TRADE = load_fixture("clob_data_trades_item_2024-09.json")


def _with(document: dict[str, Any], **changes: Any) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    changed.update(changes)
    return changed


@pytest.mark.parametrize("timestamp", ["²", "1" * 5000, "١٢٣", "1" * 21, "-5", "12.5", "0x10"])
def test_a_market_frame_with_an_impossible_timestamp_is_unparsed(timestamp: str) -> None:
    event = decode_market_event(_with(LAST_TRADE, timestamp=timestamp))
    assert isinstance(event, UnparsedEvent)
    assert event.tag == "last_trade_price" and "timestamp" in event.reason


@pytest.mark.parametrize(
    ("timestamp", "ms"),
    [
        ("1725842520", 1725842520000),  # seconds
        ("1725842520990", 1725842520990),  # milliseconds
        ("1725842520990000", 1725842520990),  # microseconds
        ("1725842520990123456", 1725842520990),  # nanoseconds
        ("9" * 20, 99999999999999),  # 20 digits: nanoseconds, year 5138
        (1725842520990, 1725842520990),  # a JSON number
    ],
)
def test_epoch_units_are_told_apart_by_magnitude(timestamp: Any, ms: int) -> None:
    event = decode_market_event(_with(LAST_TRADE, timestamp=timestamp))
    assert isinstance(event, LastTradePrice) and event.timestamp_ms == ms


@pytest.mark.parametrize("key", ["created_at", "expiration"])
@pytest.mark.parametrize(
    ("value", "parsed"), [("1725842520990000", True), ("9" * 20, True), ("9" * 21, False)]
)
def test_order_times_in_microseconds_or_20_digits_never_raise(
    key: str, value: str, parsed: bool
) -> None:
    event = UserDecoder(OURS).decode_event(_with(PLACEMENT, **{key: value}))
    assert isinstance(event, OrderEvent) is parsed
    if parsed:
        assert isinstance(event, OrderEvent)
        when = getattr(event.order, key)
        assert when is not None and when.year < 5200
    else:
        assert isinstance(event, UnparsedEvent) and key in event.reason


@pytest.mark.parametrize("key", ["match_time", "last_update"])
@pytest.mark.parametrize("value", ["1725842520990000", "9" * 20, "9" * 21, "³³"])
def test_trade_times_never_raise(key: str, value: str) -> None:
    event = UserDecoder(OURS).decode_event(_with(TRADE, **{key: value}))
    assert isinstance(event, TradeEvent | UnparsedEvent)


def test_the_rest_listings_used_by_reconciliation_raise_only_wire_errors() -> None:
    order = _with(PLACEMENT, created_at="1" * 25)
    with pytest.raises(WireError, match="created_at"):
        parse_orders_page({"data": [order], "next_cursor": "LTE="})
    trade = _with(REST_TRADE, match_time="²")
    with pytest.raises(WireError, match="match_time"):
        parse_trades_page({"data": [trade], "next_cursor": "LTE="}, OURS)


@pytest.mark.parametrize("value", ["1E+999999999", "1e999999", "1" * 65, "1e15", "1E-31"])
def test_decimals_beyond_any_venue_value_are_refused(value: str) -> None:
    with pytest.raises(WireError, match="original_size"):
        parse_order(_with(PLACEMENT, original_size=value))


def test_decimals_at_the_edges_of_the_range_are_kept() -> None:
    order = parse_order(_with(PLACEMENT, original_size="999999999999999", size_matched="0E-40"))
    assert order.remaining == Decimal("999999999999999")
    assert parse_order(_with(PLACEMENT, original_size="1E-30")).original_size == Decimal("1E-30")


def test_an_order_matched_beyond_its_size_is_unreadable() -> None:
    with pytest.raises(WireError, match="size_matched"):
        parse_order(_with(PLACEMENT, original_size="10", size_matched="15"))
    assert parse_order(_with(PLACEMENT, original_size="10", size_matched="10")).remaining == 0


@pytest.mark.parametrize("amount", ["1e999999", "1111111111111111111", "-1"])
def test_absurd_matched_amounts_are_refused(amount: str) -> None:
    trade = copy.deepcopy(TRADE)
    trade["maker_orders"][0]["matched_amount"] = amount
    with pytest.raises(WireError, match="matched_amount"):
        parse_trade(trade, OURS)


@pytest.mark.parametrize(
    "level",
    [
        {"price": "0.5", "size": "1E+999999999"},
        {"price": "1E-999999999", "size": "5"},
        {"price": "0.5", "size": "1" * 70},
        {"price": "0.5", "size": "1E-999999999"},
    ],
)
def test_book_levels_beyond_any_venue_value_are_refused(level: dict[str, str]) -> None:
    with pytest.raises(WireError, match="bids"):
        parse_book(_with(BOOK, bids=[level]))


def test_a_parser_that_raises_anyway_becomes_an_unparsed_event(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(obj: Any) -> Any:
        return int("²")

    event = decode_object({"event_type": "book"}, {"book": broken})
    assert isinstance(event, UnparsedEvent) and event.reason.startswith(DECODER_BUG)
    assert DECODER_BUG in caplog.text


def test_a_new_market_with_a_tick_outside_the_price_range_is_unparsed() -> None:
    """Found by the fuzz tests: a tick size of 123 was accepted."""
    event = decode_market_event(
        _with(load_fixture("ws_market_new_market_2025-12.json"), order_price_min_tick_size="123")
    )
    assert isinstance(event, UnparsedEvent) and "order_price_min_tick_size" in event.reason
