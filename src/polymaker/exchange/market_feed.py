"""Market data for one worker: market-channel WebSocket + REST ``/book`` resync -> typed events.

Usage (the worker)::

    async with MarketFeed(urls.ws_market_url, urls.clob_url, [yes_token, no_token]) as feed:
        async for update in feed:
            match update:
                case BookUpdated(): ...        # new top of book (and top levels) of one token
                case BookInvalidated(): ...    # stop trusting that token's book
                case TickSizeChange(): ...     # requote on the new grid; book rebuilt soon
                case LastTradePrice(): ...
                case MarketResolved(): ...
                case FeedStatus(): ...         # connected / disconnected (books dropped) / stale

Books are rebuilt from the WS ``book`` snapshot, or from ``GET {clob_url}/book?token_id=`` when
a book is still missing ``missing_grace_s`` after (re)subscribing or after it became invalid,
or when a valid book had no update for ``book_stale_s`` (a quiet market is normal: the re-read
only refreshes it and never marks the feed unhealthy). ``best_bid_ask`` and ``new_market`` events
are parsed and not forwarded (the local book is the top of book; discovery is the screener's).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx
import orjson

from polymaker.errors import ExchangeError
from polymaker.exchange._ws import (
    Clock,
    EventStream,
    FeedState,
    FeedStatus,
    KeepaliveSettings,
    Send,
    run_keepalive_loop,
)
from polymaker.exchange.http import JsonHttp
from polymaker.exchange.local_book import LocalBook, TopOfBook
from polymaker.exchange.retry import RetryPolicy
from polymaker.exchange.wire import (
    LastTradePrice,
    MarketResolved,
    OrderBookSnapshot,
    PriceChange,
    PriceLevel,
    Side,
    TickSizeChange,
    UnparsedEvent,
    decode_market_frame,
    parse_book,
)

log = logging.getLogger(__name__)

_Changed = dict[str, None]  # tokens whose book changed in this frame, in order


@dataclass(frozen=True)
class MarketFeedSettings:
    """Tuning of a market feed.

    keepalive: PING/PONG and reconnect policy.
    book_stale_s: a valid book without any update for this long is re-read over REST.
    missing_grace_s: a book still missing/invalid this long after (re)subscribe or after it
        was invalidated is fetched over REST (the WS usually sends a snapshot first).
    resync_min_interval_s: at most one REST read per token per interval.
    check_interval_s: period of the staleness check (the only timer of an idle feed).
    depth: levels per side carried in each BookUpdated.
    rest_timeout_s: timeout of one REST ``/book`` request.
    custom_feature_enabled: ask for ``best_bid_ask``/``new_market``/``market_resolved``.
    operation_quiet_s: a venue operation that still disagrees with the venue's reported top at
        the end of a frame may go on in the next frames; after this long without another entry
        for that token it is judged as finished (local_book.py explains operations).
    """

    keepalive: KeepaliveSettings = field(default_factory=KeepaliveSettings)
    book_stale_s: float = 60.0
    missing_grace_s: float = 5.0
    resync_min_interval_s: float = 5.0
    check_interval_s: float = 1.0
    depth: int = 5
    rest_timeout_s: float = 5.0
    custom_feature_enabled: bool = True
    operation_quiet_s: float = 0.25


@dataclass(frozen=True, slots=True)
class BookUpdated:
    """A token's book is valid and changed; ``bids``/``asks`` are the best levels, best first.

    source: ``ws`` (snapshot or delta) or ``rest`` (resync). received_at: monotonic seconds.
    """

    asset_id: str
    top: TopOfBook
    bids: tuple[PriceLevel, ...]
    asks: tuple[PriceLevel, ...]
    source: str
    received_at: float


@dataclass(frozen=True, slots=True)
class BookInvalidated:
    """A token's book can no longer be trusted (crossed, diverged); a resync follows."""

    asset_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class FeedStats:
    """Counters for the worker's status file."""

    connections: int
    unparsed: int
    unparsed_by_tag: dict[str, int]
    crossed: int
    diverged: int
    resyncs: int
    resync_failures: int


MarketUpdate = (
    BookUpdated | BookInvalidated | TickSizeChange | LastTradePrice | MarketResolved | FeedStatus
)


async def fetch_book(http: JsonHttp, clob_url: str, token_id: str) -> OrderBookSnapshot:
    """``GET {clob_url}/book?token_id=``; raises the project's ExchangeError types."""
    return parse_book(await http.get_json(f"{clob_url}/book", {"token_id": token_id}))


