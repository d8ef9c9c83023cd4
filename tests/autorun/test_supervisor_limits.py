"""The account limits in the supervisor: launches filtered, the daily loss limit pauses/flattens.

Real status files (written by the test, as a worker would) in a real data directory; the
supervisor's own tick reads them. No worker process is started: a refused launch never needs
one, and the flatten case uses a stand-in process that records the signal it was sent.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from polymaker.autorun.exits import handle_exit
from polymaker.autorun.guard import LimitGuard, strategy_worst_case
from polymaker.autorun.handlers import flatten
from polymaker.autorun.holdings import Holdings, HoldingsWatcher
from polymaker.autorun.launch import MarketDetails, details_from_topic
from polymaker.autorun.ledger import Ledger
from polymaker.autorun.limits import AccountLimits
from polymaker.autorun.monitor import Task
from polymaker.autorun.snapshot import status_document
from polymaker.autorun.states import TopicState
from polymaker.autorun.supervisor import RunOptions, Supervisor
from polymaker.config.global_config import GlobalConfig, Mode, PathsSection, resolve_paths
from polymaker.config.strategy_defaults import StrategyDefaults
from polymaker.errors import ControlError
from polymaker.exchange.wire.positions import Position

D = Decimal


def _details(topic: str, ask: str | None = "0.70") -> MarketDetails:
    return MarketDetails(
        topic_id=topic,
        condition_id=f"0x{topic}",
        yes_token=f"{topic}-yes",
        no_token=f"{topic}-no",
        side="NO",
        tick_size="0.01",
        min_order_size="5",
        neg_risk=False,
        end_time="2030-01-01T00:00:00Z",
        ask=ask,
    )


def _supervisor(tmp_path: Path, **config: Any) -> Supervisor:
    config_file = tmp_path / "config" / "global_config.json"
    paths = resolve_paths(PathsSection(), config_file)
    made = Supervisor(
        GlobalConfig(**config),
        Mode.DRILL,
        paths,
        StrategyDefaults(),
        RunOptions(config_file=config_file),
    )
    made.ledger = Ledger.load(paths.handled_topics, Mode.DRILL)
    return made


def _write_status(
    supervisor: Supervisor, topic: str, realized: str, pid: int, state: str = "running"
) -> None:
    """A worker's status file as ``worker.status`` writes it (the fields the limits read)."""
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    document = {
        "topic_id": topic,
        "pid": pid,
        "state": state,
        "heartbeat_at": now,
        "started_at": now,
        "position": "0",
        "avg_entry": None,
        "open_orders": [],
        "realized_pnl": realized,
    }
    path = supervisor.paths.status_file(topic)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))


