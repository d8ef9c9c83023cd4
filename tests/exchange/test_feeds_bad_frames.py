"""One bad frame never ends a feed: through a real WebSocket, the frames that used to raise
(a ``"²"`` or 5,000-digit timestamp on the market channel; microsecond, 20- and 21-digit times
on the user channel) are counted and skipped, or parsed, and the next good frame arrives."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest

from polymaker.exchange.market_feed import LastTradePrice, MarketFeed, MarketFeedSettings
from polymaker.exchange.user_feed import UserFeed
from polymaker.exchange.wire import OrderEvent, TradeEvent, UnparsedEvent
from tests.conftest import load_fixture
from tests.exchange.test_market_feed import FAST, FakeRest, FakeVenue, next_event, run
from tests.exchange.test_user_feed import CREDS, OURS, _next

pytestmark = pytest.mark.integration

LAST_TRADE = load_fixture("ws_market_last_trade_price_2024-08.json")
PLACEMENT = load_fixture("ws_user_order_placement_2024-09.json")
TRADE = load_fixture("ws_user_trade_taker_mined_2024-09.json")


def _with(document: dict[str, Any], **changes: Any) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    changed.update(changes)
    return changed


def test_the_market_feed_survives_impossible_timestamps() -> None:
    bad = [_with(LAST_TRADE, timestamp="²"), _with(LAST_TRADE, timestamp="9" * 5000)]
    good = _with(LAST_TRADE, price="0.5")

    async def scenario() -> None:
        settings = MarketFeedSettings(keepalive=FAST, missing_grace_s=30.0)
        async with FakeVenue(lambda _sub: [*bad, good]) as venue:
            feed = MarketFeed(
                venue.url,
                "http://rest.test",
                [LAST_TRADE["asset_id"]],
                settings=settings,
                http_client=FakeRest().client(),
                rng=random.Random(1),
            )
            async with feed:
                trade = await next_event(feed, LastTradePrice, timeout=10.0)
                assert str(trade.price) == "0.5"
                assert feed.stats.unparsed_by_tag == {"last_trade_price": 2}

    run(scenario())


def test_the_user_feed_survives_microsecond_and_overlong_times() -> None:
    frames = [
        _with(PLACEMENT, created_at="1725842520990000"),  # microseconds: parsed
        _with(PLACEMENT, expiration="9" * 20),  # 20 digits: nanoseconds, parsed
        _with(PLACEMENT, created_at="9" * 21),  # out of range: skipped
        _with(TRADE, match_time="1725842520990000", last_update="9" * 21),  # skipped
        _with(TRADE, match_time="1725842520990000"),
    ]

    async def scenario() -> None:
        async with (
            FakeVenue(lambda _sub: frames) as venue,
            UserFeed(venue.url, CREDS, OURS, None, settings=FAST, rng=random.Random(3)) as feed,
        ):
            first = await _next(feed, OrderEvent)
            second = await _next(feed, OrderEvent)
            skipped = [await _next(feed, UnparsedEvent) for _ in range(2)]
            trade = await _next(feed, TradeEvent)
            assert first.order.created_at is not None
            assert first.order.created_at.timestamp() == pytest.approx(1725842520.99)
            assert second.order.expiration is not None
            assert [event.tag for event in skipped] == ["order", "trade"]
            assert trade.trade.match_time is not None
            assert feed.unparsed_by_tag == {"order": 1, "trade": 1}

    run(scenario())
