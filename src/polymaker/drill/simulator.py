"""The drill market simulator: lazy per-market price processes, house liquidity, lifecycle.

Cost follows attention: a market nobody watches costs nothing until ``touch`` catches it up
(one draw for the whole gap); ``step`` iterates only hot markets (the server calls
``set_hot`` for markets with subscribers or user orders), whose takers run in sub-steps.
Time: callers pass engine time ``now_ms``; the simulated clock runs ``speed`` times faster
from the universe's generation time (``SimClock``). Lifecycle (markets appearing, ending,
resolving) runs on simulated time through heaps, so a step never scans the universe.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass
from decimal import Decimal

from polymaker.drill.engine import MarketSpec, MatchingEngine
from polymaker.drill.sim_market import (
    COARSE,
    FINE,
    HOUSE_MAKER,
    HOUSE_TAKER,
    MarketSim,
    SimParams,
    advance_logit,
    logit,
)
from polymaker.drill.universe import SimMarket, Universe
from polymaker.drill.universe_text import FEES

HOUSE_BALANCE = Decimal(10) ** 12
QUOTE_REFRESH_MS = 3000  # Gamma bestBid/bestAsk are snapshots: refresh at most this often
__all__ = [
    "HOUSE_MAKER",
    "HOUSE_TAKER",
    "LifecycleRates",
    "MarketAppeared",
    "MarketEnded",
    "MarketResolved",
    "SimClock",
    "SimParams",
    "Simulator",
    "spec_for",
]


@dataclass(frozen=True)
class SimClock:
    """Simulated time: ``start + (now - start) * speed`` (identity when speed is 1)."""

    start_ms: int
    speed: float = 1.0

    def __post_init__(self) -> None:
        if self.speed <= 0:
            raise ValueError(f"speed must be positive, got {self.speed}")

    def sim_ms(self, now_ms: int) -> int:
        """The simulated time at engine time ``now_ms``."""
        return self.start_ms + round((now_ms - self.start_ms) * self.speed)


@dataclass(frozen=True)
class LifecycleRates:
    """How the universe changes over simulated time (0 = never)."""

    new_markets_per_hour: float = 0.0
    resolve_delay_s: float = 1800.0  # mean (exponential) time from end to resolution

    def __post_init__(self) -> None:
        if self.new_markets_per_hour < 0 or self.resolve_delay_s < 0:
            raise ValueError("lifecycle rates must not be negative")


@dataclass(frozen=True)
class MarketAppeared:
    """A new market was listed (Gamma and engine); the server may send ``new_market``."""

    market: SimMarket


@dataclass(frozen=True)
class MarketEnded:
    """Trading ended: the engine closed the market (orders cancelled); not yet resolved."""

    condition_id: str


@dataclass(frozen=True)
class MarketResolved:
    """The market resolved: Gamma says closed, outcomePrices '1'/'0' (``market_resolved``)."""

    condition_id: str
    winning_token: str
    winning_outcome: str


LifecycleEvent = MarketAppeared | MarketEnded | MarketResolved


_FEE_RATES = {
    name: Decimal(str(rate)) if kind else Decimal(0) for name, (kind, rate, _, _) in FEES.items()
}


def spec_for(market: SimMarket) -> MarketSpec:
    """The engine spec of a universe market, with its category's taker fee schedule."""
    return MarketSpec(
        condition_id=market.condition_id,
        yes_token=market.yes_token,
        no_token=market.no_token,
        tick_size=market.tick_size,
        min_order_size=market.min_order_size,
        neg_risk=market.neg_risk,
        fee_rate=_FEE_RATES[market.category],
    )


