"""``data/paused.json``: a pause (``pause``, ``panic``) outlives the supervisor until ``resume``.

Someone who pressed the kill switch, or paused launching, must not find a restarted supervisor
trading new markets again. The file is written atomically when launching is paused and removed
on ``resume``; a supervisor that finds it starts paused and says why. A file that cannot be read
counts as a pause (the safe reading) and the log names the file and the problem: it is never
silently removed or replaced.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from pathlib import Path

from polymaker.errors import StateFileError
from polymaker.files import atomic_write_json, read_json_file

PAUSE_FILE_NAME = "paused.json"


def pause_file(data_dir: Path) -> Path:
    """``data/paused.json``."""
    return data_dir / PAUSE_FILE_NAME


def save_pause(data_dir: Path, reason: str, now: datetime) -> None:
    """Record that launching is paused, why and since when (atomically)."""
    atomic_write_json(pause_file(data_dir), {"paused_at": now.isoformat(), "reason": reason})


def clear_pause(data_dir: Path) -> None:
    """Forget the pause (``resume``); no file is fine."""
    with contextlib.suppress(FileNotFoundError):
        pause_file(data_dir).unlink()


def saved_pause(data_dir: Path) -> str | None:
    """Why launching was left paused (for the log), or None when it was not."""
    path = pause_file(data_dir)
    if not path.exists():
        return None
    try:
        document = read_json_file(path)
    except StateFileError as error:
        return f"{error}; treated as paused, fix or delete the file, or run resume"
    if not isinstance(document, dict):
        return f"{path} is not a pause record; treated as paused"
    return f"{document.get('reason', 'paused')} since {document.get('paused_at', '?')}"


__all__ = ["PAUSE_FILE_NAME", "clear_pause", "pause_file", "save_pause", "saved_pause"]
