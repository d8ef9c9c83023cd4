"""Golden tests of the user-channel decoder on every recorded ws_user_* payload, incl. our fills."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal

import orjson
import pytest

from polymaker.exchange.wire import (
    AccountIdentity,
    Fill,
    OrderEvent,
    OrderEventKind,
    OrderStatus,
    Role,
    Side,
    TradeEvent,
    TradeStatus,
    UnparsedEvent,
    UserDecoder,
)
from tests.conftest import load_fixture

YES = "21742633143463906290569050155826241533067272736897614950488156847949938836455"
NO = "48331043336612883890938759509493159234755048973500640148014422747788308965732"
CONDITION = "0xdd22472e552920b8438158ea7238bfadfa4f736aa4cee91a6b86c39ead110917"
# The account of the 2024 order fixtures (API key = wire "owner", funder address).
OURS = AccountIdentity.of(
    "3e2c94ca-8124-c4c1-c7ea-be1ea21b71fe", ["0xa3d82ed56f4c68d2328fb8c29e568ba2caf7d7c8"]
)
NOBODY = AccountIdentity.of("00000000-dead-beef-0000-000000000000", ["0x0000000000000000000000"])


def _decode(name: str, account: AccountIdentity = OURS):
    [event] = UserDecoder(account).decode_frame(orjson.dumps(load_fixture(name)))
    return event


def test_order_placement_live() -> None:
    event = _decode("ws_user_order_placement_2024-09.json")
    assert isinstance(event, OrderEvent)
    assert event.kind is OrderEventKind.PLACEMENT
    assert event.timestamp_ms == 1725842520990
    order = event.order
    assert order.order_id == "0x0f76f4dc6eaf3332f4100f2e8a0b4a927351dd64646b7bb12f37df775c657a78"
    assert (order.status, order.cancel_reason) == (OrderStatus.LIVE, None)
    assert (order.side, order.price) == (Side.BUY, Decimal("0.513"))
    assert (order.original_size, order.size_matched, order.remaining) == (
        Decimal("5"),
        Decimal("0"),
        Decimal("5"),
    )
    assert order.condition_id == CONDITION and order.asset_id == YES
    assert order.created_at == datetime(2024, 9, 9, 0, 42, 0, tzinfo=UTC)
    assert order.expiration is None  # "0" = no expiry
    assert order.associate_trades == ()  # served as null
    assert (order.outcome, order.order_type) == ("Yes", "GTC")


def test_order_cancellation_keeps_partial_fill() -> None:
    event = _decode("ws_user_order_cancellation_2024-09.json")
    assert isinstance(event, OrderEvent)
    assert event.kind is OrderEventKind.CANCELLATION
    assert event.order.status is OrderStatus.CANCELED
    assert (event.order.side, event.order.size_matched) == (Side.SELL, Decimal("5"))
    assert event.order.remaining == Decimal("0")
    assert event.timestamp_ms == 1725841743272


def test_order_fok_killed_status_with_reason_and_empty_fields() -> None:
    event = _decode("ws_user_order_fok_killed_2026-05.json")
    assert isinstance(event, OrderEvent)
    order = event.order
    assert order.status is OrderStatus.CANCELED
    assert order.cancel_reason == (
        "order couldn't be fully filled. FOK orders are fully filled or killed."
    )
    assert order.size_matched is None  # served as ""
    assert order.remaining == Decimal("12")
    assert order.created_at is None and order.outcome is None
    assert order.order_type == "FOK"
    assert event.timestamp_ms == 1777824065000


def test_trade_as_maker_on_mined_trade_finds_our_entry_among_six() -> None:
    event = _decode("ws_user_trade_taker_mined_2024-09.json")
    assert isinstance(event, TradeEvent)
    trade = event.trade
    assert trade.status is TradeStatus.MINED
    assert (trade.side, trade.price, trade.size) == (Side.BUY, Decimal("0.518"), Decimal("1096.87"))
    assert len(trade.maker_orders) == 6
    assert trade.match_time == datetime(2024, 9, 9, 8, 0, 59, tzinfo=UTC)
    assert trade.last_update == datetime(2024, 9, 9, 8, 1, 25, tzinfo=UTC)
    assert event.timestamp_ms == 1725868885871
    assert trade.fills == (
        Fill(
            trade_id="83b5c849-620e-4c23-b63b-2e779c04a6e7",
            order_id="0xab679e56242324e15e59cfd488cd0f12e4fd71b153b9bfb57518898b9983145e",
            role=Role.MAKER,
            asset_id=YES,
            side=Side.SELL,  # no "side" on the wire: opposite of the taker's BUY, same token
            price=Decimal("0.518"),
            size=Decimal("5"),
            status=TradeStatus.MINED,
            outcome="Yes",
            fee_rate_bps=Decimal("0"),
            match_time=datetime(2024, 9, 9, 8, 0, 59, tzinfo=UTC),
        ),
    )


def test_trade_maker_on_complementary_token_is_a_buy_of_that_token() -> None:
    no_maker = AccountIdentity.of("78132bc3-22af-6aa2-79ae-11929f821cae")
    event = _decode("ws_user_trade_taker_mined_2024-09.json", no_maker)
    assert isinstance(event, TradeEvent)
    [fill] = event.trade.fills
    assert (fill.asset_id, fill.side, fill.price, fill.size, fill.outcome) == (
        NO,
        Side.BUY,
        Decimal("0.482"),
        Decimal("10"),
        "No",
    )


def test_trade_maker_confirmed_two_of_three_entries_are_ours_by_address() -> None:
    event = _decode("ws_user_trade_maker_confirmed_2025-11.json")
    assert isinstance(event, TradeEvent)
    trade = event.trade
    assert trade.status is TradeStatus.CONFIRMED
    assert trade.trader_side is Role.MAKER
    assert event.timestamp_ms == 1762776436000  # served in seconds, normalised to ms
    assert [(f.order_id[:6], f.side, f.price, f.size) for f in trade.fills] == [
        ("0x3ad0", Side.BUY, Decimal("0.4"), Decimal("5")),
        ("0x67b5", Side.BUY, Decimal("0.3"), Decimal("5")),
    ]
    assert {f.key for f in trade.fills} == {
        (trade.trade_id, trade.fills[0].order_id),
        (trade.trade_id, trade.fills[1].order_id),
    }


def test_trade_of_someone_else_has_no_fills() -> None:
    event = _decode("ws_user_trade_maker_confirmed_2025-11.json", NOBODY)
    assert isinstance(event, TradeEvent)
    assert event.trade.fills == ()


@pytest.mark.parametrize(
    "status", ["MATCHED", "MINED", "CONFIRMED", "RETRYING", "FAILED", "TRADE_STATUS_CONFIRMED"]
)
def test_every_trade_status_is_read(status: str) -> None:
    payload = copy.deepcopy(load_fixture("ws_user_trade_maker_confirmed_2025-11.json"))
    payload["status"] = status
    event = UserDecoder(OURS).decode_event(payload)
    assert isinstance(event, TradeEvent)
    assert event.trade.status is TradeStatus(status.removeprefix("TRADE_STATUS_"))
    assert {f.status for f in event.trade.fills} == {event.trade.status}


@pytest.mark.parametrize(
    ("status", "expected", "reason"),
    [
        ("MATCHED", OrderStatus.MATCHED, None),
        ("DELAYED", OrderStatus.DELAYED, None),
        ("UNMATCHED", OrderStatus.UNMATCHED, None),
        ("INVALID", OrderStatus.INVALID, None),
        ("CANCELED_MARKET_RESOLVED", OrderStatus.CANCELED, "MARKET_RESOLVED"),
        ("CANCELED_NOT_ENOUGH_BALANCE", OrderStatus.CANCELED, "NOT_ENOUGH_BALANCE"),
    ],
)
def test_order_statuses(status: str, expected: OrderStatus, reason: str | None) -> None:
    payload = copy.deepcopy(load_fixture("ws_user_order_placement_2024-09.json"))
    payload.update(status=status, type="UPDATE")
    event = UserDecoder(OURS).decode_event(payload)
    assert isinstance(event, OrderEvent)
    assert (event.kind, event.order.status, event.order.cancel_reason) == (
        OrderEventKind.UPDATE,
        expected,
        reason,
    )


@pytest.mark.parametrize(
    ("fixture", "change", "reason_part"),
    [
        ("ws_user_order_placement_2024-09.json", {"status": "SLEEPING"}, "status"),
        ("ws_user_order_placement_2024-09.json", {"type": "TELEPORT"}, "type"),
        ("ws_user_order_placement_2024-09.json", {"price": 0.513}, "price"),
        ("ws_user_order_placement_2024-09.json", {"original_size": "-5"}, "original_size"),
        ("ws_user_trade_maker_confirmed_2025-11.json", {"status": "SETTLED"}, "status"),
        ("ws_user_trade_maker_confirmed_2025-11.json", {"size": 15}, "size"),
        ("ws_user_trade_maker_confirmed_2025-11.json", {"maker_orders": {}}, "maker_orders"),
        ("ws_user_trade_maker_confirmed_2025-11.json", {"trader_side": "BOTH"}, "trader_side"),
    ],
)
def test_malformed_user_events_are_unparsed_with_tag(
    fixture: str, change: dict, reason_part: str
) -> None:
    payload = copy.deepcopy(load_fixture(fixture))
    payload.update(change)
    event = UserDecoder(OURS).decode_event(payload)
    assert isinstance(event, UnparsedEvent)
    assert event.tag == payload["event_type"]
    assert reason_part in event.reason


def test_unknown_user_event_type_and_array_frames() -> None:
    frame = orjson.dumps(
        [{"event_type": "heartbeat"}, load_fixture("ws_user_order_placement_2024-09.json")]
    )
    events = UserDecoder(OURS).decode_frame(frame)
    assert events[0] == UnparsedEvent("heartbeat", "unknown event_type")
    assert isinstance(events[1], OrderEvent)


def test_venue_error_object_is_unparsed_with_its_message() -> None:
    [event] = UserDecoder(OURS).decode_frame(b'{"error": "Unauthorized/Invalid api key"}')
    assert event == UnparsedEvent(None, "venue error: Unauthorized/Invalid api key")
