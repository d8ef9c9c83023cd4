"""The paper-trading fill model: simulated resting orders fill by queue position (pure, no I/O).

Our simulated orders are not in the real book, so a fill must be inferred from what the market
shows. Each price level that holds one of our orders keeps a FIFO queue of segments: real
(displayed) volume and our orders, in arrival order. The rules, chosen to err towards fewer
fills, never more:

1. **Placement.** A new order joins behind everything displayed at its price (local book).
2. **Trade print at our price.** A print at ``p`` whose taker is on the other side (a taker
   SELL for our bid, a taker BUY for our ask) consumes the queue from the front: real volume
   ahead first, then our order, then whatever is behind it.
3. **Trade print through our price** (a taker SELL below our bid, a taker BUY above our ask):
   the market traded past us, so our orders there fill, best price first then FIFO, up to the
   print's size; real volume ahead of them is gone.
4. **Level shrinks without a print.** Cancellations are assumed to come from *behind* us: the
   displayed size is taken off the back of the queue first, so the volume ahead of us only
   shrinks when the level becomes smaller than it. Volume removed from *ahead* of one of our
   orders this way may be the venue's delta for a trade whose print has not arrived yet (the
   feed does not order the two); it is kept as a credit for ``absorb_window_ms`` and the next
   print at that price is reduced by it, so one trade is never counted twice.
5. **Level grows.** New volume joins behind us.
6. Nothing else fills: not a book that shows a crossing order, not a print on the other token,
   not a print at our price from a taker on our own side. Every fill is at our limit price,
   which the market traded at or through.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from polymaker.exchange.wire import (
    LastTradePrice,
    MarketEvent,
    OrderBookSnapshot,
    PriceChange,
    PriceLevel,
    Side,
)

ZERO = Decimal(0)
DEFAULT_ABSORB_WINDOW_MS = 2_000


@dataclass
class SimOrder:
    """One simulated resting order (mutable: ``filled`` grows as prints arrive)."""

    order_id: str
    side: Side
    price: Decimal
    size: Decimal
    placed_ms: int
    filled: Decimal = ZERO

    @property
    def remaining(self) -> Decimal:
        """Shares still resting."""
        return self.size - self.filled


@dataclass(frozen=True, slots=True)
class PaperFill:
    """A simulated fill of ``size`` at the order's own ``price``; ``through`` = rule 3."""

    order_id: str
    side: Side
    price: Decimal
    size: Decimal
    timestamp_ms: int
    trade_price: Decimal
    through: bool


@dataclass
class _Segment:
    """Real volume (``order_id`` None, ``size``) or one of our orders in a level's queue."""

    size: Decimal
    order_id: str | None = None


@dataclass
class _Queue:
    """The FIFO at one (side, price) level that holds at least one of our orders."""

    segments: list[_Segment] = field(default_factory=list)
    credits: list[tuple[int, Decimal]] = field(default_factory=list)

    def real_total(self) -> Decimal:
        return sum((s.size for s in self.segments if s.order_id is None), ZERO)

    def ahead_of(self, order_id: str) -> Decimal:
        ahead = ZERO
        for segment in self.segments:
            if segment.order_id == order_id:
                return ahead
            if segment.order_id is None:
                ahead += segment.size
        raise KeyError(order_id)

    def add_real(self, size: Decimal) -> None:
        if self.segments and self.segments[-1].order_id is None:
            self.segments[-1].size += size
        else:
            self.segments.append(_Segment(size))

    def remove_from_back(self, amount: Decimal, timestamp_ms: int) -> None:
        """Rule 4: cancellations come from behind; volume taken from ahead of us is a credit."""
        ours_behind = False
        credit = ZERO
        for segment in reversed(self.segments):
            if segment.order_id is not None:
                ours_behind = True
                continue
            cut = min(segment.size, amount)
            segment.size -= cut
            amount -= cut
            if ours_behind:
                credit += cut
            if amount <= ZERO:
                break
        self.segments = [s for s in self.segments if s.order_id is not None or s.size > ZERO]
        if credit > ZERO:
            self.credits.append((timestamp_ms, credit))

    def take_credit(self, size: Decimal, timestamp_ms: int, window_ms: int) -> Decimal:
        """The part of a print not already accounted for by a recent shrink (rule 4)."""
        self.credits = [(t, c) for t, c in self.credits if timestamp_ms - t <= window_ms]
        left = size
        while self.credits and left > ZERO:
            t, credit = self.credits[0]
            used = min(credit, left)
            left -= used
            if used == credit:
                self.credits.pop(0)
            else:
                self.credits[0] = (t, credit - used)
        return left

    def clear_real_ahead(self) -> None:
        """Rule 3: the market traded through this price; nothing real is ahead of us any more."""
        last_ours = max(i for i, s in enumerate(self.segments) if s.order_id is not None)
        self.segments = [
            s for i, s in enumerate(self.segments) if s.order_id is not None or i > last_ours
        ]


