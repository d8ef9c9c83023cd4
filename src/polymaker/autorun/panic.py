"""The kill switch's exchange side: cancel every order of the account and confirm it.

``cancel_everything`` sends the venue's account-wide ``DELETE /cancel-all`` once, then re-reads
``GET /data/orders`` (every market, every page) until the exchange lists no open order of the
account, cancelling whatever is still listed by id (``DELETE /orders``, in chunks) in between.
It never raises for an exchange failure: a kill switch must report what it could not do, so
failures end up in :attr:`PanicReport.errors` and whatever is still open in ``remaining``.

Why the re-reads: a worker killed a moment ago may have had a ``POST /order`` in flight that
the exchange accepts *after* the cancel-all, and ``cancel-all`` can be refused as a whole (on
Standard tier a cancel-all costing more than the 120-token cancel burst can never pass,
polymarket_api.md 3.6). An empty listing is re-checked once after ``settle_s`` so such a late
order is still caught. Callers must stop every order sender (SIGKILL the workers) *before*.

The client is the SDK's authenticated ``AsyncSecureClient`` of the account's key (the workers'
key: ``cancel-all`` and ``/data/orders`` are per account). Order listings are read through
the SDK's authenticated transport and only their ``id`` is used, so no item shape can stop
a panic (the same private transport ``exchange.trading`` reads pages with).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from polymarket import AsyncSecureClient
from polymarket import errors as sdk_errors

from polymaker.errors import ExchangeError, RateLimitError
from polymaker.exchange.trading import translate_sdk_error

log = logging.getLogger("polymaker.autorun.panic")

T = TypeVar("T")
CANCEL_CHUNK = 100  # ids per DELETE /orders: fits the Standard tier's 120-token cancel burst
PANIC_TIMEOUT_S = 5.0
POLL_S = 0.1
SETTLE_S = 0.25
MIN_CALL_TIMEOUT_S = 0.5
_END_CURSOR = "LTE="
_MAX_PAGES = 100


@dataclass(frozen=True)
class PanicReport:
    """What a panic did at the exchange.

    cancelled: ids the exchange reported cancelled. remaining: ids still open at the last
    successful read. confirmed: the last read of the account's open orders was empty.
    elapsed_s: wall time of ``cancel_everything``. errors: exchange failures met on the way.
    """

    cancelled: tuple[str, ...]
    remaining: tuple[str, ...]
    confirmed: bool
    elapsed_s: float
    errors: tuple[str, ...] = ()
    workers_killed: int | None = None

    def describe(self) -> str:
        """One line for people (the control reply's message, the CLI's output)."""
        killed = "" if self.workers_killed is None else f"{self.workers_killed} workers killed, "
        if self.confirmed:
            state = "exchange confirms 0 open orders"
        else:
            state = f"NOT CONFIRMED: {len(self.remaining)} orders still open or unknown"
        problems = f"; errors: {'; '.join(self.errors[-3:])}" if self.errors else ""
        return (
            f"panic: {killed}{len(self.cancelled)} orders cancelled, {state} "
            f"({self.elapsed_s:.2f} s){problems}"
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON form (the control reply's ``result``)."""
        return {
            "cancelled": len(self.cancelled),
            "cancelled_ids": list(self.cancelled),
            "remaining": list(self.remaining),
            "confirmed": self.confirmed,
            "elapsed_s": round(self.elapsed_s, 3),
            "errors": list(self.errors),
            "workers_killed": self.workers_killed,
        }


