"""The drill exchange process: one asyncio loop, five loopback aiohttp sites.

Gamma's ``/markets/{id}`` and the CLOB's ``/markets/{condition_id}`` clash, so Gamma, the CLOB
(REST, both WebSocket channels, ``/_sim/``), the Data API, the relayer and the Polygon node
(JSON-RPC) each get their own port; every API is served at its port's root, which is also the
path the SDK signs for L2 HMAC.

A background task (every ``tick_ms``) advances the simulator's hot markets, settlement and GTD
expiry (``engine.advance``), order-heartbeat deadlines and WebSocket faults, then fans the
engine's events out. Routes that change the engine flush events right away.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp.typedefs import Handler

from polymaker.drill import (
    routes_clob,
    routes_data,
    routes_gamma,
    routes_orders,
    routes_relayer,
    routes_rpc,
)
from polymaker.drill.auth import ApiCreds
from polymaker.drill.chain import Chain
from polymaker.drill.engine import MatchingEngine
from polymaker.drill.faults import FaultPlan
from polymaker.drill.inspect import add_inspect_routes
from polymaker.drill.ledger import Ledger
from polymaker.drill.routes_common import ApiError, json_response
from polymaker.drill.simulator import LifecycleRates, MarketAppeared, SimParams, Simulator
from polymaker.drill.universe import Universe
from polymaker.drill.wallets import WalletRegistry
from polymaker.drill.world import SAVE_EVERY_S, load_world, save_world
from polymaker.drill.ws import WsHub, add_ws_routes
from polymaker.exchange.urls import ExchangeUrls

if TYPE_CHECKING:
    from polymaker.drill.replay import Replay

log = logging.getLogger("polymaker.drill")

VENUE_KEY: web.AppKey[Venue] = web.AppKey("venue")


@dataclass(frozen=True)
class SimOptions:
    """Everything ``polymaker sim`` can be told; see docs/drill-exchange.md for each flag."""

    host: str = "127.0.0.1"
    port: int = 0  # CLOB; Gamma = port + 1, Data + 2, relayer + 3, RPC + 4 (ephemeral when 0)
    markets: int = 200
    seed: int = 1
    balance: Decimal = Decimal("10000")
    speed: float = 1.0
    volatility: float = 0.8  # logit units per sqrt(simulated day)
    takers_per_minute: float = 3.0  # per watched market, simulated time
    replay: Path | None = None
    faults: FaultPlan = field(default_factory=FaultPlan)
    tick_ms: int = 50
    max_skew_s: int = 30
    settle_delays_ms: tuple[int, int] = (1000, 2000)
    new_markets_per_hour: float = 0.0
    resolve_delay_s: float = 1800.0
    state_file: Path | None = None  # the drill world, kept across restarts (``world.py``)


@dataclass
class HeartbeatState:
    """An armed order heartbeat of one API key: the id it expects and when it fires."""

    expected_id: str
    deadline_ms: int


class Venue:
    """Shared state of one drill exchange: engine, universe, simulator, keys, clock, hub."""

    def __init__(
        self,
        options: SimOptions,
        *,
        universe: Universe,
        ledger: Ledger,
        engine: MatchingEngine,
        simulator: Simulator | None,
        replay: Replay | None,
    ) -> None:
        self.options = options
        self.universe = universe
        self.ledger = ledger
        self.engine = engine
        self.simulator = simulator
        self.replay = replay
        self.clock_offset_ms = 0
        # Fault schedules count from the server's start (``--faults`` offsets are relative).
        self.faults = options.faults.starting_at(self.now_ms())
        self.rng = random.Random(options.seed)
        self.server_secret = f"polymaker-drill-{options.seed}".encode()
        self.keys: dict[str, ApiCreds] = {}
        self.heartbeats: dict[str, HeartbeatState] = {}
        self.hub = WsHub(self)
        engine.watched = self.hub.watches
        self.user_addresses: set[str] = set()
        self.wallets = WalletRegistry()
        self.chain = Chain()

    def now_ms(self) -> int:
        """Server time in ms (wall clock plus the ``/_sim/clock`` skew)."""
        return int(time.time() * 1000) + self.clock_offset_ms

    def now_s(self) -> int:
        """Server time in unix seconds."""
        return self.now_ms() // 1000

    def market_of_token(self, token_id: str) -> Any:
        """The SimMarket trading ``token_id``; unknown tokens are a 404 like the venue's."""
        try:
            return self.universe.by_token(token_id)
        except KeyError:
            raise ApiError(404, f"market not found for token_id {token_id}") from None

    def market_of_condition(self, condition_id: str) -> Any:
        """The SimMarket with ``condition_id`` or a 404."""
        try:
            return self.universe.by_condition(condition_id)
        except KeyError:
            raise ApiError(404, f"market not found: {condition_id}") from None

    def touch(self, condition_id: str) -> None:
        """Let the simulator catch the market up before its book is read or traded."""
        if self.simulator is not None:
            self.simulator.touch(condition_id, self.now_ms())

    def mark_hot(self, condition_id: str) -> None:
        """Tell the simulator a user trades this market (it then steps it every tick)."""
        if self.simulator is not None:
            self.simulator.set_hot(condition_id, True)

    def account(self, address: str) -> None:
        """Make sure ``address`` has a funded account (the drill balance on first use)."""
        self.ledger.ensure(address)
        self.user_addresses.add(address.lower())

    def key_accounts(self, creds: ApiCreds) -> list[str]:
        """The accounts an API key acts for: its owner's wallets that hold an account.

        All keys of one owner share them, as on the venue (orders, trades and cancels of a
        key cover every wallet its owner trades for).
        """
        known = set(self.ledger.accounts())
        return [a for a in self.wallets.addresses_of(creds.address) if a in known]

    def flush(self) -> None:
        """Fan out every engine event produced since the last flush."""
        events = self.engine.drain_events()
        if events:
            self.hub.publish(events)

    def tick(self) -> None:
        """One background step: simulator, settlement, heartbeats, WS faults, fan-out."""
        now = self.now_ms()
        if self.simulator is not None:
            for change in self.simulator.step(now):
                if isinstance(change, MarketAppeared):
                    self.hub.announce_market(change.market, now)
        if self.replay is not None:
            self.replay.step(now)
        self.engine.advance(now)  # its events are also queued for drain_events()
        self._expire_heartbeats(now)
        self.flush()
        self.hub.apply_faults(now)

    def _expire_heartbeats(self, now_ms: int) -> None:
        for key, state in list(self.heartbeats.items()):
            if now_ms < state.deadline_ms:
                continue
            del self.heartbeats[key]
            creds = self.keys.get(key)
            if creds is None:
                continue
            orders = [
                (o.id, o.maker_address)
                for address in self.key_accounts(creds)
                for o in self.engine.open_orders(maker_address=address)
                if o.owner == key
            ]
            for order_id, maker in orders:
                self.engine.cancel(order_id, maker, now_ms)
            log.info("heartbeat of key %s expired: canceled %d orders", key, len(orders))


