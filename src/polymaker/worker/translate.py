"""Feed updates -> strategy events (pure): only our token, only this market, nothing guessed.

The market feed already validates books (crossed, diverged, missing snapshot: invalid, never
traded on); here a valid book becomes a ``BookUpdate`` with levels best first, and anything that
makes it untrustworthy becomes ``BookInvalidated``. User-channel order and trade events become
``OrderUpdate`` and ``Fill``; everything about other markets or the other token is dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from polymaker.exchange.market_feed import BookInvalidated as FeedBookInvalidated
from polymaker.exchange.market_feed import BookUpdated, FeedState, FeedStatus, MarketUpdate
from polymaker.exchange.user_feed import Reconnected, UserUpdate
from polymaker.exchange.wire import (
    LastTradePrice,
    MarketResolved,
    OrderEvent,
    OrderEventKind,
    PriceLevel,
    TickSizeChange,
    TradeEvent,
    UnparsedEvent,
)
from polymaker.strategy.events import (
    BookInvalidated,
    BookUpdate,
    Event,
    Level,
    MarketClosed,
    OrderUpdate,
    TickSizeChanged,
    Unparsed,
)
from polymaker.worker.reconcile import order_update, strategy_fill

ZERO = Decimal(0)


def _levels(levels: Sequence[PriceLevel]) -> tuple[Level, ...]:
    return tuple(Level(level.price, level.size) for level in levels)


def book_update(update: BookUpdated, ts_ms: int) -> BookUpdate:
    """The feed's best-first levels as the strategy's book (``ts_ms``: when known current)."""
    return BookUpdate(ts_ms=ts_ms, bids=_levels(update.bids), asks=_levels(update.asks))


def market_events(
    update: MarketUpdate, *, token_id: str, condition_id: str, ts_ms: int
) -> list[Event]:
    """Strategy events for one market-feed update (empty when it is not about us)."""
    match update:
        case BookUpdated() if update.asset_id == token_id:
            return [book_update(update, ts_ms)]
        case FeedBookInvalidated() if update.asset_id == token_id:
            return [BookInvalidated(ts_ms=ts_ms)]
        case TickSizeChange() if update.asset_id == token_id:
            return [TickSizeChanged(ts_ms=ts_ms, tick_size=update.new_tick_size)]
        case MarketResolved() if update.condition_id == condition_id:
            return [MarketClosed(ts_ms=ts_ms)]
        case FeedStatus() if update.state is not FeedState.CONNECTED:
            return [BookInvalidated(ts_ms=ts_ms)]
        case _:
            return []


def _order_event(event: OrderEvent, token_id: str, ts_ms: int) -> list[Event]:
    order = event.order
    if order.asset_id != token_id:
        return []
    update = order_update(order, ts_ms)
    if event.kind is OrderEventKind.CANCELLATION and update.open:
        update = OrderUpdate(
            ts_ms=ts_ms, order_id=update.order_id, size_matched=update.size_matched, open=False
        )
    return [update]


def user_events(update: UserUpdate, *, token_id: str, condition_id: str, ts_ms: int) -> list[Event]:
    """Strategy events for one user-feed update; ``Reconnected`` is handled by the runtime."""
    match update:
        case OrderEvent() if update.order.condition_id == condition_id:
            return _order_event(update, token_id, ts_ms)
        case TradeEvent() if update.trade.condition_id == condition_id:
            return [strategy_fill(f, ts_ms) for f in update.trade.fills if f.asset_id == token_id]
        case UnparsedEvent():
            return [Unparsed(ts_ms=ts_ms, kind=f"user:{update.tag or '?'}", detail=update.reason)]
        case _:
            return []


def needs_reconcile(update: UserUpdate) -> bool:
    """True after a (re)subscription or an unreadable event: re-read orders and trades."""
    return isinstance(update, Reconnected | UnparsedEvent)


def last_trade(update: MarketUpdate, token_id: str) -> Decimal | None:
    """The printed trade price on our token, for the status file (None otherwise)."""
    if isinstance(update, LastTradePrice) and update.asset_id == token_id:
        return update.price
    return None


__all__ = ["book_update", "last_trade", "market_events", "needs_reconcile", "user_events"]
