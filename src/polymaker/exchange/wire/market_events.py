"""Market-channel WebSocket events: one decode entry point, one frozen type per ``event_type``.

A frame is one JSON object or a JSON array of objects (polymarket_api.md 4.1). Each object
becomes one typed event; an unknown ``event_type`` or an object that fails validation becomes
an ``UnparsedEvent`` carrying its tag and the reason, for the caller to count and log. Nothing
is dropped silently and nothing raises.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from polymaker.exchange.wire import _fields as f
from polymaker.exchange.wire._decode import UnparsedEvent, decode_frame, decode_object
from polymaker.exchange.wire._fields import Side, WireError
from polymaker.exchange.wire.book import OrderBookSnapshot, parse_book


@dataclass(frozen=True, slots=True)
class LevelChange:
    """One level update of a ``price_change``: ``size`` is the new total at ``price``; 0 deletes.

    hash: the venue's book hash after this change; best_bid/best_ask: the venue's top after it
    (None in the legacy shape, which did not carry them).
    """

    asset_id: str
    side: Side
    price: Decimal
    size: Decimal
    hash: str | None
    best_bid: Decimal | None
    best_ask: Decimal | None


@dataclass(frozen=True, slots=True)
class PriceChange:
    """A ``price_change`` event: level updates, usually for both tokens of the market."""

    condition_id: str
    timestamp_ms: int
    changes: tuple[LevelChange, ...]


@dataclass(frozen=True, slots=True)
class TickSizeChange:
    """The token's tick size changed: every level on the old grid is invalid."""

    condition_id: str
    asset_id: str
    old_tick_size: Decimal
    new_tick_size: Decimal
    timestamp_ms: int


@dataclass(frozen=True, slots=True)
class LastTradePrice:
    """A trade printed on the token (``side`` is the taker's side)."""

    condition_id: str
    asset_id: str
    price: Decimal
    size: Decimal
    side: Side
    fee_rate_bps: Decimal | None
    timestamp_ms: int
    transaction_hash: str | None


@dataclass(frozen=True, slots=True)
class BestBidAsk:
    """The venue's top of book (needs ``custom_feature_enabled``); None = that side is empty."""

    condition_id: str
    asset_id: str
    best_bid: Decimal | None
    best_ask: Decimal | None
    spread: Decimal | None
    timestamp_ms: int


@dataclass(frozen=True, slots=True)
class NewMarket:
    """A market was listed (needs ``custom_feature_enabled``)."""

    market_id: str
    condition_id: str
    question: str
    slug: str | None
    asset_ids: tuple[str, ...]
    outcomes: tuple[str, ...]
    tick_size: Decimal | None
    timestamp_ms: int


@dataclass(frozen=True, slots=True)
class MarketResolved:
    """A market resolved (needs ``custom_feature_enabled``): trading on it is over."""

    condition_id: str
    winning_asset_id: str | None
    winning_outcome: str | None
    asset_ids: tuple[str, ...]
    timestamp_ms: int | None


MarketEvent = (
    OrderBookSnapshot
    | PriceChange
    | TickSizeChange
    | LastTradePrice
    | BestBidAsk
    | NewMarket
    | MarketResolved
    | UnparsedEvent
)


def _level_change(obj: Mapping[str, Any], asset_id: str) -> LevelChange:
    return LevelChange(
        asset_id=asset_id,
        side=f.side(obj, "side"),
        price=f.price(obj, "price"),
        size=f.size(obj, "size"),
        hash=f.optional_text(obj, "hash"),
        best_bid=f.quote(obj, "best_bid"),
        best_ask=f.quote(obj, "best_ask"),
    )


def _price_change(obj: Mapping[str, Any]) -> PriceChange:
    """Both shapes: batched ``price_changes[]`` (since Sept 2025) and legacy top-level fields."""
    raw = obj.get("price_changes")
    if "price_changes" not in obj:
        changes: tuple[LevelChange, ...] = (_level_change(obj, f.text(obj, "asset_id")),)
    else:
        if not isinstance(raw, list):
            raise WireError("price_changes", "expected a list")
        items = [f.require_mapping(item, "price_changes") for item in raw]
        changes = tuple(_level_change(item, f.text(item, "asset_id")) for item in items)
    return PriceChange(f.text(obj, "market"), f.epoch_ms(obj, "timestamp"), changes)


