"""The drill world survives a restart of the drill exchange (``--state-file``)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from eth_account import Account
from websockets.sync.client import connect

from polymaker.drill.server import SimOptions
from polymaker.drill.testing import in_process_sim
from polymaker.drill.world import WORLD_VERSION, World, load_world, save_world
from polymaker.errors import StateFileError
from polymaker.exchange.sdk import create_secure_client

pytestmark = pytest.mark.integration


def _options(state_file: Path, markets: int = 20, seed: int = 5) -> SimOptions:
    return SimOptions(markets=markets, seed=seed, settle_delays_ms=(50, 100), state_file=state_file)


def test_balances_positions_orders_trades_and_keys_continue_after_a_restart(tmp_path: Path) -> None:
    world = tmp_path / "drill_world.pickle"
    maker_key, taker_key = Account.create().key.hex(), Account.create().key.hex()
    with in_process_sim(_options(world)) as sim:
        body = {"question": "World test?", "end_date": "2099-01-01T00:00:00Z", "yes_price": 0.5,
                "volume": 1000}  # fmt: skip
        market = httpx.post(f"{sim.urls.clob_url}/_sim/markets", json=body).json()
        sim.silence(market["conditionId"])
        yes, no = json.loads(market["clobTokenIds"])
        maker = create_secure_client(maker_key, sim.urls)
        taker = create_secure_client(taker_key, sim.urls)
        filled = maker.place_limit_order(asset_id=yes, price="0.40", size="10", side="BUY")
        taker.place_limit_order(asset_id=no, price="0.60", size="10", side="BUY")
        resting = maker.place_limit_order(
            asset_id=yes, price="0.30", size="5", side="BUY", post_only=True
        )
        before = httpx.get(
            f"{sim.urls.clob_url}/_sim/accounts", params={"address": str(maker.wallet).lower()}
        ).json()
        credentials = maker.credentials
        maker.close()
        taker.close()
        # A live subscriber at the save: the world must not try to keep the hub's sockets.
        feed = connect(sim.urls.ws_market_url)
        feed.send(json.dumps({"type": "market", "assets_ids": [yes]}))
        feed.recv(timeout=5)
        sim.call(save_world, sim.venue, world)  # raises if anything live is in the world
        feed.close()
    assert world.stat().st_mode & 0o777 == 0o600
    with in_process_sim(_options(world, markets=3, seed=99)) as sim:  # the saved world wins
        after = httpx.get(
            f"{sim.urls.clob_url}/_sim/accounts", params={"address": before[0]["address"]}
        ).json()
        assert after[0]["balance"] == before[0]["balance"]
        assert after[0]["positions"] == before[0]["positions"] == {yes: "10"}
        assert httpx.get(f"{sim.urls.gamma_url}/markets/slug/{market['slug']}").status_code == 200
        again = create_secure_client(maker_key, sim.urls)
        try:
            assert again.credentials.key == credentials.key, "the key derives as it did"
            [order] = [o for page in again.list_open_orders() for o in page.items]
            assert order.id == resting.order_id
            trades = [t for page in again.list_account_trades() for t in page.items]
            assert [t.maker_orders[0].order_id for t in trades] == [filled.order_id]
        finally:
            again.close()


def test_an_unreadable_world_is_a_clear_error_and_is_left_untouched(tmp_path: Path) -> None:
    world = tmp_path / "drill_world.pickle"
    world.write_bytes(b"polymaker-drill-world\ntruncated")
    with pytest.raises(StateFileError, match="reset-history --drill-world") as caught:
        load_world(world)
    assert str(world) in str(caught.value)
    assert world.read_bytes() == b"polymaker-drill-world\ntruncated"
    other = tmp_path / "other.pickle"
    other.write_bytes(b"{}")
    with pytest.raises(StateFileError, match="not a drill world file"):
        load_world(other)
    assert load_world(tmp_path / "absent.pickle") is None


def test_a_world_of_another_layout_version_is_refused(tmp_path: Path, monkeypatch) -> None:
    world = tmp_path / "drill_world.pickle"
    with in_process_sim(_options(world)):
        pass
    monkeypatch.setattr("polymaker.drill.world.WORLD_VERSION", WORLD_VERSION + 1)
    with pytest.raises(StateFileError, match=f"drill world layout {WORLD_VERSION}"):
        load_world(world)
    assert isinstance(World, type)
