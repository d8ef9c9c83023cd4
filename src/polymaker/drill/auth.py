"""Venue authentication, pure: L1 (EIP-712 ClobAuth), L2 (HMAC) and signed-order recovery.

No I/O and no clock reads: the server passes ``now_s``. Signatures are recovered with
``coincurve`` directly (libsecp256k1), which keeps a signed order check near 0.1 ms.

Wire rules (polymarket_api.md 3.2, and the SDK ``polymarket-client`` 0.14.0 as it sends them):
- L1 headers ``POLY_ADDRESS``, ``POLY_SIGNATURE``, ``POLY_TIMESTAMP`` (unix s), ``POLY_NONCE``.
- L2 signature = urlsafe-base64(HMAC-SHA256(urlsafe-b64decode(secret),
  timestamp + METHOD + path + body)); ``path`` is the request path without the query string
  (the SDK signs the path it passes to httpx, and the drill serves each API at its port's root),
  ``body`` the exact bytes sent (the SDK's compact JSON), omitted when there is no body.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

import coincurve
from eth_hash.auto import keccak

CHAIN_ID = 137
CLOB_AUTH_MESSAGE = "This message attests that I control the given wallet"
UNAUTHORIZED = "Unauthorized/Invalid api key"
INVALID_L1 = "Invalid L1 Request headers"

_EIP712_DOMAIN_NO_CONTRACT = keccak(b"EIP712Domain(string name,string version,uint256 chainId)")
_EIP712_DOMAIN = keccak(
    b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
_CLOB_AUTH_TYPE = keccak(b"ClobAuth(address address,string timestamp,uint256 nonce,string message)")
_ORDER_TYPE = keccak(
    b"Order(uint256 salt,address maker,address signer,uint256 tokenId,uint256 makerAmount,"
    b"uint256 takerAmount,uint8 side,uint8 signatureType,uint256 timestamp,bytes32 metadata,"
    b"bytes32 builder)"
)
_UINT256_MAX = (1 << 256) - 1


class AuthError(Exception):
    """A request failed authentication; ``message`` is the venue's error text (HTTP 401)."""

    def __init__(self, message: str = UNAUTHORIZED) -> None:
        self.message = message
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class ApiCreds:
    """One API key: ``address`` is the lower-case EOA that created it."""

    key: str
    secret: str
    passphrase: str
    address: str


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _address_word(address: str) -> bytes:
    return bytes(12) + parse_address(address)


def parse_address(address: str) -> bytes:
    """The 20 bytes of a ``0x`` hex address; ValueError otherwise (checksum not enforced)."""
    if not isinstance(address, str) or len(address) != 42 or not address.startswith("0x"):
        raise ValueError(f"invalid address: {address!r}")
    return bytes.fromhex(address[2:])


def recover_address(digest: bytes, signature_hex: str) -> str:
    """The lower-case address that produced the 65-byte ``r||s||v`` signature of ``digest``."""
    raw = signature_hex[2:] if signature_hex.startswith("0x") else signature_hex
    try:
        sig = bytes.fromhex(raw)
    except ValueError as error:
        raise ValueError("signature is not hex") from error
    if len(sig) != 65:
        raise ValueError("signature must be 65 bytes")
    v = sig[64]
    recid = v - 27 if v >= 27 else v
    if recid not in (0, 1):
        raise ValueError("invalid signature recovery id")
    try:
        public = coincurve.PublicKey.from_signature_and_message(
            sig[:64] + bytes([recid]), digest, hasher=None
        )
    except Exception as error:  # coincurve raises plain Exception on bad points
        raise ValueError("signature does not recover") from error
    return "0x" + keccak(public.format(compressed=False)[1:])[-20:].hex()


