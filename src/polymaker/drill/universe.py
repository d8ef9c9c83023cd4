"""The drill exchange's synthetic universe: markets and events in Gamma's exact shapes.

Deterministic from a seed: every market draws from its own ``random.Random`` derived from
(seed, market index), never from the global ``random`` module, so the same seed and ``now``
give the same bytes. Generation is cheap (ids and numbers only); Gamma dicts are built on
first request and cached as orjson bytes until the market's quotes or state change.

A healthy share of active markets is built for the shipped screener filter: plain
(non-sports, non-crypto) questions ending 6-48 h from ``now`` with a favourite around
0.90-0.985 and enough volume. See docs/drill-simulation.md.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson

from polymaker.drill import universe_text as text
from polymaker.drill.universe_draw import (
    DAY_MS,
    TICKS,
    Role,
    draw_category,
    draw_end,
    draw_fair,
    draw_role,
    draw_version,
    draw_volume,
    position_ids,
    random_hex,
    random_token,
    snap_quotes,
    tick_for,
)
from polymaker.drill.universe_gamma import event_dict, market_dict
from polymaker.drill.universe_spec import MarketSpecError, parse_spec, spec_decimal


@dataclass(eq=False, slots=True)
class SimEvent:
    """One Gamma event: a single market, or a negative-risk multi-outcome group."""

    event_id: str
    slug: str
    title: str
    category: str
    neg_risk: bool
    neg_risk_market_id: str
    start_ms: int
    end_ms: int
    markets: list[SimMarket] = field(default_factory=list)

    def gamma(self, include_markets: bool = True) -> dict[str, Any]:
        """The Gamma event object (``/events`` item); nested markets carry no ``events``."""
        return event_dict(self, include_markets=include_markets)


@dataclass(eq=False, slots=True)
class SimMarket:
    """One binary market; quotes are Gamma's snapshot, the live book is the engine's."""

    index: int
    market_id: str
    condition_id: str
    question_id: str
    slug: str
    question: str
    category: str
    yes_token: str
    no_token: str
    event: SimEvent
    group_item_title: str
    group_index: int
    tick_size: Decimal
    min_order_size: Decimal
    neg_risk: bool
    neg_risk_request_id: str
    start_ms: int
    end_ms: int
    fair: float  # latent YES probability at generation (the simulator moves its own copy)
    spread_ticks: int  # width of the background makers' inside spread, in ticks
    volume: Decimal
    liquidity: Decimal
    volume_24h: float = 0.0
    active: bool = True
    closed: bool = False
    accepting_orders: bool = True
    winner: str | None = None  # "Yes" / "No" once resolved
    version: str = "v1"  # "v2": Protocol V2, traded by position id through ExchangeV3
    listed_clob_token_ids: tuple[str, str] | None = None  # a v2 market's untraded CTF ids
    source: str = "synthetic"  # "synthetic", "api" (POST /_sim/markets) or "replay"
    best_bid: Decimal | None = None
    best_ask: Decimal | None = None
    last_trade_price: Decimal | None = None
    updated_ms: int = 0
    _json: bytes | None = None

    @property
    def clob_token_ids(self) -> tuple[str, str]:
        """The CTF token ids Gamma lists (``clobTokenIds``; a v2 market does not trade them)."""
        return self.listed_clob_token_ids or (self.yes_token, self.no_token)

    @property
    def position_ids(self) -> tuple[str, str]:
        """The Protocol V2 position ids Gamma lists (``positionIds``; traded on v2 markets)."""
        return position_ids(self.condition_id, self.neg_risk)

    @property
    def end_date(self) -> datetime:
        """End of trading as an aware UTC datetime."""
        return datetime.fromtimestamp(self.end_ms / 1000, tz=UTC)

    @property
    def tradable(self) -> bool:
        """Active, not closed and accepting orders (the venue's gate)."""
        return self.active and not self.closed and self.accepting_orders

    def gamma(self, *, include_events: bool = True) -> dict[str, Any]:
        """A fresh Gamma market dict (callers may mutate it)."""
        return market_dict(self, include_events=include_events)

    def gamma_json(self) -> bytes:
        """The Gamma market object as JSON bytes, cached until the market changes."""
        if self._json is None:
            self._json = orjson.dumps(market_dict(self, include_events=True))
        return self._json

    def invalidate(self, now_ms: int) -> None:
        """Drop the cached JSON after a change; ``updatedAt`` becomes ``now_ms``."""
        self.updated_ms = max(self.updated_ms, now_ms)
        self._json = None

    def set_quotes(
        self, best_bid: Decimal | None, best_ask: Decimal | None, last: Decimal | None, now_ms: int
    ) -> None:
        """Refresh the Gamma quote snapshot (only invalidates when something changed)."""
        if (best_bid, best_ask, last) != (self.best_bid, self.best_ask, self.last_trade_price):
            self.best_bid, self.best_ask, self.last_trade_price = best_bid, best_ask, last
            self.invalidate(now_ms)

    def add_volume(self, notional: Decimal, now_ms: int) -> None:
        """Count traded notional (USDC) into volume and the 24 h figure."""
        if notional > 0:
            self.volume += notional
            self.volume_24h += float(notional)
            self.invalidate(now_ms)

    def set_state(
        self, *, now_ms: int, accepting_orders: bool, closed: bool, winner: str | None = None
    ) -> None:
        """Lifecycle change: ended (not accepting) or resolved (closed, winner '1'/'0')."""
        self.accepting_orders, self.closed, self.winner = accepting_orders, closed, winner
        self.invalidate(now_ms)


class Universe:
    """Every market and event of one drill run, with the lookups the server needs."""

    def __init__(self, seed: int, generated_ms: int = 0) -> None:
        self.seed = seed
        self.generated_ms = generated_ms  # the ``now`` of generation (simulated clock start)
        self.markets: list[SimMarket] = []
        self.events: list[SimEvent] = []
        self._by_condition: dict[str, SimMarket] = {}
        self._by_token: dict[str, SimMarket] = {}
        self._by_slug: dict[str, SimMarket] = {}
        self._by_id: dict[str, SimMarket] = {}
        self._event_by_slug: dict[str, SimEvent] = {}

    @classmethod
    def generate(cls, n_markets: int, seed: int, now: datetime) -> Universe:
        """``n_markets`` markets around ``now``; same (n, seed, now) -> same universe."""
        now_ms = int(now.timestamp() * 1000)
        universe = cls(seed, now_ms)
        shape = random.Random(f"{seed}:universe")
        while len(universe.markets) < n_markets:
            left = n_markets - len(universe.markets)
            if left >= 3 and shape.random() < 0.06:
                universe._neg_risk_event(shape.randint(3, min(7, left)), now_ms)
            else:
                universe.spawn_market(now_ms, past=True)
        return universe

    # -- lookups ------------------------------------------------------------------------
    def by_condition(self, condition_id: str) -> SimMarket:
        """KeyError if unknown."""
        return self._by_condition[condition_id]

    def by_token(self, token_id: str) -> SimMarket:
        """The market of a YES or NO token; KeyError if unknown."""
        return self._by_token[token_id]

    def by_slug(self, slug: str) -> SimMarket:
        """KeyError if unknown."""
        return self._by_slug[slug]

    def by_id(self, market_id: str) -> SimMarket:
        """By Gamma market id (numeric text); KeyError if unknown."""
        return self._by_id[market_id]

    def event_by_slug(self, slug: str) -> SimEvent:
        """KeyError if unknown."""
        return self._event_by_slug[slug]

    # -- building -----------------------------------------------------------------------
    def _unique_slug(self, base: str) -> str:
        slug, n = base, 1
        while slug in self._by_slug:
            n += 1
            slug = f"{base}-{n}"
        return slug

    def _new_event(
        self, *, slug: str, title: str, category: str, neg_risk: bool, start: int, end: int
    ) -> SimEvent:
        event_slug, n = slug, 1
        while event_slug in self._event_by_slug:
            n += 1
            event_slug = f"{slug}-{n}"
        event = SimEvent(
            event_id=str(50_000 + len(self.events)),
            slug=event_slug,
            title=title,
            category=category,
            neg_risk=neg_risk,
            neg_risk_market_id=(
                random_hex(random.Random(f"{self.seed}:event:{len(self.events)}"))
                if neg_risk
                else ""
            ),
            start_ms=start,
            end_ms=end,
        )
        self.events.append(event)
        self._event_by_slug[event.slug] = event
        return event

    def _register(self, market: SimMarket) -> SimMarket:
        self.markets.append(market)
        market.event.markets.append(market)
        self._by_condition[market.condition_id] = market
        self._by_token[market.yes_token] = market
        self._by_token[market.no_token] = market
        self._by_slug[market.slug] = market
        self._by_id[market.market_id] = market
        return market

    def _market(self, rng: random.Random, **fields: Any) -> SimMarket:
        """A market at the next index: ids from ``rng``, the rest from ``fields``."""
        index = len(self.markets)
        fair = fields.pop("fair")
        version = fields.pop("version", None)
        tick = fields.pop("tick_size", None) or tick_for(fair, rng)
        spread_ticks = rng.choice((1, 2, 2, 3))
        market = SimMarket(
            index=index,
            market_id=str(600_000 + index),
            condition_id=random_hex(rng),
            question_id=random_hex(rng),
            yes_token=random_token(rng),
            no_token=random_token(rng),
            slug=self._unique_slug(fields.pop("base_slug")),
            tick_size=tick,
            min_order_size=Decimal(5),
            fair=fair,
            spread_ticks=spread_ticks,
            neg_risk_request_id=random_hex(rng) if fields["neg_risk"] else "",
            liquidity=Decimal(f"{rng.uniform(500, 60_000):.5f}"),
            **fields,
        )
        market.volume_24h = float(market.volume) * rng.uniform(0.002, 0.05)
        # A v2 market: Gamma lists CTF ids too, but the market trades its position ids.
        if (version or draw_version(market.condition_id)) == "v2":
            market.version = "v2"
            market.listed_clob_token_ids = (market.yes_token, market.no_token)
            market.yes_token, market.no_token = position_ids(market.condition_id, market.neg_risk)
        # A quote snapshot, kept after the end as Gamma does.
        market.best_bid, market.best_ask = snap_quotes(fair, tick, spread_ticks)
        market.last_trade_price = (market.best_bid + market.best_ask) / 2
        return self._register(market)

    def spawn_market(self, now_ms: int, *, past: bool = False) -> SimMarket:
        """One random single-market event at the next index (also the lifecycle's "new market").

        ``past`` allows roles whose end date already passed (generation at start-up only).
        """
        rng = random.Random(f"{self.seed}:{len(self.markets)}")
        role = draw_role(rng)
        if not past and role.ended_ms_ago is not None:
            role = Role()
        category = rng.choice(text.PLAIN_CATEGORIES) if role.favourite else draw_category(rng)
        end = draw_end(rng, now_ms, role)
        start = min(now_ms, end) - rng.randint(DAY_MS, 90 * DAY_MS) if past else now_ms
        question = text.market_question(rng, category, end)
        slug = text.slugify(question)
        fair = draw_fair(rng, role)
        event = self._new_event(
            slug=slug, title=question, category=category, neg_risk=False,
            start=start, end=end,
        )  # fmt: skip
        winner = None
        if role.resolved:
            winner = "Yes" if rng.random() < fair else "No"
        return self._market(
            rng, question=question, base_slug=slug, category=category, event=event,
            group_item_title="", group_index=0, neg_risk=False, start_ms=start, end_ms=end,
            fair=fair, volume=draw_volume(rng, role), updated_ms=max(start, min(end, now_ms)),
            accepting_orders=role.ended_ms_ago is None, closed=role.resolved, winner=winner,
        )  # fmt: skip

    def _neg_risk_event(self, n_outcomes: int, now_ms: int) -> SimEvent:
        """A multi-outcome event: fair prices sum to ~1, one outcome usually leads."""
        rng = random.Random(f"{self.seed}:{len(self.markets)}:negrisk")
        end = draw_end(rng, now_ms, Role())
        start = now_ms - rng.randint(DAY_MS, 90 * DAY_MS)
        names = text.neg_risk_text(rng, n_outcomes, end)
        weights = [rng.expovariate(1.0) ** 2 for _ in names.items]
        total = sum(weights)
        event = self._new_event(
            slug=text.slugify(names.title), title=names.title, category=names.category,
            neg_risk=True, start=start, end=end,
        )  # fmt: skip
        pairs = zip(names.items, names.questions, strict=True)
        for group_index, (item, question) in enumerate(pairs):
            market_rng = random.Random(f"{self.seed}:{len(self.markets)}")
            fair = min(max(weights[group_index] / total, 0.005), 0.99)
            self._market(
                market_rng, question=question, base_slug=text.slugify(question),
                category=names.category,
                event=event, group_item_title=item, group_index=group_index, neg_risk=True,
                start_ms=start, end_ms=end, fair=fair, updated_ms=now_ms,
                volume=draw_volume(market_rng, Role()),
            )  # fmt: skip
        return event

    def add_external(
        self, condition_id: str, yes_token: str, no_token: str, tick: Decimal, now_ms: int
    ) -> SimMarket:
        """A market whose ids come from elsewhere (a ``--replay`` log), listed for 30 days."""
        question = f"Replayed market {condition_id[:10]}"
        end = now_ms + 30 * DAY_MS
        event = self._new_event(
            slug=text.slugify(question), title=question, category="politics", neg_risk=False,
            start=now_ms, end=end,
        )  # fmt: skip
        market = self._market(
            random.Random(f"{self.seed}:{len(self.markets)}"), question=question,
            base_slug=text.slugify(question), category="politics", event=event,
            group_item_title="", group_index=0, neg_risk=False, start_ms=now_ms, end_ms=end,
            fair=0.5, volume=Decimal(0), updated_ms=now_ms, tick_size=tick, version="v1",
        )  # fmt: skip
        del self._by_condition[market.condition_id]
        del self._by_token[market.yes_token], self._by_token[market.no_token]
        market.condition_id, market.yes_token, market.no_token = condition_id, yes_token, no_token
        market.best_bid = market.best_ask = market.last_trade_price = None
        market.source = "replay"
        self._by_condition[condition_id] = market
        self._by_token[yes_token] = self._by_token[no_token] = market
        return market

    def add_market(self, spec: dict[str, Any], now: datetime) -> SimMarket:
        """A market from a POST /_sim/markets body (see docs/drill-simulation.md)."""
        now_ms = int(now.timestamp() * 1000)
        question, end_ms, yes_price, volume = parse_spec(spec)
        tick = spec_decimal(spec, "tick_size", Decimal("0.01"))
        if tick not in (Decimal("0.1"), *TICKS, Decimal("0.0001")):
            raise MarketSpecError(f"tick_size: {tick} is not a venue tick size")
        neg_risk = spec.get("neg_risk", False)
        if not isinstance(neg_risk, bool):
            raise MarketSpecError("neg_risk: must be true or false")
        version = spec.get("version", "v1")
        if version not in ("v1", "v2"):
            raise MarketSpecError('version: must be "v1" or "v2"')
        event_slug = spec.get("event_slug")
        if event_slug in self._event_by_slug:
            event = self._event_by_slug[event_slug]
        else:
            event = self._new_event(
                slug=text.slugify(str(event_slug or question)), title=question,
                category="politics", neg_risk=neg_risk, start=now_ms, end=end_ms,
            )  # fmt: skip
        base_slug = str(spec.get("slug") or question)
        if spec.get("slug") and base_slug in self._by_slug:
            raise MarketSpecError(f"slug: {base_slug!r} already exists")
        return self._market(
            random.Random(f"{self.seed}:{len(self.markets)}"), question=question,
            base_slug=text.slugify(base_slug), category=event.category, event=event,
            group_item_title="", group_index=len(event.markets), neg_risk=event.neg_risk,
            start_ms=now_ms, end_ms=end_ms, fair=float(yes_price), volume=volume,
            updated_ms=now_ms, tick_size=tick, version=version,
        )  # fmt: skip