class Simulator:
    """Drives every synthetic market of ``universe`` through ``engine`` from house accounts."""

    def __init__(
        self,
        universe: Universe,
        engine: MatchingEngine,
        *,
        seed: int,
        speed: float = 1.0,
        params: SimParams | None = None,
        rates: LifecycleRates | None = None,
        start_ms: int | None = None,
    ) -> None:
        self.universe = universe
        self.engine = engine
        self.seed = seed
        self.params = params or SimParams()
        self.rates = rates or LifecycleRates()
        self.clock = SimClock(universe.generated_ms if start_ms is None else start_ms, speed)
        self._sims: dict[str, MarketSim] = {}
        self._hot: dict[str, None] = {}
        self._quoted_ms: dict[str, int] = {}
        self._ends: list[tuple[int, int]] = []  # (end sim ms, market index)
        self._resolves: list[tuple[int, int]] = []
        self._lifecycle_rng = random.Random(f"{seed}:lifecycle")
        self._next_new_ms = self._draw_arrival(self.clock.start_ms)
        self._registered = False
        self._closed: set[str] = set()  # closed in the engine by this simulator
        for market in universe.markets:
            self._schedule(market)
        for ledger_address in (HOUSE_MAKER, HOUSE_TAKER):
            engine.ledger.set_balance(ledger_address, HOUSE_BALANCE)

    # -- public API for the server --------------------------------------------------------
    def register_markets(self, now_ms: int) -> None:
        """Add every universe market the engine lacks, and close those already ended.

        Idempotent; also run by the first ``step``/``touch``, so a server that registered
        markets itself (``engine.add_market``) keeps working.
        """
        for market in self.universe.markets:
            self._ensure_registered(market)
            ended = not market.accepting_orders or market.closed
            if ended and market.condition_id not in self._closed:
                self._closed.add(market.condition_id)
                self.engine.close_market(market.condition_id, now_ms)
        self._registered = True

    def set_hot(self, condition_id: str, hot: bool) -> None:
        """Mark a market watched (subscribed, or with user orders): ``step`` advances it."""
        if hot:
            self._hot[condition_id] = None
        else:
            self._hot.pop(condition_id, None)

    def is_hot(self, condition_id: str) -> bool:
        """True if ``step`` advances this market."""
        return condition_id in self._hot

    def fair(self, condition_id: str) -> float:
        """The latent YES probability (the generation value until first touched)."""
        sim = self._sims.get(condition_id)
        return sim.fair if sim else self.universe.by_condition(condition_id).fair

    def touch(self, condition_id: str, now_ms: int) -> None:
        """Catch one market up to ``now_ms`` (before its book is served or an order lands).

        Cost: O(steps) for a hot market (capped by ``max_steps`` and ``max_takers_per_touch``),
        O(1) plus a ladder refresh otherwise. Unknown ids raise KeyError; markets that ended,
        resolved or are driven by a replay are left alone.
        """
        if not self._registered:
            self.register_markets(now_ms)
        market = self.universe.by_condition(condition_id)
        if market.source == "replay" or not market.tradable:
            return
        sim_now = self.clock.sim_ms(now_ms)
        sim = self._sims.get(condition_id) or self._start(market, sim_now)
        if condition_id in self._hot and sim_now - sim.t_ms <= self.params.max_steps * (
            self.params.step_ms
        ):
            self._run_takers(sim, sim_now, now_ms)
        else:
            sim.x = advance_logit(sim.x, sim.rng, self.params, sim.t_ms, sim_now, market.end_ms)
            sim.t_ms = sim_now
            sim.schedule_taker(self.params, sim_now)
        self._adjust_tick(sim, now_ms)
        if sim.needs_care(now_ms, self.params.refill_ms):
            sim.maintain(self.engine, self.params, now_ms)
        self._refresh_quotes(market, now_ms)

    def step(self, now_ms: int) -> list[LifecycleEvent]:
        """Advance hot markets and the lifecycle to ``now_ms``; returns what changed."""
        if not self._registered:
            self.register_markets(now_ms)
        events = self._lifecycle(now_ms)
        sim_now = self.clock.sim_ms(now_ms)
        for condition_id in list(self._hot):
            sim = self._sims.get(condition_id)
            if sim is not None and self._idle(sim, sim_now, now_ms):
                continue
            if self.universe.by_condition(condition_id).tradable:
                self.touch(condition_id, now_ms)
        return events

    def _idle(self, sim: MarketSim, sim_now: int, now_ms: int) -> bool:
        """Nothing due: no taker, less than one sub-step since the last update, no refill."""
        return (
            sim_now < sim.next_taker_ms
            and sim_now - sim.t_ms < self.params.step_ms
            and now_ms - sim.maintained_ms < self.params.refill_ms
        )

    def add_market(self, spec: dict[str, object], now_ms: int) -> SimMarket:
        """POST /_sim/markets: a universe market, registered in the engine and scheduled."""
        from datetime import UTC, datetime

        market = self.universe.add_market(spec, datetime.fromtimestamp(now_ms / 1000, tz=UTC))
        market.source = "api"
        self._ensure_registered(market)
        self._schedule(market)
        return market

    # -- internals ------------------------------------------------------------------------
    def _ensure_registered(self, market: SimMarket) -> None:
        try:
            self.engine.market(market.condition_id)
        except KeyError:
            self.engine.add_market(spec_for(market))

    def _schedule(self, market: SimMarket) -> None:
        if market.source == "replay" or market.closed:
            return
        if market.accepting_orders:
            heapq.heappush(self._ends, (market.end_ms, market.index))
        else:
            heapq.heappush(self._resolves, (self._resolve_at(market), market.index))

    def _resolve_at(self, market: SimMarket) -> int:
        rng = random.Random(f"{self.seed}:resolve:{market.index}")
        mean_ms = self.rates.resolve_delay_s * 1000
        return market.end_ms + (round(rng.expovariate(1 / mean_ms)) if mean_ms > 0 else 0)

    def _draw_arrival(self, from_ms: int) -> int:
        rate = self.rates.new_markets_per_hour
        if rate <= 0:
            return 2**62
        return from_ms + max(1, round(self._lifecycle_rng.expovariate(rate / 3_600_000)))

    def _start(self, market: SimMarket, sim_now: int) -> MarketSim:
        rng = random.Random(f"{self.seed}:sim:{market.index}")
        sim = MarketSim(
            market=market,
            rng=rng,
            x=logit(market.fair),
            t_ms=max(self.clock.start_ms, market.start_ms),
            next_taker_ms=0,
            switches_tick=market.tick_size == COARSE,
            tick=market.tick_size,
        )
        sim.x = advance_logit(sim.x, rng, self.params, sim.t_ms, sim_now, market.end_ms)
        sim.t_ms = sim_now
        sim.schedule_taker(self.params, sim_now)
        self._sims[market.condition_id] = sim
        return sim

    def _run_takers(self, sim: MarketSim, sim_now: int, now_ms: int) -> None:
        """Sub-steps up to ``sim_now``: fair moves to each taker's arrival, then it trades."""
        params, market = self.params, sim.market
        takers = 0
        while sim.next_taker_ms <= sim_now and takers < params.max_takers_per_touch:
            at = sim.next_taker_ms
            sim.x = advance_logit(sim.x, sim.rng, params, sim.t_ms, at, market.end_ms)
            sim.t_ms = at
            self._adjust_tick(sim, now_ms)
            sim.maintain(self.engine, params, now_ms)
            market.add_volume(sim.take(self.engine, params, now_ms), now_ms)
            takers += 1
            sim.schedule_taker(params, at)
        if sim.next_taker_ms <= sim_now:  # over the cap: skip the rest of the arrivals
            sim.schedule_taker(params, sim_now)
        sim.x = advance_logit(sim.x, sim.rng, params, sim.t_ms, sim_now, market.end_ms)
        sim.t_ms = sim_now

    def _adjust_tick(self, sim: MarketSim, now_ms: int) -> None:
        """0.01 -> 0.001 above 0.96 / below 0.04 (as the venue does), back inside 0.045-0.955.

        A tick set from outside (``/_sim/``) is kept: the ladder moves to it and the automatic
        switching stops for that market.
        """
        market, fair = sim.market, sim.fair
        if market.tick_size != sim.tick:  # changed from outside (/_sim): rebuild, stop switching
            sim.tick, sim.centre, sim.switches_tick = market.tick_size, None, False
        if not sim.switches_tick:
            return
        if market.tick_size == COARSE and not 0.04 <= fair <= 0.96:
            new = FINE
        elif market.tick_size == FINE and 0.045 <= fair <= 0.955:
            new = COARSE
        else:
            return
        self.engine.set_tick_size(market.condition_id, new, now_ms)
        market.tick_size = sim.tick = new
        market.invalidate(now_ms)
        sim.centre = None  # the whole ladder moves to the new grid

    def _refresh_quotes(self, market: SimMarket, now_ms: int) -> None:
        last = self._quoted_ms.get(market.condition_id)
        if last is not None and now_ms - last < QUOTE_REFRESH_MS:
            return
        self._quoted_ms[market.condition_id] = now_ms
        book = self.engine.book(market.yes_token)
        bid = book.bids[-1][0] if book.bids else None
        ask = book.asks[-1][0] if book.asks else None
        market.set_quotes(bid, ask, book.last_trade_price or market.last_trade_price, now_ms)

    def _lifecycle(self, now_ms: int) -> list[LifecycleEvent]:
        sim_now = self.clock.sim_ms(now_ms)
        events: list[LifecycleEvent] = []
        while self._next_new_ms <= sim_now:
            market = self.universe.spawn_market(self._next_new_ms)
            self._ensure_registered(market)
            self._schedule(market)
            events.append(MarketAppeared(market))
            self._next_new_ms = self._draw_arrival(self._next_new_ms)
        while self._ends and self._ends[0][0] <= sim_now:
            market = self.universe.markets[heapq.heappop(self._ends)[1]]
            if market.accepting_orders and market.end_ms <= sim_now:
                self._closed.add(market.condition_id)
                self.engine.close_market(market.condition_id, now_ms)
                market.set_state(now_ms=now_ms, accepting_orders=False, closed=False)
                self._hot.pop(market.condition_id, None)
                heapq.heappush(self._resolves, (self._resolve_at(market), market.index))
                events.append(MarketEnded(market.condition_id))
        while self._resolves and self._resolves[0][0] <= sim_now:
            market = self.universe.markets[heapq.heappop(self._resolves)[1]]
            if not market.closed:
                events.append(self._resolve(market, now_ms))
        return events

    def draw_winner(self, market: SimMarket) -> str:
        """The outcome a resolution picks: YES with the market's current YES probability.

        Deterministic per seed and market, so a rerun resolves the same way.
        """
        rng = random.Random(f"{self.seed}:winner:{market.index}")
        return "Yes" if rng.random() < self.fair(market.condition_id) else "No"

    def _resolve(self, market: SimMarket, now_ms: int) -> MarketResolved:
        winner = self.draw_winner(market)
        market.set_state(now_ms=now_ms, accepting_orders=False, closed=True, winner=winner)
        token = market.yes_token if winner == "Yes" else market.no_token
        return MarketResolved(market.condition_id, token, winner)
