"""``polymaker worker --await-params``: a spare trades what it is handed, exactly like a worker."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from polymaker.worker.handoff import spare_argv
from tests.worker.conftest import Counterparty, Drill, WorkerFactory

pytestmark = pytest.mark.integration


def _resting_buy(status: dict) -> bool:
    return bool(status["open_orders"] and status["open_orders"][0]["order_id"])


def test_a_handed_over_market_is_traded_and_stopped_like_a_cold_start(
    drill: Drill, counterparty: Counterparty, workers: WorkerFactory, tmp_path: Path
) -> None:
    market = drill.quiet_market()
    counterparty.buy(market.yes, "0.50", "20", post_only=True)
    counterparty.buy(market.no, "0.30", "20", post_only=True)
    worker = workers.start(
        workers.params(market, strategy={"buy_price_threshold": 0.5}), spare=True
    )
    status = worker.wait_status(_resting_buy, timeout_s=20, what="the spare's resting buy")
    assert status["pid"] == worker.process.pid
    assert [o["id"] for o in drill.open_orders(maker_address=workers.address)] == [
        status["open_orders"][0]["order_id"]
    ]
    assert (tmp_path / "handed-0.stdout.log").exists()  # raw output moved to the topic's file
    worker.signal(signal.SIGTERM)
    assert worker.wait_exit() == 0
    assert drill.open_orders(maker_address=workers.address) == []


def _spare_reading(tmp_path: Path, stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        spare_argv(sys.executable, tmp_path),
        input=stdin,
        capture_output=True,
        timeout=60,
        start_new_session=True,
    )


def test_a_bad_hand_over_is_exit_2_and_says_why(tmp_path: Path) -> None:
    spare = _spare_reading(tmp_path, b"params.json\n")
    assert spare.returncode == 2
    assert b"unreadable hand-over" in spare.stderr


def test_a_spare_whose_supervisor_went_away_exits_0(tmp_path: Path) -> None:
    spare = _spare_reading(tmp_path, b"")
    assert (spare.returncode, spare.stderr) == (0, b"")


def test_params_and_await_params_together_are_refused(tmp_path: Path) -> None:
    both = [*spare_argv(sys.executable, tmp_path), str(tmp_path / "p.json")]
    neither = [sys.executable, "-m", "polymaker", "worker"]
    for argv in (both, neither):
        run = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        assert run.returncode == 2, argv
        assert b"exactly one" in run.stderr
