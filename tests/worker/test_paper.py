"""Paper mode end to end: the drill exchange is the live data source, the orders are simulated.

The worker has no key at all. Its buy and sell rest only in its own paper gateway (the drill
exchange never sees them), a real taker's trade through its price fills it by the queue model,
a restart adopts the position from the paper ledger, and every L2 request or user-channel
login the exchange checks belongs to the test's accounts.
"""

from __future__ import annotations

import json
import signal
import stat
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.worker.conftest import Counterparty, Drill, WorkerFactory, dec

pytestmark = pytest.mark.integration


class _RecordingKeys(dict[str, Any]):
    """The venue's API-key table, remembering every key an authenticated request presented."""

    def __init__(self, keys: dict[str, Any]) -> None:
        super().__init__(keys)
        self.presented: list[str] = []

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self.presented.append(key)
        return super().get(key, default)


@pytest.fixture
def recorded_keys(drill: Drill) -> Iterator[_RecordingKeys]:
    """Swap the drill's key table for a recording one for the test, then put it back."""

    def swap() -> _RecordingKeys:
        recording = _RecordingKeys(drill.sim.venue.keys)
        drill.sim.venue.keys = recording
        return recording

    recording = drill.sim.call(swap)
    try:
        yield recording
    finally:

        def restore() -> None:
            drill.sim.venue.keys = dict(drill.sim.venue.keys)

        drill.sim.call(restore)


def _addresses_of(drill: Drill, keys: list[str]) -> set[str]:
    table = drill.sim.call(lambda: dict(drill.sim.venue.keys))
    return {table[key].address.lower() if key in table else f"unknown key {key!r}" for key in keys}


def test_paper_worker_trades_on_real_market_data_without_sending_an_order(
    drill: Drill,
    counterparty: Counterparty,
    workers: WorkerFactory,
    recorded_keys: _RecordingKeys,
    tmp_path: Path,
) -> None:
    market = drill.quiet_market()
    high_bid = counterparty.buy(market.yes, "0.60", "20", post_only=True)
    counterparty.buy(market.yes, "0.50", "20", post_only=True)
    counterparty.buy(market.yes, "0.49", "20", post_only=True)
    counterparty.buy(market.no, "0.30", "20", post_only=True)  # = an ask for YES at 0.70
    params = workers.params(market, mode="paper", paper_cash_usdc="100")
    worker = workers.start(params, with_key=False)
    worker.wait_status(lambda s: s["rolling_high"] == "0.6", what="a full signal window")
    counterparty.cancel(high_bid)  # the best bid dips 0.60 -> 0.50
    status = worker.wait_status(
        lambda s: s["phase"] == "buying" and s["open_orders"] and s["open_orders"][0]["order_id"],
        what="a resting paper buy",
    )
    [buy] = status["open_orders"]
    assert (buy["side"], buy["price"], buy["size"]) == ("BUY", "0.50", "5.00")
    assert buy["order_id"].startswith("paper-")
    on_exchange = drill.open_orders(market=market.condition_id)
    assert buy["order_id"] not in {order["id"] for order in on_exchange}
    assert {order["maker_address"].lower() for order in on_exchange} == {counterparty.address}

    # A real taker sells 30 YES: 20 at 0.50 (the volume displayed ahead of the paper bid),
    # then 10 at 0.49, through the paper bid's price: the queue model fills its 5 at 0.50.
    taker = Counterparty(drill)
    taker.buy(market.no, "0.51", "30")
    status = worker.wait_status(
        lambda s: s["phase"] == "selling" and s["open_orders"] and s["open_orders"][0]["order_id"],
        what="a resting paper take-profit sell",
    )
    assert dec(status["position"]) == 5 and dec(status["avg_entry"]) == Decimal("0.50")
    [sell] = status["open_orders"]
    assert (sell["side"], sell["price"]) == ("SELL", "0.70")
    on_exchange = drill.open_orders(market=market.condition_id)
    assert sell["order_id"] not in {order["id"] for order in on_exchange}
    assert {order["maker_address"].lower() for order in on_exchange} == {counterparty.address}
    assert status["mode"] == "paper"

    ledger_path = Path(params["status_file"]).with_name(f"{market.slug}.paper-ledger")
    assert stat.S_IMODE(ledger_path.stat().st_mode) == 0o600
    ledger = json.loads(ledger_path.read_text())
    assert dec(ledger["cash"]) == Decimal("97.5") and dec(ledger["shares"][market.yes]) == 5

    worker.signal(signal.SIGTERM)
    assert worker.wait_exit() == 0
    final = worker.status()
    assert final is not None and (final["state"], final["mode"]) == ("stopped", "paper")
    lines = [line for line in worker.log().splitlines() if line.strip()]
    assert lines and all(" [paper] " in line for line in lines)
    assert "orders are simulated locally" in worker.log()
    # A restart finds the paper position in the ledger and goes straight to selling it.
    again = workers.start(params, with_key=False)
    status = again.wait_status(
        lambda s: s["phase"] == "selling" and s["open_orders"], what="the adopted paper position"
    )
    assert dec(status["position"]) == 5 and dec(status["avg_entry"]) == Decimal("0.50")
    again.signal(signal.SIGTERM)
    assert again.wait_exit() == 0
    # Only the test's own accounts ever authenticated (REST L2 and the user channel).
    allowed = {counterparty.address, taker.address}
    assert recorded_keys.presented and _addresses_of(drill, recorded_keys.presented) <= allowed
    taker.client.close()
