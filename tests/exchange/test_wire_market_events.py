"""Golden tests of the market-channel decoder on every recorded ws_market_* payload."""

from __future__ import annotations

import json
from decimal import Decimal

import orjson
import pytest

from polymaker.exchange.wire import (
    BestBidAsk,
    LastTradePrice,
    LevelChange,
    MarketResolved,
    NewMarket,
    OrderBookSnapshot,
    PriceChange,
    PriceLevel,
    Side,
    TickSizeChange,
    UnparsedEvent,
    decode_market_event,
    decode_market_frame,
)
from tests.conftest import load_fixture

YES_7667 = "76670567130917723816490572615540605537878462672464291990940067659127658071111"
NO_5417 = "54179564009642723353355316176091991063553046330768303687769988635499280029688"


def _frame(name: str) -> bytes:
    return orjson.dumps(load_fixture(name))


def test_book_2026_snapshot() -> None:
    [book] = decode_market_frame(_frame("ws_market_book_2026-08.json"))
    assert isinstance(book, OrderBookSnapshot)
    assert book.timestamp_ms == 1786604072222
    assert book.hash == "ed47eb91f3c7985fac1cb18cb7c19535eddd3c0a"
    assert (len(book.bids), len(book.asks)) == (7, 57)
    assert book.best_bid == PriceLevel(Decimal("0.07"), Decimal("182528.55"))
    assert book.best_ask == PriceLevel(Decimal("0.08"), Decimal("228198.28"))
    assert book.tick_size == Decimal("0.01")
    assert book.min_order_size is None and book.neg_risk is None  # the WS frame omits them


def test_book_2024_deep_snapshot() -> None:
    [book] = decode_market_frame(_frame("ws_market_book_2024-10.json"))
    assert isinstance(book, OrderBookSnapshot)
    assert (len(book.bids), len(book.asks)) == (76, 86)
    assert book.best_bid == PriceLevel(Decimal("0.511"), Decimal("1304.72"))
    assert book.best_ask == PriceLevel(Decimal("0.514"), Decimal("20230.87"))
    assert book.bids[0] == PriceLevel(Decimal("0.001"), Decimal("9000023.58"))
    assert book.tick_size is None


def test_price_change_batched() -> None:
    [event] = decode_market_frame(_frame("ws_market_price_change_batched_2026-09.json"))
    assert event == PriceChange(
        condition_id="0x285746de0e4f751fd4dc8f9dc2cecd0101ba9ad0096a43145ed9643b09514f01",
        timestamp_ms=1790658674035,
        changes=(
            LevelChange(
                YES_7667,
                Side.BUY,
                Decimal("0.301"),
                Decimal("1000"),
                "b7623b6417b3ae46dbe5d608a65474c9cec84ef9",
                Decimal("0.301"),
                Decimal("0.397"),
            ),
            LevelChange(
                NO_5417,
                Side.SELL,
                Decimal("0.699"),
                Decimal("1000"),
                "c0978ce48e525b35579b9fb4556a08538ebf265a",
                Decimal("0.603"),
                Decimal("0.699"),
            ),
        ),
    )


def test_price_change_legacy_single_level() -> None:
    [event] = decode_market_frame(_frame("ws_market_price_change_legacy_2024-08.json"))
    assert isinstance(event, PriceChange)
    assert event.timestamp_ms == 1723967931411
    [change] = event.changes
    assert change.asset_id.startswith("48331043336612883890")
    assert (change.side, change.price, change.size) == (
        Side.SELL,
        Decimal("0.514"),
        Decimal("21574.08"),
    )
    assert change.hash == "bf32b3746fff40c76c98021b7f3f07261169dd26"
    assert change.best_bid is None and change.best_ask is None


def test_recorded_stream_is_one_array_frame_book_then_15_price_changes() -> None:
    events = decode_market_frame(_frame("ws_market_stream_book_then_price_changes_2026-09.json"))
    assert isinstance(events[0], OrderBookSnapshot)
    assert events[0].best_bid == PriceLevel(Decimal("0.3"), Decimal("5000"))
    assert events[0].best_ask == PriceLevel(Decimal("0.397"), Decimal("100.09"))
    assert [type(e) for e in events[1:]] == [PriceChange] * 15
    last = events[-1]
    assert isinstance(last, PriceChange) and last.timestamp_ms == 1790658701600
    assert {c.asset_id for c in last.changes} == {YES_7667, NO_5417}


