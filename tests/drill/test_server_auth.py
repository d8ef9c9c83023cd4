"""Venue authentication against the SDK's own signing code (L1, L2 HMAC, V2 order signatures)."""

from __future__ import annotations

import pytest
from eth_account import Account
from polymarket._internal.actions.orders.typed_data import build_order_typed_data
from polymarket._internal.actions.orders.types import BYTES32_ZERO, UnsignedOrder
from polymarket._internal.hmac import build_hmac_signature
from polymarket._internal.l1_auth import sign_api_key_auth

from polymaker.drill.auth import (
    INVALID_L1,
    AuthError,
    OrderPayloadError,
    derive_creds,
    exchange_domain_separator,
    order_digest,
    parse_order_fields,
    recover_address,
    verify_l1,
    verify_l2,
)

NOW = 1_790_000_000
ACCOUNT = Account.from_key("0x" + "42" * 32)
EXCHANGE = "0xE111180000d2663C0091e4f400237545B87B996B"


def _l1_headers(timestamp: int = NOW, nonce: int = 0) -> dict[str, str]:
    signed = sign_api_key_auth(ACCOUNT, chain_id=137, timestamp=timestamp, nonce=nonce)
    return {
        "POLY_ADDRESS": signed.address,
        "POLY_SIGNATURE": signed.signature,
        "POLY_TIMESTAMP": str(signed.timestamp),
        "POLY_NONCE": str(signed.nonce),
    }


def test_l1_recovers_the_sdk_signer_and_nonce() -> None:
    address, nonce = verify_l1(_l1_headers(nonce=7), now_s=NOW, max_skew_s=30)
    assert (address, nonce) == (ACCOUNT.address.lower(), 7)


@pytest.mark.parametrize(
    "change",
    [
        {"POLY_ADDRESS": "0x" + "ab" * 20},  # signature made by someone else
        {"POLY_TIMESTAMP": str(NOW + 1)},  # signed over another timestamp
        {"POLY_SIGNATURE": "0x1234"},
        {"POLY_NONCE": "x"},
    ],
)
def test_l1_rejects_tampered_headers(change: dict[str, str]) -> None:
    with pytest.raises(AuthError) as raised:
        verify_l1({**_l1_headers(), **change}, now_s=NOW, max_skew_s=30)
    assert raised.value.message == INVALID_L1


def test_l1_rejects_a_timestamp_outside_the_skew_window() -> None:
    with pytest.raises(AuthError):
        verify_l1(_l1_headers(timestamp=NOW - 31), now_s=NOW, max_skew_s=30)
    assert verify_l1(_l1_headers(timestamp=NOW - 30), now_s=NOW, max_skew_s=30)


def test_derived_credentials_are_deterministic_per_address_and_nonce() -> None:
    secret = b"server"
    first = derive_creds(secret, ACCOUNT.address, 0)
    assert first == derive_creds(secret, ACCOUNT.address.lower(), 0)
    assert first.key != derive_creds(secret, ACCOUNT.address, 1).key
    assert first.key != derive_creds(b"other", ACCOUNT.address, 0).key


def _l2_headers(creds, method: str, path: str, body: str | None, ts: int = NOW) -> dict[str, str]:
    signature = build_hmac_signature(
        secret=creds.secret, timestamp=ts, method=method, path=path, body=body
    )
    return {
        "POLY_ADDRESS": ACCOUNT.address,
        "POLY_API_KEY": creds.key,
        "POLY_PASSPHRASE": creds.passphrase,
        "POLY_SIGNATURE": signature,
        "POLY_TIMESTAMP": str(ts),
    }


def test_l2_accepts_the_sdk_hmac_with_and_without_body() -> None:
    creds = derive_creds(b"s", ACCOUNT.address, 0)
    keys = {creds.key: creds}
    body = '{"orderID":"0xab"}'
    headers = _l2_headers(creds, "DELETE", "/order", body)
    assert (
        verify_l2(
            headers, method="DELETE", path="/order", body=body, keys=keys, now_s=NOW, max_skew_s=30
        )
        == creds
    )
    headers = _l2_headers(creds, "GET", "/data/orders", None)
    assert (
        verify_l2(
            headers, method="GET", path="/data/orders", body="", keys=keys, now_s=NOW, max_skew_s=30
        )
        == creds
    )


