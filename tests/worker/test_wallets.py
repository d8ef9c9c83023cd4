"""A worker trades for each kind of account, on v1 and Protocol V2 markets.

The key signs; the wallet (``wallet_address`` in PARAMS) is the maker, pays and holds the
shares. Each case: a post-only buy rests at the exchange made by the wallet, a taker fills it,
the worker sees the fill and rests its take-profit sell; the signer's own address never appears
as a maker and holds nothing.
"""

from __future__ import annotations

import signal

import pytest
from eth_account import Account
from polymarket.auth import RelayerApiKey

from polymaker.exchange.sdk import create_secure_client
from polymaker.exchange.wallet import WalletKind, key_wallets
from tests.worker.conftest import Counterparty, Drill, WorkerFactory, dec

pytestmark = pytest.mark.integration

THRESHOLD = {"buy_price_threshold": 0.5}


def _wallet_of(kind: WalletKind, key: str) -> str:
    signer = Account.from_key(key).address
    return next(a for a, k in key_wallets(signer).items() if k is kind)


def _deploy_deposit_wallet(drill: Drill, key: str, wallet: str) -> None:
    """As a new API account does once: the official client deploys it through the relayer."""
    from polymaker.exchange.wallet import classify_wallet

    account = classify_wallet(Account.from_key(key).address, wallet, source="test")
    relayer_key = RelayerApiKey(key="test-relayer-key", address=account.signer)
    client = create_secure_client(key, drill.sim.urls, wallet=account, relayer_key=relayer_key)
    client.close()
    assert drill.account(wallet)["deployed"] is True


@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize("kind", list(WalletKind), ids=lambda k: k.name.lower())
def test_worker_trades_for_the_wallet(
    drill: Drill,
    counterparty: Counterparty,
    workers: WorkerFactory,
    kind: WalletKind,
    version: str,
) -> None:
    wallet = _wallet_of(kind, workers.key)
    if kind is WalletKind.DEPOSIT:
        _deploy_deposit_wallet(drill, workers.key, wallet)
    market = drill.quiet_market(version=version)
    counterparty.buy(market.yes, "0.50", "20", post_only=True)
    counterparty.buy(market.no, "0.30", "20", post_only=True)  # an ask for YES at 0.70
    params = workers.params(market, strategy=THRESHOLD)
    if kind is not WalletKind.EOA:
        params["wallet_address"] = wallet
    worker = workers.start(params)
    status = worker.wait_status(
        lambda s: s["phase"] == "buying" and s["open_orders"] and s["open_orders"][0]["order_id"],
        what="a resting buy",
    )
    [resting] = drill.open_orders(market=market.condition_id, maker_address=wallet)
    assert resting["id"] == status["open_orders"][0]["order_id"]
    assert resting["asset_id"] == market.yes
    if kind is not WalletKind.EOA:
        assert drill.open_orders(maker_address=workers.address) == []

    Counterparty(drill).buy(market.no, "0.50", "25")  # sells 25 YES at 0.50: ours fills
    status = worker.wait_status(
        lambda s: s["phase"] == "selling" and s["open_orders"] and s["open_orders"][0]["order_id"],
        timeout_s=15,
        what="the take-profit sell",
    )
    assert status["position"] == "5" and dec(status["avg_entry"]) == dec("0.50")
    held = drill.account(wallet)["positions"]
    assert dec(held[market.yes]) == 5
    [sell] = drill.open_orders(market=market.condition_id, maker_address=wallet)
    assert sell["side"] == "SELL" and sell["price"] == "0.7"
    if kind is not WalletKind.EOA:
        signer_accounts = drill.http.get(
            "/_sim/accounts", params={"address": workers.address}
        ).json()
        assert signer_accounts == [], "the signer's own address never trades"

    worker.signal(signal.SIGTERM)
    assert worker.wait_exit() == 0
    assert drill.open_orders(maker_address=wallet) == []
    assert "wallet " + wallet in worker.log() and f"signature type {kind.signature_type}" in (
        worker.log()
    )
