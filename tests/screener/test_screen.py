"""A whole screen against the fake exchange: selection, reasons, output, failures."""

from __future__ import annotations

import asyncio
import csv
import json
import random
from datetime import timedelta

import httpx
import pytest

from polymaker.config.filter import FilterParams
from polymaker.errors import TransportError
from polymaker.exchange.http import JsonHttp
from polymaker.exchange.retry import RetryPolicy
from polymaker.screener import Reason, ScreenResult, screen, screen_async, write_csv, write_result
from polymaker.screener.output import print_plain, print_table, result_document
from tests.screener.fakes import NOW, FakeExchange, make_market, mirrored_books

PARAMS = FilterParams(blacklist_terms=("BTC",), listing_windows=2, books_batch_size=3)


async def no_sleep(delay: float) -> None:
    return None


def universe() -> tuple[list[dict], list[dict]]:
    """Eight markets, each meant to end in a different place."""
    good = make_market(1)  # NO ask 0.98 -> selected
    sibling = make_market(2, events=good["events"], bestBid=0.03, bestAsk=0.04)  # lower NO ask
    wide = make_market(3, bestBid=0.01, bestAsk=0.30)  # NO ask in band but spread too wide
    out_of_band = make_market(4, bestBid=0.45, bestAsk=0.55)  # coin flip
    empty = make_market(5, bestBid=None, bestAsk=None)  # no book at all
    blacklisted = make_market(6, question="Will BTC hit 1m?")
    closed = make_market(7, closed=True)
    yes_side = make_market(8, bestBid=0.96, bestAsk=0.97)  # YES is the favourite
    books = (
        mirrored_books(good, "0.02", "0.03")
        + mirrored_books(sibling, "0.03", "0.04")
        + mirrored_books(wide, "0.01", "0.30")
        + mirrored_books(out_of_band, "0.45", "0.55")
        + mirrored_books(yes_side, "0.96", "0.97")
    )
    rows = [good, sibling, wide, out_of_band, empty, blacklisted, closed, yes_side]
    rows.append({"id": "broken", "slug": "broken", "endDate": good["endDate"]})  # malformed
    return rows, books


def run_screen(exchange: FakeExchange, params: FilterParams = PARAMS) -> ScreenResult:
    async def go():
        async with JsonHttp(
            policy=RetryPolicy(retries=2), rng=random.Random(1), transport=exchange.transport(),
            sleep=no_sleep,
        ) as http:  # fmt: skip
            return await screen_async(
                params, gamma_url="http://gamma", clob_url="http://clob", now=NOW, http=http
            )

    return asyncio.run(go())


def test_selection_and_rejection_counts():
    rows, books = universe()
    result = run_screen(FakeExchange(rows, books))
    assert [t.candidate.slug for t in result.topics] == ["market-1", "market-8"]
    assert [t.side for t in result.topics] == ["NO", "YES"]
    assert result.total_markets == 9
    assert result.rejected == {
        Reason.ASK_OUT_OF_BAND.value: 1,
        Reason.BLACKLISTED.value: 1,
        Reason.CLOSED.value: 1,
        Reason.MALFORMED.value: 1,
        Reason.NO_QUOTES.value: 1,
        Reason.SAME_EVENT.value: 1,
        Reason.SPREAD_TOO_WIDE.value: 1,
    }
    assert result.stats.books_requested == 6  # 6 early survivors, YES books (NO mirrored)
    assert result.stats.books_batches == 2


def test_both_tokens_mode_uses_the_no_book_as_served():
    rows, books = universe()
    no_token = json.loads(rows[0]["clobTokenIds"])[1]
    for entry in books:
        if entry["asset_id"] == no_token:
            entry["asks"] = [{"price": "0.99", "size": "10"}]  # not the mirror of YES
    params = PARAMS.model_copy(update={"books_both_tokens": True})
    result = run_screen(FakeExchange(rows, books), params)
    assert result.stats.books_requested == 12
    first = next(t for t in result.topics if t.candidate.slug == "market-1")
    assert str(first.no.ask) == "0.99" and str(first.no.bid) == "0.97"


def test_books_are_only_requested_for_early_survivors():
    rows, books = universe()
    exchange = FakeExchange(rows, books)
    run_screen(exchange)
    requested = {
        item["token_id"]
        for r in exchange.requests
        if r.url.path == "/books"
        for item in json.loads(r.content)
    }
    blacklisted_yes = json.loads(rows[5]["clobTokenIds"])[0]
    assert blacklisted_yes not in requested and len(requested) == 6


