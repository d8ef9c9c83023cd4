"""A complete round trip on the drill exchange: dip -> post-only buy fills -> sell fills.

The test's counterparty makes the book and takes the worker's quotes, so the expected profit is
exact: realized PnL in the status file equals the change of the account's cash at the exchange.
Its requests draw on a shared rate-limit budget (``ratelimit_dir``), as under the supervisor.
"""

from __future__ import annotations

import signal
from decimal import Decimal

import pytest

from tests.worker.conftest import Counterparty, Drill, WorkerFactory, dec

pytestmark = pytest.mark.integration


def test_round_trip_profit_equals_the_exchange_balance_change(
    drill: Drill, counterparty: Counterparty, workers: WorkerFactory
) -> None:
    market = drill.quiet_market()
    high_bid = counterparty.buy(market.yes, "0.60", "20", post_only=True)
    counterparty.buy(market.yes, "0.50", "20", post_only=True)
    counterparty.buy(market.no, "0.30", "20", post_only=True)  # = an ask for YES at 0.70
    ratelimit_dir = workers.tmp_path / "ratelimit"  # the account's shared request budget
    worker = workers.start(workers.params(market, ratelimit_dir=str(ratelimit_dir)))
    worker.wait_status(lambda s: s["rolling_high"] == "0.6", what="a full signal window")
    before = dec(drill.account(workers.address)["balance"])
    counterparty.cancel(high_bid)  # the best bid dips 0.60 -> 0.50 (-16.7%)
    status = worker.wait_status(
        lambda s: s["phase"] == "buying" and s["open_orders"] and s["open_orders"][0]["order_id"],
        what="a resting buy",
    )
    [buy] = status["open_orders"]
    assert (buy["side"], buy["price"], buy["size"]) == ("BUY", "0.50", "5.00")
    [resting] = drill.open_orders(maker_address=workers.address)
    assert resting["id"] == buy["order_id"] and resting["side"] == "BUY"

    taker = Counterparty(drill)
    taker.buy(market.no, "0.50", "25")  # sells 25 YES at 0.50: fills 20 ahead of us, then our 5
    status = worker.wait_status(
        lambda s: s["phase"] == "selling" and s["open_orders"] and s["open_orders"][0]["order_id"],
        what="a resting take-profit sell",
    )
    assert status["position"] == "5" and dec(status["avg_entry"]) == Decimal("0.50")
    [sell] = status["open_orders"]
    assert (sell["side"], sell["price"]) == ("SELL", "0.70")

    taker.buy(market.yes, "0.70", "25")  # takes the 20 ahead of us, then our 5 at 0.70
    status = worker.wait_status(lambda s: s["phase"] == "cooldown", what="the round trip")
    after = dec(drill.account(workers.address)["balance"])
    assert dec(status["realized_pnl"]) == Decimal("1.00") == after - before
    assert status["position"] == "0"
    assert drill.open_orders(maker_address=workers.address) == []

    worker.signal(signal.SIGTERM)
    assert worker.wait_exit() == 0
    final = worker.status()
    assert final is not None and final["state"] == "stopped" and final["exit_code"] == 0
    buckets = {path.name for path in ratelimit_dir.iterdir()}
    assert buckets == {"order.bucket", "cancel.bucket", "public.bucket"}
    taker.client.close()
