"""Event intake of the strategy: validate each event and fold it into the facts.

Nothing here decides to trade; bad or surprising input is counted under a reason (shown in the
snapshot's ``ignored``) and never reaches a decision. ``Strategy`` (machine.py) adds the
decisions on top of this mixin.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter, OrderedDict, deque
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from polymaker.config.strategy import StrategyParams
from polymaker.strategy import pricing
from polymaker.strategy.book import BookView, book_problem
from polymaker.strategy.commands import (
    CancelOrder,
    Command,
    ReconcileFills,
    RefreshBalances,
    RefreshBook,
)
from polymaker.strategy.events import (
    AllOrdersCanceled,
    BalanceRefreshed,
    BookInvalidated,
    BookUpdate,
    Event,
    Fill,
    FlattenRequested,
    MarketClosed,
    OrderAccepted,
    OrderCanceled,
    OrderRejected,
    OrderUpdate,
    PositionAdopted,
    RejectCode,
    StopRequested,
    TickSizeChanged,
    Timer,
    Unparsed,
)
from polymaker.strategy.market import MarketInfo
from polymaker.strategy.orders import OrderSlot, SlotOrder
from polymaker.strategy.position import FillOutcome, Position
from polymaker.strategy.signals import RollingHigh
from polymaker.strategy.states import ExitReason, State

_HISTORY = 256  # transitions kept for the log / tests (a long run must not grow without bound)
_BAD_DATA_KEYS = 256  # bad reports remembered, so each asks for one reconciliation only
_IGNORED_FILLS = frozenset(
    {
        FillOutcome.EARLY,
        FillOutcome.UNKNOWN_ORDER,
        FillOutcome.SIDE_MISMATCH,
        FillOutcome.BAD_VALUES,
    }
)


class IntakeMixin(ABC):
    """Facts of one market's strategy and the per-event handlers that update them."""

    def __init__(self, params: StrategyParams, market: MarketInfo, now_ms: int) -> None:
        self._p = params
        self._tick = market.tick_size
        self._min_size = market.min_order_size
        self._end_ms = market.end_time_ms
        self._sell_only_ms = market.end_time_ms - self._ms(params.sell_only_minutes_before_end * 60)
        self._ack_ms = self._ms(params.order_ack_timeout_s)
        self._cancel_ms = self._ms(params.cancel_timeout_s)
        self._stop_timeout_ms = self._ms(params.stop_timeout_s)
        self._now = now_ms
        self._state = State.STARTING
        self._state_since = now_ms
        self._history: deque[tuple[int, State, State, str]] = deque(maxlen=_HISTORY)
        self._ledger = Position()
        self._slot = OrderSlot()
        self._signal = RollingHigh(
            self._ms(params.drop_window_minutes * 60), self._ms(params.signal_sample_s)
        )
        self._book: BookView | None = None
        self._book_after: int | None = None  # need a book newer than this (post-only reject)
        self._ghost: tuple[SlotOrder, Decimal, int] | None = None  # gone order, size, when
        self._balance_wait: int | None = None  # placing waits for a balance read since then
        self._retry_at = 0
        self._reject_streak = 0
        self._stop_requested = False
        self._force_stop = False
        self._flatten = False
        self._market_closed = False
        self._start_swept = False
        self._exit_reason: ExitReason | None = None
        self._last_error: str | None = None
        self._ignored: Counter[str] = Counter()
        self._bad_data: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._out: list[Command] = []

    # -- public entry point -----------------------------------------------------------------
    def handle(self, event: Event) -> list[Command]:
        """Fold one event in and return the commands to execute, in order."""
        if self._state == State.DONE:
            self._count("after_done")
            return []
        handler = _HANDLERS.get(type(event))
        if handler is None:
            self._count(f"unknown_event:{type(event).__name__}")
            return []
        self._now = max(self._now, event.ts_ms)
        handler(self, event)
        self._evaluate()
        out, self._out = self._out, []
        return out

    @abstractmethod
    def _evaluate(self) -> None:
        """Re-decide after the facts changed (Strategy implements the decisions)."""

    # -- helpers -----------------------------------------------------------------------------
    @staticmethod
    def _ms(seconds: float) -> int:
        return round(seconds * 1000)

    def _count(self, reason: str) -> None:
        self._ignored[reason] += 1

    def _refuse_bad_data(self, reason: str, key: tuple[str, str], detail: str) -> None:
        """A report that cannot be right (a fill beyond its order): count it, never apply it,
        and re-read the exchange's truth once per report (the same bad report from REST must
        not loop into reconciliation after reconciliation)."""
        self._count(reason)
        self._last_error = f"bad exchange data ignored: {detail}"
        if key in self._bad_data:
            return
        self._bad_data[key] = None
        if len(self._bad_data) > _BAD_DATA_KEYS:
            self._bad_data.popitem(last=False)
        self._out.append(ReconcileFills())

    def _note_fill(self, fill: Fill, outcome: FillOutcome) -> None:
        if outcome is FillOutcome.OVERSIZED:
            detail = f"fill of {fill.size} on order {fill.order_id} exceeds what is left of it"
            self._refuse_bad_data("fill_oversized", (fill.trade_id, fill.order_id), detail)
        elif outcome in _IGNORED_FILLS:
            self._count(f"fill_{outcome.value}")

    @property
    def _sell_only(self) -> bool:
        return self._flatten or self._now >= self._sell_only_ms

    @property
    def _sell_only_reason(self) -> ExitReason:
        """Why a sell-only run ends once nothing (sellable) is left."""
        return ExitReason.FLATTENED if self._flatten else ExitReason.SELL_ONLY_DONE

    def _fresh_book(self) -> BookView | None:
        """The book if it may be traded on: present, recent, newer than a post-only refusal."""
        book = self._book
        if book is None or self._now - book.ts_ms > self._ms(self._p.stale_book_s):
            return None
        if self._book_after is not None and book.ts_ms <= self._book_after:
            return None
        return book

    def _remaining(self, order: SlotOrder) -> Decimal:
        if order.order_id is None:
            return order.size
        return max(order.size - self._ledger.order_filled(order.order_id), Decimal(0))

    def _may_place(self) -> bool:
        if not self._slot.idle or self._now < self._retry_at:
            return False
        if self._balance_wait is not None:
            if self._now - self._balance_wait >= self._ms(self._p.settle_poll_s):
                self._balance_wait = self._now
                self._out.append(RefreshBalances())
            return False
        return self._fresh_book() is not None

    def _back_off(self) -> None:
        """Exponential backoff after repeated refusals, so no refusal becomes a tight loop."""
        self._reject_streak += 1
        base = max(self._p.min_requote_interval_s, 1.0)
        delay = min(base * 2 ** (self._reject_streak - 1), self._p.max_retry_backoff_s)
        self._retry_at = self._now + self._ms(delay)

    def _others(self, book: BookView) -> BookView:
        """The book without our own order: the working one, and a just-cancelled one that a
        book no newer than its cancel confirmation still shows."""
        own = self._slot.working()
        if own is not None:
            book = book.without_own(own.side, own.price, self._remaining(own))
        ghost = self._ghost
        if ghost is not None and book.ts_ms <= ghost[2]:
            book = book.without_own(ghost[0].side, ghost[0].price, ghost[1])
        return book

    def _sample_signal(self) -> None:
        book = self._fresh_book()
        if book is None:
            return
        best_bid = self._others(book).best_bid
        if best_bid is not None:
            self._signal.observe(self._now, best_bid)

    # -- handlers ----------------------------------------------------------------------------
    def _on_book(self, event: BookUpdate) -> None:
        problem = book_problem(event)
        if problem is not None:
            self._count(problem)
            self._book = None
            return
        self._book = BookView.from_update(event)
        self._sample_signal()

    def _on_book_invalidated(self, event: BookInvalidated) -> None:
        self._book = None

    def _on_tick(self, event: TickSizeChanged) -> None:
        if not pricing.valid_tick(event.tick_size):
            self._count("bad_tick_size")
            return
        if event.tick_size != self._tick:
            self._tick = event.tick_size
            self._book = None  # old-grid levels are invalid; wait for the new book
            self._out.append(RefreshBook())

    def _on_accepted(self, event: OrderAccepted) -> None:
        order = self._slot.accepted(self._now, event.client_ref, event.order_id)
        if order is None:
            self._count("unknown_client_ref")
            return
        early = self._ledger.register_order(event.order_id, order.side, order.price, order.size)
        for fill, outcome in early:
            self._note_fill(fill, outcome)
        self._reject_streak = 0
        if event.order_id in self._slot.strays:
            self._out.append(CancelOrder(event.order_id))

    def _on_rejected(self, event: OrderRejected) -> None:
        order = self._slot.rejected(event.client_ref)
        if order is None:
            self._count("unknown_client_ref")
            return
        code = event.code
        if code != RejectCode.POST_ONLY_WOULD_CROSS:  # that one is routine: the book moved
            self._last_error = f"{order.side} rejected: {code.value} {event.message}".strip()
        if code == RejectCode.POST_ONLY_WOULD_CROSS:
            self._book_after = self._now
            self._out.append(RefreshBook())
        elif code == RejectCode.NOT_ENOUGH_BALANCE:
            self._balance_wait = self._now
            self._out.append(RefreshBalances())
        elif code == RejectCode.TICK:
            self._book = None
            self._out.append(RefreshBook())
        elif code == RejectCode.MARKET_CLOSED:
            self._market_closed = True
        self._back_off()

    def _on_order_update(self, event: OrderUpdate) -> None:
        if not self._ledger.knows(event.order_id):
            self._count("unknown_order")
            return
        if not self._ledger.within_size(event.order_id, event.size_matched):
            detail = f"size_matched {event.size_matched} beyond the size of {event.order_id}"
            key = (f"matched:{event.size_matched}", event.order_id)
            self._refuse_bad_data("order_update_oversized", key, detail)
            return
        self._ledger.record_matched(event.order_id, event.size_matched)
        order = self._slot.working()
        if not event.open and self._slot.gone(event.order_id) and order is not None:
            self._ghost = (order, self._remaining(order), self._now)

    def _on_canceled(self, event: OrderCanceled) -> None:
        self._on_order_update(OrderUpdate(event.ts_ms, event.order_id, event.size_matched, False))

    def _on_all_canceled(self, event: AllOrdersCanceled) -> None:
        if not self._slot.all_canceled(event.open_orders):
            self._count("sweep_incomplete" if event.open_orders else "unexpected_sweep_answer")

    def _on_fill(self, event: Fill) -> None:
        self._note_fill(event, self._ledger.record_fill(event))

    def _on_balance(self, event: BalanceRefreshed) -> None:
        values = [event.shares] + ([] if event.cash is None else [event.cash])
        if any(not v.is_finite() or v < 0 for v in values):
            self._count("bad_balance")
            return
        self._ledger.note_balance(event.shares, event.cash)
        self._balance_wait = None

    def _on_adopted(self, event: PositionAdopted) -> None:
        valid = event.size > 0 and Decimal(0) < event.avg_entry < 1
        if self._state != State.STARTING or not valid or self._ledger.version:
            self._count("adoption_refused")
            return
        self._ledger.adopt(event.size, event.avg_entry)

    def _on_timer(self, event: Timer) -> None:
        self._sample_signal()

    def _on_stop(self, event: StopRequested) -> None:
        self._stop_requested = True
        self._force_stop = self._force_stop or event.force

    def _on_flatten(self, event: FlattenRequested) -> None:
        self._flatten = True

    def _on_closed(self, event: MarketClosed) -> None:
        self._market_closed = True

    def _on_unparsed(self, event: Unparsed) -> None:
        self._count(f"unparsed:{event.kind}")


_HANDLERS: dict[type, Callable[[Any, Any], None]] = {
    BookUpdate: IntakeMixin._on_book,
    BookInvalidated: IntakeMixin._on_book_invalidated,
    TickSizeChanged: IntakeMixin._on_tick,
    OrderAccepted: IntakeMixin._on_accepted,
    OrderRejected: IntakeMixin._on_rejected,
    OrderUpdate: IntakeMixin._on_order_update,
    OrderCanceled: IntakeMixin._on_canceled,
    AllOrdersCanceled: IntakeMixin._on_all_canceled,
    Fill: IntakeMixin._on_fill,
    BalanceRefreshed: IntakeMixin._on_balance,
    PositionAdopted: IntakeMixin._on_adopted,
    Timer: IntakeMixin._on_timer,
    StopRequested: IntakeMixin._on_stop,
    FlattenRequested: IntakeMixin._on_flatten,
    MarketClosed: IntakeMixin._on_closed,
    Unparsed: IntakeMixin._on_unparsed,
}
