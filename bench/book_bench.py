"""Benchmark: false book alarms per market-hour on a lively drill exchange (issue 11, part 1).

A false alarm is a ``BookInvalidated`` for ``crossed`` or ``diverged`` on a drill exchange whose
deltas are complete and ordered: every one is the product's mistake, and each costs a REST
resync with the book unusable meanwhile. The drill exchange runs with the shipped drill
settings (``drill`` in config/global_config.json: volatility 10, 60 takers a minute, seed 42);
``--markets`` market feeds (both tokens each, as a worker subscribes) listen for ``--seconds``.

Usage: ``.venv/bin/python bench/book_bench.py [--markets 20] [--seconds 120]``. To measure an
older version, run the same script with ``PYTHONPATH`` pointing at that version's ``src``.
Prints one JSON document.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter
from typing import Any

from polymaker.drill.server import SimOptions
from polymaker.drill.testing import in_process_sim
from polymaker.exchange.market_feed import BookInvalidated, BookUpdated, MarketFeed

SHIPPED_DRILL = {"seed": 42, "volatility": 10.0, "takers_per_minute": 60.0}


async def _listen(feed: MarketFeed, seconds: float, counts: Counter[str]) -> None:
    deadline = time.monotonic() + seconds
    async with feed:
        while (left := deadline - time.monotonic()) > 0:
            try:
                event = await asyncio.wait_for(anext(feed), left)
            except TimeoutError:
                break
            if isinstance(event, BookInvalidated):
                counts[event.reason.split(":")[0]] += 1
            elif isinstance(event, BookUpdated):
                counts["updates"] += 1


def measure(markets: int, seconds: float) -> dict[str, Any]:
    """Run the feeds against one drill exchange and count what they report."""
    options = SimOptions(markets=max(300, markets), **SHIPPED_DRILL)  # type: ignore[arg-type]
    counts: Counter[str] = Counter()
    with in_process_sim(options) as sim:
        chosen = [m for m in sim.venue.universe.markets if m.tradable][:markets]
        urls = sim.urls

        async def run_all() -> None:
            feeds = [
                MarketFeed(urls.ws_market_url, urls.clob_url, [m.yes_token, m.no_token])
                for m in chosen
            ]
            await asyncio.gather(*(_listen(feed, seconds, counts) for feed in feeds))

        asyncio.run(run_all())
    market_hours = len(chosen) * seconds / 3600
    alarms = counts["crossed"] + counts["diverged"]
    return {
        "markets": len(chosen),
        "seconds": seconds,
        "book_updates": counts["updates"],
        "crossed": counts["crossed"],
        "diverged": counts["diverged"],
        "false_alarms_per_market_hour": round(alarms / market_hours, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markets", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=120.0)
    args = parser.parse_args()
    print(json.dumps(measure(args.markets, args.seconds), indent=2))


if __name__ == "__main__":
    main()
