"""Order-book snapshots: REST ``GET /book``, ``POST /books`` and the WebSocket ``book`` event.

All three share one shape (polymarket_api.md 3.1, 4.1). Levels are kept in the order served
(bids ascending, asks descending: the best level is the *last* element), because the venue's
book hash is computed over that order; ``best_bid``/``best_ask`` never rely on it.

Two generations are accepted: the current one (``tick_size``, ``min_order_size``, ``neg_risk``,
``last_trade_price``; the WebSocket frame omits ``min_order_size``/``neg_risk``) and the 2024
one without those fields (they become None).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from polymaker.excerpt import excerpt
from polymaker.exchange.wire import _fields as f
from polymaker.exchange.wire._fields import WireError

_ZERO = Decimal(0)
_ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class PriceLevel:
    """One price level: ``size`` shares resting at ``price``."""

    price: Decimal
    size: Decimal


@dataclass(frozen=True, slots=True)
class OrderBookSnapshot:
    """A full book of one outcome token at ``timestamp_ms``.

    condition_id: the market (wire ``market``); asset_id: the token.
    bids/asks: levels in served order (worst to best). tick_size, min_order_size, neg_risk,
    last_trade_price: None when the payload lacks them (2024 shape, WebSocket frames) or sends
    ``""`` (no trade yet).
    """

    condition_id: str
    asset_id: str
    timestamp_ms: int
    hash: str | None
    bids: tuple[PriceLevel, ...]
    asks: tuple[PriceLevel, ...]
    tick_size: Decimal | None
    min_order_size: Decimal | None
    neg_risk: bool | None
    last_trade_price: Decimal | None

    @property
    def time(self) -> datetime:
        """``timestamp_ms`` as a UTC datetime."""
        return f.ms_to_utc(self.timestamp_ms)

    @property
    def best_bid(self) -> PriceLevel | None:
        """The highest bid, found by price (not by position)."""
        return max(self.bids, key=_price, default=None)

    @property
    def best_ask(self) -> PriceLevel | None:
        """The lowest ask, found by price (not by position)."""
        return min(self.asks, key=_price, default=None)


def _price(level: PriceLevel) -> Decimal:
    return level.price


def parse_levels(obj: Mapping[str, Any], key: str) -> tuple[PriceLevel, ...]:
    """A list of ``{price, size}`` string pairs; an absent or null list is empty.

    Inlined rather than built on the generic field readers: deep books carry hundreds of
    levels and arrive on every subscribe and after trades. Same rules: decimal strings of at
    most 64 characters, 1e-30 <= price < 1, size 0 or 1e-30 <= size < 1e15.
    """
    raw = obj.get(key)
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise WireError(key, "expected a list of levels")
    levels = []
    try:
        for item in raw:
            price_text, size_text = item["price"], item["size"]
            if type(price_text) is not str or type(size_text) is not str:
                raise WireError(key, f"price and size must be decimal strings: {excerpt(item)}")
            if len(price_text) > f.MAX_DECIMAL_TEXT or len(size_text) > f.MAX_DECIMAL_TEXT:
                raise WireError(key, "level price or size text too long")
            price, size = Decimal(price_text), Decimal(size_text)
            if not (
                _ZERO < price < _ONE
                and price.adjusted() >= f.MIN_ADJUSTED
                and size.is_finite()
                and size >= _ZERO
                and (not size or f.MIN_ADJUSTED <= size.adjusted() <= f.MAX_ADJUSTED)
            ):
                raise WireError(key, f"level out of range: {excerpt(item)}")
            levels.append(PriceLevel(price, size))
    except (TypeError, KeyError, InvalidOperation):
        raise WireError(key, "levels must be objects with decimal-string price and size") from None
    return tuple(levels)


def parse_book(payload: object) -> OrderBookSnapshot:
    """One book object (REST ``/book`` body, one ``/books`` item or a WS ``book`` event).

    Raises WireError (an ``UnexpectedResponseError``) naming the bad key.
    """
    obj = f.require_mapping(payload, "book")
    tick_size = f.optional_tick(obj, "tick_size")
    min_order_size = f.optional_decimal(obj, "min_order_size")
    if min_order_size is not None and min_order_size < 0:
        raise WireError("min_order_size", f"negative minimum {min_order_size}")
    return OrderBookSnapshot(
        condition_id=f.text(obj, "market"),
        asset_id=f.text(obj, "asset_id"),
        timestamp_ms=f.epoch_ms(obj, "timestamp"),
        hash=f.optional_text(obj, "hash"),
        bids=parse_levels(obj, "bids"),
        asks=parse_levels(obj, "asks"),
        tick_size=tick_size,
        min_order_size=min_order_size,
        neg_risk=f.optional_bool(obj, "neg_risk"),
        last_trade_price=f.quote(obj, "last_trade_price"),
    )


def parse_books(payload: object) -> tuple[OrderBookSnapshot, ...]:
    """The ``POST /books`` answer: a JSON array of book objects."""
    if not isinstance(payload, list):
        raise WireError("books", "expected a list of books")
    return tuple(parse_book(item) for item in payload)


__all__ = ["OrderBookSnapshot", "PriceLevel", "parse_book", "parse_books", "parse_levels"]
