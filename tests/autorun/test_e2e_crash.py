"""The drill checklist, part 2: a killed worker, a killed supervisor, a clean restart.

Real ``polymaker run`` / ``worker`` / ``sim`` processes (see test_e2e_support).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.autorun.test_e2e_support import (
    Project,
    drill_exchange,
    project_factory,
    running,
    wait_for,
)

pytestmark = pytest.mark.integration
__all__ = ["project_factory"]  # the fixture, imported for pytest


def _running(topics: dict[str, dict[str, Any]], names: list[str]) -> bool:
    return all(topics.get(name, {}).get("state") == "running" for name in names)


def test_a_killed_worker_is_swept_then_restarted_with_backoff(
    tmp_path: Path, project_factory: Any
) -> None:
    with drill_exchange(tmp_path) as exchange:
        market = exchange.add_market("k0")
        project: Project = project_factory(exchange.urls)
        project.start()
        topics = project.wait_topics(lambda t: _running(t, ["autotest-k0"]), 40, "a worker")
        account = project.account()
        condition = market["conditionId"]
        wait_for(lambda: exchange.orders(market=condition, maker_address=account), 20, "its order")
        old_pid = topics["autotest-k0"]["pid"]
        os.killpg(old_pid, signal.SIGKILL)
        # The supervisor cancels the dead worker's orders itself, within about 2 s.
        wait_for(
            lambda: not exchange.orders(market=condition, maker_address=account),
            4,
            "the supervisor's sweep of the killed worker's order",
        )
        entry = wait_for(
            lambda: (
                project.ledger()["topics"]["autotest-k0"]["attempts"] == 1
                and project.ledger()["topics"]["autotest-k0"]
            ),
            5,
            "the backoff record",
        )
        assert entry["last_exit_code"] == -9
        assert entry["open_orders_left"] == 0 and entry["position_left"] is not None
        assert (
            "retry 1 of 3" in entry["last_reason"] and "swept 1 open orders" in entry["last_reason"]
        )
        topics = project.wait_topics(
            lambda t: t["autotest-k0"]["state"] == "running" and t["autotest-k0"]["pid"] != old_pid,
            20,
            "the restart after the backoff delay",
        )
        assert topics["autotest-k0"]["restarts"] == 1
        assert project.ledger()["topics"]["autotest-k0"]["starts"] == 2
        project.exit()


def test_a_killed_supervisor_is_recovered_without_duplicates_or_orphans(
    tmp_path: Path, project_factory: Any
) -> None:
    with drill_exchange(tmp_path) as exchange:
        for name in ("r0", "r1", "r2"):
            exchange.add_market(name)
        project: Project = project_factory(exchange.urls)
        first = project.start()
        names = ["autotest-r0", "autotest-r1", "autotest-r2"]
        project.wait_topics(
            lambda t: sum(r["state"] == "running" for r in t.values()) == 2, 40, "two workers"
        )
        # A second supervisor on the same data directory refuses, naming the holder.
        second = project.command("run", "--no-repl")
        assert second.returncode == 1 and f"pid {first.pid}" in second.stderr
        orphans = {pid for pids in project.workers().values() for pid in pids}
        assert len(orphans) == 2
        ledger_before = project.ledger()["topics"]

        os.killpg(first.pid, signal.SIGKILL)  # the supervisor only: workers are other groups
        first.wait(timeout=10)
        assert all(running(pid) for pid in orphans), "workers outlive a SIGKILL"

        project.start()
        topics = project.wait_topics(
            lambda t: sum(r["state"] == "running" for r in t.values()) == 2, 40, "the recovery"
        )
        assert not any(running(pid) for pid in orphans), "left workers were killed"
        was_active = {n for n, e in ledger_before.items() if e["state"] in ("starting", "running")}
        now_active = {n for n, row in topics.items() if row["state"] in ("starting", "running")}
        assert now_active == was_active, "resumed topics go first, before the never-started one"
        live = project.workers()
        assert all(len(pids) == 1 for pids in live.values()) and len(live) == 2
        assert {row["pid"] for row in topics.values() if row["pid"]} == {
            pids[0] for pids in live.values()
        }
        ledger_after = project.ledger()["topics"]
        assert sorted(ledger_after) == sorted(ledger_before) == names
        recovered = [e for e in ledger_after.values() if "previous supervisor" in str(e["history"])]
        assert len(recovered) == 2
        project.exit()


def test_a_restart_skips_handled_topics_and_starts_new_ones(
    tmp_path: Path, project_factory: Any
) -> None:
    with drill_exchange(tmp_path) as exchange:
        exchange.add_market("s0")
        exchange.add_market("s1")
        project: Project = project_factory(exchange.urls)
        project.start()
        project.wait_topics(lambda t: _running(t, ["autotest-s0", "autotest-s1"]), 40, "workers")
        assert project.command("stop", "autotest-s0").returncode == 0
        project.wait_topics(lambda t: t["autotest-s0"]["state"] == "stopped", 20, "a stop")
        project.exit()

        project.start()
        log = project.root / "logs" / "autorun.log"
        wait_for(lambda: log.read_text().count("ready (imports") == 2, 60, "the new template")
        exchange.add_market("s2")  # appears at the exchange after the restart
        topics = project.wait_topics(
            lambda t: _running(t, ["autotest-s1", "autotest-s2"]), 40, "the new market's worker"
        )
        assert topics["autotest-s0"]["state"] == "stopped", "a stopped topic stays stopped"
        ledger = project.ledger()["topics"]
        assert ledger["autotest-s0"]["starts"] == 1
        assert ledger["autotest-s1"]["starts"] == 2, "the running topic resumed"
        assert ledger["autotest-s2"]["starts"] == 1
        launches = log.read_text()
        assert "autotest-s2: launch, pid" in launches
        assert "(forked)" in launches.split("autotest-s2: launch, pid", 1)[1].split("\n")[0]
        # --command reaches the running supervisor instead of starting a second one.
        sent = project.command("run", "--command", "set concurrency 3", "--command", "pause")
        assert sent.returncode == 0, sent.stderr
        assert "max_concurrent_workers = 3" in sent.stdout
        assert (project.status() or {}).get("paused") is True
        project.exit()


def test_a_silent_worker_is_killed_and_restarted(tmp_path: Path, project_factory: Any) -> None:
    with drill_exchange(tmp_path) as exchange:
        exchange.add_market("h0")
        project: Project = project_factory(exchange.urls, heartbeat_stale_s=5)
        project.start()
        topics = project.wait_topics(lambda t: _running(t, ["autotest-h0"]), 40, "a worker")
        frozen = topics["autotest-h0"]["pid"]
        os.killpg(frozen, signal.SIGSTOP)  # alive, but its heartbeat stops
        topics = project.wait_topics(
            lambda t: t["autotest-h0"]["state"] == "running" and t["autotest-h0"]["pid"] != frozen,
            30,
            "the silent worker's replacement",
        )
        assert not running(frozen)
        history = project.ledger()["topics"]["autotest-h0"]["history"]
        reasons = " | ".join(record["reason"] for record in history)
        assert "no heartbeat for" in reasons and "killed by SIGKILL; retry 1 of 3" in reasons
        project.exit()


def _template_pids(supervisor: int) -> list[int]:
    return [
        child.pid
        for child in psutil.Process(supervisor).children()
        if "worker-template" in " ".join(child.cmdline())
    ]


def test_a_killed_template_is_restarted_and_its_workers_keep_trading(
    tmp_path: Path, project_factory: Any
) -> None:
    with drill_exchange(tmp_path) as exchange:
        project: Project = project_factory(exchange.urls)
        supervisor = project.start()
        log = project.root / "logs" / "autorun.log"

        def readies() -> int:
            return log.read_text().count("ready (imports") if log.exists() else 0

        wait_for(lambda: readies() == 1, 60, "the worker template")
        market = exchange.add_market("t0")
        topics = project.wait_topics(lambda t: _running(t, ["autotest-t0"]), 40, "a worker")
        worker = topics["autotest-t0"]["pid"]
        assert f"autotest-t0: launch, pid {worker} (forked)" in log.read_text()
        assert psutil.Process(worker).ppid() == supervisor.pid, "its parent is the supervisor"
        account, condition = project.account(), market["conditionId"]
        wait_for(lambda: exchange.orders(market=condition, maker_address=account), 20, "an order")

        [template] = _template_pids(supervisor.pid)
        os.killpg(template, signal.SIGKILL)
        wait_for(lambda: readies() == 2, 90, "the template started again")
        assert running(worker), "a forked worker outlives its template"
        assert project.topics()["autotest-t0"]["pid"] == worker

        os.killpg(worker, signal.SIGKILL)  # its exit status still reaches the supervisor
        entry = wait_for(
            lambda: (entry := project.ledger()["topics"]["autotest-t0"])["attempts"] == 1 and entry,
            10,
            "the crash record",
        )
        assert entry["last_exit_code"] == -9 and entry["open_orders_left"] == 0
        project.wait_topics(
            lambda t: t["autotest-t0"]["state"] == "running" and t["autotest-t0"]["pid"] != worker,
            30,
            "the restart",
        )
        project.exit()
        assert not exchange.orders(market=condition, maker_address=account)


def test_a_crashed_market_restarts_before_queued_ones_take_its_slot(
    tmp_path: Path, project_factory: Any
) -> None:
    with drill_exchange(tmp_path) as exchange:
        exchange.add_market("c0")
        project: Project = project_factory(
            exchange.urls,
            max_concurrent_workers=1,
            restart={"max_retries": 3, "backoff_base_s": 3, "backoff_max_s": 3},
        )
        project.start()
        topics = project.wait_topics(lambda t: _running(t, ["autotest-c0"]), 40, "c0's worker")
        exchange.add_market("c1")
        project.wait_topics(lambda t: t.get("autotest-c1", {}).get("state") == "queued", 20, "c1")
        crashed = topics["autotest-c0"]["pid"]
        os.killpg(crashed, signal.SIGKILL)
        topics = project.wait_topics(
            lambda t: t["autotest-c0"]["state"] == "running" and t["autotest-c0"]["pid"] != crashed,
            30,
            "c0's restart",
        )
        assert topics["autotest-c1"]["state"] == "queued", "the queue waited for the restart"
        assert project.ledger()["topics"]["autotest-c1"]["starts"] == 0
        project.exit()
