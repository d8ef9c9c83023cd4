"""Account safety in a real drill run: the exposure limit, and the order heartbeat.

Real ``polymaker run``, real workers, a real ``polymaker sim`` (which outlives the supervisor,
so the heartbeat test can kill the supervisor and its workers and watch the exchange).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.autorun.test_e2e_support import Project, drill_exchange, project_factory, wait_for

pytestmark = pytest.mark.integration
__all__ = ["project_factory"]  # the fixture, imported for pytest

ACTIVE = ("starting", "running")


def test_the_exposure_limit_stops_launches_at_the_limit(
    tmp_path: Path, project_factory: Any
) -> None:
    """max_position_shares 10 at an ask near 0.7 = ~7 USDC a topic: 15 USDC admits exactly 2.

    (Without the screened ask each topic would count 10 USDC and only one would start.)
    """
    with drill_exchange(tmp_path) as exchange:
        for i in range(4):
            exchange.add_market(f"x{i}")
        project: Project = project_factory(
            exchange.urls, max_concurrent_workers=4, max_total_exposure_usdc=15
        )
        project.start()
        topics = project.wait_topics(
            lambda t: len(t) == 4 and sum(r["state"] == "running" for r in t.values()) == 2,
            40,
            "two running workers",
        )
        screened = json.loads((project.data_dir / "topics_filtered.json").read_text())["topics"]
        asks = [Decimal(topic["ask"]) for topic in screened]
        assert all(Decimal("0.5") <= ask <= Decimal("0.75") for ask in asks), asks
        wait_for(lambda: project.screens() >= 2, 20, "a second screen (more ticks)")
        topics = project.topics()
        states = sorted(row["state"] for row in topics.values())
        assert states == ["queued", "queued", "running", "running"], states
        log = (project.root / "logs" / "autorun.log").read_text()
        refusals = [line for line in log.splitlines() if "not launched: exposure" in line]
        assert len(refusals) == 2, "each refused topic is logged once, not every tick"
        assert "max_total_exposure_usdc 15.00" in refusals[0]
        run_state = json.loads((project.data_dir / "run_state.json").read_text())
        assert run_state["limits"]["max_total_exposure_usdc"] == "15"
        project.exit()


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def test_the_order_heartbeat_cancels_everything_when_supervisor_and_workers_die(
    tmp_path: Path, project_factory: Any
) -> None:
    """SIGKILL the supervisor and every worker: no one cancels, yet the exchange does (~10 s)."""
    with drill_exchange(tmp_path) as exchange:
        markets = [exchange.add_market(f"h{i}") for i in range(2)]
        project: Project = project_factory(
            exchange.urls, order_heartbeat={"enabled": True, "interval_s": 2}
        )
        supervisor = project.start()
        project.wait_topics(
            lambda t: sum(r["state"] == "running" for r in t.values()) == 2, 40, "two workers"
        )
        account = project.account()
        wait_for(
            lambda: all(
                exchange.orders(market=m["conditionId"], maker_address=account) for m in markets
            ),
            20,
            "a resting order in both markets",
        )
        wait_for(lambda: "order heartbeat started" in project.run_log(), 5, "the heartbeat")
        workers = [pid for pids in project.workers().values() for pid in pids]
        assert len(workers) == 2
        _kill_group(supervisor.pid)
        for pid in workers:
            _kill_group(pid)
        supervisor.wait(timeout=10)
        killed_at = time.monotonic()
        assert exchange.orders(maker_address=account), "orders outlive their killed senders"
        wait_for(lambda: not exchange.orders(maker_address=account), 14, "the dead-man switch")
        assert time.monotonic() - killed_at < 13


@pytest.mark.timeout(240)
def test_flatten_command_ends_a_flat_topic_stopped_with_no_order_left(
    tmp_path: Path, project_factory: Any
) -> None:
    with drill_exchange(tmp_path) as exchange:
        market = exchange.add_market("f0")
        project: Project = project_factory(exchange.urls)
        project.start()
        project.wait_topics(
            lambda t: t.get("autotest-f0", {}).get("state") == "running", 40, "the worker"
        )
        condition, account = market["conditionId"], project.account()
        mine = {"market": condition, "maker_address": account}
        wait_for(lambda: exchange.orders(**mine), 20, "its resting buy")
        unknown = project.command("flatten", "autotest-nope")
        assert unknown.returncode != 0 and "unknown topic" in unknown.stderr
        asked = project.command("flatten", "autotest-f0")
        assert asked.returncode == 0, asked.stderr
        assert "1 workers asked to sell out" in asked.stdout
        # If a house taker filled the buy first, the worker now sells that position at the
        # exit price and stops once a taker buys it: that can take a while on a drill market.
        topics = project.wait_topics(
            lambda t: t["autotest-f0"]["state"] == "stopped", 90, "the flattened topic"
        )
        assert topics["autotest-f0"]["restarts"] == 0
        assert exchange.orders(**mine) == []
        history = str(project.ledger()["topics"]["autotest-f0"]["history"])
        assert "flattening (flatten command)" in history
        log = (project.root / "logs" / "topics" / "autotest-f0.log").read_text()
        assert "SIGUSR1 received: flattening" in log and "finished: flattened" in log
        project.exit()
