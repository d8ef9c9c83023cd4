"""Drill payloads compared key by key and type by type with recorded Polymarket payloads."""

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

from polymaker.drill.routes_common import book_hash
from polymaker.drill.server import SimOptions
from polymaker.drill.testing import InProcessSim, fill_as_maker, in_process_sim
from polymaker.exchange.sdk import create_secure_client
from tests.conftest import load_fixture

pytestmark = pytest.mark.integration


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def assert_same_shape(ours: Any, real: Any, path: str = "$") -> None:
    """Every key both payloads have carries the same JSON type, recursively."""
    if isinstance(real, dict) and isinstance(ours, dict):
        for key in real.keys() & ours.keys():
            if real[key] is None or ours[key] is None:
                continue
            assert_same_shape(ours[key], real[key], f"{path}.{key}")
    elif isinstance(real, list) and isinstance(ours, list):
        if real and ours:
            assert_same_shape(ours[0], real[0], f"{path}[0]")
    else:
        assert _kind(ours) == _kind(real), f"{path}: {_kind(ours)} != {_kind(real)}"


def _keys(payload: dict[str, Any], fixture: dict[str, Any], *, allow_missing=()) -> None:
    missing = set(fixture) - set(payload) - set(allow_missing)
    assert not missing, f"missing keys {sorted(missing)}"


async def _collect(ws: Any, done: Any) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    while not done(frames):
        try:
            frames.append(orjson.loads(await asyncio.wait_for(ws.recv(), 5)))
        except TimeoutError:
            raise AssertionError(f"incomplete frames: {frames}") from None
    return frames


@pytest.fixture(scope="module")
def captured() -> Iterator[tuple[InProcessSim, dict[str, Any]]]:
    """One maker fill on a quiet market, with every payload family captured."""
    with in_process_sim(SimOptions(markets=200, seed=5, settle_delays_ms=(50, 100))) as sim:
        clob = sim.urls.clob_url
        for market in sim.venue.universe.markets:
            if not (market.tradable and market.tick_size == Decimal("0.01")):
                continue
            book = httpx.get(f"{clob}/book", params={"token_id": market.yes_token}).json()
            best_bid, best_ask = book["bids"][-1]["price"], book["asks"][-1]["price"]
            if Decimal(best_ask) - Decimal(best_bid) >= Decimal("0.02"):
                break
        else:
            raise AssertionError("no market with a two-tick spread")
        sim.call(lambda: setattr(sim.venue, "simulator", None))
        maker = create_secure_client(Account.create().key.hex(), sim.urls)
        taker = create_secure_client(Account.create().key.hex(), sim.urls)
        price = Decimal(book["bids"][-1]["price"]) + Decimal("0.01")
        creds = maker.credentials
        out: dict[str, Any] = {"market": market, "book": book, "maker": maker}

        async def scenario() -> None:
            async with (
                websockets.connect(sim.urls.ws_market_url) as mws,
                websockets.connect(sim.urls.ws_user_url) as uws,
            ):
                await mws.send(
                    orjson.dumps({"type": "market", "assets_ids": [market.yes_token]}).decode()
                )
                await uws.send(
                    orjson.dumps(
                        {
                            "type": "user",
                            "auth": {
                                "apiKey": creds.key,
                                "secret": creds.secret,
                                "passphrase": creds.passphrase,
                            },
                        }
                    ).decode()
                )
                out["ws_book"] = orjson.loads(await mws.recv())[0]
                await asyncio.to_thread(
                    fill_as_maker, maker, taker, market.yes_token, market.no_token, price
                )
                frames = await _collect(
                    mws,
                    lambda f: {x["event_type"] for x in f} >= {"price_change", "last_trade_price"},
                )
                user = await _collect(uws, lambda f: any(x.get("status") == "CONFIRMED" for x in f))
                out["ws_frames"], out["ws_user"] = frames, user

        asyncio.run(scenario())
        yield sim, out


