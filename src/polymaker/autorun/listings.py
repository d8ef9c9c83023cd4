"""New listings screened at once: the market channel's ``new_market``, then a one-market screen.

With ``topics_poll_sec`` at 300, a market listed just after a screen would wait up to five
minutes before anyone looks at it. The venue announces listings on the market channel
(``ListingFeed``); each announcement is screened right away through every criterion and the
blacklist (``screen_market_async``: the same code as a full screen, for one market), and a
market that qualifies goes to the supervisor's ``accept`` exactly like a screened topic, so the
ledger, the queue and the launch guard treat it as any other. The periodic full screen stays
the safety net for announcements missed while disconnected, and it alone applies
``one_per_event`` across markets (a one-market screen sees only its own market).

The supervisor's only contact with this module: build ``ListingWatch(urls, filter_config,
accept)`` and run ``watch.run()`` as a job; cancelling it closes the connection.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from polymaker.errors import PolymakerError
from polymaker.exchange.listing_feed import ListingFeed, NewMarket
from polymaker.exchange.urls import ExchangeUrls
from polymaker.screener import load_filter_params, screen_market_async
from polymaker.screener.output import topic_document

log = logging.getLogger("polymaker.autorun.listings")

Accept = Callable[[list[dict[str, Any]]], None]


class ListingWatch:
    """Screens every market the venue announces (see the module doc)."""

    def __init__(
        self,
        urls: ExchangeUrls,
        filter_config: Path,
        accept: Accept,
        *,
        feed: ListingFeed | None = None,
    ) -> None:
        self._urls = urls
        self._filter_config = filter_config
        self._accept = accept
        self._feed = feed or ListingFeed(urls.ws_market_url)
        self._screens: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Listen until cancelled; each announcement is screened in a task of its own."""
        try:
            async with self._feed as feed:
                async for listing in feed:
                    task = asyncio.create_task(self._screen(listing))
                    self._screens.add(task)
                    task.add_done_callback(self._screens.discard)
        finally:
            for task in list(self._screens):
                task.cancel()
            await asyncio.gather(*self._screens, return_exceptions=True)

    async def _screen(self, listing: NewMarket) -> None:
        """One new market through the screener; a failure only waits for the full screen."""
        started = time.monotonic()
        try:
            params = load_filter_params(self._filter_config)
            result = await screen_market_async(
                params,
                listing.market_id,
                gamma_url=self._urls.gamma_url,
                clob_url=self._urls.clob_url,
            )
        except PolymakerError as error:
            log.warning("new listing %s not screened (%s); the next full screen will", listing.slug
                        or listing.market_id, error)  # fmt: skip
            return
        elapsed = time.monotonic() - started
        if not result.topics:
            reasons = ", ".join(f"{r.reason.value} {r.detail}".strip() for r in result.rejections)
            log.info("new listing %s screened out in %.2f s: %s", listing.slug, elapsed, reasons)
            return
        documents = [topic_document(topic, result) for topic in result.topics]
        log.info("new listing %s qualifies (screened in %.2f s)", listing.slug, elapsed)
        self._accept(documents)


__all__ = ["ListingWatch"]
