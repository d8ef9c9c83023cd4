"""Leftover workers of a dead supervisor: found by cmdline, verified, their groups stopped."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from polymaker.autorun.processes import worker_title
from polymaker.autorun.recovery import (
    details_in_run_state,
    find_workers,
    is_worker_cmdline,
    kill_leftover_workers,
    read_run_state,
    write_run_state,
)

CHILD = str(Path(__file__).with_name("child_program.py"))


@pytest.fixture
def fake_leftover(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """A process whose command line ends like a worker's: ``... polymaker worker PARAMS``."""
    params = tmp_path / "params" / "topic-a.json"
    process = subprocess.Popen(
        [sys.executable, CHILD, "sleep", "-m", "polymaker", "worker", str(params)],
        stdout=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    assert process.stdout is not None and process.stdout.readline().startswith(b"ready")
    try:
        yield process, params
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def test_a_forked_workers_title_matches_as_psutil_reports_it(tmp_path: Path) -> None:
    params = tmp_path / "a dir" / "params" / "a.json"
    title = worker_title(params)
    assert is_worker_cmdline([title, "", "", ""], params), "padded with empty strings"
    assert is_worker_cmdline(title.split(" "), params), "split at every space"
    assert not is_worker_cmdline([f"polymaker worker-template {tmp_path}"], params)
    assert not is_worker_cmdline(["xpolymaker worker", str(params)], params)


def test_is_worker_cmdline_matches_only_that_params_file(tmp_path: Path) -> None:
    params = tmp_path / "a.json"
    assert is_worker_cmdline(["python", "-m", "polymaker", "worker", str(params)], params)
    assert not is_worker_cmdline(["python", "-m", "polymaker", "worker", "b.json"], params)
    assert not is_worker_cmdline(["python", "-m", "polymaker", "sim", str(params)], params)


@pytest.mark.integration
def test_a_verified_leftover_worker_group_is_stopped(
    fake_leftover: tuple[subprocess.Popen[bytes], Path], tmp_path: Path
) -> None:
    process, params = fake_leftover
    found = find_workers([params, tmp_path / "params" / "other.json"])
    assert found == {params: [process.pid]}
    gone = asyncio.run(kill_leftover_workers(found[params], timeout_s=2))
    assert gone == [process.pid]
    assert process.wait(timeout=5) == -signal.SIGTERM
    assert find_workers([params]) == {}


@pytest.mark.integration
def test_a_process_that_leads_no_group_is_never_signalled(tmp_path: Path) -> None:
    params = tmp_path / "p.json"
    process = subprocess.Popen(
        [sys.executable, CHILD, "sleep", "polymaker", "worker", str(params)], stdout=subprocess.PIPE
    )
    try:
        assert process.stdout is not None and process.stdout.readline().startswith(b"ready")
        assert asyncio.run(kill_leftover_workers([process.pid], timeout_s=1)) == []
        assert psutil.Process(process.pid).status() != psutil.STATUS_ZOMBIE
    finally:
        process.kill()
        process.wait(timeout=10)


def test_run_state_round_trip_and_a_bad_file_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "run_state.json"
    market = {"topic_id": "a", "condition_id": "0x1", "yes_token": "1", "no_token": "2",
              "side": "NO", "tick_size": "0.01", "min_order_size": "5", "neg_risk": False,
              "end_time": "2099-12-05T12:00:00Z"}  # fmt: skip
    write_run_state(path, {"tasks": {"a": {"market": market}, "b": {"market": {"x": 1}}}})
    document = read_run_state(path)
    assert document["version"] == 1
    details = details_in_run_state(document)
    assert list(details) == ["a"] and details["a"].token_id == "2"
    path.write_text("{torn")
    assert read_run_state(path) == {}
    assert read_run_state(tmp_path / "absent.json") == {}


@pytest.mark.integration
def test_a_stale_drill_exchange_is_killed_only_when_its_cmdline_matches(tmp_path: Path) -> None:
    from polymaker.autorun.embedded import is_our_sim, kill_stale_sim

    url_file = tmp_path / "drill_urls.json"
    impostor = subprocess.Popen(
        [sys.executable, CHILD, "sleep", "-m", "polymaker", "sim", "--url-file", str(url_file)],
        stdout=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    bystander = subprocess.Popen([sys.executable, CHILD, "sleep"], stdout=subprocess.PIPE)
    try:
        for process in (impostor, bystander):
            assert process.stdout is not None and process.stdout.readline().startswith(b"ready")
        assert is_our_sim(impostor.pid, url_file) and not is_our_sim(bystander.pid, url_file)
        assert not asyncio.run(kill_stale_sim(bystander.pid, url_file))
        assert bystander.poll() is None, "a process that is not our drill exchange survives"
        assert asyncio.run(kill_stale_sim(impostor.pid, url_file))
        assert impostor.wait(timeout=5) == -signal.SIGTERM
    finally:
        for process in (impostor, bystander):
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            process.wait(timeout=10)
