"""New listings: the drill announces them on the market channel; each is screened at once."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from polymaker.autorun.listings import ListingWatch
from polymaker.drill.server import SimOptions
from polymaker.drill.testing import in_process_sim
from polymaker.exchange._ws import KeepaliveSettings
from polymaker.exchange.listing_feed import ListingFeed
from polymaker.exchange.wire import NewMarket, decode_market_event
from tests.conftest import load_fixture

pytestmark = pytest.mark.integration

FILTER = {"min_end_hours": 1, "max_end_hours": 48, "min_total_volume": 1000,
          "ask_min": 0.5, "ask_max": 0.95, "blacklist_terms": ["Forbidden"]}  # fmt: skip


def _market(question: str, slug: str) -> dict[str, Any]:
    end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 20 * 3600))
    return {"question": question, "slug": slug, "end_date": end, "yes_price": 0.3,
            "volume": 50000}  # fmt: skip


def test_the_fixture_shape_parses() -> None:
    event = decode_market_event(load_fixture("ws_market_new_market_2025-12.json"))
    assert isinstance(event, NewMarket)
    assert event.market_id == "1031769" and event.slug == "nvda-above-240-on-january-30-2026"
    assert len(event.asset_ids) == 2


def test_a_listed_market_is_announced_screened_and_accepted_at_once(tmp_path: Path) -> None:
    filter_file = tmp_path / "filter_params.json"
    filter_file.write_text(json.dumps(FILTER))
    accepted: list[tuple[float, dict[str, Any]]] = []
    fast = KeepaliveSettings(ping_interval_s=0.5, pong_timeout_s=2.0, backoff_base_s=0.05)

    with in_process_sim(SimOptions(markets=10, seed=8)) as sim:

        async def scenario() -> dict[str, float]:
            feed = ListingFeed(sim.urls.ws_market_url, keepalive=fast)
            watch = ListingWatch(
                sim.urls,
                filter_file,
                lambda docs: accepted.extend((time.monotonic(), d) for d in docs),
                feed=feed,
            )
            job = asyncio.create_task(watch.run())
            await asyncio.sleep(0.5)  # connected and subscribed
            created: dict[str, float] = {}
            async with httpx.AsyncClient(base_url=sim.urls.clob_url) as http:
                for question, slug in (
                    ("Will the new listing qualify?", "new-listing-good"),
                    ("Forbidden fruit: will it qualify?", "new-listing-blacklisted"),
                ):
                    answer = await http.post("/_sim/markets", json=_market(question, slug))
                    answer.raise_for_status()
                    created[slug] = time.monotonic()
            async with asyncio.timeout(10):
                while not accepted:
                    await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)  # time for the blacklisted one to be screened (out)
            job.cancel()
            await asyncio.gather(job, return_exceptions=True)
            return created

        created = asyncio.run(scenario())
    assert [doc["topic_id"] for _, doc in accepted] == ["new-listing-good"]
    at, doc = accepted[0]
    assert at - created["new-listing-good"] < 3.0  # seconds, not a screening period
    assert doc["preferred_side"] in ("YES", "NO") and doc["yes_token"] and doc["no_token"]
