"""One default TLS context for all the HTTP clients the SDK builds for one client object.

The SDK gives every host it knows its own ``httpx.AsyncClient`` (twelve for one secure client)
and httpx builds a fresh ``SSLContext`` for each, parsing the ~140 CA certificates every time:
about 21 ms of CPU and 0.9 MB of memory per context, so 0.26 s and ~10 MB per worker start,
before the first order. Inside :func:`shared_default_tls`, httpx's default context (verify on,
no client certificate) is built once per process and reused; verification is unchanged.

Sharing is scoped to the code inside the block (a ``ContextVar``, so other asyncio tasks are
not affected) because httpcore sets the ALPN list on the context at each TLS connect: every
client the SDK builds uses HTTP/2, so they agree on it, while our own HTTP/1.1 clients keep
contexts of their own. If a future httpx moves the hook this relies on, clients simply get
their own contexts again (slower, never less safe); ``tests/exchange/test_tls.py`` notices.
"""

from __future__ import annotations

import contextlib
import functools
import ssl
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

import httpx._transports.default as httpx_transports

_SHARING: ContextVar[bool] = ContextVar("polymaker_shared_default_tls", default=False)
_ORIGINAL = getattr(httpx_transports, "create_ssl_context", None)


@functools.cache
def _default_context() -> ssl.SSLContext:
    assert _ORIGINAL is not None
    context: ssl.SSLContext = _ORIGINAL(verify=True, cert=None, trust_env=True)
    return context


def _create_ssl_context(
    verify: Any = True, cert: Any = None, trust_env: bool = True
) -> ssl.SSLContext:
    """httpx's ``create_ssl_context``, answering the default case from the cache when sharing."""
    assert _ORIGINAL is not None
    if _SHARING.get() and verify is True and cert is None and trust_env:
        return _default_context()
    context: ssl.SSLContext = _ORIGINAL(verify=verify, cert=cert, trust_env=trust_env)
    return context


if _ORIGINAL is not None:
    # httpx does not export it (private module): the one patch point this module exists for
    httpx_transports.create_ssl_context = _create_ssl_context  # type: ignore[attr-defined]


def preload_default_context() -> None:
    """Build the shared context now (the worker template does, before it forks workers)."""
    _default_context()


@contextlib.contextmanager
def shared_default_tls() -> Iterator[None]:
    """Within the block (this task or thread only), default httpx clients share one context."""
    token = _SHARING.set(True)
    try:
        yield
    finally:
        _SHARING.reset(token)


__all__ = ["preload_default_context", "shared_default_tls"]
