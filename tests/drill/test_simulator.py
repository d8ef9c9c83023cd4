"""The market simulator driving the real matching engine: laziness, queue priority, lifecycle."""

from __future__ import annotations

import json
import random
import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from polymaker.drill.engine import MatchingEngine, OrderRequest, TickSizeChanged
from polymaker.drill.ledger import Ledger
from polymaker.drill.sim_market import HOUSE_MAKER, advance_logit, logit, poisson
from polymaker.drill.simulator import (
    LifecycleRates,
    MarketAppeared,
    MarketEnded,
    MarketResolved,
    SimClock,
    SimParams,
    Simulator,
)
from polymaker.drill.universe import Universe

NOW = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
T0 = int(NOW.timestamp() * 1000)
USER = "0x" + "a" * 40
CALM = SimParams(volatility=0.0, jumps_per_day=0.0, end_drift=0.0, takers_per_minute=30.0)


def build(n: int = 200, *, seed: int = 9, **kwargs) -> tuple[Universe, MatchingEngine, Simulator]:
    universe = Universe.generate(n, seed=seed, now=NOW)
    engine = MatchingEngine(Ledger())
    simulator = Simulator(universe, engine, seed=seed, **kwargs)
    simulator.register_markets(T0)
    return universe, engine, simulator


def add(simulator: Simulator, *, yes: float, hours: float, tick: str = "0.01", **extra):
    end = datetime.fromtimestamp((T0 + hours * 3_600_000) / 1000, tz=UTC).isoformat()
    body = {"question": f"Will test {yes} {hours} hold?", "end_date": end, "yes_price": yes,
            "volume": 50_000, "tick_size": tick, **extra}  # fmt: skip
    return simulator.add_market(body, T0)


def user_bid(engine: MatchingEngine, token: str, price: Decimal, size: str, now_ms: int) -> str:
    order_id = "0x" + "e" * 64
    result = engine.place(
        OrderRequest(order_id, "user-key", USER, token, "BUY", price, Decimal(size), "GTC",
                     True, 0),
        now_ms,
    )  # fmt: skip
    assert result.success, result.error
    return order_id


def test_sim_clock_scales_elapsed_time():
    clock = SimClock(start_ms=1_000, speed=60.0)

    assert clock.sim_ms(1_000) == 1_000
    assert clock.sim_ms(2_000) == 61_000
    assert SimClock(5, 1.0).sim_ms(12345) == 12345
    with pytest.raises(ValueError):
        SimClock(0, 0.0)


def test_nothing_is_simulated_before_a_market_is_looked_at():
    universe, engine, simulator = build(300)

    for k in range(50):
        simulator.step(T0 + k * 1000)

    assert engine.open_orders(maker_address=HOUSE_MAKER) == []
    market = next(m for m in universe.markets if m.tradable)
    simulator.touch(market.condition_id, T0 + 60_000)
    house = engine.open_orders(maker_address=HOUSE_MAKER)
    assert house and {o.market for o in house} == {market.condition_id}


def test_first_touch_builds_a_ladder_with_a_realistic_spread_and_matching_gamma_quotes():
    universe, engine, simulator = build(100)
    for market in [m for m in universe.markets if m.tradable][:20]:
        simulator.touch(market.condition_id, T0)

        book = engine.book(market.yes_token)
        best_bid, best_ask = book.bids[-1][0], book.asks[-1][0]
        assert 1 <= (best_ask - best_bid) / market.tick_size <= 3
        assert len(book.bids) >= 1 and len(book.asks) >= 1 and len(book.bids) + len(book.asks) >= 4
        assert all(Decimal(50) <= size <= Decimal(500) for _, size in book.bids + book.asks)
        assert best_bid <= Decimal(str(simulator.fair(market.condition_id))) + market.tick_size
        gamma = json.loads(market.gamma_json())
        assert (gamma["bestBid"], gamma["bestAsk"]) == (float(best_bid), float(best_ask))


