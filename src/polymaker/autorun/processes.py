"""Worker processes: launch, liveness, graceful-then-forced stop, and heartbeat age.

Each worker runs in its own session (``start_new_session=True``), so its pid is also its process
group id and a stop reaches everything it started. A stop is SIGTERM to the group, then SIGKILL
to the whole group once ``stop_timeout_s`` has passed; it is a coroutine that polls, so the
supervisor keeps ticking and answering commands meanwhile. When the group leader has exited,
stragglers left in its group are killed *before* the leader is reaped: the unreaped leader
keeps the group id reserved, so the signal cannot hit an unrelated process that reused the id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psutil

from polymaker.errors import StateFileError
from polymaker.files import read_json_file

log = logging.getLogger("polymaker.autorun.processes")

POLL_INTERVAL_S = 0.05
WORKER_WORDS = "polymaker worker"  # what every worker's command line or title says
EXIT_UNKNOWN = 1  # reaped by someone else: counted as a failure (swept, retried)
REAP_TIMEOUT_S = 5.0  # after SIGKILL: the kernel only needs to tear the process down


def worker_argv(params_file: Path | str) -> list[str]:
    """The command line of one worker: ``python -m polymaker worker PARAMS.json``."""
    return [sys.executable, "-m", *WORKER_WORDS.split(), str(params_file)]


def worker_title(params_file: Path | str) -> str:
    """The process title of a forked worker: ``polymaker worker PARAMS.json``.

    The same words end a cold start's command line, so ``ps``, recovery and ``panic`` find
    both kinds alike (``recovery.worker_params_of``); the params file names the topic and the
    data directory.
    """
    return f"{WORKER_WORDS} {params_file}"


def worker_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The inherited environment plus ``PYTHONUNBUFFERED=1`` (a live log tail) and ``extra``."""
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


class WorkerProcess:
    """One launched worker; the supervisor is its parent and the only one to reap it.

    A cold start is a ``Popen`` child; a forked worker (``autorun.template``) became the
    supervisor's child when its intermediate parent exited (the supervisor is a child
    subreaper). Both are reaped by pid, so an exit status is never lost.
    """

    def __init__(
        self,
        pid: int,
        topic_id: str,
        log_file: Path,
        *,
        forked: bool = False,
        popen: subprocess.Popen[bytes] | None = None,
    ) -> None:
        self._pid = pid
        self._popen = popen  # kept so that it is never reaped by ``subprocess`` behind our back
        self._returncode: int | None = None
        self.topic_id = topic_id
        self.log_file = log_file
        self.forked = forked
        self.started_monotonic = time.monotonic()
        try:
            self._create_time: float | None = psutil.Process(pid).create_time()
        except psutil.Error:
            self._create_time = None  # already gone; ``reap`` reports its exit

    @property
    def pid(self) -> int:
        """The worker's pid, which is also its process group id."""
        return self._pid

    @property
    def returncode(self) -> int | None:
        """The exit code once reaped (negative: killed by that signal), else None."""
        return self._returncode

    def uptime_s(self) -> float:
        """Seconds since the launch (monotonic clock)."""
        return time.monotonic() - self.started_monotonic

    def is_alive(self) -> bool:
        """True while the worker runs (not exited, not a zombie; the pid not reused)."""
        if self._returncode is not None or self._create_time is None:
            return False
        try:
            process = psutil.Process(self.pid)
            return (
                process.create_time() == self._create_time
                and process.status() != psutil.STATUS_ZOMBIE
            )
        except psutil.Error:
            return False

    def reap(self) -> int | None:
        """The exit code if the worker has exited (killing stragglers of its group), else None."""
        if self._returncode is not None:
            return self._returncode
        if not self._has_exited():
            return None
        self.signal_group(signal.SIGKILL)  # the zombie leader still reserves the group id
        self._returncode = _wait_exit_code(self.pid)
        if self._popen is not None:
            self._popen.returncode = self._returncode
        return self._returncode

    def signal_group(self, signum: int) -> bool:
        """Send ``signum`` to the worker's process group; False if the group is gone."""
        if self._returncode is not None:
            return False
        try:
            os.killpg(self.pid, signum)
        except ProcessLookupError:
            return False
        return True

    def signal_leader(self, signum: int) -> bool:
        """Send ``signum`` to the worker process only (a request such as SIGUSR1, not a stop)."""
        if not self.is_alive():
            return False
        try:
            os.kill(self.pid, signum)
        except ProcessLookupError:
            return False
        return True

    async def wait(self, timeout_s: float) -> int | None:
        """Wait up to ``timeout_s`` for the exit without blocking the event loop."""
        deadline = time.monotonic() + timeout_s
        while (code := self.reap()) is None and time.monotonic() < deadline:
            await asyncio.sleep(POLL_INTERVAL_S)
        return code

    async def stop(self, timeout_s: float, *, force: bool = False) -> int:
        """SIGTERM the group, SIGKILL it after ``timeout_s`` (at once with ``force``); reap.

        Returns the exit code (negative for a signal). Safe to call on an exited worker.
        """
        if (code := self.reap()) is not None:
            return code
        if not force:
            self.signal_group(signal.SIGTERM)
            if (code := await self.wait(timeout_s)) is not None:
                return code
        self.signal_group(signal.SIGKILL)
        code = await self.wait(REAP_TIMEOUT_S)
        if code is None:
            raise RuntimeError(f"worker {self.topic_id} (pid {self.pid}) survived SIGKILL")
        return code

    def _has_exited(self) -> bool:
        """Exited but not reaped yet (``waitid`` with ``WNOWAIT`` leaves the zombie in place)."""
        try:
            info = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return True  # not our child (any more): ``_wait_exit_code`` says so
        return info is not None