class QueueFillModel:
    """Displayed levels of one token plus our simulated orders on it (see module doc)."""

    def __init__(self, asset_id: str, *, absorb_window_ms: int = DEFAULT_ABSORB_WINDOW_MS) -> None:
        self.asset_id = asset_id
        self.absorb_window_ms = absorb_window_ms
        self.has_book = False
        self._levels: dict[Side, dict[Decimal, Decimal]] = {Side.BUY: {}, Side.SELL: {}}
        self._queues: dict[tuple[Side, Decimal], _Queue] = {}
        self._orders: dict[str, SimOrder] = {}

    # Book ---------------------------------------------------------------------------------

    def displayed(self, side: Side, price: Decimal) -> Decimal:
        """The size the market displays at ``price`` on ``side`` (0 when no level)."""
        return self._levels[side].get(price, ZERO)

    def best_bid(self) -> Decimal | None:
        """Highest displayed bid (our simulated orders are not in it)."""
        return max(self._levels[Side.BUY], default=None)

    def best_ask(self) -> Decimal | None:
        """Lowest displayed ask."""
        return min(self._levels[Side.SELL], default=None)

    def on_snapshot(
        self, bids: Iterable[PriceLevel], asks: Iterable[PriceLevel], timestamp_ms: int
    ) -> None:
        """Replace the displayed book; our queues follow the new sizes (rules 4 and 5)."""
        self._levels = {
            Side.BUY: {lv.price: lv.size for lv in bids if lv.size > ZERO},
            Side.SELL: {lv.price: lv.size for lv in asks if lv.size > ZERO},
        }
        self.has_book = True
        for (side, price), queue in self._queues.items():
            self._sync(queue, self.displayed(side, price), timestamp_ms)

    def on_level(self, side: Side, price: Decimal, size: Decimal, timestamp_ms: int) -> None:
        """One level's new displayed total (``0`` deletes it), from a ``price_change``."""
        if size > ZERO:
            self._levels[side][price] = size
        else:
            self._levels[side].pop(price, None)
        queue = self._queues.get((side, price))
        if queue is not None:
            self._sync(queue, size, timestamp_ms)

    def _sync(self, queue: _Queue, displayed: Decimal, timestamp_ms: int) -> None:
        difference = displayed - queue.real_total()
        if difference > ZERO:
            queue.add_real(difference)
        elif difference < ZERO:
            queue.remove_from_back(-difference, timestamp_ms)

    # Orders -------------------------------------------------------------------------------

    def place(
        self, order_id: str, side: Side, price: Decimal, size: Decimal, timestamp_ms: int
    ) -> Decimal:
        """Rest a simulated order (rule 1); returns the volume ahead of it."""
        if order_id in self._orders:
            raise ValueError(f"order {order_id} already rests")
        if size <= ZERO:
            raise ValueError("size must be positive")
        queue = self._queues.get((side, price))
        if queue is None:
            queue = self._queues[(side, price)] = _Queue()
            queue.add_real(self.displayed(side, price))
        else:
            self._sync(queue, self.displayed(side, price), timestamp_ms)
        queue.segments.append(_Segment(ZERO, order_id))
        self._orders[order_id] = SimOrder(order_id, side, price, size, timestamp_ms)
        return queue.ahead_of(order_id)

    def cancel(self, order_id: str) -> SimOrder | None:
        """Remove a resting order; returns it (with what it filled) or None if unknown."""
        order = self._orders.pop(order_id, None)
        if order is not None:
            self._drop_segment(order)
        return order

    def order(self, order_id: str) -> SimOrder | None:
        """A resting order (None once filled or cancelled)."""
        return self._orders.get(order_id)

    def orders(self) -> list[SimOrder]:
        """Every resting order, in placement order."""
        return list(self._orders.values())

    def queue_ahead(self, order_id: str) -> Decimal:
        """Real volume still ahead of a resting order."""
        order = self._orders[order_id]
        return self._queues[(order.side, order.price)].ahead_of(order_id)

    def _drop_segment(self, order: SimOrder) -> None:
        key = (order.side, order.price)
        queue = self._queues[key]
        queue.segments = [s for s in queue.segments if s.order_id != order.order_id]
        if all(s.order_id is None for s in queue.segments):
            del self._queues[key]

    # Trades -------------------------------------------------------------------------------

    def on_trade(
        self, price: Decimal, size: Decimal, taker_side: Side, timestamp_ms: int
    ) -> list[PaperFill]:
        """A print on this token; returns the fills it causes (rules 2, 3, 6)."""
        our_side = Side.SELL if taker_side is Side.BUY else Side.BUY
        fills = self._fill_through(our_side, price, size, timestamp_ms)
        left = size - sum((fill.size for fill in fills), ZERO)
        queue = self._queues.get((our_side, price))
        if queue is not None and left > ZERO:
            volume = queue.take_credit(left, timestamp_ms, self.absorb_window_ms)
            fills += self._fill_at(queue, volume, price, timestamp_ms)
        return fills

    def _through_levels(self, side: Side, trade_price: Decimal) -> Iterator[_Queue]:
        """Queues of ours strictly better than the print, best price first."""

        def better(price: Decimal) -> bool:
            return price > trade_price if side is Side.BUY else price < trade_price

        keys = [key for key in self._queues if key[0] is side and better(key[1])]
        keys.sort(key=lambda key: key[1], reverse=side is Side.BUY)
        return (self._queues[key] for key in keys)

    def _fill_through(
        self, side: Side, trade_price: Decimal, size: Decimal, timestamp_ms: int
    ) -> list[PaperFill]:
        fills: list[PaperFill] = []
        left = size
        for queue in list(self._through_levels(side, trade_price)):
            queue.clear_real_ahead()
            for segment in list(queue.segments):
                if left <= ZERO:
                    return fills
                if segment.order_id is not None:
                    fill = self._fill(segment.order_id, left, timestamp_ms, trade_price, True)
                    left -= fill.size
                    fills.append(fill)
        return fills

    def _fill_at(
        self, queue: _Queue, volume: Decimal, price: Decimal, timestamp_ms: int
    ) -> list[PaperFill]:
        fills: list[PaperFill] = []
        for segment in list(queue.segments):
            if volume <= ZERO:
                break
            if segment.order_id is None:
                used = min(segment.size, volume)
                segment.size -= used
                volume -= used
                continue
            fill = self._fill(segment.order_id, volume, timestamp_ms, price, False)
            volume -= fill.size
            fills.append(fill)
        if queue.segments:
            queue.segments = [s for s in queue.segments if s.order_id is not None or s.size > ZERO]
        return fills

    def _fill(
        self, order_id: str, volume: Decimal, timestamp_ms: int, trade_price: Decimal, through: bool
    ) -> PaperFill:
        order = self._orders[order_id]
        size = min(order.remaining, volume)
        order.filled += size
        if order.remaining <= ZERO:
            self._orders.pop(order_id)
            self._drop_segment(order)
        return PaperFill(
            order_id, order.side, order.price, size, timestamp_ms, trade_price, through
        )


def apply_market_event(model: QueueFillModel, event: MarketEvent) -> list[PaperFill]:
    """Feed one market-channel event to ``model``; events about other tokens are ignored."""
    match event:
        case OrderBookSnapshot() if event.asset_id == model.asset_id:
            model.on_snapshot(event.bids, event.asks, event.timestamp_ms)
        case PriceChange():
            for change in event.changes:
                if change.asset_id == model.asset_id:
                    model.on_level(change.side, change.price, change.size, event.timestamp_ms)
        case LastTradePrice() if event.asset_id == model.asset_id:
            return model.on_trade(event.price, event.size, event.side, event.timestamp_ms)
        case _:
            pass
    return []


__all__ = [
    "DEFAULT_ABSORB_WINDOW_MS",
    "PaperFill",
    "QueueFillModel",
    "SimOrder",
    "apply_market_event",
]