def test_touch_after_a_month_is_one_jump_without_takers():
    universe, engine, simulator = build(100)
    market = max((m for m in universe.markets if m.tradable), key=lambda m: m.end_ms)
    simulator.touch(market.condition_id, T0)
    trades_before = len(engine.trades(condition_id=market.condition_id))

    started = time.perf_counter()
    simulator.touch(market.condition_id, T0 + 30 * 86_400_000)
    elapsed = time.perf_counter() - started

    # One jump, not a walk: stepping a month at the simulator's step would take minutes. The
    # bound is loose because a loaded CI machine can stall any single call for ~0.2 s.
    assert elapsed < 1.0
    assert len(engine.trades(condition_id=market.condition_id)) == trades_before


def test_step_over_20000_cold_markets_costs_nothing_per_market():
    universe, _, simulator = build(20_000, seed=2)
    assert len(universe.markets) == 20_000

    started = time.perf_counter()
    for k in range(1_000):
        simulator.step(T0 + k * 50)
    per_step = (time.perf_counter() - started) / 1_000

    assert per_step < 0.002, f"{per_step * 1e6:.0f} us per step"


def test_a_resting_bid_fills_only_after_the_house_size_ahead_of_it_traded():
    _, engine, simulator = build(50, params=CALM)
    market = add(simulator, yes=0.5, hours=24 * 30)
    simulator.set_hot(market.condition_id, True)
    simulator.touch(market.condition_id, T0)
    best_bid = engine.book(market.yes_token).bids[-1][0]
    ahead = [o for o in engine.open_orders(maker_address=HOUSE_MAKER, token_id=market.yes_token)
             if o.price == best_bid]  # fmt: skip
    assert len(ahead) == 1
    mine = user_bid(engine, market.yes_token, best_bid, "20", T0)

    filled_at = None
    for k in range(1, 3_601):  # one simulated hour, one step per second
        now = T0 + k * 1000
        simulator.step(now)
        house = engine.order(ahead[0].id)
        user = engine.order(mine)
        if user.size_matched > 0:
            assert house.size_matched == house.original_size, "user filled before the queue ahead"
            filled_at = filled_at or now
        if user.size_matched == user.original_size:
            break

    assert filled_at is not None, "takers never reached the resting bid"
    assert engine.order(mine).size_matched == Decimal(20)
    assert market.volume > Decimal(50_000)


def test_same_seed_same_trades():
    def run() -> list[tuple[str, Decimal, Decimal]]:
        universe, engine, simulator = build(80, seed=4)
        hot = [m for m in universe.markets if m.tradable][:3]
        for market in hot:
            simulator.set_hot(market.condition_id, True)
        for k in range(600):
            simulator.step(T0 + k * 500)
        return [(t.side, t.price, t.size) for m in hot
                for t in engine.trades(condition_id=m.condition_id)]  # fmt: skip

    first = run()
    assert first and first == run()


def test_tick_size_goes_to_0_001_near_the_extremes_and_back():
    _, engine, simulator = build(10, params=CALM)
    market = add(simulator, yes=0.98, hours=24 * 30)
    engine.drain_events()

    simulator.touch(market.condition_id, T0)

    changes = [e for e in engine.drain_events() if isinstance(e, TickSizeChanged)]
    assert {(c.old, c.new) for c in changes} == {(Decimal("0.01"), Decimal("0.001"))}
    assert engine.market(market.condition_id).tick_size == Decimal("0.001")
    assert json.loads(market.gamma_json())["orderPriceMinTickSize"] == 0.001
    simulator._sims[market.condition_id].x = logit(0.5)  # move the latent fair back inside

    simulator.touch(market.condition_id, T0 + 1000)

    assert engine.market(market.condition_id).tick_size == Decimal("0.01")
    assert all(o.price % Decimal("0.01") == 0
               for o in engine.open_orders(condition_id=market.condition_id))  # fmt: skip


