"""The worker's status file ``data/status/<topic>.json``: its heartbeat for the supervisor.

Rewritten atomically (temp file, fsync, rename) at least every 2 s while the worker runs and
once more at exit. The contract keys (design.md "Files") are ``topic_id``, ``pid``, ``mode``,
``state``, ``heartbeat_at``, ``position``, ``avg_entry``, ``open_orders``, ``realized_pnl`` and
``last_error``; the rest (``phase``, ``counters``, ...) is extra detail for humans. Money values
are decimal strings, so no reader has to go through float.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

from polymaker.files import atomic_write_json

STATUS_INTERVAL_S = 1.0
"""How often the heartbeat is rewritten (the contract requires at most 2 s)."""


class WorkerState(StrEnum):
    """The worker's own lifecycle, in the supervisor's vocabulary (autorun/states.py)."""

    STARTING = "starting"  # loading params, connecting, reconciling
    RUNNING = "running"  # trading
    STOPPING = "stopping"  # cancelling this market's orders before exit
    STOPPED = "stopped"  # stopped on request (exit 0)
    FINISHED = "finished"  # market ended or sell-only done (exit 0)
    FAILED = "failed"  # exiting with a non-zero code


@dataclass
class StatusSnapshot:
    """Everything the status file shows; the runtime updates it, the writer serialises it."""

    topic_id: str
    mode: str
    condition_id: str
    token_id: str
    side: str
    state: WorkerState = WorkerState.STARTING
    phase: str = "starting"
    position: Decimal = Decimal(0)
    settled_position: Decimal = Decimal(0)
    avg_entry: Decimal | None = None
    realized_pnl: Decimal = Decimal(0)
    open_orders: list[dict[str, str]] = field(default_factory=list)
    best_bid: Decimal | None = None
    best_ask: Decimal | None = None
    tick_size: Decimal | None = None
    rolling_high: Decimal | None = None
    sell_only: bool = False
    last_error: str | None = None
    exit_code: int | None = None
    exit_reason: str | None = None  # why it ended, when that is worth saying (held shares)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    counters: dict[str, int] = field(default_factory=dict)

    def count(self, name: str, by: int = 1) -> None:
        """Bump a named counter (unparsed events, reconnects, rejections, ...)."""
        self.counters[name] = self.counters.get(name, 0) + by


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def status_document(snapshot: StatusSnapshot, *, now: datetime, pid: int) -> dict[str, Any]:
    """The JSON document for ``snapshot`` (pure; ``now`` becomes ``heartbeat_at``)."""
    return {
        "topic_id": snapshot.topic_id,
        "pid": pid,
        "mode": snapshot.mode,
        "state": str(snapshot.state),
        "heartbeat_at": _iso(now),
        "position": str(snapshot.position),
        "avg_entry": _text(snapshot.avg_entry),
        "open_orders": list(snapshot.open_orders),
        "realized_pnl": str(snapshot.realized_pnl),
        "last_error": snapshot.last_error,
        "phase": snapshot.phase,
        "settled_position": str(snapshot.settled_position),
        "condition_id": snapshot.condition_id,
        "token_id": snapshot.token_id,
        "side": snapshot.side,
        "best_bid": _text(snapshot.best_bid),
        "best_ask": _text(snapshot.best_ask),
        "tick_size": _text(snapshot.tick_size),
        "rolling_high": _text(snapshot.rolling_high),
        "sell_only": snapshot.sell_only,
        "started_at": _iso(snapshot.started_at),
        "exit_code": snapshot.exit_code,
        "exit_reason": snapshot.exit_reason,
        "counters": dict(sorted(snapshot.counters.items())),
    }


class StatusWriter:
    """Writes a :class:`StatusSnapshot` to one path, atomically."""

    def __init__(self, path: Path, *, pid: int | None = None) -> None:
        self.path = Path(path)
        self._pid = os.getpid() if pid is None else pid

    def write(self, snapshot: StatusSnapshot, *, now: datetime | None = None) -> None:
        """Replace the file with the current snapshot (raises OSError on a full disk etc.)."""
        moment = now if now is not None else datetime.now(UTC)
        atomic_write_json(self.path, status_document(snapshot, now=moment, pid=self._pid))


__all__ = ["STATUS_INTERVAL_S", "StatusSnapshot", "StatusWriter", "WorkerState", "status_document"]
