"""The worker under a misbehaving exchange: dropped WebSockets, a tick-size change, HTTP errors."""

from __future__ import annotations

import signal
from decimal import Decimal

import pytest

from tests.worker.conftest import Counterparty, Drill, WorkerFactory, wait_for

pytestmark = pytest.mark.integration

THRESHOLD = {"buy_price_threshold": 0.5}


def _resting_buy(status: dict) -> bool:
    return bool(
        status["phase"] == "buying"
        and status["open_orders"]
        and status["open_orders"][0]["order_id"]
    )


def test_websocket_drop_mid_run_recovers_and_catches_up_on_missed_fills(
    drill: Drill, counterparty: Counterparty, workers: WorkerFactory
) -> None:
    market = drill.quiet_market()
    counterparty.buy(market.yes, "0.50", "20", post_only=True)
    counterparty.buy(market.no, "0.30", "20", post_only=True)
    worker = workers.start(workers.params(market, strategy=THRESHOLD))
    worker.wait_status(_resting_buy, what="a resting buy")
    # The buy can rest before both feeds finished connecting; drop them only once both are up.
    wait_for(lambda: drill.websocket_count() >= 2, timeout_s=10, what="market and user feeds")

    # Every connection drops; while the worker reconnects the buy fills (no event replay).
    # The fault window's own sweep may close them before drop_websockets() gets there, so
    # the check is that none is left, not how many this call closed.
    with drill.faults("ws_disconnect=schedule:0s-2s"):
        drill.drop_websockets()
        assert drill.websocket_count() == 0
        Counterparty(drill).buy(market.no, "0.50", "25")
    status = worker.wait_status(
        lambda s: s["phase"] == "selling" and s["open_orders"] and s["open_orders"][0]["order_id"],
        timeout_s=15,
        what="the fill seen after reconnecting",
    )
    assert status["position"] == "5"
    counters = status["counters"]
    assert counters["market_connections"] >= 2
    assert counters["user_feed_disconnected"] >= 1
    worker.signal(signal.SIGTERM)
    assert worker.wait_exit() == 0
    assert drill.open_orders(maker_address=workers.address) == []


def test_tick_size_change_mid_run_requotes_on_the_new_grid(
    drill: Drill, counterparty: Counterparty, workers: WorkerFactory
) -> None:
    market = drill.quiet_market()
    counterparty.buy(market.yes, "0.50", "20", post_only=True)
    counterparty.buy(market.no, "0.30", "20", post_only=True)
    worker = workers.start(
        workers.params(
            market, strategy={"buy_price_threshold": 0.51, "min_requote_interval_s": 0.2}
        )
    )
    worker.wait_status(_resting_buy, what="a resting buy")

    drill.post(f"/_sim/markets/{market.condition_id}/tick-size", {"tick_size": "0.001"})
    counterparty.buy(market.yes, "0.505", "20", post_only=True)  # only valid on the new grid
    status = worker.wait_status(
        lambda s: (
            s["tick_size"] == "0.001"
            and s["open_orders"]
            and s["open_orders"][0]["order_id"]
            and s["open_orders"][0]["price"] == "0.505"
        ),
        timeout_s=15,
        what="a buy following the bid on the 0.001 grid",
    )
    [order] = [o for o in drill.open_orders(maker_address=workers.address)]
    assert Decimal(order["price"]) == Decimal("0.505")
    assert order["id"] == status["open_orders"][0]["order_id"]
    worker.signal(signal.SIGTERM)
    assert worker.wait_exit() == 0
    assert drill.open_orders(maker_address=workers.address) == []


def test_injected_http_errors_never_duplicate_an_order(
    drill: Drill, counterparty: Counterparty, workers: WorkerFactory
) -> None:
    market = drill.quiet_market()
    counterparty.buy(market.yes, "0.50", "20", post_only=True)
    counterparty.buy(market.no, "0.30", "20", post_only=True)
    spec = "http500=0.6@POST /order,http503=0.3@GET /data/*,http429=0.3@GET /balance-allowance"
    with drill.faults(spec):
        worker = workers.start(workers.params(market, strategy=THRESHOLD))
        status = worker.wait_status(_resting_buy, timeout_s=20, what="a buy despite errors")
        mine = wait_for(lambda: drill.open_orders(maker_address=workers.address), what="orders")
        assert len(mine) == 1 and mine[0]["id"] == status["open_orders"][0]["order_id"]
    worker.signal(signal.SIGTERM)
    assert worker.wait_exit() == 0
    assert drill.open_orders(maker_address=workers.address) == []
