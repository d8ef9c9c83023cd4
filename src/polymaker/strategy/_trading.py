"""Trading decisions of the strategy: when to buy, where our one order rests, safety checks.

``TradingMixin`` sits between the event intake (``_intake``) and the state machine
(``machine.Strategy``): it turns the facts into at most one desired quote and keeps the single
order slot in line with it (cancel first, place after the confirmation).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from polymaker.config.strategy import SellMode, StrategyParams
from polymaker.strategy import pricing, quotes
from polymaker.strategy._intake import IntakeMixin
from polymaker.strategy.book import BookView
from polymaker.strategy.commands import EXIT_INTENTS, OrderIntent, PlaceOrder
from polymaker.strategy.events import Side
from polymaker.strategy.market import MarketInfo
from polymaker.strategy.orders import SlotStatus


@dataclass(frozen=True, slots=True)
class BuyEpisode:
    """One attempt to buy after a signal: the price cap and how many shares to buy in total."""

    intent: OrderIntent
    cap: Decimal
    started_ms: int
    start_position: Decimal
    target: Decimal


@dataclass(frozen=True, slots=True)
class Quote:
    """Where and how much our one order should be."""

    price: Decimal
    size: Decimal
    intent: OrderIntent


class TradingMixin(IntakeMixin):
    """Buy signal, quotes for both sides, the aggressive step, the exit switch, the guard."""

    def __init__(self, params: StrategyParams, market: MarketInfo, now_ms: int) -> None:
        super().__init__(params, market, now_ms)
        self._episode: BuyEpisode | None = None
        self._step_cap: Decimal | None = None
        self._sell_progress_ms = now_ms
        self._exit_mode: OrderIntent | None = None
        self._exit_switched = False
        self._hold_since: int | None = None

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

    def _buy_quote(self, book: BookView, episode: BuyEpisode) -> Quote | None:
        cap = min(episode.cap, self._cap_now())
        price = quotes.buy_target(self._others(book), book, cap, self._tick)
        if price is None:
            return None
        bought = self._ledger.position - episode.start_position
        size = self._buy_size(price, episode.target - bought)
        return None if size is None else Quote(price, size, episode.intent)

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
        """Switch to an exit below the floor (sticky until the position is gone)."""
        self._exit_switched = False
        if self._exit_mode is not None or self._ledger.position < self._min_size:
            return
        self._exit_mode = self._exit_intent()
        if self._exit_mode is not None:
            self._exit_switched = True
            self._last_error = f"exit below the floor: {self._exit_mode.value}"

    def _exit_intent(self) -> OrderIntent | None:
        """The exit that applies now: a requested flatten, then stop-loss, then max hold."""
        if self._flatten:
            return OrderIntent.FLATTEN
        entry = self._ledger.avg_entry
        book = self._fresh_book()
        stop = self._p.stop_loss_pct
        bid = book.best_bid if book is not None else None
        if stop is not None and entry is not None and bid is not None and bid <= entry * (1 - stop):
            return OrderIntent.STOP_LOSS
        if self._held_too_long():
            return OrderIntent.MAX_HOLD
        return None

    def _held_too_long(self) -> bool:
        hold, since = self._p.max_hold_minutes, self._hold_since
        return hold is not None and since is not None and self._now - since >= self._ms(hold * 60)

    def _sell_quote(self) -> Quote | None:
        book = self._fresh_book()
        size = pricing.round_size(self._ledger.sellable)
        if book is None or size < self._min_size:
            return None
        own = self._slot.working()
        our_price = own.price if own is not None and own.side == Side.SELL else None
        others = self._others(book)
        if self._exit_mode is not None:
            price = quotes.exit_target(others, book, self._tick)
            return None if price is None else Quote(price, size, self._exit_mode)
        floor = self._floor()
        if floor is None or not pricing.floor_sellable(floor, self._tick):
            return None
        self._maybe_step_down(our_price, floor)
        price = quotes.take_profit_target(others, book, floor, self._step_cap, self._tick)
        return None if price is None else Quote(price, size, OrderIntent.TAKE_PROFIT)

    def _maybe_step_down(self, our_price: Decimal | None, floor: Decimal) -> None:
        """Aggressive mode: one tick lower after each no-fill timeout, never below the floor."""
        if self._p.sell_mode != SellMode.AGGRESSIVE or our_price is None:
            return
        if self._now - self._sell_progress_ms < self._ms(self._p.aggressive_step_timeout_s):
            return
        self._step_cap = max(our_price - self._tick, floor)
        self._sell_progress_ms = self._now

    # -- the one order -------------------------------------------------------------------------
    def _maintain(self, quote: Quote | None, must_cancel: bool) -> None:
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

    def _place(self, quote: Quote) -> None:
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
            PlaceOrder(
                ref, side, quote.price, quote.size, quote.intent, book.best_bid, book.best_ask
            )
        )

    def _guard(self, side: Side, quote: Quote, book: BookView) -> str | None:
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
        sell_floor = self._floor()
        if quote.intent not in EXIT_INTENTS and (sell_floor is None or quote.price < sell_floor):
            return "below_floor"
        return None
