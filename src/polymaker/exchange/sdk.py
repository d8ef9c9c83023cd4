"""Polymarket's official SDK (``polymarket-client``) pointed at any set of exchange URLs.

The SDK only ships a ``PRODUCTION`` environment; a custom one is built with its internal
``create_environment`` from a copy of the production config with the five hosts replaced.
In a non-production environment every other host the SDK knows (relayer, RPC, RFQ, perps,
real-time feeds) is pointed at the drill exchange too, so a stray call fails fast on loopback
instead of reaching production.

Secure clients act for one :class:`~polymaker.exchange.wallet.Wallet` (``wallet=`` its address,
always given: without it the SDK would pick the key's deposit wallet on its own). For a plain
EOA the SDK makes no relayer call; for a proxy, Safe or deposit wallet it asks the relayer
whether the wallet is deployed, and deploys an undeployed deposit wallet when it has a relayer
API key. Orders are then signed with the wallet's signature type.

Every client is built inside ``shared_default_tls`` (see ``tls.py``): its dozen HTTP clients
share one TLS context instead of parsing the CA bundle a dozen times.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from eth_account import Account
from polymarket import (
    PRODUCTION,
    AsyncPublicClient,
    AsyncSecureClient,
    Environment,
    PublicClient,
    SecureClient,
)
from polymarket._internal.environment import PRODUCTION_CONFIG, create_environment
from polymarket.auth import RelayerApiKey
from polymarket.models.clob import ApiKeyCreds

from polymaker.errors import ConfigError
from polymaker.exchange.tls import shared_default_tls
from polymaker.exchange.urls import ExchangeUrls
from polymaker.exchange.wallet import Wallet

_DRILL_ENVIRONMENT_NAME = "polymaker-custom"


def environment_for(urls: ExchangeUrls) -> Environment:
    """The SDK environment whose CLOB, Gamma, Data and WebSocket hosts are ``urls``."""
    if urls.is_production:
        return PRODUCTION
    http_fallback = urls.clob_url
    ws_fallback = urls.ws_market_url
    config = dataclasses.replace(
        PRODUCTION_CONFIG,
        clob_url=urls.clob_url,
        gamma_url=urls.gamma_url,
        data_url=urls.data_url,
        clob_market_ws_url=urls.ws_market_url,
        clob_user_ws_url=urls.ws_user_url,
        relayer_url=urls.relayer or http_fallback,
        rpc_url=http_fallback,
        rfq_url=http_fallback,
        builder_gateway_url=http_fallback,
        collateral_return_url=http_fallback,
        perps_url=http_fallback,
        rtds_ws_url=ws_fallback,
        sports_ws_url=ws_fallback,
        realtime_ws_url=ws_fallback,
        perps_ws_url=ws_fallback,
        rfq_quoter_ws_url=ws_fallback,
    )
    return create_environment(name=_DRILL_ENVIRONMENT_NAME, config=config)


def signer_address(private_key: str) -> str:
    """The checksummed address of ``private_key`` (the EOA that signs and holds funds)."""
    return str(Account.from_key(private_key).address)


def create_secure_client(
    private_key: str,
    urls: ExchangeUrls,
    *,
    wallet: Wallet | None = None,
    credentials: ApiKeyCreds | None = None,
    relayer_key: RelayerApiKey | None = None,
    nonce: int = 0,
    logger: logging.Logger | None = None,
) -> SecureClient:
    """A synchronous authenticated client acting for ``wallet`` (None: the key's own address).

    Derives (create-or-derive) API credentials over L1 unless ``credentials`` are given, in
    which case the SDK checks them with ``GET /auth/api-keys``. ``relayer_key`` lets the SDK
    deploy an undeployed deposit wallet. Raises the SDK's ``RequestRejectedError``/
    ``TransportError`` when the exchange refuses or is unreachable, its ``UserInputError`` when
    a wallet is not deployed and cannot be, and ConfigError when a non-EOA wallet has no relayer.
    """
    arguments = _client_arguments(
        private_key, urls, wallet, credentials, relayer_key, nonce, logger
    )
    with shared_default_tls():
        return SecureClient.create(**arguments)


async def create_async_secure_client(
    private_key: str,
    urls: ExchangeUrls,
    *,
    wallet: Wallet | None = None,
    credentials: ApiKeyCreds | None = None,
    relayer_key: RelayerApiKey | None = None,
    nonce: int = 0,
    logger: logging.Logger | None = None,
) -> AsyncSecureClient:
    """The asyncio variant of :func:`create_secure_client`."""
    arguments = _client_arguments(
        private_key, urls, wallet, credentials, relayer_key, nonce, logger
    )
    with shared_default_tls():
        return await AsyncSecureClient.create(**arguments)


def _client_arguments(
    private_key: str,
    urls: ExchangeUrls,
    wallet: Wallet | None,
    credentials: ApiKeyCreds | None,
    relayer_key: RelayerApiKey | None,
    nonce: int,
    logger: logging.Logger | None,
) -> dict[str, Any]:
    """What both secure clients are created with: always an explicit wallet address."""
    if wallet is not None and not wallet.is_eoa and urls.relayer is None:
        raise ConfigError(
            f"a {wallet.kind.value} needs the relayer (the client asks it whether the wallet "
            "is deployed): set exchange.relayer_url (a drill url-file has it)",
            key="exchange.relayer_url",
        )
    return {
        "private_key": private_key,
        "wallet": signer_address(private_key) if wallet is None else wallet.address,
        "environment": environment_for(urls),
        "credentials": credentials,
        "api_key": relayer_key,
        "nonce": nonce,
        "logger": logger,
    }


def create_public_client(
    urls: ExchangeUrls, *, logger: logging.Logger | None = None
) -> PublicClient:
    """An unauthenticated synchronous client (Gamma, CLOB market data, Data API)."""
    with shared_default_tls():
        return PublicClient(environment_for(urls), logger=logger)


def create_async_public_client(
    urls: ExchangeUrls, *, logger: logging.Logger | None = None
) -> AsyncPublicClient:
    """An unauthenticated asyncio client."""
    with shared_default_tls():
        return AsyncPublicClient(environment_for(urls), logger=logger)


__all__ = [
    "create_async_public_client",
    "create_async_secure_client",
    "create_public_client",
    "create_secure_client",
    "environment_for",
    "signer_address",
]
