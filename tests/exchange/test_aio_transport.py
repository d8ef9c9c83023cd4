"""``AiohttpTransport`` under ``JsonHttp`` against a real aiohttp server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import gzip
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import pytest
from aiohttp import web

from polymaker.errors import RateLimitError, TransportError
from polymaker.exchange.aio_transport import AiohttpTransport
from polymaker.exchange.http import JsonHttp
from polymaker.exchange.retry import RetryPolicy

pytestmark = pytest.mark.integration


async def _serve(routes: list[web.RouteDef]) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.add_routes(routes)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


def _run(routes: list[web.RouteDef], body: Callable[[JsonHttp, str], Awaitable[Any]]) -> Any:
    async def scenario() -> Any:
        runner, base = await _serve(routes)
        try:
            async with JsonHttp(
                timeout_s=0.5,
                policy=RetryPolicy(retries=0),
                transport=AiohttpTransport(max_connections=2),
            ) as http:
                return await body(http, base)
        finally:
            await runner.cleanup()

    return asyncio.run(asyncio.wait_for(scenario(), 20))


async def _echo(request: web.Request) -> web.Response:
    document = {
        "method": request.method,
        "path": request.path,
        "query": dict(request.query),
        "body": (await request.read()).decode(),
        "accept": request.headers.get("Accept"),
    }
    return web.json_response(document)


def test_get_and_post_carry_query_body_and_headers() -> None:
    async def body(http: JsonHttp, base: str) -> Any:
        got = await http.get_json(f"{base}/echo", {"limit": 5, "active": True})
        posted = await http.post_json(f"{base}/echo", [{"token_id": "1"}])
        return got, posted

    got, posted = _run([web.get("/echo", _echo), web.post("/echo", _echo)], body)
    assert got["method"] == "GET" and got["query"] == {"limit": "5", "active": "true"}
    assert got["accept"] == "application/json"
    assert posted["method"] == "POST" and orjson.loads(posted["body"]) == [{"token_id": "1"}]


def test_a_gzip_body_is_decoded_once() -> None:
    async def gzipped(request: web.Request) -> web.Response:
        payload = gzip.compress(orjson.dumps({"markets": [1, 2, 3]}))
        return web.Response(
            body=payload, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"}
        )

    assert _run([web.get("/g", gzipped)], lambda http, base: http.get_json(f"{base}/g")) == {
        "markets": [1, 2, 3]
    }


def test_refusals_and_transport_failures_keep_their_meaning() -> None:
    async def limited(request: web.Request) -> web.Response:
        return web.Response(status=429, text="slow down", headers={"Retry-After": "2"})

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.Response(text="{}")

    async def body(http: JsonHttp, base: str) -> list[BaseException]:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            closed_port = probe.getsockname()[1]
        errors: list[BaseException] = []
        for url in (f"{base}/limited", f"{base}/slow", f"http://127.0.0.1:{closed_port}/x"):
            try:
                await http.get_json(url)
            except (RateLimitError, TransportError) as error:
                errors.append(error)
        return errors

    limited_error, slow_error, refused_error = _run(
        [web.get("/limited", limited), web.get("/slow", slow)], body
    )
    assert isinstance(limited_error, RateLimitError) and limited_error.retry_after == 2
    assert isinstance(slow_error, TransportError) and "timed out" in str(slow_error)
    assert isinstance(refused_error, TransportError)
