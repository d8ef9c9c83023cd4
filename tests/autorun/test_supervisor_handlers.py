"""The control verbs on a supervisor that has no workers: refusals, stop/retry edges, knobs."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from polymaker.autorun.control import ControlRequest
from polymaker.autorun.handlers import register_handlers
from polymaker.autorun.ledger import Ledger
from polymaker.autorun.pausing import saved_pause
from polymaker.autorun.snapshot import STATUS_KEYS, run_state_document
from polymaker.autorun.states import TopicState
from polymaker.autorun.supervisor import RunOptions, Supervisor
from polymaker.config.global_config import GlobalConfig, Mode, PathsSection, resolve_paths
from polymaker.config.strategy_defaults import StrategyDefaults


@pytest.fixture
def supervisor(tmp_path: Path) -> Supervisor:
    config_file = tmp_path / "config" / "global_config.json"
    paths = resolve_paths(PathsSection(), config_file)
    made = Supervisor(
        GlobalConfig(), Mode.DRILL, paths, StrategyDefaults(), RunOptions(config_file=config_file)
    )
    made.ledger = Ledger.load(paths.handled_topics, Mode.DRILL)
    for topic in ("a", "b", "c"):
        made.ledger.enqueue(topic, reason="screened")
    register_handlers(made)
    return made


def _ask(supervisor: Supervisor, cmd: str, **args: object) -> dict[str, object]:
    return asyncio.run(supervisor.server.dispatch(ControlRequest(cmd, dict(args))))


def test_status_lists_every_topic_with_the_contract_keys(supervisor: Supervisor) -> None:
    reply = _ask(supervisor, "status")
    assert reply["ok"]
    result = reply["result"]
    keys = {"mode", "paused", "account", "topics", "unmanaged", "redemptions"}
    assert set(result) == keys and result["mode"] == "drill"  # type: ignore[operator]
    assert result["account"] is None and result["unmanaged"] == []  # type: ignore[index]
    assert result["redemptions"] == []  # type: ignore[index]
    rows = result["topics"]  # type: ignore[index]
    assert [row["topic_id"] for row in rows] == ["a", "b", "c"]
    assert all(tuple(row) == STATUS_KEYS and row["state"] == "queued" for row in rows)


def test_stopping_a_queued_topic_makes_it_stopped_for_good(supervisor: Supervisor) -> None:
    assert _ask(supervisor, "stop", topic="b")["ok"]
    ledger = supervisor.ledger
    assert ledger is not None
    entry = ledger.get("b")
    assert entry is not None and entry.state is TopicState.STOPPED and entry.stopped_by_user
    assert ledger.queue == ("a", "c")
    again = _ask(supervisor, "stop", topic="b")
    assert again["fault"] == "not_running"
    assert not ledger.is_new("b", ignore_history=True), "a stopped topic is never new again"
    assert _ask(supervisor, "retry", topic="b")["ok"]
    assert ledger.queue == ("a", "c", "b")


def test_unknown_topics_and_bad_values_are_refused(supervisor: Supervisor) -> None:
    assert _ask(supervisor, "stop", topic="zzz")["fault"] == "unknown_topic"
    assert _ask(supervisor, "retry", topic="a")["fault"] == "not_running"
    assert _ask(supervisor, "set_concurrency", value=0)["fault"] == "bad_request"
    assert _ask(supervisor, "set_poll", seconds=0)["fault"] == "bad_request"
    assert _ask(supervisor, "set_poll", seconds=1e-30)["fault"] == "bad_request"
    assert _ask(supervisor, "set_poll", seconds=1e300)["fault"] == "bad_request"


def test_knobs_change_the_running_supervisor(supervisor: Supervisor) -> None:
    assert _ask(supervisor, "set_concurrency", value=7)["ok"] and supervisor.cap == 7
    assert _ask(supervisor, "set_poll", seconds=2.5)["ok"] and supervisor.poll_s == 2.5
    assert _ask(supervisor, "pause")["ok"] and supervisor.paused
    assert _ask(supervisor, "status")["result"]["paused"] is True  # type: ignore[index]
    assert _ask(supervisor, "resume")["ok"] and not supervisor.paused
    assert _ask(supervisor, "exit")["ok"] and supervisor.exit_requested.is_set()


def test_pause_resume_and_panic_keep_the_pause_on_disk(supervisor: Supervisor) -> None:
    data = supervisor.paths.data_dir
    assert _ask(supervisor, "pause")["ok"]
    assert (saved_pause(data) or "").startswith("pause command since ")
    assert _ask(supervisor, "resume")["ok"] and saved_pause(data) is None
    assert _ask(supervisor, "panic")["ok"] and supervisor.paused
    assert (saved_pause(data) or "").startswith("panic since ")


def test_reset_history_keeps_queued_topics(supervisor: Supervisor) -> None:
    _ask(supervisor, "stop", topic="a")
    reply = _ask(supervisor, "reset_history")
    assert reply["ok"] and reply["result"]["backup"]  # type: ignore[index]
    ledger = supervisor.ledger
    assert ledger is not None and sorted(ledger.entries()) == ["b", "c"]


def test_run_state_names_every_task_and_its_files(supervisor: Supervisor) -> None:
    document = run_state_document(supervisor)
    assert document["mode"] == "drill" and document["queue"] == ["a", "b", "c"]
    task = document["tasks"]["a"]
    assert task["state"] == "queued" and task["pid"] is None
    assert task["log_path"].endswith("logs/topics/a.log")
    assert task["params_file"].endswith("data/params/a.json")