@dataclass
class _Run:
    client: AsyncSecureClient
    deadline: float
    clock: Callable[[], float]
    cancelled: dict[str, None] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    cancel_not_before: float = 0.0

    def time_left(self) -> float:
        return self.deadline - self.clock()

    async def call(self, what: str, make: Callable[[], Awaitable[T]]) -> T | None:
        """One SDK call bounded by the time left; failures are recorded, None returned."""
        try:
            return await asyncio.wait_for(make(), max(self.time_left(), MIN_CALL_TIMEOUT_S))
        except TimeoutError:
            problem = f"{what}: no answer in time"
        except (sdk_errors.PolymarketError, ValueError) as error:
            failure: ExchangeError = translate_sdk_error(error, what)
            if isinstance(failure, RateLimitError):
                wait = failure.retry_after if failure.retry_after is not None else 1.0
                self.cancel_not_before = self.clock() + wait
            problem = str(failure)
        log.warning("panic: %s", problem)
        self.errors.append(problem)
        return None

    def record(self, response: Any) -> None:
        if response is None:
            return
        for order_id in response.canceled:
            self.cancelled[str(order_id)] = None
        for order_id, reason in dict(response.not_canceled).items():
            log.warning("panic: %s not cancelled: %s", order_id, reason)

    async def cancel_all(self) -> None:
        self.record(await self.call("DELETE /cancel-all", self.client.cancel_all))

    async def cancel_ids(self, order_ids: Sequence[str]) -> None:
        for start in range(0, len(order_ids), CANCEL_CHUNK):
            chunk = list(order_ids[start : start + CANCEL_CHUNK])
            cancel = partial(self.client.cancel_orders, order_ids=chunk)
            self.record(await self.call("DELETE /orders", cancel))

    async def open_order_ids(self) -> list[str] | None:
        """Every open order id of the account (all pages), or None when the read failed."""
        return await self.call("GET /data/orders", self._read_pages)

    async def _read_pages(self) -> list[str]:
        transport = self.client._ctx.secure_clob
        ids: list[str] = []
        cursor: str | None = None
        for _ in range(_MAX_PAGES):
            params = {} if cursor is None else {"next_cursor": cursor}
            page = await transport.get_json("/data/orders", params=params)
            if isinstance(page, list):  # a bare list is a complete answer
                page = {"data": page}
            items = page.get("data") if isinstance(page, dict) else None
            if not isinstance(items, list):
                raise ValueError("GET /data/orders: not a page of orders")
            ids.extend(str(item["id"]) for item in items if isinstance(item, dict) and "id" in item)
            cursor = page.get("next_cursor")
            if not cursor or cursor == _END_CURSOR:
                return ids
        raise ValueError(f"GET /data/orders: more than {_MAX_PAGES} pages")


async def cancel_everything(
    client: AsyncSecureClient,
    *,
    timeout_s: float = PANIC_TIMEOUT_S,
    poll_s: float = POLL_S,
    settle_s: float = SETTLE_S,
    clock: Callable[[], float] = time.monotonic,
) -> PanicReport:
    """Cancel every open order of ``client``'s account and confirm none is left; never raises.

    Returns as soon as two reads ``settle_s`` apart list no order (typically ~0.3 s on
    loopback), or after ``timeout_s`` with what is still open. Exchange failures are retried
    inside the window and reported; only programming errors propagate.
    """
    started = clock()
    run = _Run(client, started + timeout_s, clock)
    await run.cancel_all()
    remaining: list[str] = []
    confirmed = False
    empty_reads = 0
    while True:
        ids = await run.open_order_ids()
        if ids is not None:
            remaining, confirmed = ids, not ids
            empty_reads = empty_reads + 1 if confirmed else 0
        if empty_reads >= 2 or (confirmed and settle_s <= 0) or run.time_left() <= 0:
            break
        if confirmed:
            await asyncio.sleep(min(settle_s, max(run.time_left(), 0.0)))
            continue
        if clock() >= run.cancel_not_before:
            if ids:
                await run.cancel_ids(ids)
            else:
                await run.cancel_all()  # the read failed: cancel blind, read again
        await asyncio.sleep(min(poll_s, max(run.time_left(), 0.0)))
    report = PanicReport(
        cancelled=tuple(run.cancelled),
        remaining=tuple(remaining),
        confirmed=confirmed,
        elapsed_s=clock() - started,
        errors=tuple(run.errors),
    )
    (log.warning if confirmed else log.error)("%s", report.describe())
    return report


__all__ = ["CANCEL_CHUNK", "PANIC_TIMEOUT_S", "PanicReport", "cancel_everything"]
