"""SIGUSR1: the worker stops buying, sells its position at the exit price and exits when flat."""

from __future__ import annotations

import signal

import pytest

from tests.worker.conftest import Counterparty, Drill, WorkerFactory

pytestmark = pytest.mark.integration


def test_sigusr1_sells_the_position_below_the_take_profit_then_exits_0(
    drill: Drill, counterparty: Counterparty, workers: WorkerFactory
) -> None:
    market = drill.quiet_market()
    counterparty.buy(market.yes, "0.50", "20", post_only=True)
    counterparty.buy(market.no, "0.30", "20", post_only=True)  # a YES ask at 0.70
    worker = workers.start(workers.params(market, strategy={"buy_price_threshold": 0.5}))
    worker.wait_status(
        lambda s: s["phase"] == "buying" and s["open_orders"] and s["open_orders"][0]["order_id"],
        what="a resting buy",
    )
    taker = Counterparty(drill)
    taker.buy(market.no, "0.50", "25")  # sells 25 YES into the bids: ours fills
    worker.wait_status(
        lambda s: s["phase"] == "selling" and s["open_orders"] and s["open_orders"][0]["order_id"],
        timeout_s=15,
        what="the take-profit sell",
    )

    worker.signal(signal.SIGUSR1)
    status = worker.wait_status(
        lambda s: s["open_orders"] and s["open_orders"][0]["intent"] == "flatten",
        timeout_s=15,
        what="the flatten sell",
    )
    [order] = status["open_orders"]
    assert (order["side"], order["price"], order["size"]) == ("SELL", "0.69", "5.00")
    assert status["sell_only"] is True
    taker.buy(market.yes, "0.69", "5")
    assert worker.wait_exit(timeout_s=20) == 0
    final = worker.status()
    assert final is not None and final["state"] == "stopped" and final["position"] == "0"
    assert drill.open_orders(maker_address=workers.address) == []
    taker.client.close()
