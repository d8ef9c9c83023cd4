"""Harness of the supervisor's end-to-end tests (no tests here): real processes, drill exchange.

``polymaker run`` runs as a real child in its own process group against a ``polymaker sim``
child; the test talks to it only as a user would: config files, the control socket, the
``polymaker`` commands, the data files, and the drill exchange's ``/_sim/`` routes. The filter
only admits markets whose question contains "Autotest", which the test creates with
``POST /_sim/markets``, so the scenario does not depend on the random universe.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from eth_account import Account

from polymaker.autorun.control import send_command
from polymaker.autorun.recovery import worker_params_of
from polymaker.drill.testing import running_sim
from polymaker.errors import ControlError
from polymaker.exchange.urls import ExchangeUrls
from tests.polling import wait_for

FILTER: dict[str, Any] = {
    "min_end_hours": 1,
    "max_end_hours": 48,
    "min_total_volume": 1000,
    "ask_min": 0.5,
    "ask_max": 0.95,
    "max_spread": 0.2,
    "prefer_side": "NO",
    "one_per_event": False,
    "blacklist_terms": [],
    "only": ["Autotest"],
    "timeout_s": 3.0,
    "retries": 0,
}
STRATEGY: dict[str, Any] = {
    "default": {
        "order_size": 5,
        "max_position_shares": 10,
        "buy_price_threshold": 0.9,  # bid <= 0.9: rest a buy at once (an order to sweep)
        "profit_pct": 0.02,
        "sell_only_minutes_before_end": 0,
        "cooldown_s": 5,
    }
}


@dataclass
class Exchange:
    """The drill exchange of one test, with the helpers the scenarios need."""

    urls: ExchangeUrls
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.urls.clob_url, timeout=10)

    def add_market(
        self, name: str, *, yes_price: float = 0.3, version: str = "v1"
    ) -> dict[str, Any]:
        """A market the test filter admits (its question contains "Autotest")."""
        end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 20 * 3600))
        body = {
            "question": f"Autotest {name}?",
            "slug": f"autotest-{name}",
            "end_date": end,
            "yes_price": yes_price,
            "volume": 50000,
            "version": version,
        }
        answer = self.http.post("/_sim/markets", json=body)
        answer.raise_for_status()
        return answer.json()

    def orders(self, **query: str) -> list[dict[str, Any]]:
        """Open orders of every account (``GET /_sim/orders``)."""
        answer = self.http.get("/_sim/orders", params=query)
        answer.raise_for_status()
        return answer.json()


def running(pid: int) -> bool:
    """True while ``pid`` is a live process: a zombie is dead, only waiting for init to reap it.

    Orphans (workers of a SIGKILLed supervisor, killed by its successor) are reaped by PID 1,
    which on some hosts does so late; ``psutil.pid_exists`` alone would count them alive.
    """
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@contextlib.contextmanager
def drill_exchange(tmp_path: Path, **flags: Any) -> Iterator[Exchange]:
    """``polymaker sim`` with a small universe, stopped at the end."""
    with running_sim(tmp_path, markets=5, seed=7, **flags) as urls:
        exchange = Exchange(urls)
        try:
            yield exchange
        finally:
            exchange.http.close()


@dataclass
class Project:
    """A project directory: config files, and ``polymaker`` runs against it."""

    root: Path
    exchange_urls: ExchangeUrls | None
    overrides: dict[str, Any] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)
    runs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        config = self.root / "config"
        config.mkdir(parents=True, exist_ok=True)
        document: dict[str, Any] = {
            "mode": "drill",
            "max_concurrent_workers": 2,
            "topics_poll_sec": 2,
            "stop_timeout_s": 5,
            "heartbeat_stale_s": 15,
            "restart": {"max_retries": 3, "backoff_base_s": 1, "backoff_max_s": 2},
            "screener": {"timeout_s": 20, "retries": 0},
            "status_interval_s": 1,
        }
        if self.exchange_urls is not None:
            document["exchange"] = self.exchange_urls.model_dump()
        document.update(self.overrides)
        (config / "global_config.json").write_text(json.dumps(document))
        (config / "filter_params.json").write_text(json.dumps(FILTER))
        (config / "strategy_defaults.json").write_text(json.dumps(STRATEGY))

    @property
    def config_file(self) -> Path:
        return self.root / "config" / "global_config.json"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("POLYMAKER_")}
        env["PYTHONUNBUFFERED"] = "1"
        env.update(self.extra_env)
        return env

    def start(self, *extra: str) -> subprocess.Popen[bytes]:
        """``polymaker run --no-repl`` in its own process group (output in run-N.log)."""
        log = self.root / f"run-{len(self.runs)}.log"
        with open(log, "wb") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "polymaker", "run", "--global-config",
                 str(self.config_file), "--no-repl", *extra],
                stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                env=self.env(), cwd=self.root, start_new_session=True,
            )  # fmt: skip
        self.runs.append(process)
        return process

    def command(self, *argv: str, timeout_s: float = 60) -> subprocess.CompletedProcess[str]:
        """Run ``polymaker ARGV --global-config F`` to completion."""
        return subprocess.run(
            [sys.executable, "-m", "polymaker", *argv, "--global-config", str(self.config_file)],
            capture_output=True, text=True, env=self.env(), cwd=self.root, timeout=timeout_s,
        )  # fmt: skip

    def run_log(self, index: int = -1) -> str:
        return (self.root / f"run-{index % len(self.runs)}.log").read_text(errors="replace")

    def status(self) -> dict[str, Any] | None:
        """The running supervisor's status reply, or None while none answers."""
        try:
            reply = send_command(self.data_dir, "status", timeout_s=5)
        except ControlError:
            return None
        return reply["result"] if reply.get("ok") else None

    def topics(self) -> dict[str, dict[str, Any]]:
        status = self.status() or {"topics": []}
        return {row["topic_id"]: row for row in status["topics"]}

    def wait_topics(
        self, predicate: Callable[[dict[str, dict[str, Any]]], bool], timeout_s: float, what: str
    ) -> dict[str, dict[str, Any]]:
        def check() -> dict[str, dict[str, Any]] | None:
            if self.runs and self.runs[-1].poll() is not None:
                raise AssertionError(f"supervisor exited:\n{self.run_log()[-3000:]}")
            topics = self.topics()
            return topics if topics and predicate(topics) else None

        return wait_for(check, timeout_s, what)

    def ledger(self) -> dict[str, Any]:
        document = json.loads((self.data_dir / "handled_topics.json").read_text())
        return document["modes"]["drill"]

    def account(self) -> str:
        """The drill account the workers trade as (the throwaway key's address)."""
        key = (self.data_dir / "drill_wallet.key").read_text().strip()
        return str(Account.from_key(key).address).lower()

    def workers(self) -> dict[str, list[int]]:
        """Live workers of this project, by topic: cold starts by their command line, forked
        workers by their process title (both end ``polymaker worker <data/params/T.json>``)."""
        params_dir = self.data_dir / "params"
        found: dict[str, list[int]] = {}
        for process in psutil.process_iter(["cmdline", "status"]):
            if process.info.get("status") == psutil.STATUS_ZOMBIE:
                continue
            params = worker_params_of(process.info.get("cmdline") or [])
            if params is not None and Path(params).parent == params_dir:
                found.setdefault(Path(params).stem, []).append(process.pid)
        return found

    def exit(self, timeout_s: float = 30) -> None:
        """``polymaker exit``; wait for the run to end and check that no worker survives."""
        children = psutil.Process(self.runs[-1].pid).children(recursive=True)
        assert children, "the supervisor has children (workers, screener, ...)"
        done = self.command("exit", timeout_s=timeout_s)
        assert done.returncode == 0, done.stdout + done.stderr
        assert self.runs[-1].wait(timeout=timeout_s) == 0, self.run_log()[-3000:]
        assert self.workers() == {}, "a worker survived the supervisor's exit"
        _gone, alive = psutil.wait_procs(children, timeout=5)
        assert not alive, f"children survived the supervisor's exit: {alive}"

    def screens(self) -> int:
        """Screens the supervisor has completed (from logs/autorun.log)."""
        log = self.root / "logs" / "autorun.log"
        return log.read_text().count("screened ") if log.exists() else 0

    def stop_all(self) -> None:
        """Teardown: SIGTERM, then SIGKILL, every run and every worker left."""
        for process in self.runs:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for process in self.runs:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        for pids in self.workers().values():
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)


@pytest.fixture
def project_factory(tmp_path: Path) -> Iterator[Callable[..., Project]]:
    """Build projects under tmp_path; every run and worker is killed at teardown."""
    made: list[Project] = []

    def make(urls: ExchangeUrls | None, **overrides: Any) -> Project:
        project = Project(tmp_path / f"p{len(made)}", urls, overrides)
        made.append(project)
        return project

    try:
        yield make
    finally:
        for project in made:
            project.stop_all()