def test_failed_books_batch_marks_only_those_markets():
    rows, books = universe()
    exchange = FakeExchange(rows, books)
    exchange.fail["/books"] = [500, 500, 500]  # the first batch fails 3 times = gives up
    result = run_screen(exchange, PARAMS.model_copy(update={"books_concurrency": 1}))
    assert result.rejected[Reason.BOOKS_UNAVAILABLE.value] == 3  # one 3-token batch
    assert result.stats.books_failed_batches == 1
    assert result.topics  # the other batches still produced topics


def test_gamma_quotes_mode_skips_books():
    rows, _ = universe()
    exchange = FakeExchange(rows, [])
    result = run_screen(exchange, PARAMS.model_copy(update={"use_gamma_quotes": True}))
    assert "/books" not in exchange.paths()
    assert [t.candidate.slug for t in result.topics] == ["market-1", "market-8"]
    assert result.topics[0].quote_source == "gamma"
    assert result.rejected[Reason.NO_QUOTES.value] == 1
    assert str(result.topics[0].no.ask) == "0.98"


def test_listing_outage_raises():
    exchange = FakeExchange([])
    exchange.handle = lambda r: (_ for _ in ()).throw(httpx.ConnectError("refused", request=r))  # type: ignore[method-assign]
    with pytest.raises(TransportError, match="gamma/markets/keyset"):
        run_screen(exchange)


def test_sync_screen_with_a_transport_and_the_result_document(tmp_path):
    rows, books = universe()
    params = PARAMS.model_copy(update={"retries": 0})
    result = screen(
        params, gamma_url="http://gamma", clob_url="http://clob", now=NOW,
        transport=FakeExchange(rows, books).transport(),
    )  # fmt: skip
    out = tmp_path / "data" / "topics_filtered.json"
    document = write_result(result, out)
    assert json.loads(out.read_text()) == document
    assert document["generated_at"] == "2026-12-03T12:00:00Z"
    assert document["criteria"]["ask_min"] == "0.955"
    assert document["total_markets"] == 9
    topic = document["topics"][0]
    for key in ("topic_id", "market_id", "condition_id", "question", "event_slug", "end_time",
                "yes_token", "no_token", "preferred_side", "tick_size", "min_order_size",
                "neg_risk", "bid", "ask", "volume_total", "volume_24h"):  # fmt: skip
        assert key in topic
    assert topic["topic_id"] == "market-1" and topic["preferred_side"] == "NO"
    assert topic["end_time"] == "2026-12-04T12:00:00Z" and topic["hours_to_end"] == 24.0
    assert (topic["bid"], topic["ask"], topic["spread"]) == ("0.97", "0.98", "0.01")
    assert topic["token_id"] == topic["no_token"] and topic["tick_size"] == "0.01"
    assert topic["neg_risk"] is False and topic["volume_total"] == "50000.5"


def test_csv_and_terminal_output(tmp_path):
    rows, books = universe()
    result = run_screen(FakeExchange(rows, books))
    path = tmp_path / "t.csv"
    write_csv(result, path)
    lines = list(csv.DictReader(path.open()))
    assert [line["topic_id"] for line in lines] == ["market-1", "market-8"]
    assert lines[1]["preferred_side"] == "YES" and lines[1]["ask"] == "0.97"

    class Sink:
        text = ""

        def write(self, chunk: str) -> int:
            Sink.text += chunk
            return len(chunk)

        def flush(self) -> None:
            return None

    print_plain(result, Sink())
    assert "[1] market-1" in Sink.text and "ask outside band" in Sink.text
    Sink.text = ""
    print_table(result, Sink())
    assert "market-8" in Sink.text and "rejected by reason" in Sink.text


def test_max_topics_and_end_window():
    rows = [make_market(i, end=NOW + timedelta(hours=6 + i)) for i in range(5)]
    rows.append(make_market(9, end=NOW + timedelta(hours=1)))
    books = [b for row in rows for b in mirrored_books(row, "0.02", "0.03")]
    params = PARAMS.model_copy(update={"max_topics": 3})
    result = run_screen(FakeExchange(rows, books), params)
    assert len(result.topics) == 3
    assert result.rejected == {"over max_topics": 2}  # the 1 h market is outside the window
    assert result_document(result)["selected"] == 3


def test_a_timed_out_screen_leaves_no_task_behind():
    rows, books = universe()
    exchange = FakeExchange(rows, books)

    async def slow(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/books":
            await asyncio.sleep(30)
        return exchange.handle(request)

    async def go():
        run = screen_async(
            PARAMS,
            gamma_url="http://gamma",
            clob_url="http://clob",
            now=NOW,
            transport=httpx.MockTransport(slow),
        )
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(run, timeout=0.3)
        return [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]

    assert asyncio.run(go()) == []
