"""The account's holdings at the exchange: exposures for the limits, unmanaged positions."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from polymaker.autorun.holdings import Holdings, HoldingsWatcher, fetch_positions
from polymaker.errors import TransportError
from polymaker.exchange.wire._fields import WireError
from polymaker.exchange.wire.orders import parse_order
from polymaker.exchange.wire.positions import Position, parse_position, parse_positions_page
from tests.conftest import load_fixture


def _position(condition: str, size: str, avg: str = "0.5", token: str = "1") -> Position:
    return Position(token, condition, Decimal(size), Decimal(avg), False)


def _order(condition: str, side: str, price: str, size: str, matched: str = "0") -> Any:
    return parse_order(
        {
            "id": f"0x{condition[-2:]}{side}", "status": "LIVE", "owner": "k", "market": condition,
            "asset_id": "1", "side": side, "price": price, "original_size": size,
            "size_matched": matched, "outcome": "Yes", "maker_address": "0xw",
            "order_type": "GTC", "associate_trades": [], "created_at": 1700000000,
            "expiration": "0",
        }
    )  # fmt: skip


def test_the_recorded_v2_positions_parse_with_exact_decimals() -> None:
    rows = load_fixture("data_api_v2_positions_items_2026-09.json")
    first = parse_position(rows[0])
    assert first.condition_id == rows[0]["condition_id"] and first.token_id == rows[0]["token_id"]
    assert first.size == Decimal("400000.0") and first.avg_price == Decimal("0.5")
    assert first.redeemable is False


@pytest.mark.parametrize("size", [-1, "NaN", None, True, "1e999999999999"])
def test_an_impossible_size_is_a_wire_error_never_a_zero(size: object) -> None:
    row = {"token_id": "1", "condition_id": "0xc", "current_size": size, "avg_price": 0.5}
    with pytest.raises(WireError, match="current_size"):
        parse_position(row)


def test_exposures_count_shares_at_cost_and_open_buys_per_market() -> None:
    holdings = Holdings(
        positions=(_position("0xa", "10", "0.4"), _position("0xb", "0")),
        open_orders=(
            _order("0xa", "SELL", "0.6", "10"),
            _order("0xc", "BUY", "0.3", "10", matched="4"),
        ),
        fetched_at=0.0,
    )
    exposures = {e.topic_id: e for e in holdings.exposures({"0xa": "topic-a"})}
    assert set(exposures) == {"topic-a", "0xc"}, "a market without a topic still counts"
    assert exposures["topic-a"].exposure == Decimal("4.0")  # the sell is not a claim to buy
    assert exposures["0xc"].exposure == Decimal("1.8")  # 6 shares still to buy at 0.30
    assert all(e.is_held for e in exposures.values())


def test_unmanaged_lists_shares_of_markets_no_running_worker_trades() -> None:
    holdings = Holdings((_position("0xa", "10"), _position("0xb", "5")), (), 0.0)
    rows = holdings.unmanaged({"0xa": "a", "0xb": "b"}, managed=["a"])
    assert [(r["topic_id"], r["shares"]) for r in rows] == [("b", "5")]


def test_fetch_positions_follows_the_cursor_and_skips_an_unreadable_row() -> None:
    pages = [
        {"data": [{"token_id": "1", "condition_id": "0xa", "current_size": 3, "avg_price": 0.5},
                  {"token_id": "2"}],
         "pagination": {"has_more": True, "next_cursor": "c2"}},
        {"data": [{"token_id": "3", "condition_id": "0xb", "current_size": 1.5, "avg_price": 0.1}],
         "pagination": {"has_more": False, "next_cursor": None}},
    ]  # fmt: skip
    queries: list[dict[str, str]] = []

    async def get_json(url: str, query: dict[str, str]) -> Any:
        queries.append(dict(query))
        return pages[len(queries) - 1]

    positions = asyncio.run(fetch_positions(get_json, "http://data", "0xW"))
    assert [(p.token_id, p.size) for p in positions] == [("1", 3), ("3", Decimal("1.5"))]
    assert queries[0]["user"] == "0xW" and queries[1]["cursor"] == "c2"
    assert parse_positions_page({"data": [], "pagination": {"has_more": False}}) == ([], None)


def test_the_watcher_keeps_the_last_snapshot_when_a_refresh_fails_and_refreshes_on_fills() -> None:
    calls: list[int] = []
    good = Holdings((_position("0xa", "1"),), (), 0.0)

    async def fetch() -> Holdings:
        calls.append(1)
        if len(calls) == 2:
            raise TransportError("http://data", "connection refused")
        return good

    async def scenario() -> None:
        watcher = HoldingsWatcher(fetch, interval_s=3600)
        assert await watcher.refresh() is good
        assert await watcher.refresh() is None and watcher.latest is good
        watcher.start()
        watcher.note_positions({"a": Decimal(5)})  # a fill reported by a worker
        for _ in range(100):
            if len(calls) >= 3:
                break
            await asyncio.sleep(0.01)
        await watcher.stop()

    asyncio.run(scenario())
    assert len(calls) == 3, "a changed position asks for a refresh at once"
