"""Positions held into resolution are redeemed unattended, for every kind of account.

Real ``polymaker run``, real workers, a real ``polymaker sim``. Per account kind the supervisor
trades a v1 and a Protocol V2 market; the test fills both buys, then resolves one market for
the held outcome and the other against it. Without any user action, within a minute of the
resolution, the winning shares are redeemed (the wallet's pUSD rises by exactly them) and the
losing ones end at 0 with no error; the ledger and ``status`` show both. For the relayed
wallets the first relayed transaction is made to fail: it is retried and reported.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from polymaker.exchange.sdk import create_secure_client
from polymaker.exchange.wallet import WalletKind, key_wallets
from tests.autorun.test_e2e_support import (
    Exchange,
    Project,
    drill_exchange,
    project_factory,
    wait_for,
)

pytestmark = pytest.mark.integration
__all__ = ["project_factory"]  # the fixture, imported for pytest
REDEEM = {"scan_interval_s": 2, "backoff_base_s": 1, "backoff_max_s": 2}
CASES = [  # (kind, which market wins for the held outcome)
    (WalletKind.EOA, "v1"),
    (WalletKind.PROXY, "v2"),
    (WalletKind.SAFE, "v1"),
    (WalletKind.DEPOSIT, "v2"),
]


def _ids(market: dict[str, Any]) -> list[str]:
    return (
        market["positionIds"] if market["version"] == "v2" else json.loads(market["clobTokenIds"])
    )


def _account(exchange: Exchange, address: str) -> dict[str, Any]:
    [account] = exchange.http.get("/_sim/accounts", params={"address": address}).json()
    return account


def _fill_buys(exchange: Exchange, wallet: str, markets: dict[str, dict[str, Any]]) -> dict:
    """Cross the wallet's resting buy in each market; the token it holds, by topic."""
    buys = wait_for(
        lambda: (
            found
            if len(
                found := [o for o in exchange.orders(maker_address=wallet) if o["side"] == "BUY"]
            )
            >= len(markets)
            else None
        ),
        60,
        "a resting buy in each market, made by the wallet",
    )
    held = {}
    taker = create_secure_client(Account.create().key.hex(), exchange.urls)
    try:
        for topic, market in markets.items():
            [buy] = [o for o in buys if o["market"] == market["conditionId"]]
            other = next(t for t in _ids(market) if t != buy["asset_id"])
            price = Decimal(buy["price"])
            taker.place_limit_order(asset_id=other, price=1 - price, size="2000", side="BUY")
            held[topic] = buy["asset_id"]
    finally:
        taker.close()
    return held


@pytest.mark.timeout(240)
@pytest.mark.parametrize(("kind", "winning_version"), CASES, ids=lambda c: str(c))
def test_positions_held_into_resolution_are_redeemed_unattended(
    tmp_path: Path, project_factory: Any, kind: WalletKind, winning_version: str
) -> None:
    account = Account.create()
    key_file = tmp_path / "bot.key"
    key_file.write_text(account.key.hex())
    key_file.chmod(0o600)
    wallet = next(a for a, k in key_wallets(account.address).items() if k is kind).lower()
    with drill_exchange(tmp_path) as exchange:
        markets = {
            f"autotest-{kind.name.lower()}-{v}": exchange.add_market(
                f"{kind.name.lower()}-{v}", version=v
            )
            for v in ("v1", "v2")
        }
        project: Project = project_factory(exchange.urls, redeem=REDEEM)
        project.extra_env.update(
            {"POLYMAKER_KEY_FILE": str(key_file), "POLYMAKER_WALLET_ADDRESS": wallet}
        )
        project.start()
        held = _fill_buys(exchange, wallet, markets)
        shares = {
            topic: Decimal(
                wait_for(
                    lambda t=topic: (
                        (p := project.topics().get(t, {}).get("position")) not in (None, "0") and p
                    ),
                    30,
                    f"the fill seen by {topic}",
                )
            )
            for topic in markets
        }
        time.sleep(2.5)  # the trades are CONFIRMED: the shares are on chain
        if kind is not WalletKind.EOA:
            exchange.http.post("/_sim/relayer", json={"fail_next": 1}).raise_for_status()
        cash = Decimal(_account(exchange, wallet)["balance"])
        resolved_at = time.monotonic()
        for topic, market in markets.items():
            yes = _ids(market)[0]
            held_yes = held[topic] == yes
            wins = market["version"] == winning_version
            winner = "Yes" if held_yes == wins else "No"
            close = f"/_sim/markets/{market['conditionId']}/close"
            exchange.http.post(close, json={"winner": winner}).raise_for_status()

        def settled() -> dict[str, Any] | None:
            topics = project.ledger()["topics"]
            notes = {t: (topics.get(t) or {}).get("redemption") for t in markets}
            done = all(n and n["state"] in ("redeemed", "lost") for n in notes.values())
            return notes if done else None

        notes = wait_for(settled, 60, "both markets settled without a user action")
        latency = time.monotonic() - resolved_at
        print(f"{kind.value}: resolution -> redemption {latency:.1f} s")
        win = next(t for t, m in markets.items() if m["version"] == winning_version)
        lose = next(t for t in markets if t != win)
        assert notes[win]["state"] == "redeemed" and notes[win]["tx"].startswith("0x")
        assert Decimal(notes[win]["payout_pusd"]) == shares[win]
        assert notes[lose]["state"] == "lost" and Decimal(notes[lose]["payout_pusd"]) == 0
        assert notes[lose]["last_error"] is None and notes[lose]["tx"] is None
        after = _account(exchange, wallet)
        assert Decimal(after["balance"]) - cash == shares[win]  # exactly the winning shares
        assert held[win] not in after["positions"]

        rows = project.wait_topics(  # once its worker has exited, a topic shows what is left
            lambda t: all(t[name]["position"] == "0" for name in markets),
            30,
            "the status rows with nothing held",
        )
        assert rows[win]["redemption"]["state"] == "redeemed"
        pnl = Decimal(notes[win]["pnl"])  # 1 a share less the entry: in the realized PnL
        assert pnl > 0 and Decimal(rows[win]["realized_pnl"]) == pnl
        assert rows[lose]["position"] == "0" and rows[lose]["redemption"]["state"] == "lost"
        records = {r["topic_id"]: r for r in (project.status() or {})["redemptions"]}
        if kind is not WalletKind.EOA:  # the injected relayer failure was retried, and said
            log = (project.root / "logs" / "autorun.log").read_text()
            assert "injected" in log and records[win]["attempts"] == 1
        by_hand = project.command("redeem", "--json")  # through the supervisor: nothing left
        assert by_hand.returncode == 0, by_hand.stdout + by_hand.stderr
        answer = json.loads(by_hand.stdout)
        assert (answer["via"], answer["redemptions"]) == ("supervisor", [])
        project.exit()
