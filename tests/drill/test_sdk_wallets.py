"""The official client on its own trades from every kind of wallet on the drill exchange.

``SecureClient.create(wallet=...)`` for a plain EOA, a proxy wallet, a Safe and a deposit
wallet (deployed through the drill's relayer the way the client deploys it), on v1 and
Protocol V2 markets. Orders are made by the wallet; what the venue refuses is refused with its
message: a tampered signature, a signature type that is not the maker's, and a maker that is
another key's wallet.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest
from eth_account import Account
from polymarket import SecureClient
from polymarket._internal.actions.orders.orders import create_signed_order, create_unsigned_order
from polymarket._internal.actions.orders.typed_data import (
    build_order_signature,
    build_order_typed_data,
)
from polymarket._internal.actions.orders.types import OrderDraft
from polymarket.auth import RelayerApiKey
from polymarket.errors import RequestRejectedError, UserInputError

from polymaker.drill.order_signatures import EXCHANGE_V3, STANDARD_EXCHANGE
from polymaker.drill.server import SimOptions
from polymaker.drill.testing import InProcessSim, in_process_sim
from polymaker.exchange.sdk import create_secure_client
from polymaker.exchange.wallet import Wallet, WalletKind, classify_wallet, key_wallets

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sim() -> Iterator[InProcessSim]:
    with in_process_sim(SimOptions(markets=10, seed=11, settle_delays_ms=(100, 200))) as running:
        yield running


def _market(sim: InProcessSim, version: str) -> tuple[str, str]:
    """A fresh, quiet market of ``version`` (no book): its (yes, no) trading ids."""
    body = {
        "question": f"Wallet test {version} {Account.create().address}?",
        "end_date": "2099-01-01T00:00:00Z",
        "yes_price": 0.5,
        "volume": 1000,
        "version": version,
    }
    gamma = httpx.post(f"{sim.urls.clob_url}/_sim/markets", json=body).json()
    sim.silence(gamma["conditionId"])
    ids = gamma["positionIds"] if version == "v2" else json.loads(gamma["clobTokenIds"])
    return ids[0], ids[1]


def _account(key: str, kind: WalletKind) -> Wallet:
    signer = Account.from_key(key).address
    address = next(a for a, k in key_wallets(signer).items() if k is kind)
    return classify_wallet(signer, address, source="test")


def _client(sim: InProcessSim, key: str, wallet: Wallet) -> SecureClient:
    relayer_key = RelayerApiKey(key="test-relayer-key", address=wallet.signer)
    return create_secure_client(key, sim.urls, wallet=wallet, relayer_key=relayer_key)


def _open_orders(sim: InProcessSim, **query: str) -> list[dict]:
    return httpx.get(f"{sim.urls.clob_url}/_sim/orders", params=query).json()


@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize("kind", list(WalletKind), ids=lambda k: k.name.lower())
def test_each_wallet_kind_trades_and_the_wallet_is_the_maker(
    sim: InProcessSim, kind: WalletKind, version: str
) -> None:
    key = Account.create().key.hex()
    wallet = _account(key, kind)
    client = _client(sim, key, wallet)
    taker = create_secure_client(Account.create().key.hex(), sim.urls)
    try:
        assert client.wallet_type == kind.sdk_type and client.wallet == wallet.address
        yes, no = _market(sim, version)
        placed = client.place_limit_order(
            asset_id=yes, price="0.40", size="10", side="BUY", post_only=True
        )
        assert placed.ok and placed.status == "live"
        [resting] = _open_orders(sim, asset_id=yes)
        assert resting["maker_address"] == wallet.address.lower()
        took = taker.place_limit_order(asset_id=no, price="0.60", size="10", side="BUY")
        assert took.ok and took.status == "matched"
        assert client.get_order(order_id=placed.order_id).size_matched == Decimal(10)
        asset_type = "CONDITIONAL-V2" if version == "v2" else "CONDITIONAL"
        shares = client.get_balance_allowance(asset_type=asset_type, token_id=yes)
        assert shares.balance == 10_000_000
        cash = client.get_balance_allowance(asset_type="COLLATERAL").balance
        assert cash == 10_000_000_000 - 4_000_000  # the drill balance, less 10 x 0.40
        fills = [t for page in client.list_account_trades() for t in page.items]
        assert [f.maker_orders[0].maker_address.lower() for f in fills] == [wallet.address.lower()]
        if not wallet.is_eoa:
            signer = httpx.get(
                f"{sim.urls.clob_url}/_sim/accounts", params={"address": wallet.signer.lower()}
            ).json()
            assert signer == [], "the signer holds nothing: the wallet is the account"
    finally:
        client.close()
        taker.close()


def test_a_deposit_wallet_is_deployed_through_the_relayer_once(sim: InProcessSim) -> None:
    key = Account.create().key.hex()
    wallet = _account(key, WalletKind.DEPOSIT)
    with pytest.raises(UserInputError, match="Relayer API Key"):
        create_secure_client(key, sim.urls, wallet=wallet)  # undeployed, no relayer key
    _client(sim, key, wallet).close()
    create_secure_client(key, sim.urls, wallet=wallet).close()  # deployed: no key needed
    [account] = httpx.get(
        f"{sim.urls.clob_url}/_sim/accounts", params={"address": wallet.address.lower()}
    ).json()
    assert account["deployed"] is True and account["wallet_type"] == "deposit wallet"


def test_an_undeployed_proxy_is_refused_by_the_client(sim: InProcessSim) -> None:
    key = Account.create().key.hex()
    wallet = _account(key, WalletKind.PROXY)
    create_secure_client(key, sim.urls).close()  # the drill now knows the key
    url = f"{sim.urls.clob_url}/_sim/accounts/{wallet.address.lower()}"
    httpx.post(url, json={"deployed": False}).raise_for_status()
    with pytest.raises(UserInputError, match="does not exist"):
        create_secure_client(key, sim.urls, wallet=wallet)


def _signed(
    key: str, maker: str, wallet_type: str, token: str, exchange: str, signer: str | None = None
):
    """An order signed by ``key`` exactly as the client signs it, with any maker and type."""
    account = Account.from_key(key)
    draft = OrderDraft(
        chain_id=137,
        exchange_address=exchange,
        expiration=0,
        funder_address=maker,
        offered_amount=4_000_000,
        order_type="GTC",
        side="BUY",
        signer=signer or account.address,
        requested_amount=10_000_000,
        asset_id=token,
    )
    unsigned = create_unsigned_order(draft, wallet=maker, wallet_type=wallet_type)
    raw = account.sign_typed_data(full_message=build_order_typed_data(unsigned)).signature.hex()
    signature = build_order_signature(unsigned, raw if raw.startswith("0x") else "0x" + raw)
    return create_signed_order(unsigned, signature, post_only=True)


def _refusal(client: SecureClient, order) -> str:
    with pytest.raises(RequestRejectedError) as refused:
        client.post_order(order)
    assert refused.value.status == 400
    return str(refused.value)


def test_the_venue_refuses_what_the_maker_did_not_sign(sim: InProcessSim) -> None:
    key = Account.create().key.hex()
    proxy = _account(key, WalletKind.PROXY)
    client = _client(sim, key, proxy)
    other = _account(Account.create().key.hex(), WalletKind.PROXY)
    try:
        yes, _ = _market(sim, "v1")
        good = client.create_limit_order(
            asset_id=yes, price="0.40", size="10", side="BUY", post_only=True
        )
        flipped = good.signature[:-4] + ("00" if good.signature[-4:-2] != "00" else "11")
        tampered = dataclasses.replace(good, signature=flipped + good.signature[-2:])
        assert "invalid order signature" in _refusal(client, tampered)

        # Signed correctly by the key, but as a Safe order for its proxy wallet.
        wrong_type = _signed(key, proxy.address, "GNOSIS_SAFE", yes, STANDARD_EXCHANGE)
        assert "the maker is not the signer's safe" in _refusal(client, wrong_type)

        # Signed by the key for another key's proxy wallet.
        foreign = _signed(key, other.address, "POLY_PROXY", yes, STANDARD_EXCHANGE)
        assert "the maker is not the signer's proxy" in _refusal(client, foreign)

        # A v1 order signed in ExchangeV3's domain: the domain is the market's.
        domain = _signed(key, proxy.address, "POLY_PROXY", yes, EXCHANGE_V3)
        assert "invalid order signature" in _refusal(client, domain)

        assert client.post_order(good).ok
    finally:
        client.close()
