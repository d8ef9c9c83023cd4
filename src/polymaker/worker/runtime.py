"""One market's runtime: feeds -> strategy -> commands -> exchange, on one asyncio loop.

One task per concern: the market feed, the user feed, the timer (1 s ticks, book refresh,
periodic reconciliation), the status writer and the command executor. They all put events on
one queue; a single loop (:meth:`WorkerRuntime._strategy_loop`) is the only caller of the
strategy, so it needs no locking. Commands run one at a time, in order, on the executor task,
and their answers come back through the same queue, so a slow exchange call never delays a
stop request or a fill reaching the strategy.

SIGTERM/SIGINT become ``StopRequested`` (a second signal forces). The strategy then cancels
this market's orders and confirms with the exchange that none remain; a watchdog makes sure the
process exits within ``stop_timeout_s`` even if that does not complete.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from polymaker.config.worker_params import WorkerParams
from polymaker.errors import ExchangeError, MarketNotTradable
from polymaker.exchange.market_feed import BookUpdated, MarketFeed, MarketFeedSettings
from polymaker.exchange.trading import Trading
from polymaker.exchange.user_feed import ApiCredentials as FeedCredentials
from polymaker.exchange.user_feed import UserFeed
from polymaker.exchange._ws import FeedState, FeedStatus
from polymaker.exchange.wire import Side as WireSide
from polymaker.strategy.commands import Command, Finish, ReconcileFills
from polymaker.strategy.events import Event, PositionAdopted, StopRequested, Timer
from polymaker.strategy.states import ExitReason
from polymaker.worker import translate
from polymaker.worker.executor import Executor
from polymaker.worker.reconcile import Reconciler
from polymaker.worker.status import STATUS_INTERVAL_S, StatusSnapshot, StatusWriter, WorkerState
from polymaker.worker.strategy_link import StrategyLink

log = logging.getLogger(__name__)

TIMER_INTERVAL_S = 0.5
RECONCILE_INTERVAL_S = 30.0
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_NOT_TRADABLE = 3


def wall_ms() -> int:
    """Wall-clock epoch milliseconds (the strategy's time base: end_time is wall time)."""
    return time.time_ns() // 1_000_000


class WorkerRuntime:
    """Runs one market until the strategy finishes; :meth:`run` returns the exit code."""

    def __init__(
        self,
        params: WorkerParams,
        trading: Trading,
        credentials: FeedCredentials,
        *,
        writer: StatusWriter,
        feed_settings: MarketFeedSettings | None = None,
    ) -> None:
        self._params = params
        self._trading = trading
        self._credentials = credentials
        self._writer = writer
        self._feed_settings = feed_settings or MarketFeedSettings()
        self.status = StatusSnapshot(
            topic_id=params.topic_id, mode=params.mode, condition_id=params.condition_id,
            token_id=params.token_id, side=params.side, tick_size=params.tick_size,
        )
        self._events: asyncio.Queue[Event] = asyncio.Queue()
        self._commands: asyncio.Queue[Command] = asyncio.Queue()
        self._finished: asyncio.Future[Finish] | None = None
        self._reconcile_queued = False
        self._stop_signals = 0
        self._feed: MarketFeed | None = None
        self._market_connected = False
        self._strategy = StrategyLink(params)

    # Start-up -----------------------------------------------------------------------------

    async def _check_tradable(self) -> None:
        """Exit 3 before any order when the exchange says the market cannot trade."""
        info = await self._trading.market_info(self._params.condition_id)
        tokens = {token.token_id for token in info.tokens}
        if not {self._params.yes_token, self._params.no_token} <= tokens:
            raise MarketNotTradable(
                f"market {info.condition_id} does not list tokens {self._params.yes_token} and "
                f"{self._params.no_token}: check condition_id/yes_token/no_token in the params"
            )
        if not info.is_tradable:
            raise MarketNotTradable(
                f"market {info.condition_id} is not tradable (active={info.active}, "
                f"closed={info.closed}, accepting_orders={info.accepting_orders})"
            )
        if info.tick_size != self._params.tick_size:
            log.info("tick size is %s at the exchange (params said %s)", info.tick_size,
                     self._params.tick_size)
        self.status.tick_size = info.tick_size
        self._strategy.set_tick_size(info.tick_size)

    async def _adopt(self, reconciler: Reconciler) -> None:
        """Hand an existing position of our token to the strategy before it trades."""
        holding = await reconciler.holding()
        if holding.size <= 0:
            return
        entry = holding.avg_entry
        if entry is None:
            book = self._feed.book(self._params.token_id) if self._feed else None
            top = book.top() if book is not None else None
            entry = top.best_bid.price if top is not None and top.best_bid else None
            log.warning("held %s shares with no buy trades on record; entry taken as %s",
                        holding.size, entry)
        if entry is None:
            log.warning("held %s shares with no known entry price: not adopted", holding.size)
            self.status.last_error = "position without a known entry price"
            return
        log.info("adopting a position of %s shares at an average entry of %s", holding.size, entry)
        self._events.put_nowait(PositionAdopted(wall_ms(), size=holding.size, avg_entry=entry))

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
            self._emit(translate.market_events(
                update, token_id=params.token_id, condition_id=params.condition_id,
                ts_ms=wall_ms(),
            ))

    async def _user_task(self, feed: UserFeed) -> None:
        params = self._params
        async for update in feed:
            if isinstance(update, FeedStatus):
                log.info("user feed %s: %s", update.state, update.reason)
                self.status.count(f"user_feed_{update.state}")
            if translate.needs_reconcile(update):
                self._request_reconcile()
            self._emit(translate.user_events(
                update, token_id=params.token_id, condition_id=params.condition_id,
                ts_ms=wall_ms(),
            ))

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
            book.asset_id, top, book.levels(WireSide.BUY, depth),
            book.levels(WireSide.SELL, depth), "timer", time.monotonic(),
        )
        self._events.put_nowait(translate.book_update(update, wall_ms()))

    async def _status_task(self) -> None:
        while True:
            self._write_status()
            await asyncio.sleep(STATUS_INTERVAL_S)

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
            for command in self._strategy.handle(event):
                if isinstance(command, ReconcileFills):
                    self._request_reconcile()
                else:
                    self._commands.put_nowait(command)

    # Stop -----------------------------------------------------------------------------------

    def _on_signal(self, signum: int) -> None:
        self._stop_signals += 1
        force = self._stop_signals > 1
        log.info("%s received: stopping%s", signal.Signals(signum).name, " (forced)" if force else "")
        self.status.state = WorkerState.STOPPING
        self._events.put_nowait(StopRequested(wall_ms(), force=force))

    async def _emergency_cancel(self) -> bool:
        """The last resort when the strategy did not finish in time: sweep and confirm."""
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
            await self._check_tradable()
        except MarketNotTradable as error:
            return self._final(EXIT_NOT_TRADABLE, WorkerState.FAILED, str(error))
        reconciler = Reconciler(self._trading, condition_id=params.condition_id,
                                token_id=params.token_id)
        tasks: list[asyncio.Task[Any]] = []
        async with httpx.AsyncClient(timeout=5.0) as book_client:
            self._executor = Executor(
                self._trading, reconciler, book_client, clob_url=params.exchange.clob_url,
                condition_id=params.condition_id, token_id=params.token_id,
                cancel_timeout_s=params.strategy.cancel_timeout_s, status=self.status,
                now_ms=wall_ms,
            )
            self._executor.tick_size = self.status.tick_size
            self._feed = MarketFeed(params.exchange.ws_market_url, params.exchange.clob_url,
                                    [params.yes_token, params.no_token],
                                    settings=self._feed_settings)
            user_feed = UserFeed(params.exchange.ws_user_url, self._credentials,
                                 self._trading.identity, [params.condition_id])
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, self._on_signal, signum)
            try:
                async with self._feed as feed, user_feed:
                    await self._adopt(reconciler)
                    self.status.state = WorkerState.RUNNING
                    spawn: Callable[[Awaitable[Any]], asyncio.Task[Any]] = asyncio.create_task
                    tasks = [
                        spawn(self._market_task(feed)), spawn(self._user_task(user_feed)),
                        spawn(self._timer_task(feed)), spawn(self._status_task()),
                        spawn(self._executor_task(self._executor)), spawn(self._strategy_loop()),
                    ]
                    finish = await self._wait(tasks)
            finally:
                for signum in (signal.SIGTERM, signal.SIGINT):
                    loop.remove_signal_handler(signum)
                for task in tasks:
                    task.cancel()
                for task in tasks:
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
        return self._exit_for(finish)

    async def _wait(self, tasks: list[asyncio.Task[Any]]) -> Finish | None:
        """The Finish command, or None when a task died or a stop outlasted its timeout."""
        assert self._finished is not None
        pending: set[asyncio.Future[Any]] = {self._finished, *tasks}
        stop_deadline: float | None = None
        while True:
            timeout = None if stop_deadline is None else max(0.0, stop_deadline - time.monotonic())
            done, _ = await asyncio.wait(pending, timeout=min(timeout or 1.0, 1.0),
                                         return_when=asyncio.FIRST_COMPLETED)
            if self._finished in done:
                return self._finished.result()
            for task in done:
                error = task.exception()
                log.error("task %s ended: %r", task.get_name(), error)
                self.status.last_error = f"internal task ended: {error!r}"
                return None
            if self._stop_signals and stop_deadline is None:
                stop_deadline = time.monotonic() + self._params.strategy.stop_timeout_s * 0.75
            if stop_deadline is not None and time.monotonic() >= stop_deadline:
                log.error("stop did not complete in time; sweeping this market's orders")
                clean = await self._emergency_cancel()
                return Finish(ExitReason.STOPPED, clean=clean)

    def _exit_for(self, finish: Finish | None) -> int:
        if finish is None:
            return self._final(EXIT_FAILURE, WorkerState.FAILED, self.status.last_error)
        log.info("finished: %s (clean=%s)", finish.reason, finish.clean)
        if not finish.clean:
            return self._final(EXIT_FAILURE, WorkerState.FAILED,
                               "open orders could not be confirmed cancelled")
        if finish.reason is ExitReason.MARKET_CLOSED:
            return self._final(EXIT_NOT_TRADABLE, WorkerState.FINISHED, "market closed")
        state = WorkerState.STOPPED if finish.reason is ExitReason.STOPPED else WorkerState.FINISHED
        return self._final(EXIT_OK, state, self.status.last_error)

    def _final(self, code: int, state: WorkerState, error: str | None) -> int:
        self.status.state = state
        self.status.exit_code = code
        self.status.last_error = error
        self.status.phase = self._strategy.phase()
        self._write_status()
        return code


__all__ = ["EXIT_FAILURE", "EXIT_NOT_TRADABLE", "EXIT_OK", "WorkerRuntime", "wall_ms"]