def test_gamma_market_and_event_shapes(captured) -> None:
    sim, _out = captured
    markets = httpx.get(f"{sim.urls.gamma_url}/markets", params={"limit": 60}).json()
    real = load_fixture("gamma_market_v1_with_positionIds_and_feeSchedule_2026-08.json")
    ours = next(m for m in markets if "feeSchedule" in m)
    _keys(
        ours,
        real,
        allow_missing=("$schema", "tags"),
    )
    assert_same_shape(ours, real)
    assert isinstance(orjson.loads(ours["clobTokenIds"]), list)
    events = httpx.get(f"{sim.urls.gamma_url}/events", params={"limit": 60}).json()
    real_event = load_fixture("gamma_events_negrisk_2026-03.json")
    real_event = real_event[0] if isinstance(real_event, list) else real_event
    ours_event = next(e for e in events if e.get("negRisk"))
    assert_same_shape(ours_event, real_event)


def test_rest_book_shape_and_hash(captured) -> None:
    _sim, out = captured
    real = load_fixture("clob_book_negrisk_empty_ask_2026-08.json")
    assert book_hash(real) == real["hash"]  # our hash rule reproduces the venue's
    book = out["book"]
    assert list(book) == list(real)
    assert_same_shape(book, real)
    assert book_hash(book) == book["hash"]
    bids = [Decimal(level["price"]) for level in book["bids"]]
    asks = [Decimal(level["price"]) for level in book["asks"]]
    assert bids == sorted(bids) and asks == sorted(asks, reverse=True)  # best last


def test_ws_book_and_price_change_shapes(captured) -> None:
    _sim, out = captured
    real_book = load_fixture("ws_market_book_2026-08.json")
    assert set(out["ws_book"]) == set(real_book)
    assert_same_shape(out["ws_book"], real_book)
    real_change = load_fixture("ws_market_price_change_batched_2026-09.json")
    change = next(f for f in out["ws_frames"] if f["event_type"] == "price_change")
    assert set(change) == set(real_change)
    assert set(change["price_changes"][0]) == set(real_change["price_changes"][0])
    assert_same_shape(change, real_change)
    trade_print = next(f for f in out["ws_frames"] if f["event_type"] == "last_trade_price")
    real_print = load_fixture("ws_market_last_trade_price_2024-08.json")
    assert set(trade_print) == set(real_print)
    assert_same_shape(trade_print, real_print)


def test_user_channel_shapes(captured) -> None:
    _sim, out = captured
    order = next(e for e in out["ws_user"] if e["event_type"] == "order")
    real_order = load_fixture("ws_user_order_placement_2024-09.json")
    assert set(order) == set(real_order)
    assert_same_shape(order, real_order)
    trade = next(e for e in out["ws_user"] if e["event_type"] == "trade")
    real_trade = load_fixture("ws_user_trade_maker_confirmed_2025-11.json")
    assert set(trade) == set(real_trade)
    assert set(trade["maker_orders"][0]) == set(real_trade["maker_orders"][0])
    assert_same_shape(trade, real_trade)


def test_clob_trade_and_data_api_shapes(captured) -> None:
    sim, out = captured
    address = out["maker"].wallet.lower()
    real_trade = load_fixture("clob_data_trades_item_2024-09.json")
    trades = [t for page in out["maker"].list_account_trades() for t in page.items]
    assert len(trades) == 1
    raw = sim.call(lambda: sim.venue.engine.trades(address=address))
    from polymaker.drill.routes_common import trade_dict

    ours = trade_dict(raw[0])
    assert set(real_trade) <= set(ours)
    assert_same_shape(ours, real_trade)
    positions = httpx.get(f"{sim.urls.data_url}/v2/positions", params={"user": address}).json()
    assert set(positions) == {"data", "pagination"}
    real_position = load_fixture("data_api_v2_positions_items_2026-09.json")[0]
    assert set(positions["data"][0]) == set(real_position)
    assert_same_shape(positions["data"][0], real_position)
    assert positions["data"][0]["current_size"] == 5.0
    fills = httpx.get(f"{sim.urls.data_url}/v2/trades", params={"user": address}).json()
    envelope = load_fixture("data_api_v2_trades_envelope_sanitized_2026-08.json")
    assert set(fills) == set(envelope) and set(fills["pagination"]) <= set(envelope["pagination"])
    real_fill = load_fixture("data_api_v2_trades_items_2026-09.json")[0]
    assert set(fills["data"][0]) == set(real_fill)
    assert_same_shape(fills["data"][0], real_fill)
    v1 = httpx.get(f"{sim.urls.data_url}/positions", params={"user": address}).json()
    assert v1[0]["size"] == 5.0 and v1[0]["conditionId"] == out["market"].condition_id
