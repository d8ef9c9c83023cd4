"""``data/paused.json``: pause and panic are kept on disk until resume; unreadable means paused."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from polymaker.autorun.control import ControlRequest
from polymaker.autorun.handlers import register_handlers
from polymaker.autorun.ledger import Ledger
from polymaker.autorun.pausing import clear_pause, pause_file, save_pause, saved_pause
from polymaker.autorun.supervisor import RunOptions, Supervisor
from polymaker.config.global_config import GlobalConfig, Mode, PathsSection, resolve_paths
from polymaker.config.strategy_defaults import StrategyDefaults


def test_a_saved_pause_says_why_and_since_when_until_cleared(tmp_path: Path) -> None:
    assert saved_pause(tmp_path) is None
    save_pause(tmp_path, "panic", datetime(2026, 12, 4, 20, 0, tzinfo=UTC))
    assert saved_pause(tmp_path) == "panic since 2026-12-04T20:00:00+00:00"
    clear_pause(tmp_path)
    clear_pause(tmp_path)  # twice is fine
    assert saved_pause(tmp_path) is None


def test_an_unreadable_pause_file_counts_as_paused_and_is_left_alone(tmp_path: Path) -> None:
    pause_file(tmp_path).write_text("{not json")
    why = saved_pause(tmp_path)
    assert why is not None and "paused.json" in why and "treated as paused" in why
    assert pause_file(tmp_path).read_text() == "{not json"
    pause_file(tmp_path).write_text("[]")
    assert "not a pause record" in (saved_pause(tmp_path) or "")


def test_pause_resume_and_panic_commands_keep_the_file(tmp_path: Path) -> None:
    config_file = tmp_path / "config" / "global_config.json"
    paths = resolve_paths(PathsSection(), config_file)
    supervisor = Supervisor(
        GlobalConfig(), Mode.PAPER, paths, StrategyDefaults(), RunOptions(config_file=config_file)
    )
    supervisor.ledger = Ledger.load(paths.handled_topics, Mode.PAPER)
    register_handlers(supervisor)

    def ask(cmd: str) -> dict[str, object]:
        return asyncio.run(supervisor.server.dispatch(ControlRequest(cmd, {})))

    assert ask("pause")["ok"]
    assert (saved_pause(paths.data_dir) or "").startswith("pause command since ")
    assert ask("resume")["ok"] and saved_pause(paths.data_dir) is None
    assert ask("panic")["ok"] and supervisor.paused
    assert (saved_pause(paths.data_dir) or "").startswith("panic since ")
