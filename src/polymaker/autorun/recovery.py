"""``data/run_state.json`` and what a new supervisor does with the one its predecessor left.

The snapshot (tasks, pids, states, log paths, market details, the embedded exchange's pid) is
written atomically after every launch and exit and every ``status_interval_s``. It is a
convenience, not the source of truth (the ledger is): an unreadable snapshot is logged and
ignored. At start-up, workers a dead supervisor left behind are found by their command line
or, for forked workers, their process title (both ``polymaker worker <their params file>``;
checked with psutil before any signal, so a reused pid is never hit) and their process groups
are stopped.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import psutil

from polymaker.autorun.launch import MarketDetails, details_from_json
from polymaker.autorun.processes import WORKER_WORDS, kill_orphan_group
from polymaker.errors import StateFileError
from polymaker.files import atomic_write_json, read_json_file

log = logging.getLogger("polymaker.autorun.recovery")

RUN_STATE_VERSION = 1


def write_run_state(path: Path, document: Mapping[str, Any]) -> None:
    """Write the snapshot atomically."""
    atomic_write_json(path, {"version": RUN_STATE_VERSION, **document})


def read_run_state(path: Path) -> dict[str, Any]:
    """The previous snapshot, or {} when absent or unreadable (logged: never fatal)."""
    if not path.exists():
        return {}
    try:
        document = read_json_file(path)
    except StateFileError as error:
        log.warning("ignoring the previous run state: %s", error)
        return {}
    if not isinstance(document, dict) or not isinstance(document.get("tasks", {}), dict):
        log.warning("ignoring the previous run state %s: not a run-state document", path)
        return {}
    return document


def details_in_run_state(document: Mapping[str, Any]) -> dict[str, MarketDetails]:
    """The market details recorded per task (entries that do not parse are skipped)."""
    found: dict[str, MarketDetails] = {}
    for topic_id, task in document.get("tasks", {}).items():
        market = task.get("market") if isinstance(task, dict) else None
        if not isinstance(market, dict):
            continue
        try:
            found[topic_id] = details_from_json(market)
        except (TypeError, KeyError):
            log.warning("run state: unreadable market details of %s", topic_id)
    return found


def worker_params_of(cmdline: list[str]) -> str | None:
    """The params file of a ``polymaker worker PARAMS.json`` process, else None.

    A cold start's argv ends with those words; a forked worker's title is exactly them
    (``processes.worker_title``), which psutil reports split at spaces or followed by empty
    strings (the padding of the old argv area), so the words are matched on the joined line
    without empty parts and a path with spaces still matches.
    """
    line = " ".join(part for part in cmdline if part)
    marker = f"{WORKER_WORDS} "
    if line.startswith(marker):
        return line[len(marker) :]
    at = line.find(f" {marker}")
    return None if at < 0 else line[at + 1 + len(marker) :]


def is_worker_cmdline(cmdline: list[str], params_file: Path) -> bool:
    """True for a worker of ``params_file`` (ours, for that topic), cold or forked."""
    return worker_params_of(cmdline) == str(params_file)


def find_workers(params_files: Iterable[Path]) -> dict[Path, list[int]]:
    """Live workers (cold or forked) running on each of ``params_files`` (one scan)."""
    wanted = {str(path): path for path in params_files}
    found: dict[Path, list[int]] = {}
    if not wanted:
        return found
    for process in psutil.process_iter(["cmdline", "status"]):
        cmdline = process.info.get("cmdline") or []
        if not cmdline or process.info.get("status") == psutil.STATUS_ZOMBIE:
            continue
        path = wanted.get(worker_params_of(cmdline) or "")
        if path is not None:
            found.setdefault(path, []).append(process.pid)
    return found


async def kill_leftover_workers(pids: Iterable[int], timeout_s: float) -> list[int]:
    """Stop the process groups of verified leftover workers (SIGTERM, then SIGKILL).

    Each worker is its session's leader, so its pid is its group; SIGTERM first lets it
    cancel its own orders. Returns the pids whose groups are gone.
    """
    gone = []
    for pid in pids:
        if not _is_group_leader(pid):
            log.warning("leftover worker pid %d leads no process group; not signalled", pid)
            continue
        log.warning("stopping leftover worker pid %d from the previous supervisor", pid)
        if await kill_orphan_group(pid, timeout_s):
            gone.append(pid)
        else:
            log.error("leftover worker pid %d survived SIGKILL", pid)
    return gone


def _is_group_leader(pid: int) -> bool:
    try:
        return os.getpgid(pid) == pid
    except ProcessLookupError:
        return False


__all__ = [
    "RUN_STATE_VERSION",
    "details_in_run_state",
    "find_workers",
    "is_worker_cmdline",
    "kill_leftover_workers",
    "read_run_state",
    "worker_params_of",
    "write_run_state",
]
