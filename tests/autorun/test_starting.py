"""Starting one topic: the ledger's STARTING, the task registered, run_state.json written."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from polymaker.autorun import starting
from polymaker.autorun.keys import WorkerKey
from polymaker.autorun.states import TopicState
from tests.autorun.test_supervisor_limits import _details, _supervisor
from tests.exchange.test_sdk import DRILL


class _Started:
    pid = 4242
    forked = True


def test_a_launch_registers_the_task_and_writes_the_run_state_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    supervisor = _supervisor(tmp_path)
    supervisor.urls, supervisor.key = DRILL, WorkerKey(None, None, {})
    supervisor.details["a"] = _details("a")
    assert supervisor.ledger is not None
    supervisor.ledger.enqueue("a", reason="screened")
    launched: list[Any] = []
    monkeypatch.setattr(
        starting, "launch", lambda params, **kwargs: launched.append(params) or _Started()
    )

    async def start() -> None:  # write_run_state stamps the loop's clock
        starting.start_topic(supervisor, "a")

    asyncio.run(start())
    assert [params.topic_id for params in launched] == ["a"]
    entry = supervisor.ledger.get("a")
    assert entry is not None and entry.state is TopicState.STARTING
    assert supervisor.tasks["a"].pid == 4242
    run_state = json.loads(supervisor.paths.run_state.read_text())
    assert run_state["tasks"]["a"]["pid"] == 4242
