"""The account: a key and the wallet it trades for, classified as the official client does."""

from __future__ import annotations

import pytest
from polymarket._internal.environment import PRODUCTION_CONFIG
from polymarket._internal.wallet import try_classify_wallet_type

from polymaker.errors import ConfigError
from polymaker.exchange.wallet import (
    ENV_WALLET_ADDRESS,
    Wallet,
    WalletKind,
    classify_wallet,
    configured_wallet_address,
    key_wallets,
    parse_wallet_address,
)

SIGNER = "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A"  # the address of key 0x11...11


def test_the_key_has_one_wallet_of_each_kind_and_two_deposit_derivations() -> None:
    wallets = key_wallets(SIGNER)
    kinds = sorted(k.value for k in wallets.values())
    assert kinds == ["deposit wallet", "deposit wallet", "eoa", "proxy", "safe"]
    assert wallets[SIGNER] is WalletKind.EOA
    sdk_names = {WalletKind.EOA: "EOA", WalletKind.PROXY: "POLY_PROXY"}
    sdk_names |= {WalletKind.SAFE: "GNOSIS_SAFE", WalletKind.DEPOSIT: "DEPOSIT_WALLET"}
    for address, kind in wallets.items():  # the same answer as the official client's own
        derivation = PRODUCTION_CONFIG.wallet_derivation
        assert (
            try_classify_wallet_type(signer=SIGNER, wallet=address, config=derivation)
            == (sdk_names[kind])
        )
        assert kind.sdk_type == sdk_names[kind]


@pytest.mark.parametrize(
    ("kind", "signature_type"),
    [(WalletKind.EOA, 0), (WalletKind.PROXY, 1), (WalletKind.SAFE, 2), (WalletKind.DEPOSIT, 3)],
)
def test_classify_each_kind_from_any_spelling_of_its_address(kind, signature_type) -> None:
    address = next(a for a, k in key_wallets(SIGNER).items() if k is kind)
    wallet = classify_wallet(SIGNER.lower(), address.lower(), source="wallet_address")
    assert wallet == Wallet(address, SIGNER, kind)
    assert wallet.signature_type == signature_type
    assert wallet.describe() == (
        f"wallet {address} ({kind.value}, signature type {signature_type}), signer {SIGNER}"
    )


def test_no_address_is_the_keys_own_eoa() -> None:
    wallet = classify_wallet(SIGNER, None, source="wallet_address")
    assert wallet.is_eoa and wallet.address == wallet.signer == SIGNER


def test_an_address_that_is_none_of_the_keys_wallets_is_a_config_error_naming_it() -> None:
    stranger = "0x" + "ab" * 20
    with pytest.raises(ConfigError) as refused:
        classify_wallet(SIGNER, stranger, source=ENV_WALLET_ADDRESS)
    message = str(refused.value)
    assert refused.value.exit_code == 2 and refused.value.key == ENV_WALLET_ADDRESS
    assert parse_wallet_address(stranger) in message and SIGNER in message
    assert "tried: eoa, proxy, safe, deposit wallet" in message


@pytest.mark.parametrize(
    "bad", ["", "0x123", "abababababababababababababababababababab", "0x" + "zz" * 20]
)
def test_a_malformed_address_is_refused(bad: str) -> None:
    with pytest.raises(ConfigError, match="not an address"):
        parse_wallet_address(bad)


def test_the_environment_overrides_the_config_file() -> None:
    env = {ENV_WALLET_ADDRESS: " 0xAb "}
    assert configured_wallet_address("0xcd", env) == ("0xAb", ENV_WALLET_ADDRESS)
    assert configured_wallet_address("0xcd", {}) == ("0xcd", "wallet_address")
    assert configured_wallet_address(None, {ENV_WALLET_ADDRESS: "  "}) == (None, "wallet_address")