@pytest.mark.parametrize(
    ("method", "path", "body", "now"),
    [
        ("POST", "/order", "{}", NOW),  # other method
        ("DELETE", "/orders", '{"orderID":"0xab"}', NOW),  # other path
        ("DELETE", "/order", '{"orderID":"0xac"}', NOW),  # other body
        ("DELETE", "/order", '{"orderID":"0xab"}', NOW + 31),  # clock skew
    ],
)
def test_l2_rejects_a_signature_over_something_else(method, path, body, now) -> None:
    creds = derive_creds(b"s", ACCOUNT.address, 0)
    headers = _l2_headers(creds, "DELETE", "/order", '{"orderID":"0xab"}')
    with pytest.raises(AuthError):
        verify_l2(
            headers,
            method=method,
            path=path,
            body=body,
            keys={creds.key: creds},
            now_s=now,
            max_skew_s=30,
        )


def test_l2_rejects_unknown_key_and_wrong_passphrase() -> None:
    creds = derive_creds(b"s", ACCOUNT.address, 0)
    headers = _l2_headers(creds, "GET", "/data/orders", None)
    with pytest.raises(AuthError):
        verify_l2(
            headers, method="GET", path="/data/orders", body="", keys={}, now_s=NOW, max_skew_s=30
        )
    with pytest.raises(AuthError):
        verify_l2(
            {**headers, "POLY_PASSPHRASE": "x"},
            method="GET",
            path="/data/orders",
            body="",
            keys={creds.key: creds},
            now_s=NOW,
            max_skew_s=30,
        )


def _signed_order_payload() -> tuple[dict[str, object], bytes]:
    unsigned = UnsignedOrder(
        chain_id=137,
        builder=BYTES32_ZERO,
        exchange_address=EXCHANGE,
        expiration=0,
        maker=ACCOUNT.address,
        maker_amount=4_500_000,
        metadata=BYTES32_ZERO,
        order_type="GTC",
        salt=987654321,
        side="BUY",
        signature_type=0,
        signer=ACCOUNT.address,
        taker_amount=10_000_000,
        timestamp=1_790_000_000_000,
        token_id="71321045679252212594626385532706912750332728571942532289631379312455583992563",
    )
    signed = ACCOUNT.sign_typed_data(full_message=build_order_typed_data(unsigned))
    wire = {
        "salt": unsigned.salt,
        "maker": unsigned.maker,
        "signer": unsigned.signer,
        "tokenId": unsigned.token_id,
        "makerAmount": "4500000",
        "takerAmount": "10000000",
        "side": "BUY",
        "expiration": "0",
        "signatureType": 0,
        "timestamp": "1790000000000",
        "metadata": BYTES32_ZERO,
        "builder": BYTES32_ZERO,
        "signature": "0x" + signed.signature.hex().removeprefix("0x"),
    }
    return wire, bytes(signed.message_hash)


def test_order_digest_matches_eip712_and_recovers_the_signer() -> None:
    wire, expected_digest = _signed_order_payload()
    fields = parse_order_fields(wire)
    digest = order_digest(fields, exchange_domain_separator(EXCHANGE))
    assert digest == expected_digest
    assert recover_address(digest, fields.signature) == ACCOUNT.address.lower()
    other = order_digest(fields, exchange_domain_separator("0x" + "e2" * 20))
    assert recover_address(other, fields.signature) != ACCOUNT.address.lower()


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("makerAmount", 4500000),
        ("side", "buy"),
        ("maker", "0x12"),
        ("metadata", "0x00"),
        ("tokenId", 5),
        ("signature", 7),
    ],
)
def test_order_fields_reject_wrong_types(key: str, value: object) -> None:
    wire, _ = _signed_order_payload()
    with pytest.raises(OrderPayloadError, match=key if key != "side" else "side"):
        parse_order_fields({**wire, key: value})
