"""Listing and books fetching against the in-process fake (httpx.MockTransport)."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
from datetime import timedelta

import httpx
import pytest

from polymaker.errors import RequestRejectedError, UnexpectedResponseError
from polymaker.exchange.http import JsonHttp
from polymaker.exchange.retry import RetryPolicy
from polymaker.screener import fetch
from polymaker.screener.fetch import ListingFetcher, fetch_books, iso_z, split_window
from tests.screener.fakes import NOW, FakeExchange, book, make_market

START, END = NOW, NOW + timedelta(hours=48)


async def no_sleep(delay: float) -> None:
    return None


def http_for(transport: httpx.AsyncBaseTransport, retries: int = 2) -> JsonHttp:
    return JsonHttp(
        policy=RetryPolicy(retries=retries),
        rng=random.Random(0),
        transport=transport,
        sleep=no_sleep,
    )


def spread_markets(n: int) -> list[dict]:
    return [make_market(i, end=START + timedelta(minutes=10 + i)) for i in range(n)]


def listing(exchange: FakeExchange, *, windows: int = 1, page_size: int = 100):
    async def go():
        async with http_for(exchange.transport()) as http:
            fetcher = ListingFetcher(http, "http://gamma", page_size=page_size, windows=windows)
            return await fetcher.fetch(START, END)

    return asyncio.run(go())


def test_keyset_pages_follow_next_cursor_with_the_documented_query():
    exchange = FakeExchange(spread_markets(250))
    result = listing(exchange)
    assert len(result.rows) == 250 and result.pages == 3 and result.source == "keyset"
    first, second, third = exchange.requests
    assert first.method == "GET" and first.url.path == "/markets/keyset"
    assert dict(first.url.params) == {
        "limit": "100",
        "active": "true",
        "closed": "false",
        "end_date_min": iso_z(START),
        "end_date_max": iso_z(END),
    }
    assert second.url.params["after_cursor"] == "100"
    assert third.url.params["after_cursor"] == "200"


def test_pagination_does_not_trust_page_length():
    exchange = FakeExchange(spread_markets(130))
    exchange.page_cap = 40  # the venue clamps silently
    result = listing(exchange)
    assert len(result.rows) == 130 and result.pages == 4


def test_sub_windows_are_fetched_concurrently_and_deduplicated():
    markets = spread_markets(300)
    boundary = make_market(999, end=START + timedelta(hours=24))  # on a sub-window bound
    exchange = FakeExchange([*markets, boundary])
    result = listing(exchange, windows=4)
    ids = [row.id for row in result.rows]
    assert len(ids) == len(set(ids)) == 301
    windows = {
        (r.url.params["end_date_min"], r.url.params["end_date_max"]) for r in exchange.requests
    }
    assert len(windows) == 4


def test_split_window_covers_the_interval():
    parts = split_window(START, END, 3)
    assert parts[0][0] == START and parts[-1][1] == END
    assert all(a[1] == b[0] for a, b in itertools.pairwise(parts))
    with pytest.raises(ValueError):
        split_window(END, START, 2)


def test_a_cursor_that_does_not_advance_is_an_error():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"markets": [], "next_cursor": "same"})

    exchange = FakeExchange([])
    exchange.handle = handler  # type: ignore[method-assign]
    with pytest.raises(UnexpectedResponseError, match="does not advance"):
        listing(exchange)


def test_wrong_shape_is_an_error():
    exchange = FakeExchange([])
    exchange.handle = lambda request: httpx.Response(200, json=[1, 2])  # type: ignore[method-assign]
    with pytest.raises(UnexpectedResponseError, match="'markets' list"):
        listing(exchange)


def test_a_listing_that_keeps_failing_raises_instead_of_returning_empty():
    exchange = FakeExchange(spread_markets(10))
    exchange.fail["/markets/keyset"] = [500] * 50
    with pytest.raises(RequestRejectedError) as info:
        listing(exchange)
    assert info.value.status == 500 and "gave up after 3 attempts" in str(info.value)


def test_transient_429_and_500_are_absorbed():
    exchange = FakeExchange(spread_markets(150))
    exchange.fail["/markets/keyset"] = [429, 500]
    exchange.headers["/markets/keyset"] = {"Retry-After": "0"}
    assert len(listing(exchange).rows) == 150


def test_offset_fallback_when_keyset_is_not_served(monkeypatch):
    monkeypatch.setattr(fetch, "OFFSET_SPLIT_AT", 100)
    markets = spread_markets(240)
    same_second = [make_market(500 + i, end=START + timedelta(minutes=60)) for i in range(3)]
    exchange = FakeExchange([*markets, *same_second])
    exchange.keyset_served = False
    result = listing(exchange, page_size=50)
    assert result.source == "offset"
    assert len(result.rows) == 243
    offset_requests = [r for r in exchange.requests if r.url.path == "/markets"]
    assert offset_requests[0].url.params["order"] == "endDate"
    assert offset_requests[0].url.params["offset"] == "0"
    restarted = {r.url.params["end_date_min"] for r in offset_requests}
    assert len(restarted) > 1  # the window was restarted deeper instead of using big offsets
    assert max(int(r.url.params["offset"]) for r in offset_requests) <= 100


def test_books_in_batches_with_bounded_concurrency():
    tokens = [str(t) for t in range(1, 1001)]
    in_flight = 0
    peak = 0
    bodies: list[list[dict]] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        body = json.loads(request.content)
        bodies.append(body)
        return httpx.Response(200, json=[book(i["token_id"], ["0.4"], ["0.6"]) for i in body])

    async def go():
        async with http_for(httpx.MockTransport(handler)) as http:
            return await fetch_books(http, "http://clob", tokens, batch_size=150, concurrency=3)

    books = asyncio.run(go())
    assert sorted(len(b) for b in bodies) == [100] + [150] * 6
    assert 1 < peak <= 3
    assert len(books.quotes) == 1000 and books.batches == 7 and books.failed_batches == 0
    assert str(books.quotes["7"].bid) == "0.4"


def test_a_failed_books_batch_marks_only_its_tokens():
    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if body[0]["token_id"] == "3":
            return httpx.Response(500, text="down")
        return httpx.Response(
            200, json=[book(i["token_id"], ["0.4"], ["0.6"]) for i in body] + ["junk"]
        )

    async def go():
        async with http_for(httpx.MockTransport(handler), retries=1) as http:
            return await fetch_books(
                http, "http://clob", ["1", "2", "3", "4", "5"], batch_size=2, concurrency=2
            )

    books = asyncio.run(go())
    assert books.unavailable == {"3", "4"}
    assert set(books.quotes) == {"1", "2", "5"}
    assert books.failed_batches == 1 and books.bad_entries == 2


def test_rows_go_to_the_consumer_as_pages_arrive_and_are_not_kept():
    exchange = FakeExchange(spread_markets(230))
    pages: list[int] = []

    def record(rows: list) -> None:
        pages.append(len(rows))

    async def go():
        async with http_for(exchange.transport()) as http:
            fetcher = ListingFetcher(
                http,
                "http://gamma",
                page_size=100,
                windows=1,
                on_rows=lambda r: pages.append(len(r)),
            )
            return await fetcher.fetch(START, END)

    result = asyncio.run(go())
    assert pages == [100, 100, 30]
    assert result.total == 230 and result.rows == []
