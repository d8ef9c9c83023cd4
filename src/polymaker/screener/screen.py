"""One screen: listing -> parse -> early criteria -> books -> side choice -> event pick -> cap.

This is the library entry the supervisor calls (``screen`` / ``screen_async``). It raises
``ExchangeError`` when the listing cannot be fetched after retries, so the caller can tell an
outage from an empty result; it never writes files (``output.write_result`` does).

The stages overlap: each listing page is parsed and early-filtered as soon as it arrives, and
its survivors' books are requested right away, so the exchange serves books while the listing
is still running.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import httpx

from polymaker.config.filter import FilterParams
from polymaker.exchange.aio_transport import AiohttpTransport
from polymaker.exchange.http import JsonHttp
from polymaker.exchange.retry import RetryPolicy
from polymaker.exchange.urls import PRODUCTION_CLOB_URL, PRODUCTION_GAMMA_URL
from polymaker.screener.criteria import (
    Criteria,
    choose_side,
    early_reason,
    pick_per_event,
    rank_and_cap,
)
from polymaker.screener.fetch import BookFetcher, Books, ListingFetcher, Progress
from polymaker.screener.model import EMPTY_QUOTE, Candidate, Quote, Reason, Rejection, Topic
from polymaker.screener.parse import parse_market
from polymaker.screener.quotes import gamma_quotes, mirror_quote
from polymaker.screener.wire import Row, decode_row


@dataclass(frozen=True)
class ScreenStats:
    """How the screen went: fetch sizes and wall time (for logs and the benchmark)."""

    listing_source: str
    pages: int
    books_requested: int = 0
    books_batches: int = 0
    books_failed_batches: int = 0
    bad_books: int = 0
    elapsed_s: float = 0.0


@dataclass(frozen=True, repr=False)
class ScreenResult:
    """The outcome of one screen.

    topics: the selected markets, best first (see ``criteria.rank_and_cap``).
    rejected: counts by ``Reason`` value; rejections: every rejected market with its detail.
    total_markets: unique markets the listing returned for the end-date window.
    """

    generated_at: datetime
    params: FilterParams
    gamma_url: str
    clob_url: str
    total_markets: int
    topics: tuple[Topic, ...]
    rejections: tuple[Rejection, ...]
    stats: ScreenStats
    rejected: dict[str, int] = field(default_factory=dict)

    def __repr__(self) -> str:
        # Short on purpose: asyncio.run (3.11) formats its task's result on exit, and a full
        # dataclass repr of thousands of topics costs a tenth of a second.
        return (
            f"ScreenResult({len(self.topics)} topics of {self.total_markets} markets, "
            f"generated_at={self.generated_at.isoformat()}, {self.stats.elapsed_s}s)"
        )


async def screen_async(
    params: FilterParams,
    *,
    gamma_url: str = PRODUCTION_GAMMA_URL,
    clob_url: str = PRODUCTION_CLOB_URL,
    now: datetime | None = None,
    http: JsonHttp | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    rng: random.Random | None = None,
    progress: Progress | None = None,
) -> ScreenResult:
    """Screen the exchange at ``gamma_url``/``clob_url`` with ``params``.

    now: the reference time of the end-time window (default: the current UTC time).
    http: a ``JsonHttp`` to use; otherwise one is built from the params' timeout and retry
      settings, on ``transport`` when given (default: ``AiohttpTransport``, whose C parser
      reads the ~40 MB of a full screen for a fraction of httpx's own CPU), and closed
      afterwards.
    Raises ExchangeError (TransportError, RateLimitError, ...) when the listing fails.
    """
    started = time.perf_counter()
    crit = Criteria.build(params, now or datetime.now(UTC))
    async with _client(params, http, transport, rng) as client:
        listing = _listing(client, gamma_url, progress)
        return await _screen(client, crit, listing, (gamma_url, clob_url), progress, started)


async def screen_market_async(
    params: FilterParams,
    market_id: str,
    *,
    gamma_url: str = PRODUCTION_GAMMA_URL,
    clob_url: str = PRODUCTION_CLOB_URL,
    now: datetime | None = None,
    http: JsonHttp | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ScreenResult:
    """Screen one market (a new listing, by Gamma id) through every criterion of a full screen.

    ``GET {gamma_url}/markets/{market_id}``, then the same parsing, criteria, books and side
    choice; ``one_per_event`` and ``max_topics`` only see this one market. The result has one
    topic or none (``rejections`` says why). Raises ExchangeError when Gamma cannot answer.
    """
    started = time.perf_counter()
    crit = Criteria.build(params, now or datetime.now(UTC))
    async with _client(params, http, transport, None) as client:
        one = _one_market(client, gamma_url, market_id)
        return await _screen(client, crit, one, (gamma_url, clob_url), None, started)


@contextlib.asynccontextmanager
async def _client(
    params: FilterParams,
    http: JsonHttp | None,
    transport: httpx.AsyncBaseTransport | None,
    rng: random.Random | None,
) -> AsyncIterator[JsonHttp]:
    """``http`` as given, or one built from the params (and closed after the block)."""
    if http is not None:
        yield http
        return
    connections = params.books_concurrency + params.listing_windows
    client = JsonHttp(
        timeout_s=params.timeout_s,
        policy=RetryPolicy(params.retries, params.backoff_base_s, params.backoff_max_s),
        rng=rng,
        transport=transport or AiohttpTransport(max_connections=connections),
        max_connections=connections,
    )
    try:
        yield client
    finally:
        await client.aclose()


def screen(
    params: FilterParams,
    *,
    gamma_url: str = PRODUCTION_GAMMA_URL,
    clob_url: str = PRODUCTION_CLOB_URL,
    now: datetime | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    rng: random.Random | None = None,
    progress: Progress | None = None,
) -> ScreenResult:
    """``screen_async`` for callers without an event loop (runs its own with asyncio.run)."""
    return asyncio.run(
        screen_async(
            params,
            gamma_url=gamma_url,
            clob_url=clob_url,
            now=now,
            transport=transport,
            rng=rng,
            progress=progress,
        )
    )


class _Pipeline:
    """Parses and early-filters listing pages as they arrive and queues their books."""

    def __init__(self, crit: Criteria, books: BookFetcher | None) -> None:
        self.crit = crit
        self.books = books
        self.both = crit.params.books_both_tokens
        self.survivors: list[Candidate] = []
        self.rejections: list[Rejection] = []
        self.tokens_requested = 0

    def on_rows(self, rows: list[Row]) -> None:
        tokens: list[str] = []
        for row in rows:
            parsed = parse_market(row)
            if isinstance(parsed, Rejection):
                self.rejections.append(parsed)
                continue
            failed = early_reason(parsed, self.crit)
            if failed is not None:
                self.rejections.append(Rejection(parsed.market_id, parsed.slug, *failed))
                continue
            self.survivors.append(parsed)
            tokens.append(parsed.yes_token)
            if self.both:
                tokens.append(parsed.no_token)
        if self.books is not None and tokens:
            self.tokens_requested += len(tokens)
            self.books.submit(tokens)

    def quotes(self, c: Candidate, books: Books | None) -> tuple[Quote, Quote] | Reason:
        """Both sides' quotes: Gamma's snapshot, or the books (NO mirrored from YES unless
        books_both_tokens)."""
        if books is None:
            return gamma_quotes(c)
        needed = (c.yes_token, c.no_token) if self.both else (c.yes_token,)
        if any(token in books.unavailable for token in needed):
            return Reason.BOOKS_UNAVAILABLE
        yes = books.quotes.get(c.yes_token, EMPTY_QUOTE)
        no = books.quotes.get(c.no_token, EMPTY_QUOTE) if self.both else mirror_quote(yes)
        return yes, no


# Fills the pipeline with market rows; answers (listing source, pages, unique markets).
_Source = Callable[["_Pipeline"], Awaitable[tuple[str, int, int]]]


def _listing(http: JsonHttp, gamma_url: str, progress: Progress | None) -> _Source:
    """The whole end-date window from Gamma's listing (a full screen)."""

    async def fill(pipe: _Pipeline) -> tuple[str, int, int]:
        params = pipe.crit.params
        fetcher = ListingFetcher(
            http,
            gamma_url,
            page_size=params.page_size,
            windows=params.listing_windows,
            progress=progress,
            on_rows=pipe.on_rows,
        )
        listing = await fetcher.fetch(*pipe.crit.window)
        return listing.source, listing.pages, listing.total

    return fill


def _one_market(http: JsonHttp, gamma_url: str, market_id: str) -> _Source:
    """One market object from ``GET /markets/{id}`` (a new listing)."""

    async def fill(pipe: _Pipeline) -> tuple[str, int, int]:
        url = f"{gamma_url.rstrip('/')}/markets/{market_id}"
        pipe.on_rows([await http.get_json(url, decode=decode_row)])
        return "market", 1, 1

    return fill


async def _fetch(
    http: JsonHttp, crit: Criteria, source: _Source, clob_url: str, progress: Progress | None
) -> tuple[_Pipeline, tuple[str, int, int], Books | None]:
    params = crit.params
    books_fetcher = None
    if not params.use_gamma_quotes:
        books_fetcher = BookFetcher(
            http,
            clob_url,
            batch_size=params.books_batch_size,
            concurrency=params.books_concurrency,
            progress=progress,
        )
    pipe = _Pipeline(crit, books_fetcher)
    try:
        listing = await source(pipe)
        books = None if books_fetcher is None else await books_fetcher.wait()
    finally:
        if books_fetcher is not None:
            await books_fetcher.aclose()
    return pipe, listing, books


async def _screen(
    http: JsonHttp,
    crit: Criteria,
    source: _Source,
    urls: tuple[str, str],
    progress: Progress | None,
    started: float,
) -> ScreenResult:
    """Fill the pipeline from ``source``, then books, side choice, event pick and cap."""
    gamma_url, clob_url = urls
    params = crit.params
    pipe, (listing_source, pages, total), books = await _fetch(
        http, crit, source, clob_url, progress
    )
    quoted: Literal["books", "gamma"] = "gamma" if books is None else "books"
    topics: list[Topic] = []
    for c in pipe.survivors:
        quotes = pipe.quotes(c, books)
        side = quotes if isinstance(quotes, Reason) else choose_side(*quotes, params)
        if isinstance(side, Reason):
            detail = "" if isinstance(quotes, Reason) else _quote_detail(*quotes)
            pipe.rejections.append(Rejection(c.market_id, c.slug, side, detail))
        else:
            assert not isinstance(quotes, Reason)
            topics.append(Topic(c, side, quotes[0], quotes[1], quoted))
    topics, same_event = pick_per_event(topics, params)
    topics, over = rank_and_cap(topics, params)
    rejections = pipe.rejections + same_event + over
    stats = ScreenStats(
        listing_source=listing_source,
        pages=pages,
        books_requested=pipe.tokens_requested,
        books_batches=0 if books is None else books.batches,
        books_failed_batches=0 if books is None else books.failed_batches,
        bad_books=0 if books is None else books.bad_entries,
        elapsed_s=round(time.perf_counter() - started, 3),
    )
    return ScreenResult(
        generated_at=crit.now,
        params=params,
        gamma_url=gamma_url,
        clob_url=clob_url,
        total_markets=total,
        topics=tuple(topics),
        rejections=tuple(rejections),
        stats=stats,
        rejected=_count(rejections),
    )


def _quote_detail(yes: Quote, no: Quote) -> str:
    return f"yes {yes.bid}/{yes.ask} no {no.bid}/{no.ask}"


def _count(rejections: list[Rejection]) -> dict[str, int]:
    counts = Counter(r.reason.value for r in rejections)
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


__all__ = ["ScreenResult", "ScreenStats", "screen", "screen_async", "screen_market_async"]