def _wait_exit_code(pid: int) -> int:
    """Reap ``pid``; its exit code, negative for a signal (as ``Popen.returncode``)."""
    try:
        _pid, status = os.waitpid(pid, 0)
    except ChildProcessError:
        log.error("worker pid %d was reaped elsewhere; its exit status is unknown", pid)
        return EXIT_UNKNOWN
    return os.waitstatus_to_exitcode(status)


def spawn(
    argv: Sequence[str],
    *,
    topic_id: str,
    log_file: Path | str,
    env: Mapping[str, str] | None = None,
    cwd: Path | str | None = None,
) -> WorkerProcess:
    """Start ``argv`` in a new session, stdin from /dev/null, stdout+stderr appended to the log.

    ``env`` defaults to ``worker_env()``. The log's directory is created. An ``OSError`` (no
    such program, no permission) propagates: the caller records a failed start.
    """
    log_path = Path(log_file)
    popen = start_in_new_session(
        argv, output_file=log_path, env=worker_env() if env is None else env, cwd=cwd
    )
    return WorkerProcess(popen.pid, topic_id, log_path, popen=popen)


def start_in_new_session(
    argv: Sequence[str],
    *,
    output_file: Path,
    env: Mapping[str, str],
    stdin: int = subprocess.DEVNULL,
    cwd: Path | str | None = None,
) -> subprocess.Popen[bytes]:
    """``argv`` as its own session leader, stdout+stderr appended to ``output_file``."""
    output_file.parent.mkdir(parents=True, exist_ok=True)
    with open(output_file, "ab") as output:
        return subprocess.Popen(
            list(argv),
            stdin=stdin,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
            close_fds=True,
        )


def spawn_worker(
    params_file: Path | str,
    *,
    topic_id: str,
    log_file: Path | str,
    extra_env: Mapping[str, str] | None = None,
) -> WorkerProcess:
    """Launch ``polymaker worker PARAMS.json`` for one topic."""
    return spawn(
        worker_argv(params_file), topic_id=topic_id, log_file=log_file, env=worker_env(extra_env)
    )


@dataclass(frozen=True)
class Heartbeat:
    """What the supervisor reads from a worker's status file."""

    pid: int | None
    state: str | None
    heartbeat_at: datetime

    def age_s(self, now: datetime) -> float:
        """Seconds since the worker last wrote its status (0 if its clock is ahead)."""
        return max(0.0, (now - self.heartbeat_at).total_seconds())


def read_heartbeat(status_file: Path | str) -> Heartbeat | None:
    """The heartbeat in ``data/status/<topic>.json``; None while the file does not exist.

    A file that exists but has no valid ``heartbeat_at`` (ISO 8601 with a timezone) raises
    ``StateFileError``; status files are written atomically, so this is not a torn write.
    """
    path = Path(status_file)
    try:
        document = read_json_file(path)
    except StateFileError:
        if not path.exists():
            return None
        raise
    if not isinstance(document, dict):
        raise StateFileError(path, "a status file must be a JSON object")
    try:
        moment = datetime.fromisoformat(str(document["heartbeat_at"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        raise StateFileError(path, "no valid 'heartbeat_at'") from None
    if moment.tzinfo is None:
        raise StateFileError(path, "'heartbeat_at' has no timezone")
    pid = document.get("pid")
    state = document.get("state")
    return Heartbeat(
        pid=pid if isinstance(pid, int) and not isinstance(pid, bool) else None,
        state=state if isinstance(state, str) else None,
        heartbeat_at=moment,
    )


def read_log_tail(log_file: Path | str, *, lines: int = 5, max_bytes: int = 4096) -> list[str]:
    """The last ``lines`` lines of a log (reading at most its last ``max_bytes``), for status.

    A missing file gives []; undecodable bytes are replaced, never raised: this is display.
    """
    try:
        with open(log_file, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - max_bytes))
            data = handle.read()
    except FileNotFoundError:
        return []
    text = data.decode("utf-8", errors="replace").splitlines()
    if size > max_bytes and text:
        text = text[1:]  # the first line was cut in the middle
    return [line for line in text if line.strip()][-lines:]


def group_members(pgid: int) -> list[int]:
    """Pids of the live (non-zombie) processes of group ``pgid``."""
    members = []
    for process in psutil.process_iter(["status"]):
        try:
            if os.getpgid(process.pid) == pgid and process.info["status"] != psutil.STATUS_ZOMBIE:
                members.append(process.pid)
        except (ProcessLookupError, PermissionError):
            continue
    return members


def group_alive(pgid: int) -> bool:
    """True while a live process of group ``pgid`` exists (e.g. workers a dead supervisor left)."""
    return bool(group_members(pgid))


async def kill_orphan_group(pgid: int, timeout_s: float) -> bool:
    """Stop a process group that is not our child: SIGTERM, then SIGKILL after ``timeout_s``.

    For workers left behind by a supervisor that died; we cannot reap them, so this waits
    until no process of the group is left. Returns True if the group is gone.
    """
    for signum, wait_s in ((signal.SIGTERM, timeout_s), (signal.SIGKILL, REAP_TIMEOUT_S)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signum)
        deadline = time.monotonic() + wait_s
        while group_alive(pgid) and time.monotonic() < deadline:
            await asyncio.sleep(POLL_INTERVAL_S)
        if not group_alive(pgid):
            return True
    return False


__all__ = [
    "WORKER_WORDS",
    "Heartbeat",
    "WorkerProcess",
    "group_alive",
    "group_members",
    "kill_orphan_group",
    "read_heartbeat",
    "read_log_tail",
    "spawn",
    "spawn_worker",
    "start_in_new_session",
    "worker_argv",
    "worker_env",
    "worker_title",
]
