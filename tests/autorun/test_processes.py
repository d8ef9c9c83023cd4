"""Worker process management with real child processes (tests/autorun/child_program.py)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import pytest

from polymaker.autorun.processes import (
    WorkerProcess,
    group_alive,
    kill_orphan_group,
    read_heartbeat,
    read_log_tail,
    spawn,
    worker_argv,
    worker_env,
)
from polymaker.errors import StateFileError

CHILD = Path(__file__).with_name("child_program.py")


@pytest.fixture
def launch(tmp_path):
    """Start child_program.py modes as workers; every group is killed at teardown."""
    started: list[WorkerProcess] = []
    extra_groups: list[int] = []

    def _launch(mode: str, arg: str = "", env: dict | None = None) -> WorkerProcess:
        argv = [sys.executable, str(CHILD), mode, *([arg] if arg else [])]
        process = spawn(
            argv,
            topic_id=f"topic-{mode}",
            log_file=tmp_path / "logs" / "topics" / f"{mode}.log",
            env=worker_env(env),
        )
        started.append(process)
        return process

    _launch.extra_groups = extra_groups  # type: ignore[attr-defined]
    yield _launch
    for pgid in [process.pid for process in started] + extra_groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
    for process in started:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process._popen.wait(timeout=5)


def _wait_for_line(path: Path, pattern: str, timeout_s: float = 10.0) -> re.Match[str]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists() and (found := re.search(pattern, path.read_text())):
            return found
        time.sleep(0.02)
    raise AssertionError(f"{pattern!r} never appeared in {path}")


def test_worker_argv_runs_the_polymaker_worker_command():
    assert worker_argv("data/params/x.json") == [
        sys.executable,
        "-m",
        "polymaker",
        "worker",
        "data/params/x.json",
    ]


@pytest.mark.integration
def test_child_gets_devnull_stdin_unbuffered_env_and_appends_to_its_log(launch):
    first = launch("env", env={"CHILD_EXTRA": "yes"})
    assert asyncio.run(first.wait(10)) == 0
    second = launch("env", env={"CHILD_EXTRA": "again"})
    assert asyncio.run(second.wait(10)) == 0
    text = first.log_file.read_text()
    assert "unbuffered=1" in text and "stdin=''" in text and "to stderr" in text
    assert text.index("extra=yes") < text.index("extra=again")  # appended, not truncated


@pytest.mark.integration
def test_new_session_makes_the_pid_the_group_id(launch):
    process = launch("sleep")
    _wait_for_line(process.log_file, "ready")
    assert os.getpgid(process.pid) == process.pid
    assert os.getsid(process.pid) == process.pid
    assert process.is_alive()


@pytest.mark.integration
@pytest.mark.parametrize("code", [0, 2, 3, 1])
def test_exit_codes_are_reaped(launch, code):
    process = launch("exit", str(code))
    assert asyncio.run(process.wait(10)) == code
    assert process.returncode == code
    assert not process.is_alive()
    assert process.reap() == code  # idempotent


@pytest.mark.integration
def test_graceful_stop_uses_sigterm(launch):
    process = launch("graceful")
    _wait_for_line(process.log_file, "ready")
    assert asyncio.run(process.stop(5.0)) == 0
    assert "got SIGTERM" in process.log_file.read_text()


@pytest.mark.integration
def test_stubborn_worker_is_killed_after_the_timeout_without_blocking_the_loop(launch):
    process = launch("stubborn")
    _wait_for_line(process.log_file, "ready")

    async def main() -> tuple[int, int, float]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        task = asyncio.create_task(ticker())
        started = time.monotonic()
        code = await process.stop(0.5)
        elapsed = time.monotonic() - started
        task.cancel()
        return code, ticks, elapsed

    code, ticks, elapsed = asyncio.run(main())
    assert code == -signal.SIGKILL
    assert 0.5 <= elapsed < 5
    assert ticks >= 10  # the event loop kept running during the stop
    assert "ignoring SIGTERM" in process.log_file.read_text()


@pytest.mark.integration
def test_force_stop_kills_at_once(launch):
    process = launch("stubborn")
    _wait_for_line(process.log_file, "ready")
    started = time.monotonic()
    assert asyncio.run(process.stop(30.0, force=True)) == -signal.SIGKILL
    assert time.monotonic() - started < 5
    assert "ignoring SIGTERM" not in process.log_file.read_text()


@pytest.mark.integration
def test_stop_kills_the_whole_group(launch):
    process = launch("stubborn")
    _wait_for_line(process.log_file, "ready")
    asyncio.run(process.stop(0.2, force=True))
    assert not group_alive(process.pid)


@pytest.mark.integration
def test_reap_kills_stragglers_left_in_the_group(launch):
    process = launch("leave-grandchild")
    grandchild = int(_wait_for_line(process.log_file, r"grandchild=(\d+)").group(1))
    _wait_for_line(process.log_file, "ready")  # the grandchild's own line
    assert asyncio.run(process.wait(10)) == 0
    deadline = time.monotonic() + 5
    while group_alive(process.pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not group_alive(process.pid)
    assert not _alive(grandchild)


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.mark.integration
def test_stop_of_an_exited_worker_returns_its_code(launch):
    process = launch("exit", "4")
    asyncio.run(process.wait(10))
    assert asyncio.run(process.stop(1.0)) == 4


@pytest.mark.integration
def test_orphan_group_of_a_dead_supervisor_is_killed(launch):
    parent = launch("orphan")
    orphan = int(_wait_for_line(parent.log_file, r"orphan=(\d+)").group(1))
    launch.extra_groups.append(orphan)
    assert asyncio.run(parent.wait(10)) == 0
    _wait_for_line(parent.log_file, "ready")  # the orphan is up
    assert group_alive(orphan)
    assert asyncio.run(kill_orphan_group(orphan, 0.5)) is True
    assert not group_alive(orphan)


def test_spawn_of_a_missing_program_raises(tmp_path):
    with pytest.raises(OSError):
        spawn([str(tmp_path / "nope")], topic_id="t", log_file=tmp_path / "t.log")


def _status(path: Path, **fields) -> Path:
    path.write_text(json.dumps({"topic_id": "t", "state": "running", "pid": 42, **fields}))
    return path


def test_heartbeat_age_from_the_status_file(tmp_path):
    now = datetime(2026, 12, 3, 12, 0, 10, tzinfo=UTC)
    beat = read_heartbeat(_status(tmp_path / "t.json", heartbeat_at="2026-12-03T12:00:07.500Z"))
    assert beat.pid == 42 and beat.state == "running"
    assert beat.age_s(now) == 2.5
    assert beat.age_s(now - timedelta(seconds=60)) == 0.0


def test_missing_status_file_is_no_heartbeat_yet(tmp_path):
    assert read_heartbeat(tmp_path / "absent.json") is None


@pytest.mark.parametrize(
    "fields",
    [{}, {"heartbeat_at": "yesterday"}, {"heartbeat_at": "2026-12-03T12:00:00"}],
)
def test_status_file_without_a_valid_heartbeat_raises(tmp_path, fields):
    with pytest.raises(StateFileError, match="heartbeat_at"):
        read_heartbeat(_status(tmp_path / "t.json", **fields))


def test_corrupt_status_file_raises(tmp_path):
    path = tmp_path / "t.json"
    path.write_text("{")
    with pytest.raises(StateFileError):
        read_heartbeat(path)


def test_log_tail_gives_the_last_lines(tmp_path):
    path = tmp_path / "t.log"
    path.write_text("".join(f"line {n}\n" for n in range(1000)) + "\n")
    assert read_log_tail(path, lines=3) == ["line 997", "line 998", "line 999"]
    tail = read_log_tail(path, lines=100, max_bytes=30)
    assert tail == ["line 997", "line 998", "line 999"]  # the cut first line is dropped


def test_log_tail_of_a_missing_or_binary_log(tmp_path):
    assert read_log_tail(tmp_path / "none.log") == []
    path = tmp_path / "b.log"
    path.write_bytes(b"ok\n\xff\xfe bad\n")
    assert read_log_tail(path) == ["ok", "\ufffd\ufffd bad"]
