"""Relayed wallet transactions, checked as the relayer and the wallet contracts check them (pure).

The official client (``polymarket-client`` 0.14, ``_internal/actions/relayer/gasless.py``)
submits one envelope per wallet type to ``POST /submit``:

- ``PROXY``: ``to`` the proxy factory, ``proxyWallet``, ``data`` = ``proxy((uint8,address,
  uint256,bytes)[])`` of the calls, signed with ``eth_sign`` over the relay hash
  ``keccak("rlx:" from to data relayerFee gasPrice gasLimit nonce relayHub relay)``, the nonce
  and relay address coming from ``GET /relay-payload``;
- ``SAFE``: ``to`` the call target (or the MultiSend contract, ``operation`` 1 for several
  calls), ``proxyWallet`` the Safe, signed with ``eth_sign`` over the EIP-712 ``SafeTx`` hash
  (v + 4), the nonce from ``GET /v1/account/transactions/params``;
- ``WALLET``: ``depositWalletParams`` (wallet, deadline, calls) signed as EIP-712 ``Batch`` in
  the wallet's ``DepositWallet`` domain by its owner (session-key signatures are not modelled).

A refusal is an :class:`EnvelopeError` whose message is what the relayer answers (HTTP 400); the
stale-nonce text is the relayer's, so the client's own nonce retry works against the drill.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_account.messages import encode_typed_data
from eth_hash.auto import keccak
from polymarket._internal.actions.relayer.calls import TransactionCall
from polymarket._internal.actions.relayer.signing.deposit_wallet import (
    build_deposit_wallet_typed_data,
)
from polymarket._internal.actions.relayer.signing.proxy import build_proxy_transaction_hash
from polymarket._internal.actions.relayer.signing.safe import build_safe_typed_data
from polymarket._internal.environment import PRODUCTION_CONFIG
from polymarket.types import EvmAddress, HexString

from polymaker.drill.auth import recover_address
from polymaker.drill.chain import CHAIN_ID, Call, selector
from polymaker.exchange.wallet import WalletKind

RELAY_ADDRESS = "0x000000000000000000000000000000000000b0b0"  # the drill relayer's signer
_DERIVATION = PRODUCTION_CONFIG.wallet_derivation
PROXY_FACTORY = _DERIVATION.proxy_factory.lower()
DEPOSIT_WALLET_FACTORY = _DERIVATION.deposit_wallet_factory.lower()
SAFE_MULTISEND = PRODUCTION_CONFIG.safe_multisend.lower()
RELAY_HUB = PRODUCTION_CONFIG.relay_hub.lower()
KIND_OF_TYPE = {"PROXY": WalletKind.PROXY, "SAFE": WalletKind.SAFE, "WALLET": WalletKind.DEPOSIT}
_PROXY_CALL = selector("proxy((uint8,address,uint256,bytes)[])")
_MULTISEND = selector("multiSend(bytes)")


class EnvelopeError(ValueError):
    """The relayer refuses the submission (HTTP 400 with this message)."""


@dataclass(frozen=True)
class Envelope:
    """A checked relayed transaction: who signed, for which wallet, which calls."""

    kind: str  # PROXY, SAFE or WALLET
    signer: str
    wallet: str
    calls: list[Call]


WalletsOf = Callable[[str], dict[str, WalletKind]]


def check_envelope(
    body: dict[str, Any], *, nonce: Callable[[str, str], int], wallets_of: WalletsOf, now_s: int
) -> Envelope:
    """Verify a ``PROXY``/``SAFE``/``WALLET`` submission; ``nonce(signer, kind)`` is expected."""
    kind = body.get("type")
    signer = _address(body, "from")
    if kind not in KIND_OF_TYPE:
        raise EnvelopeError(f"the drill relayer does not run {kind!r} transactions")
    wallet_field = "proxyWallet" if kind != "WALLET" else None
    params = body.get("depositWalletParams") if kind == "WALLET" else None
    if kind == "WALLET":
        if not isinstance(params, dict):
            raise EnvelopeError("invalid request body: 'depositWalletParams' is required")
        wallet = _address(params, "depositWallet")
    else:
        wallet = _address(body, str(wallet_field))
    if wallets_of(signer).get(wallet) is not KIND_OF_TYPE[kind]:
        raise EnvelopeError(f"{wallet} is not the {KIND_OF_TYPE[kind].value} of {signer}")
    expected = nonce(signer, kind)
    given = _int(body.get("nonce"), "nonce")
    if given != expected:
        raise EnvelopeError(f"batch nonce {given} does not match on-chain nonce {expected}")
    if kind == "PROXY":
        calls = _proxy_calls(body, signer)
    elif kind == "SAFE":
        calls = _safe_calls(body, signer, wallet)
    else:
        assert isinstance(params, dict)
        calls = _wallet_calls(body, params, signer, wallet, now_s)
    return Envelope(kind, signer, wallet, calls)


def _address(container: dict[str, Any], key: str) -> str:
    value = container.get(key)
    if not isinstance(value, str) or len(value) != 42 or not value.startswith("0x"):
        raise EnvelopeError(f"invalid request body: {key!r} must be an address")
    return value.lower()


def _int(value: Any, key: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise EnvelopeError(f"invalid request body: {key!r} must be a decimal integer")


def _hex(value: Any, key: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise EnvelopeError(f"invalid request body: {key!r} must be 0x hex")
    try:
        return bytes.fromhex(value[2:])
    except ValueError:
        raise EnvelopeError(f"invalid request body: {key!r} must be 0x hex") from None


def _eth_signed(digest: bytes, signature: str) -> str:
    """The signer of an ``eth_sign`` signature (``v`` may be shifted by 4, as Safes pack it)."""
    raw = _hex(signature, "signature")
    if len(raw) != 65:
        raise EnvelopeError("invalid signature: must be 65 bytes")
    v = raw[64] - 4 if raw[64] in (31, 32) else raw[64]
    prefixed = keccak(b"\x19Ethereum Signed Message:\n32" + digest)
    try:
        return recover_address(prefixed, "0x" + raw[:64].hex() + bytes([v]).hex())
    except ValueError:
        return ""


def _typed_digest(typed: dict[str, Any]) -> bytes:
    signable = encode_typed_data(full_message=typed)
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def _proxy_calls(body: dict[str, Any], signer: str) -> list[Call]:
    params = body.get("signatureParams")
    if not isinstance(params, dict):
        raise EnvelopeError("invalid request body: 'signatureParams' is required")
    if _address(body, "to") != PROXY_FACTORY or _address(params, "relayHub") != RELAY_HUB:
        raise EnvelopeError("'to' is not the proxy factory or 'relayHub' is not the relay hub")
    if _address(params, "relay") != RELAY_ADDRESS:
        raise EnvelopeError("'relay' is not the relay address /relay-payload gave")
    data = _hex(body.get("data"), "data")
    digest = build_proxy_transaction_hash(
        from_address=EvmAddress(signer),
        to=EvmAddress(PROXY_FACTORY),
        data=HexString("0x" + data.hex()),
        relayer_fee=str(_int(params.get("relayerFee"), "relayerFee")),
        gas_price=str(_int(params.get("gasPrice"), "gasPrice")),
        gas_limit=str(_int(params.get("gasLimit"), "gasLimit")),
        nonce=str(_int(body.get("nonce"), "nonce")),
        relay_hub=EvmAddress(RELAY_HUB),
        relay=EvmAddress(RELAY_ADDRESS),
    )
    if _eth_signed(bytes.fromhex(digest[2:]), str(body.get("signature"))) != signer:
        raise EnvelopeError("invalid signature")
    if data[:4] != _PROXY_CALL:
        raise EnvelopeError("'data' is not a proxy(...) call")
    try:
        (items,) = abi_decode(["(uint8,address,uint256,bytes)[]"], data[4:])
    except Exception:  # eth_abi raises several types for bad calldata
        raise EnvelopeError("'data' does not decode as proxy calls") from None
    if any(type_code != 1 for type_code, _to, _value, _data in items):
        raise EnvelopeError("only CALL (type code 1) proxy calls are supported")
    return [Call(str(to).lower(), bytes(payload), int(value)) for _c, to, value, payload in items]


def _safe_calls(body: dict[str, Any], signer: str, safe: str) -> list[Call]:
    params = body.get("signatureParams")
    if not isinstance(params, dict):
        raise EnvelopeError("invalid request body: 'signatureParams' is required")
    target, data = _address(body, "to"), _hex(body.get("data"), "data")
    value, operation = _int(body.get("value", 0), "value"), _int(params.get("operation"), "op")
    typed = build_safe_typed_data(
        safe_address=EvmAddress(safe),
        to=EvmAddress(target),
        data=HexString("0x" + data.hex()),
        value=value,
        operation=operation,
        nonce=str(_int(body.get("nonce"), "nonce")),
        chain_id=CHAIN_ID,
    )
    if _eth_signed(_typed_digest(typed), str(body.get("signature"))) != signer:
        raise EnvelopeError("invalid signature")
    if operation == 0:
        return [Call(target, data, value)]
    if operation != 1 or target != SAFE_MULTISEND or data[:4] != _MULTISEND:
        raise EnvelopeError("a delegate call must be MultiSend.multiSend")
    return _multisend(data[4:])


def _multisend(encoded: bytes) -> list[Call]:
    try:
        (packed,) = abi_decode(["bytes"], encoded)
    except Exception:  # eth_abi raises several types for bad calldata
        raise EnvelopeError("'data' does not decode as multiSend(bytes)") from None
    calls, at = [], 0
    while at < len(packed):
        if packed[at] != 0 or at + 85 > len(packed):
            raise EnvelopeError("multiSend: only well-formed CALL items are supported")
        to = "0x" + packed[at + 1 : at + 21].hex()
        value = int.from_bytes(packed[at + 21 : at + 53], "big")
        length = int.from_bytes(packed[at + 53 : at + 85], "big")
        calls.append(Call(to, bytes(packed[at + 85 : at + 85 + length]), value))
        at += 85 + length
    return calls


def _wallet_calls(
    body: dict[str, Any], params: dict[str, Any], signer: str, wallet: str, now_s: int
) -> list[Call]:
    if _address(body, "to") != DEPOSIT_WALLET_FACTORY:
        raise EnvelopeError("'to' is not the deposit wallet factory")
    deadline = _int(params.get("deadline"), "deadline")
    if deadline < now_s:
        raise EnvelopeError("the batch deadline has passed")
    raw_calls = params.get("calls")
    if not isinstance(raw_calls, list) or not raw_calls:
        raise EnvelopeError("invalid request body: 'calls' must be a non-empty list")
    calls = []
    for item in raw_calls:
        if not isinstance(item, dict):
            raise EnvelopeError("invalid request body: a call must be an object")
        data = _hex(item.get("data"), "data")
        calls.append(Call(_address(item, "target"), data, _int(item.get("value"), "value")))
    signed_calls = [
        TransactionCall(EvmAddress(c.to), HexString("0x" + c.data.hex()), c.value) for c in calls
    ]
    typed = build_deposit_wallet_typed_data(
        wallet=EvmAddress(wallet),
        calls=signed_calls,
        nonce=str(_int(body.get("nonce"), "nonce")),
        deadline=str(deadline),
        chain_id=CHAIN_ID,
    )
    try:
        owner = recover_address(_typed_digest(typed), str(body.get("signature")))
    except ValueError:
        owner = ""
    if owner != signer:
        raise EnvelopeError("invalid signature: the batch is not signed by the wallet's owner")
    return calls


__all__ = [
    "KIND_OF_TYPE",
    "RELAY_ADDRESS",
    "Envelope",
    "EnvelopeError",
    "check_envelope",
]
