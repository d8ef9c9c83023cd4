"""Harness for worker integration tests: a drill exchange, quiet markets, a counterparty, and
``polymaker worker`` as a real subprocess (own process group, killed in teardown).

A "quiet" market is created with ``POST /_sim/markets`` and then left alone by the simulator
(no house makers or takers), so the test's counterparty alone shapes the book: every fill the
worker sees is one the test caused.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account

from polymaker.drill.server import SimOptions
from polymaker.drill.testing import InProcessSim, in_process_sim
from polymaker.exchange.sdk import create_secure_client
from tests.polling import wait_for

FAST_STRATEGY: dict[str, Any] = {
    "order_size": 5,
    "max_position_shares": 5,
    "drop_pct": 0.05,
    "drop_window_minutes": 0.02,
    "signal_sample_s": 0.1,
    "profit_pct": 0.02,
    "sell_mode": "conservative",
    "sell_only_minutes_before_end": 0,
    "cooldown_s": 30,
    "min_requote_interval_s": 0,
    "stale_book_s": 10,
    "stop_timeout_s": 6,
    "order_ack_timeout_s": 5,
    "cancel_timeout_s": 3,
    "settle_poll_s": 0.5,
    "max_retry_backoff_s": 2,
}


@dataclass
class QuietMarket:
    """A drill market only the test trades on."""

    condition_id: str
    yes: str
    no: str
    slug: str
    end_date: str
    tick: Decimal


@dataclass
class Drill:
    """The running drill exchange plus helpers to steer and inspect it."""

    sim: InProcessSim
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.sim.urls.clob_url, timeout=10)

    def quiet_market(
        self, *, end_in_s: float = 3600, tick: str = "0.01", version: str = "v1"
    ) -> QuietMarket:
        """Create a market, then stop the simulator from trading it and clear its ladder.

        ``version="v2"`` lists it under Protocol V2: it trades its ``positionIds``.
        """
        end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + end_in_s))
        body = {
            "question": f"Quiet test market {time.monotonic_ns()}?",
            "end_date": end,
            "yes_price": 0.6,
            "volume": 50000,
            "tick_size": tick,
            "version": version,
        }
        answer = self.http.post("/_sim/markets", json=body)
        answer.raise_for_status()
        gamma = answer.json()
        assert gamma["version"] == version
        yes, no = gamma["positionIds"] if version == "v2" else json.loads(gamma["clobTokenIds"])
        condition_id = gamma["conditionId"]
        self.sim.silence(condition_id)
        return QuietMarket(condition_id, yes, no, gamma["slug"], gamma["endDate"], Decimal(tick))

    def open_orders(self, **query: str) -> list[dict[str, Any]]:
        """``GET /_sim/orders`` (open orders of every account)."""
        answer = self.http.get("/_sim/orders", params=query)
        answer.raise_for_status()
        return answer.json()

    def account(self, address: str) -> dict[str, Any]:
        """``GET /_sim/accounts?address=``."""
        answer = self.http.get("/_sim/accounts", params={"address": address.lower()})
        answer.raise_for_status()
        [doc] = answer.json()
        return doc

    def post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        answer = self.http.post(path, json=body or {})
        answer.raise_for_status()
        return answer.json()

    @contextlib.contextmanager
    def faults(self, spec: str) -> Iterator[None]:
        """Inject ``--faults``-style HTTP/WS faults for the duration of the block."""
        from polymaker.drill.faults import FaultPlan, parse_faults

        def install(plan: FaultPlan) -> None:
            self.sim.venue.faults = plan

        self.sim.call(install, parse_faults(spec).starting_at(self.sim.venue.now_ms()))
        try:
            yield
        finally:
            self.sim.call(install, FaultPlan())

    def websocket_count(self) -> int:
        """How many WebSocket connections the exchange holds right now."""
        return self.sim.call(lambda: len(self.sim.venue.hub.conns))

    def drop_websockets(self) -> int:
        """Close every WebSocket connection of the exchange (as an edge reset would)."""

        def drop() -> int:
            hub = self.sim.venue.hub
            conns = list(hub.conns)
            for conn in conns:
                hub.drop(conn)
                asyncio.get_running_loop().create_task(conn.ws.close())
            return len(conns)

        return self.sim.call(drop)


@pytest.fixture(scope="package")
def drill() -> Iterator[Drill]:
    """One drill exchange for every worker test; each test trades its own quiet market.

    Package scope: it stops after the last worker test, so its simulator thread does not run
    (and use CPU) during other test folders, e.g. the idle-CPU test of the market feed.
    """
    options = SimOptions(markets=5, seed=3, settle_delays_ms=(100, 200), tick_ms=20)
    with in_process_sim(options) as sim:
        running = Drill(sim)
        try:
            yield running
        finally:
            running.http.close()


class Counterparty:
    """A second account shaping the book with the official SDK (takes and makes)."""

    def __init__(self, drill: Drill) -> None:
        self.client = create_secure_client(Account.create().key.hex(), drill.sim.urls)
        self.address = str(self.client.wallet).lower()

    def buy(self, token: str, price: str, size: str, *, post_only: bool = False) -> str:
        """A limit BUY (buying the complement token is how YES is sold without shares)."""
        result = self.client.place_limit_order(
            asset_id=token, price=price, size=size, side="BUY", post_only=post_only
        )
        assert result.ok, result
        return str(result.order_id)

    def cancel(self, order_id: str) -> None:
        self.client.cancel_order(order_id=order_id)


@pytest.fixture
def counterparty(drill: Drill) -> Iterator[Counterparty]:
    party = Counterparty(drill)
    try:
        yield party
    finally:
        party.client.close()


@dataclass
class WorkerProcess:
    """A running ``polymaker worker``; ``stop`` sends a signal and waits for the exit code."""

    process: subprocess.Popen[bytes]
    status_file: Path
    log_file: Path
    address: str

    def status(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.status_file.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def wait_status(
        self,
        predicate: Callable[[dict[str, Any]], bool],
        timeout_s: float = 10,
        what: str = "status",
    ) -> dict[str, Any]:
        def check() -> dict[str, Any] | None:
            doc = self.status()
            if self.process.poll() is not None and not (doc and predicate(doc)):
                raise AssertionError(f"worker exited {self.process.returncode}:\n{self.log()}")
            return doc if doc and predicate(doc) else None

        return wait_for(check, timeout_s, what)

    def wait_exit(self, timeout_s: float = 15) -> int:
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"worker did not exit:\n{self.log()}") from None

    def signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signum)

    def log(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")[-6000:]
        except FileNotFoundError:
            return "(no log)"


@dataclass
class WorkerFactory:
    """Writes PARAMS.json and a 0600 key file, and starts workers for one drill exchange."""

    drill: Drill
    tmp_path: Path
    key: str = field(default_factory=lambda: Account.create().key.hex())
    started: list[WorkerProcess] = field(default_factory=list)

    @property
    def address(self) -> str:
        return str(Account.from_key(self.key).address).lower()

    def params(self, market: QuietMarket, **overrides: Any) -> dict[str, Any]:
        strategy = dict(FAST_STRATEGY, **overrides.pop("strategy", {}))
        doc = {
            "topic_id": market.slug,
            "condition_id": market.condition_id,
            "yes_token": market.yes,
            "no_token": market.no,
            "side": "YES",
            "tick_size": str(market.tick),
            "min_order_size": 5,
            "neg_risk": False,
            "end_time": market.end_date,
            "mode": "drill",
            "exchange": self.drill.sim.urls.model_dump(),
            "status_file": str(self.tmp_path / "status" / f"{market.slug}.json"),
            "log_file": str(self.tmp_path / "logs" / f"{market.slug}.log"),
            "strategy": strategy,
        }
        doc.update(overrides)
        return doc

    def start(
        self,
        params: dict[str, Any],
        *,
        env: dict[str, str] | None = None,
        with_key: bool = True,
    ) -> WorkerProcess:
        """Start a worker; ``with_key=False`` leaves every POLYMAKER_ variable unset."""
        params_path = self.tmp_path / f"params-{len(self.started)}.json"
        params_path.write_text(json.dumps(params))
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("POLYMAKER_")}
        full_env["PYTHONUNBUFFERED"] = "1"
        if with_key:
            key_file = self.tmp_path / "wallet.key"
            key_file.write_text(self.key)
            key_file.chmod(0o600)
            full_env["POLYMAKER_KEY_FILE"] = str(key_file)
        full_env.update(env or {})
        log_file = Path(params.get("log_file") or self.tmp_path / "stderr.log")
        stderr_path = self.tmp_path / f"stderr-{len(self.started)}.log"
        argv = [sys.executable, "-m", "polymaker", "worker", str(params_path)]
        with open(stderr_path, "wb") as stderr:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=subprocess.STDOUT,
                env=full_env,
                start_new_session=True,
            )
        worker = WorkerProcess(process, Path(params["status_file"]), log_file, self.address)
        self.started.append(worker)
        return worker

    def stop_all(self) -> None:
        for worker in self.started:
            if worker.process.poll() is None:
                worker.signal(signal.SIGKILL)
                worker.process.wait(timeout=10)


@pytest.fixture
def workers(drill: Drill, tmp_path: Path) -> Iterator[WorkerFactory]:
    factory = WorkerFactory(drill, tmp_path)
    try:
        yield factory
    finally:
        factory.stop_all()


def dec(value: Any) -> Decimal:
    return Decimal(str(value))
