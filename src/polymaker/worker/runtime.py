"""One market's runtime: feeds -> strategy -> commands -> exchange, on one asyncio loop.

The gateway and the feeds come from the mode (``worker.venue``): real orders in drill and
live, simulated ones in paper; nothing below depends on which.

One task per concern: the market feed, the user feed, the timer (1 s ticks, book refresh,
periodic reconciliation), the status writer and the command executor. They all put events on
one queue; a single loop (:meth:`WorkerRuntime._strategy_loop`) is the only caller of the
strategy, so it needs no locking. Commands run one at a time, in order, on the executor task,
and their answers come back through the same queue, so a slow exchange call never delays a
stop request or a fill reaching the strategy.

SIGTERM/SIGINT become ``StopRequested`` (a second signal forces). The strategy then cancels
this market's orders and confirms with the exchange that none remain; a watchdog makes sure the
process exits within ``stop_timeout_s`` even if that does not complete. SIGUSR1 becomes
``FlattenRequested``: the strategy buys nothing more, sells the position at the exit price
(post-only, below the profit floor if need be) and finishes once flat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable, Coroutine
from typing import Any

import httpx

from polymaker.config.worker_params import WorkerParams
from polymaker.errors import ExchangeError, MarketNotTradable
from polymaker.exchange.gateway import OrderGateway
from polymaker.exchange.http import JsonHttp
from polymaker.exchange.market_feed import (
    BookUpdated,
    FeedState,
    FeedStatus,
    KeepaliveSettings,
    MarketFeed,
    MarketFeedSettings,
)
from polymaker.exchange.wire import Side as WireSide
from polymaker.strategy.commands import Command, Finish, PlaceOrder, ReconcileFills
from polymaker.strategy.events import (
    Event,
    FlattenRequested,
    OrderUpdate,
    StopRequested,
    Timer,
)
from polymaker.strategy.states import ExitReason
from polymaker.worker import translate
from polymaker.worker.executor import Executor
from polymaker.worker.gate import PlacementGate
from polymaker.worker.reconcile import Reconciler
from polymaker.worker.startup import adopted_position, check_tradable
from polymaker.worker.status import STATUS_INTERVAL_S, StatusSnapshot, StatusWriter, WorkerState
from polymaker.worker.strategy_link import StrategyLink
from polymaker.worker.venue import REST_TIMEOUT_S, UserStream, WorkerFeeds

log = logging.getLogger(__name__)

TIMER_INTERVAL_S = 0.5
RECONCILE_INTERVAL_S = 30.0
STATUS_MIN_INTERVAL_S = 0.1
WAIT_TICK_S = 0.25
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_NOT_TRADABLE = 3


def feed_settings_for(params: WorkerParams) -> MarketFeedSettings:
    """Market-feed tuning so that "connected" proves a frame arrived within ``stale_book_s``.

    The timer re-sends a quiet book as current only while the feed is connected; a connection
    that heard nothing (not even PONG) for ``pong_timeout_s`` is dropped, so that timeout must
    not exceed the strategy's staleness limit.
    """
    stale = params.strategy.stale_book_s
    keepalive = KeepaliveSettings(
        ping_interval_s=min(10.0, stale / 3), pong_timeout_s=min(30.0, stale)
    )
    return MarketFeedSettings(keepalive=keepalive)


def wall_ms() -> int:
    """Wall-clock epoch milliseconds (the strategy's time base: end_time is wall time)."""
    return time.time_ns() // 1_000_000


class WorkerRuntime:
    """Runs one market until the strategy finishes; :meth:`run` returns the exit code.

    trading: where orders go (``Trading``, or ``PaperGateway`` in paper mode). feeds: builds
    the market and user feeds that match it. http_client: REST reads (books, resyncs), owned
    by the caller.
    """

    def __init__(
        self,
        params: WorkerParams,
        trading: OrderGateway,
        feeds: WorkerFeeds,
        *,
        writer: StatusWriter,
        http_client: httpx.AsyncClient,
        feed_settings: MarketFeedSettings | None = None,
    ) -> None:
        self._params = params
        self._trading = trading
        self._feeds = feeds
        self._http_client = http_client
        self._writer = writer
        self._feed_settings = feed_settings or feed_settings_for(params)
        self.status = StatusSnapshot(
            topic_id=params.topic_id,
            mode=params.mode,
            condition_id=params.condition_id,
            token_id=params.token_id,
            side=params.side,
            tick_size=params.tick_size,
        )
        self._events: asyncio.Queue[Event] = asyncio.Queue()
        self._commands: asyncio.Queue[Command] = asyncio.Queue()
        self._finished: asyncio.Future[Finish] | None = None
        self._reconcile_queued = False
        self._stop_signals = 0
        self._stop_at: float | None = None
        self._feed: MarketFeed | None = None
        self._market_connected = False
        self._gate = PlacementGate()
        self._dirty = asyncio.Event()
        self._strategy = StrategyLink(params)

    # Tasks ----------------------------------------------------------------------------------

    def _request_reconcile(self) -> None:
        if not self._reconcile_queued:
            self._reconcile_queued = True
            self._commands.put_nowait(ReconcileFills())

    def _emit(self, events: list[Event]) -> None:
        for event in events:
            self._events.put_nowait(event)

    async def _market_task(self, feed: MarketFeed) -> None:
        params = self._params
        async for update in feed:
            if isinstance(update, FeedStatus):
                self._market_connected = update.state is FeedState.CONNECTED
                log.info("market feed %s: %s", update.state, update.reason)
                self.status.count(f"market_feed_{update.state}")
            elif isinstance(update, BookUpdated) and update.asset_id == params.token_id:
                self.status.best_bid = update.top.best_bid.price if update.top.best_bid else None
                self.status.best_ask = update.top.best_ask.price if update.top.best_ask else None
            self._emit(
                translate.market_events(
                    update,
                    token_id=params.token_id,
                    condition_id=params.condition_id,
                    ts_ms=wall_ms(),
                )
            )

    async def _user_task(self, feed: UserStream) -> None:
        params = self._params
        async for update in feed:
            if isinstance(update, FeedStatus):
                log.info("user feed %s: %s", update.state, update.reason)
                self.status.count(f"user_feed_{update.state}")
            if translate.needs_reconcile(update):
                self._request_reconcile()
            self._emit(
                translate.user_events(
                    update,
                    token_id=params.token_id,
                    condition_id=params.condition_id,
                    ts_ms=wall_ms(),
                )
            )

    async def _timer_task(self, feed: MarketFeed) -> None:
        """1 s-granularity time, a fresh copy of a healthy book, periodic reconciliation."""
        book_every_s = min(5.0, self._params.strategy.stale_book_s / 3)
        last_book = last_reconcile = time.monotonic()
        while True:
            await asyncio.sleep(TIMER_INTERVAL_S)
            now = time.monotonic()
            self._events.put_nowait(Timer(wall_ms()))
            if now - last_book >= book_every_s:
                last_book = now
                self._resend_book(feed)
            if now - last_reconcile >= RECONCILE_INTERVAL_S:
                last_reconcile = now
                self._request_reconcile()

    def _resend_book(self, feed: MarketFeed) -> None:
        """A quiet but connected market's book is still current: tell the strategy so."""
        if not self._market_connected:
            return
        book = feed.book(self._params.token_id)
        top = book.top()
        if top is None:
            return
        depth = self._feed_settings.depth
        update = BookUpdated(
            book.asset_id,
            top,
            book.levels(WireSide.BUY, depth),
            book.levels(WireSide.SELL, depth),
            "timer",
            time.monotonic(),
        )
        self._events.put_nowait(translate.book_update(update, wall_ms()))

    async def _status_task(self) -> None:
        """Rewrite the status file every STATUS_INTERVAL_S, and soon after any state change."""
        while True:
            self._write_status()
            self._dirty.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._dirty.wait(), STATUS_INTERVAL_S)
            await asyncio.sleep(STATUS_MIN_INTERVAL_S)

    def _write_status(self) -> None:
        self._strategy.fill_status(self.status, self._feed, self._executor_tracked())
        try:
            self._writer.write(self.status)
        except OSError as error:
            log.error("cannot write the status file %s: %s", self._writer.path, error)

    def _executor_tracked(self) -> int:
        return len(self._executor.tracked) if hasattr(self, "_executor") else 0

    async def _executor_task(self, executor: Executor) -> None:
        assert self._finished is not None
        while True:
            command = await self._commands.get()
            if isinstance(command, Finish):
                self._finished.set_result(command)
                return
            if isinstance(command, ReconcileFills):
                self._reconcile_queued = False
                self._emit(await executor.reconcile())
            else:
                self._emit(await executor.run(command))

    async def _strategy_loop(self) -> None:
        while True:
            event = await self._events.get()
            if isinstance(event, OrderUpdate) and not event.open:
                self._executor.tracked.discard(event.order_id)
            for ready in self._gate.admit(event):
                commands = self._strategy.handle(ready)
                if commands or self._strategy.changed():
                    self._dirty.set()
                for command in commands:
                    if isinstance(command, ReconcileFills):
                        self._request_reconcile()
                        continue
                    if isinstance(command, PlaceOrder):
                        self._gate.placing()
                    self._commands.put_nowait(command)

    # Stop -----------------------------------------------------------------------------------

    def _on_signal(self, signum: int) -> None:
        self._stop_signals += 1
        if self._stop_at is None:
            self._stop_at = time.monotonic()
        force = self._stop_signals > 1
        name = signal.Signals(signum).name
        log.info("%s received: stopping%s", name, " (forced)" if force else "")
        self.status.state = WorkerState.STOPPING
        self._events.put_nowait(StopRequested(wall_ms(), force=force))

    def _on_flatten_signal(self) -> None:
        log.info("SIGUSR1 received: flattening (no more buys; selling the position at the exit)")
        self._events.put_nowait(FlattenRequested(wall_ms()))

    async def _emergency_cancel(self) -> bool:
        """The last resort (a stop that did not finish in time, a task that died): sweep this
        market's orders and confirm with the exchange; True when none remain."""
        params = self._params
        try:
            await self._trading.cancel_market(params.condition_id)
            remaining = await self._trading.confirm_no_open_orders(
                params.condition_id, timeout_s=max(0.5, params.strategy.stop_timeout_s / 4)
            )
        except ExchangeError as error:
            log.error("emergency cancel failed: %s", error)
            return False
        return not remaining

    # Run ------------------------------------------------------------------------------------

    async def run(self) -> int:
        """Trade until the strategy finishes; the exit code follows design.md."""
        params = self._params
        loop = asyncio.get_running_loop()
        self._finished = loop.create_future()
        self._write_status()
        try:
            info = await check_tradable(self._trading, params)
        except MarketNotTradable as error:
            return self._final(EXIT_NOT_TRADABLE, WorkerState.FAILED, str(error))
        self.status.tick_size = info.tick_size
        self._strategy.set_tick_size(info.tick_size)
        reconciler = Reconciler(
            self._trading, condition_id=params.condition_id, token_id=params.token_id
        )
        tasks: list[asyncio.Task[Any]] = []
        book_http = JsonHttp(timeout_s=REST_TIMEOUT_S, client=self._http_client)
        self._executor = self._build_executor(reconciler, book_http)
        self._feed = self._feeds.market_feed(params, self._feed_settings, self._http_client)
        user_feed = self._feeds.user_feed(
            params, self._feed_settings.keepalive, self._trading.identity
        )
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._on_signal, signum)
        loop.add_signal_handler(signal.SIGUSR1, self._on_flatten_signal)
        try:
            async with self._feed as feed, user_feed:
                adopted = await adopted_position(reconciler, book_http, params, wall_ms())
                if adopted is not None:
                    self._events.put_nowait(adopted)
                self.status.state = WorkerState.RUNNING
                spawn: Callable[[Coroutine[Any, Any, Any]], asyncio.Task[Any]] = asyncio.create_task
                tasks = [
                    spawn(self._market_task(feed)),
                    spawn(self._user_task(user_feed)),
                    spawn(self._timer_task(feed)),
                    spawn(self._status_task()),
                    spawn(self._executor_task(self._executor)),
                    spawn(self._strategy_loop()),
                ]
                finish = await self._wait(tasks)
        finally:
            for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1):
                loop.remove_signal_handler(signum)
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        return self._exit_for(finish)

    def _build_executor(self, reconciler: Reconciler, book_http: JsonHttp) -> Executor:
        params = self._params
        executor = Executor(
            self._trading,
            reconciler,
            book_http,
            clob_url=params.exchange.clob_url,
            condition_id=params.condition_id,
            token_id=params.token_id,
            cancel_timeout_s=params.strategy.cancel_timeout_s,
            status=self.status,
            now_ms=wall_ms,
        )
        executor.tick_size = self.status.tick_size
        return executor

    async def _wait(self, tasks: list[asyncio.Task[Any]]) -> Finish | None:
        """The Finish command, or None when a task died; a stop that outlasts 60 % of
        ``stop_timeout_s`` is finished here with an emergency sweep (at most 25 % more)."""
        assert self._finished is not None
        pending: set[asyncio.Future[Any]] = {self._finished, *tasks}
        budget = self._params.strategy.stop_timeout_s
        while True:
            done, _ = await asyncio.wait(
                pending, timeout=WAIT_TICK_S, return_when=asyncio.FIRST_COMPLETED
            )
            if self._finished in done:
                return self._finished.result()
            for task in done:
                error = task.exception()
                name = task.get_name() if isinstance(task, asyncio.Task) else "?"
                log.error("task %s ended: %r", name, error)
                self.status.last_error = f"internal task ended: {error!r}"
                if not await self._emergency_cancel():
                    log.error("this market's orders may still be open")
                return None
            if self._stop_at is not None and time.monotonic() - self._stop_at >= 0.6 * budget:
                log.error("stop did not complete in time; sweeping this market's orders")
                clean = await self._emergency_cancel()
                return Finish(ExitReason.STOPPED, clean=clean)

    def _exit_for(self, finish: Finish | None) -> int:
        if finish is None:
            return self._final(EXIT_FAILURE, WorkerState.FAILED, self.status.last_error)
        log.info("finished: %s (clean=%s)", finish.reason, finish.clean)
        if not finish.clean:
            return self._final(
                EXIT_FAILURE, WorkerState.FAILED, "open orders could not be confirmed cancelled"
            )
        if finish.reason is ExitReason.MARKET_CLOSED:
            return self._closed_exit()
        requested = finish.reason in (ExitReason.STOPPED, ExitReason.FLATTENED)
        state = WorkerState.STOPPED if requested else WorkerState.FINISHED
        return self._final(EXIT_OK, state, self.status.last_error)

    def _closed_exit(self) -> int:
        """The market closed (resolved): flat is "not tradable" (exit 3); holding shares is a
        normal end (exit 0, ``finished``) that names the position, which the supervisor then
        redeems once the market's result is in."""
        held = self.status.position
        if held <= 0:
            return self._final(EXIT_NOT_TRADABLE, WorkerState.FAILED, "market closed")
        token = self._params.token_id
        reason = f"market closed holding {held.normalize():f} shares of {token}: left to redeem"
        log.info("%s", reason)
        self.status.exit_reason = reason
        return self._final(EXIT_OK, WorkerState.FINISHED, self.status.last_error)

    def _final(self, code: int, state: WorkerState, error: str | None) -> int:
        self.status.state = state
        self.status.exit_code = code
        self.status.last_error = error
        self.status.phase = self._strategy.phase()
        self._write_status()
        return code


__all__ = ["EXIT_FAILURE", "EXIT_NOT_TRADABLE", "EXIT_OK", "WorkerRuntime", "wall_ms"]
