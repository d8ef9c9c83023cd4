"""The supervisor trades for a deposit wallet, on a v1 and a Protocol V2 market, end to end.

Real ``polymaker run``, real workers, a real ``polymaker sim``. The key is a plain key; the
account is its deposit wallet (``POLYMAKER_WALLET_ADDRESS``), which the supervisor deploys
through the drill's relayer at start. Every order at the exchange is made by the wallet, never
by the signer; a fill lands at the wallet; after a restart the worker adopts the wallet's
position and offers it again; ``panic`` leaves the wallet with no open order.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from polymaker.exchange.sdk import create_secure_client
from polymaker.exchange.wallet import WalletKind, key_wallets
from tests.autorun.test_e2e_support import Project, drill_exchange, project_factory, wait_for

pytestmark = pytest.mark.integration
__all__ = ["project_factory"]  # the fixture, imported for pytest


def _traded_token(market: dict[str, Any], side: str) -> str:
    ids = market["positionIds"] if market["version"] == "v2" else json.loads(market["clobTokenIds"])
    return ids[0] if side == "YES" else ids[1]


@pytest.mark.timeout(300)  # two supervisor runs, a restart and a panic
def test_a_deposit_wallet_trades_restarts_with_its_position_and_panics_clean(
    tmp_path: Path, project_factory: Any
) -> None:
    account = Account.create()
    key_file = tmp_path / "bot.key"
    key_file.write_text(account.key.hex())
    key_file.chmod(0o600)
    signer = account.address.lower()
    wallet = next(a for a, k in key_wallets(account.address).items() if k is WalletKind.DEPOSIT)
    with drill_exchange(tmp_path) as exchange:
        markets = {
            "autotest-w1": exchange.add_market("w1", version="v1"),
            "autotest-w2": exchange.add_market("w2", version="v2"),
        }
        project: Project = project_factory(exchange.urls)
        project.extra_env.update(
            {"POLYMAKER_KEY_FILE": str(key_file), "POLYMAKER_WALLET_ADDRESS": wallet}
        )
        project.start()
        project.wait_topics(
            lambda t: all(t.get(name, {}).get("state") == "running" for name in markets),
            60,
            "both markets running",
        )
        status = project.status() or {}
        assert status["account"]["description"] == (
            f"wallet {wallet} (deposit wallet, signature type 3), signer {account.address}"
        )
        mine = wallet.lower()
        buys = wait_for(
            lambda: (
                [o for o in exchange.orders(maker_address=mine) if o["side"] == "BUY"]
                if len(exchange.orders(maker_address=mine)) >= 2
                else None
            ),
            30,
            "a resting buy in each market, made by the wallet",
        )
        assert {o["market"] for o in buys} == {m["conditionId"] for m in markets.values()}
        assert exchange.orders(maker_address=signer) == []

        # Fill the v2 market's buy: take every bid down to its price on the complement book.
        v2 = markets["autotest-w2"]
        [buy] = [o for o in buys if o["market"] == v2["conditionId"]]
        price = Decimal(buy["price"])
        side = "YES" if buy["asset_id"] == _traded_token(v2, "YES") else "NO"
        other = _traded_token(v2, "NO" if side == "YES" else "YES")
        taker = create_secure_client(Account.create().key.hex(), exchange.urls)
        try:
            taker.place_limit_order(asset_id=other, price=1 - price, size="2000", side="BUY")
        finally:
            taker.close()
        held = wait_for(
            lambda: (
                project.topics()["autotest-w2"]["position"] not in (None, "0")
                and project.topics()["autotest-w2"]["position"]
            ),
            30,
            "the fill seen by the worker",
        )
        accounts = exchange.http.get("/_sim/accounts", params={"address": mine}).json()
        assert Decimal(accounts[0]["positions"][buy["asset_id"]]) == Decimal(held)

        project.exit()
        project.start()  # running topics resume: the new worker adopts the wallet's shares
        wait_for(
            lambda: [
                o
                for o in exchange.orders(market=v2["conditionId"], maker_address=mine)
                if o["side"] == "SELL"
            ],
            40,
            "the adopted position offered again by the wallet",
        )
        project.wait_topics(
            lambda t: (
                t["autotest-w2"]["state"] == "running" and t["autotest-w2"]["position"] == held
            ),
            30,
            "the restarted worker running with the adopted position",
        )

        done = project.command("panic", "--json")
        assert done.returncode == 0, done.stdout + done.stderr
        assert json.loads(done.stdout)["confirmed"] is True
        assert exchange.orders(maker_address=mine) == []
        log = (project.root / "logs" / "autorun.log").read_text()
        assert f"account: wallet {wallet} (deposit wallet, signature type 3)" in log
        project.exit()
