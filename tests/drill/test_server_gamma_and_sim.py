"""Gamma listing/paging/filters and the /_sim/ inspection routes, on a live drill exchange."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import orjson
import pytest
from eth_account import Account

from polymaker.drill.faults import parse_faults
from polymaker.drill.server import SimOptions
from polymaker.drill.testing import InProcessSim, in_process_sim
from polymaker.exchange.sdk import create_secure_client

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sim() -> Iterator[InProcessSim]:
    faults = parse_faults("http503=100%@GET /neg-risk*")
    options = SimOptions(markets=250, seed=13, faults=faults, settle_delays_ms=(5000, 6000))
    with in_process_sim(options) as running:
        yield running


def _walk(base: str, path: str, key: str, **params: object) -> list[dict]:
    items, cursor = [], None
    while True:
        query = {**params, **({"after_cursor": cursor} if cursor else {})}
        page = httpx.get(base + path, params=query).json()
        assert len(page[key]) <= 100
        items += page[key]
        cursor = page.get("next_cursor")
        if not cursor:
            return items


def test_keyset_walks_every_market_once_and_clamps_the_limit(sim) -> None:
    gamma = sim.urls.gamma_url
    markets = _walk(gamma, "/markets/keyset", "markets", limit=500)
    assert len({m["id"] for m in markets}) == len(markets) == 250
    legacy = httpx.get(gamma + "/markets", params={"limit": 50, "offset": 200}).json()
    assert [m["id"] for m in legacy] == [m["id"] for m in markets[200:]]
    events = _walk(gamma, "/events/keyset", "events")
    assert sum(len(e["markets"]) for e in events) == 250


def test_market_filters(sim) -> None:
    gamma = sim.urls.gamma_url
    open_ = httpx.get(
        gamma + "/markets", params={"closed": "false", "active": "true", "limit": 500}
    ).json()
    assert open_ and all(not m["closed"] and m["active"] for m in open_)
    soon = (datetime.now(UTC) + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ending = httpx.get(gamma + "/markets", params={"end_date_max": soon, "limit": 500}).json()
    assert all(m["endDate"] <= soon for m in ending) and len(ending) < 250
    target = open_[3]
    tokens = orjson.loads(target["clobTokenIds"])
    for params in (
        {"condition_ids": target["conditionId"]},
        {"clob_token_ids": tokens[1]},
        {"position_ids": target["positionIds"][0]},
        {"slug": target["slug"]},
        {"id": target["id"]},
    ):
        assert [m["id"] for m in httpx.get(gamma + "/markets", params=params).json()] == [
            target["id"]
        ]
    by_volume = httpx.get(
        gamma + "/markets", params={"order": "volumeNum", "ascending": "false"}
    ).json()
    volumes = [m["volumeNum"] for m in by_volume]
    assert volumes == sorted(volumes, reverse=True)
    assert httpx.get(f"{gamma}/markets/{target['id']}").json()["id"] == target["id"]
    assert httpx.get(f"{gamma}/markets/slug/{target['slug']}").json()["id"] == target["id"]
    event = target["events"][0]
    assert httpx.get(f"{gamma}/events/{event['id']}").json()["slug"] == event["slug"]


def test_sim_market_create_close_and_inspect(sim) -> None:
    clob, gamma = sim.urls.clob_url, sim.urls.gamma_url
    end = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    created = httpx.post(
        f"{clob}/_sim/markets",
        json={
            "question": "Will the drill pass?",
            "end_date": end,
            "yes_price": "0.4",
            "volume": "25000",
            "slug": "drill-pass",
        },
    ).json()
    assert created["slug"] == "drill-pass" and created["question"] == "Will the drill pass?"
    listed = httpx.get(gamma + "/markets", params={"slug": "drill-pass"}).json()
    assert [m["conditionId"] for m in listed] == [created["conditionId"]]
    yes = orjson.loads(created["clobTokenIds"])[0]
    client = create_secure_client(Account.create().key.hex(), sim.urls)
    placed = client.place_limit_order(
        asset_id=yes, price="0.05", size="5", side="BUY", post_only=True
    )
    orders = httpx.get(f"{clob}/_sim/orders", params={"asset_id": yes}).json()
    mine = [o for o in orders if o["id"] == placed.order_id]
    assert mine and mine[0]["maker_address"] == client.wallet.lower()
    assert {
        "id",
        "asset_id",
        "maker_address",
        "side",
        "price",
        "original_size",
        "size_matched",
    } <= set(mine[0])
    closed = httpx.post(f"{clob}/_sim/markets/{created['conditionId']}/close").json()
    assert closed["closed"] is True
    assert httpx.get(f"{clob}/_sim/orders", params={"asset_id": yes}).json() == []
    assert client.get_order(order_id=placed.order_id).status == "CANCELED_MARKET_RESOLVED"


def test_sim_account_controls(sim) -> None:
    clob = sim.urls.clob_url
    client = create_secure_client(Account.create().key.hex(), sim.urls)
    address = client.wallet.lower()
    # An account is funded when it is first used, not when its key authenticates.
    assert httpx.get(f"{clob}/_sim/accounts", params={"address": address}).json() == []
    assert client.get_balance_allowance(asset_type="COLLATERAL").balance == 10_000_000_000
    accounts = httpx.get(f"{clob}/_sim/accounts", params={"address": address}).json()
    assert accounts[0]["balance"] == "10000" and accounts[0]["api_keys"] == [client.credentials.key]
    assert accounts[0]["wallet_type"] == "eoa" and accounts[0]["owner"] == address
    httpx.post(f"{clob}/_sim/accounts/{address}", json={"balance": "12.5", "closed_only": True})
    assert client.get_balance_allowance(asset_type="COLLATERAL").balance == 12_500_000
    assert client.get_closed_only_mode() is True
    bad = httpx.post(f"{clob}/_sim/accounts/{address}", json={"balance": True})
    assert bad.status_code == 400


def test_clock_skew_breaks_l2_auth_until_reset(sim) -> None:
    clob = sim.urls.clob_url
    client = create_secure_client(Account.create().key.hex(), sim.urls)
    assert httpx.post(f"{clob}/_sim/clock", json={"offset_ms": 120_000}).json()["offset_ms"] == (
        120_000
    )
    try:
        from polymarket.errors import RequestRejectedError

        with pytest.raises(RequestRejectedError) as rejected:
            client.get_balance_allowance(asset_type="COLLATERAL")
        assert rejected.value.status == 401
        assert abs(httpx.get(f"{clob}/time").json() - datetime.now(UTC).timestamp() - 120) < 5
    finally:
        httpx.post(f"{clob}/_sim/clock", json={"offset_ms": 0})
    assert client.get_balance_allowance(asset_type="COLLATERAL").balance > 0


def test_http_fault_rules_answer_in_venue_style(sim) -> None:
    token = sim.venue.universe.markets[0].yes_token
    faulted = httpx.get(f"{sim.urls.clob_url}/neg-risk", params={"token_id": token})
    assert faulted.status_code == 503 and "cancel-only" in faulted.json()["error"]
    ok = httpx.get(f"{sim.urls.clob_url}/tick-size", params={"token_id": token})
    assert ok.status_code == 200


def test_sim_fail_trade_reverses_a_matched_trade(sim) -> None:
    clob = sim.urls.clob_url
    end = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    created = httpx.post(
        f"{clob}/_sim/markets",
        json={
            "question": "Will the trade fail?",
            "end_date": end,
            "yes_price": "0.5",
            "volume": "1000",
        },
    ).json()
    yes, no = orjson.loads(created["clobTokenIds"])
    maker = create_secure_client(Account.create().key.hex(), sim.urls)
    taker = create_secure_client(Account.create().key.hex(), sim.urls)
    book = maker.get_order_book(asset_id=yes)
    price = book.bids[-1].price + book.tick_size
    maker.place_limit_order(asset_id=yes, price=price, size="5", side="BUY", post_only=True)
    took = taker.place_limit_order(asset_id=no, price=1 - price, size="5", side="BUY")
    trade_id = took.trade_ids[0]
    failed = httpx.post(f"{clob}/_sim/trades/{trade_id}/fail")
    assert failed.status_code == 200 and failed.json()["status"] == "FAILED"
    assert httpx.post(f"{clob}/_sim/trades/{trade_id}/fail").status_code == 409
    assert httpx.post(f"{clob}/_sim/trades/nope/fail").status_code == 404
    assert taker.get_balance_allowance(asset_type="COLLATERAL").balance == 10_000 * 10**6
