"""State and bookkeeping behind ``MatchingEngine`` (internal): indexes, reservations, events.

Kept apart from ``engine.py`` so the public class reads as the API. Everything here is pure:
time comes in as ``now_ms``, ids are counters, no I/O and no global random.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from decimal import Decimal
from typing import Literal

from polymaker.drill._book import RestingOrder
from polymaker.drill._market import Market
from polymaker.drill._trades import TradeRecord, confirm_legs, trade_id_for, tx_hash_for
from polymaker.drill.events import Event, OrderUpdate, TradePrinted, TradeUpdate
from polymaker.drill.ledger import Account, Ledger
from polymaker.drill.views import OrderRequest, OrderView, PlaceResult

_ZERO = Decimal(0)
EXPIRED = "CANCELED_EXPIRED_ORDER"
MARKET_RESOLVED = "CANCELED_MARKET_RESOLVED"
NOT_ENOUGH_BALANCE_STATUS = "CANCELED_NOT_ENOUGH_BALANCE"


def _nobody_watches(condition_id: str) -> bool:
    """The engine on its own (tests, tools): no book events are watched."""
    return False


def refused(order_id: str, error: str) -> PlaceResult:
    """A refusal in the venue's reply shape."""
    return PlaceResult(False, error, order_id, "unmatched", _ZERO, _ZERO, [])


def order_view(order: RestingOrder) -> OrderView:
    """The public view of an order's current state."""
    return OrderView(
        id=order.order_id,
        status=order.status,
        owner=order.owner,
        maker_address=order.address,
        market=order.condition_id,
        asset_id=order.token_id,
        side=order.side,
        original_size=order.original_size,
        size_matched=order.matched,
        price=order.price,
        outcome=order.outcome,
        order_type=order.order_type,
        created_at=order.created_ms // 1000,
        expiration=order.expiration,
        associate_trades=tuple(order.trade_ids),
    )


