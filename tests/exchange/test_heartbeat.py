"""The order heartbeat chain: id chaining, stale-id recovery, failures, and the drill's switch."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from decimal import Decimal
from typing import Any

import httpx
import pytest
from eth_account import Account
from polymarket import errors as sdk

from polymaker.drill.server import SimOptions
from polymaker.drill.testing import in_process_sim
from polymaker.exchange.heartbeat import OrderHeartbeat
from polymaker.exchange.sdk import create_async_secure_client, signer_address


class _Reply:
    def __init__(self, heartbeat_id: str) -> None:
        self.heartbeat_id = heartbeat_id


class FakeClient:
    """Answers each send from a script: an id string, or an exception to raise."""

    def __init__(self, script: list[str | Exception]) -> None:
        self.script = script
        self.sent: list[str] = []

    async def send_order_heartbeat(self, *, heartbeat_id: str = "") -> _Reply:
        self.sent.append(heartbeat_id)
        answer = self.script.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return _Reply(answer)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)  # let the test run between sends


def _chain(client: FakeClient, clock: FakeClock) -> OrderHeartbeat:
    return OrderHeartbeat(client, interval_s=5.0, retry_s=1.0, clock=clock, sleep=clock.sleep)


def test_each_send_carries_the_id_of_the_previous_reply() -> None:
    client, clock = FakeClient(["h1", "h2", "h3"]), FakeClock()
    chain = _chain(client, clock)

    async def scenario() -> None:
        for _ in range(3):
            assert await chain.beat()

    asyncio.run(scenario())
    assert client.sent == ["", "h1", "h2"]
    assert (chain.heartbeat_id, chain.accepted, chain.failures) == ("h3", 3, 0)


def test_stale_id_is_replaced_by_the_expected_one_and_resent_at_once() -> None:
    client = FakeClient(["h1", sdk.OrderHeartbeatMismatchError("expected-7"), "h8"])
    clock = FakeClock()
    chain = _chain(client, clock)

    async def scenario() -> None:
        assert await chain.beat()
        assert await chain.beat()

    asyncio.run(scenario())
    assert client.sent == ["", "h1", "expected-7"]
    assert chain.heartbeat_id == "h8" and chain.failures == 0


def test_transient_failures_retry_quickly_then_get_loud_then_lapse(
    caplog: pytest.LogCaptureFixture,
) -> None:
    down = sdk.TransportError("connection reset")
    client = FakeClient(["h1", *[down] * 10, "h2", "h3"])
    clock = FakeClock()
    chain = _chain(client, clock)
    done = asyncio.Event()
    original = client.send_order_heartbeat

    async def counting(*, heartbeat_id: str = "") -> _Reply:
        reply = await original(heartbeat_id=heartbeat_id)
        if reply.heartbeat_id == "h3":
            done.set()
        return reply

    client.send_order_heartbeat = counting  # type: ignore[method-assign]

    async def scenario() -> None:
        chain.start()
        await asyncio.wait_for(done.wait(), 5)
        await chain.stop()

    with caplog.at_level(logging.INFO, logger="polymaker.exchange.heartbeat"):
        asyncio.run(scenario())
    assert clock.sleeps[:12] == [5.0, *[1.0] * 10, 5.0]  # interval, 10 quick retries, interval
    messages = [record.getMessage() for record in caplog.records]
    assert any("failing for 6.0 s" in text for text in messages)
    assert sum("LAPSED" in text for text in messages) == 1
    assert any("re-armed" in text for text in messages)
    assert not chain.lapsed and not chain.running
    assert client.sent[-2:] == ["h1", "h2"]  # the chain resumed from the last accepted id


def test_rate_limit_waits_retry_after_but_never_longer_than_the_interval() -> None:
    limited = sdk.RateLimitError("slow down", retry_after=30.0)
    client, clock = FakeClient([limited]), FakeClock()
    chain = _chain(client, clock)
    assert asyncio.run(chain.beat()) is False
    assert chain._next_delay_s == 5.0


async def _rest_orders(urls: Any, key: str) -> None:
    body = {"question": "Heartbeat test?", "end_date": "2030-01-01T00:00:00Z", "yes_price": 0.5}
    async with httpx.AsyncClient() as http:
        answer = await http.post(f"{urls.clob_url}/_sim/markets", json={**body, "volume": 1})
    token = json.loads(answer.json()["clobTokenIds"])[0]
    client = await create_async_secure_client(key, urls)
    try:
        for cents in (1, 2, 3):
            signed = await client.create_limit_order(
                token_id=token, price=Decimal(cents) / 100, size=5, side="BUY", post_only=True
            )
            assert (await client.post_order(signed)).ok
    finally:
        await client.close()


@pytest.mark.integration
def test_orders_live_while_the_chain_runs_and_die_after_it_stops() -> None:
    """Each accepted beat moves the drill's clock 3 s on (12+ s of server time), then stop.

    The venue's deadline is 10 s after the last accepted beat, so the orders surviving 12 s of
    server time prove the chain extends it; after ``stop`` they must go ~10 s after that beat.
    """
    key = Account.create().key.hex()
    with in_process_sim(SimOptions(markets=2, seed=21)) as sim:
        maker = signer_address(key)

        def open_orders() -> int:
            answer = httpx.get(f"{sim.urls.clob_url}/_sim/orders", params={"maker_address": maker})
            return len(answer.json())

        async def skew(ms: int) -> None:
            await asyncio.to_thread(sim.call, lambda: setattr(sim.venue, "clock_offset_ms", ms))

        async def scenario() -> tuple[float, float]:
            client = await create_async_secure_client(key, sim.urls)
            chain = OrderHeartbeat(client, interval_s=1.0)
            try:
                chain.start()
                await _rest_orders(sim.urls, key)
                for jump in range(1, 6):
                    beats = chain.accepted
                    while chain.accepted == beats:
                        await asyncio.sleep(0.02)
                    assert await asyncio.to_thread(open_orders) == 3
                    if jump < 5:  # no jump after the last beat: it is the deadline's start
                        await skew(3000 * jump)
                assert chain.failures == 0
                await chain.stop()
                stopped = time.monotonic()
                last_beat = chain.last_accepted_at
                assert last_beat is not None
                while await asyncio.to_thread(open_orders):
                    assert time.monotonic() - stopped < 12.0
                    await asyncio.sleep(0.05)
                return time.monotonic() - last_beat, time.monotonic() - stopped
            finally:
                await chain.stop()
                await client.close()

        after_last_beat, after_stop = asyncio.run(scenario())
    assert 9.0 < after_last_beat < 12.0
    assert after_stop < 12.0
