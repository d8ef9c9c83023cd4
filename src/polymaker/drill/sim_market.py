"""One simulated market: latent fair price, house maker ladder, house takers (private).

The fair price lives in logit space: a random walk (``volatility`` per sqrt(day)), Poisson
jumps, and a drift that pushes it toward 0 or 1 as the end nears (the logit is multiplied by
``((T - t0) / (T - t1)) ** end_drift``). The same closed form advances one second or one
month, so a market nobody looked at for a long time catches up with one draw.

House makers rest GTC bids on the YES token and GTC bids on the NO token (a NO bid at 1 - p is
a YES ask at p), so they need only cash; house takers send FAK orders the same way. The
engine's price-time priority then decides who fills: a user order resting behind house size at
its price fills only after that size has traded.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

from polymaker.drill.engine import MatchingEngine, OrderRequest
from polymaker.drill.universe import SimMarket

HOUSE_MAKER = "0x0000000000000000000000000000000000000b01"
HOUSE_TAKER = "0x0000000000000000000000000000000000000b02"
HOUSE_OWNER = "drill-house"
DAY_S = 86_400.0
COARSE, FINE = Decimal("0.01"), Decimal("0.001")


@dataclass(frozen=True)
class SimParams:
    """Knobs of the market process (see docs/drill-simulation.md); times are simulated."""

    volatility: float = 0.8  # logit units per sqrt(day)
    jumps_per_day: float = 1.0
    jump_sigma: float = 0.6  # logit units
    end_drift: float = 0.5
    takers_per_minute: float = 3.0  # per hot market
    taker_median_size: float = 60.0
    ladder_levels: int = 4
    ladder_size: tuple[int, int] = (50, 500)
    step_ms: int = 1000  # one sub-step of a hot market's catch-up
    max_steps: int = 600  # beyond this, the rest is one jump without takers
    max_takers_per_touch: int = 50
    refill_ms: int = 1000  # engine time between ladder refills when nothing else happened

    def __post_init__(self) -> None:
        if min(self.volatility, self.jumps_per_day, self.jump_sigma, self.end_drift) < 0:
            raise ValueError("volatility, jumps and drift must not be negative")
        if self.takers_per_minute < 0 or self.ladder_levels < 1 or self.step_ms <= 0:
            raise ValueError("taker rate, ladder levels and step must be positive")


def logit(p: float) -> float:
    """log(p / (1 - p)), clamped away from 0 and 1."""
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw (inversion for small means, normal approximation for large)."""
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, prod = math.exp(-lam), 0, rng.random()
    while prod > limit:
        k += 1
        prod *= rng.random()
    return k


def advance_logit(
    x: float, rng: random.Random, params: SimParams, t0_ms: int, t1_ms: int, end_ms: int
) -> float:
    """The logit fair at ``t1`` given ``x`` at ``t0`` (frozen once the market has ended)."""
    t1_ms = min(t1_ms, end_ms)
    if t1_ms <= t0_ms:
        return x
    dt_days = (t1_ms - t0_ms) / 1000 / DAY_S
    left0, left1 = max(end_ms - t0_ms, 60_000), max(end_ms - t1_ms, 60_000)
    x *= (left0 / left1) ** params.end_drift
    x += params.volatility * math.sqrt(dt_days) * rng.gauss(0.0, 1.0)
    jumps = poisson(rng, params.jumps_per_day * dt_days)
    if jumps:
        x += params.jump_sigma * math.sqrt(jumps) * rng.gauss(0.0, 1.0)
    return min(max(x, -7.0), 7.0)


