"""The sweep of a dead worker's market: its orders cancelled at a real drill exchange."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest
from eth_account import Account

from polymaker.autorun.sweeper import Sweeper
from polymaker.drill.server import SimOptions
from polymaker.drill.testing import InProcessSim, in_process_sim
from polymaker.exchange.sdk import create_secure_client
from polymaker.exchange.secrets import PrivateKey
from polymaker.exchange.urls import ExchangeUrls

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sim() -> Iterator[InProcessSim]:
    with in_process_sim(SimOptions(markets=5, seed=11)) as running:
        yield running


def _market(urls: ExchangeUrls, name: str) -> dict[str, object]:
    end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400))
    body = {"question": f"Sweep {name}?", "end_date": end, "yes_price": 0.5, "volume": 9000}
    answer = httpx.post(f"{urls.clob_url}/_sim/markets", json=body, timeout=10)
    answer.raise_for_status()
    return answer.json()


def test_sweep_cancels_only_that_markets_orders_and_reads_the_position(sim: InProcessSim) -> None:
    key = Account.create().key.hex()
    client = create_secure_client(key, sim.urls)
    swept, kept = _market(sim.urls, "a"), _market(sim.urls, "b")
    yes_a, _ = json.loads(str(swept["clobTokenIds"]))
    yes_b, _ = json.loads(str(kept["clobTokenIds"]))
    for token in (yes_a, yes_a, yes_b):
        assert client.place_limit_order(asset_id=token, price="0.05", size="10", side="BUY").ok

    async def sweep() -> tuple[object, object]:
        sweeper = Sweeper.for_key(PrivateKey(key), sim.urls, None)
        try:
            first = await sweeper.sweep(str(swept["conditionId"]), yes_a)
            again = await sweeper.sweep(str(swept["conditionId"]), yes_a)
            return first, again
        finally:
            await sweeper.aclose()

    first, again = asyncio.run(sweep())
    assert first.clean and first.cancelled == 2 and first.position == Decimal(0)  # type: ignore[attr-defined]
    assert again.cancelled == 0 and again.clean  # type: ignore[attr-defined]
    assert first.describe() == "swept 2 open orders; position left 0 shares"  # type: ignore[attr-defined]
    left = [o for page in client.list_open_orders() for o in page.items]
    assert [o.asset_id for o in left] == [yes_b]
    client.close()


def test_an_unreachable_exchange_gives_a_failed_sweep_not_an_exception() -> None:
    urls = ExchangeUrls(
        gamma_url="http://127.0.0.1:9", clob_url="http://127.0.0.1:9", data_url="http://127.0.0.1:9",
        ws_market_url="ws://127.0.0.1:9/ws/market", ws_user_url="ws://127.0.0.1:9/ws/user",
    )  # fmt: skip
    sweeper = Sweeper.for_key(PrivateKey("0x" + "11" * 32), urls, None)
    result = asyncio.run(sweeper.sweep("0xabc", None))
    assert not result.clean and result.error and result.describe().startswith("sweep failed")
