"""An ``httpx`` transport that moves the bytes with aiohttp, for clients that read a lot.

Why: a full screen reads ~40 MB of Gamma pages and books. httpx's pure-Python HTTP/1.1 stack
(h11, 64 KB reads) spent about 0.25 s of CPU on that over loopback; aiohttp's C parser spends
about 0.04 s (bench/RESULTS.md). Everything above the socket stays httpx's: ``JsonHttp`` keeps its
timeouts, retries and error translation, and tests keep using ``httpx.MockTransport``.

aiohttp's errors are mapped to httpx's own exception types here, so ``JsonHttp`` (the one place
that translates transport errors into ``polymaker.errors``) sees what it always sees. Bodies are
passed on undecoded (``auto_decompress=False``): httpx decodes ``Content-Encoding`` itself.
TLS uses httpx's default context (the same CA bundle), built on the first https request.
"""

from __future__ import annotations

import functools
import ssl

import aiohttp
import httpx


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """httpx's default context (verification on, the same CA bundle), built once."""
    return httpx.create_ssl_context()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """``httpx.AsyncBaseTransport`` over one ``aiohttp.ClientSession`` (built on first use, in
    the running loop; closed by ``aclose``). max_connections: the session's connection cap."""

    def __init__(self, *, max_connections: int = 16) -> None:
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(limit=self._max_connections)
        self._session = aiohttp.ClientSession(
            connector=connector, auto_decompress=False, skip_auto_headers=("User-Agent",)
        )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` and read the whole body (what ``JsonHttp`` needs anyway)."""
        session = self._session or self._open()
        limits = request.extensions.get("timeout", {})
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=limits.get("connect"), sock_read=limits.get("read")
        )
        url = str(request.url)
        try:
            async with session.request(
                request.method,
                url,
                headers=list(request.headers.multi_items()),
                data=await request.aread() or None,
                timeout=timeout,
                allow_redirects=False,
                ssl=_tls_context() if request.url.scheme == "https" else False,
            ) as response:
                body = await response.read()
                headers = list(response.raw_headers)
                status = response.status
        except TimeoutError as error:
            raise httpx.ReadTimeout(f"no answer in time: {error}", request=request) from error
        except aiohttp.ClientConnectorError as error:
            raise httpx.ConnectError(str(error), request=request) from error
        except aiohttp.ClientError as error:
            raise httpx.ReadError(f"{type(error).__name__}: {error}", request=request) from error
        return httpx.Response(status, headers=headers, content=body, request=request)

    async def aclose(self) -> None:
        """Close the session (and its connections) if one was opened."""
        if self._session is not None:
            await self._session.close()
            self._session = None


__all__ = ["AiohttpTransport"]
