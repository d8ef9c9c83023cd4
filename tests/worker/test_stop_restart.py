"""Stopping and crashing: SIGTERM leaves nothing behind; after SIGKILL a restart adopts.

Both check the exchange itself (``GET /_sim/orders``), not only the worker's own account.
"""

from __future__ import annotations

import signal
import time
from decimal import Decimal

import pytest

from polymaker.exchange.sdk import create_secure_client
from tests.worker.conftest import Counterparty, Drill, QuietMarket, WorkerFactory, dec, wait_for

pytestmark = pytest.mark.integration

# Buy at once (the bid is at the threshold), hold at most one order's worth.
THRESHOLD = {"buy_price_threshold": 0.5}


def _book(counterparty: Counterparty, market: QuietMarket) -> None:
    counterparty.buy(market.yes, "0.50", "20", post_only=True)
    counterparty.buy(market.no, "0.30", "20", post_only=True)  # YES ask at 0.70


def _resting(drill: Drill, address: str, side: str) -> dict:
    def find() -> dict | None:
        orders = [o for o in drill.open_orders(maker_address=address) if o["side"] == side]
        return orders[0] if len(orders) == 1 else None

    return wait_for(find, what=f"one resting {side} of {address}")


def test_sigterm_cancels_this_markets_orders_and_exits_0(
    drill: Drill, counterparty: Counterparty, workers: WorkerFactory
) -> None:
    market = drill.quiet_market()
    _book(counterparty, market)
    worker = workers.start(workers.params(market, strategy=THRESHOLD))
    buy = _resting(drill, workers.address, "BUY")
    assert buy["price"] == "0.5" and buy["asset_id"] == market.yes

    started = time.monotonic()
    worker.signal(signal.SIGTERM)
    assert worker.wait_exit(timeout_s=10) == 0
    assert time.monotonic() - started < 6  # the strategy's stop_timeout_s
    assert drill.open_orders(maker_address=workers.address) == []
    status = worker.status()
    assert status is not None
    assert (status["state"], status["exit_code"], status["open_orders"]) == ("stopped", 0, [])


def test_sigkill_then_restart_cancels_stale_orders_and_sells_the_adopted_position(
    drill: Drill, counterparty: Counterparty, workers: WorkerFactory
) -> None:
    market, elsewhere = drill.quiet_market(), drill.quiet_market()
    _book(counterparty, market)
    first = workers.start(workers.params(market, strategy=THRESHOLD))
    _resting(drill, workers.address, "BUY")
    taker = Counterparty(drill)
    taker.buy(market.no, "0.50", "25")  # fills the 20 ahead of us and our 5 at 0.50
    stale = _resting(drill, workers.address, "SELL")
    first.signal(signal.SIGKILL)
    assert first.wait_exit() == -signal.SIGKILL

    # The same account has an order on another market: a restart must not touch it.
    same_account = create_secure_client(workers.key, drill.sim.urls)
    other = same_account.place_limit_order(
        asset_id=elsewhere.yes, price="0.40", size="5", side="BUY", post_only=True
    )
    assert stale["id"] in {o["id"] for o in drill.open_orders(maker_address=workers.address)}

    second = workers.start(workers.params(market, strategy=THRESHOLD))
    status = second.wait_status(
        lambda s: (
            s["phase"] == "selling"
            and s["open_orders"]
            and s["open_orders"][0]["order_id"] not in ("", stale["id"])
        ),
        what="a new sell of the adopted position",
    )
    assert status["position"] == "5" and dec(status["avg_entry"]) == Decimal("0.50")
    open_ids = {o["id"] for o in drill.open_orders(maker_address=workers.address)}
    assert stale["id"] not in open_ids
    assert str(other.order_id) in open_ids
    assert status["open_orders"][0]["order_id"] in open_ids

    taker.buy(market.yes, "0.70", "25")
    status = second.wait_status(lambda s: s["phase"] == "cooldown", what="the sell filling")
    assert dec(status["realized_pnl"]) == Decimal("1.00")
    second.signal(signal.SIGTERM)
    assert second.wait_exit() == 0
    assert [o["id"] for o in drill.open_orders(maker_address=workers.address)] == [
        str(other.order_id)
    ]
    same_account.cancel_order(order_id=str(other.order_id))
    same_account.close()
    taker.client.close()