@dataclass(slots=True)
class MarketSim:
    """Simulation state of one market, created on its first touch."""

    market: SimMarket
    rng: random.Random
    x: float
    t_ms: int  # simulated time of ``x``
    next_taker_ms: int
    switches_tick: bool  # a 0.01 market that goes to 0.001 near 0/1 (and back)
    tick: Decimal  # the tick the ladder was built for
    centre: float | None = None  # fair the ladder was last centred on
    orders: dict[str, tuple[bool, Decimal]] = field(default_factory=dict)  # id -> (bid, yes px)
    seq: int = 0  # house orders placed so far (order ids are deterministic per market)
    maintained_ms: int = -(2**62)  # engine time of the last ladder check

    def _order_id(self) -> str:
        self.seq += 1
        return f"0x{self.market.index:016x}{self.seq:048x}"

    @property
    def fair(self) -> float:
        """The latent YES probability."""
        return 1 / (1 + math.exp(-self.x))

    def inside(self, fair: float) -> tuple[int, int]:
        """The house ladder's inside (bid, ask) around ``fair``, in ticks."""
        tick = self.market.tick_size
        steps = int(1 / tick)
        spread = self.market.spread_ticks
        edge = Decimal(str(fair - spread * float(tick) / 2)).quantize(tick, ROUND_FLOOR)
        bid0 = min(max(int(edge / tick), 1), steps - 1 - spread)
        return bid0, bid0 + spread

    def levels(self, params: SimParams) -> list[tuple[bool, Decimal]]:
        """Target house levels (is_bid, YES price) around the ladder's centre."""
        tick = self.market.tick_size
        steps = int(1 / tick)
        bid0, ask0 = self.inside(self.fair if self.centre is None else self.centre)
        levels: list[tuple[bool, Decimal]] = []
        for level in range(params.ladder_levels):
            if bid0 - level >= 1:
                levels.append((True, tick * (bid0 - level)))
            if ask0 + level <= steps - 1:
                levels.append((False, tick * (ask0 + level)))
        return levels

    def needs_care(self, now_ms: int, refill_ms: int) -> bool:
        """True if the ladder must be checked: never built, fair moved a tick, or refill due."""
        if self.centre is None or abs(self.fair - self.centre) > float(self.market.tick_size):
            return True
        return now_ms - self.maintained_ms >= refill_ms

    def maintain(self, engine: MatchingEngine, params: SimParams, now_ms: int) -> None:
        """Re-centre the ladder when fair moved over a tick; refill levels takers emptied.

        Between re-centres the target stays on the old centre, so a refill never crosses
        the house's own opposite side.
        """
        self.maintained_ms = now_ms
        for order_id in list(self.orders):
            view = engine.order(order_id)
            if view is None or view.status != "LIVE":
                del self.orders[order_id]
        tick = float(self.market.tick_size)
        if self.centre is None or abs(self.fair - self.centre) > tick:
            self.centre = self.fair
            target = set(self.levels(params))
            for order_id, level in list(self.orders.items()):
                if level not in target:
                    engine.cancel(order_id, HOUSE_MAKER, now_ms)
                    del self.orders[order_id]
        held = set(self.orders.values())
        low, high = params.ladder_size
        for level in self.levels(params):
            if level not in held:
                self._rest(engine, level, Decimal(self.rng.randint(low, high)), now_ms)

    def _rest(
        self, engine: MatchingEngine, level: tuple[bool, Decimal], size: Decimal, now_ms: int
    ) -> None:
        is_bid, yes_price = level
        market = self.market
        token, price = (market.yes_token, yes_price) if is_bid else (market.no_token, 1 - yes_price)
        order_id = self._order_id()
        result = engine.place(
            OrderRequest(
                order_id, HOUSE_OWNER, HOUSE_MAKER, token, "BUY", price, size, "GTC", False, 0
            ),
            now_ms,
        )
        if result.success and result.status == "live":
            self.orders[order_id] = level

    def take(self, engine: MatchingEngine, params: SimParams, now_ms: int) -> Decimal:
        """One background taker: a FAK walking 0-2 ticks through the touch; returns its notional."""
        market, rng = self.market, self.rng
        tick = market.tick_size
        bid0, ask0 = self.inside(self.fair if self.centre is None else self.centre)
        walk = rng.randint(0, 2)
        drawn = round(rng.lognormvariate(math.log(params.taker_median_size), 0.9))
        size = max(market.min_order_size, Decimal(min(drawn, 1500)))
        if rng.random() < 0.5:  # buys YES up to the ask + walk
            token, price = market.yes_token, min(tick * (ask0 + walk), 1 - tick)
        else:  # sells YES down to the bid - walk, as a BUY NO at the complement
            token, price = market.no_token, min(1 - tick * (bid0 - walk), 1 - tick)
        order_id = self._order_id()
        result = engine.place(
            OrderRequest(
                order_id, HOUSE_OWNER, HOUSE_TAKER, token, "BUY", price, size, "FAK", False, 0
            ),
            now_ms,
        )
        return result.making_amount if result.success else Decimal(0)

    def schedule_taker(self, params: SimParams, from_ms: int) -> None:
        """Draw the next Poisson arrival of a background taker."""
        rate_per_ms = params.takers_per_minute / 60_000
        if rate_per_ms <= 0:
            self.next_taker_ms = 2**62
        else:
            self.next_taker_ms = from_ms + max(1, round(self.rng.expovariate(rate_per_ms)))
