"""Shared pieces of the drill routes: venue-style errors, wire formatting, request parsing.

Every number Polymarket sends as a string is formatted here (:func:`fmt`), so all routes and
WebSocket frames agree on ``"0.5"``/``"100"`` (no exponent, no trailing zeros).
"""

from __future__ import annotations

import base64
import hashlib
from decimal import Decimal
from typing import Any

import orjson
from aiohttp import web

from polymaker.drill.universe_gamma import iso_seconds
from polymaker.drill.universe_text import FEES, description

JSON_CONTENT_TYPE = "application/json"
START_CURSOR = "MA=="  # base64("0")
END_CURSOR = "LTE="  # base64("-1")


class ApiError(Exception):
    """A refusal answered as ``{"error": message}`` with ``status`` (never a 500)."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        self.status = status
        self.message = message
        self.extra = extra
        super().__init__(message)

    def response(self) -> web.Response:
        """The venue-style JSON error response."""
        return json_response({"error": self.message, **self.extra}, status=self.status)


def json_response(payload: Any, *, status: int = 200) -> web.Response:
    """Serialize once with orjson (Decimals must already be strings)."""
    return web.Response(body=orjson.dumps(payload), status=status, content_type=JSON_CONTENT_TYPE)


def raw_json_response(body: bytes, *, status: int = 200) -> web.Response:
    """A response from pre-serialized JSON bytes (Gamma listings)."""
    return web.Response(body=body, status=status, content_type=JSON_CONTENT_TYPE)


def fmt(value: Decimal | int | None) -> str:
    """Decimal -> the venue's decimal string: plain notation, no trailing zeros; None -> ''."""
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    normalized = value.normalize()
    if normalized == 0:
        return "0"
    return format(normalized, "f")


def book_hash(payload: dict[str, Any]) -> str:
    """SHA-1 of the compact JSON with ``hash: ""`` in the venue's key order (polymarket_api 3.1)."""
    ordered = {
        "market": payload["market"],
        "asset_id": payload["asset_id"],
        "timestamp": payload["timestamp"],
        "hash": "",
        "bids": payload["bids"],
        "asks": payload["asks"],
        "min_order_size": payload.get("min_order_size", "5"),
        "tick_size": payload["tick_size"],
        "neg_risk": payload.get("neg_risk", False),
        "last_trade_price": payload["last_trade_price"],
    }
    return hashlib.sha1(orjson.dumps(ordered)).hexdigest()


def book_payload(book: Any) -> dict[str, Any]:
    """A ``BookView`` as the REST ``/book`` object (levels worst to best, with its hash)."""
    payload: dict[str, Any] = {
        "market": book.market,
        "asset_id": book.asset_id,
        "timestamp": str(book.timestamp_ms),
        "hash": "",
        "bids": [{"price": fmt(p), "size": fmt(s)} for p, s in book.bids],
        "asks": [{"price": fmt(p), "size": fmt(s)} for p, s in book.asks],
        "min_order_size": fmt(book.min_order_size),
        "tick_size": fmt(book.tick_size),
        "neg_risk": bool(book.neg_risk),
        "last_trade_price": fmt(book.last_trade_price),
    }
    payload["hash"] = book_hash(payload)
    return payload


async def read_json(request: web.Request) -> Any:
    """The parsed JSON body; malformed or empty JSON is a 400 ``Invalid payload``."""
    raw = await request.read()
    if not raw:
        raise ApiError(400, "Invalid payload: empty body")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ApiError(400, "Invalid payload: malformed JSON") from None


def require_str(container: dict[str, Any], key: str, *, where: str = "payload") -> str:
    """A non-empty string field, or a 400 naming the field."""
    value = container.get(key)
    if not isinstance(value, str) or not value:
        raise ApiError(400, f"Invalid {where}: '{key}' must be a non-empty string")
    return value


def query_str(request: web.Request, key: str) -> str:
    """A required non-empty query parameter, or a 400 naming it."""
    value = request.query.get(key, "")
    if not value:
        raise ApiError(400, f"missing query parameter '{key}'")
    return value


def decode_cursor(cursor: str | None) -> int:
    """Offset encoded in a CLOB ``next_cursor`` (``MA==`` = start); bad cursors are a 400."""
    if not cursor or cursor == START_CURSOR:
        return 0
    try:
        offset = int(base64.b64decode(cursor, validate=True).decode())
    except ValueError:
        raise ApiError(400, "invalid next_cursor") from None
    if offset < 0:
        raise ApiError(400, "invalid next_cursor: the last page was already returned")
    return offset


