"""``panic`` sent to a running supervisor: workers killed, every order cancelled, paused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from polymaker.autorun.control import send_command
from tests.autorun.test_e2e_support import Project, drill_exchange, project_factory, wait_for

pytestmark = pytest.mark.integration
__all__ = ["project_factory"]  # the fixture, imported for pytest


def test_panic_kills_every_worker_and_the_exchange_confirms_no_order(
    tmp_path: Path, project_factory: Any
) -> None:
    with drill_exchange(tmp_path) as exchange:
        for name in ("p0", "p1", "p2"):
            exchange.add_market(name)
        project: Project = project_factory(exchange.urls)
        project.start()
        project.wait_topics(
            lambda t: sum(r["state"] == "running" for r in t.values()) == 2, 40, "two workers"
        )
        account = project.account()
        wait_for(lambda: len(exchange.orders(maker_address=account)) >= 2, 20, "two orders")
        reply = send_command(project.data_dir, "panic", timeout_s=15)
        assert reply["ok"], reply
        result = reply["result"]
        assert result["confirmed"] is True and result["workers_killed"] == 2
        # the cancels come from the panic or from the sweep of each killed worker, whichever
        # is first; what counts is that the exchange lists no order of the account.
        assert exchange.orders(maker_address=account) == [] and result["remaining"] == []
        topics = project.wait_topics(
            lambda t: sum(r["state"] == "stopped" for r in t.values()) == 2, 10, "stopped topics"
        )
        assert (project.status() or {}).get("paused") is True
        assert [row["state"] for row in topics.values()].count("queued") == 1, "paused: no start"
        assert project.workers() == {}
        project.exit()
        # The kill switch outlives the supervisor: the next one starts paused.
        project.start()
        wait_for(lambda: project.status(), 30, "the restarted supervisor")
        assert (project.status() or {}).get("paused") is True
        wait_for(lambda: project.screens() >= 1, 20, "a screen after the restart")
        assert project.workers() == {}, "paused: nothing launched"
        assert (
            "launching stays paused (panic since"
            in project.root.joinpath("logs", "autorun.log").read_text()
        )
        assert send_command(project.data_dir, "resume", timeout_s=15)["ok"]
        assert not (project.data_dir / "paused.json").exists()
        project.exit()
