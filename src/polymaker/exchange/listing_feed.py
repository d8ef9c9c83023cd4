"""New listings from the market channel: the venue's ``new_market`` events, as they happen.

``new_market`` is one of the custom-feature events (polymarket_api.md 4.1): a market-channel
connection that subscribes with ``custom_feature_enabled: true`` is told about every market the
venue lists, whatever tokens it watches. This feed holds one such connection with no tokens of
its own (it wants announcements, not books), keeps it alive and reconnects like every other
feed (``_ws``), and yields each ``NewMarket``. Announcements made while it is disconnected are
lost: the supervisor's periodic full screen is the safety net.

Usage::

    async with ListingFeed(urls.ws_market_url) as feed:
        async for listing in feed:
            ...  # a NewMarket
"""

from __future__ import annotations

import logging
import random
import time

import orjson

from polymaker.exchange._ws import (
    Clock,
    EventStream,
    KeepaliveSettings,
    Send,
    run_keepalive_loop,
)
from polymaker.exchange.wire import NewMarket, UnparsedEvent, decode_market_frame

log = logging.getLogger(__name__)


class ListingFeed(EventStream[NewMarket]):
    """``new_market`` events of the market channel at ``ws_url`` (see the module doc)."""

    def __init__(
        self,
        ws_url: str,
        *,
        keepalive: KeepaliveSettings | None = None,
        rng: random.Random | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        super().__init__()
        self._ws_url = ws_url
        self._keepalive = keepalive or KeepaliveSettings()
        self._rng = rng or random.Random()
        self._clock = clock

    async def _run(self) -> None:
        await run_keepalive_loop(self._ws_url, self._keepalive, self, self._rng, self._clock)

    async def on_open(self, send: Send, connection: int) -> None:
        """Subscribe to the custom-feature events only (no tokens: no books to send us)."""
        frame = {"type": "market", "assets_ids": [], "custom_feature_enabled": True}
        await send(orjson.dumps(frame).decode())
        log.info("listening for new listings on %s (connection %d)", self._ws_url, connection)

    def on_frame(self, data: str | bytes) -> None:
        """Forward every ``new_market``; anything else on this connection is ignored."""
        for event in decode_market_frame(data):
            if isinstance(event, NewMarket):
                self._emit(event)
            elif isinstance(event, UnparsedEvent) and event.tag == "new_market":
                log.warning("unreadable new_market announcement skipped: %s", event.reason)

    def on_close(self, reason: str) -> None:
        """Announcements until the reconnect are lost; the periodic screen catches them up."""
        log.warning("new-listing feed disconnected: %s", reason)


__all__ = ["ListingFeed", "NewMarket"]
