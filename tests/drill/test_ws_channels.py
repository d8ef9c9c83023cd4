"""Both WebSocket channels with a real client (websockets): snapshots, deltas, PING, reconnect."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import orjson
import pytest
import websockets
from eth_account import Account

from polymaker.drill.server import SimOptions
from polymaker.drill.testing import InProcessSim, in_process_sim
from polymaker.exchange.sdk import create_secure_client

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def quiet_sim() -> Iterator[tuple[InProcessSim, dict[str, Any]]]:
    """A drill exchange whose simulator is switched off after one market got its ladder."""
    with in_process_sim(SimOptions(markets=40, seed=3, settle_delays_ms=(100, 200))) as sim:
        market = next(m for m in sim.venue.universe.markets if m.tradable and not m.neg_risk)
        book = httpx.get(f"{sim.urls.clob_url}/book", params={"token_id": market.yes_token})
        sim.call(lambda: setattr(sim.venue, "simulator", None))
        yield (
            sim,
            {
                "yes": market.yes_token,
                "no": market.no_token,
                "condition_id": market.condition_id,
                "book": book.json(),
            },
        )


async def _recv(ws: Any, timeout: float = 5.0) -> Any:
    raw = await asyncio.wait_for(ws.recv(), timeout)
    return raw if raw == "PONG" else orjson.loads(raw)


def _levels(side: list[dict[str, str]]) -> dict[Decimal, Decimal]:
    return {Decimal(level["price"]): Decimal(level["size"]) for level in side}


def _apply(book: dict[str, dict[Decimal, Decimal]], frame: dict[str, Any], asset: str) -> None:
    for change in frame["price_changes"]:
        if change["asset_id"] != asset:
            continue
        side = book["bids" if change["side"] == "BUY" else "asks"]
        size = Decimal(change["size"])
        if size == 0:
            side.pop(Decimal(change["price"]), None)
        else:
            side[Decimal(change["price"])] = size


def test_market_channel_snapshot_deltas_rebuild_the_rest_book(quiet_sim) -> None:
    sim, info = quiet_sim
    client = create_secure_client(Account.create().key.hex(), sim.urls)
    best_bid = Decimal(info["book"]["bids"][-1]["price"])

    async def scenario() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        async with websockets.connect(sim.urls.ws_market_url) as ws:
            await ws.send(orjson.dumps({"type": "market", "assets_ids": [info["yes"]]}).decode())
            snapshot = await _recv(ws)
            placed = await asyncio.to_thread(
                client.place_limit_order,
                asset_id=info["yes"],
                price=best_bid - Decimal("0.01"),
                size="7",
                side="BUY",
                post_only=True,
            )
            await asyncio.to_thread(client.cancel_order, order_id=placed.order_id)
            await asyncio.to_thread(
                client.place_limit_order,
                asset_id=info["no"],
                price=Decimal("0.02"),
                size="9",
                side="BUY",
                post_only=True,
            )
            deltas = [await _recv(ws) for _ in range(3)]
            return snapshot, deltas

    snapshot, deltas = asyncio.run(scenario())
    assert isinstance(snapshot, list) and snapshot[0]["event_type"] == "book"
    rest = info["book"]
    assert {k: snapshot[0][k] for k in ("bids", "asks", "hash")} == {
        k: rest[k] for k in ("bids", "asks", "hash")
    }
    book = {"bids": _levels(snapshot[0]["bids"]), "asks": _levels(snapshot[0]["asks"])}
    for frame in deltas:
        assert frame["event_type"] == "price_change"
        assert {c["asset_id"] for c in frame["price_changes"]} <= {info["yes"], info["no"]}
        _apply(book, frame, info["yes"])
    now = httpx.get(f"{sim.urls.clob_url}/book", params={"token_id": info["yes"]}).json()
    assert book == {"bids": _levels(now["bids"]), "asks": _levels(now["asks"])}
    assert Decimal("0.98") in book["asks"]  # the NO bid at 0.02 is a YES ask at 0.98
    last = [c for c in deltas[-1]["price_changes"] if c["asset_id"] == info["yes"]][-1]
    assert last["hash"] == now["hash"]
    client.cancel_all()


def test_ping_pong_unsubscribe_and_reconnect(quiet_sim) -> None:
    sim, info = quiet_sim

    async def scenario() -> list[Any]:
        seen: list[Any] = []
        async with websockets.connect(sim.urls.ws_market_url) as ws:
            await ws.send("PING")
            seen.append(await _recv(ws))
            await ws.send(
                orjson.dumps({"assets_ids": [info["no"]], "operation": "subscribe"}).decode()
            )
            seen.append(await _recv(ws))
            await ws.send(
                orjson.dumps({"assets_ids": [info["no"]], "operation": "unsubscribe"}).decode()
            )
            await ws.send("not json")
            seen.append(await _recv(ws))
        async with websockets.connect(sim.urls.ws_market_url) as ws:  # reconnect: new snapshot
            await ws.send(orjson.dumps({"type": "market", "assets_ids": [info["no"]]}).decode())
            seen.append(await _recv(ws))
        return seen

    pong, first, error, again = asyncio.run(scenario())
    assert pong == "PONG"
    assert first[0]["asset_id"] == info["no"] and first[0]["event_type"] == "book"
    assert "error" in error
    assert again[0]["hash"] == first[0]["hash"]
    assert not sim.call(lambda: sim.venue.hub.by_asset.get(info["no"]))


def test_user_channel_order_and_trade_lifecycle(quiet_sim) -> None:
    sim, info = quiet_sim
    maker = create_secure_client(Account.create().key.hex(), sim.urls)
    taker = create_secure_client(Account.create().key.hex(), sim.urls)
    creds = maker.credentials
    book = info["book"]
    price = Decimal(book["bids"][-1]["price"]) + Decimal(book["tick_size"])
    assert price < Decimal(book["asks"][-1]["price"])

    async def scenario() -> list[dict[str, Any]]:
        async with websockets.connect(sim.urls.ws_user_url) as ws:
            await ws.send(
                orjson.dumps(
                    {
                        "type": "user",
                        "markets": [info["condition_id"]],
                        "auth": {
                            "apiKey": creds.key,
                            "secret": creds.secret,
                            "passphrase": creds.passphrase,
                        },
                    }
                ).decode()
            )
            await asyncio.sleep(0.1)
            placed = await asyncio.to_thread(
                maker.place_limit_order,
                asset_id=info["yes"],
                price=price,
                size="5",
                side="BUY",
                post_only=True,
            )
            await asyncio.to_thread(
                taker.place_limit_order, asset_id=info["no"], price=1 - price, size="5", side="BUY"
            )
            events = []
            try:
                for _ in range(5):
                    events.append(await _recv(ws))
            except TimeoutError:
                raise AssertionError(events) from None
            assert events[0]["id"] == placed.order_id
            return events

    events = asyncio.run(scenario())
    kinds = [(e["event_type"], e.get("type"), e["status"]) for e in events]
    assert kinds[0] == ("order", "PLACEMENT", "LIVE")
    assert ("order", "UPDATE", "MATCHED") in kinds
    assert [k for k in kinds if k[0] == "trade"] == [
        ("trade", "TRADE", "MATCHED"),
        ("trade", "TRADE", "MINED"),
        ("trade", "TRADE", "CONFIRMED"),
    ]
    trade = next(e for e in events if e["event_type"] == "trade")
    assert trade["trader_side"] == "MAKER" and trade["trade_owner"] == creds.key
    assert trade["maker_orders"][0]["owner"] == creds.key


def test_user_channel_refuses_bad_credentials(quiet_sim) -> None:
    sim, _info = quiet_sim

    async def scenario() -> tuple[Any, bool]:
        async with websockets.connect(sim.urls.ws_user_url) as ws:
            await ws.send(
                orjson.dumps(
                    {"type": "user", "auth": {"apiKey": "nope", "secret": "x", "passphrase": "y"}}
                ).decode()
            )
            error = await _recv(ws)
            await asyncio.wait_for(ws.wait_closed(), 5)
            return error, ws.close_code is not None

    error, closed = asyncio.run(scenario())
    assert error == {"error": "Unauthorized/Invalid api key"} and closed


def test_a_new_subscriber_gets_no_delta_older_than_its_snapshot() -> None:
    # A long tick: the ladder the first /book builds is still unsent when the WS subscribes.
    with in_process_sim(SimOptions(markets=40, seed=4, tick_ms=60_000)) as sim:
        market = next(m for m in sim.venue.universe.markets if m.tradable and not m.neg_risk)
        httpx.get(f"{sim.urls.clob_url}/book", params={"token_id": market.yes_token})
        client = create_secure_client(Account.create().key.hex(), sim.urls)

        async def scenario() -> tuple[Any, Any]:
            async with websockets.connect(sim.urls.ws_market_url) as ws:
                subscribe = {"type": "market", "assets_ids": [market.yes_token]}
                await ws.send(orjson.dumps(subscribe).decode())
                snapshot = await _recv(ws)
                bid = Decimal(snapshot[0]["bids"][-1]["price"]) - Decimal("0.01")
                await asyncio.to_thread(
                    client.place_limit_order,
                    asset_id=market.yes_token,
                    price=bid,
                    size="5",
                    side="BUY",
                    post_only=True,
                )  # its fan-out also flushes whatever was still pending
                return snapshot, await _recv(ws)

        snapshot, first = asyncio.run(scenario())
        before = _levels(snapshot[0]["bids"])
        bid = Decimal(snapshot[0]["bids"][-1]["price"]) - Decimal("0.01")
        ours = [c for c in first["price_changes"] if c["asset_id"] == market.yes_token]
        assert [(Decimal(c["price"]), Decimal(c["size"])) for c in ours] == [
            (bid, before.get(bid, Decimal(0)) + 5)
        ]
        client.cancel_all()
