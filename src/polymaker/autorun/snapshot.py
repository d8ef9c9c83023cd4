"""Views of a running supervisor: the ``status`` reply and the ``run_state.json`` document.

Both are built from the ledger (every topic of this mode, in ledger order) plus what the
supervisor knows of live workers and the last status file each worker wrote. The ``status``
record is the contract of ``polymaker status --json`` (design.md "Control and inspection"),
exactly these keys; ``run_state.json`` carries more (pids, paths, market details) for recovery.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from polymaker.autorun.launch import raw_output_file
from polymaker.autorun.ledger import LedgerEntry
from polymaker.autorun.monitor import last_log_line, read_status

if TYPE_CHECKING:
    from polymaker.autorun.supervisor import Supervisor

STATUS_KEYS = (
    "topic_id",
    "state",
    "pid",
    "started_at",
    "restarts",
    "heartbeat_age_s",
    "position",
    "open_orders",
    "realized_pnl",
    "last_log",
)


def iso(moment: datetime | None) -> str | None:
    """UTC ISO 8601 ending in ``Z`` (None stays None)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def status_row(supervisor: Supervisor, entry: LedgerEntry) -> dict[str, Any]:
    """One topic's status record (``STATUS_KEYS``)."""
    topic = entry.topic_id
    task = supervisor.tasks.get(topic)
    status = task.status if task is not None and task.status is not None else None
    if status is None:
        status = read_status(supervisor.paths.status_file(topic))
    age = None if task is None or task.heartbeat_age_s is None else round(task.heartbeat_age_s, 1)
    log_file = supervisor.paths.topic_log(topic)
    return {
        "topic_id": topic,
        "state": str(entry.state),
        "pid": None if task is None else task.pid,
        "started_at": iso(entry.last_started),
        "restarts": entry.attempts,
        "heartbeat_age_s": age,
        "position": None if status is None else status.position,
        "open_orders": None if status is None else status.open_orders,
        "realized_pnl": None if status is None else status.realized_pnl,
        "last_log": last_log_line(log_file, raw_output_file(supervisor.paths, topic)),
    }


def status_document(supervisor: Supervisor) -> dict[str, Any]:
    """The ``status`` reply: ``{"mode", "paused", "account", "topics": [...]}``."""
    ledger = supervisor.ledger
    entries = [] if ledger is None else list(ledger.entries().values())
    return {
        "mode": str(supervisor.mode),
        "paused": supervisor.paused,
        "account": account_document(supervisor),
        "topics": [status_row(supervisor, entry) for entry in entries],
        "unmanaged": unmanaged_holdings(supervisor),
    }


def unmanaged_holdings(supervisor: Supervisor) -> list[dict[str, Any]]:
    """Shares the exchange says the wallet holds in markets no running worker trades."""
    holdings = None if supervisor.holdings is None else supervisor.holdings.latest
    if holdings is None:
        return []
    return holdings.unmanaged(supervisor.topic_of_condition(), supervisor.tasks)


def account_document(supervisor: Supervisor) -> dict[str, Any] | None:
    """Who trades: the wallet, its kind and signature type, and the signer (None in paper)."""
    wallet = None if supervisor.key is None else supervisor.key.wallet
    if wallet is None:
        return None
    return {
        "wallet": wallet.address,
        "wallet_type": wallet.kind.value,
        "signature_type": wallet.signature_type,
        "signer": wallet.signer,
        "description": wallet.describe(),
    }


def embedded_info(supervisor: Supervisor) -> dict[str, Any] | None:
    """The embedded drill exchange's pid and files, for ``run_state.json``."""
    embedded = supervisor.embedded
    if embedded is None or embedded.pid is None:
        return None
    return {
        "pid": embedded.pid,
        "url_file": str(embedded.url_file),
        "log_file": str(embedded.log_file),
    }


def run_state_document(supervisor: Supervisor) -> dict[str, Any]:
    """The ``run_state.json`` snapshot (without its version key)."""
    ledger = supervisor.ledger
    paths = supervisor.paths
    tasks: dict[str, Any] = {}
    for topic, entry in ({} if ledger is None else ledger.entries()).items():
        task = supervisor.tasks.get(topic)
        details = supervisor.details.get(topic)
        sweep = supervisor.sweeps.get(topic)
        tasks[topic] = {
            "state": str(entry.state),
            "pid": None if task is None else task.pid,
            "started_at": iso(entry.last_started),
            "restarts": entry.attempts,
            "log_path": str(paths.topic_log(topic)),
            "raw_output_path": str(raw_output_file(paths, topic)),
            "status_file": str(paths.status_file(topic)),
            "params_file": str(paths.params_file(topic)),
            "last_sweep": None if sweep is None else sweep.describe(),
            "market": None if details is None else details.to_json(),
        }
    embedded = embedded_info(supervisor)
    return {
        "updated_at": iso(datetime.now(UTC)),
        "mode": str(supervisor.mode),
        "supervisor_pid": os.getpid(),
        "paused": supervisor.paused,
        "max_concurrent_workers": supervisor.cap,
        "topics_poll_sec": supervisor.poll_s,
        "exchange": None if supervisor.urls is None else supervisor.urls.model_dump(),
        "account": account_document(supervisor),
        "embedded_exchange": embedded,
        "queue": [] if ledger is None else list(ledger.queue),
        "limits": supervisor.guard.summary(),
        "tasks": tasks,
    }


__all__ = [
    "STATUS_KEYS",
    "embedded_info",
    "iso",
    "run_state_document",
    "status_document",
    "status_row",
]