class EngineCore:
    """Indexes of orders and trades, the settlement and expiry schedules, and the event queue."""

    def __init__(self, ledger: Ledger, *, settle_delays_ms: tuple[int, int] = (1000, 2000)) -> None:
        if min(settle_delays_ms) < 0:
            raise ValueError(f"settle delays must not be negative: {settle_delays_ms}")
        self.ledger = ledger
        self._mined_after = settle_delays_ms[0]
        self._confirmed_after = max(settle_delays_ms)
        self._markets: dict[str, Market] = {}
        self._by_token: dict[str, Market] = {}
        self._orders: dict[str, RestingOrder] = {}
        self._open: dict[str, RestingOrder] = {}
        self._open_by_address: dict[str, dict[str, RestingOrder]] = {}
        self._trades: dict[str, TradeRecord] = {}
        self._trades_by_address: dict[str, list[str]] = {}
        self._expiries: list[tuple[int, int, str]] = []
        self._settlements: list[tuple[int, int, int, str]] = []
        self._events: list[Event] = []
        # Whether anyone watches a market's book events (the server's WebSocket hub says):
        # only then does a BookChanged carry the books its hash is computed from.
        self.watched: Callable[[str], bool] = _nobody_watches
        self._seq = 0
        self._trade_serial = 0

    def __getstate__(self) -> dict[str, object]:
        """A saved drill world keeps the engine's state, not the live hub's ``watched`` hook."""
        state = dict(self.__dict__)
        state["watched"] = _nobody_watches
        return state

    def _next_trade_id(self) -> str:
        self._trade_serial += 1
        return trade_id_for(self._trade_serial)

    def _new_order(self, req: OrderRequest, market: Market, now_ms: int) -> RestingOrder:
        is_yes = req.token_id == market.spec.yes_token
        self._seq += 1
        return RestingOrder(
            order_id=req.order_id,
            owner=req.owner,
            address=req.maker_address.lower(),
            condition_id=market.spec.condition_id,
            token_id=req.token_id,
            outcome="Yes" if is_yes else "No",
            side=req.side,
            price=req.price,
            yes_price=req.price if is_yes else 1 - req.price,
            is_bid=(req.side == "BUY") == is_yes,
            original_size=req.size,
            order_type=req.order_type,
            created_ms=now_ms,
            expiration=req.expiration,
            seq=self._seq,
        )

    # ----- reservations --------------------------------------------------------------------
    def _reserve(self, account: Account, order: RestingOrder) -> bool:
        """Hold what the whole order needs; False if short or without allowance."""
        if not account.allowance:
            return False
        if order.side == "BUY":
            amount = order.price * order.original_size
            ok = account.reserve_cash(amount)
        else:
            amount = order.original_size
            ok = account.reserve_shares(order.token_id, amount)
        if ok:
            order.reserved = amount
        return ok

    def _release_all(self, order: RestingOrder) -> None:
        """Give back whatever the order still holds."""
        if not order.reserved:
            return
        account = self.ledger.ensure(order.address)
        if order.side == "BUY":
            account.release_cash(order.reserved)
        else:
            account.release_shares(order.token_id, order.reserved)
        order.reserved = _ZERO

    # ----- order lifecycle -----------------------------------------------------------------
    def _kill(self, order: RestingOrder, message: str, now_ms: int) -> PlaceResult:
        """An accepted FOK/FAK that did not trade: recorded, cancelled with the venue message."""
        self._release_all(order)
        order.status = f"CANCELED_{message}"
        self._orders[order.order_id] = order
        self._events.append(OrderUpdate(order.owner, "CANCELLATION", order_view(order), now_ms))
        return refused(order.order_id, message)

    def _rest(self, market: Market, order: RestingOrder) -> None:
        market.book.add(order)
        self._open[order.order_id] = order
        self._open_by_address.setdefault(order.address, {})[order.order_id] = order
        if order.order_type == "GTD":
            heapq.heappush(self._expiries, (order.expiration * 1000, order.seq, order.order_id))

    def _unindex(self, order: RestingOrder) -> None:
        del self._open[order.order_id]
        mine = self._open_by_address[order.address]
        del mine[order.order_id]
        if not mine:
            del self._open_by_address[order.address]

    def _cancel_order(self, order: RestingOrder, status: str, now_ms: int) -> None:
        """Take an open order off the book and release its reservation (no book event yet)."""
        self._markets[order.condition_id].book.remove(order)
        self._release_all(order)
        self._unindex(order)
        order.status = status
        self._events.append(OrderUpdate(order.owner, "CANCELLATION", order_view(order), now_ms))

    def _flush_book(self, market: Market, now_ms: int) -> None:
        watched = self.watched(market.spec.condition_id)
        event = market.take_book_changed(now_ms, with_books=watched)
        if event is not None:
            self._events.append(event)

    def _filter_open(
        self,
        address: str | None,
        condition_id: str | None,
        token_id: str | None,
        order_id: str | None,
    ) -> list[RestingOrder]:
        """Open orders passing every given filter, oldest first."""
        if order_id is not None:
            found = self._open.get(order_id)
            pool = [] if found is None else [found]
        elif address is not None:
            pool = list(self._open_by_address.get(address, {}).values())
        elif token_id is not None or condition_id is not None:
            if token_id:
                market = self._by_token.get(token_id)
            else:
                market = None if condition_id is None else self._markets.get(condition_id)
            pool = [] if market is None else list(market.book.orders())
        else:
            pool = list(self._open.values())
        chosen = [
            o
            for o in pool
            if (address is None or o.address == address)
            and (condition_id is None or o.condition_id == condition_id)
            and (token_id is None or o.token_id == token_id)
        ]
        chosen.sort(key=lambda o: o.seq)
        return chosen

    # ----- placement outcome ---------------------------------------------------------------
    def _emit_placement(
        self,
        market: Market,
        order: RestingOrder,
        trades: list[TradeRecord],
        makers: list[RestingOrder],
        now_ms: int,
    ) -> None:
        """Index the new trades and emit: PLACEMENT, trade events, maker UPDATEs, book."""
        events = self._events
        events.append(OrderUpdate(order.owner, "PLACEMENT", order_view(order), now_ms))
        for record in trades:
            self._trades[record.trade_id] = record
            for address in record.addresses:
                self._trades_by_address.setdefault(address, []).append(record.trade_id)
            self._schedule(now_ms + self._mined_after, 0, record.trade_id)
            self._schedule(now_ms + self._confirmed_after, 1, record.trade_id)
            events.append(TradeUpdate(record.owners, record.view(), now_ms))
            events.append(
                TradePrinted(
                    market.spec.condition_id,
                    record.asset_id,
                    record.price,
                    record.size,
                    record.side,
                    now_ms,
                )
            )
        for maker in makers:
            if maker.remaining == 0:
                self._unindex(maker)
            events.append(OrderUpdate(maker.owner, "UPDATE", order_view(maker), now_ms))
        self._flush_book(market, now_ms)

    @staticmethod
    def _accepted(order: RestingOrder, trades: list[TradeRecord]) -> PlaceResult:
        """The venue-shaped reply for an accepted order (amounts gross of the taker fee)."""
        shares = sum((t.size for t in trades), _ZERO)
        cash = sum((t.size * t.price for t in trades), _ZERO)
        making, taking = (cash, shares) if order.side == "BUY" else (shares, cash)
        status: Literal["matched", "live"] = "matched" if trades else "live"
        trade_ids = [t.trade_id for t in trades]
        return PlaceResult(True, "", order.order_id, status, making, taking, trade_ids)

    # ----- time ----------------------------------------------------------------------------
    def _schedule(self, due_ms: int, step: int, trade_id: str) -> None:
        """Queue a settlement step; ties at one instant run in scheduling order."""
        self._seq += 1
        heapq.heappush(self._settlements, (due_ms, self._seq, step, trade_id))

    def _catch_up(self, now_ms: int) -> None:
        """Apply every settlement step and GTD expiry due at or before ``now_ms``."""
        settlements = self._settlements
        while settlements and settlements[0][0] <= now_ms:
            _, _, step, trade_id = heapq.heappop(settlements)
            self._settle_step(self._trades[trade_id], step, now_ms)
        expiries = self._expiries
        touched: dict[str, Market] = {}
        while expiries and expiries[0][0] <= now_ms:
            _, seq, order_id = heapq.heappop(expiries)
            order = self._open.get(order_id)
            if order is not None and order.seq == seq:
                self._cancel_order(order, EXPIRED, now_ms)
                touched[order.condition_id] = self._markets[order.condition_id]
        for market in touched.values():
            self._flush_book(market, now_ms)

    def _settle_step(self, record: TradeRecord, step: int, now_ms: int) -> None:
        """Step 0: MATCHED -> MINED (hash attached); step 1: MINED -> CONFIRMED (shares settle)."""
        if step == 0 and record.status == "MATCHED":
            record.status = "MINED"
            record.transaction_hash = tx_hash_for(record.trade_id)
        elif step == 1 and record.status == "MINED":
            record.status = "CONFIRMED"
            confirm_legs(self.ledger, record.legs)
        else:
            return
        record.last_update_ms = now_ms
        self._events.append(TradeUpdate(record.owners, record.view(), now_ms))

    def _cover_shortfall(self, account: Account, now_ms: int) -> None:
        """After a reversal, cancel the account's open BUYs (newest first) while it is short."""
        if account.available >= 0:
            return
        mine = self._open_by_address.get(account.address, {})
        buys = sorted((o for o in mine.values() if o.side == "BUY"), key=lambda o: -o.seq)
        touched: dict[str, Market] = {}
        for order in buys:
            if account.available >= 0:
                break
            self._cancel_order(order, NOT_ENOUGH_BALANCE_STATUS, now_ms)
            touched[order.condition_id] = self._markets[order.condition_id]
        for market in touched.values():
            self._flush_book(market, now_ms)
