"""A small async JSON-over-HTTP layer: timeouts, retries, and one place that translates errors.

Only this module catches ``httpx`` exceptions. Every failure leaves it as one of
``polymaker.errors``: no answer or a timeout -> ``TransportError``; HTTP 429 ->
``RateLimitError`` (with ``Retry-After``); any other non-2xx -> ``RequestRejectedError``; a body
that is not JSON -> ``UnexpectedResponseError``. Retryable failures (see ``retry.should_retry``)
are repeated with capped exponential backoff and jitter, never sooner than ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any

import httpx
import orjson

from polymaker.errors import (
    ExchangeError,
    RateLimitError,
    RequestRejectedError,
    TransportError,
    UnexpectedResponseError,
)
from polymaker.exchange.retry import RetryPolicy, parse_retry_after, retry_delay, should_retry

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 10.0
DEFAULT_MAX_CONNECTIONS = 16
_MAX_MESSAGE_CHARS = 300

Sleep = Callable[[float], Awaitable[None]]
Decode = Callable[[bytes], Any]  # raises ValueError when the body is not what was expected
QueryValue = str | int | float | bool
Query = Mapping[str, QueryValue | None]


class JsonHttp:
    """JSON GET/POST with a per-request timeout and retries; use as ``async with``.

    client: an ``httpx.AsyncClient`` to use (not closed here); otherwise one is built, on
    ``transport`` when given (e.g. ``httpx.MockTransport`` in tests), and closed by ``aclose``.
    sleep: awaited between retries (tests pass a recorder instead of real waiting).
    """

    def __init__(
        self,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        policy: RetryPolicy | None = None,
        rng: random.Random | None = None,
        client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if timeout_s <= 0:
            raise ValueError("timeout_s must be > 0")
        self.timeout_s = timeout_s
        self.policy = policy or RetryPolicy()
        self._rng = rng or random.Random()
        self._sleep = sleep
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(
            transport=transport,
            timeout=timeout_s,
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            headers={"Accept": "application/json", "User-Agent": "polymaker"},
        )

    async def __aenter__(self) -> JsonHttp:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._owns_client:
            await self._client.aclose()

    async def get_json(
        self, url: str, params: Query | None = None, *, decode: Decode = orjson.loads
    ) -> Any:
        """GET ``url`` and return the decoded JSON body (query values None are left out).

        decode: bytes -> value (default: plain JSON); a typed decoder (e.g. msgspec) skips the
        keys the caller does not read. Its ValueError becomes ``UnexpectedResponseError``.
        """
        query = {k: _query_text(v) for k, v in (params or {}).items() if v is not None}
        return await self._with_retries("GET", url, query, None, decode)

    async def post_json(self, url: str, body: Any, *, decode: Decode = orjson.loads) -> Any:
        """POST ``body`` as JSON to ``url`` and return the decoded answer (``decode``: as GET)."""
        return await self._with_retries("POST", url, None, orjson.dumps(body), decode)

    async def _with_retries(
        self,
        method: str,
        url: str,
        query: dict[str, str] | None,
        body: bytes | None,
        decode: Decode,
    ) -> Any:
        attempts = self.policy.attempts
        for attempt in range(1, attempts + 1):
            try:
                return await self._once(method, url, query, body, decode)
            except ExchangeError as error:
                if not should_retry(error):
                    raise
                if attempt == attempts:
                    raise _gave_up(error, attempts) from error
                retry_after = getattr(error, "retry_after", None)
                delay = retry_delay(attempt, self.policy, self._rng, retry_after)
                log.warning(
                    "%s %s failed (%s); retry %d in %.2fs", method, url, error, attempt, delay
                )
                await self._sleep(delay)
        raise AssertionError("unreachable: the loop returns or raises")

    async def _once(
        self,
        method: str,
        url: str,
        query: dict[str, str] | None,
        body: bytes | None,
        decode: Decode,
    ) -> Any:
        headers = {"Content-Type": "application/json"} if body is not None else None
        try:
            response = await self._client.request(
                method, url, params=query, content=body, headers=headers, timeout=self.timeout_s
            )
        except httpx.TimeoutException as error:
            raise TransportError(
                url, f"timed out after {self.timeout_s:g}s ({_name(error)})"
            ) from error
        except httpx.HTTPError as error:
            raise TransportError(url, f"{_name(error)}: {error}".rstrip(": ")) from error
        status = response.status_code
        if status == 429:
            raise RateLimitError(
                url,
                status,
                _excerpt(response),
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        if not 200 <= status < 300:
            raise RequestRejectedError(
                url,
                status,
                _excerpt(response),
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        try:
            return decode(response.content)
        except ValueError as error:  # orjson.JSONDecodeError and msgspec's errors are ValueErrors
            raise UnexpectedResponseError(
                f"{url}: HTTP {status} body is not JSON of the expected shape ({error}): "
                f"{_excerpt(response)!r}"
            ) from error


def _gave_up(error: ExchangeError, attempts: int) -> ExchangeError:
    """The last error again, its message saying that retries are exhausted."""
    note = f" (gave up after {attempts} attempt{'s' if attempts > 1 else ''})"
    if isinstance(error, RequestRejectedError):
        return type(error)(
            error.url, error.status, error.message + note, retry_after=error.retry_after
        )
    if isinstance(error, TransportError):
        return TransportError(error.url, error.problem + note)
    return error


def _query_text(value: QueryValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _name(error: BaseException) -> str:
    return type(error).__name__


def _excerpt(response: httpx.Response) -> str:
    text = response.text.strip().replace("\n", " ")
    if len(text) > _MAX_MESSAGE_CHARS:
        text = text[:_MAX_MESSAGE_CHARS] + "..."
    return text or response.reason_phrase or "(empty body)"


__all__ = ["DEFAULT_TIMEOUT_S", "JsonHttp", "Query"]