def clob_auth_digest(address: str, timestamp: str, nonce: int, chain_id: int = CHAIN_ID) -> bytes:
    """EIP-712 digest of ``ClobAuth`` in domain ``ClobAuthDomain`` version ``1``."""
    domain = keccak(
        _EIP712_DOMAIN_NO_CONTRACT + keccak(b"ClobAuthDomain") + keccak(b"1") + _word(chain_id)
    )
    struct = keccak(
        _CLOB_AUTH_TYPE
        + _address_word(address)
        + keccak(timestamp.encode())
        + _word(nonce)
        + keccak(CLOB_AUTH_MESSAGE.encode())
    )
    return keccak(b"\x19\x01" + domain + struct)


def verify_l1(
    headers: Mapping[str, str], *, now_s: int, max_skew_s: int, chain_id: int = CHAIN_ID
) -> tuple[str, int]:
    """Check L1 headers; returns ``(lower-case address, nonce)`` or raises AuthError."""
    address = headers.get("POLY_ADDRESS", "")
    signature = headers.get("POLY_SIGNATURE", "")
    timestamp = headers.get("POLY_TIMESTAMP", "")
    nonce_text = headers.get("POLY_NONCE", "0") or "0"
    try:
        parse_address(address)
        nonce = int(nonce_text)
        ts = int(timestamp)
    except ValueError:
        raise AuthError(INVALID_L1) from None
    if not 0 <= nonce <= _UINT256_MAX or abs(now_s - ts) > max_skew_s:
        raise AuthError(INVALID_L1)
    try:
        signer = recover_address(clob_auth_digest(address, timestamp, nonce, chain_id), signature)
    except ValueError:
        raise AuthError(INVALID_L1) from None
    if signer != address.lower():
        raise AuthError(INVALID_L1)
    return signer, nonce


def derive_creds(server_secret: bytes, address: str, nonce: int) -> ApiCreds:
    """Deterministic API credentials for ``(address, nonce)`` under this server's secret."""
    address = address.lower()
    seed = hmac.new(server_secret, f"{address}:{nonce}".encode(), hashlib.sha256).digest()
    more = hmac.new(server_secret, seed, hashlib.sha256).digest()
    return ApiCreds(
        key=str(uuid.UUID(bytes=seed[:16], version=4)),
        secret=base64.urlsafe_b64encode(seed[16:] + more[:16]).decode(),
        passphrase=more[16:].hex(),
        address=address,
    )


def hmac_signature(secret: str, message: str) -> str:
    """urlsafe-base64 HMAC-SHA256 with the urlsafe-base64 ``secret``, as the SDK computes it."""
    key = base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))
    return base64.urlsafe_b64encode(
        hmac.new(key, message.encode(), hashlib.sha256).digest()
    ).decode()


def verify_l2(
    headers: Mapping[str, str],
    *,
    method: str,
    path: str,
    body: str,
    keys: Mapping[str, ApiCreds],
    now_s: int,
    max_skew_s: int,
) -> ApiCreds:
    """Check L2 headers against the known keys; returns the key's record or raises AuthError."""
    creds = keys.get(headers.get("POLY_API_KEY", ""))
    if creds is None:
        raise AuthError()
    if not hmac.compare_digest(headers.get("POLY_PASSPHRASE", ""), creds.passphrase):
        raise AuthError()
    if headers.get("POLY_ADDRESS", "").lower() != creds.address:
        raise AuthError()
    timestamp = headers.get("POLY_TIMESTAMP", "")
    try:
        ts = int(timestamp)
    except ValueError:
        raise AuthError() from None
    if abs(now_s - ts) > max_skew_s:
        raise AuthError()
    expected = hmac_signature(creds.secret, f"{timestamp}{method}{path}{body}")
    if not hmac.compare_digest(headers.get("POLY_SIGNATURE", ""), expected):
        raise AuthError()
    return creds


def exchange_domain_separator(
    verifying_contract: str, *, version: str = "2", chain_id: int = CHAIN_ID
) -> bytes:
    """EIP-712 domain separator of the CTF exchange ``verifying_contract``."""
    return keccak(
        _EIP712_DOMAIN
        + keccak(b"Polymarket CTF Exchange")
        + keccak(version.encode())
        + _word(chain_id)
        + _address_word(verifying_contract)
    )


