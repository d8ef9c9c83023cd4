"""``polymaker redeem [--dry-run]`` without a supervisor, against a drill exchange.

It takes the data directory's lock, authenticates with the account's key, and runs the
redeemer's pass itself: a dry run lists and changes nothing; a real one pays the wallet and
records the payout in ``data/redemptions.json`` and in the topic's ledger entry.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from eth_account import Account

from polymaker.autorun.ledger import Ledger
from polymaker.cli import main
from polymaker.config.global_config import Mode
from polymaker.drill.server import SimOptions
from polymaker.drill.testing import InProcessSim, fill_as_maker, in_process_sim
from polymaker.exchange.sdk import create_secure_client

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sim() -> Iterator[InProcessSim]:
    with in_process_sim(SimOptions(markets=4, seed=5, settle_delays_ms=(50, 100))) as running:
        yield running


def _project(tmp_path: Path, sim: InProcessSim) -> Path:
    config = tmp_path / "config"
    config.mkdir()
    document = {"mode": "drill", "exchange": sim.urls.model_dump()}
    (config / "global_config.json").write_text(json.dumps(document))
    return config / "global_config.json"


def _balance(sim: InProcessSim, address: str) -> Decimal:
    [account] = httpx.get(
        f"{sim.urls.clob_url}/_sim/accounts", params={"address": address.lower()}
    ).json()
    return Decimal(account["balance"])


def test_redeem_by_hand_without_a_supervisor(
    tmp_path: Path, sim: InProcessSim, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    key = Account.create()
    key_file = tmp_path / "bot.key"
    key_file.write_text(key.key.hex())
    key_file.chmod(0o600)
    monkeypatch.setenv("POLYMAKER_KEY_FILE", str(key_file))
    config = _project(tmp_path, sim)
    body = {"question": "Redeem by hand?", "end_date": "2099-01-01T00:00:00Z",
            "yes_price": 0.5, "volume": 1000, "slug": "redeem-by-hand"}  # fmt: skip
    market = httpx.post(f"{sim.urls.clob_url}/_sim/markets", json=body).json()
    sim.silence(market["conditionId"])
    yes, no = json.loads(market["clobTokenIds"])
    ledger = Ledger.load(tmp_path / "data" / "handled_topics.json", Mode.DRILL)
    ledger.enqueue("redeem-by-hand", reason="screened", condition_id=market["conditionId"])
    maker = create_secure_client(key.key.hex(), sim.urls)
    taker = create_secure_client(Account.create().key.hex(), sim.urls)
    try:
        fill_as_maker(maker, taker, yes, no, Decimal("0.40"))
    finally:
        maker.close()
        taker.close()
    time.sleep(0.3)
    close = f"{sim.urls.clob_url}/_sim/markets/{market['conditionId']}/close"
    httpx.post(close, json={"winner": "Yes"}).raise_for_status()
    before = _balance(sim, key.address)

    assert main(["redeem", "--dry-run", "--json", "--global-config", str(config)]) == 0
    planned = json.loads(capsys.readouterr().out)
    assert planned["via"] == "direct" and planned["dry_run"] is True
    assert [(r["state"], r["shares"]) for r in planned["redemptions"]] == [("pending", "5")]
    assert _balance(sim, key.address) == before
    assert not (tmp_path / "data" / "redemptions.json").exists()

    assert main(["redeem", "--global-config", str(config)]) == 0
    assert "Redeem by hand?: redeemed 5 shares for 5 pUSD" in capsys.readouterr().out
    assert _balance(sim, key.address) == before + 5
    records = json.loads((tmp_path / "data" / "redemptions.json").read_text())["redemptions"]
    [record] = records.values()
    assert record["state"] == "redeemed" and record["topic_id"] == "redeem-by-hand"
    note = Ledger.load(tmp_path / "data" / "handled_topics.json", Mode.DRILL).get("redeem-by-hand")
    assert note is not None and note.redemption is not None
    assert (note.redemption.state, note.redemption.payout_pusd) == ("redeemed", Decimal(5))
    assert note.redemption.pnl == Decimal(3)  # 5 x (1 - 0.40)

    assert main(["redeem", "--global-config", str(config)]) == 0  # nothing left: no new tx
    assert "nothing to redeem" in capsys.readouterr().out
