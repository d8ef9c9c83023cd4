"""One market's YES-denominated order book: price levels with FIFO queues (internal).

Every order is stored on the YES side it is equivalent to: BUY YES at p and SELL NO at 1-p are
YES bids at p; SELL YES at p and BUY NO at 1-p are YES asks at p. Each side keeps a dict of
levels plus an ascending list of its prices (``bisect``), so the best price is an index away and
adding or removing a level costs O(levels); each level is an ``OrderedDict`` in arrival order,
so time priority, FIFO matching and cancel by id are O(1). The book records which levels an
operation touched so the engine can emit one ``BookChanged`` per call.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from polymaker.drill.views import OrderType, Outcome, Side

_ZERO = Decimal(0)


@dataclass(slots=True, eq=False)
class RestingOrder:
    """Mutable engine state of one accepted order (open or finished).

    ``price`` is in the order's own token, ``yes_price`` its YES-book equivalent; ``is_bid`` is
    its YES-book side. ``reserved`` is what the ledger still holds for it: pUSD for a BUY
    (``price * remaining``), shares for a SELL (``remaining``).
    """

    order_id: str
    owner: str
    address: str
    condition_id: str
    token_id: str
    outcome: Outcome
    side: Side
    price: Decimal
    yes_price: Decimal
    is_bid: bool
    original_size: Decimal
    order_type: OrderType
    created_ms: int
    expiration: int
    seq: int
    matched: Decimal = _ZERO
    reserved: Decimal = _ZERO
    status: str = "LIVE"
    trade_ids: list[str] = field(default_factory=list)

    @property
    def remaining(self) -> Decimal:
        """Shares still open."""
        return self.original_size - self.matched


class Level:
    """One price level: the total open size and the orders in arrival order."""

    __slots__ = ("orders", "total")

    def __init__(self) -> None:
        self.total = _ZERO
        self.orders: OrderedDict[str, RestingOrder] = OrderedDict()


class _Side:
    """One side of the YES book: levels by price and the ascending list of their prices."""

    __slots__ = ("levels", "prices")

    def __init__(self) -> None:
        self.levels: dict[Decimal, Level] = {}
        self.prices: list[Decimal] = []

    def level_for(self, price: Decimal) -> Level:
        level = self.levels.get(price)
        if level is None:
            level = Level()
            self.levels[price] = level
            bisect.insort(self.prices, price)
        return level

    def drop(self, price: Decimal) -> None:
        del self.levels[price]
        index = bisect.bisect_left(self.prices, price)
        del self.prices[index]


class YesBook:
    """Bids and asks of one market in YES terms, with change tracking for event emission."""

    def __init__(self) -> None:
        self._bids = _Side()
        self._asks = _Side()
        self._touched: dict[tuple[bool, Decimal], None] = {}

    def _side(self, is_bid: bool) -> _Side:
        return self._bids if is_bid else self._asks

    def add(self, order: RestingOrder) -> None:
        """Rest ``order`` (its remaining size) at the back of its level's queue."""
        level = self._side(order.is_bid).level_for(order.yes_price)
        level.orders[order.order_id] = order
        level.total += order.remaining
        self._touched[(order.is_bid, order.yes_price)] = None

    def remove(self, order: RestingOrder) -> None:
        """Take a resting ``order`` out of the book (cancel, expiry or close)."""
        side = self._side(order.is_bid)
        level = side.levels[order.yes_price]
        del level.orders[order.order_id]
        level.total -= order.remaining
        if not level.orders:
            side.drop(order.yes_price)
        self._touched[(order.is_bid, order.yes_price)] = None

    def reduce_front(self, is_bid: bool, price: Decimal, qty: Decimal) -> RestingOrder:
        """Fill ``qty`` of the first order at a level; the caller caps ``qty`` at its remaining.

        A fully filled order leaves the queue (and the level, if it was the last). Returns it.
        """
        side = self._side(is_bid)
        level = side.levels[price]
        order = next(iter(level.orders.values()))
        order.matched += qty
        level.total -= qty
        if order.remaining == 0:
            level.orders.popitem(last=False)
            if not level.orders:
                side.drop(price)
        self._touched[(is_bid, price)] = None
        return order

    def front(self, is_bid: bool, price: Decimal) -> RestingOrder:
        """The first (oldest) order resting at a level."""
        return next(iter(self._side(is_bid).levels[price].orders.values()))

    def best_bid(self) -> Decimal | None:
        """Highest YES bid price, None if there are no bids."""
        prices = self._bids.prices
        return prices[-1] if prices else None

    def best_ask(self) -> Decimal | None:
        """Lowest YES ask price, None if there are no asks."""
        prices = self._asks.prices
        return prices[0] if prices else None

    def crossing_prices(self, is_bid: bool, limit: Decimal) -> Iterator[Decimal]:
        """Opposite-side prices an order at ``limit`` (YES terms) can trade with, best first.

        A snapshot: the caller may empty levels while iterating.
        """
        if is_bid:
            prices = self._asks.prices
            return iter(prices[: bisect.bisect_right(prices, limit)])
        prices = self._bids.prices
        return reversed(prices[bisect.bisect_left(prices, limit) :])

    def depth(self, is_bid: bool, price: Decimal) -> Decimal:
        """Total open size at one level of one side (0 if the level does not exist)."""
        level = self._side(is_bid).levels.get(price)
        return level.total if level is not None else _ZERO

    def levels(self, is_bid: bool) -> list[tuple[Decimal, Decimal]]:
        """``(price, total)`` of one side, ascending by price."""
        side = self._side(is_bid)
        return [(p, side.levels[p].total) for p in side.prices]

    def orders(self) -> Iterator[RestingOrder]:
        """Every resting order (both sides, any order)."""
        for side in (self._bids, self._asks):
            for level in side.levels.values():
                yield from level.orders.values()

    def take_touched(self) -> list[tuple[bool, Decimal, Decimal]]:
        """``(is_bid, yes_price, new_total)`` of every level touched since the last call."""
        touched = [(b, p, self.depth(b, p)) for b, p in self._touched]
        self._touched.clear()
        return touched
