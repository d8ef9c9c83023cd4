"""The market feed against a real WebSocket server speaking the venue's protocol on 127.0.0.1.

``FakeVenue`` replays recorded frames after a subscription, answers ``PING`` with ``PONG``, and
can drop every connection or go silent on demand. REST ``/book`` is an ``httpx.MockTransport``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import httpx
import orjson
import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from polymaker.exchange.market_feed import (
    BookInvalidated,
    BookUpdated,
    FeedState,
    FeedStatus,
    KeepaliveSettings,
    LastTradePrice,
    MarketFeed,
    MarketFeedSettings,
    MarketResolved,
    PriceLevel,
    TickSizeChange,
)
from tests.conftest import load_fixture

pytestmark = pytest.mark.integration

STREAM = load_fixture("ws_market_stream_book_then_price_changes_2026-09.json")
YES = "76670567130917723816490572615540605537878462672464291990940067659127658071111"
CONDITION = "0x285746de0e4f751fd4dc8f9dc2cecd0101ba9ad0096a43145ed9643b09514f01"

FAST = KeepaliveSettings(
    ping_interval_s=0.05,
    pong_timeout_s=0.3,
    open_timeout_s=2.0,
    backoff_base_s=0.01,
    backoff_max_s=0.05,
    stable_after_s=5.0,
)


class FakeVenue:
    """A WebSocket server with the venue's keepalive and subscribe-then-snapshot behaviour."""

    def __init__(self, script: Callable[[dict[str, Any]], list[Any]] | None = None) -> None:
        self.script = script or (lambda _sub: [])
        self.subscriptions: list[dict[str, Any]] = []
        self.connections = 0
        self.pings = 0
        self.silent = False
        self._open: set[ServerConnection] = set()
        self._server: Any = None
        self.url = ""

    async def __aenter__(self) -> FakeVenue:
        self._server = await serve(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"ws://127.0.0.1:{port}/ws/market"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._server.close()
        await self._server.wait_closed()

    async def _handle(self, ws: ServerConnection) -> None:
        self.connections += 1
        self._open.add(ws)
        try:
            async for message in ws:
                if message == "PING":
                    self.pings += 1
                    if not self.silent:
                        await ws.send("PONG")
                    continue
                subscription = json.loads(message)
                self.subscriptions.append(subscription)
                for frame in self.script(subscription):
                    await ws.send(frame if isinstance(frame, str) else json.dumps(frame))
        except ConnectionClosed:
            pass
        finally:
            self._open.discard(ws)

    async def push(self, frame: Any) -> None:
        """Send one frame to every open connection."""
        text = frame if isinstance(frame, str) else json.dumps(frame)
        for ws in list(self._open):
            await ws.send(text)

    def drop(self) -> None:
        """Cut every connection without a close handshake (like the venue's edge does)."""
        for ws in list(self._open):
            ws.transport.abort()


class FakeRest:
    """``GET /book?token_id=`` answering ``books[token_id]`` (or ``status`` when set)."""

    def __init__(self) -> None:
        self.books: dict[str, Any] = {}
        self.status = 200
        self.requests: list[httpx.Request] = []

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self._answer))

    def _answer(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.status != 200:
            return httpx.Response(self.status, text="upstream down")
        return httpx.Response(200, content=orjson.dumps(self.books[request.url.params["token_id"]]))


T0 = 1790658700000  # epoch ms; book/delta timestamps below are T0 + offset


def _ts(offset: int) -> str:
    return str(T0 + offset)


def _book(timestamp: str, bid: str, ask: str) -> dict[str, Any]:
    return {
        "event_type": "book",
        "market": CONDITION,
        "asset_id": YES,
        "timestamp": _ts(int(timestamp)),
        "hash": "x",
        "bids": [{"price": "0.1", "size": "10"}, {"price": bid, "size": "5"}],
        "asks": [{"price": "0.9", "size": "10"}, {"price": ask, "size": "7"}],
        "tick_size": "0.01",
        "last_trade_price": "",
    }


async def next_event(feed: MarketFeed, kind: type, timeout: float = 3.0, seen: list | None = None):
    """The next event of ``kind`` (earlier ones go to ``seen``)."""
    async with asyncio.timeout(timeout):
        async for event in feed:
            if isinstance(event, kind):
                return event
            if seen is not None:
                seen.append(event)
    raise AssertionError("feed ended")


def _feed(venue: FakeVenue, rest: FakeRest, **overrides: Any) -> MarketFeed:
    settings = MarketFeedSettings(
        keepalive=overrides.pop("keepalive", FAST),
        missing_grace_s=overrides.pop("missing_grace_s", 30.0),
        book_stale_s=overrides.pop("book_stale_s", 30.0),
        resync_min_interval_s=0.1,
        check_interval_s=0.05,
        depth=3,
    )
    assert not overrides
    return MarketFeed(
        venue.url,
        "http://rest.test",
        [YES],
        settings=settings,
        http_client=rest.client(),
        rng=random.Random(7),
    )


def run(coro: Awaitable[None]) -> None:
    asyncio.run(asyncio.wait_for(coro, 20))  # type: ignore[arg-type]


def test_snapshot_then_recorded_deltas_give_the_venue_top() -> None:
    async def scenario() -> None:
        async with FakeVenue(lambda _sub: list(STREAM)) as venue, _feed(venue, FakeRest()) as feed:
            status = await next_event(feed, FeedStatus)
            assert (status.state, status.connection) == (FeedState.CONNECTED, 1)
            updates = [await next_event(feed, BookUpdated) for _ in range(16)]
            assert venue.subscriptions == [
                {"type": "market", "assets_ids": [YES], "custom_feature_enabled": True}
            ]
            first, last = updates[0], updates[-1]
            assert first.top.best_bid == PriceLevel(Decimal("0.3"), Decimal("5000"))
            assert first.top.best_ask == PriceLevel(Decimal("0.397"), Decimal("100.09"))
            assert last.top.best_bid == PriceLevel(Decimal("0.311"), Decimal("2000"))
            assert last.top.best_ask == PriceLevel(Decimal("0.36"), Decimal("300"))
            assert last.top.timestamp_ms == 1790658701600
            assert [lv.price for lv in last.bids] == [Decimal(p) for p in ("0.311", "0.301", "0.3")]
            assert last.source == "ws"
            assert feed.stats.crossed == 0 and feed.stats.unparsed == 0

    run(scenario())


def test_reconnect_discards_the_book_and_rebuilds_it_from_the_new_snapshot() -> None:
    async def scenario() -> None:
        snapshots = iter([_book("100", "0.40", "0.60"), _book("200", "0.45", "0.55")])
        async with (
            FakeVenue(lambda _sub: [next(snapshots)]) as venue,
            _feed(venue, FakeRest()) as feed,
        ):
            first = await next_event(feed, BookUpdated)
            assert first.top.best_bid.price == Decimal("0.40")
            venue.drop()
            down = await next_event(feed, FeedStatus)
            assert down.state is FeedState.DISCONNECTED
            assert not feed.book(YES).is_valid  # dropped at once, not after the reconnect
            up = await next_event(feed, FeedStatus)
            assert (up.state, up.connection) == (FeedState.CONNECTED, 2)
            rebuilt = await next_event(feed, BookUpdated)
            assert rebuilt.top.best_bid.price == Decimal("0.45")
            assert rebuilt.top.timestamp_ms == T0 + 200
            assert venue.connections == 2 and len(venue.subscriptions) == 2

    run(scenario())


def test_missing_pong_reconnects_but_a_quiet_market_with_pongs_stays_connected() -> None:
    async def scenario() -> None:
        async with (
            FakeVenue(lambda _sub: [_book("100", "0.40", "0.60")]) as venue,
            _feed(venue, FakeRest()) as feed,
        ):
            await next_event(feed, BookUpdated)
            seen: list[Any] = []
            with pytest.raises(TimeoutError):  # 1 s of no data (> 3 pong timeouts): still up
                await next_event(feed, FeedStatus, timeout=1.0, seen=seen)
            assert seen == [] and venue.connections == 1 and venue.pings >= 10
            venue.silent = True
            down = await next_event(feed, FeedStatus)
            assert down.state is FeedState.DISCONNECTED
            assert "no PONG" in down.reason
            venue.silent = False
            up = await next_event(feed, FeedStatus)
            assert (up.state, up.connection) == (FeedState.CONNECTED, 2)

    run(scenario())


def test_stale_book_is_resynced_over_rest() -> None:
    async def scenario() -> None:
        rest = FakeRest()
        rest.books[YES] = _book("500", "0.42", "0.58")
        async with (
            FakeVenue(lambda _sub: [_book("100", "0.40", "0.60")]) as venue,
            _feed(venue, rest, book_stale_s=0.3) as feed,
        ):
            ws_update = await next_event(feed, BookUpdated)
            assert ws_update.source == "ws"
            rest_update = await next_event(feed, BookUpdated)
            assert rest_update.source == "rest"
            assert rest_update.top.best_bid == PriceLevel(Decimal("0.42"), Decimal("5"))
            assert rest_update.top.timestamp_ms == T0 + 500
            [request] = rest.requests[:1]
            assert (request.method, request.url.path) == ("GET", "/book")
            assert request.url.params["token_id"] == YES
            assert feed.stats.resyncs >= 1

    run(scenario())


def test_book_missing_after_subscribe_is_fetched_and_rest_failure_reports_stale() -> None:
    async def scenario() -> None:
        rest = FakeRest()
        rest.status = 503
        rest.books[YES] = _book("500", "0.42", "0.58")
        async with FakeVenue() as venue, _feed(venue, rest, missing_grace_s=0.1) as feed:
            await next_event(feed, FeedStatus)  # connected
            stale = await next_event(feed, FeedStatus)
            assert stale.state is FeedState.STALE and "503" in stale.reason
            rest.status = 200
            update = await next_event(feed, BookUpdated)
            assert (update.source, update.top.best_ask.price) == ("rest", Decimal("0.58"))
            assert feed.stats.resync_failures >= 1

    run(scenario())


def test_unknown_and_garbage_events_are_counted_not_fatal() -> None:
    script = [
        {"event_type": "brand_new_event", "market": CONDITION},
        "not json",
        [{"event_type": "price_change", "market": CONDITION, "timestamp": "1"}],
        _book("100", "0.40", "0.60"),
    ]

    async def scenario() -> None:
        async with FakeVenue(lambda _sub: script) as venue, _feed(venue, FakeRest()) as feed:
            update = await next_event(feed, BookUpdated)
            assert update.top.best_bid.price == Decimal("0.40")
            assert feed.stats.unparsed == 3
            assert feed.stats.unparsed_by_tag == {
                "brand_new_event": 1,
                "<none>": 1,
                "price_change": 1,
            }

    run(scenario())


def test_tick_size_change_drops_the_book_then_trade_and_resolution_are_forwarded() -> None:
    tick = {
        "event_type": "tick_size_change",
        "market": CONDITION,
        "asset_id": YES,
        "old_tick_size": "0.01",
        "new_tick_size": "0.001",
        "timestamp": _ts(150),
    }
    trade = {
        "event_type": "last_trade_price",
        "market": CONDITION,
        "asset_id": YES,
        "price": "0.45",
        "size": "12",
        "side": "BUY",
        "timestamp": _ts(160),
    }

    resolved = {
        "event_type": "market_resolved",
        "market": CONDITION,
        "assets_ids": [YES, "2"],
        "winning_asset_id": YES,
        "winning_outcome": "Yes",
        "timestamp": _ts(180),
    }

    async def scenario() -> None:
        async with (
            FakeVenue(lambda _sub: [_book("100", "0.40", "0.60")]) as venue,
            _feed(venue, FakeRest()) as feed,
        ):
            await next_event(feed, BookUpdated)
            await venue.push(tick)
            change = await next_event(feed, TickSizeChange)
            assert change.new_tick_size == Decimal("0.001")
            assert feed.book(YES).top() is None
            assert feed.book(YES).tick_size == Decimal("0.001")
            await venue.push(trade)
            last = await next_event(feed, LastTradePrice)
            assert (last.price, last.size) == (Decimal("0.45"), Decimal("12"))
            await venue.push(_book("170", "0.451", "0.459"))
            update = await next_event(feed, BookUpdated)
            assert update.top.best_bid.price == Decimal("0.451")
            await venue.push(resolved)
            assert await next_event(feed, MarketResolved) == MarketResolved(
                CONDITION, YES, "Yes", (YES, "2"), T0 + 180
            )

    run(scenario())


def test_crossed_book_is_reported_invalid_and_counted() -> None:
    cross = {
        "event_type": "price_change",
        "market": CONDITION,
        "timestamp": _ts(120),
        "price_changes": [{"asset_id": YES, "price": "0.65", "size": "3", "side": "BUY"}],
    }

    async def scenario() -> None:
        async with (
            FakeVenue(lambda _sub: [_book("100", "0.40", "0.60"), cross]) as venue,
            _feed(venue, FakeRest()) as feed,
        ):
            invalid = await next_event(feed, BookInvalidated)
            assert invalid.asset_id == YES and invalid.reason.startswith("crossed")
            assert feed.stats.crossed == 1

    run(scenario())


def _operation_frames(
    entries: list[tuple[str, str, str]], split_after: int, best_bid: str, best_ask: str
) -> list[dict[str, Any]]:
    """One venue operation on the recorded book (STREAM[0]) in the recorded frame shape, split
    over two frames: every entry carries the hash and the top of the book after the whole
    operation, as the venue stamps them (the hash computed the venue's way, with the WS
    fill-ins the recorded stream reproduces)."""
    from polymaker.exchange.local_book import LocalBook, compute_book_hash
    from polymaker.exchange.wire import LevelChange, Side, parse_book

    timestamp = int(STREAM[0]["timestamp"]) + 5
    final = LocalBook(YES)
    final.apply_snapshot(parse_book(STREAM[0]), now=0.0)
    for side, price, size in entries:
        change = LevelChange(YES, Side(side), Decimal(price), Decimal(size), None, None, None)
        final.apply_change(change, timestamp, now=0.0)
    final.settle()
    state = final.as_snapshot()
    assert state is not None and final.is_valid
    op_hash = compute_book_hash(state, min_order_size=Decimal("5"), neg_risk=False)
    items = [
        {"asset_id": YES, "price": price, "size": size, "side": side, "hash": op_hash,
         "best_bid": best_bid, "best_ask": best_ask}
        for side, price, size in entries
    ]  # fmt: skip
    return [
        {"market": CONDITION, "price_changes": part, "timestamp": str(timestamp),
         "event_type": "price_change"}
        for part in (items[:split_after], items[split_after:])
    ]  # fmt: skip


def test_a_multi_level_trade_split_over_frames_publishes_only_its_final_top() -> None:
    # a buy of 4,137.96 at 0.399 takes the asks 0.397, 0.398 and 0.399; frame 1 has two
    trade = _operation_frames(
        [("SELL", "0.397", "0"), ("SELL", "0.398", "0"), ("SELL", "0.399", "0")],
        split_after=2,
        best_bid="0.3",
        best_ask="0.4",
    )

    async def scenario() -> None:
        async with (
            FakeVenue(lambda _sub: [STREAM[0], *trade]) as venue,
            _feed(venue, FakeRest()) as feed,
        ):
            seen: list[Any] = []
            first = await next_event(feed, BookUpdated, seen=seen)
            assert first.top.best_ask == PriceLevel(Decimal("0.397"), Decimal("100.09"))
            after = await next_event(feed, BookUpdated, seen=seen)
            assert after.top.best_ask == PriceLevel(Decimal("0.4"), Decimal("4765"))
            assert after.top.best_bid == PriceLevel(Decimal("0.3"), Decimal("5000"))
            await asyncio.sleep(0.4)  # past the quiet time: no late verdict either
            assert not any(isinstance(e, BookInvalidated) for e in seen)
            assert feed.stats.diverged == 0 and feed.stats.crossed == 0
            assert feed.book(YES).top() == after.top

    run(scenario())


def test_an_operation_that_ends_off_the_venue_top_is_judged_after_the_quiet_time() -> None:
    frames = _operation_frames(
        [("SELL", "0.397", "0"), ("SELL", "0.398", "0")],
        split_after=1,
        best_bid="0.3",
        best_ask="0.399",
    )
    frames[1]["price_changes"][0]["best_ask"] = "0.4"  # ... but 0.399 is still there
    frames[0]["price_changes"][0]["best_ask"] = "0.4"

    async def scenario() -> None:
        async with (
            FakeVenue(lambda _sub: [STREAM[0], *frames]) as venue,
            _feed(venue, FakeRest()) as feed,
        ):
            await next_event(feed, BookUpdated)
            seen: list[Any] = []
            started = time.monotonic()
            invalid = await next_event(feed, BookInvalidated, seen=seen)
            assert time.monotonic() - started >= 0.2  # held for the quiet time, then judged
            assert invalid.reason == "diverged: venue best ask 0.4, local 0.399"
            assert not any(isinstance(e, BookUpdated) for e in seen)  # never published
            assert feed.stats.diverged == 1

    run(scenario())


def test_book_change_reaches_the_consumer_fast() -> None:
    async def scenario() -> None:
        async with (
            FakeVenue(lambda _sub: [_book("100", "0.40", "0.60")]) as venue,
            _feed(venue, FakeRest()) as feed,
        ):
            await next_event(feed, BookUpdated)
            latencies = []
            for i in range(200):
                size = str(10 + i)
                sent = time.perf_counter()
                await venue.push(
                    {
                        "event_type": "price_change",
                        "market": CONDITION,
                        "timestamp": _ts(200 + i),
                        "price_changes": [
                            {"asset_id": YES, "price": "0.40", "size": size, "side": "BUY"}
                        ],
                    }
                )
                update = await next_event(feed, BookUpdated)
                latencies.append(time.perf_counter() - sent)
                assert update.top.best_bid.size == Decimal(size)
            latencies.sort()
            # A sanity bound (a loaded CI box stalls now and then); the measured figures are
            # bench/worker_bench.py's, with p99 around 10 ms at 50 workers.
            assert latencies[int(len(latencies) * 0.99) - 1] < 0.200
            assert latencies[len(latencies) // 2] < 0.050

    run(scenario())


def test_idle_feed_uses_almost_no_cpu() -> None:
    async def scenario() -> None:
        async with FakeVenue(lambda _sub: [_book("100", "0.40", "0.60")]) as venue:
            feed = MarketFeed(venue.url, "http://rest.test", [YES], http_client=FakeRest().client())
            async with feed:  # production settings: PING every 10 s, checks every 1 s
                await next_event(feed, BookUpdated)
                cpu, wall = time.process_time(), time.perf_counter()
                await asyncio.sleep(2.0)
                used = (time.process_time() - cpu) / (time.perf_counter() - wall)
                assert used < 0.01, f"idle feed used {used:.2%} CPU"

    run(scenario())


def test_drill_exchange_local_book_equals_its_rest_book() -> None:
    from eth_account import Account

    from polymaker.drill.server import SimOptions
    from polymaker.drill.testing import in_process_sim
    from polymaker.exchange.sdk import create_secure_client
    from polymaker.exchange.wire import Side, parse_book

    with in_process_sim(SimOptions(markets=20, seed=5, settle_delays_ms=(100, 200))) as sim:
        market = sim.call(
            lambda: next(m for m in sim.venue.universe.markets if m.tradable and not m.neg_risk)
        )
        yes, no = market.yes_token, market.no_token
        client = create_secure_client(Account.create().key.hex(), sim.urls)

        async def scenario() -> None:
            settings = MarketFeedSettings(keepalive=FAST)
            async with MarketFeed(
                sim.urls.ws_market_url, sim.urls.clob_url, [yes, no], settings=settings
            ) as feed:
                got = {(await next_event(feed, BookUpdated)).asset_id for _ in range(2)}
                assert got == {yes, no}
                sim.call(lambda: setattr(sim.venue, "simulator", None))  # freeze the market
                bid = feed.book(yes).top().best_bid.price
                await asyncio.to_thread(
                    client.place_limit_order,
                    asset_id=yes,
                    price=bid - Decimal("0.01"),
                    size="7",
                    side="BUY",
                    post_only=True,
                )
                await asyncio.to_thread(
                    client.place_limit_order,
                    asset_id=no,
                    price=Decimal("0.02"),
                    size="9",
                    side="BUY",
                    post_only=True,
                )
                async with httpx.AsyncClient() as http:
                    async with asyncio.timeout(5):
                        while True:  # until the NO bid shows up as a YES ask at 0.98
                            await next_event(feed, BookUpdated)
                            asks = feed.book(yes).levels(Side.SELL, 10_000)
                            if any(lv.price == Decimal("0.98") for lv in asks):
                                break
                    answer = await http.get(f"{sim.urls.clob_url}/book", params={"token_id": yes})
                rest = parse_book(answer.json())
                local = feed.book(yes)
                assert local.levels(Side.BUY, 10_000) == tuple(reversed(rest.bids))
                assert local.levels(Side.SELL, 10_000) == tuple(reversed(rest.asks))
                stats = feed.stats
                assert (stats.unparsed, stats.crossed, stats.diverged) == (0, 0, 0)

        try:
            run(scenario())
        finally:
            client.cancel_all()


def test_a_lively_drill_run_raises_no_false_alarm() -> None:
    """The drill's deltas are complete and ordered: every crossed/diverged would be ours.

    Multi-level takes and crossing orders happen every few seconds at these rates (before the
    per-operation check: about two alarms per market per minute, bench/RESULTS.md).
    """
    from polymaker.drill.server import SimOptions
    from polymaker.drill.testing import in_process_sim

    options = SimOptions(markets=60, seed=42, volatility=10.0, takers_per_minute=600.0)
    with in_process_sim(options) as sim:
        markets = [m for m in sim.venue.universe.markets if m.tradable][:4]
        urls = sim.urls
        seen: list[Any] = []

        async def scenario() -> None:
            feeds = [
                MarketFeed(urls.ws_market_url, urls.clob_url, [m.yes_token, m.no_token])
                for m in markets
            ]

            async def listen(feed: MarketFeed) -> None:
                async with feed:
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(8):
                            async for event in feed:
                                seen.append(event)

            await asyncio.gather(*(listen(feed) for feed in feeds))

        run(scenario())
    assert sum(isinstance(e, BookUpdated) for e in seen) > 100
    assert [e for e in seen if isinstance(e, BookInvalidated)] == []
