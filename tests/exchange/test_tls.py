"""SDK clients share one default TLS context; everything else keeps its own."""

from __future__ import annotations

import asyncio
import secrets
import ssl
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from polymaker.drill.testing import SimOptions, in_process_sim
from polymaker.exchange.sdk import create_async_secure_client, create_public_client
from polymaker.exchange.tls import shared_default_tls
from tests.exchange.test_sdk import DRILL


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[ssl.SSLContext]:
    """Every SSL context ``ssl.create_default_context`` builds while the test runs."""
    contexts: list[ssl.SSLContext] = []
    original: Callable[..., ssl.SSLContext] = ssl.create_default_context

    def spy(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        context = original(*args, **kwargs)
        contexts.append(context)
        return context

    monkeypatch.setattr(ssl, "create_default_context", spy)
    return contexts


def test_a_public_client_builds_at_most_one_context_for_its_many_http_clients(
    built: list[ssl.SSLContext],
) -> None:
    client = create_public_client(DRILL)
    client.close()
    assert len(built) <= 1  # zero when an earlier test already built the shared one


def test_clients_outside_the_block_get_their_own_verifying_context(
    built: list[ssl.SSLContext],
) -> None:
    with shared_default_tls():
        httpx.Client().close()
    httpx.Client().close()
    httpx.Client().close()
    assert len(built) >= 2
    own = built[-1]
    assert own.verify_mode is ssl.CERT_REQUIRED and own.check_hostname


def test_the_shared_context_still_verifies_certificates_and_hostnames() -> None:
    with shared_default_tls():
        first, second = httpx.Client(), httpx.Client()
    try:
        assert first._transport._pool._ssl_context is second._transport._pool._ssl_context
        context = first._transport._pool._ssl_context
        assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
        assert context.get_ca_certs() or context.cert_store_stats()["x509_ca"] > 0
    finally:
        first.close()
        second.close()


def test_sharing_does_not_leak_into_other_tasks(built: list[ssl.SSLContext]) -> None:
    async def scenario() -> None:
        release = asyncio.Event()

        async def other_task() -> None:
            await release.wait()
            await httpx.AsyncClient().aclose()

        other = asyncio.create_task(other_task())
        with shared_default_tls():
            await asyncio.sleep(0)
            before = len(built)
            release.set()
            await other
            assert len(built) == before + 1  # the other task built its own context

    asyncio.run(scenario())


@pytest.mark.integration
def test_a_secure_client_on_the_drill_exchange_shares_one_context(
    built: list[ssl.SSLContext],
) -> None:
    async def create(urls: Any) -> None:
        client = await create_async_secure_client("0x" + secrets.token_hex(32), urls)
        await client.close()

    with in_process_sim(SimOptions(markets=2, seed=1)) as sim:
        asyncio.run(create(sim.urls))
    assert len(built) <= 1
