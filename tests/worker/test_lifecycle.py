"""Start-up refusals and the end of a market: exit codes 0, 2 and 3, and nothing left open."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.worker.conftest import Counterparty, Drill, WorkerFactory

pytestmark = pytest.mark.integration

THRESHOLD = {"buy_price_threshold": 0.5}


def _iso_in(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def test_market_ending_while_holding_goes_sell_only_then_stops(
    drill: Drill, counterparty: Counterparty, workers: WorkerFactory
) -> None:
    market = drill.quiet_market()
    counterparty.buy(market.yes, "0.50", "20", post_only=True)
    counterparty.buy(market.no, "0.30", "20", post_only=True)
    params = workers.params(
        market, end_time=_iso_in(12), strategy={**THRESHOLD, "sell_only_minutes_before_end": 0.1}
    )
    worker = workers.start(params)
    worker.wait_status(lambda s: s["phase"] == "buying" and s["open_orders"], what="a buy")
    Counterparty(drill).buy(market.no, "0.50", "25")
    worker.wait_status(lambda s: s["phase"] == "selling" and s["open_orders"], what="a sell")
    status = worker.wait_status(lambda s: s["sell_only"], timeout_s=10, what="sell-only")
    assert status["position"] == "5" and status["phase"] == "selling"
    assert worker.wait_exit(timeout_s=15) == 0  # the market's end passes while still holding
    final = worker.status()
    assert final is not None
    assert (final["state"], final["exit_code"], final["position"]) == ("finished", 0, "5")
    assert drill.open_orders(maker_address=workers.address) == []


def test_market_closed_mid_run_exits_3_with_no_open_orders(
    drill: Drill, counterparty: Counterparty, workers: WorkerFactory
) -> None:
    market = drill.quiet_market()
    counterparty.buy(market.yes, "0.50", "20", post_only=True)
    worker = workers.start(workers.params(market, strategy=THRESHOLD))
    worker.wait_status(lambda s: s["phase"] == "buying" and s["open_orders"], what="a buy")
    drill.post(f"/_sim/markets/{market.condition_id}/close")
    assert worker.wait_exit(timeout_s=15) == 3
    assert drill.open_orders(maker_address=workers.address) == []
    final = worker.status()
    assert final is not None and final["exit_code"] == 3


def test_market_resolved_while_holding_exits_0_naming_the_position(
    drill: Drill, counterparty: Counterparty, workers: WorkerFactory
) -> None:
    market = drill.quiet_market()
    counterparty.buy(market.yes, "0.50", "20", post_only=True)
    counterparty.buy(market.no, "0.30", "20", post_only=True)
    worker = workers.start(workers.params(market, strategy=THRESHOLD))
    worker.wait_status(lambda s: s["phase"] == "buying" and s["open_orders"], what="a buy")
    Counterparty(drill).buy(market.no, "0.50", "25")
    worker.wait_status(lambda s: s["phase"] == "selling" and s["open_orders"], what="a sell")
    drill.post(f"/_sim/markets/{market.condition_id}/close", {"winner": "Yes"})
    assert worker.wait_exit(timeout_s=15) == 0
    final = worker.status()
    assert final is not None
    assert (final["state"], final["exit_code"], final["position"]) == ("finished", 0, "5")
    assert final["exit_reason"] == (
        f"market closed holding 5 shares of {market.yes}: left to redeem"
    )
    assert drill.open_orders(maker_address=workers.address) == []


def test_closed_market_at_start_exits_3_before_any_order(
    drill: Drill, workers: WorkerFactory
) -> None:
    market = drill.quiet_market()
    drill.post(f"/_sim/markets/{market.condition_id}/close")
    worker = workers.start(workers.params(market, strategy=THRESHOLD))
    assert worker.wait_exit() == 3
    final = worker.status()
    assert final is not None and final["state"] == "failed" and final["exit_code"] == 3
    assert "not tradable" in final["last_error"]
    assert drill.open_orders(maker_address=workers.address) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"strategy": {"order_sise": 5}}, "strategy.order_sise"),
        ({"private_key": "0x" + "ab" * 32}, "POLYMAKER_KEY_FILE"),
        ({"side": "maybe"}, "side"),
    ],
)
def test_invalid_params_exit_2_before_any_order(
    drill: Drill, workers: WorkerFactory, tmp_path: Path, change: dict, message: str
) -> None:
    market = drill.quiet_market()
    params = workers.params(market)
    params.update(change)
    started = time.monotonic()
    worker = workers.start(params)
    assert worker.wait_exit() == 2
    assert time.monotonic() - started < 10
    output = "".join(p.read_text() for p in tmp_path.glob("stderr-*.log"))
    assert message in output
    assert "ab" * 32 not in output
    listed = drill.http.get("/_sim/accounts", params={"address": workers.address}).json()
    assert listed == []  # the exchange never heard of this account
    assert (
        not Path(params["status_file"]).exists()
        or json.loads(Path(params["status_file"]).read_text())["exit_code"] == 2
    )


def test_key_file_readable_by_others_exits_2_with_the_fix(
    drill: Drill, workers: WorkerFactory, tmp_path: Path
) -> None:
    market = drill.quiet_market()
    loose = tmp_path / "loose.key"
    loose.write_text(workers.key)
    loose.chmod(0o644)
    worker = workers.start(workers.params(market), env={"POLYMAKER_KEY_FILE": str(loose)})
    assert worker.wait_exit() == 2
    output = "".join(p.read_text() for p in tmp_path.glob("stderr-*.log"))
    assert f"chmod 600 {loose}" in output
    assert workers.key not in output and workers.key[2:] not in output


def test_credentials_of_another_address_exit_2_before_any_order(
    drill: Drill, counterparty: Counterparty, workers: WorkerFactory, tmp_path: Path
) -> None:
    market = drill.quiet_market()
    creds = counterparty.client.credentials  # derived for the counterparty's key, not ours
    env = {
        "POLYMAKER_API_KEY": creds.key,
        "POLYMAKER_API_SECRET": creds.secret,
        "POLYMAKER_API_PASSPHRASE": creds.passphrase,
    }
    params = workers.params(market)
    worker = workers.start(params, env=env)
    assert worker.wait_exit() == 2
    final = worker.status()
    assert final is not None and (final["state"], final["exit_code"]) == ("failed", 2)
    assert "not active for the wallet" in final["last_error"]
    assert "POLYMAKER_API_KEY" in final["last_error"]
    assert drill.open_orders(maker_address=workers.address) == []
    written = worker.log() + Path(params["status_file"]).read_text()
    for secret in (creds.key, creds.secret, creds.passphrase, workers.key, workers.key[2:]):
        assert secret not in written


def test_lean_entry_point_has_the_same_exit_codes(tmp_path: Path) -> None:
    params = tmp_path / "params.json"
    params.write_text(json.dumps({"topic_id": "x", "api_secret": "nope"}))
    done = subprocess.run(
        [sys.executable, "-m", "polymaker.worker", str(params)],
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,
    )
    assert done.returncode == 2
    assert "api_secret" in done.stderr and "POLYMAKER_KEY_FILE" in done.stderr
