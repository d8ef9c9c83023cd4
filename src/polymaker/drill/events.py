"""Events the drill matching engine emits for the server's WebSocket fan-out.

Every event is a frozen dataclass; ``Event`` is their union. Book events cover BOTH tokens of a
market (the NO book is the mirror of the YES book), so a subscriber of either token gets a
consistent view. ``timestamp_ms`` is always the engine time (``now_ms``) of the causing call.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from polymaker.drill.views import BookView, OrderView, Side, TradeView


@dataclass(frozen=True)
class LevelChange:
    """The new total ``size`` at one price level of one token (0 = level deleted).

    ``side`` is "BUY" for a bid level and "SELL" for an ask level of ``asset_id``;
    ``best_bid``/``best_ask`` are that token's best prices after the whole operation.
    """

    asset_id: str
    price: Decimal
    size: Decimal
    side: Side
    best_bid: Decimal | None
    best_ask: Decimal | None


@dataclass(frozen=True)
class BookChanged:
    """All level changes one engine call (one venue operation) made to one market, both tokens.

    ``books``: both tokens' books right after the operation, when someone watched the market
    then (the venue hashes each operation's result, so the hash must come from this state,
    not from the book when the event is sent); empty otherwise.
    """

    condition_id: str
    changes: tuple[LevelChange, ...]
    timestamp_ms: int
    books: tuple[BookView, ...] = ()


@dataclass(frozen=True)
class TradePrinted:
    """A trade printed at ``price`` for ``size`` shares in the taker's token (last_trade_price).

    ``side`` is the taker's side.
    """

    condition_id: str
    asset_id: str
    price: Decimal
    size: Decimal
    side: Side
    timestamp_ms: int


@dataclass(frozen=True)
class TickSizeChanged:
    """The market's tick size changed; emitted once per token."""

    condition_id: str
    asset_id: str
    old: Decimal
    new: Decimal
    timestamp_ms: int


@dataclass(frozen=True)
class OrderUpdate:
    """A user-channel ``order`` event for the order's owner (API key).

    PLACEMENT: once per accepted order, with its state right after placement (it may already be
    MATCHED); UPDATE: a resting order was (partly) filled; CANCELLATION: cancelled, expired,
    killed (FOK/FAK: status "CANCELED_<venue message>") or cancelled by a market close.
    """

    owner: str
    kind: Literal["PLACEMENT", "UPDATE", "CANCELLATION"]
    order: OrderView
    timestamp_ms: int


@dataclass(frozen=True)
class TradeUpdate:
    """A user-channel ``trade`` event: a trade was matched or changed status.

    ``owners`` are the API keys of the taker and every maker (deduplicated, taker first); use
    ``trade.for_viewer(owner=...)`` to get the right ``trader_side`` per recipient.
    """

    owners: tuple[str, ...]
    trade: TradeView
    timestamp_ms: int


@dataclass(frozen=True)
class MarketClosed:
    """The market was closed: its orders are cancelled and new orders are refused."""

    condition_id: str
    timestamp_ms: int


Event = BookChanged | TradePrinted | TickSizeChanged | OrderUpdate | TradeUpdate | MarketClosed
