"""Run the screener in a killable child process with a time limit, and retry it with backoff.

Each attempt is a child forked from a multiprocessing fork server that has the screener
already imported (a fresh ``python -m polymaker screen`` spends most of its time importing).
A screen past ``screener.timeout_s`` is killed (the reference's thread-pool timeout never
bounded anything, 4.18). A failed or killed attempt raises ``ScreenFailed``; it never comes
back as an empty list, so a network outage cannot look like "no markets". The child writes
the result file (``data/topics_filtered.json``) itself, atomically, and only after a
successful screen. The fork server exits by itself when the supervisor does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from polymaker.autorun.states import restart_delay_s
from polymaker.errors import PolymakerError
from polymaker.exchange.urls import ExchangeUrls

log = logging.getLogger("polymaker.autorun.screening")

RETRY_BASE_S = 2.0
RETRY_MAX_S = 30.0
POLL_S = 0.05
_PRELOAD = ["polymaker.screener", "polymaker.config.filter"]


class ScreenFailed(PolymakerError):
    """One screening round failed (every attempt); the supervisor keeps its current queue."""


@dataclass(frozen=True)
class ScreenRequest:
    """Everything one screening child needs (no secrets: the screener reads public data)."""

    filter_config: Path
    out_file: Path
    urls: ExchangeUrls
    timeout_s: float
    retries: int


def _context() -> Any:
    """The fork-server context, with the screener preloaded into the server."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)
    return context


def screen_child(request: ScreenRequest, conn: Connection) -> None:
    """In the child: screen once, write the result file, send ``("ok", topics)`` or an error.

    The filter file is read on every screen, so an edit applies to the next one.
    """
    from polymaker.screener import load_filter_params, screen, write_result

    try:
        params = load_filter_params(request.filter_config)
        result = screen(params, gamma_url=request.urls.gamma_url, clob_url=request.urls.clob_url)
        document = write_result(result, request.out_file)
        conn.send(("ok", document["topics"]))
    except PolymakerError as error:
        conn.send(("error", str(error)))
    except Exception as error:
        conn.send(("error", f"screener crashed: {error!r}"))
    finally:
        conn.close()


async def screen_once(request: ScreenRequest) -> list[dict[str, Any]]:
    """One attempt: fork the child, wait up to ``timeout_s``, kill it past that."""
    context = _context()
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=screen_child, args=(request, sender), daemon=True)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + request.timeout_s
    message: tuple[str, Any] | None = None
    try:
        await asyncio.to_thread(process.start)  # the first start launches the fork server
        sender.close()
        while message is None:
            if receiver.poll():
                with contextlib.suppress(EOFError):
                    message = receiver.recv()
                break
            if not process.is_alive() and not receiver.poll():
                break
            if loop.time() > deadline:
                raise ScreenFailed(f"screener timed out after {request.timeout_s:g} s; killed")
            await asyncio.sleep(POLL_S)
    finally:
        if process.is_alive():
            process.kill()
        if process.pid is not None:
            await asyncio.to_thread(process.join, 5.0)
        receiver.close()
    if message is None:
        raise ScreenFailed(f"screener exited {process.exitcode} without a result")
    kind, payload = message
    if kind != "ok":
        raise ScreenFailed(str(payload))
    return list(payload)


Sleep = Callable[[float], Awaitable[None]]


async def screen_with_retries(
    request: ScreenRequest,
    *,
    attempt: Callable[[ScreenRequest], Awaitable[list[dict[str, Any]]]] = screen_once,
    rng: random.Random | None = None,
    sleep: Sleep = asyncio.sleep,
) -> list[dict[str, Any]]:
    """``1 + retries`` attempts with capped exponential backoff; ``ScreenFailed`` if all fail."""
    rng = rng or random.Random()
    last: ScreenFailed | None = None
    for number in range(request.retries + 1):
        if number:
            delay = restart_delay_s(number, base_s=RETRY_BASE_S, max_s=RETRY_MAX_S, rng=rng)
            log.info("screen retry %d of %d in %.1f s", number, request.retries, delay)
            await sleep(delay)
        started = time.monotonic()
        try:
            topics = await attempt(request)
        except ScreenFailed as error:
            last = error
            log.warning("screen attempt %d failed: %s", number + 1, error)
            continue
        except OSError as error:  # cannot start the child at all
            last = ScreenFailed(f"cannot start the screener: {error}")
            log.warning("screen attempt %d failed: %s", number + 1, last)
            continue
        log.info("screened %d topics in %.1f s", len(topics), time.monotonic() - started)
        return topics
    assert last is not None
    raise ScreenFailed(f"screening failed after {request.retries + 1} attempts: {last}")


def failed_round_delay_s(failed_rounds: int, poll_s: float, rng: random.Random) -> float:
    """When to screen again after ``failed_rounds`` failed rounds in a row (never past poll)."""
    return min(poll_s, restart_delay_s(failed_rounds, base_s=5.0, max_s=poll_s, rng=rng))


class ScreenLoop:
    """Screens at start, then every ``poll_s`` (sooner after a failed round, or on refresh).

    ``on_topics`` receives each successful round's topics; a failed round is logged and the
    supervisor's queue is left as it is.
    """

    def __init__(
        self,
        request: ScreenRequest | None,
        poll_s: float,
        on_topics: Callable[[list[dict[str, Any]]], None],
        rng: random.Random,
    ) -> None:
        self.request = request
        self.poll_s = poll_s
        self._on_topics = on_topics
        self._rng = rng
        self._wake = asyncio.Event()
        self._refresh = False
        self._delay_s = 0.0

    def refresh(self) -> None:
        """Screen now (a running screen finishes first)."""
        self._refresh = True
        self._wake.set()

    def set_poll(self, seconds: float) -> None:
        """A new period; the next screen is due ``seconds`` after the last one."""
        self.poll_s = seconds
        self._delay_s = seconds
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Screen until ``stop`` is set (a cancelled run kills its screening child)."""
        assert self.request is not None
        failed_rounds = 0
        while not stop.is_set():
            self._refresh = False
            try:
                topics = await screen_with_retries(self.request, rng=self._rng)
            except ScreenFailed as error:
                failed_rounds += 1
                self._delay_s = failed_round_delay_s(failed_rounds, self.poll_s, self._rng)
                log.error("%s; next screen in %.0f s", error, self._delay_s)
            else:
                failed_rounds = 0
                self._delay_s = self.poll_s
                self._on_topics(topics)
            await self._wait(stop)

    async def _wait(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        while not self._refresh and not stop.is_set():
            remaining = started + self._delay_s - loop.time()
            if remaining <= 0:
                return
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), remaining)


__all__ = [
    "ScreenFailed",
    "ScreenLoop",
    "ScreenRequest",
    "failed_round_delay_s",
    "screen_child",
    "screen_once",
    "screen_with_retries",
]