@dataclass(frozen=True, slots=True)
class SignedOrderFields:
    """The signed fields of a V2 order, already type-checked (see :func:`parse_order_fields`)."""

    salt: int
    maker: str
    signer: str
    token_id: str
    maker_amount: int
    taker_amount: int
    side: str
    signature_type: int
    timestamp: int
    metadata: bytes
    builder: bytes
    signature: str
    expiration: int


def order_digest(order: SignedOrderFields, domain_separator: bytes) -> bytes:
    """EIP-712 digest of the 11-field V2 ``Order`` struct; its hex is the venue's order id."""
    return keccak(b"\x19\x01" + domain_separator + order_struct_hash(order))


def order_struct_hash(order: SignedOrderFields) -> bytes:
    """EIP-712 ``hashStruct`` of the order (also the ``contentsHash`` of an ERC-7739 wrap)."""
    return keccak(
        _ORDER_TYPE
        + _word(order.salt)
        + _address_word(order.maker)
        + _address_word(order.signer)
        + _word(int(order.token_id))
        + _word(order.maker_amount)
        + _word(order.taker_amount)
        + _word(0 if order.side == "BUY" else 1)
        + _word(order.signature_type)
        + _word(order.timestamp)
        + order.metadata
        + order.builder
    )


class OrderPayloadError(ValueError):
    """The ``order`` of a POST /order body is malformed (400 ``Invalid order payload``)."""


def _uint(value: object, name: str, *, allow_int: bool = True) -> int:
    if isinstance(value, bool):
        raise OrderPayloadError(f"{name} must be an integer")
    if isinstance(value, int) and allow_int:
        number = value
    elif isinstance(value, str) and value.isdigit():
        number = int(value)
    else:
        raise OrderPayloadError(f"{name} must be an unsigned integer")
    if number > _UINT256_MAX:
        raise OrderPayloadError(f"{name} is out of range")
    return number


def _bytes32(value: object, name: str) -> bytes:
    if not isinstance(value, str) or len(value) != 66 or not value.startswith("0x"):
        raise OrderPayloadError(f"{name} must be 0x-prefixed 32-byte hex")
    try:
        return bytes.fromhex(value[2:])
    except ValueError:
        raise OrderPayloadError(f"{name} must be 0x-prefixed 32-byte hex") from None


def _address(value: object, name: str) -> str:
    try:
        parse_address(value)  # type: ignore[arg-type]
    except (ValueError, TypeError):
        raise OrderPayloadError(f"{name} must be a 0x address") from None
    return str(value).lower()


def parse_order_fields(order: object) -> SignedOrderFields:
    """Type-check the wire ``order`` object (field names and types as the SDK sends them)."""
    if not isinstance(order, dict):
        raise OrderPayloadError("order must be an object")
    side = order.get("side")
    if side not in ("BUY", "SELL"):
        raise OrderPayloadError("side must be BUY or SELL")
    signature = order.get("signature")
    if not isinstance(signature, str) or not signature.startswith("0x"):
        raise OrderPayloadError("signature must be 0x-prefixed hex")
    token_id = order.get("tokenId")
    if not isinstance(token_id, str) or not token_id.isdigit():
        raise OrderPayloadError("tokenId must be a decimal string")
    return SignedOrderFields(
        salt=_uint(order.get("salt"), "salt"),
        maker=_address(order.get("maker"), "maker"),
        signer=_address(order.get("signer"), "signer"),
        token_id=token_id,
        maker_amount=_uint(order.get("makerAmount"), "makerAmount", allow_int=False),
        taker_amount=_uint(order.get("takerAmount"), "takerAmount", allow_int=False),
        side=side,
        signature_type=_uint(order.get("signatureType"), "signatureType"),
        timestamp=_uint(order.get("timestamp"), "timestamp"),
        metadata=_bytes32(order.get("metadata"), "metadata"),
        builder=_bytes32(order.get("builder"), "builder"),
        signature=signature,
        expiration=_uint(order.get("expiration", "0"), "expiration"),
    )