def _tick_size_change(obj: Mapping[str, Any]) -> TickSizeChange:
    new_tick = f.price(obj, "new_tick_size")
    return TickSizeChange(
        condition_id=f.text(obj, "market"),
        asset_id=f.text(obj, "asset_id"),
        old_tick_size=f.price(obj, "old_tick_size"),
        new_tick_size=new_tick,
        timestamp_ms=f.epoch_ms(obj, "timestamp"),
    )


def _last_trade_price(obj: Mapping[str, Any]) -> LastTradePrice:
    return LastTradePrice(
        condition_id=f.text(obj, "market"),
        asset_id=f.text(obj, "asset_id"),
        price=f.price(obj, "price"),
        size=f.size(obj, "size"),
        side=f.side(obj, "side"),
        fee_rate_bps=f.optional_decimal(obj, "fee_rate_bps"),
        timestamp_ms=f.epoch_ms(obj, "timestamp"),
        transaction_hash=f.optional_text(obj, "transaction_hash"),
    )


def _best_bid_ask(obj: Mapping[str, Any]) -> BestBidAsk:
    return BestBidAsk(
        condition_id=f.text(obj, "market"),
        asset_id=f.text(obj, "asset_id"),
        best_bid=f.quote(obj, "best_bid"),
        best_ask=f.quote(obj, "best_ask"),
        spread=f.quote(obj, "spread"),
        timestamp_ms=f.epoch_ms(obj, "timestamp"),
    )


def _condition_id(obj: Mapping[str, Any]) -> str:
    return f.optional_text(obj, "condition_id") or f.text(obj, "market")


def _new_market(obj: Mapping[str, Any]) -> NewMarket:
    tick = f.optional_tick(obj, "order_price_min_tick_size")
    return NewMarket(
        market_id=f.text(obj, "id"),
        condition_id=_condition_id(obj),
        question=f.text(obj, "question"),
        slug=f.optional_text(obj, "slug"),
        asset_ids=f.string_tuple(obj, "assets_ids") or f.string_tuple(obj, "clob_token_ids"),
        outcomes=f.string_tuple(obj, "outcomes"),
        tick_size=tick,
        timestamp_ms=f.epoch_ms(obj, "timestamp"),
    )


def _market_resolved(obj: Mapping[str, Any]) -> MarketResolved:
    return MarketResolved(
        condition_id=_condition_id(obj),
        winning_asset_id=f.optional_text(obj, "winning_asset_id"),
        winning_outcome=f.optional_text(obj, "winning_outcome"),
        asset_ids=f.string_tuple(obj, "assets_ids"),
        timestamp_ms=f.optional_epoch_ms(obj, "timestamp"),
    )


_PARSERS: dict[str, Callable[[Mapping[str, Any]], MarketEvent]] = {
    "book": parse_book,
    "price_change": _price_change,
    "tick_size_change": _tick_size_change,
    "last_trade_price": _last_trade_price,
    "best_bid_ask": _best_bid_ask,
    "new_market": _new_market,
    "market_resolved": _market_resolved,
}


def decode_market_frame(data: str | bytes) -> list[MarketEvent]:
    """Every event in one market-channel frame, in order (never raises)."""
    return decode_frame(data, _PARSERS)


def decode_market_event(obj: object) -> MarketEvent:
    """One already-decoded market-channel object (for replays of recorded payloads)."""
    return decode_object(obj, _PARSERS)


__all__ = [
    "BestBidAsk",
    "LastTradePrice",
    "LevelChange",
    "MarketEvent",
    "MarketResolved",
    "NewMarket",
    "PriceChange",
    "TickSizeChange",
    "UnparsedEvent",
    "decode_market_event",
    "decode_market_frame",
]
