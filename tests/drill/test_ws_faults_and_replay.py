"""WebSocket faults from --faults, and --replay driving the books the channels serve."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import httpx
import orjson
import pytest
import websockets

from polymaker.drill.faults import parse_faults
from polymaker.drill.server import SimOptions
from polymaker.drill.testing import in_process_sim
from tests.conftest import FIXTURES, load_fixture

pytestmark = pytest.mark.integration


def test_ws_disconnect_fault_drops_connections_and_reconnect_works() -> None:
    plan = parse_faults("ws_disconnect=every:400ms")
    with in_process_sim(SimOptions(markets=10, seed=4, faults=plan)) as sim:
        token = next(m for m in sim.venue.universe.markets if m.tradable).yes_token

        async def scenario() -> tuple[float, object]:
            started = time.monotonic()
            async with websockets.connect(sim.urls.ws_market_url) as ws:
                await ws.send(orjson.dumps({"type": "market", "assets_ids": [token]}).decode())
                await ws.recv()  # snapshot
                with pytest.raises(websockets.ConnectionClosed):
                    while True:
                        await asyncio.wait_for(ws.recv(), 5)
            dropped_after = time.monotonic() - started
            async with websockets.connect(sim.urls.ws_market_url) as ws:
                await ws.send("PING")
                return dropped_after, await asyncio.wait_for(ws.recv(), 5)

        dropped_after, pong = asyncio.run(scenario())
        assert 0.3 < dropped_after < 3
        assert pong == "PONG"


def test_ws_silence_fault_mutes_the_market_feed_but_answers_ping() -> None:
    plan = parse_faults("ws_silence=schedule:0ms-1h")
    with in_process_sim(SimOptions(markets=10, seed=4, faults=plan)) as sim:
        token = next(m for m in sim.venue.universe.markets if m.tradable).yes_token

        async def scenario() -> list[object]:
            async with websockets.connect(sim.urls.ws_market_url) as ws:
                await ws.send(orjson.dumps({"type": "market", "assets_ids": [token]}).decode())
                await ws.recv()  # the snapshot is an answer to the subscribe
                await ws.send("PING")
                first = await asyncio.wait_for(ws.recv(), 5)
                try:
                    more = await asyncio.wait_for(ws.recv(), 1.5)
                except TimeoutError:
                    more = None
                return [first, more]

        assert asyncio.run(scenario()) == ["PONG", None]


def test_replay_log_drives_the_book_served_over_rest_and_ws() -> None:
    path = FIXTURES / "ws_market_stream_book_then_price_changes_2026-09.json"
    frames = load_fixture(path.name)
    first_book = next(f for f in frames if f.get("event_type") == "book")
    with in_process_sim(SimOptions(markets=5, seed=4, replay=path)) as sim:
        deadline = time.monotonic() + 5
        while True:
            book = httpx.get(
                f"{sim.urls.clob_url}/book", params={"token_id": first_book["asset_id"]}
            ).json()
            if book["bids"] or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert book["market"] == first_book["market"]
        ours = {Decimal(level["price"]) for level in book["bids"]}
        recorded = {Decimal(level["price"]) for level in first_book["bids"]}
        assert ours & recorded
        listed = httpx.get(
            f"{sim.urls.gamma_url}/markets", params={"condition_ids": first_book["market"]}
        ).json()
        assert [m["conditionId"] for m in listed] == [first_book["market"]]
