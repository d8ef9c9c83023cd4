"""The WebSocket edge shared by both CLOB channels: keepalive, liveness, reconnect, event stream.

Liveness is about the *connection*, never about the market (reference_behaviour.md 4.3): we
send the text ``PING`` every ``ping_interval_s``; any inbound frame (the ``PONG`` answer or data)
proves the connection alive. Only ``pong_timeout_s`` without any frame, or a socket error,
drops the connection. A quiet market with PONGs coming back stays connected forever.

Reconnects use capped exponential backoff with jitter (``polymaker.exchange.retry``); the
retry count restarts after a connection that stayed up ``stable_after_s``. This is the only
module that catches ``websockets`` exceptions; they become a reason string for the handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, Protocol, Self, TypeVar

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from polymaker.exchange.retry import RetryPolicy, backoff_delay

log = logging.getLogger(__name__)
# websockets logs every frame at DEBUG, which would put the user channel's credentials in the
# log; its connections get this logger, pinned above DEBUG whatever the root level is.
_PROTOCOL_LOG = logging.getLogger(f"{__name__}.protocol")
_PROTOCOL_LOG.setLevel(logging.INFO)

PING = "PING"
PONG = "PONG"

Clock = Callable[[], float]
Send = Callable[[str], Awaitable[None]]
T = TypeVar("T")


@dataclass(frozen=True)
class KeepaliveSettings:
    """Connection keepalive and reconnect policy of one channel.

    ping_interval_s: period of the text ``PING`` (venue: 10 s).
    pong_timeout_s: silence (no frame at all) after which the connection is dead (venue: ~30).
    open_timeout_s: bound on the TCP + TLS + WebSocket handshake.
    backoff_base_s, backoff_max_s: reconnect delay scale and cap (before jitter).
    stable_after_s: a connection that lived this long resets the reconnect backoff.
    max_frame_bytes: largest accepted frame (deep books of many tokens can be large).
    """

    ping_interval_s: float = 10.0
    pong_timeout_s: float = 30.0
    open_timeout_s: float = 10.0
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    stable_after_s: float = 30.0
    max_frame_bytes: int = 16 * 2**20

    def __post_init__(self) -> None:
        if min(self.ping_interval_s, self.pong_timeout_s, self.open_timeout_s) <= 0:
            raise ValueError("ping_interval_s, pong_timeout_s and open_timeout_s must be > 0")
        if self.pong_timeout_s < self.ping_interval_s:
            raise ValueError("pong_timeout_s must be >= ping_interval_s")


class FeedState(StrEnum):
    """Health of a feed's connection."""

    CONNECTED = "connected"  # subscribed; data can be trusted once books are valid
    DISCONNECTED = "disconnected"  # no connection: every local book was dropped
    STALE = "stale"  # connected, but a book could not be (re)built (REST resync failed)


@dataclass(frozen=True, slots=True)
class FeedStatus:
    """A change of the feed's health; ``connection`` counts successful connections (1 = first)."""

    state: FeedState
    reason: str
    connection: int


class SessionHandler(Protocol):
    """What a channel does on top of the shared loop (called from the loop's task)."""

    async def on_open(self, send: Send, connection: int) -> None:
        """Send the subscription; ``connection`` counts successful connections from 1."""

    def on_frame(self, data: str | bytes) -> None:
        """Handle one inbound data frame (``PONG`` is filtered out before)."""

    def on_close(self, reason: str) -> None:
        """The connection is gone (or never came up); local state must be dropped."""


@dataclass
class _Liveness:
    last_frame_at: float
    dead_reason: str | None = None


async def run_keepalive_loop(
    url: str,
    settings: KeepaliveSettings,
    handler: SessionHandler,
    rng: random.Random,
    clock: Clock = time.monotonic,
) -> None:
    """Connect, subscribe, keep alive and reconnect forever (until cancelled)."""
    policy = RetryPolicy(
        backoff_base_s=settings.backoff_base_s, backoff_max_s=settings.backoff_max_s
    )
    failures = 0
    connections = 0
    while True:
        started = clock()
        try:
            async with connect(
                url,
                ping_interval=None,  # the venue wants application-level text PINGs
                open_timeout=settings.open_timeout_s,
                close_timeout=1.0,
                max_size=settings.max_frame_bytes,
                logger=_PROTOCOL_LOG,
            ) as ws:
                connections += 1
                started = clock()
                await handler.on_open(ws.send, connections)
                reason = await _serve(ws, settings, handler, clock)
        except (OSError, TimeoutError, WebSocketException) as error:
            reason = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        handler.on_close(reason)
        failures = 1 if clock() - started >= settings.stable_after_s else failures + 1
        delay = backoff_delay(failures, policy, rng)
        log.info("%s: disconnected (%s); reconnecting in %.2f s", url, reason, delay)
        await asyncio.sleep(delay)


async def _serve(
    ws: ClientConnection, settings: KeepaliveSettings, handler: SessionHandler, clock: Clock
) -> str:
    """Read frames until the connection ends; returns why it ended."""
    liveness = _Liveness(last_frame_at=clock())
    pinger = asyncio.create_task(_keep_alive(ws, settings, liveness, clock))
    try:
        async for message in ws:
            liveness.last_frame_at = clock()
            if message == PONG:
                continue
            handler.on_frame(message)
    except WebSocketException as error:
        return liveness.dead_reason or f"connection lost: {error}"
    finally:
        pinger.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pinger
    return liveness.dead_reason or "closed by the server"


async def _keep_alive(
    ws: ClientConnection, settings: KeepaliveSettings, liveness: _Liveness, clock: Clock
) -> None:
    """Send PING on schedule; abort the connection after ``pong_timeout_s`` of silence."""
    while True:
        silent_for = clock() - liveness.last_frame_at
        if silent_for >= settings.pong_timeout_s:
            liveness.dead_reason = f"no PONG or data for {silent_for:.1f} s"
            ws.transport.abort()  # close() would wait for a handshake a dead peer never sends
            return
        try:
            await ws.send(PING)
        except WebSocketException:
            return  # the reader sees the same failure and reports it
        remaining = settings.pong_timeout_s - (clock() - liveness.last_frame_at)
        await asyncio.sleep(max(0.0, min(settings.ping_interval_s, remaining)))


_END = object()


class EventStream(ABC, Generic[T]):
    """Async iterator over a feed's events, fed by a background task.

    Use as ``async with feed: async for event in feed: ...``. Leaving the ``async with``
    cancels the task. If the task dies (a bug), iteration re-raises its exception.
    """

    def __init__(self) -> None:
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    @abstractmethod
    async def _run(self) -> None:
        """The feed's work; emits events with ``_emit`` until cancelled."""

    async def _aclose(self) -> None:
        """Release resources after the task stopped (override when there are some)."""

    def _emit(self, event: T) -> None:
        self._queue.put_nowait(event)

    async def __aenter__(self) -> Self:
        self._task = asyncio.create_task(self._run())
        self._task.add_done_callback(lambda _task: self._queue.put_nowait(_END))
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._aclose()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> T:
        if self._task is None:
            raise RuntimeError("use the feed inside 'async with'")
        item = await self._queue.get()
        if item is _END:
            self._queue.put_nowait(_END)  # every later call ends too
            if not self._task.cancelled() and self._task.exception() is not None:
                raise self._task.exception()  # type: ignore[misc]
            raise StopAsyncIteration
        return item  # type: ignore[return-value]


__all__ = ["EventStream", "FeedState", "FeedStatus", "KeepaliveSettings", "run_keepalive_loop"]