def encode_cursor(offset: int) -> str:
    """The CLOB cursor for ``offset`` (``LTE=`` for none left)."""
    return base64.b64encode(str(offset).encode()).decode()


def paged(items: list[Any], cursor: str | None, limit: int) -> dict[str, Any]:
    """The CLOB ``{data, next_cursor, limit, count}`` envelope of one page."""
    start = decode_cursor(cursor)
    page = items[start : start + limit]
    more = start + limit < len(items)
    return {
        "data": page,
        "next_cursor": encode_cursor(start + limit) if more else END_CURSOR,
        "limit": limit,
        "count": len(page),
    }


def order_dict(order: Any) -> dict[str, Any]:
    """An ``OrderView`` as a ``/data/orders`` item (created_at a number, expiration a string)."""
    return {
        "id": order.id,
        "status": order.status,
        "owner": order.owner,
        "maker_address": order.maker_address,
        "market": order.market,
        "asset_id": order.asset_id,
        "side": order.side,
        "original_size": fmt(order.original_size),
        "size_matched": fmt(order.size_matched),
        "price": fmt(order.price),
        "outcome": order.outcome,
        "expiration": str(order.expiration),
        "order_type": order.order_type,
        "associate_trades": list(order.associate_trades),
        "created_at": order.created_at,
    }


def order_event(kind: str, order: Any, timestamp_ms: int) -> dict[str, Any]:
    """A user-channel ``order`` event (fixtures ws_user_order_*): every value a string."""
    doc = order_dict(order)
    doc.update(
        event_type="order",
        type=kind,
        order_owner=order.owner,
        created_at=str(order.created_at),
        associate_trades=list(order.associate_trades) or None,
        timestamp=str(timestamp_ms),
    )
    return doc


def trade_dict(trade: Any) -> dict[str, Any]:
    """A ``TradeView`` as a ``/data/trades`` item (fixture clob_data_trades_item_2024-09)."""
    fee = fmt(trade.fee_rate_bps)
    return {
        "id": trade.id,
        "taker_order_id": trade.taker_order_id,
        "market": trade.market,
        "asset_id": trade.asset_id,
        "side": trade.side,
        "size": fmt(trade.size),
        "fee_rate_bps": fee,
        "price": fmt(trade.price),
        "status": trade.status,
        "match_time": str(trade.match_time),
        "last_update": str(trade.last_update),
        "outcome": trade.outcome,
        "bucket_index": 0,
        "owner": trade.owner,
        "maker_address": trade.maker_address,
        "transaction_hash": trade.transaction_hash,
        "maker_orders": [
            {
                "order_id": fill.order_id,
                "owner": fill.owner,
                "maker_address": fill.maker_address,
                "matched_amount": fmt(fill.matched_amount),
                "price": fmt(fill.price),
                "fee_rate_bps": fee,
                "asset_id": fill.asset_id,
                "outcome": fill.outcome,
                "side": fill.side,
            }
            for fill in trade.maker_orders
        ],
        "trader_side": trade.trader_side,
    }


def trade_event(trade: Any, recipient_owner: str, timestamp_ms: int) -> dict[str, Any]:
    """A user-channel ``trade`` event for one recipient (its ``trader_side``/``trade_owner``)."""
    doc = trade_dict(trade.for_viewer(owner=recipient_owner))
    doc.update(
        event_type="trade", type="TRADE", trade_owner=recipient_owner, timestamp=str(timestamp_ms)
    )
    return doc


def new_market_event(market: Any, timestamp_ms: int) -> dict[str, Any]:
    """The market channel's ``new_market`` announcement of a universe market (the shape of the
    fixture ws_market_new_market_2025-12.json)."""
    event = market.event
    tokens = [market.yes_token, market.no_token]
    return {
        "event_type": "new_market",
        "id": market.market_id,
        "question": market.question,
        "market": market.condition_id,
        "slug": market.slug,
        "description": description(market.question, iso_seconds(market.end_ms)),
        "assets_ids": tokens,
        "outcomes": ["Yes", "No"],
        "event_message": {
            "id": event.event_id,
            "ticker": event.slug,
            "slug": event.slug,
            "title": event.title,
            "description": description(event.title, iso_seconds(event.end_ms)),
        },
        "timestamp": str(timestamp_ms),
        "tags": [FEES[market.category][3].lower()],
        "condition_id": market.condition_id,
        "active": market.active,
        "clob_token_ids": tokens,
        "sports_market_type": "",
        "line": "",
        "game_start_time": "",
        "order_price_min_tick_size": fmt(market.tick_size),
        "group_item_title": market.group_item_title,
    }
