"""Who may sign an order for whom: the venue's check of the four signature types, pure.

The exchange contracts accept an order when its signature proves the ``maker`` agreed:

- type 0 (EOA): the EIP-712 signature recovers to ``signer`` and ``maker == signer``;
- type 1 (POLY_PROXY) / 2 (GNOSIS_SAFE): it recovers to ``signer``, and ``maker`` is that
  signer's proxy wallet / Safe (CREATE2 addresses of the chain's factories);
- type 3 (POLY_1271, deposit wallets): ``maker == signer ==`` the deposit wallet, which checks
  the signature with ERC-1271. The wallet accepts an ERC-7739 "TypedDataSign" signature by its
  owner: ``ecdsa(65) || appDomainSeparator(32) || contentsHash(32) || contentsType ||
  uint16(len(contentsType))``, the ECDSA part over ``TypedDataSign{contents: Order, name:
  "DepositWallet", version: "1", chainId, verifyingContract: wallet, salt: 0}`` in the app
  (exchange) domain. Both deposit-wallet derivations (beacon and UUPS factory) are owners' wallets.

The domain is the market's exchange: CTF exchange V2 or the neg-risk one (version "2") for v1
markets, ExchangeV3 (version "3") for Protocol V2 markets. On top of the signature, the CLOB
requires the order's signer to be the API key's address; for a deposit wallet the signer is
the wallet, so the key's address must own it. A refusal is an :class:`OrderSignatureError`
whose message is the venue's text (``invalid order signature`` plus what failed).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from eth_hash.auto import keccak

from polymaker.drill.auth import (
    CHAIN_ID,
    SignedOrderFields,
    exchange_domain_separator,
    order_digest,
    order_struct_hash,
    recover_address,
)
from polymaker.exchange.wallet import WalletKind

STANDARD_EXCHANGE = "0xE111180000d2663C0091e4f400237545B87B996B"
NEG_RISK_EXCHANGE = "0xe2222d279d744050d28e00520010520000310F59"
EXCHANGE_V3 = "0xe3333700cA9d93003F00f0F71f8515005F6c00Aa"
SIGNER_IS_NOT_KEY = "the order signer address has to be the address of the API KEY"
INVALID_SIGNATURE = "invalid order signature"

_ORDER_TYPE_STRING = (
    b"Order(uint256 salt,address maker,address signer,uint256 tokenId,uint256 makerAmount,"
    b"uint256 takerAmount,uint8 side,uint8 signatureType,uint256 timestamp,bytes32 metadata,"
    b"bytes32 builder)"
)
_TYPED_DATA_SIGN_TYPE = keccak(
    b"TypedDataSign(Order contents,string name,string version,uint256 chainId,"
    b"address verifyingContract,bytes32 salt)" + _ORDER_TYPE_STRING
)
_DEPOSIT_WALLET_NAME = keccak(b"DepositWallet")
_DEPOSIT_WALLET_VERSION = keccak(b"1")
_KIND_OF_TYPE = {
    0: WalletKind.EOA,
    1: WalletKind.PROXY,
    2: WalletKind.SAFE,
    3: WalletKind.DEPOSIT,
}
_DOMAINS = {
    ("v1", False): exchange_domain_separator(STANDARD_EXCHANGE),
    ("v1", True): exchange_domain_separator(NEG_RISK_EXCHANGE),
    ("v2", False): exchange_domain_separator(EXCHANGE_V3, version="3"),
    ("v2", True): exchange_domain_separator(EXCHANGE_V3, version="3"),
}


class OrderSignatureError(ValueError):
    """The order is not validly signed for its maker (HTTP 400 with this venue message)."""


@dataclass(frozen=True, slots=True)
class SignedBy:
    """A verified order: its id (the EIP-712 digest) and the account that pays (``maker``)."""

    order_id: str
    maker: str
    kind: WalletKind


def domain_for(version: str, neg_risk: bool) -> bytes:
    """The exchange domain separator a market's orders are signed in."""
    return _DOMAINS[(version, neg_risk)]


