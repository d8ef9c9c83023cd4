"""``data/paused.json``: pause and panic are kept on disk until resume; unreadable means paused."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from polymaker.autorun.pausing import clear_pause, pause_file, save_pause, saved_pause


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
