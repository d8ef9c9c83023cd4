"""The SDK's own async client and stream parsers against both drill WebSocket channels."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from eth_account import Account
from polymarket.streams import MarketSpec, UserSpec

from polymaker.drill.server import SimOptions
from polymaker.drill.testing import in_process_sim
from polymaker.exchange.sdk import create_async_secure_client

pytestmark = pytest.mark.integration


def test_async_sdk_client_streams_typed_market_and_user_events() -> None:
    with in_process_sim(SimOptions(markets=30, seed=3)) as sim:
        market = next(m for m in sim.venue.universe.markets if m.tradable)

        async def scenario() -> tuple[list[str], object, object, int]:
            client = await create_async_secure_client(Account.create().key.hex(), sim.urls)
            try:
                markets = await client.subscribe(MarketSpec(asset_ids=[market.yes_token]))
                user = await client.subscribe(UserSpec())
                kinds = [type(await asyncio.wait_for(markets.__anext__(), 5)).__name__]
                book = await client.get_order_book(asset_id=market.yes_token)
                placed = await client.place_limit_order(
                    asset_id=market.yes_token,
                    price=book.bids[0].price,
                    size="5",
                    side="BUY",
                    post_only=True,
                )
                order_event = await asyncio.wait_for(user.__anext__(), 5)
                while "MarketPriceChangeEvent" not in kinds:
                    kinds.append(type(await asyncio.wait_for(markets.__anext__(), 5)).__name__)
                dropped = markets.dropped + user.dropped
                await markets.close()
                await user.close()
                return kinds, placed, order_event, dropped
            finally:
                await client.close()

        kinds, placed, event, dropped = asyncio.run(scenario())
        assert kinds[0] == "MarketBookEvent"
        assert "MarketPriceChangeEvent" in kinds
        assert event.payload.id == placed.order_id
        assert event.payload.order_event_type == "PLACEMENT"
        assert event.payload.size_matched == Decimal(0)
        assert dropped == 0
