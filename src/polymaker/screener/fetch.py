"""Fetching for the screener: the Gamma listing and the CLOB order books, concurrently.

Listing: ``GET /markets/keyset`` paged on ``next_cursor`` (never on page length: the venue
clamps page sizes silently). One cursor chain is sequential by nature, so the end-date window
is split into sub-windows, each with its own chain, fetched at once and de-duplicated by id.
Only when the keyset route is missing (404/405/410) does it fall back to the legacy offset
listing, which also splits the window when the offset gets deep. A listing that fails after
retries raises: an outage must never look like "no markets".

Books: ``POST /books`` in batches, a bounded number in flight. A batch that still fails marks
only its tokens as unavailable; the screen goes on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, TypeVar

from polymaker.errors import ExchangeError, RequestRejectedError, UnexpectedResponseError
from polymaker.exchange.http import JsonHttp
from polymaker.screener.model import Quote, Rejection
from polymaker.screener.quotes import book_quote
from polymaker.screener.wire import (
    BooksAnswer,
    Row,
    decode_books,
    decode_keyset_page,
    decode_offset_page,
)

log = logging.getLogger(__name__)

KEYSET_MISSING_STATUSES = frozenset({404, 405, 410})
OFFSET_SPLIT_AT = 2000  # deep offsets hit a wall on Gamma (polymarket_api.md 2.2)
T = TypeVar("T")


class Progress(Protocol):
    """Receives fetch progress: ``stage`` is "listing" (pages) or "books" (batches)."""

    def advance(self, stage: str, amount: int = 1, total: int | None = None) -> None: ...


@dataclass(frozen=True)
class Listing:
    """The unique market rows in the window, and how they were fetched.

    rows: kept only when no ``on_rows`` consumer was given (a consumer already had them, and
    holding thousands of decoded rows would double the screen's memory).
    """

    rows: list[Row]
    total: int
    pages: int
    source: str  # "keyset" or "offset"


@dataclass(frozen=True)
class Books:
    """Top of book per token id; ``unavailable`` holds the tokens whose batch failed."""

    quotes: dict[str, Quote]
    unavailable: frozenset[str]
    bad_entries: int
    batches: int
    failed_batches: int


class _KeysetMissing(Exception):
    pass


def iso_z(when: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` in UTC, the form Gamma's date filters take."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def split_window(start: datetime, end: datetime, parts: int) -> list[tuple[datetime, datetime]]:
    """``parts`` consecutive sub-windows covering [start, end]; shared bounds are de-duplicated."""
    if parts < 1 or end < start:
        raise ValueError("need parts >= 1 and end >= start")
    step = (end - start) / parts
    bounds = [start + step * i for i in range(parts)] + [end]
    return [(bounds[i], bounds[i + 1]) for i in range(parts)]


async def gather_all(coros: Iterable[Awaitable[T]]) -> list[T]:
    """Run all at once; the first failure cancels the rest and is raised as itself."""
    tasks: list[asyncio.Task[T]] = []
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(_as_coroutine(c)) for c in coros]
    except BaseExceptionGroup as group_error:
        raise _first_cause(group_error) from None
    return [task.result() for task in tasks]


async def _as_coroutine(awaitable: Awaitable[T]) -> T:
    return await awaitable


def _first_cause(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """Prefer a "keyset missing" signal, then any exchange error, then whatever came first."""
    flat: list[BaseException] = []
    pending: list[BaseException] = [group]
    while pending:
        item = pending.pop(0)
        if isinstance(item, BaseExceptionGroup):
            pending.extend(item.exceptions)
        else:
            flat.append(item)
    for kind in (_KeysetMissing, ExchangeError):
        for error in flat:
            if isinstance(error, kind):
                return error
    return flat[0]


class ListingFetcher:
    """Pages through Gamma for one end-date window (see the module docstring)."""

    def __init__(
        self,
        http: JsonHttp,
        gamma_url: str,
        *,
        page_size: int,
        windows: int,
        progress: Progress | None = None,
        on_rows: Callable[[list[Row]], None] | None = None,
    ) -> None:
        self._http = http
        self._base = gamma_url.rstrip("/")
        self._page_size = page_size
        self._windows = windows
        self._progress = progress
        self._on_rows = on_rows
        self._pages = 0
        self._rows: list[Row] = []
        self._total = 0
        self._ids: set[str] = set()

    async def fetch(self, start: datetime, end: datetime) -> Listing:
        """All rows with an end date in [start, end], unique by id (first seen wins).

        ``on_rows`` (if given) also receives each page's new rows as soon as it arrives, so
        the caller can parse them and request their books while the listing continues.
        """
        parts = split_window(start, end, self._windows)
        try:
            await gather_all(self._keyset_chain(a, b) for a, b in parts)
            source = "keyset"
        except _KeysetMissing:
            log.warning("%s/markets/keyset is not served; using the offset listing", self._base)
            await gather_all(self._offset_chain(a, b) for a, b in parts)
            source = "offset"
        return Listing(self._rows, self._total, self._pages, source)

    def _deliver(self, page: list[Row]) -> None:
        """Keep the rows not seen before (by Gamma id; rows without an id are kept for parse
        to reject) and hand them on."""
        fresh: list[Row] = []
        for row in page:
            key = row.market_id if isinstance(row, Rejection) else row.id
            if key is not None and key != "":
                if str(key) in self._ids:
                    continue
                self._ids.add(str(key))
            fresh.append(row)
        self._total += len(fresh)
        if self._on_rows is None:
            self._rows.extend(fresh)
        elif fresh:
            self._on_rows(fresh)

    def _base_query(self, start: datetime, end: datetime) -> dict[str, str | int]:
        return {
            "limit": self._page_size,
            "active": "true",
            "closed": "false",
            "end_date_min": iso_z(start),
            "end_date_max": iso_z(end),
        }

    def _page_done(self) -> None:
        self._pages += 1
        if self._progress is not None:
            self._progress.advance("listing")

    async def _keyset_chain(self, start: datetime, end: datetime) -> None:
        url = f"{self._base}/markets/keyset"
        query: dict[str, str | int] = self._base_query(start, end)
        seen: set[str] = set()
        first = True
        while True:
            try:
                page = await self._http.get_json(url, query, decode=decode_keyset_page)
            except RequestRejectedError as error:
                if first and error.status in KEYSET_MISSING_STATUSES:
                    raise _KeysetMissing from error
                raise
            first = False
            self._page_done()
            self._deliver(page.rows)
            cursor = page.next_cursor
            if cursor is None or cursor == "":
                return
            if not isinstance(cursor, str) or cursor in seen:
                raise UnexpectedResponseError(f"{url}: next_cursor {cursor!r} does not advance")
            seen.add(cursor)
            query = {**query, "after_cursor": cursor}

    async def _offset_chain(self, start: datetime, end: datetime) -> None:
        """Legacy ``GET /markets`` by offset, sorted by end date; restarts the window deeper
        than OFFSET_SPLIT_AT at the last row's end date (inclusive: same-second rows are kept)."""
        url = f"{self._base}/markets"
        offset = 0
        while True:
            query = {**self._base_query(start, end), "offset": offset}
            query.update(order="endDate", ascending="true")
            page = await self._http.get_json(url, query, decode=decode_offset_page)
            self._page_done()
            self._deliver(page)
            if len(page) < self._page_size:
                return
            offset += len(page)
            restart = _last_end(page)
            if offset >= OFFSET_SPLIT_AT and restart is not None and restart > start:
                start, offset = restart, 0


def _last_end(page: Sequence[Row]) -> datetime | None:
    last = page[-1] if page else None
    text = None if last is None or isinstance(last, Rejection) else last.endDate
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


class BookFetcher:
    """``POST /books`` batches submitted while the listing runs, at most ``concurrency`` at once.

    A batch that fails after retries marks its tokens unavailable and the screen goes on; a
    bug (any other exception) surfaces from ``wait``.
    """

    def __init__(
        self,
        http: JsonHttp,
        clob_url: str,
        *,
        batch_size: int,
        concurrency: int,
        progress: Progress | None = None,
    ) -> None:
        self._http = http
        self._url = f"{clob_url.rstrip('/')}/books"
        self._batch_size = batch_size
        self._gate = asyncio.Semaphore(concurrency)
        self._progress = progress
        self._pending: list[str] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._quotes: dict[str, Quote] = {}
        self._unavailable: set[str] = set()
        self._bad = 0
        self._failed = 0

    def submit(self, tokens: Iterable[str]) -> None:
        """Queue tokens; every full batch is sent right away (must run inside the loop)."""
        self._pending.extend(tokens)
        while len(self._pending) >= self._batch_size:
            self._launch(self._pending[: self._batch_size])
            del self._pending[: self._batch_size]

    async def wait(self) -> Books:
        """Send the last partial batch and wait for every batch."""
        if self._pending:
            self._launch(self._pending)
            self._pending = []
        try:
            await asyncio.gather(*self._tasks)
        finally:
            await self.aclose()
        return Books(
            self._quotes, frozenset(self._unavailable), self._bad, len(self._tasks), self._failed
        )

    async def aclose(self) -> None:
        """Stop the batches still in flight (the screen failed elsewhere) and wait for them."""
        pending = [task for task in self._tasks if not task.done()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def _launch(self, batch: list[str]) -> None:
        self._tasks.append(asyncio.get_running_loop().create_task(self._one(batch)))

    async def _one(self, batch: list[str]) -> None:
        async with self._gate:
            try:
                body = [{"token_id": t} for t in batch]
                answer = await self._http.post_json(self._url, body, decode=decode_books)
            except ExchangeError as error:
                log.warning("books batch of %d tokens unavailable: %s", len(batch), error)
                self._unavailable.update(batch)
                self._failed += 1
            else:
                self._bad += _store_books(answer, self._quotes)
        if self._progress is not None:
            self._progress.advance("books", 1, None)


async def fetch_books(
    http: JsonHttp,
    clob_url: str,
    token_ids: Sequence[str],
    *,
    batch_size: int,
    concurrency: int,
    progress: Progress | None = None,
) -> Books:
    """Top of book for each token via ``POST /books`` (all tokens known up front)."""
    fetcher = BookFetcher(
        http, clob_url, batch_size=batch_size, concurrency=concurrency, progress=progress
    )
    fetcher.submit(token_ids)
    return await fetcher.wait()


def _store_books(answer: BooksAnswer, quotes: dict[str, Quote]) -> int:
    """Keep each readable book's quote; log and count the others (never traded on)."""
    for problem in answer.bad:
        log.warning("unreadable book skipped: %s", problem)
    bad = len(answer.bad)
    for entry in answer.entries:
        try:
            token, quote = book_quote(entry)
        except ValueError as error:
            log.warning("unreadable book skipped: %s", error)
            bad += 1
            continue
        quotes[token] = quote
    return bad


__all__ = [
    "BookFetcher",
    "Books",
    "Listing",
    "ListingFetcher",
    "Progress",
    "fetch_books",
    "gather_all",
    "iso_z",
    "split_window",
]
