"""The order heartbeat (the venue's dead-man switch), owned by one process: the supervisor.

``POST /v1/heartbeats`` with the id of the previous reply (polymarket_api.md 3.5): the first
accepted send arms timeout cancellation of **every open order of the API key** (all markets,
all processes: the workers trade with the same key); after ~10 s without an accepted send the
venue cancels them all. So if the host, the network or the supervisor dies, resting orders
die within ~10 s too, even though the workers' own cancels never ran.

:class:`OrderHeartbeat` sends every ``interval_s`` (5 s, as the SDK advises) from an asyncio
task and chains the ids. A stale id (400 ``Invalid Heartbeat ID``, raised by the SDK as
``OrderHeartbeatMismatchError`` carrying the expected id) is retried at once with that id. A
transient failure (transport, 5xx, 429, timeout) is retried after ``retry_s``; from
``LOUD_AFTER_S`` without an accepted send every failure is logged as an error, and past the
venue's ~10 s the chain reports itself ``lapsed`` (orders are probably gone) until a send is
accepted again. There is no disarm: ``stop`` ends the sends and the armed deadline then
cancels every order of the key ~10 s later — stop the chain only after the orders are
cancelled anyway, or on purpose. Only one chain per API key may run (concurrent chains keep
invalidating each other's ids).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from polymarket import errors as sdk_errors

log = logging.getLogger("polymaker.exchange.heartbeat")

HEARTBEAT_INTERVAL_S = 5.0
RETRY_S = 1.0
SEND_TIMEOUT_S = 3.0
VENUE_TIMEOUT_S = 10.0  # the venue cancels ~10 s after the last accepted heartbeat
LOUD_AFTER_S = 6.0


class HeartbeatClient(Protocol):
    """What the chain needs of the SDK's ``AsyncSecureClient``."""

    def send_order_heartbeat(self, *, heartbeat_id: str = "") -> Awaitable[Any]:
        """POST /v1/heartbeats; the reply has ``heartbeat_id`` (the next id to send)."""
        ...


class OrderHeartbeat:
    """One heartbeat chain for one API key: ``start()`` once, ``await stop()`` at the end.

    interval_s: period between accepted sends (keep it well under the venue's 10 s).
    retry_s: delay after a failed send. send_timeout_s: bound on one send.
    clock/sleep: injected for tests (monotonic seconds; an awaitable sleep).
    """

    def __init__(
        self,
        client: HeartbeatClient,
        *,
        interval_s: float = HEARTBEAT_INTERVAL_S,
        retry_s: float = RETRY_S,
        send_timeout_s: float = SEND_TIMEOUT_S,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._client = client
        self._interval_s = interval_s
        self._retry_s = retry_s
        self._send_timeout_s = send_timeout_s
        self._clock = clock
        self._sleep = sleep
        self._task: asyncio.Task[None] | None = None
        self._next_delay_s = retry_s
        self.heartbeat_id = ""
        self.accepted = 0
        self.failures = 0  # consecutive failed sends
        self.last_accepted_at: float | None = None
        self.lapsed = False

    @property
    def running(self) -> bool:
        """True while the sending task is alive."""
        return self._task is not None and not self._task.done()

    def seconds_since_accepted(self) -> float | None:
        """Seconds since the last accepted send (None before the first)."""
        if self.last_accepted_at is None:
            return None
        return self._clock() - self.last_accepted_at

    def start(self) -> None:
        """Start sending (the first send goes out at once); call from the running loop."""
        if self.running:
            return
        self._task = asyncio.get_running_loop().create_task(self._run(), name="order-heartbeat")
        log.info("order heartbeat started (every %.1f s)", self._interval_s)

    async def stop(self) -> None:
        """Stop sending. The venue still cancels the key's orders ~10 s after the last beat."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        log.info(  # a deliberate stop (at exit, every order already swept): no warning
            "order heartbeat stopped: the exchange cancels every open order of this API key "
            "about %.0f s after the last accepted heartbeat unless another sender continues",
            VENUE_TIMEOUT_S,
        )

    async def _run(self) -> None:
        while True:
            accepted = await self.beat()
            await self._sleep(self._interval_s if accepted else self._next_delay_s)

    async def beat(self) -> bool:
        """Send one heartbeat (a stale id is corrected and re-sent once); True if accepted."""
        for _ in range(2):
            try:
                reply = await asyncio.wait_for(
                    self._client.send_order_heartbeat(heartbeat_id=self.heartbeat_id),
                    self._send_timeout_s,
                )
            except sdk_errors.OrderHeartbeatMismatchError as error:
                log.warning("order heartbeat id was stale; continuing with the expected id")
                self.heartbeat_id = error.heartbeat_id
                continue
            except TimeoutError:
                self._failed(f"no answer within {self._send_timeout_s:g} s", None)
                return False
            except (sdk_errors.PolymarketError, ValueError) as error:
                self._failed(
                    str(error) or type(error).__name__, getattr(error, "retry_after", None)
                )
                return False
            self._accepted(str(reply.heartbeat_id))
            return True
        self._failed("the exchange refused the id it asked for", None)
        return False

    def _accepted(self, next_id: str) -> None:
        if self.lapsed:
            log.warning("order heartbeat accepted again: the dead-man switch is re-armed")
        elif self.failures:
            log.info("order heartbeat recovered after %d failed sends", self.failures)
        self.heartbeat_id = next_id
        self.accepted += 1
        self.failures = 0
        self.lapsed = False
        self.last_accepted_at = self._clock()

    def _failed(self, problem: str, retry_after: float | None) -> None:
        self.failures += 1
        self._next_delay_s = self._retry_s
        if retry_after is not None:
            self._next_delay_s = min(max(self._retry_s, retry_after), self._interval_s)
        silent = self.seconds_since_accepted()
        if silent is None:
            log.warning("order heartbeat not armed yet, send failed: %s", problem)
        elif silent >= VENUE_TIMEOUT_S:
            if not self.lapsed:
                log.error(
                    "order heartbeat LAPSED: no accepted heartbeat for %.1f s; the exchange has "
                    "probably cancelled every open order of this API key (%s)",
                    silent,
                    problem,
                )
            self.lapsed = True
        elif silent >= LOUD_AFTER_S:
            log.error(
                "order heartbeat failing for %.1f s (%s): the exchange cancels every open order "
                "of this API key about %.0f s after the last accepted heartbeat",
                silent,
                problem,
                VENUE_TIMEOUT_S,
            )
        else:
            log.warning(
                "order heartbeat send failed (%s); retrying in %.1f s", problem, self._next_delay_s
            )


__all__ = ["HEARTBEAT_INTERVAL_S", "VENUE_TIMEOUT_S", "HeartbeatClient", "OrderHeartbeat"]
