"""Paper trading with the drill exchange as the live data source: real WebSocket frames, real
trades by other accounts, simulated fills that follow the queue model and the printed trades."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from decimal import Decimal

import pytest
from eth_account import Account

from polymaker.drill.server import SimOptions
from polymaker.drill.testing import InProcessSim, in_process_sim, trading_ids
from polymaker.exchange.gateway import Accepted
from polymaker.exchange.http import JsonHttp
from polymaker.exchange.market_feed import BookUpdated, LastTradePrice
from polymaker.exchange.sdk import create_secure_client
from polymaker.exchange.wire import TradeEvent
from polymaker.paper.gateway import PaperGateway, PaperMarketFeed

pytestmark = pytest.mark.integration
D = Decimal


@pytest.fixture(scope="module")
def sim() -> Iterator[InProcessSim]:
    with in_process_sim(SimOptions(markets=60, seed=7, settle_delays_ms=(50, 100))) as running:
        yield running


def _wide_market(client) -> tuple[str, str, str, Decimal, Decimal]:
    """(condition, yes, no, best bid, tick) of a binary market with >= 3 ticks of spread."""
    for page in client.list_markets(closed=False):
        for market in page.items:
            if not market.state.accepting_orders or market.state.neg_risk:
                continue
            yes, no = trading_ids(market)
            book = client.get_order_book(asset_id=yes)
            if book.bids and book.asks:
                bid, ask, tick = book.bids[-1].price, book.asks[-1].price, book.tick_size
                if ask - bid >= 3 * tick:
                    return market.condition_id, yes, no, bid, tick
    raise AssertionError("no market with 3 ticks of spread")


def test_paper_bid_fills_from_a_real_trade_and_only_at_printed_prices(sim):
    maker = create_secure_client(Account.create().key.hex(), sim.urls)
    taker = create_secure_client(Account.create().key.hex(), sim.urls)
    condition, yes, no, bid, tick = _wide_market(maker)
    price = bid + tick  # a new level: nothing real ahead of the paper bid

    async def run() -> tuple[list[LastTradePrice], list[TradeEvent], Accepted, PaperGateway]:
        async with JsonHttp() as http:
            gateway = PaperGateway(http, sim.urls.clob_url, cash=D(1000))
            await gateway.market_info(condition)
            feed = PaperMarketFeed(gateway, sim.urls.ws_market_url, sim.urls.clob_url, [yes, no])
            prints: list[LastTradePrice] = []
            ready = asyncio.Event()

            async def consume() -> None:
                async for update in feed:
                    if isinstance(update, BookUpdated) and update.asset_id == yes:
                        ready.set()
                    if isinstance(update, LastTradePrice) and update.asset_id == yes:
                        prints.append(update)

            async with feed:
                task = asyncio.create_task(consume())
                await asyncio.wait_for(ready.wait(), 10)
                accepted = await gateway.place_post_only(yes, "BUY", price, D(10))
                assert isinstance(accepted, Accepted)
                # A real bid joins behind ours; then a taker sells 6 YES (buys NO at 1 - p).
                await asyncio.to_thread(
                    maker.place_limit_order,
                    asset_id=yes,
                    price=price,
                    size="10",
                    side="BUY",
                    post_only=True,
                )
                await asyncio.to_thread(
                    taker.place_limit_order, asset_id=no, price=1 - price, size="6", side="BUY"
                )
                events: list[TradeEvent] = []
                user = gateway.user_feed()
                async with asyncio.timeout(10):
                    while len(events) < 2:
                        update = await user.__anext__()
                        if isinstance(update, TradeEvent):
                            events.append(update)
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        return prints, events, accepted, gateway

    prints, events, accepted, gateway = asyncio.run(run())
    fills = [fill for event in events for fill in event.trade.fills]
    assert {(f.order_id, f.price) for f in fills} == {(accepted.order_id, price)}
    assert fills[0].size == D(6)  # we were first in the queue at our price
    printed = {(p.price, str(p.side)) for p in prints}
    assert (price, "SELL") in printed  # the fill price was printed (at or through)
    assert all(p.price <= price for p in prints if str(p.side) == "SELL")
    assert asyncio.run(gateway.token_balance(yes)) == D(6)
    assert asyncio.run(gateway.collateral_balance()) == D(1000) - 6 * price
