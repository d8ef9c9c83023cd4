"""Start a drill exchange for tests and tools, and always stop it.

Two ways, both yielding the exchange's :class:`ExchangeUrls`:
- :func:`running_sim` runs ``python -m polymaker sim --url-file ...`` as a subprocess in its own
  process group (the real command, end to end) and kills the group on exit;
- :func:`in_process_sim` runs :class:`DrillServer` on an asyncio loop in a background thread
  (fast start, and the test can reach ``sim.venue`` directly).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from polymaker.drill.server import DrillServer, SimOptions, Venue
from polymaker.drill.simulator import HOUSE_MAKER, HOUSE_TAKER
from polymaker.exchange.urls import ExchangeUrls


def _flag_args(flags: dict[str, Any]) -> list[str]:
    args: list[str] = []
    for key, value in flags.items():
        args += [f"--{key.replace('_', '-')}", str(value)]
    return args


@contextlib.contextmanager
def running_sim(tmp_path: Path, *, timeout_s: float = 30.0, **flags: Any) -> Iterator[ExchangeUrls]:
    """Run ``polymaker sim`` (flags as keyword arguments, e.g. ``markets=50``) until exit.

    The url-file is ``tmp_path / "sim_urls.json"``; stderr goes to ``tmp_path / "sim.log"``.
    Raises RuntimeError with the log's tail if the process dies or is not ready in time.
    """
    url_file = tmp_path / "sim_urls.json"
    log_path = tmp_path / "sim.log"
    command = [
        sys.executable,
        "-m",
        "polymaker",
        "sim",
        "--url-file",
        str(url_file),
        *_flag_args(flags),
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + timeout_s
        while not url_file.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"polymaker sim did not become ready:\n{tail}")
            time.sleep(0.05)
        yield ExchangeUrls.from_file(url_file)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@dataclass
class InProcessSim:
    """A drill exchange running in this process; ``call`` runs a function on its loop."""

    server: DrillServer
    loop: asyncio.AbstractEventLoop
    urls: ExchangeUrls

    @property
    def venue(self) -> Venue:
        """The live venue (engine, ledger, universe...); touch it only through :meth:`call`."""
        assert self.server.venue is not None
        return self.server.venue

    def call(self, fn: Any, *args: Any) -> Any:
        """Run ``fn(*args)`` on the server's loop thread and return its result."""

        async def run() -> Any:
            return fn(*args)

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout=30)

    def silence(self, condition_id: str) -> None:
        """Stop the simulator trading a market and clear its house ladder (a quiet book)."""

        def quiet() -> None:
            venue = self.venue
            venue.universe.by_condition(condition_id).source = "replay"
            for house in (HOUSE_MAKER, HOUSE_TAKER):
                venue.engine.cancel_where(house, venue.now_ms(), condition_id=condition_id)
            venue.flush()

        self.call(quiet)


@contextlib.contextmanager
def in_process_sim(options: SimOptions | None = None) -> Iterator[InProcessSim]:
    """Serve a drill exchange from a background thread until the block exits."""
    server = DrillServer(options or SimOptions())
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="drill-sim", daemon=True)
    thread.start()
    try:
        urls = asyncio.run_coroutine_threadsafe(server.start(), loop).result(timeout=60)
        yield InProcessSim(server=server, loop=loop, urls=urls)
    finally:
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(server.stop(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def trading_ids(market: Any) -> tuple[str, str]:
    """The (YES, NO) ids an SDK Gamma ``Market`` trades: ``positionIds`` on Protocol V2
    markets, else the CTF token ids (choose by version, as the venue's migration guide says)."""
    outcomes = market.outcomes
    if market.version == "v2":
        return outcomes.yes.position_id, outcomes.no.position_id
    return outcomes.yes.token_id, outcomes.no.token_id


def fill_as_maker(
    maker: Any, taker: Any, yes_token: str, no_token: str, price: Any, size: str = "5"
) -> Any:
    """Rest a post-only BUY YES for ``maker`` at ``price``, then cross it with ``taker``.

    The taker buys NO at ``1 - price`` (on the complementary book that is a sell of YES), so the
    maker is filled as a maker. Both are official SDK ``SecureClient``s; returns the maker's
    placement response.
    """
    placed = maker.place_limit_order(
        asset_id=yes_token, price=price, size=size, side="BUY", post_only=True
    )
    taker.place_limit_order(asset_id=no_token, price=1 - price, size=size, side="BUY")
    return placed
