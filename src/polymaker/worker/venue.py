"""The exchange side of one worker, per mode: who takes its orders and where its feeds come from.

``drill``/``live``: :class:`~polymaker.exchange.trading.Trading` signs real orders through the
SDK; the market channel gives the book, the authenticated user channel our orders and fills.
``paper``: :class:`~polymaker.paper.gateway.PaperGateway` rests simulated orders locally and
fills them by queue position from the same public market channel (``PaperMarketFeed`` hands it
every frame), and its own feed replaces the user channel. Paper needs no key and sends no
authenticated request; everything downstream (strategy, executor, reconciler) is the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import httpx

from polymaker.config.worker_params import WorkerParams
from polymaker.errors import ConfigError
from polymaker.exchange.http import JsonHttp
from polymaker.exchange.market_feed import KeepaliveSettings, MarketFeed, MarketFeedSettings
from polymaker.exchange.ratelimit import AccountRateLimiter
from polymaker.exchange.user_feed import ApiCredentials as FeedCredentials
from polymaker.exchange.user_feed import UserFeed
from polymaker.exchange.wire import AccountIdentity
from polymaker.paper.gateway import PAPER_ADDRESS, PaperGateway, PaperMarketFeed, PaperUserFeed

REST_TIMEOUT_S = 5.0

UserStream = UserFeed | PaperUserFeed
"""Our order and trade events: the authenticated user channel, or the paper gateway's."""


class WorkerFeeds(Protocol):
    """Builds the worker's two feeds (entered with ``async with`` by the runtime)."""

    def market_feed(
        self, params: WorkerParams, settings: MarketFeedSettings, http_client: httpx.AsyncClient
    ) -> MarketFeed: ...

    def user_feed(
        self, params: WorkerParams, keepalive: KeepaliveSettings, identity: AccountIdentity
    ) -> UserStream: ...


def _market_feed_args(params: WorkerParams) -> tuple[str, str, list[str]]:
    return (
        params.exchange.ws_market_url,
        params.exchange.clob_url,
        [
            params.yes_token,
            params.no_token,
        ],
    )


@dataclass(frozen=True)
class ExchangeFeeds:
    """drill/live: the market channel and the user channel authenticated with ``credentials``."""

    credentials: FeedCredentials

    def market_feed(
        self, params: WorkerParams, settings: MarketFeedSettings, http_client: httpx.AsyncClient
    ) -> MarketFeed:
        """Both tokens' books from the market channel (REST resync through ``http_client``)."""
        return MarketFeed(*_market_feed_args(params), settings=settings, http_client=http_client)

    def user_feed(
        self, params: WorkerParams, keepalive: KeepaliveSettings, identity: AccountIdentity
    ) -> UserFeed:
        """Our orders and trades in this market from the authenticated user channel."""
        return UserFeed(
            params.exchange.ws_user_url,
            self.credentials,
            identity,
            [params.condition_id],
            settings=keepalive,
        )


@dataclass(frozen=True)
class PaperFeeds:
    """paper: the public market channel, also driving ``gateway``'s fills, and its events."""

    gateway: PaperGateway

    def market_feed(
        self, params: WorkerParams, settings: MarketFeedSettings, http_client: httpx.AsyncClient
    ) -> MarketFeed:
        """The market channel; every frame fills paper orders before it updates the books."""
        return PaperMarketFeed(
            self.gateway, *_market_feed_args(params), settings=settings, http_client=http_client
        )

    def user_feed(
        self, params: WorkerParams, keepalive: KeepaliveSettings, identity: AccountIdentity
    ) -> PaperUserFeed:
        """The gateway's simulated order and trade events (no connection, no credentials)."""
        return self.gateway.user_feed()


def paper_gateway(params: WorkerParams, http_client: httpx.AsyncClient) -> PaperGateway:
    """The paper account of this worker: public reads at ``exchange.clob_url``, its ledger at
    ``params.paper_ledger_path`` (created with ``paper_cash_usdc`` the first time)."""
    http = JsonHttp(timeout_s=REST_TIMEOUT_S, client=http_client)
    return PaperGateway(
        http,
        params.exchange.clob_url,
        cash=params.paper_cash_usdc,
        ledger_path=params.paper_ledger_path,
        address=params.wallet_address or PAPER_ADDRESS,
    )


def rate_limiter(params: WorkerParams) -> AccountRateLimiter | None:
    """The account-wide request budget shared through ``ratelimit_dir`` (None when unset).

    A directory that cannot be created is a params problem (exit 2), not a crash.
    """
    if params.ratelimit_dir is None:
        return None
    try:
        return AccountRateLimiter(params.ratelimit_dir, fraction=params.ratelimit_fraction)
    except OSError as error:
        problem = f"cannot use {params.ratelimit_dir} for the shared rate limit: {error}"
        raise ConfigError(problem, key="ratelimit_dir") from error


__all__ = [
    "REST_TIMEOUT_S",
    "ExchangeFeeds",
    "PaperFeeds",
    "UserStream",
    "WorkerFeeds",
    "paper_gateway",
    "rate_limiter",
]
