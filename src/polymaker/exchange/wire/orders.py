"""Orders and the REST account listings: ``/data/orders`` and ``/data/trades`` pages.

One ``Order`` view serves REST items, the drill's ``/_sim/orders`` items and user-channel
``order`` events (same field set). ``size_matched`` is what counts for fills: a cancelled or
"MATCHED" order may be partially filled (reference_behaviour.md 4.9); one above
``original_size`` cannot be right and makes the order unreadable (``WireError``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from polymaker.excerpt import excerpt
from polymaker.exchange.wire import _fields as f
from polymaker.exchange.wire._fields import Side, WireError
from polymaker.exchange.wire.trades import AccountIdentity, Trade, parse_trade

_END_CURSOR = "LTE="  # the venue's "no more pages" cursor (base64 of -1)


class OrderStatus(StrEnum):
    """Order status, venue words. ``CANCELED_<reason>`` arrives as CANCELED plus a reason."""

    LIVE = "LIVE"  # resting on the book
    MATCHED = "MATCHED"  # (partly) matched; see size_matched
    DELAYED = "DELAYED"  # marketable order held by the matching delay
    UNMATCHED = "UNMATCHED"  # delayed order that then rested without matching
    CANCELED = "CANCELED"  # by us, or by the venue (cancel_reason says why)
    INVALID = "INVALID"  # refused by the operator after acceptance


@dataclass(frozen=True, slots=True)
class Order:
    """One order's state. size_matched None: the venue sent ``""`` (user channel, killed FOK).

    cancel_reason: the ``<reason>`` of a ``CANCELED_<reason>`` status (``MARKET_RESOLVED``,
    ``NOT_ENOUGH_BALANCE``, free text for killed FOK orders). expiration None = good till cancel.
    """

    order_id: str
    status: OrderStatus
    cancel_reason: str | None
    owner: str | None
    maker_address: str | None
    condition_id: str
    asset_id: str
    side: Side
    price: Decimal
    original_size: Decimal
    size_matched: Decimal | None
    outcome: str | None
    order_type: str | None
    associate_trades: tuple[str, ...]
    created_at: datetime | None
    expiration: datetime | None

    @property
    def remaining(self) -> Decimal:
        """Shares still unfilled (original minus matched; an unknown match counts as 0)."""
        matched = self.size_matched if self.size_matched is not None else Decimal(0)
        return self.original_size - matched


@dataclass(frozen=True, slots=True)
class OrdersPage:
    """One ``/data/orders`` page; next_cursor None = last page."""

    orders: tuple[Order, ...]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class TradesPage:
    """One ``/data/trades`` page; next_cursor None = last page."""

    trades: tuple[Trade, ...]
    next_cursor: str | None


def order_status(obj: Mapping[str, Any]) -> tuple[OrderStatus, str | None]:
    """The status and, for ``CANCELED_<reason>``, the reason (case of the reason kept)."""
    value = f.text(obj, "status")
    upper = value.upper()
    if upper.startswith("CANCELED_"):
        return OrderStatus.CANCELED, value[len("CANCELED_") :]
    try:
        return OrderStatus(upper), None
    except ValueError:
        raise WireError("status", f"unknown order status {excerpt(value)}") from None


def parse_order(payload: object) -> Order:
    """One order object (REST ``/data/orders`` item or user-channel ``order`` event)."""
    obj = f.require_mapping(payload, "order")
    status, reason = order_status(obj)
    original_size = f.size(obj, "original_size")
    size_matched = _optional_size(obj, "size_matched")
    if size_matched is not None and size_matched > original_size:
        raise WireError("size_matched", f"{size_matched} exceeds original_size {original_size}")
    return Order(
        order_id=f.text(obj, "id"),
        status=status,
        cancel_reason=reason,
        owner=f.optional_text(obj, "owner"),
        maker_address=f.optional_text(obj, "maker_address"),
        condition_id=f.text(obj, "market"),
        asset_id=f.optional_text(obj, "asset_id") or f.text(obj, "token_id"),
        side=f.side(obj, "side"),
        price=f.price(obj, "price"),
        original_size=original_size,
        size_matched=size_matched,
        outcome=f.optional_text(obj, "outcome"),
        order_type=f.optional_text(obj, "order_type"),
        associate_trades=f.string_tuple(obj, "associate_trades"),
        created_at=f.optional_utc(obj, "created_at"),
        expiration=f.optional_utc(obj, "expiration"),
    )


def _optional_size(obj: Mapping[str, Any], key: str) -> Decimal | None:
    value = f.optional_decimal(obj, key)
    if value is not None and value < 0:
        raise WireError(key, f"negative size {value}")
    return value


def _page_items(payload: object, what: str) -> tuple[list[Any], str | None]:
    """``{data: [...], next_cursor}`` or a bare list (the drill's ``/_sim/orders``)."""
    if isinstance(payload, list):
        return payload, None
    obj = f.require_mapping(payload, what)
    data = obj.get("data")
    if not isinstance(data, list):
        raise WireError("data", f"{what}: expected a list")
    cursor = f.optional_text(obj, "next_cursor")
    return data, None if cursor == _END_CURSOR else cursor


def parse_orders_page(payload: object) -> OrdersPage:
    """A ``GET /data/orders`` answer; raises WireError (UnexpectedResponseError) on bad items."""
    items, cursor = _page_items(payload, "orders")
    return OrdersPage(tuple(parse_order(item) for item in items), cursor)


def parse_trades_page(payload: object, account: AccountIdentity) -> TradesPage:
    """A ``GET /data/trades`` answer with ``account``'s fills derived in each trade."""
    items, cursor = _page_items(payload, "trades")
    return TradesPage(tuple(parse_trade(item, account) for item in items), cursor)


__all__ = [
    "Order",
    "OrderStatus",
    "OrdersPage",
    "TradesPage",
    "order_status",
    "parse_order",
    "parse_orders_page",
    "parse_trades_page",
]
