"""The spare pool with real processes: started, found, handed a market, replaced, closed."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

import psutil
import pytest

from polymaker.autorun.processes import worker_env
from polymaker.autorun.recovery import find_spares
from polymaker.autorun.spares import SparePool
from polymaker.worker.handoff import Handoff
from tests.polling import wait_for

pytestmark = pytest.mark.integration


def _pool(tmp_path: Path, size: int) -> SparePool:
    env = {k: v for k, v in worker_env().items() if not k.startswith("POLYMAKER_")}
    return SparePool(size, data_dir=tmp_path / "data", output_file=tmp_path / "spare.log", env=env)


def test_refill_starts_spares_that_recovery_finds_and_close_ends_them(tmp_path: Path) -> None:
    pool = _pool(tmp_path, 2)
    try:
        pool.refill()
        pids = wait_for(lambda: sorted(find_spares(tmp_path / "data")), what="two spares")
        assert len(pids) == 2
        assert all(os.getpgid(pid) == pid for pid in pids)  # each leads its own group
        assert find_spares(tmp_path / "other") == []
    finally:
        asyncio.run(pool.close())
    assert find_spares(tmp_path / "data") == []
    assert not any(psutil.pid_exists(pid) for pid in pids)


def test_a_handed_over_spare_becomes_the_topics_worker_process(tmp_path: Path) -> None:
    pool = _pool(tmp_path, 1)
    try:
        pool.refill()
        params = tmp_path / "params.json"
        params.write_text(json.dumps({"topic_id": "t"}))  # invalid: the worker must exit 2
        output = tmp_path / "topics" / "t.stdout.log"
        process = pool.hand_over(Handoff(params, output), topic_id="t", log_file=output)
        assert process is not None and process.warm
        assert asyncio.run(process.wait(60)) == 2
        assert "field required" in output.read_text().lower()  # stderr followed the hand-over
        assert pool.handed_over == 1
    finally:
        asyncio.run(pool.close())


def test_a_dead_spare_is_skipped_and_replaced(tmp_path: Path) -> None:
    pool = _pool(tmp_path, 1)
    try:
        pool.refill()
        [pid] = wait_for(lambda: find_spares(tmp_path / "data"), what="a spare")
        os.killpg(pid, signal.SIGKILL)
        wait_for(lambda: psutil.Process(pid).status() == psutil.STATUS_ZOMBIE, what="its death")
        handoff = Handoff(tmp_path / "p.json", tmp_path / "o.log")
        assert pool.hand_over(handoff, topic_id="t", log_file=tmp_path / "o.log") is None
        pool.refill()
        [replacement] = wait_for(lambda: find_spares(tmp_path / "data"), what="a new spare")
        assert replacement != pid
    finally:
        asyncio.run(pool.close())


def test_size_zero_keeps_no_spare(tmp_path: Path) -> None:
    pool = _pool(tmp_path, 0)
    pool.refill()
    handoff = Handoff(tmp_path / "p.json", tmp_path / "o.log")
    assert pool.hand_over(handoff, topic_id="t", log_file=tmp_path / "o.log") is None
    assert find_spares(tmp_path / "data") == []
