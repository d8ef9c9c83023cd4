"""The official client redeems resolved positions on the drill, from every kind of wallet.

``redeem_positions`` goes through the drill's relayer (proxy wallet, Safe, deposit wallet) or
its Polygon node (a plain EOA pays gas); v1 markets by condition id (CTF ``redeemPositions``),
Protocol V2 positions by position id (``Router.redeem``, after an ``eth_call`` balance read).
The wallet's pUSD rises by exactly the winning shares, in ``/balance-allowance``, the Data API
and ``/_sim/accounts``; a losing position redeems for 0.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest
from eth_account import Account
from polymarket import SecureClient
from polymarket.auth import RelayerApiKey
from polymarket.errors import TransactionFailedError, UserInputError

from polymaker.drill.server import SimOptions
from polymaker.drill.testing import InProcessSim, fill_as_maker, in_process_sim
from polymaker.exchange.sdk import create_secure_client
from polymaker.exchange.wallet import Wallet, WalletKind, classify_wallet, key_wallets

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sim() -> Iterator[InProcessSim]:
    with in_process_sim(SimOptions(markets=10, seed=12, settle_delays_ms=(50, 100))) as running:
        yield running


def _market(sim: InProcessSim, version: str) -> tuple[str, str, str]:
    body = {
        "question": f"Redeem test {version} {Account.create().address}?",
        "end_date": "2099-01-01T00:00:00Z",
        "yes_price": 0.5,
        "volume": 1000,
        "version": version,
    }
    gamma = httpx.post(f"{sim.urls.clob_url}/_sim/markets", json=body).json()
    sim.silence(gamma["conditionId"])
    ids = gamma["positionIds"] if version == "v2" else json.loads(gamma["clobTokenIds"])
    return gamma["conditionId"], ids[0], ids[1]


def _client(sim: InProcessSim, kind: WalletKind) -> tuple[SecureClient, Wallet]:
    key = Account.create().key.hex()
    signer = Account.from_key(key).address
    address = next(a for a, k in key_wallets(signer).items() if k is kind)
    wallet = classify_wallet(signer, address, source="test")
    relayer_key = RelayerApiKey(key="test-relayer-key", address=signer)
    return create_secure_client(key, sim.urls, wallet=wallet, relayer_key=relayer_key), wallet


def _account(sim: InProcessSim, address: str) -> dict:
    [account] = httpx.get(
        f"{sim.urls.clob_url}/_sim/accounts", params={"address": address.lower()}
    ).json()
    return account


def _held_into_resolution(
    sim: InProcessSim, client: SecureClient, version: str, winner: str
) -> tuple[str, str]:
    """Buy 5 YES at 0.40 as a maker, let it settle, resolve with ``winner``."""
    condition, yes, no = _market(sim, version)
    taker = create_secure_client(Account.create().key.hex(), sim.urls)
    try:
        fill_as_maker(client, taker, yes, no, Decimal("0.40"))
    finally:
        taker.close()
    time.sleep(0.3)  # CONFIRMED: the shares are on chain
    url = f"{sim.urls.clob_url}/_sim/markets/{condition}/close"
    assert httpx.post(url, json={"winner": winner}).json()["closed"] is True
    return condition, yes


def _redeem(client: SecureClient, version: str, condition: str, yes: str) -> None:
    handle = (
        client.redeem_positions(position_id=yes)
        if version == "v2"
        else client.redeem_positions(condition_id=condition)
    )
    assert handle.wait().transaction_hash.startswith("0x")


@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize("kind", list(WalletKind), ids=lambda k: k.name.lower())
def test_a_winning_position_pays_one_pusd_a_share(
    sim: InProcessSim, kind: WalletKind, version: str
) -> None:
    client, wallet = _client(sim, kind)
    try:
        condition, yes = _held_into_resolution(sim, client, version, "Yes")
        before = client.get_balance_allowance(asset_type="COLLATERAL").balance
        rows = httpx.get(f"{sim.urls.data_url}/positions", params={"user": wallet.address}).json()
        assert [(r["asset"], r["redeemable"], r["curPrice"]) for r in rows] == [(yes, True, 1)]
        _redeem(client, version, condition, yes)
        after = client.get_balance_allowance(asset_type="COLLATERAL").balance
        assert after - before == 5_000_000  # exactly the 5 winning shares
        account = _account(sim, wallet.address)
        assert Decimal(account["balance"]) == Decimal(after) / 10**6
        assert account["positions"] == {}
        data = httpx.get(f"{sim.urls.data_url}/positions", params={"user": wallet.address})
        assert data.json() == []
    finally:
        client.close()


def test_a_losing_position_redeems_for_nothing(sim: InProcessSim) -> None:
    client, wallet = _client(sim, WalletKind.PROXY)
    try:
        condition, yes = _held_into_resolution(sim, client, "v1", "No")
        lost = httpx.get(
            f"{sim.urls.data_url}/v2/positions",
            params={"user": wallet.address, "status": "REDEEMABLE_LOST"},
        ).json()["data"]
        assert [(r["token_id"], r["current_price"]) for r in lost] == [(yes, 0)]
        before = client.get_balance_allowance(asset_type="COLLATERAL").balance
        _redeem(client, "v1", condition, yes)
        assert client.get_balance_allowance(asset_type="COLLATERAL").balance == before
        assert _account(sim, wallet.address)["positions"] == {}
    finally:
        client.close()


def test_an_unresolved_market_is_refused_and_an_injected_failure_fails_the_transaction(
    sim: InProcessSim,
) -> None:
    client, wallet = _client(sim, WalletKind.SAFE)
    try:
        condition, _yes, _no = _market(sim, "v1")
        with pytest.raises(UserInputError, match="No market found"):  # Gamma: not closed
            client.redeem_positions(condition_id=condition)
        httpx.post(f"{sim.urls.clob_url}/_sim/relayer", json={"fail_next": 1}).raise_for_status()
        condition, yes = _held_into_resolution(sim, client, "v1", "Yes")
        with pytest.raises(TransactionFailedError, match="injected"):
            client.redeem_positions(condition_id=condition).wait()
        assert _account(sim, wallet.address)["positions"] == {yes: "5"}  # nothing was burned
        _redeem(client, "v1", condition, yes)  # the retry goes through
        assert _account(sim, wallet.address)["positions"] == {}
    finally:
        client.close()


def test_an_eoa_pays_gas_and_cannot_redeem_without_it(sim: InProcessSim) -> None:
    client, wallet = _client(sim, WalletKind.EOA)
    try:
        condition, yes = _held_into_resolution(sim, client, "v2", "Yes")
        pol = Decimal(_account(sim, wallet.address)["pol"])
        assert pol == 1
        url = f"{sim.urls.clob_url}/_sim/accounts/{wallet.address.lower()}"
        httpx.post(url, json={"pol": "0"}).raise_for_status()
        with pytest.raises(Exception, match="insufficient funds"):
            client.redeem_positions(position_id=yes)
        httpx.post(url, json={"pol": "1"}).raise_for_status()
        _redeem(client, "v2", condition, yes)
        assert Decimal(_account(sim, wallet.address)["pol"]) == Decimal("0.9964")  # 120k gas
        with pytest.raises(UserInputError, match="no balance"):
            client.redeem_positions(position_id=yes)  # nothing left to redeem
    finally:
        client.close()