class MarketFeed(EventStream[MarketUpdate]):
    """Local books of ``asset_ids`` kept from the market channel; iterate for updates.

    http_client: used for REST resyncs and not closed here (default: one of our own, closed
    when the ``async with`` ends). rng/clock: injected for deterministic tests.
    Events are queued without bound: the consumer must keep iterating.
    """

    def __init__(
        self,
        ws_url: str,
        clob_url: str,
        asset_ids: Sequence[str],
        *,
        settings: MarketFeedSettings | None = None,
        http_client: httpx.AsyncClient | None = None,
        rng: random.Random | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        super().__init__()
        self._ws_url = ws_url
        self._clob_url = clob_url.rstrip("/")
        self._settings = settings or MarketFeedSettings()
        # No retries inside one resync: the check loop tries again after resync_min_interval_s.
        self._http = JsonHttp(
            timeout_s=self._settings.rest_timeout_s,
            policy=RetryPolicy(retries=0),
            client=http_client,
        )
        self._rng = rng or random.Random()
        self._clock = clock
        self._books = {asset_id: LocalBook(asset_id) for asset_id in dict.fromkeys(asset_ids)}
        self._invalid_since: dict[str, float] = {}
        self._last_resync: dict[str, float] = {}
        self._connected = False
        self._down_reported = False
        self._connection = 0
        self._unparsed: Counter[str] = Counter()
        self._resyncs = 0
        self._resync_failures = 0

    def book(self, asset_id: str) -> LocalBook:
        """The local book of a subscribed token (read it, do not mutate it)."""
        return self._books[asset_id]

    @property
    def stats(self) -> FeedStats:
        """Current counters."""
        return FeedStats(
            connections=self._connection,
            unparsed=sum(self._unparsed.values()),
            unparsed_by_tag=dict(self._unparsed),
            crossed=sum(book.crossed_count for book in self._books.values()),
            diverged=sum(book.diverged_count for book in self._books.values()),
            resyncs=self._resyncs,
            resync_failures=self._resync_failures,
        )

    async def _run(self) -> None:
        # A TaskGroup so that a bug in the checker surfaces to the consumer instead of dying
        # unnoticed in a detached task.
        async with asyncio.TaskGroup() as group:
            group.create_task(self._check_loop())
            group.create_task(
                run_keepalive_loop(
                    self._ws_url, self._settings.keepalive, self, self._rng, self._clock
                )
            )

    async def _aclose(self) -> None:
        await self._http.aclose()

    # SessionHandler ---------------------------------------------------------------------

    async def on_open(self, send: Send, connection: int) -> None:
        """Subscribe to every token; all books start invalid until their snapshot."""
        frame = {
            "type": "market",
            "assets_ids": list(self._books),
            "custom_feature_enabled": self._settings.custom_feature_enabled,
        }
        await send(orjson.dumps(frame).decode())
        now = self._clock()
        self._connected = True
        self._down_reported = False
        self._connection = connection
        for asset_id in self._books:
            self._invalid_since[asset_id] = now
        self._emit(FeedStatus(FeedState.CONNECTED, "subscribed", connection))

    def on_close(self, reason: str) -> None:
        """Drop every book: the channel does not replay what was missed."""
        for book in self._books.values():
            book.invalidate(f"reconnect: {reason}")
        if not self._down_reported:
            self._emit(FeedStatus(FeedState.DISCONNECTED, reason, self._connection))
        self._down_reported = True
        self._connected = False

    def on_frame(self, data: str | bytes) -> None:
        """Apply every event of one frame; one BookUpdated per changed token per frame.

        Runs on the event loop (the WebSocket reader calls it): an operation still pending at
        the end of the frame gets a quiet-time timer there.
        """
        now = self._clock()
        changed: _Changed = {}
        for event in decode_market_frame(data):
            match event:
                case OrderBookSnapshot():
                    self._on_snapshot(event, now, changed)
                case PriceChange():
                    self._on_price_change(event, now, changed)
                case TickSizeChange():
                    self._on_tick_size_change(event, now, changed)
                case LastTradePrice():
                    if event.asset_id in self._books:
                        self._emit(event)
                case MarketResolved():
                    if not event.asset_ids or not self._books.keys().isdisjoint(event.asset_ids):
                        self._emit(event)
                case UnparsedEvent():
                    self._count_unparsed(event)
                case _:
                    pass  # best_bid_ask / new_market: parsed, deliberately not forwarded
        for asset_id in changed:
            book = self._books[asset_id]
            if book.settle_if_consistent():
                self._emit_book(asset_id, "ws", now)
            else:
                self._schedule_settle(book)

    # Event handling -----------------------------------------------------------------------

    def _on_snapshot(self, snapshot: OrderBookSnapshot, now: float, changed: _Changed) -> None:
        book = self._books.get(snapshot.asset_id)
        if book is None:
            return
        book.apply_snapshot(snapshot, now)
        self._after_change(book, now, changed)

    def _on_price_change(self, event: PriceChange, now: float, changed: _Changed) -> None:
        for change in event.changes:
            book = self._books.get(change.asset_id)
            if book is None or not book.is_valid:
                continue
            book.apply_change(change, event.timestamp_ms, now)
            self._after_change(book, now, changed)

    def _schedule_settle(self, book: LocalBook) -> None:
        """Judge the pending operation after a quiet time, unless more entries come first."""
        entries = book.entries
        asyncio.get_running_loop().call_later(
            self._settings.operation_quiet_s, self._settle_after_quiet, book, entries
        )

    def _settle_after_quiet(self, book: LocalBook, entries: int) -> None:
        if not book.pending or book.entries != entries:
            return  # settled meanwhile, or more entries came (they scheduled their own timer)
        now = self._clock()
        book.settle()
        changed: _Changed = {}
        self._after_change(book, now, changed)
        if changed:
            self._emit_book(book.asset_id, "ws", now)

    def _on_tick_size_change(self, event: TickSizeChange, now: float, changed: _Changed) -> None:
        book = self._books.get(event.asset_id)
        if book is None:
            return
        book.invalidate(f"tick size {event.old_tick_size} -> {event.new_tick_size}")
        book.tick_size = event.new_tick_size
        self._invalid_since[event.asset_id] = now
        changed.pop(event.asset_id, None)
        self._emit(event)

    def _after_change(self, book: LocalBook, now: float, changed: _Changed) -> None:
        if book.is_valid:
            self._invalid_since.pop(book.asset_id, None)
            changed[book.asset_id] = None
            return
        changed.pop(book.asset_id, None)
        self._invalid_since[book.asset_id] = now
        log.warning("book %s invalid: %s", book.asset_id, book.invalid_reason)
        self._emit(BookInvalidated(book.asset_id, book.invalid_reason or "invalid"))

    def _emit_book(self, asset_id: str, source: str, now: float) -> None:
        book = self._books[asset_id]
        top = book.top()
        if top is None:
            return
        depth = self._settings.depth
        bids, asks = book.levels(Side.BUY, depth), book.levels(Side.SELL, depth)
        self._emit(BookUpdated(asset_id, top, bids, asks, source, now))

    def _count_unparsed(self, event: UnparsedEvent) -> None:
        tag = event.tag or "<none>"
        self._unparsed[tag] += 1
        level = logging.WARNING if self._unparsed[tag] == 1 else logging.DEBUG
        log.log(
            level,
            "unparsed market event %s: %s (%d so far)",
            tag,
            event.reason,
            self._unparsed[tag],
        )

    # REST resync --------------------------------------------------------------------------

    async def _check_loop(self) -> None:
        """Periodic staleness check; resyncs run one at a time (no burst on the REST API)."""
        while True:
            await asyncio.sleep(self._settings.check_interval_s)
            if not self._connected:
                continue
            for asset_id in self._due_for_resync(self._clock()):
                await self._resync(asset_id)

    def _due_for_resync(self, now: float) -> list[str]:
        settings = self._settings
        due = []
        for asset_id, book in self._books.items():
            if now - self._last_resync.get(asset_id, -1e18) < settings.resync_min_interval_s:
                continue
            if book.is_valid:
                updated_at = book.updated_at if book.updated_at is not None else now
                if now - updated_at >= settings.book_stale_s:
                    due.append(asset_id)
            elif now - self._invalid_since.get(asset_id, now) >= settings.missing_grace_s:
                due.append(asset_id)
        return due

    async def _resync(self, asset_id: str) -> None:
        book = self._books[asset_id]
        connection = self._connection
        self._last_resync[asset_id] = self._clock()
        try:
            snapshot = await fetch_book(self._http, self._clob_url, asset_id)
        except ExchangeError as error:
            self._resync_failures += 1
            log.warning("REST resync of %s failed: %s", asset_id, error)
            if not book.is_valid:
                reason = f"book {asset_id} unavailable: {error}"
                self._emit(FeedStatus(FeedState.STALE, reason, self._connection))
            return
        if not self._connected or connection != self._connection:
            return  # the connection changed while we waited: the answer predates it
        local_ms = book.timestamp_ms if book.is_valid else None
        if local_ms is not None and snapshot.timestamp_ms <= local_ms:
            book.updated_at = self._clock()  # confirmed current; nothing newer on REST
            return
        self._resyncs += 1
        now = self._clock()
        changed: _Changed = {}
        self._on_snapshot(snapshot, now, changed)
        for changed_id in changed:
            self._emit_book(changed_id, "rest", now)


__all__ = [
    "BookInvalidated",
    "BookUpdated",
    "FeedState",
    "FeedStats",
    "FeedStatus",
    "KeepaliveSettings",
    "LastTradePrice",
    "MarketFeed",
    "MarketFeedSettings",
    "MarketResolved",
    "MarketUpdate",
    "PriceLevel",
    "TickSizeChange",
    "TopOfBook",
    "fetch_book",
]