def test_tick_size_change() -> None:
    [event] = decode_market_frame(_frame("ws_market_tick_size_change_2025-02.json"))
    assert event == TickSizeChange(
        condition_id="0xbacdf04bf7f22a670dc4fb408878ec56b76f9934599829455b9371693ba84b8b",
        asset_id="115474063863764126958837769719736461272619491980773624567012766320777398670353",
        old_tick_size=Decimal("0.01"),
        new_tick_size=Decimal("0.001"),
        timestamp_ms=1739068041853,
    )


def test_last_trade_price() -> None:
    [event] = decode_market_frame(_frame("ws_market_last_trade_price_2024-08.json"))
    assert isinstance(event, LastTradePrice)
    assert (event.price, event.size, event.side) == (Decimal("0.491"), Decimal("85.36"), Side.SELL)
    assert event.fee_rate_bps == Decimal("0")
    assert event.timestamp_ms == 1724564136087
    assert event.transaction_hash is None


def test_best_bid_ask() -> None:
    [event] = decode_market_frame(_frame("ws_market_best_bid_ask_2025-12.json"))
    assert event == BestBidAsk(
        condition_id="0x0005c0d312de0be897668695bae9f32b624b4a1ae8b140c49f08447fcc74f442",
        asset_id="85354956062430465315924116860125388538595433819574542752031640332592237464430",
        best_bid=Decimal("0.73"),
        best_ask=Decimal("0.77"),
        spread=Decimal("0.04"),
        timestamp_ms=1766789469958,
    )


def test_new_market() -> None:
    [event] = decode_market_frame(_frame("ws_market_new_market_2025-12.json"))
    assert isinstance(event, NewMarket)
    assert event.market_id == "1031769"
    assert event.condition_id.startswith("0x311d0c4b")
    assert event.slug == "nvda-above-240-on-january-30-2026"
    assert event.outcomes == ("Yes", "No")
    assert len(event.asset_ids) == 2 and event.asset_ids[0].startswith("7604307375")
    assert event.tick_size == Decimal("0.01")
    assert event.timestamp_ms == 1766790415550


def test_market_resolved_documented_shape() -> None:
    # No recording exists; the shape is the one documented in polymarket_api.md 4.1.
    payload = {
        "event_type": "market_resolved",
        "market": "0xabc",
        "assets_ids": ["1", "2"],
        "winning_asset_id": "2",
        "winning_outcome": "No",
        "timestamp": "1766790415550",
    }
    assert decode_market_event(payload) == MarketResolved(
        "0xabc", "2", "No", ("1", "2"), 1766790415550
    )


def test_unknown_event_type_is_returned_with_its_tag() -> None:
    frame = json.dumps(
        [{"event_type": "fancy_new_thing"}, load_fixture("ws_market_book_2026-08.json")]
    )
    events = decode_market_frame(frame)
    assert events[0] == UnparsedEvent("fancy_new_thing", "unknown event_type")
    assert isinstance(events[1], OrderBookSnapshot)  # the rest of the frame still counts


@pytest.mark.parametrize(
    ("frame", "tag", "reason_part"),
    [
        (b"not json at all", None, "not JSON"),
        (b'"a string"', None, "expected an object"),
        (b"{}", None, "missing event_type"),
        (b'{"event_type": "book"}', "book", "market"),
        (
            b'{"event_type": "price_change", "market": "m", "timestamp": "1",'
            b' "price_changes": [{"asset_id": "a", "side": "BUY", "price": 0.5, "size": "1"}]}',
            "price_change",
            "price",
        ),
        (
            b'{"event_type": "price_change", "market": "m", "timestamp": "1",'
            b' "price_changes": [{"asset_id": "a", "side": "HOLD", "price": "0.5", "size": "1"}]}',
            "price_change",
            "side",
        ),
        (
            b'{"event_type": "last_trade_price", "market": "m", "asset_id": "a", "price": "1.5",'
            b' "size": "1", "side": "BUY", "timestamp": "1"}',
            "last_trade_price",
            "outside",
        ),
        (
            b'{"event_type": "best_bid_ask", "market": "m", "asset_id": "a", "best_bid": "-0.1",'
            b' "timestamp": "1"}',
            "best_bid_ask",
            "best_bid",
        ),
    ],
)
def test_invalid_objects_become_unparsed_events(
    frame: bytes, tag: str | None, reason_part: str
) -> None:
    [event] = decode_market_frame(frame)
    assert isinstance(event, UnparsedEvent)
    assert event.tag == tag
    assert reason_part in event.reason
