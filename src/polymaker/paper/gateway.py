"""Paper trading: the worker's order gateway with simulated orders on real market data.

:class:`PaperGateway` has the methods and return types of ``exchange.trading.Trading`` that the
worker calls (place/cancel/read), so the strategy, executor and reconciler run unchanged. It
needs no credentials: public reads (market info, order books) go to the configured exchange,
orders rest locally and fill by the queue-position model (``fill_model.py``) as the market
channel reports level changes and trades. Refusals follow the venue: post-only crossing against
the current book, tick grid, minimum size, balance; the messages are the venue's, so
``classify_rejection`` gives the same codes.

Wiring (the worker): build the gateway, call :meth:`market_info` (it learns the market), feed
every raw market-channel frame to :meth:`on_frame` (:class:`PaperMarketFeed` does it), and read
our order and trade events from :meth:`user_feed` instead of the authenticated user channel.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from polymaker.errors import RequestRejectedError, UnexpectedResponseError
from polymaker.exchange.gateway import (
    Accepted,
    CancelOutcome,
    PlaceOutcome,
    RejectCode,
    Rejected,
    Side,
)
from polymaker.exchange.http import JsonHttp
from polymaker.exchange.market_feed import MarketFeed, fetch_book
from polymaker.exchange.user_feed import Reconnected, UserUpdate
from polymaker.exchange.wire import (
    AccountIdentity,
    ClobMarket,
    Fill,
    MarketEvent,
    Order,
    OrderEvent,
    OrderEventKind,
    TickSizeChange,
    TradeEvent,
    TradeStatus,
    WireError,
    decode_market_frame,
    parse_clob_market,
)
from polymaker.exchange.wire import Side as WireSide
from polymaker.paper.fill_model import PaperFill, QueueFillModel, apply_market_event
from polymaker.paper.ledger import PaperLedger, PaperOrder, paper_trade

ZERO = Decimal(0)
ONE = Decimal(1)
PAPER_ADDRESS = "0x000000000000000000000000000000000000" + "9a9e"  # not a real wallet


def wall_ms() -> int:
    """Wall-clock epoch milliseconds."""
    return time.time_ns() // 1_000_000


class PaperGateway:
    """Simulated orders, fills and balances of one paper account (see module doc).

    http: public REST reads against ``clob_url``. cash: starting paper balance (pUSD) when the
    ledger file does not exist yet. ledger_path: where fills and balances persist (None: memory
    only). clock_ms: epoch ms of placements and events without a venue timestamp.
    """

    def __init__(
        self,
        http: JsonHttp,
        clob_url: str,
        *,
        cash: Decimal,
        ledger_path: Path | None = None,
        address: str = PAPER_ADDRESS,
        clock_ms: Callable[[], int] = wall_ms,
    ) -> None:
        self._http = http
        self._clob_url = clob_url.rstrip("/")
        self._clock_ms = clock_ms
        self.address = address
        self.identity = AccountIdentity.of(f"paper-{address}", [address])
        self.skipped_items = 0
        self.ledger = PaperLedger.open(ledger_path, cash)
        self._markets: dict[str, ClobMarket] = {}
        self._market_of_token: dict[str, str] = {}
        self._models: dict[str, QueueFillModel] = {}
        self._orders: dict[str, PaperOrder] = {}
        self._events: asyncio.Queue[UserUpdate] = asyncio.Queue()
        self._ids = itertools.count(1)
        self._run = f"{clock_ms():x}"  # ids stay unique across restarts sharing one ledger

    async def aclose(self) -> None:
        """Nothing to close but the caller's HTTP client, which the caller owns."""

    # Market data --------------------------------------------------------------------------

    async def market_info(self, condition_id: str) -> ClobMarket:
        """``GET /markets/{condition_id}`` from the real exchange; the gateway learns the market."""
        url = f"{self._clob_url}/markets/{condition_id}"
        try:
            market = parse_clob_market(await self._http.get_json(url))
        except WireError as error:
            raise UnexpectedResponseError(f"{url}: {error}") from error
        self._markets[market.condition_id] = market
        for token in market.tokens:
            self._market_of_token[token.token_id] = market.condition_id
            self._models.setdefault(token.token_id, QueueFillModel(token.token_id))
        return market

    def on_frame(self, data: str | bytes) -> None:
        """Apply one raw market-channel frame (what :class:`PaperMarketFeed` forwards)."""
        for event in decode_market_frame(data):
            self.on_market_event(event)

    def on_market_event(self, event: MarketEvent) -> None:
        """Apply one market event to every token model; fills become user events."""
        if isinstance(event, TickSizeChange):
            self._on_tick_size(event)
        for model in self._models.values():
            for fill in apply_market_event(model, event):
                self._book_fill(fill)

    def _on_tick_size(self, event: TickSizeChange) -> None:
        market = self._markets.get(event.condition_id)
        if market is not None:
            self._markets[event.condition_id] = replace(market, tick_size=event.new_tick_size)

    async def _model_with_book(self, token_id: str) -> QueueFillModel:
        model = self._models[token_id]
        if not model.has_book:
            snapshot = await fetch_book(self._http, self._clob_url, token_id)
            model.on_snapshot(snapshot.bids, snapshot.asks, snapshot.timestamp_ms)
        return model

    # Orders -------------------------------------------------------------------------------

    def _refusal(
        self,
        market: ClobMarket,
        token_id: str,
        side: Side,
        price: Decimal,
        size: Decimal,
        model: QueueFillModel,
    ) -> Rejected | None:
        if not market.is_tradable:
            return Rejected(RejectCode.MARKET_CLOSED, "market is not accepting orders")
        tick = market.tick_size
        if price % tick != 0 or not tick <= price <= ONE - tick:
            message = f"order is invalid. Price ({price}) breaks minimum tick size rule: {tick}"
            return Rejected(RejectCode.TICK_SIZE, message)
        if size < market.min_order_size:
            message = (
                f"order is invalid. Size ({size}) lower than the minimum: {market.min_order_size}"
            )
            return Rejected(RejectCode.MIN_SIZE, message)
        best = model.best_ask() if side == "BUY" else model.best_bid()
        if best is not None and (price >= best if side == "BUY" else price <= best):
            return Rejected(
                RejectCode.POST_ONLY_WOULD_CROSS, "invalid post-only order: order crosses book"
            )
        if size * (price if side == "BUY" else ONE) > self._available(token_id, side):
            return Rejected(RejectCode.NOT_ENOUGH_BALANCE, "not enough balance / allowance")
        return None

    def _available(self, token_id: str, side: Side) -> Decimal:
        """Cash (BUY) or shares of ``token_id`` (SELL) not reserved by open orders."""
        open_orders = [o for o in self._orders.values() if o.is_open and str(o.side) == side]
        if side == "BUY":
            reserved = sum(((o.size - o.size_matched) * o.price for o in open_orders), ZERO)
            return self.ledger.cash - reserved
        mine = [o for o in open_orders if o.asset_id == token_id]
        reserved = sum((o.size - o.size_matched for o in mine), ZERO)
        return self.ledger.shares.get(token_id, ZERO) - reserved

    async def place_post_only(
        self, token_id: str, side: Side, price: Decimal, size: Decimal
    ) -> PlaceOutcome:
        """Rest one simulated post-only order, or refuse it the way the venue would."""
        condition_id = self._market_of_token.get(token_id)
        if condition_id is None:
            return Rejected(RejectCode.MARKET_CLOSED, f"market for token {token_id} not found")
        model = await self._model_with_book(token_id)
        refusal = self._refusal(self._markets[condition_id], token_id, side, price, size, model)
        if refusal is not None:
            return refusal
        now = self._clock_ms()
        order = PaperOrder(
            f"paper-{self._run}-{next(self._ids)}",
            condition_id,
            token_id,
            WireSide(side),
            price,
            size,
            now,
        )
        self._orders[order.order_id] = order
        model.place(order.order_id, order.side, price, size, now)
        self._emit_order(order, OrderEventKind.PLACEMENT, now)
        return Accepted(order.order_id, "live", ZERO, ZERO)

    def _book_fill(self, fill: PaperFill) -> None:
        order = self._orders[fill.order_id]
        order.size_matched += fill.size
        trade_id = f"{order.order_id}-t{len(order.trade_ids) + 1}"
        order.trade_ids.append(trade_id)
        self.ledger.record(fill, order, trade_id)
        self._emit_order(order, OrderEventKind.UPDATE, fill.timestamp_ms)
        for status in (TradeStatus.MATCHED, TradeStatus.CONFIRMED):
            trade = paper_trade(fill, order, trade_id, status, self.identity, self.address)
            self._events.put_nowait(TradeEvent(trade, fill.timestamp_ms))

    def _emit_order(self, order: PaperOrder, kind: OrderEventKind, ts_ms: int) -> None:
        self._events.put_nowait(
            OrderEvent(kind, order.as_order(self.identity, self.address), ts_ms)
        )

    async def cancel(self, order_id: str) -> CancelOutcome:
        """Cancel one paper order (unknown or already closed: ``not_canceled`` says why)."""
        order = self._orders.get(order_id)
        if order is None:
            return CancelOutcome((), {order_id: "order not found"})
        if not order.is_open:
            return CancelOutcome(
                (), {order_id: "order can't be canceled: already matched or canceled"}
            )
        self._models[order.asset_id].cancel(order_id)
        order.canceled = True
        self._emit_order(order, OrderEventKind.CANCELLATION, self._clock_ms())
        return CancelOutcome((order_id,))

    async def cancel_market(self, condition_id: str) -> CancelOutcome:
        """Cancel every open paper order of one market."""
        canceled: list[str] = []
        for order in list(self._orders.values()):
            if order.condition_id == condition_id and order.is_open:
                canceled.extend((await self.cancel(order.order_id)).canceled)
        return CancelOutcome(tuple(canceled))

    async def confirm_no_open_orders(
        self, condition_id: str, *, timeout_s: float, poll_s: float = 0.2
    ) -> list[Order]:
        """Cancel what is open in the market; paper orders are gone at once (returns [])."""
        await self.cancel_market(condition_id)
        return await self.open_orders(condition_id)

    # Reads --------------------------------------------------------------------------------

    async def open_orders(self, condition_id: str) -> list[Order]:
        """Open paper orders of one market."""
        return [
            o.as_order(self.identity, self.address)
            for o in self._orders.values()
            if o.condition_id == condition_id and o.is_open
        ]

    async def get_order(self, order_id: str) -> Order:
        """One paper order whatever its status; unknown -> 404 like the venue."""
        order = self._orders.get(order_id)
        if order is None:
            raise RequestRejectedError(f"paper {self._clob_url}", 404, "order not found")
        return order.as_order(self.identity, self.address)

    async def fills(self, condition_id: str) -> list[Fill]:
        """Every paper fill of one market (CONFIRMED), from the ledger."""
        return [
            f for f in self.ledger.fills if self.ledger.condition_of[f.trade_id] == condition_id
        ]

    async def collateral_balance(self) -> Decimal:
        """Paper cash (pUSD), open buy orders not deducted (as the venue reports it)."""
        return self.ledger.cash

    async def token_balance(self, token_id: str) -> Decimal:
        """Paper shares of ``token_id``."""
        return self.ledger.shares.get(token_id, ZERO)

    def user_feed(self) -> PaperUserFeed:
        """Our paper order and trade events, in the user channel's types."""
        return PaperUserFeed(self._events)


class PaperUserFeed:
    """Stands in for ``UserFeed``: ``Reconnected`` first (the worker then reconciles), then
    every paper ``OrderEvent``/``TradeEvent`` as it happens. Use as ``async with`` + ``async for``.
    """

    def __init__(self, events: asyncio.Queue[UserUpdate]) -> None:
        self._events = events
        self._started = False

    async def __aenter__(self) -> PaperUserFeed:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None

    def __aiter__(self) -> PaperUserFeed:
        return self

    async def __anext__(self) -> UserUpdate:
        if not self._started:
            self._started = True
            return Reconnected(1)
        return await self._events.get()


class PaperMarketFeed(MarketFeed):
    """A ``MarketFeed`` that also hands every raw frame to the paper gateway first."""

    def __init__(self, gateway: PaperGateway, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._gateway = gateway

    def on_frame(self, data: str | bytes) -> None:
        """Fill paper orders from this frame, then update the worker's books as usual."""
        self._gateway.on_frame(data)
        super().on_frame(data)


__all__ = ["PAPER_ADDRESS", "PaperGateway", "PaperMarketFeed", "PaperUserFeed", "wall_ms"]
