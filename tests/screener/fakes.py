"""An in-process fake of Gamma's keyset listing and CLOB ``/books`` for httpx.MockTransport.

Markets are built in Gamma's wire shapes (JSON text for clobTokenIds/outcomes, decimal strings
for volume/liquidity, numbers for volumeNum/volume24hr), like tests/fixtures/polymarket/.
Faults: ``fail[path]`` is a list of statuses served (one per request) before normal answers.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson

from polymaker.screener.model import Candidate, Rejection
from polymaker.screener.parse import parse_market_json

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def make_market(index: int, **overrides: Any) -> dict[str, Any]:
    """A tradable binary market ending 24 h after NOW with YES ~0.03 / NO ~0.97."""
    end = overrides.pop("end", NOW + timedelta(hours=24))
    row: dict[str, Any] = {
        "id": str(1000 + index),
        "slug": f"market-{index}",
        "question": f"Will thing {index} happen?",
        "conditionId": f"0x{index:064x}",
        "clobTokenIds": json.dumps([str(10_000 + 2 * index), str(10_001 + 2 * index)]),
        "outcomes": '["Yes", "No"]',
        "outcomePrices": '["0.03", "0.97"]',
        "endDate": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "active": True,
        "closed": False,
        "archived": False,
        "acceptingOrders": True,
        "enableOrderBook": True,
        "negRisk": False,
        "volume": "50000.5",
        "volumeNum": 50000.5,
        "volume24hr": 1200.25,
        "liquidity": "8000",
        "liquidityNum": 8000,
        "bestBid": 0.02,
        "bestAsk": 0.03,
        "orderPriceMinTickSize": 0.01,
        "orderMinSize": 5,
        "events": [{"id": str(500 + index), "slug": f"event-{index}", "title": f"Event {index}"}],
    }
    row.update(overrides)
    return row


def parse_row(row: Any) -> Candidate | Rejection:
    """A market dict (or anything) through the screener's real path: JSON bytes -> decode."""
    return parse_market_json(orjson.dumps(row))


def yes_no_tokens(row: dict[str, Any]) -> tuple[str, str]:
    tokens = json.loads(row["clobTokenIds"])
    return tokens[0], tokens[1]


def book(token: str, bids: list[str], asks: list[str]) -> dict[str, Any]:
    """A /books entry in the venue's order (worst -> best)."""
    return {
        "market": "0xabc",
        "asset_id": token,
        "timestamp": "1785734468581",
        "hash": "0",
        "bids": [{"price": p, "size": "100"} for p in sorted(bids, key=float)],
        "asks": [{"price": p, "size": "100"} for p in sorted(asks, key=float, reverse=True)],
        "min_order_size": "5",
        "tick_size": "0.01",
        "neg_risk": False,
        "last_trade_price": "",
    }


def mirrored_books(row: dict[str, Any], yes_bid: str, yes_ask: str) -> list[dict[str, Any]]:
    """Both books of a binary market: NO bid = 1 - YES ask, NO ask = 1 - YES bid."""
    yes, no = yes_no_tokens(row)
    one = 1
    no_bid = f"{one - float(yes_ask):.4g}"
    no_ask = f"{one - float(yes_bid):.4g}"
    return [book(yes, [yes_bid], [yes_ask]), book(no, [no_bid], [no_ask])]


class FakeExchange:
    """Serves keyset pages (cursor = next index) and /books; records every request."""

    def __init__(self, markets: list[dict[str, Any]], books: list[dict[str, Any]] | None = None):
        self.markets = markets
        self.books = {b["asset_id"]: b for b in books or []}
        self.fail: dict[str, list[int]] = defaultdict(list)
        self.headers: dict[str, dict[str, str]] = {}
        self.requests: list[httpx.Request] = []
        self.keyset_served = True
        self.page_cap = 100

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if self.fail[path]:
            status = self.fail[path].pop(0)
            return httpx.Response(status, text="injected", headers=self.headers.get(path, {}))
        if path == "/markets/keyset" and self.keyset_served:
            return self._keyset(request)
        if path == "/markets":
            return self._offset(request)
        if path == "/books" and request.method == "POST":
            wanted = [item["token_id"] for item in json.loads(request.content)]
            return httpx.Response(200, json=[self.books[t] for t in wanted if t in self.books])
        return httpx.Response(404, text="not found")

    def _window(self, request: httpx.Request) -> list[dict[str, Any]]:
        q = request.url.params
        low, high = q["end_date_min"], q["end_date_max"]
        return [m for m in self.markets if low <= m.get("endDate", "") <= high]

    def _keyset(self, request: httpx.Request) -> httpx.Response:
        rows = self._window(request)
        limit = min(int(request.url.params["limit"]), self.page_cap)
        start = int(request.url.params.get("after_cursor", "0"))
        page = rows[start : start + limit]
        nxt = start + limit
        body: dict[str, Any] = {"markets": page}
        if nxt < len(rows):
            body["next_cursor"] = str(nxt)
        return httpx.Response(200, json=body)

    def _offset(self, request: httpx.Request) -> httpx.Response:
        rows = sorted(self._window(request), key=lambda m: m["endDate"])
        limit = int(request.url.params["limit"])
        offset = int(request.url.params["offset"])
        return httpx.Response(200, json=rows[offset : offset + limit])

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]
