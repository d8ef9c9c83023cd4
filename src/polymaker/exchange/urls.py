"""Where the exchange lives: the five endpoint URLs every process role is pointed at.

Drill and live differ only in these URLs (and credentials). The drill exchange writes them to its
``--url-file`` once it is ready; ``config/global_config.json`` carries the same five keys under
``exchange``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import field_validator

from polymaker.config import ConfigModel, load_config_file

PRODUCTION_GAMMA_URL = "https://gamma-api.polymarket.com"
PRODUCTION_CLOB_URL = "https://clob.polymarket.com"
PRODUCTION_DATA_URL = "https://data-api.polymarket.com"
PRODUCTION_WS_MARKET_URL = "wss://ws-subscriptions-clob.polymarket.com/ws/market"
PRODUCTION_WS_USER_URL = "wss://ws-subscriptions-clob.polymarket.com/ws/user"
PRODUCTION_RELAYER_URL = "https://relayer-v2.polymarket.com"
PRODUCTION_RPC_URL = "https://polygon.drpc.org"  # the official client's default Polygon node


class ExchangeUrls(ConfigModel):
    """The exchange endpoints (defaults: Polymarket production).

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

    gamma_url: str = PRODUCTION_GAMMA_URL
    clob_url: str = PRODUCTION_CLOB_URL
    data_url: str = PRODUCTION_DATA_URL
    ws_market_url: str = PRODUCTION_WS_MARKET_URL
    ws_user_url: str = PRODUCTION_WS_USER_URL
    relayer_url: str | None = None
    rpc_url: str | None = None

    @field_validator("gamma_url", "clob_url", "data_url", "relayer_url", "rpc_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("ws_market_url", "ws_user_url")
    @classmethod
    def _ws_url(cls, value: str) -> str:
        if not value.startswith(("ws://", "wss://")):
            raise ValueError("must start with ws:// or wss://")
        return value

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

    @classmethod
    def from_file(cls, path: Path | str) -> ExchangeUrls:
        """Load a url-file (as ``polymaker sim --url-file`` writes it); raises ConfigError."""
        return load_config_file(cls, path)


PRODUCTION_URLS = ExchangeUrls()

__all__ = ["PRODUCTION_URLS", "ExchangeUrls"]
