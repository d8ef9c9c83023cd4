"""The user feed against a real WebSocket server (``FakeVenue``) replaying recorded user frames."""

from __future__ import annotations

import asyncio
import logging
import random
from decimal import Decimal
from typing import Any

import httpx
import pytest

from polymaker.exchange.user_feed import (
    AccountIdentity,
    ApiCredentials,
    FeedState,
    FeedStatus,
    Reconnected,
    UserFeed,
)
from polymaker.exchange.wire import (
    OrderEvent,
    OrderEventKind,
    Role,
    Side,
    TradeEvent,
    TradeStatus,
    UnparsedEvent,
)
from tests.conftest import load_fixture
from tests.exchange.test_market_feed import FAST, FakeVenue, run

pytestmark = pytest.mark.integration

CREDS = ApiCredentials("3e2c94ca-8124-c4c1-c7ea-be1ea21b71fe", "s3cr3t-value", "pass-phrase-xyz")
OURS = AccountIdentity.of(CREDS.api_key, ["0xa3D82Ed56F4c68d2328Fb8c29e568Ba2cAF7d7c8"])
CONDITION = "0xdd22472e552920b8438158ea7238bfadfa4f736aa4cee91a6b86c39ead110917"
FRAMES = [
    load_fixture("ws_user_order_placement_2024-09.json"),
    load_fixture("ws_user_trade_taker_mined_2024-09.json"),
    {"event_type": "surprise"},
]


async def _next(feed: UserFeed, kind: type, timeout: float = 10.0) -> Any:
    async with asyncio.timeout(timeout):
        async for event in feed:
            if isinstance(event, kind):
                return event
    raise AssertionError("feed ended")


