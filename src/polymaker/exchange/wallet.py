"""The account polymaker trades for: a signing key and the wallet that holds funds and positions.

Polymarket accounts come in four kinds (polymarket_api.md 5.1, docs/accounts.md):

- a plain EOA (signature type 0): the key's own address holds everything;
- a proxy wallet (type 1, ``POLY_PROXY``): polymarket.com accounts made with an email login;
- a Safe (type 2, ``GNOSIS_SAFE``): polymarket.com accounts made with a browser wallet;
- a deposit wallet (type 3, ``POLY_1271``, ERC-1271 signatures): API accounts since mid-2026.

The wallet is classified from the key as the official client does, by the CREATE2 addresses of
the key's proxy, Safe and deposit wallets (the SDK's own derivations, with the factories of the
chain the venue settles on; the drill exchange uses the same ones). An address that is none of
them is refused: the SDK would treat it as a deposit wallet driven by a session key, which
polymaker does not support, and a mistyped address must not silently become an account.

Orders are then made by the wallet (``maker``) and signed by the key (``signer``; for a deposit
wallet the wallet itself is the signer and the key's signature is wrapped for ERC-1271). The
API credentials always belong to the key. The wallet address is not a secret and is logged.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from eth_utils.address import is_hex_address, to_checksum_address
from polymarket._internal.environment import PRODUCTION_CONFIG
from polymarket._internal.wallet import (
    WalletType,
    derive_beacon_deposit_wallet_address,
    derive_proxy_wallet_address,
    derive_safe_wallet_address,
    derive_uups_deposit_wallet_address,
)

from polymaker.errors import ConfigError

ENV_WALLET_ADDRESS = "POLYMAKER_WALLET_ADDRESS"
_DERIVATION = PRODUCTION_CONFIG.wallet_derivation


class WalletKind(StrEnum):
    """What holds the funds; the values are what logs, status and docs call them."""

    EOA = "eoa"
    PROXY = "proxy"
    SAFE = "safe"
    DEPOSIT = "deposit wallet"

    @property
    def signature_type(self) -> int:
        """The order's ``signatureType`` for this kind (0, 1, 2 or 3)."""
        return _SIGNATURE_TYPES[self]

    @property
    def sdk_type(self) -> WalletType:
        """The official client's name for this kind."""
        return _SDK_TYPES[self]


_SIGNATURE_TYPES = {
    WalletKind.EOA: 0,
    WalletKind.PROXY: 1,
    WalletKind.SAFE: 2,
    WalletKind.DEPOSIT: 3,
}
_SDK_TYPES: dict[WalletKind, WalletType] = {
    WalletKind.EOA: "EOA",
    WalletKind.PROXY: "POLY_PROXY",
    WalletKind.SAFE: "GNOSIS_SAFE",
    WalletKind.DEPOSIT: "DEPOSIT_WALLET",
}


@dataclass(frozen=True, slots=True)
class Wallet:
    """One account: ``address`` holds the funds, ``signer`` is the key's own address.

    Both are checksummed. ``kind`` says how orders are signed for ``address``.
    """

    address: str
    signer: str
    kind: WalletKind

    @property
    def signature_type(self) -> int:
        """The order's ``signatureType``."""
        return self.kind.signature_type

    @property
    def is_eoa(self) -> bool:
        """True when the key's own address holds the funds (no relayer, no deployment)."""
        return self.kind is WalletKind.EOA

    def describe(self) -> str:
        """``wallet 0x… (proxy, signature type 1), signer 0x…`` for logs, status and doctor."""
        return (
            f"wallet {self.address} ({self.kind.value}, signature type {self.signature_type}),"
            f" signer {self.signer}"
        )


def key_wallets(signer: str) -> dict[str, WalletKind]:
    """Every address the key ``signer`` can trade for, checksummed, with its kind.

    A deposit wallet has two derivations (the current beacon factory and the earlier UUPS
    one); the key may hold either, so both are listed.
    """
    owner = to_checksum_address(signer)
    return {
        owner: WalletKind.EOA,
        derive_proxy_wallet_address(owner, _DERIVATION): WalletKind.PROXY,
        derive_safe_wallet_address(owner, _DERIVATION): WalletKind.SAFE,
        derive_beacon_deposit_wallet_address(owner, _DERIVATION): WalletKind.DEPOSIT,
        derive_uups_deposit_wallet_address(owner, _DERIVATION): WalletKind.DEPOSIT,
    }


def checksummed_address(value: str) -> str:
    """``value`` as a checksummed address; ValueError (for config validators) when it is not."""
    text = value.strip()
    if not is_hex_address(text) or not text.startswith(("0x", "0X")):
        raise ValueError(f"{text!r} is not an address (0x followed by 40 hex digits)")
    return str(to_checksum_address(text))


def parse_wallet_address(value: str, *, key: str = "wallet_address") -> str:
    """A checksummed address from config or the environment; ConfigError when malformed."""
    try:
        return checksummed_address(value)
    except ValueError as error:
        raise ConfigError(str(error), key=key) from None


def classify_wallet(signer: str, wallet_address: str | None, *, source: str) -> Wallet:
    """The account of key ``signer`` acting for ``wallet_address`` (None: the key's own address).

    ``source`` names where the address came from (a config key or an environment variable),
    for the error. Raises ConfigError (exit 2) naming the address and the kinds tried when it
    is none of the key's wallets.
    """
    owner = to_checksum_address(signer)
    if wallet_address is None:
        return Wallet(owner, owner, WalletKind.EOA)
    address = parse_wallet_address(wallet_address, key=source)
    kind = key_wallets(owner).get(address)
    if kind is None:
        tried = ", ".join(k.value for k in WalletKind)
        raise ConfigError(
            f"{address} is none of the wallets of the key {owner} (tried: {tried}); set the "
            "address polymarket.com shows for this key's account, or null to trade from the "
            "key's own address (see docs/accounts.md)",
            key=source,
        )
    return Wallet(address, owner, kind)


def configured_wallet_address(
    config_value: str | None, environ: Mapping[str, str] | None = None
) -> tuple[str | None, str]:
    """The wallet address to use and where it came from (the environment overrides config)."""
    env = os.environ if environ is None else environ
    override = env.get(ENV_WALLET_ADDRESS, "").strip()
    if override:
        return override, ENV_WALLET_ADDRESS
    return config_value, "wallet_address"


__all__ = [
    "ENV_WALLET_ADDRESS",
    "Wallet",
    "WalletKind",
    "checksummed_address",
    "classify_wallet",
    "configured_wallet_address",
    "key_wallets",
    "parse_wallet_address",
]
