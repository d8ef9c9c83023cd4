"""One screen: listing -> parse -> early criteria -> books -> side choice -> event pick -> cap.

This is the library entry the supervisor calls (``screen`` / ``screen_async``). It raises
``ExchangeError`` when the listing cannot be fetched after retries, so the caller can tell an
outage from an empty result; it never writes files (``output.write_result`` does).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import httpx

from polymaker.config.filter import FilterParams
from polymaker.exchange.http import JsonHttp
from polymaker.exchange.retry import RetryPolicy
from polymaker.exchange.urls import PRODUCTION_CLOB_URL, PRODUCTION_GAMMA_URL
from polymaker.screener.criteria import (
    Criteria,
    choose_side,
    early_reason,
    gamma_quotes,
    pick_per_event,
    rank_and_cap,
)
from polymaker.screener.fetch import Books, ListingFetcher, Progress, fetch_books
from polymaker.screener.model import EMPTY_QUOTE, Candidate, Quote, Reason, Rejection, Topic
from polymaker.screener.parse import parse_market


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


@dataclass(frozen=True)
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
      settings (on ``transport`` when given) and closed afterwards.
    Raises ExchangeError (TransportError, RateLimitError, ...) when the listing fails.
    """
    started = time.perf_counter()
    when = now or datetime.now(UTC)
    crit = Criteria.build(params, when)
    own = http is None
    client = http or JsonHttp(
        timeout_s=params.timeout_s,
        policy=RetryPolicy(params.retries, params.backoff_base_s, params.backoff_max_s),
        rng=rng,
        transport=transport,
        max_connections=max(params.books_concurrency, params.listing_windows) + 2,
    )
    try:
        return await _screen(client, crit, gamma_url, clob_url, progress, started)
    finally:
        if own:
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


async def _screen(
    http: JsonHttp,
    crit: Criteria,
    gamma_url: str,
    clob_url: str,
    progress: Progress | None,
    started: float,
) -> ScreenResult:
    params = crit.params
    fetcher = ListingFetcher(
        http,
        gamma_url,
        page_size=params.page_size,
        windows=params.listing_windows,
        progress=progress,
    )
    listing = await fetcher.fetch(*crit.window)
    rejections: list[Rejection] = []
    survivors: list[Candidate] = []
    for row in listing.rows:
        parsed = parse_market(row)
        if isinstance(parsed, Rejection):
            rejections.append(parsed)
            continue
        failed = early_reason(parsed, crit)
        if failed is None:
            survivors.append(parsed)
        else:
            rejections.append(Rejection(parsed.market_id, parsed.slug, *failed))
    books: Books | None = None
    if params.use_gamma_quotes:
        topics = _choose_from_gamma(survivors, params, rejections)
    else:
        tokens = [t for c in survivors for t in (c.yes_token, c.no_token)]
        books = await fetch_books(
            http,
            clob_url,
            tokens,
            batch_size=params.books_batch_size,
            concurrency=params.books_concurrency,
            progress=progress,
        )
        topics = _choose_from_books(survivors, books, params, rejections)
    topics, same_event = pick_per_event(topics, params)
    topics, over = rank_and_cap(topics, params)
    rejections.extend(same_event)
    rejections.extend(over)
    stats = ScreenStats(
        listing_source=listing.source,
        pages=listing.pages,
        books_requested=0 if books is None else 2 * len(survivors),
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
        total_markets=len(listing.rows),
        topics=tuple(topics),
        rejections=tuple(rejections),
        stats=stats,
        rejected=_count(rejections),
    )


def _choose_from_books(
    survivors: list[Candidate], books: Books, params: FilterParams, out: list[Rejection]
) -> list[Topic]:
    topics: list[Topic] = []
    for c in survivors:
        if c.yes_token in books.unavailable or c.no_token in books.unavailable:
            out.append(Rejection(c.market_id, c.slug, Reason.BOOKS_UNAVAILABLE))
            continue
        yes = books.quotes.get(c.yes_token, EMPTY_QUOTE)
        no = books.quotes.get(c.no_token, EMPTY_QUOTE)
        _add_choice(c, yes, no, "books", params, topics, out)
    return topics


def _choose_from_gamma(
    survivors: list[Candidate], params: FilterParams, out: list[Rejection]
) -> list[Topic]:
    topics: list[Topic] = []
    for c in survivors:
        yes, no = gamma_quotes(c)
        _add_choice(c, yes, no, "gamma", params, topics, out)
    return topics


def _add_choice(
    c: Candidate,
    yes: Quote,
    no: Quote,
    source: Literal["books", "gamma"],
    params: FilterParams,
    topics: list[Topic],
    out: list[Rejection],
) -> None:
    side = choose_side(yes, no, params)
    if isinstance(side, Reason):
        detail = f"yes {yes.bid}/{yes.ask} no {no.bid}/{no.ask}"
        out.append(Rejection(c.market_id, c.slug, side, detail))
    else:
        topics.append(Topic(c, side, yes, no, source))


def _count(rejections: list[Rejection]) -> dict[str, int]:
    counts = Counter(r.reason.value for r in rejections)
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


__all__ = ["ScreenResult", "ScreenStats", "screen", "screen_async"]