async def _until(condition: Any, timeout: float = 10.0) -> None:
    """Wait until the server side caught up (it handles frames in its own task)."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


def run_returning(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 20))


def _feed(venue: FakeVenue, markets: list[str] | None = None) -> UserFeed:
    return UserFeed(venue.url, CREDS, OURS, markets, settings=FAST, rng=random.Random(3))


def test_subscribes_with_auth_and_yields_orders_and_our_fills() -> None:
    async def scenario() -> None:
        async with FakeVenue(lambda _sub: FRAMES) as venue, _feed(venue, [CONDITION]) as feed:
            events = [await _next(feed, object) for _ in range(5)]
            assert venue.subscriptions == [
                {
                    "type": "user",
                    "auth": {
                        "apiKey": CREDS.api_key,
                        "secret": "s3cr3t-value",
                        "passphrase": "pass-phrase-xyz",
                    },
                    "markets": [CONDITION],
                }
            ]
            status, marker, order, trade, unknown = events
            assert isinstance(status, FeedStatus) and status.state is FeedState.CONNECTED
            assert marker == Reconnected(1)
            assert isinstance(order, OrderEvent) and order.kind is OrderEventKind.PLACEMENT
            assert order.order.price == Decimal("0.513")
            assert isinstance(trade, TradeEvent) and trade.trade.status is TradeStatus.MINED
            [fill] = trade.trade.fills
            assert (fill.role, fill.side, fill.size, fill.price) == (
                Role.MAKER,
                Side.SELL,
                Decimal("5"),
                Decimal("0.518"),
            )
            assert unknown == UnparsedEvent("surprise", "unknown event_type")
            assert feed.unparsed_by_tag == {"surprise": 1}

    run(scenario())


def test_all_markets_subscription_omits_the_markets_key() -> None:
    async def scenario() -> None:
        async with FakeVenue() as venue, _feed(venue) as feed:
            await _next(feed, Reconnected)
            await _until(lambda: venue.subscriptions)
            assert "markets" not in venue.subscriptions[0]

    run(scenario())


def test_reconnect_reports_the_gap_then_a_new_reconnected_marker() -> None:
    async def scenario() -> None:
        async with FakeVenue() as venue, _feed(venue, [CONDITION]) as feed:
            assert await _next(feed, Reconnected) == Reconnected(1)
            await _until(lambda: venue.subscriptions)
            venue.drop()
            down = await _next(feed, FeedStatus)
            assert down.state is FeedState.DISCONNECTED
            assert await _next(feed, Reconnected) == Reconnected(2)
            await _until(lambda: len(venue.subscriptions) == 2)
            assert venue.connections == 2

    run(scenario())


def test_credentials_never_appear_in_repr_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    assert "s3cr3t" not in repr(CREDS) and "pass-phrase" not in str(CREDS)
    assert CREDS.api_key in repr(CREDS)

    async def scenario() -> None:
        async with FakeVenue(lambda _sub: FRAMES) as venue, _feed(venue) as feed:
            await _next(feed, TradeEvent)
            venue.drop()
            await _next(feed, Reconnected)

    with caplog.at_level(logging.DEBUG):
        run(scenario())
    ours = [r for r in caplog.records if not r.name.startswith("websockets.server")]
    assert any(r.name.startswith("polymaker") for r in ours)  # it did log (unparsed, reconnect)
    text = "\n".join(record.getMessage() for record in ours)  # the test server's log aside
    assert "s3cr3t-value" not in text and "pass-phrase-xyz" not in text


def _market_with_room_for_a_best_bid(sim: Any) -> tuple[Any, Decimal]:
    """A drill market whose YES spread is >= 2 ticks, and a price that becomes the best bid.

    The drill builds a market's ladder when its book is first read; the simulator is switched
    off right after, so only the test's orders move the book from then on.
    """
    markets = sim.call(
        lambda: [m for m in sim.venue.universe.markets if m.tradable and not m.neg_risk]
    )
    with httpx.Client(base_url=sim.urls.clob_url) as http:
        for market in markets:
            params = {"token_id": market.yes_token}
            book = http.get("/book", params=params).json()
            if not book["bids"] or not book["asks"]:
                continue
            price = Decimal(book["bids"][-1]["price"]) + Decimal(book["tick_size"])
            if price < Decimal(book["asks"][-1]["price"]):
                sim.call(lambda: setattr(sim.venue, "simulator", None))
                again = http.get("/book", params=params).json()
                assert again["bids"][-1] == book["bids"][-1]
                assert again["asks"][-1] == book["asks"][-1]
                return market, price
    raise AssertionError("no drill market with a spread of two ticks")


def test_drill_exchange_maker_fill_goes_matched_mined_confirmed() -> None:
    from eth_account import Account

    from polymaker.drill.server import SimOptions
    from polymaker.drill.testing import fill_as_maker, in_process_sim
    from polymaker.exchange.sdk import create_secure_client, signer_address

    with in_process_sim(SimOptions(markets=20, seed=5, settle_delays_ms=(100, 200))) as sim:
        market, price = _market_with_room_for_a_best_bid(sim)
        maker_key = Account.create().key.hex()
        maker = create_secure_client(maker_key, sim.urls)
        taker = create_secure_client(Account.create().key.hex(), sim.urls)
        creds = ApiCredentials.from_sdk(maker.credentials)
        account = AccountIdentity.of(creds.api_key, [signer_address(maker_key)])

        async def scenario() -> list[Any]:
            feed = UserFeed(
                sim.urls.ws_user_url, creds, account, [market.condition_id], settings=FAST
            )
            async with feed:
                await _next(feed, Reconnected)
                await asyncio.sleep(0.1)  # the server registers the subscription
                placed = await asyncio.to_thread(
                    fill_as_maker, maker, taker, market.yes_token, market.no_token, price
                )
                order = await _next(feed, OrderEvent)
                assert order.order.order_id == placed.order_id
                return [await _next(feed, TradeEvent) for _ in range(3)]

        trades = run_returning(scenario())
        assert [t.trade.status for t in trades] == [
            TradeStatus.MATCHED,
            TradeStatus.MINED,
            TradeStatus.CONFIRMED,
        ]
        fills = {fill for t in trades for fill in t.trade.fills}
        assert {(f.role, f.side, f.price, f.size, f.asset_id) for f in fills} == {
            (Role.MAKER, Side.BUY, price, Decimal("5"), market.yes_token)
        }
        assert len({f.key for f in fills}) == 1  # one fill, three status steps
