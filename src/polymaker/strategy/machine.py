"""The per-market strategy: a pure state machine fed with events, answering with commands.

``Strategy.handle(event)`` first folds the event into the facts (book, fills, order slot, flags),
then re-evaluates the state until it is stable; every state change goes through
``_transition`` and is checked against ``states.ALLOWED_FROM``. Time only comes from events.
The event intake is ``_intake.IntakeMixin``, quoting ``_trading.TradingMixin``; this module
holds the states, their transitions and the exits.
"""

from __future__ import annotations

from decimal import Decimal

from polymaker.config.strategy import StrategyParams
from polymaker.strategy import pricing
from polymaker.strategy._trading import BuyEpisode, TradingMixin
from polymaker.strategy.commands import EXIT_INTENTS, CancelAll, Finish, RefreshBalances
from polymaker.strategy.market import MarketInfo
from polymaker.strategy.orders import SlotStatus
from polymaker.strategy.snapshot import OpenOrder, Snapshot
from polymaker.strategy.states import ExitReason, State, is_allowed

_MAX_CHAINED = 8


class Strategy(TradingMixin):
    """One market's maker swing strategy; see docs/strategy.md for states and guarantees."""

    def __init__(self, params: StrategyParams, market: MarketInfo, now_ms: int) -> None:
        super().__init__(params, market, now_ms)
        self._last_sold = Decimal(0)
        self._cooldown_until = 0
        self._exit_started = 0
        self._sweep_sent = False
        self._last_balance_poll: int | None = None

    # -- read-only view ---------------------------------------------------------------------
    @property
    def state(self) -> State:
        """The current state."""
        return self._state

    @property
    def transitions(self) -> tuple[tuple[int, State, State, str], ...]:
        """The latest state changes (up to 256) as (ts_ms, from, to, why), for the log."""
        return tuple(self._history)

    def snapshot(self) -> Snapshot:
        """What the status file shows."""
        ledger = self._ledger
        position = ledger.position
        order = self._slot.order
        open_order = None
        if order is not None:
            matched = ledger.order_filled(order.order_id) if order.order_id else Decimal(0)
            open_order = OpenOrder(
                order.order_id, order.side, order.price, order.size, matched, order.intent
            )
        floor = self._floor()
        held = position >= self._min_size
        return Snapshot(
            state=self._state,
            position=position,
            sellable=ledger.sellable,
            avg_entry=ledger.avg_entry,
            floor=floor,
            open_order=open_order,
            open_orders=(1 if open_order else 0) + len(self._slot.strays),
            realized_pnl=ledger.realized_pnl,
            last_error=self._last_error,
            dust=Decimal(0) < position < self._min_size,
            unsellable=held and self._exit_mode is None and not self._floor_sellable(),
            sell_only=self._sell_only,
            exit_mode=self._exit_mode,
            rolling_high=self._signal.high(self._now),
            tick_size=self._tick,
            exit_reason=self._exit_reason,
            ignored=dict(self._ignored),
        )

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
            if self._ledger.position >= self._min_size:
                self._transition(State.HOLDING, "adopted position")
            else:
                self._transition(State.IDLE, "no leftover orders")

    def _step_idle(self) -> None:
        if self._ledger.position >= self._min_size:
            self._transition(State.HOLDING, "position held")
        elif self._sell_only:
            self._begin_exit(self._sell_only_reason)
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
            return "flatten" if self._flatten else "sell-only window"
        if self._now - episode.started_ms >= self._ms(self._p.buy_timeout_s):
            return "buy timeout"
        remaining = episode.target - (self._ledger.position - episode.start_position)
        if remaining <= 0:
            return "bought"
        if remaining < self._min_size and self._slot.working() is None:
            return "bought"  # a remainder below the minimum cannot be placed again
        return None

    def _step_holding(self) -> None:
        if self._ledger.position < self._min_size:
            self._transition(State.IDLE, "position gone")
            return
        self._update_exit_mode()
        if self._can_offer():
            self._sell_progress_ms = self._now
            self._transition(State.SELLING, "shares settled")
            return
        unsettled = pricing.round_size(self._ledger.sellable) < self._min_size
        due = self._last_balance_poll is None or (
            self._now - self._last_balance_poll >= self._ms(self._p.settle_poll_s)
        )
        if unsettled and due and self._slot.idle:
            self._last_balance_poll = self._now
            self._out.append(RefreshBalances())

    def _step_selling(self) -> None:
        position = self._ledger.position
        if position < self._min_size and self._slot.idle:
            self._cooldown_until = self._now + self._ms(self._p.cooldown_s)
            self._transition(State.COOLDOWN, "round trip done")
            return
        self._update_exit_mode()
        if self._slot.idle and not self._can_offer():
            self._transition(State.HOLDING, "nothing sellable yet")
            return
        quote = self._sell_quote()
        order = self._slot.working()
        must_cancel = order is not None and self._remaining(order) > position
        if self._exit_switched and order is not None and order.intent not in EXIT_INTENTS:
            must_cancel = True
        if order is not None and self._remaining(order) < self._min_size and not must_cancel:
            return  # a remainder below the minimum could not be placed again: let it rest
        self._maintain(quote, must_cancel=must_cancel)

    def _can_offer(self) -> bool:
        """Enough settled shares to place a sell, at a price the rules allow."""
        can_price = self._exit_mode is not None or self._floor_sellable()
        return can_price and pricing.round_size(self._ledger.sellable) >= self._min_size

    def _step_cooldown(self) -> None:
        if self._ledger.position >= self._min_size:
            self._transition(State.HOLDING, "position held")
        elif self._sell_only:
            self._begin_exit(self._sell_only_reason)
        elif self._now >= self._cooldown_until:
            self._transition(State.IDLE, "cooldown over")
