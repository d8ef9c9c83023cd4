"""Exchange truth -> strategy events: start-up adoption and periodic order/fill reconciliation.

The user channel is fast but has gaps (no replay after a reconnect), so ``/data/orders`` and
``/data/trades`` are re-read at start, after every user-channel reconnect, after an unreadable
user event and periodically; the strategy deduplicates fills by trade id, so replaying
everything is safe. Only this market's orders are ever touched, and only fills on our token are
forwarded (we never trade the complementary token).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from polymaker.errors import ExchangeError
from polymaker.exchange.gateway import OrderGateway
from polymaker.exchange.wire.orders import Order, OrderStatus
from polymaker.exchange.wire.trades import Fill as WireFill
from polymaker.exchange.wire.trades import TradeStatus as WireTradeStatus
from polymaker.strategy.events import Event, Fill, OrderUpdate, Side, TradeStatus

log = logging.getLogger(__name__)

ZERO = Decimal(0)
_OPEN_STATUSES = frozenset({OrderStatus.LIVE, OrderStatus.DELAYED, OrderStatus.UNMATCHED})


def strategy_trade_status(status: WireTradeStatus) -> TradeStatus:
    """The strategy's trade status for a venue status (REST-only ``MATCHED_NOT_BROADCASTED``
    is still just matched)."""
    if status is WireTradeStatus.MATCHED_NOT_BROADCASTED:
        return TradeStatus.MATCHED
    return TradeStatus(str(status))


def strategy_fill(fill: WireFill, ts_ms: int) -> Fill:
    """A wire fill of ours as the strategy's ``Fill`` event."""
    return Fill(
        ts_ms=ts_ms,
        trade_id=fill.trade_id,
        order_id=fill.order_id,
        side=Side(str(fill.side)),
        price=fill.price,
        size=fill.size,
        status=strategy_trade_status(fill.status),
    )


def order_is_open(order: Order) -> bool:
    """Still resting: live (or delayed) and not fully matched."""
    return order.status in _OPEN_STATUSES and order.remaining > ZERO


def order_update(order: Order, ts_ms: int) -> OrderUpdate:
    """An order's state as the strategy's ``OrderUpdate`` (unknown size_matched counts as 0)."""
    matched = order.size_matched if order.size_matched is not None else ZERO
    return OrderUpdate(
        ts_ms=ts_ms, order_id=order.order_id, size_matched=matched, open=order_is_open(order)
    )


@dataclass(frozen=True)
class Holding:
    """What we hold of our token at start: ``size`` from the balance, entry from our trades."""

    size: Decimal
    avg_entry: Decimal | None


def average_entry(fills: Iterable[WireFill], token_id: str) -> tuple[Decimal, Decimal | None]:
    """(position, average entry) replayed from our fills on ``token_id`` (average cost).

    FAILED trades never happened and are skipped. Fills are replayed by match time. A sell
    reduces the position at the running average; the average is None when nothing is held.
    """
    ours = [f for f in fills if f.asset_id == token_id and f.status is not WireTradeStatus.FAILED]
    ours.sort(key=lambda f: (f.match_time is None, f.match_time))
    position, cost = ZERO, ZERO
    for fill in ours:
        if str(fill.side) == "BUY":
            position += fill.size
            cost += fill.size * fill.price
        elif position > ZERO:
            sold = min(fill.size, position)
            cost -= cost * sold / position
            position -= sold
    if position <= ZERO:
        return ZERO, None
    return position, cost / position


class Reconciler:
    """Reads this market's orders and our fills and turns them into strategy events."""

    def __init__(self, trading: OrderGateway, *, condition_id: str, token_id: str) -> None:
        self._trading = trading
        self._condition_id = condition_id
        self._token_id = token_id

    async def holding(self) -> Holding:
        """The token balance (authoritative size) and the average entry of our trades."""
        balance = await self._trading.token_balance(self._token_id)
        fills = await self._trading.fills(self._condition_id)
        traded, avg = average_entry(fills, self._token_id)
        if balance != traded:
            log.info("token balance %s differs from our trades' position %s", balance, traded)
        return Holding(balance, avg)

    async def events(self, tracked_orders: Iterable[str], ts_ms: int) -> list[Event]:
        """OrderUpdates for open and vanished tracked orders, then every fill on our token.

        A tracked order missing from the open list is re-read by id to get its final
        ``size_matched``; if even that fails it is reported closed with what we knew (0).
        """
        open_orders = await self._trading.open_orders(self._condition_id)
        events: list[Event] = [
            order_update(order, ts_ms) for order in open_orders if order.asset_id == self._token_id
        ]
        open_ids = {order.order_id for order in open_orders}
        for order_id in tracked_orders:
            if order_id in open_ids:
                continue
            try:
                events.append(order_update(await self._trading.get_order(order_id), ts_ms))
            except ExchangeError as error:
                log.warning("order %s vanished and cannot be re-read: %s", order_id, error)
        for fill in await self._trading.fills(self._condition_id):
            if fill.asset_id == self._token_id:
                events.append(strategy_fill(fill, ts_ms))
        return events


__all__ = [
    "Holding",
    "Reconciler",
    "average_entry",
    "order_is_open",
    "order_update",
    "strategy_fill",
    "strategy_trade_status",
]
