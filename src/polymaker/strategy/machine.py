"""The per-market strategy: a pure state machine fed with events, answering with commands.

``Strategy.handle(event)`` first folds the event into the facts (book, fills, order slot, flags),
then re-evaluates the state until it is stable; every state change goes through
``_transition`` and is checked against ``states.ALLOWED_FROM``. Time only comes from events.
The event intake lives in ``_intake.IntakeMixin``; this module holds the decisions.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from polymaker.config.strategy import SellMode, StrategyParams
from polymaker.strategy import pricing, quotes
from polymaker.strategy._intake import IntakeMixin
from polymaker.strategy.book import BookView
from polymaker.strategy.commands import (
    EXIT_INTENTS,
    CancelAll,
    Finish,
    OrderIntent,
    PlaceOrder,
    RefreshBalances,
)
from polymaker.strategy.events import Side
from polymaker.strategy.market import MarketInfo
from polymaker.strategy.orders import SlotStatus
from polymaker.strategy.states import ExitReason, State, is_allowed

_MAX_CHAINED = 8


@dataclass(frozen=True, slots=True)
class BuyEpisode:
    """One attempt to buy after a signal: the price cap and how many shares to buy in total."""

    intent: OrderIntent
    cap: Decimal
    started_ms: int
    start_position: Decimal
    target: Decimal


@dataclass(frozen=True, slots=True)
class _Quote:
    price: Decimal
    size: Decimal
    intent: OrderIntent


class Strategy(IntakeMixin):
    """One market's maker swing strategy; see docs/strategy.md for states and guarantees."""

    def __init__(self, params: StrategyParams, market: MarketInfo, now_ms: int) -> None:
        super().__init__(params, market, now_ms)
        self._episode: BuyEpisode | None = None
        self._step_cap: Decimal | None = None
        self._sell_progress_ms = now_ms
        self._last_sold = Decimal(0)
        self._exit_mode: OrderIntent | None = None
        self._exit_switched = False
        self._hold_since: int | None = None
        self._cooldown_until = 0
        self._exit_started = 0
        self._sweep_sent = False
        self._last_balance_poll: int | None = None

    # -- evaluation ------------------------------------------------------------------------
    def _evaluate(self) -> None:
        self._track_holding()
        for _ in range(_MAX_CHAINED):
            before = self._state
            self._out.extend(self._slot.timeouts(self._now, self._ack_ms, self._cancel_ms))
            self._step()
            if self._state in (before, State.DONE):
                return

    def _step(self) -> None:
        if self._state == State.EXITING:
            self._step_exiting()
            return
        reason = self._exit_trigger()
        if reason is not None:
            self._begin_exit(reason)
            return
        step = {
            State.STARTING: self._step_starting,
            State.IDLE: self._step_idle,
            State.BUYING: self._step_buying,
            State.HOLDING: self._step_holding,
            State.SELLING: self._step_selling,
            State.COOLDOWN: self._step_cooldown,
        }[self._state]
        step()

    def _transition(self, target: State, why: str) -> None:
        if not is_allowed(self._state, target):
            raise RuntimeError(f"illegal transition {self._state} -> {target} ({why})")
        self._history.append((self._now, self._state, target, why))
        self._state = target
        self._state_since = self._now

    def _track_holding(self) -> None:
        """Start / reset the per-position clocks and modes as the position crosses the minimum."""
        position = self._ledger.position
        if position >= self._min_size:
            if self._hold_since is None:
                self._hold_since = self._now
        else:
            self._hold_since = None
            self._exit_mode = None
            self._step_cap = None
        sold = self._ledger.totals().sold
        if sold != self._last_sold:
            self._last_sold = sold
            self._sell_progress_ms = self._now

    # -- exits -------------------------------------------------------------------------------
    def _exit_trigger(self) -> ExitReason | None:
        if self._stop_requested:
            return ExitReason.STOPPED
        if self._market_closed:
            return ExitReason.MARKET_CLOSED
        if self._now >= self._end_ms:
            return ExitReason.MARKET_ENDED
        return None

    def _begin_exit(self, reason: ExitReason) -> None:
        self._exit_reason = reason
        self._exit_started = self._now
        self._episode = None
        self._transition(State.EXITING, reason.value)
        if self._force_stop:
            self._out.append(CancelAll())
            self._finish(clean=False, why="forced stop: cancels not confirmed")
            return
        self._step_exiting()

    def _step_exiting(self) -> None:
        slot = self._slot
        if self._now - self._exit_started >= self._stop_timeout_ms:
            self._finish(clean=False, why="orders not confirmed cancelled before stop_timeout_s")
        elif slot.status == SlotStatus.WORKING:
            self._out.append(slot.cancel(self._now))  # type: ignore[arg-type]
        elif slot.idle and self._sweep_sent:
            self._finish(clean=True, why="no open orders remain")
        elif slot.idle:
            self._out.extend(slot.sweep(self._now)[:1])
            self._sweep_sent = True

    def _finish(self, clean: bool, why: str) -> None:
        assert self._exit_reason is not None
        if not clean:
            self._last_error = why
        self._out.append(Finish(self._exit_reason, clean=clean))
        self._transition(State.DONE, why)

    # -- states ------------------------------------------------------------------------------
    def _step_starting(self) -> None:
        if self._slot.status == SlotStatus.EMPTY and not self._start_swept:
            self._out.extend(self._slot.sweep(self._now)[:1])
            self._out.append(RefreshBalances())
            self._start_swept = True
        elif self._slot.idle and self._start_swept:
            self._transition(State.IDLE, "no leftover orders")

    def _step_idle(self) -> None:
        if self._ledger.position >= self._min_size:
            self._transition(State.HOLDING, "position held")
        elif self._sell_only:
            self._begin_exit(ExitReason.SELL_ONLY_DONE)
        elif self._slot.idle:
            episode = self._buy_signal()
            if episode is not None:
                self._episode = episode
                self._transition(State.BUYING, episode.intent.value)

    def _step_buying(self) -> None:
        episode = self._episode
        assert episode is not None
        why = self._buy_done_reason(episode)
        if why is None:
            book = self._fresh_book()
            if book is not None:
                self._maintain(self._buy_quote(book, episode), must_cancel=False)
            return
        if self._slot.status == SlotStatus.WORKING:
            self._out.append(self._slot.cancel(self._now))  # type: ignore[arg-type]
        if self._slot.idle:
            self._episode = None
            if self._ledger.position >= self._min_size:
                self._transition(State.HOLDING, why)
            else:
                self._transition(State.IDLE, why)

    def _buy_done_reason(self, episode: BuyEpisode) -> str | None:
        if self._sell_only:
            return "sell-only window"
        if self._now - episode.started_ms >= self._ms(self._p.buy_timeout_s):
            return "buy timeout"
        bought = self._ledger.position - episode.start_position
        if episode.target - bought < self._min_size:
            return "bought"
        return None

    def _step_holding(self) -> None:
        if self._ledger.position < self._min_size:
            self._transition(State.IDLE, "position gone")
            return
        self._update_exit_mode()
        can_price = self._exit_mode is not None or self._floor_sellable()
        if can_price and pricing.round_size(self._ledger.sellable) >= self._min_size:
            self._sell_progress_ms = self._now
            self._transition(State.SELLING, "shares settled")
            return
        due = self._last_balance_poll is None or (
            self._now - self._last_balance_poll >= self._ms(self._p.settle_poll_s)
        )
        if due and self._slot.idle:
            self._last_balance_poll = self._now
            self._out.append(RefreshBalances())

    def _step_selling(self) -> None:
        position = self._ledger.position
        if position < self._min_size and self._slot.idle:
            self._cooldown_until = self._now + self._ms(self._p.cooldown_s)
            self._transition(State.COOLDOWN, "round trip done")
            return
        self._update_exit_mode()
        quote = self._sell_quote()
        order = self._slot.working()
        if quote is None and self._slot.idle:
            self._transition(State.HOLDING, "nothing to offer yet")
            return
        must_cancel = order is not None and self._remaining(order) > position
        if self._exit_switched and order is not None and order.intent not in EXIT_INTENTS:
            must_cancel = True
        if order is not None and self._remaining(order) < self._min_size and not must_cancel:
            return  # a remainder below the minimum could not be placed again: let it rest
        self._maintain(quote, must_cancel=must_cancel)

    def _step_cooldown(self) -> None:
        if self._ledger.position >= self._min_size:
            self._transition(State.HOLDING, "position held")
        elif self._sell_only:
            self._begin_exit(ExitReason.SELL_ONLY_DONE)
        elif self._now >= self._cooldown_until:
            self._transition(State.IDLE, "cooldown over")

    # -- buying ------------------------------------------------------------------------------
    def _buy_signal(self) -> BuyEpisode | None:
        book = self._fresh_book()
        if book is None or book.best_bid is None:
            return None
        feasible = pricing.max_feasible_buy_price(
            self._p.profit_pct, self._p.min_profit_ticks, self._tick
        )
        if feasible is None:
            return None
        bid = book.best_bid
        caps: list[tuple[Decimal, OrderIntent]] = []
        high = self._signal.high(self._now)
        if high is not None and bid <= high * (1 - self._p.drop_pct):
            caps.append((high * (1 - self._p.drop_pct), OrderIntent.BUY_DIP))
        threshold = self._p.buy_price_threshold
        if threshold is not None and bid <= threshold:
            caps.append((threshold, OrderIntent.BUY_THRESHOLD))
        if not caps:
            return None
        raw_cap, intent = max(caps)
        cap = min(pricing.round_down(raw_cap, self._tick), feasible)
        if cap < self._tick:
            return None
        target = self._buy_size(cap, self._p.order_size)
        if target is None:
            return None
        return BuyEpisode(intent, cap, self._now, self._ledger.position, target)

    def _buy_size(self, price: Decimal, wanted: Decimal) -> Decimal | None:
        """Shares to buy at ``price``: within the cap, the cash known, at least the minimum."""
        if self._p.order_size_usdc is not None:
            wanted = min(wanted, self._p.order_size_usdc / price)
        room = self._p.max_position_shares - self._ledger.position
        size = min(wanted, room)
        cash = self._ledger.cash
        if cash is not None:
            size = min(size, cash / price)
        size = pricing.round_size(size)
        return size if size >= self._min_size else None

    def _buy_quote(self, book: BookView, episode: BuyEpisode) -> _Quote | None:
        own = self._slot.working()
        others = book
        if own is not None and own.side == Side.BUY:
            others = book.without_own(Side.BUY, own.price, self._remaining(own))
        price = quotes.buy_target(
            others, book, own.price if own else None, min(episode.cap, self._cap_now()), self._tick
        )
        if price is None:
            return None
        bought = self._ledger.position - episode.start_position
        size = self._buy_size(price, episode.target - bought)
        return None if size is None else _Quote(price, size, episode.intent)

    def _cap_now(self) -> Decimal:
        """Feasibility cap on the current grid (the tick may have changed since the signal)."""
        feasible = pricing.max_feasible_buy_price(
            self._p.profit_pct, self._p.min_profit_ticks, self._tick
        )
        return Decimal(0) if feasible is None else feasible

    # -- selling -----------------------------------------------------------------------------
    def _floor(self) -> Decimal | None:
        entry = self._ledger.avg_entry
        if entry is None:
            return None
        return pricing.profit_floor(entry, self._p.profit_pct, self._p.min_profit_ticks, self._tick)

    def _floor_sellable(self) -> bool:
        floor = self._floor()
        return floor is not None and pricing.floor_sellable(floor, self._tick)

    def _update_exit_mode(self) -> None:
        """Switch to the stop-loss / max-hold exit (sticky until the position is gone)."""
        self._exit_switched = False
        if self._exit_mode is not None:
            return
        entry = self._ledger.avg_entry
        book = self._fresh_book()
        stop = self._p.stop_loss_pct
        if stop is not None and entry is not None and book is not None and book.best_bid:
            if book.best_bid <= entry * (1 - stop):
                self._exit_mode = OrderIntent.STOP_LOSS
        hold = self._p.max_hold_minutes
        if self._exit_mode is None and hold is not None and self._hold_since is not None:
            if self._now - self._hold_since >= self._ms(hold * 60):
                self._exit_mode = OrderIntent.MAX_HOLD
        if self._exit_mode is not None:
            self._exit_switched = True
            self._last_error = f"exit below the floor: {self._exit_mode.value}"

    def _sell_quote(self) -> _Quote | None:
        book = self._fresh_book()
        size = pricing.round_size(self._ledger.sellable)
        if book is None or size < self._min_size:
            return None
        own = self._slot.working()
        our_price = own.price if own is not None and own.side == Side.SELL else None
        others = book
        if our_price is not None and own is not None:
            others = book.without_own(Side.SELL, own.price, self._remaining(own))
        if self._exit_mode is not None:
            price = quotes.exit_target(others, book, our_price, self._tick)
            return None if price is None else _Quote(price, size, self._exit_mode)
        floor = self._floor()
        if floor is None or not pricing.floor_sellable(floor, self._tick):
            return None
        self._maybe_step_down(our_price, floor)
        price = quotes.take_profit_target(others, book, our_price, floor, self._step_cap, self._tick)
        return None if price is None else _Quote(price, size, OrderIntent.TAKE_PROFIT)

    def _maybe_step_down(self, our_price: Decimal | None, floor: Decimal) -> None:
        """Aggressive mode: one tick lower after each no-fill timeout, never below the floor."""
        if self._p.sell_mode != SellMode.AGGRESSIVE or our_price is None:
            return
        if self._now - self._sell_progress_ms < self._ms(self._p.aggressive_step_timeout_s):
            return
        self._step_cap = max(our_price - self._tick, floor)
        self._sell_progress_ms = self._now

    # -- the one order -------------------------------------------------------------------------
    def _maintain(self, quote: _Quote | None, must_cancel: bool) -> None:
        """Place, keep or requote the slot's order towards ``quote`` (cancel before replace)."""
        slot = self._slot
        order = slot.working()
        if slot.status == SlotStatus.WORKING and order is not None:
            differs = quote is not None and (
                quote.price != order.price
                or quote.intent != order.intent
                or (order.side == Side.SELL and quote.size > self._remaining(order))
            )
            aged = self._now - slot.since_ms >= self._ms(self._p.min_requote_interval_s)
            if must_cancel or (differs and (aged or self._exit_switched)):
                self._out.append(slot.cancel(self._now))  # type: ignore[arg-type]
            return
        if quote is not None and self._may_place():
            self._place(quote)

    def _place(self, quote: _Quote) -> None:
        book = self._fresh_book()
        assert book is not None
        side = Side.SELL if quote.intent in (OrderIntent.TAKE_PROFIT, *EXIT_INTENTS) else Side.BUY
        problem = self._guard(side, quote, book)
        if problem is not None:
            self._count(f"guard_{problem}")
            self._last_error = f"order withheld by a safety check: {problem}"
            return
        ref = self._slot.place(self._now, side, quote.price, quote.size, quote.intent)
        self._out.append(
            PlaceOrder(ref, side, quote.price, quote.size, quote.intent, book.best_bid, book.best_ask)
        )

    def _guard(self, side: Side, quote: _Quote, book: BookView) -> str | None:
        """Last line of defence: the invariants docs/strategy.md promises, checked per order."""
        if not pricing.on_grid(quote.price, self._tick):
            return "off_grid"
        if quote.size < self._min_size or pricing.round_size(quote.size) != quote.size:
            return "size"
        if side == Side.BUY:
            if book.best_ask is not None and quote.price >= book.best_ask:
                return "crossing"
            if self._ledger.position + quote.size > self._p.max_position_shares:
                return "max_position"
            floor = pricing.profit_floor(
                quote.price, self._p.profit_pct, self._p.min_profit_ticks, self._tick
            )
            return None if pricing.floor_sellable(floor, self._tick) else "unsellable_target"
        if book.best_bid is not None and quote.price <= book.best_bid:
            return "crossing"
        if quote.size > self._ledger.sellable:
            return "oversell"
        floor = self._floor()
        if quote.intent not in EXIT_INTENTS and (floor is None or quote.price < floor):
            return "below_floor"
        return None