@web.middleware
async def _error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Venue-style JSON errors; an unexpected exception is logged and answered as JSON 500."""
    try:
        return await handler(request)
    except ApiError as error:
        return error.response()
    except web.HTTPException as error:
        if error.status < 400:
            raise
        reason = "not found" if error.status == 404 else error.reason
        return json_response({"error": reason}, status=error.status)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("unexpected error in %s %s", request.method, request.path)
        return json_response({"error": "Internal Server Error"}, status=500)


@web.middleware
async def _fault_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Injected latency and HTTP faults from ``--faults`` (never on /_sim/ or WebSockets)."""
    venue = request.app[VENUE_KEY]
    path = request.path
    if path.startswith(("/_sim/", "/ws/")):
        return await handler(request)
    delay_ms = venue.faults.latency_ms(request.method, path, venue.rng)
    if delay_ms:
        await asyncio.sleep(delay_ms / 1000)
    fault = venue.faults.http_fault(request.method, path, venue.rng, venue.now_ms())
    if fault is None:
        return await handler(request)
    response = json_response(fault.body(), status=fault.status)
    if fault.retry_after_s is not None:
        response.headers["Retry-After"] = str(fault.retry_after_s)
    return response


def _app(venue: Venue) -> web.Application:
    app = web.Application(
        middlewares=[_error_middleware, _fault_middleware], client_max_size=2 * 1024 * 1024
    )
    app[VENUE_KEY] = venue
    return app


