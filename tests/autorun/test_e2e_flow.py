"""The drill checklist, part 1: screen -> de-duplicate -> cap + FIFO -> monitor -> stop -> next.

Real ``polymaker run``, real ``polymaker worker`` processes, a real ``polymaker sim``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.autorun.test_e2e_support import Project, drill_exchange, project_factory, wait_for

pytestmark = pytest.mark.integration
__all__ = ["project_factory"]  # the fixture, imported for pytest

ACTIVE = ("starting", "running")


def _screened_order(project: Project) -> list[str]:
    document = json.loads((project.data_dir / "topics_filtered.json").read_text())
    return [topic["topic_id"] for topic in document["topics"]]


def test_cap_fifo_monitor_stop_and_the_next_queued_topic_starts(
    tmp_path: Path, project_factory: Any
) -> None:
    with drill_exchange(tmp_path) as exchange:
        markets = {f"autotest-m{i}": exchange.add_market(f"m{i}") for i in range(4)}
        project: Project = project_factory(exchange.urls)
        project.start()
        topics = project.wait_topics(
            lambda t: len(t) == 4 and sum(r["state"] == "running" for r in t.values()) == 2,
            40,
            "two running workers and two queued topics",
        )
        order = _screened_order(project)
        assert set(order) == set(markets)
        running = [name for name in order if topics[name]["state"] in ACTIVE]
        assert running == order[:2], "the first two screened topics start first"
        assert project.ledger()["queue"] == order[2:], "the rest wait in screener (FIFO) order"
        for name in running:
            row = topics[name]
            assert row["pid"] and row["heartbeat_age_s"] is not None
            assert row["heartbeat_age_s"] < 5 and row["restarts"] == 0

        # Monitoring: a worker's order shows in the status and at the exchange.
        first, second = running
        condition = markets[first]["conditionId"]
        account = project.account()
        wait_for(
            lambda: exchange.orders(market=condition, maker_address=account),
            20,
            "the first worker's resting order",
        )
        project.wait_topics(lambda t: (t[first]["open_orders"] or 0) >= 1, 10, "open_orders")

        # Several screens later, still no duplicates: one entry and one launch per market.
        wait_for(lambda: project.screens() >= 2, 20, "a second screen")
        ledger = project.ledger()["topics"]
        assert sorted(ledger) == sorted(markets)
        assert all(ledger[name]["starts"] == 1 for name in running)
        assert {name: len(pids) for name, pids in project.workers().items()} == {
            name: 1 for name in running
        }

        # stop one (graceful): its orders are cancelled, the next queued topic starts.
        done = project.command("stop", first)
        assert done.returncode == 0, done.stderr
        topics = project.wait_topics(
            lambda t: t[first]["state"] == "stopped" and t[order[2]]["state"] in ACTIVE,
            20,
            "the stopped topic's slot going to the next queued topic",
        )
        assert exchange.orders(market=condition, maker_address=account) == []
        assert topics[order[3]]["state"] == "queued"
        assert "swept" in project.ledger()["topics"][first]["last_reason"]

        # --force: SIGKILL at once; the supervisor sweeps the orders itself.
        victim = markets[order[2]]["conditionId"]
        wait_for(lambda: exchange.orders(market=victim, maker_address=account), 20, "an order")
        done = project.command("stop", order[2], "--force")
        assert done.returncode == 0, done.stderr
        project.wait_topics(lambda t: t[order[2]]["state"] == "stopped", 10, "a forced stop")
        assert exchange.orders(market=victim, maker_address=account) == []
        entry = project.ledger()["topics"][order[2]]
        assert entry["last_exit_code"] == -9 and entry["stopped_by_user"]

        # A stopped topic stays stopped across refreshes; unknown topics are refused.
        screens = project.screens()
        assert project.command("refresh").returncode == 0
        wait_for(lambda: project.screens() > screens, 20, "the refresh screen")
        assert project.topics()[first]["state"] == "stopped"
        refused = project.command("stop", "no-such-topic")
        assert refused.returncode == 1 and "unknown_topic" in refused.stderr

        # exit: every worker stops; the ones that were running resume at the next start.
        project.exit()
        ledger = project.ledger()
        assert set(ledger["queue"]) == {second, order[3]}, "running topics resume next start"
        assert ledger["topics"][first]["state"] == "stopped"
        assert json.loads((project.data_dir / "run_state.json").read_text())["tasks"]
