"""The data-directory lock: a second supervisor (a real second process) refuses; stale is fine."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys

import pytest

from polymaker.autorun.lock import (
    SupervisorLock,
    SupervisorRunningError,
    read_holder,
)

HOLDER = """
import sys
from polymaker.autorun.lock import SupervisorLock
lock = SupervisorLock(sys.argv[1])
lock.acquire()
print("locked", flush=True)
sys.stdin.readline()
"""


@pytest.fixture
def holder(tmp_path):
    """A separate process holding the lock on tmp_path until the test ends."""
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert child.stdout.readline().strip() == "locked"
        yield child
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        child.stdin.close()
        child.stdout.close()


@pytest.mark.integration
def test_second_supervisor_refuses_naming_the_holder_pid(tmp_path, holder):
    lock = SupervisorLock(tmp_path)
    with pytest.raises(SupervisorRunningError) as info:
        lock.acquire()
    assert f"pid {holder.pid}" in str(info.value)
    assert info.value.holder.pid == holder.pid
    assert not lock.is_held


@pytest.mark.integration
def test_lock_of_a_killed_holder_does_not_block(tmp_path, holder):
    os.killpg(holder.pid, signal.SIGKILL)
    holder.wait(timeout=10)
    assert read_holder(tmp_path / ".supervisor.lock").pid == holder.pid  # file left behind
    with SupervisorLock(tmp_path) as lock:
        assert lock.is_held
        assert read_holder(lock.path).pid == os.getpid()


def test_stale_lock_file_from_a_dead_process_does_not_block(tmp_path):
    path = tmp_path / ".supervisor.lock"
    path.write_text(json.dumps({"pid": 999999, "started_at": "2026-01-01T00:00:00Z"}))
    lock = SupervisorLock(tmp_path)
    lock.acquire()
    try:
        holder = read_holder(path)
        assert holder is not None and holder.pid == os.getpid()
    finally:
        lock.release()


def test_two_locks_in_one_process_conflict_and_release_frees(tmp_path):
    first = SupervisorLock(tmp_path)
    first.acquire()
    second = SupervisorLock(tmp_path)
    with pytest.raises(SupervisorRunningError, match=f"pid {os.getpid()}"):
        second.acquire()
    first.release()
    second.acquire()
    assert second.is_held
    second.release()
    assert read_holder(second.path) is None  # emptied on release


def test_lock_file_is_private_and_creates_the_data_dir(tmp_path):
    with SupervisorLock(tmp_path / "new" / "data") as lock:
        assert lock.path.exists()
        assert lock.path.stat().st_mode & 0o777 == 0o600
