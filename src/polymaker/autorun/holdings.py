"""What the exchange says the account holds: the account limits' input, and status's truth.

A worker's status file says what that worker believed at its last write. The file of a stopped
topic, or of a run before the drill world was reset, can describe shares that exist nowhere,
and manual trades on polymarket.com appear in no file at all. So the exposure and markets-held
limits count what the venue reports for the wallet: its positions (Data API ``/v2/positions``)
and its open orders (CLOB ``/data/orders``), refreshed every ``interval_s`` and soon after a
worker reports a fill (a position in a status file changed). Today's realized PnL (the daily
loss limit) still comes from the workers' own fills, which count each fill once per run.

:class:`Holdings` is pure (a snapshot and what it implies); :class:`HoldingsWatcher` fetches it
in a background task through an injected ``fetch``, so a slow or failing exchange never stalls
the supervisor's loop: the last good snapshot stays in use and the failure is logged once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from polymaker.autorun.limits import OpenBuy, TopicExposure
from polymaker.errors import PolymakerError
from polymaker.exchange.http import JsonHttp
from polymaker.exchange.wire._fields import Side, WireError
from polymaker.exchange.wire.orders import Order
from polymaker.exchange.wire.positions import Position, parse_position, parse_positions_page

log = logging.getLogger("polymaker.autorun")

HOLDINGS_REFRESH_S = 15.0
FETCH_TIMEOUT_S = 10.0
FIRST_REFRESH_S = 20.0  # how long start-up waits for the first snapshot
MIN_GAP_S = 1.0  # fills in several markets at once cause one refresh, not one each
_ZERO = Decimal(0)


@dataclass(frozen=True)
class Holdings:
    """The wallet's positions and open orders at the exchange, as of ``fetched_at`` (monotonic)."""

    positions: tuple[Position, ...]
    open_orders: tuple[Order, ...]
    fetched_at: float

    def exposures(self, topic_of: Mapping[str, str]) -> tuple[TopicExposure, ...]:
        """One exposure per market holding shares or resting buys.

        ``topic_of`` maps condition ids to topics; a market polymaker never screened keeps its
        condition id as the key, so it still counts against the limits.
        """
        conditions = {p.condition_id for p in self.positions if p.size > 0}
        conditions |= {o.condition_id for o in self.open_orders if o.side is Side.BUY}
        return tuple(
            self._exposure(condition, topic_of.get(condition, condition))
            for condition in sorted(conditions)
        )

    def _exposure(self, condition_id: str, topic_id: str) -> TopicExposure:
        held = [p for p in self.positions if p.condition_id == condition_id and p.size > 0]
        shares = sum((p.size for p in held), _ZERO)
        cost = sum((p.size * p.avg_price for p in held), _ZERO)
        buys = tuple(
            OpenBuy(o.price, o.original_size - (o.size_matched or _ZERO))
            for o in self.open_orders
            if o.condition_id == condition_id and o.side is Side.BUY
        )
        average = cost / shares if shares > 0 else None
        return TopicExposure(topic_id, shares, average, buys)

    def unmanaged(
        self, topic_of: Mapping[str, str], managed: Iterable[str]
    ) -> list[dict[str, Any]]:
        """Held shares of markets no running worker trades (``status``: "held, no worker")."""
        running = set(managed)
        rows = []
        for position in self.positions:
            topic = topic_of.get(position.condition_id)
            if position.size <= 0 or (topic is not None and topic in running):
                continue
            rows.append(
                {
                    "topic_id": topic,
                    "condition_id": position.condition_id,
                    "token_id": position.token_id,
                    "shares": f"{position.size:f}",
                    "avg_price": f"{position.avg_price:f}",
                    "redeemable": position.redeemable,
                }
            )
        return rows


Fetch = Callable[[], Awaitable[Holdings]]


class HoldingsWatcher:
    """Keeps :attr:`latest` fresh in the background (see the module docstring)."""

    def __init__(
        self,
        fetch: Fetch,
        *,
        interval_s: float = HOLDINGS_REFRESH_S,
        close: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._fetch = fetch
        self._close = close
        self._interval_s = interval_s
        self._wanted = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._positions: dict[str, str] = {}
        self._failing = False
        self.latest: Holdings | None = None

    async def refresh(self) -> Holdings | None:
        """Fetch now (the first snapshot, awaited at start-up); None when the fetch failed."""
        try:
            self.latest = await self._fetch()
        except (PolymakerError, OSError) as error:
            if not self._failing:
                log.warning("account holdings not refreshed (limits use the last ones): %s", error)
            self._failing = True
            return None
        if self._failing:
            log.info("account holdings refreshed again")
        self._failing = False
        return self.latest

    def note_positions(self, positions: Mapping[str, Decimal]) -> None:
        """Workers' reported positions by topic; a change (a fill) asks for a refresh."""
        texts = {topic: f"{size:f}" for topic, size in positions.items()}
        if texts != self._positions:
            self._positions = texts
            self._wanted.set()

    def start(self) -> None:
        """Run the refresh loop as a task of the running event loop."""
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Cancel the refresh loop and close what the fetch uses."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._close is not None:
            await self._close()

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wanted.wait(), self._interval_s)
            self._wanted.clear()
            started = time.monotonic()
            await self.refresh()
            await asyncio.sleep(max(0.0, MIN_GAP_S - (time.monotonic() - started)))


async def fetch_positions(
    get_json: Callable[[str, Mapping[str, str]], Awaitable[Any]], data_url: str, wallet: str
) -> tuple[Position, ...]:
    """Every open position of ``wallet`` (all pages); an unreadable row is logged and skipped."""
    positions: list[Position] = []
    query = {"user": wallet, "limit": "500"}
    for _ in range(100):  # 50,000 positions: far past any account this runs
        rows, cursor = parse_positions_page(await get_json(f"{data_url}/v2/positions", query))
        for row in rows:
            try:
                positions.append(parse_position(row))
            except WireError as error:
                log.warning("account holdings: skipped an unreadable position: %s", error)
        if cursor is None:
            break
        query = {**query, "cursor": cursor}
    return tuple(positions)


async def open_holdings(
    open_orders: Callable[[], Awaitable[list[Order]]], data_url: str, wallet: str
) -> HoldingsWatcher:
    """A started watcher of ``wallet``'s holdings, its first snapshot already taken (or tried).

    ``open_orders``: the account's open orders in every market (the supervisor's sweeper).
    """
    http = JsonHttp(timeout_s=FETCH_TIMEOUT_S)

    async def fetch() -> Holdings:
        orders = await open_orders()
        positions = await fetch_positions(http.get_json, data_url, wallet)
        return Holdings(positions, tuple(orders), time.monotonic())

    watcher = HoldingsWatcher(fetch, close=http.aclose)
    try:
        await asyncio.wait_for(watcher.refresh(), FIRST_REFRESH_S)
    except TimeoutError:  # start anyway: the loop keeps trying, the limits use status files
        log.warning("account holdings: no answer in %g s at start-up", FIRST_REFRESH_S)
    watcher.start()
    return watcher


__all__ = ["HOLDINGS_REFRESH_S", "Holdings", "HoldingsWatcher", "fetch_positions", "open_holdings"]