def verify_order_signature(
    fields: SignedOrderFields,
    *,
    key_address: str,
    domain: bytes,
    wallets_of: Callable[[str], dict[str, WalletKind]],
    deployed: Collection[str],
) -> SignedBy:
    """Check ``fields`` was signed for its maker by the API key's owner ``key_address``.

    ``wallets_of(owner)`` lists an owner's wallet addresses (lower case) by kind; ``deployed``
    holds the deposit wallets that exist on chain (an undeployed one cannot check a signature).
    """
    kind = _KIND_OF_TYPE.get(fields.signature_type)
    if kind is None:
        raise OrderSignatureError(f"{INVALID_SIGNATURE}: unknown signatureType")
    digest = order_digest(fields, domain)
    if kind is WalletKind.DEPOSIT:
        _check_deposit_wallet(fields, key_address, domain, wallets_of, deployed)
    else:
        if fields.signer != key_address:
            raise OrderSignatureError(SIGNER_IS_NOT_KEY)
        if _recover(digest, fields.signature) != fields.signer:
            raise OrderSignatureError(INVALID_SIGNATURE)
        if wallets_of(fields.signer).get(fields.maker) is not kind:
            raise OrderSignatureError(
                f"{INVALID_SIGNATURE}: the maker is not the signer's {kind.value} "
                f"(signatureType {fields.signature_type})"
            )
    return SignedBy("0x" + digest.hex(), fields.maker, kind)


def _check_deposit_wallet(
    fields: SignedOrderFields,
    key_address: str,
    domain: bytes,
    wallets_of: Callable[[str], dict[str, WalletKind]],
    deployed: Collection[str],
) -> None:
    """Type 3: maker = signer = a deployed deposit wallet of the key's owner, ERC-7739 signed."""
    wallet = fields.signer
    if fields.maker != wallet:
        raise OrderSignatureError(f"{INVALID_SIGNATURE}: a deposit wallet order has maker = signer")
    if wallets_of(key_address).get(wallet) is not WalletKind.DEPOSIT:
        raise OrderSignatureError(SIGNER_IS_NOT_KEY)
    if wallet not in deployed:
        raise OrderSignatureError(f"{INVALID_SIGNATURE}: the deposit wallet is not deployed")
    ecdsa, app_domain, contents_hash, contents_type = _split_erc7739(fields.signature)
    if (
        app_domain != domain
        or contents_hash != order_struct_hash(fields)
        or contents_type != _ORDER_TYPE_STRING
    ):
        raise OrderSignatureError(f"{INVALID_SIGNATURE}: the wrapped order does not match")
    struct = keccak(
        _TYPED_DATA_SIGN_TYPE
        + contents_hash
        + _DEPOSIT_WALLET_NAME
        + _DEPOSIT_WALLET_VERSION
        + CHAIN_ID.to_bytes(32, "big")
        + bytes(12)
        + bytes.fromhex(wallet[2:])
        + bytes(32)
    )
    if _recover(keccak(b"\x19\x01" + app_domain + struct), ecdsa) != key_address:
        raise OrderSignatureError(INVALID_SIGNATURE)


def _split_erc7739(signature: str) -> tuple[str, bytes, bytes, bytes]:
    """The four parts of a wrapped signature; OrderSignatureError when it is not one."""
    try:
        raw = bytes.fromhex(signature[2:])
    except ValueError:
        raise OrderSignatureError(INVALID_SIGNATURE) from None
    if len(raw) < 65 + 64 + 2:
        raise OrderSignatureError(f"{INVALID_SIGNATURE}: not an ERC-7739 wrapped signature")
    type_length = int.from_bytes(raw[-2:], "big")
    if len(raw) != 65 + 64 + type_length + 2:
        raise OrderSignatureError(f"{INVALID_SIGNATURE}: not an ERC-7739 wrapped signature")
    return "0x" + raw[:65].hex(), raw[65:97], raw[97:129], raw[129:-2]


def _recover(digest: bytes, signature: str) -> str:
    try:
        return recover_address(digest, signature)
    except ValueError:
        return ""


__all__ = [
    "EXCHANGE_V3",
    "INVALID_SIGNATURE",
    "NEG_RISK_EXCHANGE",
    "SIGNER_IS_NOT_KEY",
    "STANDARD_EXCHANGE",
    "OrderSignatureError",
    "SignedBy",
    "domain_for",
    "verify_order_signature",
]
