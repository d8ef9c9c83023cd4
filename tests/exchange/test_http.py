"""The JSON HTTP layer on httpx.MockTransport: wire shape, error translation, retries."""

from __future__ import annotations

import asyncio
import json
import random

import httpx
import pytest

from polymaker.errors import (
    RateLimitError,
    RequestRejectedError,
    TransportError,
    UnexpectedResponseError,
)
from polymaker.exchange.http import JsonHttp
from polymaker.exchange.retry import RetryPolicy


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def run(coro):
    return asyncio.run(coro)


def client(handler, *, retries: int = 3, sleeps: Sleeps | None = None, timeout_s: float = 5.0):
    return JsonHttp(
        timeout_s=timeout_s,
        policy=RetryPolicy(retries=retries, backoff_base_s=0.5, backoff_max_s=4.0),
        rng=random.Random(3),
        transport=httpx.MockTransport(handler),
        sleep=sleeps or Sleeps(),
    )


def test_get_sends_method_path_and_query():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    async def go():
        async with client(handler) as http:
            return await http.get_json(
                "http://gamma/markets/keyset", {"limit": 100, "active": True, "cursor": None}
            )

    assert run(go()) == {"ok": True}
    (request,) = seen
    assert request.method == "GET"
    assert request.url.path == "/markets/keyset"
    assert dict(request.url.params) == {"limit": "100", "active": "true"}


def test_post_sends_json_body():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[])

    async def go():
        async with client(handler) as http:
            return await http.post_json("http://clob/books", [{"token_id": "1"}])

    assert run(go()) == []
    assert seen[0].method == "POST"
    assert seen[0].headers["Content-Type"] == "application/json"
    assert json.loads(seen[0].content) == [{"token_id": "1"}]


def test_429_is_retried_honouring_retry_after():
    answers = [httpx.Response(429, text="slow", headers={"Retry-After": "2"})]
    sleeps = Sleeps()

    def handler(request: httpx.Request) -> httpx.Response:
        return answers.pop(0) if answers else httpx.Response(200, json=[1])

    async def go():
        async with client(handler, sleeps=sleeps) as http:
            return await http.get_json("http://x/a")

    assert run(go()) == [1]
    assert sleeps.delays == [2.0]


def test_5xx_is_retried_with_growing_backoff_then_gives_up():
    calls = []
    sleeps = Sleeps()

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(503, text="busy")

    async def go():
        async with client(handler, retries=3, sleeps=sleeps) as http:
            await http.get_json("http://x/a")

    with pytest.raises(RequestRejectedError) as info:
        run(go())
    assert len(calls) == 4
    assert info.value.status == 503
    assert "gave up after 4 attempts" in str(info.value)
    assert "http://x/a" in str(info.value)
    assert len(sleeps.delays) == 3
    assert 0.25 <= sleeps.delays[0] <= 0.5 and 1.0 <= sleeps.delays[2] <= 2.0


def test_rate_limit_error_after_retries_keeps_its_type():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, text="no", headers={"Retry-After": "1"})

    async def go():
        async with client(handler, retries=1) as http:
            await http.get_json("http://x/a")

    with pytest.raises(RateLimitError) as info:
        run(go())
    assert info.value.retry_after == 1.0


def test_4xx_is_not_retried():
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(400, json={"error": "bad cursor"})

    async def go():
        async with client(handler) as http:
            await http.get_json("http://x/a")

    with pytest.raises(RequestRejectedError) as info:
        run(go())
    assert len(calls) == 1
    assert info.value.status == 400 and "bad cursor" in info.value.message


def test_connection_errors_become_transport_error_after_retries():
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ConnectError("refused", request=request)

    async def go():
        async with client(handler, retries=2) as http:
            await http.get_json("http://x/a")

    with pytest.raises(TransportError) as info:
        run(go())
    assert len(calls) == 3
    assert info.value.url == "http://x/a"
    assert "ConnectError" in info.value.problem and "gave up after 3" in info.value.problem


def test_timeouts_are_retried_and_reported():
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.extensions["timeout"])
        raise httpx.ReadTimeout("slow", request=request)

    async def go():
        async with client(handler, retries=1, timeout_s=1.5) as http:
            await http.get_json("http://x/a")

    with pytest.raises(TransportError) as info:
        run(go())
    assert len(calls) == 2
    assert calls[0]["read"] == 1.5
    assert "timed out after 1.5s" in str(info.value)


def test_non_json_body_is_unexpected_response_and_not_retried():
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, text="<html>maintenance</html>")

    async def go():
        async with client(handler) as http:
            await http.get_json("http://x/a")

    with pytest.raises(UnexpectedResponseError, match="not JSON"):
        run(go())
    assert len(calls) == 1


def test_injected_client_is_not_closed():
    async def go():
        inner = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(200)))
        http = JsonHttp(client=inner)
        await http.aclose()
        assert not inner.is_closed
        await inner.aclose()

    run(go())
