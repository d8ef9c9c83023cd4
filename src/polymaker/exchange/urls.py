"""Where the exchange lives: the five endpoint URLs every process role is pointed at.

Drill and live differ only in these URLs (and credentials). The drill exchange writes them to its
``--url-file`` once it is ready; ``config/global_config.json`` carries the same five keys under
``exchange``.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import field_validator

from polymaker.config import ConfigModel, load_config_file

PRODUCTION_GAMMA_URL = "https://gamma-api.polymarket.com"
PRODUCTION_CLOB_URL = "https://clob.polymarket.com"
PRODUCTION_DATA_URL = "https://data-api.polymarket.com"
PRODUCTION_WS_MARKET_URL = "wss://ws-subscriptions-clob.polymarket.com/ws/market"
PRODUCTION_WS_USER_URL = "wss://ws-subscriptions-clob.polymarket.com/ws/user"
PRODUCTION_RELAYER_URL = "https://relayer-v2.polymarket.com"
PRODUCTION_RPC_URL = "https://polygon.drpc.org"  # the official client's default Polygon node
PRODUCTION_DOMAIN = "polymarket.com"


HTTP_SCHEMES = ("http://", "https://")
WS_SCHEMES = ("ws://", "wss://")


def checked_url(value: str, schemes: tuple[str, ...]) -> str:
    """``value`` if it starts with one of ``schemes`` and names a host; else ValueError."""
    if not value.startswith(schemes):
        raise ValueError(f"must start with {' or '.join(schemes)}")
    try:
        host = urlsplit(value).hostname
    except ValueError:
        host = None
    if not host:
        raise ValueError("is not a URL with a host name")
    return value


def is_production_host(url: str) -> bool:
    """True when ``url`` points at Polymarket: ``polymarket.com`` or any host under it.

    Judged by host name alone, so no case, port, path, userinfo or trailing dot hides it
    (``https://CLOB.polymarket.com:443/`` is production). The one rule behind "drill never
    reaches production": a URL that cannot be parsed counts as production too.
    """
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return True
    if host is None:
        return True
    host = host.rstrip(".")
    return host == PRODUCTION_DOMAIN or host.endswith("." + PRODUCTION_DOMAIN)


class ExchangeUrls(ConfigModel):
    """The exchange endpoints; each of the five must be given (none defaults to production).

    gamma_url: Gamma market metadata API base URL (http/https, no trailing slash).
    clob_url: CLOB REST base URL (public data, auth, orders, ``/_sim/`` on the drill exchange).
    data_url: Data API base URL (positions, trades).
    ws_market_url: complete market-channel WebSocket URL (ws/wss, ending in ``/ws/market``).
    ws_user_url: complete user-channel WebSocket URL (ending in ``/ws/user``).
    relayer_url: the relayer the official client asks about proxy, Safe and deposit wallets
    (deployed or not, deposit-wallet deployment). Not one of the five: None means Polymarket's
    relayer when the five are Polymarket's, else no relayer (:attr:`relayer`), which only a
    plain EOA account can do without.
    rpc_url: a Polygon JSON-RPC node: the official client reads Protocol V2 balances there
    when it redeems, and a plain EOA sends its redemptions through it (paying gas). None means
    the official client's public node when the five are Polymarket's, else none
    (:attr:`rpc`); the drill exchange serves one and writes it to its url-file.
    """

    gamma_url: str
    clob_url: str
    data_url: str
    ws_market_url: str
    ws_user_url: str
    relayer_url: str | None = None
    rpc_url: str | None = None

    @field_validator("gamma_url", "clob_url", "data_url", "relayer_url", "rpc_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        return None if value is None else checked_url(value, HTTP_SCHEMES).rstrip("/")

    @field_validator("ws_market_url", "ws_user_url")
    @classmethod
    def _ws_url(cls, value: str) -> str:
        return checked_url(value, WS_SCHEMES)

    @property
    def is_production(self) -> bool:
        """True when the five trading URLs are Polymarket's production endpoints."""
        optional = {"relayer_url", "rpc_url"}
        return self.model_dump(exclude=optional) == PRODUCTION_URLS.model_dump(exclude=optional)

    @property
    def relayer(self) -> str | None:
        """The relayer to use: the configured one, Polymarket's for production, else None."""
        if self.relayer_url is None and self.is_production:
            return PRODUCTION_RELAYER_URL
        return self.relayer_url

    @property
    def rpc(self) -> str | None:
        """The Polygon node to use: the configured one, the public one for production, else None."""
        if self.rpc_url is None and self.is_production:
            return PRODUCTION_RPC_URL
        return self.rpc_url

    @property
    def production_urls(self) -> list[str]:
        """The URLs (relayer included) whose host is Polymarket's (``is_production_host``)."""
        urls = self.model_dump(exclude_none=True).values()
        return [url for url in urls if is_production_host(url)]

    @classmethod
    def from_file(cls, path: Path | str) -> ExchangeUrls:
        """Load a url-file (as ``polymaker sim --url-file`` writes it); raises ConfigError."""
        return load_config_file(cls, path)


PRODUCTION_URLS = ExchangeUrls(
    gamma_url=PRODUCTION_GAMMA_URL,
    clob_url=PRODUCTION_CLOB_URL,
    data_url=PRODUCTION_DATA_URL,
    ws_market_url=PRODUCTION_WS_MARKET_URL,
    ws_user_url=PRODUCTION_WS_USER_URL,
)

__all__ = ["PRODUCTION_URLS", "ExchangeUrls", "checked_url", "is_production_host"]
