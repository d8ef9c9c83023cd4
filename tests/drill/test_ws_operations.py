"""The market channel tells each venue operation as the venue does (issue 11, part 1).

Every ``price_change`` frame carries the hash of the book right after *its* operation, even when
several operations are fanned out together; a REST ``/book`` read sends the changes its
catch-up made; a subscriber gets its snapshot before any delta. Checked with the product's own
``LocalBook`` and ``compute_book_hash``.
"""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import Any

import httpx
import orjson
import pytest
import websockets

from polymaker.drill.server import SimOptions
from polymaker.drill.testing import in_process_sim
from polymaker.drill.views import OrderRequest
from polymaker.exchange.local_book import LocalBook, compute_book_hash
from polymaker.exchange.wire import OrderBookSnapshot, PriceChange, decode_market_frame

pytestmark = pytest.mark.integration

HOUSE = "0x00000000000000000000000000000000000000aa"


async def _frames(ws: Any, until: float) -> list[Any]:
    """Every decoded event received before the monotonic time ``until``."""
    events: list[Any] = []
    while (left := until - time.monotonic()) > 0:
        try:
            raw = await asyncio.wait_for(ws.recv(), left)
        except TimeoutError:
            break
        events.extend(decode_market_frame(raw))
    return events


def _bid(market: Any, index: int, price: Decimal) -> OrderRequest:
    return OrderRequest(
        order_id=f"0x{0xFEED0000 + index:064x}",  # not an id the house makers use
        owner="house-key",
        maker_address=HOUSE,
        token_id=market.yes_token,
        side="BUY",
        price=price,
        size=Decimal("5"),
        order_type="GTC",
        post_only=True,
        expiration=0,
    )


def test_operations_fanned_out_together_each_carry_their_own_hash() -> None:
    # A long tick: nothing is fanned out unless a call flushes.
    with in_process_sim(SimOptions(markets=30, seed=5, tick_ms=60_000)) as sim:
        market = next(m for m in sim.venue.universe.markets if m.tradable and not m.neg_risk)
        httpx.get(f"{sim.urls.clob_url}/book", params={"token_id": market.yes_token})  # ladder
        sim.call(lambda: setattr(sim.venue, "simulator", None))

        def two_operations() -> None:
            venue = sim.venue
            venue.account(HOUSE)
            now = venue.now_ms()
            best = venue.engine.book(market.yes_token).bids[-1][0]
            venue.engine.place(_bid(market, 1, best - market.tick_size * 3), now)
            venue.engine.place(_bid(market, 2, best - market.tick_size * 4), now + 1)
            venue.flush()

        async def scenario() -> list[Any]:
            async with websockets.connect(sim.urls.ws_market_url) as ws:
                subscribe = {"type": "market", "assets_ids": [market.yes_token]}
                await ws.send(orjson.dumps(subscribe).decode())
                snapshot = decode_market_frame(await asyncio.wait_for(ws.recv(), 5))
                await asyncio.to_thread(sim.call, two_operations)
                return snapshot + await _frames(ws, time.monotonic() + 1.0)

        events = asyncio.run(scenario())
    snapshot, changes = events[0], [e for e in events[1:] if isinstance(e, PriceChange)]
    assert isinstance(snapshot, OrderBookSnapshot) and len(changes) == 2
    book = LocalBook(market.yes_token)
    book.apply_snapshot(snapshot, now=0.0)
    hashes = []
    for event in changes:
        ours = [c for c in event.changes if c.asset_id == market.yes_token]
        for change in ours:
            book.apply_change(change, event.timestamp_ms, now=0.0)
        assert book.settle_if_consistent()
        state = book.as_snapshot()
        assert state is not None
        expected = compute_book_hash(
            state, min_order_size=market.min_order_size, neg_risk=market.neg_risk
        )
        assert {c.hash for c in ours} == {expected}
        hashes.append(expected)
    assert hashes[0] != hashes[1]


def test_a_rest_book_read_sends_the_changes_its_catch_up_made() -> None:
    # Lively markets and a long tick: only the /book read itself can fan out the catch-up.
    options = SimOptions(markets=30, seed=6, tick_ms=60_000, speed=30.0, takers_per_minute=600)
    with in_process_sim(options) as sim:
        market = next(m for m in sim.venue.universe.markets if m.tradable and not m.neg_risk)
        token = market.yes_token

        async def scenario() -> tuple[list[Any], dict[str, Any]]:
            async with websockets.connect(sim.urls.ws_market_url) as ws:
                await ws.send(orjson.dumps({"type": "market", "assets_ids": [token]}).decode())
                events = decode_market_frame(await asyncio.wait_for(ws.recv(), 5))
                await asyncio.sleep(1.5)  # 45 simulated seconds: takers trade meanwhile
                async with httpx.AsyncClient() as http:
                    answer = await http.get(f"{sim.urls.clob_url}/book", params={"token_id": token})
                events += await _frames(ws, time.monotonic() + 0.5)
                return events, answer.json()

        events, rest = asyncio.run(scenario())
    snapshot = events[0]
    assert isinstance(snapshot, OrderBookSnapshot)
    assert any(isinstance(e, PriceChange) for e in events[1:])  # the market did move
    book = LocalBook(token)
    book.apply_snapshot(snapshot, now=0.0)
    for event in events[1:]:
        if isinstance(event, PriceChange):
            for change in event.changes:
                if change.asset_id == token:
                    book.apply_change(change, event.timestamp_ms, now=0.0)
            book.settle()
    assert book.is_valid and book.diverged_count == 0 and book.crossed_count == 0
    state = book.as_snapshot()
    assert state is not None
    ours = [(str(lv.price), str(lv.size)) for lv in state.bids + state.asks]
    served = [(lv["price"], lv["size"]) for lv in rest["bids"] + rest["asks"]]
    assert [(Decimal(p), Decimal(s)) for p, s in ours] == [
        (Decimal(p), Decimal(s)) for p, s in served
    ]