class StandInProcess:
    """A worker process that is never reaped and records each stop and signal it is sent."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.stops: list[bool] = []
        self.signals: list[int] = []

    def signal_leader(self, signum: int) -> bool:
        self.signals.append(signum)
        return True

    def reap(self) -> int | None:
        return None

    def uptime_s(self) -> float:
        return 1.0

    async def stop(self, timeout_s: float, *, force: bool = False) -> int:
        self.stops.append(force)
        return 0


async def _ticks(supervisor: Supervisor, count: int) -> None:
    for _ in range(count):
        supervisor._tick()
        await asyncio.sleep(0.01)
    await asyncio.gather(*supervisor._exit_jobs, return_exceptions=True)


def test_the_daily_loss_limit_pauses_launching_and_a_restart_keeps_the_loss(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    supervisor = _supervisor(tmp_path, daily_loss_limit_usdc=50)
    assert supervisor.ledger is not None
    supervisor.ledger.enqueue("b", reason="screened")
    supervisor.details["b"] = _details("b")
    _write_status(supervisor, "a", "-60.5", pid=4242)  # a worker of today lost 60.5 USDC
    with caplog.at_level(logging.INFO, logger="polymaker.autorun"):
        asyncio.run(_ticks(supervisor, 3))
    assert supervisor.tasks == {} and supervisor.ledger.queue == ("b",), "nothing launched"
    assert supervisor.guard.realized_today == D("-60.5")
    messages = [record.getMessage() for record in caplog.records]
    assert sum(m.startswith("daily loss limit reached: realized") for m in messages) == 1
    assert sum(m.startswith("b: not launched: daily loss limit") for m in messages) == 1
    saved = json.loads((supervisor.paths.data_dir / "daily_pnl.json").read_text())
    assert saved["runs"]["a:4242"]["last"] == "-60.5"
    # The worker's status file is gone (e.g. overwritten by a new run): the day keeps the loss.
    supervisor.paths.status_file("a").unlink()
    again = LimitGuard(
        AccountLimits.from_config(supervisor.config),
        supervisor.paths.status_dir,
        supervisor.paths.data_dir,
        datetime.now(UTC),
    )
    again.observe(datetime.now(UTC))
    assert again.realized_today == D("-60.5") and str(again.action) == "pause"


def _running_task(supervisor: Supervisor, topic: str, pid: int) -> StandInProcess:
    ledger = supervisor.ledger
    assert ledger is not None
    ledger.enqueue(topic, reason="screened")
    ledger.transition(topic, TopicState.STARTING, reason="launch")
    ledger.transition(topic, TopicState.RUNNING, reason="first heartbeat")
    process = StandInProcess(pid=pid)
    supervisor.tasks[topic] = Task(
        topic_id=topic,
        process=process,  # type: ignore[arg-type]
        details=_details(topic),
        params_file=supervisor.paths.params_file(topic),
        status_file=supervisor.paths.status_file(topic),
        log_file=supervisor.paths.topic_log(topic),
    )
    return process


def test_flatten_on_daily_loss_asks_every_trading_worker_once_to_sell_out(tmp_path: Path) -> None:
    supervisor = _supervisor(tmp_path, daily_loss_limit_usdc=10, flatten_on_daily_loss=True)
    trading = _running_task(supervisor, "a", 5151)
    starting = _running_task(supervisor, "b", 5152)
    _write_status(supervisor, "a", "-12", pid=5151)
    _write_status(supervisor, "b", "0", pid=5152, state="starting")
    asyncio.run(_ticks(supervisor, 3))
    assert trading.signals == [signal.SIGUSR1] and trading.stops == [], "one request, no stop"
    assert supervisor.tasks["a"].flattening
    ledger = supervisor.ledger
    assert ledger is not None
    flattening = ledger.get("a")
    assert flattening is not None and flattening.state is TopicState.STOPPING
    assert flattening.last_reason.startswith("flattening (daily loss limit")
    # No signal handler may be installed yet: a starting worker is stopped gracefully instead.
    assert starting.signals == [] and starting.stops == [False]
    entry = ledger.get("b")
    assert entry is not None and entry.state is TopicState.STOPPING
    assert "daily loss limit" in entry.last_reason


def test_a_flattened_worker_that_exits_0_ends_stopped_not_finished(tmp_path: Path) -> None:
    supervisor = _supervisor(tmp_path)
    _running_task(supervisor, "a", 5151)
    _write_status(supervisor, "a", "0", pid=5151)
    asyncio.run(_ticks(supervisor, 1))
    assert flatten(supervisor, "flatten command", "a") == 1
    task = supervisor.tasks["a"]
    asyncio.run(handle_exit(supervisor, task, 0))
    entry = supervisor.ledger.get("a")  # type: ignore[union-attr]
    assert entry is not None and entry.state is TopicState.STOPPED
    with pytest.raises(ControlError, match="unknown topic"):
        flatten(supervisor, "flatten command", "nope")


def test_running_workers_reserve_their_worst_case_and_refusals_are_logged_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    limits = AccountLimits(max_total_exposure_usdc=D(15))
    guard = LimitGuard(limits, tmp_path / "status", tmp_path, datetime.now(UTC))
    guard.observe(datetime.now(UTC))
    with caplog.at_level(logging.WARNING, logger="polymaker.autorun"):
        for _ in range(3):
            admitted = guard.admit(["b", "c"], ["a"], lambda topic: D(7))
            assert admitted == ["b"], "a (running, 7) + b (7) fit in 15; c would make 21"
    refusals = [r.getMessage() for r in caplog.records if "not launched" in r.getMessage()]
    assert len(refusals) == 1 and refusals[0].startswith("c: not launched: exposure")
    assert guard.admit(["c"], [], lambda topic: D(7)) == ["c"], "admitted once room is made"


def test_the_worst_case_is_max_position_shares_at_the_screened_ask(tmp_path: Path) -> None:
    topic = {
        "topic_id": "t",
        "condition_id": "0x1",
        "yes_token": "1",
        "no_token": "2",
        "preferred_side": "NO",
        "end_time": "2030-01-01T00:00:00Z",
        "ask": "0.72",
    }
    details = details_from_topic(topic)
    assert details.ask == "0.72"
    defaults = StrategyDefaults.model_validate({"default": {"max_position_shares": 10}})
    file = tmp_path / "strategy.json"
    assert strategy_worst_case(defaults, "t", details, file) == D("7.20")
    unknown_ask = _details("t", ask=None)
    assert strategy_worst_case(defaults, "t", unknown_ask, file) == D(10), "1 USDC a share"


def _held_status(supervisor: Supervisor, topic: str) -> None:
    """A stale status file of a stopped topic that still says it holds 10 shares."""
    _write_status(supervisor, topic, "0", pid=777, state="stopped")
    path = supervisor.paths.status_file(topic)
    document = json.loads(path.read_text())
    path.write_text(json.dumps({**document, "position": "10", "avg_entry": "0.5"}))


def test_markets_held_count_what_the_exchange_holds_not_stale_status_files(
    tmp_path: Path,
) -> None:
    supervisor = _supervisor(tmp_path, max_markets_held=1)
    assert supervisor.ledger is not None
    _held_status(supervisor, "old")  # e.g. written before the drill world was reset
    supervisor.ledger.enqueue("b", reason="screened")
    supervisor.details["b"] = _details("b")
    supervisor.details["old"] = _details("old")
    # The exchange says the wallet holds nothing: the stale file must not block the launch.
    watcher = HoldingsWatcher(lambda: _holdings(), interval_s=3600)
    watcher.latest = Holdings((), (), 0.0)
    supervisor.holdings = watcher
    supervisor._observe_limits(datetime.now(UTC))
    assert supervisor.guard.exposures == ()
    admitted = supervisor.guard.admit(["b"], [], supervisor._worst_case)
    assert admitted == ["b"]
    # The exchange says the wallet does hold the old market: now the cap is reached, and
    # status shows the shares as held without a worker.
    held = Position("old-no", "0xold", D(10), D("0.5"), False)
    watcher.latest = Holdings((held,), (), 0.0)
    supervisor._observe_limits(datetime.now(UTC))
    assert [e.topic_id for e in supervisor.guard.exposures] == ["old"]
    assert supervisor.guard.admit(["b"], [], supervisor._worst_case) == []
    [unmanaged] = status_document(supervisor)["unmanaged"]
    assert (unmanaged["topic_id"], unmanaged["shares"]) == ("old", "10")


async def _holdings() -> Holdings:
    return Holdings((), (), 0.0)
