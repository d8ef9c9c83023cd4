"""What the supervisor knows about one live worker, and how its status file is judged.

The worker rewrites ``data/status/<topic>.json`` at least every 2 s. A heartbeat counts only
when the file names this process's pid (a file left by an earlier launch says nothing about
this one). A worker that never wrote one is judged by the time since its launch, so a worker
hung during start-up is caught too. Reading is display-tolerant: a broken status file makes
the worker look silent (and eventually stale), it never stops the supervisor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from polymaker.autorun.launch import MarketDetails
from polymaker.autorun.processes import WorkerProcess, read_log_tail
from polymaker.errors import StateFileError
from polymaker.files import read_json_file


@dataclass
class WorkerStatus:
    """The contract fields of a status file that the supervisor shows or acts on."""

    pid: int | None = None
    state: str | None = None
    heartbeat_at: datetime | None = None
    position: str | None = None
    open_orders: int | None = None
    realized_pnl: str | None = None
    last_error: str | None = None


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def read_status(path: Path) -> WorkerStatus | None:
    """The status file's fields, or None when it is absent or unreadable."""
    try:
        document = read_json_file(path)
    except StateFileError:
        return None
    if not isinstance(document, dict):
        return None
    pid = document.get("pid")
    orders = document.get("open_orders")
    position = document.get("position")
    pnl = document.get("realized_pnl")
    return WorkerStatus(
        pid=pid if isinstance(pid, int) and not isinstance(pid, bool) else None,
        state=document.get("state") if isinstance(document.get("state"), str) else None,
        heartbeat_at=_parse_time(document.get("heartbeat_at")),
        position=None if position is None else str(position),
        open_orders=len(orders) if isinstance(orders, list) else None,
        realized_pnl=None if pnl is None else str(pnl),
        last_error=document.get("last_error")
        if isinstance(document.get("last_error"), str)
        else None,
    )


def last_log_line(*files: Path) -> str:
    """The last non-empty line of the first of ``files`` that has one (for status)."""
    for path in files:
        lines = read_log_tail(path, lines=1)
        if lines:
            return lines[-1]
    return ""


@dataclass
class Task:
    """One launched worker, from spawn until its exit has been handled (swept, recorded)."""

    topic_id: str
    process: WorkerProcess
    details: MarketDetails
    params_file: Path
    status_file: Path
    log_file: Path
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    stop_requested: bool = False
    flattening: bool = False  # SIGUSR1 sent: selling out, then a clean exit counts as a stop
    force: bool = False
    stale: bool = False
    shutdown: bool = False
    exiting: bool = False
    last_heartbeat_at: datetime | None = None
    status: WorkerStatus | None = None
    heartbeat_age_s: float | None = None

    @property
    def pid(self) -> int:
        """The worker's pid (= its process group id)."""
        return self.process.pid

    @property
    def seen_heartbeat(self) -> bool:
        """True once this process has written its status file."""
        return self.last_heartbeat_at is not None

    def refresh(self, now: datetime) -> None:
        """Re-read the status file; keep the last heartbeat of *this* pid and its age."""
        status = read_status(self.status_file)
        if status is not None and status.pid == self.pid and status.heartbeat_at is not None:
            self.status = status
            self.last_heartbeat_at = status.heartbeat_at
        if self.last_heartbeat_at is not None:
            self.heartbeat_age_s = max(0.0, (now - self.last_heartbeat_at).total_seconds())

    def silence_s(self) -> float:
        """Seconds without a sign of life: the heartbeat age, or the time since launch."""
        if self.heartbeat_age_s is not None:
            return self.heartbeat_age_s
        return self.process.uptime_s()

    def is_stale(self, stale_after_s: float) -> bool:
        """True when the worker has been silent longer than ``heartbeat_stale_s``."""
        return self.silence_s() > stale_after_s


__all__ = ["Task", "WorkerStatus", "last_log_line", "read_status"]
