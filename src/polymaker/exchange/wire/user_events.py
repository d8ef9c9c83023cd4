"""User-channel WebSocket events (``order``, ``trade``): one decode entry point.

Trades carry OUR fills, derived for the account given to the decoder (see ``wire/trades.py``).
Unknown tags, unknown statuses and malformed objects become ``UnparsedEvent``: the caller
counts them and, since an order/trade update may be hidden in one, re-reads ``/data/orders``
and ``/data/trades``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from polymaker.excerpt import excerpt
from polymaker.exchange.wire import _fields as f
from polymaker.exchange.wire._decode import UnparsedEvent, decode_frame, decode_object
from polymaker.exchange.wire._fields import WireError
from polymaker.exchange.wire.orders import Order, parse_order
from polymaker.exchange.wire.trades import AccountIdentity, Trade, parse_trade


class OrderEventKind(StrEnum):
    """Why an ``order`` event was sent (wire ``type``)."""

    PLACEMENT = "PLACEMENT"
    UPDATE = "UPDATE"  # (partial) match: size_matched changed
    CANCELLATION = "CANCELLATION"


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """An ``order`` event: what happened and the order's state after it."""

    kind: OrderEventKind
    order: Order
    timestamp_ms: int


@dataclass(frozen=True, slots=True)
class TradeEvent:
    """A ``trade`` event (one per status step: MATCHED, MINED, CONFIRMED, RETRYING, FAILED)."""

    trade: Trade
    timestamp_ms: int | None


UserEvent = OrderEvent | TradeEvent | UnparsedEvent


def _order_event(obj: Mapping[str, Any]) -> OrderEvent:
    kind_text = f.text(obj, "type").upper()
    try:
        kind = OrderEventKind(kind_text)
    except ValueError:
        raise WireError("type", f"unknown order event type {excerpt(kind_text)}") from None
    return OrderEvent(kind, parse_order(obj), f.epoch_ms(obj, "timestamp"))


def _parsers(account: AccountIdentity) -> dict[str, Callable[[Mapping[str, Any]], UserEvent]]:
    def trade_event(obj: Mapping[str, Any]) -> TradeEvent:
        return TradeEvent(parse_trade(obj, account), f.optional_epoch_ms(obj, "timestamp"))

    return {"order": _order_event, "trade": trade_event}


class UserDecoder:
    """Decodes user-channel frames for one account (built once per feed, reused per frame)."""

    def __init__(self, account: AccountIdentity) -> None:
        self._parsers = _parsers(account)

    def decode_frame(self, data: str | bytes) -> list[UserEvent]:
        """Every event in one frame (object or array), in order; never raises."""
        return decode_frame(data, self._parsers)

    def decode_event(self, obj: object) -> UserEvent:
        """One already-decoded object (for replays of recorded payloads)."""
        return decode_object(obj, self._parsers)


__all__ = ["OrderEvent", "OrderEventKind", "TradeEvent", "UserDecoder", "UserEvent"]