def test_a_tick_set_from_outside_is_kept_and_the_ladder_moves_to_it():
    _, engine, simulator = build(10, params=CALM)
    market = add(simulator, yes=0.5, hours=24 * 30)
    simulator.touch(market.condition_id, T0)
    engine.set_tick_size(market.condition_id, Decimal("0.001"), T0 + 1)
    market.tick_size = Decimal("0.001")  # what POST /_sim/markets/{id}/tick-size does

    simulator.touch(market.condition_id, T0 + 1000)

    assert engine.market(market.condition_id).tick_size == Decimal("0.001")
    book = engine.book(market.yes_token)
    assert (book.asks[-1][0] - book.bids[-1][0]) / Decimal("0.001") in (1, 2, 3)
    assert len(engine.open_orders(condition_id=market.condition_id)) == 2 * CALM.ladder_levels


def test_markets_end_then_resolve_on_simulated_time():
    rates = LifecycleRates(resolve_delay_s=3600)
    _, engine, simulator = build(10, speed=3600.0, rates=rates)
    market = add(simulator, yes=0.9, hours=1)
    simulator.set_hot(market.condition_id, True)
    simulator.touch(market.condition_id, T0)

    events = simulator.step(T0 + 1_001)  # 1.001 s of engine time = 60.06 simulated minutes

    assert MarketEnded(market.condition_id) in events
    gamma = json.loads(market.gamma_json())
    assert not gamma["acceptingOrders"] and not gamma["closed"]
    assert engine.open_orders(condition_id=market.condition_id) == []
    refused = engine.place(
        OrderRequest("0x" + "f" * 64, "k", USER, market.yes_token, "BUY", Decimal("0.5"),
                     Decimal(10), "GTC", False, 0), T0 + 1_200)  # fmt: skip
    assert not refused.success
    assert not simulator.is_hot(market.condition_id)

    later = simulator.step(T0 + 20_000)  # 20 simulated hours: far past the 1 h mean delay

    resolved = [e for e in later if isinstance(e, MarketResolved)]
    assert [e.condition_id for e in resolved if e.condition_id == market.condition_id]
    gamma = json.loads(market.gamma_json())
    assert gamma["closed"] and not gamma["acceptingOrders"]
    assert json.loads(gamma["outcomePrices"]) in (["1", "0"], ["0", "1"])


def test_new_markets_appear_in_the_universe_and_the_engine():
    rates = LifecycleRates(new_markets_per_hour=60)
    universe, engine, simulator = build(10, rates=rates)

    events = simulator.step(T0 + 3_600_000)

    appeared = [e.market for e in events if isinstance(e, MarketAppeared)]
    assert 30 < len(appeared) < 100
    assert universe.markets[-len(appeared) :] == appeared
    for market in appeared:
        assert engine.market(market.condition_id).yes_token == market.yes_token
        assert universe.by_slug(market.slug) is market
        assert market.tradable and market.end_ms > market.start_ms


def test_already_ended_markets_are_closed_in_the_engine():
    universe, engine, _ = build(300)
    ended = [m for m in universe.markets if not m.tradable]
    assert ended

    result = engine.place(
        OrderRequest("0x" + "d" * 64, "k", USER, ended[0].yes_token, "BUY", Decimal("0.5"),
                     Decimal(10), "GTC", False, 0), T0)  # fmt: skip

    assert not result.success


def test_fair_process_drifts_toward_the_outcome_near_the_end():
    params = SimParams(volatility=0.0, jumps_per_day=0.0, end_drift=1.0)
    rng = random.Random(1)
    end = 10 * 86_400_000

    near = advance_logit(logit(0.8), rng, params, 0, end - 60_000, end)

    assert 1 / (1 + 2.718281828**-near) > 0.99
    assert advance_logit(1.0, rng, params, end, end + 10**9, end) == 1.0  # frozen after the end


def test_one_long_jump_has_the_spread_of_many_small_steps():
    params = SimParams(volatility=1.0, jumps_per_day=0.0, end_drift=0.0)
    day = 86_400_000
    rng = random.Random(5)
    jumps = [advance_logit(0.0, rng, params, 0, 4 * day, 10**12) for _ in range(2_000)]
    variance = sum(x * x for x in jumps) / len(jumps)

    assert 3.4 < variance < 4.6  # volatility^2 * 4 days = 4
    assert sum(poisson(random.Random(i), 3.0) for i in range(2_000)) / 2_000 == pytest.approx(
        3.0, abs=0.25
    )
