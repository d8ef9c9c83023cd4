"""Strategy commands -> exchange calls -> answer events, one command at a time, in order.

Each command has exactly one expected answer (strategy/commands.py). A failed exchange call is
logged and turned into the most conservative answer the strategy can act on: a placement whose
outcome stays unknown is reported rejected (``other``) and the order, if it does exist, is found
and cancelled by the next reconciliation as a stray; a cancel sweep that cannot be confirmed
reports the orders as still open. Nothing here retries on its own: ``Trading`` does the bounded
retries, the strategy decides what to do next.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal

from polymaker.errors import ExchangeError
from polymaker.exchange.gateway import Accepted, OrderGateway, RejectCode
from polymaker.exchange.gateway import Side as TradeSide
from polymaker.exchange.http import JsonHttp
from polymaker.exchange.market_feed import fetch_book
from polymaker.strategy.commands import (
    CancelAll,
    CancelOrder,
    Command,
    PlaceOrder,
    RefreshBalances,
    RefreshBook,
)
from polymaker.strategy.events import (
    AllOrdersCanceled,
    BalanceRefreshed,
    BookUpdate,
    Event,
    Level,
    OrderAccepted,
    OrderCanceled,
    OrderRejected,
    OrderUpdate,
    Side,
    TickSizeChanged,
)
from polymaker.strategy.events import RejectCode as StrategyReject
from polymaker.worker.reconcile import Reconciler
from polymaker.worker.status import StatusSnapshot

log = logging.getLogger(__name__)

# Trading's closed set of refusal codes -> what the strategy distinguishes.
_STRATEGY_CODES: dict[RejectCode, StrategyReject] = {
    RejectCode.POST_ONLY_WOULD_CROSS: StrategyReject.POST_ONLY_WOULD_CROSS,
    RejectCode.NOT_ENOUGH_BALANCE: StrategyReject.NOT_ENOUGH_BALANCE,
    RejectCode.TICK_SIZE: StrategyReject.TICK,
    RejectCode.MIN_SIZE: StrategyReject.MIN_SIZE,
    RejectCode.MARKET_CLOSED: StrategyReject.MARKET_CLOSED,
    RejectCode.CLOSED_ONLY: StrategyReject.OTHER,
    RejectCode.RATE_LIMITED: StrategyReject.MARKET_NOT_READY,
    RejectCode.RESTARTING: StrategyReject.MARKET_NOT_READY,
    RejectCode.OTHER: StrategyReject.OTHER,
}


class Executor:
    """Runs commands against the exchange for one market and returns the answer events.

    tracked: ids of our orders believed open (placed and not seen closed); reconciliation
    re-reads those that vanished from the open list.
    """

    def __init__(
        self,
        trading: OrderGateway,
        reconciler: Reconciler,
        book_http: JsonHttp,
        *,
        clob_url: str,
        condition_id: str,
        token_id: str,
        cancel_timeout_s: float,
        status: StatusSnapshot,
        now_ms: Callable[[], int],
    ) -> None:
        self._trading = trading
        self._reconciler = reconciler
        self._book_http = book_http
        self._clob_url = clob_url
        self._condition_id = condition_id
        self._token_id = token_id
        self._cancel_timeout_s = cancel_timeout_s
        self._status = status
        self._now_ms = now_ms
        self.tracked: set[str] = set()
        self.tick_size: Decimal | None = None

    async def run(self, command: Command) -> list[Event]:
        """Execute one command (not ``Finish`` or ``ReconcileFills``: the runtime owns those)."""
        match command:
            case PlaceOrder():
                return [await self._place(command)]
            case CancelOrder():
                return await self._cancel(command.order_id)
            case CancelAll():
                return [await self._cancel_all()]
            case RefreshBalances():
                return await self._balances()
            case RefreshBook():
                return await self._book()
            case _:
                raise ValueError(f"not an exchange command: {command!r}")

    def _fail(self, what: str, error: ExchangeError) -> None:
        self._status.last_error = f"{what}: {error}"
        self._status.count("exchange_errors")
        log.warning("%s failed: %s", what, error)

    async def _place(self, command: PlaceOrder) -> Event:
        side: TradeSide = "BUY" if command.side is Side.BUY else "SELL"
        log.info(
            "place %s %s @ %s (%s, book %s/%s)",
            side,
            command.size,
            command.price,
            command.intent,
            command.book_best_bid,
            command.book_best_ask,
        )
        try:
            outcome = await self._trading.place_post_only(
                self._token_id, side, command.price, command.size
            )
        except ExchangeError as error:
            self._fail("place order", error)
            return OrderRejected(
                self._now_ms(),
                command.client_ref,
                StrategyReject.OTHER,
                f"outcome unknown: {error}",
            )
        if isinstance(outcome, Accepted):
            self.tracked.add(outcome.order_id)
            log.info("order %s accepted (%s)", outcome.order_id, outcome.status)
            return OrderAccepted(self._now_ms(), command.client_ref, outcome.order_id)
        self._status.count(f"rejected_{outcome.code}")
        log.info("order rejected: %s (%s)", outcome.code, outcome.message)
        return OrderRejected(
            self._now_ms(), command.client_ref, _STRATEGY_CODES[outcome.code], outcome.message
        )

    async def _cancel(self, order_id: str) -> list[Event]:
        try:
            result = await self._trading.cancel(order_id)
            if order_id in result.not_canceled:
                log.info("cancel %s refused: %s", order_id, result.not_canceled[order_id])
            final = await self._trading.get_order(order_id)
        except ExchangeError as error:
            self._fail(f"cancel {order_id}", error)
            return []
        self.tracked.discard(order_id)
        matched = final.size_matched if final.size_matched is not None else Decimal(0)
        log.info("order %s cancelled (matched %s)", order_id, matched)
        return [OrderCanceled(self._now_ms(), order_id, matched)]

    async def _cancel_all(self) -> Event:
        try:
            result = await self._trading.cancel_market(self._condition_id)
            remaining = await self._trading.confirm_no_open_orders(
                self._condition_id, timeout_s=self._cancel_timeout_s
            )
        except ExchangeError as error:
            self._fail("cancel this market's orders", error)
            return AllOrdersCanceled(self._now_ms(), open_orders=max(1, len(self.tracked)))
        still = {order.order_id for order in remaining}
        self.tracked &= still
        log.info(
            "cancelled %d order(s) of this market; %d still open", len(result.canceled), len(still)
        )
        return AllOrdersCanceled(self._now_ms(), open_orders=len(still))

    async def _balances(self) -> list[Event]:
        try:
            shares = await self._trading.token_balance(self._token_id)
            cash = await self._trading.collateral_balance()
        except ExchangeError as error:
            self._fail("read balances", error)
            return []
        return [BalanceRefreshed(self._now_ms(), shares=shares, cash=cash)]

    async def _book(self) -> list[Event]:
        try:
            snapshot = await fetch_book(self._book_http, self._clob_url, self._token_id)
        except ExchangeError as error:
            self._fail("read the book", error)
            return []
        now = self._now_ms()
        events: list[Event] = []
        if snapshot.tick_size is not None and snapshot.tick_size != self.tick_size:
            self.tick_size = snapshot.tick_size
            events.append(TickSizeChanged(now, snapshot.tick_size))
        bids = sorted(snapshot.bids, key=lambda lv: lv.price, reverse=True)
        asks = sorted(snapshot.asks, key=lambda lv: lv.price)
        events.append(
            BookUpdate(
                now,
                tuple(Level(lv.price, lv.size) for lv in bids if lv.size > 0),
                tuple(Level(lv.price, lv.size) for lv in asks if lv.size > 0),
            )
        )
        return events

    async def reconcile(self) -> list[Event]:
        """OrderUpdates and Fills from REST; strays (open, untracked) are cancelled."""
        try:
            events = await self._reconciler.events(sorted(self.tracked), self._now_ms())
        except ExchangeError as error:
            self._fail("reconcile orders and fills", error)
            return []
        kept: list[Event] = []
        for event in events:
            if isinstance(event, OrderUpdate) and event.open and event.order_id not in self.tracked:
                await self._cancel_stray(event.order_id)
                continue
            if isinstance(event, OrderUpdate) and not event.open:
                self.tracked.discard(event.order_id)
            kept.append(event)
        return kept

    async def _cancel_stray(self, order_id: str) -> None:
        """An open order of ours in this market that no command placed (a lost placement)."""
        self._status.count("stray_orders")
        log.warning("cancelling stray order %s (not placed by this run)", order_id)
        try:
            await self._trading.cancel(order_id)
        except ExchangeError as error:
            self._fail(f"cancel stray {order_id}", error)


__all__ = ["Executor"]
