"""The official SDK (plain EOA, custom environment) trading on a real drill exchange."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal

import pytest
from eth_account import Account
from polymarket.errors import OrderHeartbeatMismatchError, RequestRejectedError

from polymaker.drill.server import SimOptions
from polymaker.drill.testing import InProcessSim, in_process_sim, trading_ids
from polymaker.exchange.sdk import create_secure_client

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sim() -> Iterator[InProcessSim]:
    with in_process_sim(SimOptions(markets=60, seed=7, settle_delays_ms=(100, 200))) as running:
        yield running


def _pick_market(client) -> tuple[str, str, Decimal, Decimal, Decimal]:
    """A tradable binary market with room inside the spread: (yes, no, bid, ask, tick)."""
    for page in client.list_markets(closed=False):
        for market in page.items:
            if not market.state.accepting_orders or market.state.neg_risk:
                continue
            yes, no = trading_ids(market)
            book = client.get_order_book(asset_id=yes)
            if (
                book.bids
                and book.asks
                and book.asks[-1].price - book.bids[-1].price >= 3 * (book.tick_size)
            ):
                return yes, no, book.bids[-1].price, book.asks[-1].price, book.tick_size
    raise AssertionError("no market with a spread of 3 ticks")


def test_sdk_derives_lists_quotes_places_cancels_and_fills(sim: InProcessSim) -> None:
    maker = create_secure_client(Account.create().key.hex(), sim.urls)
    taker = create_secure_client(Account.create().key.hex(), sim.urls)
    assert maker.wallet_type == "EOA"
    assert maker.fetch_api_keys() == (maker.credentials.key,)
    yes, no, bid, ask, tick = _pick_market(maker)

    resting = maker.place_limit_order(
        asset_id=yes, price=bid + tick, size="10", side="BUY", post_only=True
    )
    assert resting.ok and resting.status == "live"
    open_orders = [o for page in maker.list_open_orders() for o in page.items]
    assert [(o.id, o.price, o.original_size) for o in open_orders] == [
        (resting.order_id, bid + tick, Decimal(10))
    ]

    with pytest.raises(RequestRejectedError) as crossing:
        maker.place_limit_order(asset_id=yes, price=ask, size="10", side="BUY", post_only=True)
    assert crossing.value.status == 400
    assert "invalid post-only order: order crosses book" in str(crossing.value)

    canceled = maker.cancel_order(order_id=resting.order_id)
    assert canceled.canceled == (resting.order_id,)
    assert [o for page in maker.list_open_orders() for o in page.items] == []

    # The maker rests the best bid; the taker sells YES by buying NO at the complement.
    again = maker.place_limit_order(
        asset_id=yes, price=bid + tick, size="10", side="BUY", post_only=True
    )
    took = taker.place_limit_order(
        asset_id=no, price=Decimal(1) - (bid + tick), size="10", side="BUY"
    )
    assert took.ok and took.status == "matched" and took.trade_ids
    fills = [t for page in maker.list_account_trades() for t in page.items]
    assert [(f.trader_side, f.maker_orders[0].order_id) for f in fills] == [
        ("MAKER", again.order_id)
    ]
    assert maker.get_order(order_id=again.order_id).size_matched == Decimal(10)
    deadline = time.monotonic() + 5
    while maker.get_balance_allowance(asset_type="CONDITIONAL", asset_id=yes).balance == 0:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert maker.get_balance_allowance(asset_type="CONDITIONAL", asset_id=yes).balance == 10**7
    cash = maker.get_balance_allowance(asset_type="COLLATERAL").balance
    assert cash == int((Decimal(10000) - 10 * (bid + tick)) * 10**6)


def test_sdk_batch_orders_cancel_all_and_heartbeat(sim: InProcessSim) -> None:
    client = create_secure_client(Account.create().key.hex(), sim.urls)
    yes, _no, bid, _ask, tick = _pick_market(client)
    signed = [
        client.create_limit_order(
            asset_id=yes, price=bid - i * tick, size="5", side="BUY", post_only=True
        )
        for i in range(3)
    ]
    results = client.post_orders(signed)
    assert [r.ok for r in results] == [True, True, True]
    beat = client.send_order_heartbeat()
    beat = client.send_order_heartbeat(heartbeat_id=beat.heartbeat_id)
    with pytest.raises(OrderHeartbeatMismatchError) as stale:
        client.send_order_heartbeat(heartbeat_id="stale")
    assert stale.value.heartbeat_id == beat.heartbeat_id
    # 11 s later (server clock shifted) the armed heartbeat cancels the key's orders.
    sim.call(lambda: setattr(sim.venue, "clock_offset_ms", 11_000))
    try:
        sim.call(sim.venue.tick)
        assert [o for page in client.list_open_orders() for o in page.items] == []
    finally:
        sim.call(lambda: setattr(sim.venue, "clock_offset_ms", 0))
    fresh = client.place_limit_order(
        asset_id=yes, price=bid - 5 * tick, size="5", side="BUY", post_only=True
    )
    assert client.cancel_all().canceled == (fresh.order_id,)