class DrillServer:
    """Builds the venue, serves it on five loopback ports, runs the background task."""

    def __init__(self, options: SimOptions) -> None:
        self.options = options
        self.venue: Venue | None = None
        self._runners: list[web.AppRunner] = []
        self._ports: list[int] = []
        self._task: asyncio.Task[None] | None = None
        self._warm: asyncio.Task[None] | None = None

    async def start(self) -> ExchangeUrls:
        """Generate the universe, bind the sites, start ticking; returns the URLs."""
        venue = build_venue(self.options)
        self.venue = venue
        gamma, clob, data, relayer, rpc = (_app(venue) for _ in range(5))
        routes_gamma.add_routes(gamma)
        routes_clob.add_routes(clob)
        routes_orders.add_routes(clob)
        add_ws_routes(clob)
        add_inspect_routes(clob)
        routes_data.add_routes(data)
        routes_relayer.add_routes(relayer)
        routes_rpc.add_routes(rpc)
        base = self.options.port
        for offset, app in enumerate((clob, gamma, data, relayer, rpc)):
            runner = web.AppRunner(app, access_log=None, handle_signals=False)
            await runner.setup()
            site = web.TCPSite(
                runner, self.options.host, base + offset if base else 0, reuse_address=True
            )
            await site.start()
            self._runners.append(runner)
            self._ports.append(runner.addresses[0][1])
        self._task = asyncio.create_task(self._loop())
        self._warm = asyncio.create_task(self._warm_gamma())
        return self.urls

    async def _warm_gamma(self) -> None:
        """Serialize every market's Gamma JSON once, in slices, so listings start fast."""
        assert self.venue is not None
        markets = list(self.venue.universe.markets)
        for start in range(0, len(markets), 250):
            for market in markets[start : start + 250]:
                market.gamma_json()
            await asyncio.sleep(0)

    @property
    def urls(self) -> ExchangeUrls:
        """The endpoint URLs, the relayer's and the node's included (valid after :meth:`start`)."""
        clob, gamma, data, relayer, rpc = self._ports
        host = self.options.host
        return ExchangeUrls(
            gamma_url=f"http://{host}:{gamma}",
            clob_url=f"http://{host}:{clob}",
            data_url=f"http://{host}:{data}",
            ws_market_url=f"ws://{host}:{clob}/ws/market",
            ws_user_url=f"ws://{host}:{clob}/ws/user",
            relayer_url=f"http://{host}:{relayer}",
            rpc_url=f"http://{host}:{rpc}",
        )

    async def _loop(self) -> None:
        assert self.venue is not None
        interval = self.options.tick_ms / 1000
        next_save = time.monotonic() + SAVE_EVERY_S
        while True:
            await asyncio.sleep(interval)
            try:
                self.venue.tick()
            except Exception:
                log.exception("drill background tick failed")
            if time.monotonic() >= next_save:
                next_save = time.monotonic() + SAVE_EVERY_S
                self.save()

    def save(self) -> None:
        """Write the drill world to ``--state-file`` (if any); a failure is logged, not fatal."""
        path = self.options.state_file
        if path is None or self.venue is None:
            return
        self.venue.flush()  # every event out before its state is kept
        try:
            save_world(self.venue, path)
        except OSError as error:
            log.error("cannot save the drill world to %s: %s", path, error)
        except Exception:  # a bug in saving must never stop the exchange
            log.exception("cannot save the drill world to %s", path)

    async def stop(self) -> None:
        """Stop ticking, close every WebSocket and site."""
        for task in (self._task, self._warm):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self.save()
        if self.venue is not None:
            await self.venue.hub.close_all()
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()


def build_venue(options: SimOptions) -> Venue:
    """Universe, ledger, engine and simulator wired together (no sockets).

    With ``state_file`` holding a saved world, that world is continued instead (its universe,
    accounts, books and clock; ``markets``/``seed`` then no longer apply).
    """
    world = None if options.state_file is None else load_world(options.state_file)
    if world is not None:
        venue = _fresh_venue(dataclasses.replace(options, markets=0))
        world.restore_into(venue)
        log.info(
            "continuing the drill world of %s (%d markets, saved %s)",
            options.state_file,
            len(venue.universe.markets),
            datetime.fromtimestamp(world.saved_ms / 1000, UTC).isoformat(timespec="seconds"),
        )
        return venue
    return _fresh_venue(options)


def _fresh_venue(options: SimOptions) -> Venue:
    now = datetime.now(UTC)
    universe = Universe.generate(options.markets, options.seed, now)
    ledger = Ledger(initial_balance=options.balance)
    engine = MatchingEngine(ledger, settle_delays_ms=options.settle_delays_ms)
    rates = LifecycleRates(options.new_markets_per_hour, options.resolve_delay_s)
    params = SimParams(volatility=options.volatility, takers_per_minute=options.takers_per_minute)
    simulator = Simulator(
        universe, engine, seed=options.seed, speed=options.speed, params=params, rates=rates
    )
    replay = None
    if options.replay is not None:
        from polymaker.drill.replay import load_replay

        replay = load_replay(options.replay, universe=universe, engine=engine, speed=options.speed)
    simulator.register_markets(int(now.timestamp() * 1000))
    engine.drain_events()  # closing already-ended markets at start-up is not news
    return Venue(
        options, universe=universe, ledger=ledger, engine=engine, simulator=simulator, replay=replay
    )
