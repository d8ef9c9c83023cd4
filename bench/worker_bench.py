"""Worker benchmark: reaction time, memory and CPU of ``polymaker worker`` on a drill exchange.

Reaction time = from a book change at the exchange (a counterparty's bid above ours is in the
book) to the worker's resulting order request (the cancel of its outbid order, then the new
bid) arriving at the exchange, both stamped inside the drill process on the same monotonic
clock, over loopback. Each worker trades its own quiet market (no simulated house flow).

Run: ``.venv/bin/python bench/worker_bench.py --workers 1 50`` (prints JSON; ``--out F`` saves).
Goals: p99 <= 50 ms at 50 workers; idle CPU <= 1 % of a core; RSS <= 80 MB per worker.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import psutil
from eth_account import Account

from polymaker.drill.server import SimOptions
from polymaker.drill.simulator import HOUSE_MAKER, HOUSE_TAKER
from polymaker.drill.testing import InProcessSim, in_process_sim
from polymaker.exchange.sdk import create_secure_client

STRATEGY = {
    "order_size": 5,
    "max_position_shares": 5,
    "buy_price_threshold": 0.9,
    "profit_pct": 0.01,
    "min_requote_interval_s": 0,
    "sell_only_minutes_before_end": 0,
    "buy_timeout_s": 86400,
    "cooldown_s": 60,
    "stale_book_s": 30,
    "stop_timeout_s": 10,
}
TICK = Decimal("0.01")


class Stamps:
    """Engine calls stamped by account: the counterparty's book changes and workers' requests."""

    def __init__(self, sim: InProcessSim, counterparty: str) -> None:
        self.lock = threading.Lock()
        self.changes: dict[str, float] = {}  # token -> time of the last counterparty change
        self.requests: dict[str, list[tuple[float, str]]] = {}  # worker address -> (t, kind)
        engine = sim.venue.engine
        place, cancel = engine.place, engine.cancel

        def stamped_place(req: Any, now_ms: int) -> Any:
            if req.maker_address != counterparty:
                self._request(req.maker_address, "place")
            result = place(req, now_ms)
            if req.maker_address == counterparty:
                with self.lock:
                    self.changes[req.token_id] = time.perf_counter()
            return result

        def stamped_cancel(order_id: str, maker_address: str, now_ms: int) -> Any:
            self._request(maker_address, "cancel")
            return cancel(order_id, maker_address, now_ms)

        sim.call(setattr, engine, "place", stamped_place)
        sim.call(setattr, engine, "cancel", stamped_cancel)

    def _request(self, address: str, kind: str) -> None:
        with self.lock:
            self.requests.setdefault(address, []).append((time.perf_counter(), kind))

    def first_after(self, address: str, since: float, kind: str | None = None) -> float | None:
        with self.lock:
            for stamp, what in self.requests.get(address, []):
                if stamp > since and (kind is None or what == kind):
                    return stamp
        return None


def quiet_market(sim: InProcessSim, http: httpx.Client, index: int) -> dict[str, str]:
    end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400))
    body = {
        "question": f"Bench market {index} {time.time_ns()}?",
        "end_date": end,
        "yes_price": 0.5,
        "volume": 50000,
        "tick_size": str(TICK),
    }
    gamma = http.post("/_sim/markets", json=body).raise_for_status().json()
    yes, no = json.loads(gamma["clobTokenIds"])
    cid = gamma["conditionId"]

    def silence() -> None:
        venue = sim.venue
        venue.universe.by_condition(cid).source = "replay"
        for house in (HOUSE_MAKER, HOUSE_TAKER):
            venue.engine.cancel_where(house, venue.now_ms(), condition_id=cid)
        venue.flush()

    sim.call(silence)
    return {"cid": cid, "yes": yes, "no": no, "slug": gamma["slug"], "end": gamma["endDate"]}


def start_worker(
    sim: InProcessSim, market: dict[str, str], work: Path, key: str, command: list[str]
) -> Any:
    params = {
        "topic_id": market["slug"],
        "condition_id": market["cid"],
        "yes_token": market["yes"],
        "no_token": market["no"],
        "side": "YES",
        "tick_size": str(TICK),
        "min_order_size": 5,
        "neg_risk": False,
        "end_time": market["end"],
        "mode": "drill",
        "exchange": sim.urls.model_dump(),
        "status_file": str(work / f"{market['slug']}.json"),
        "log_file": str(work / f"{market['slug']}.log"),
        "strategy": STRATEGY,
    }
    path = work / f"{market['slug']}.params.json"
    path.write_text(json.dumps(params))
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLYMAKER_")}
    env["POLYMAKER_PRIVATE_KEY"] = key
    return subprocess.Popen(
        [sys.executable, *command, str(path)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def resting_bid(sim: InProcessSim, address: str) -> Decimal | None:
    orders = sim.call(lambda: sim.venue.engine.open_orders(maker_address=address))
    bids = [o.price for o in orders if o.side == "BUY"]
    return bids[0] if len(bids) == 1 else None


def wait(predicate: Any, timeout_s: float) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.005)
    return None


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def cpu_rss(pids: list[int], seconds: float, during: Any = None) -> dict[str, float]:
    """Mean CPU (% of one core) per process over ``seconds``, and RSS (MB) per process."""
    procs = [psutil.Process(pid) for pid in pids]
    before = [p.cpu_times() for p in procs]
    started = time.monotonic()
    if during is None:
        time.sleep(seconds)
    else:
        during(seconds)
    elapsed = time.monotonic() - started
    after = [p.cpu_times() for p in procs]
    cpu = [
        ((a.user + a.system) - (b.user + b.system)) / elapsed * 100
        for a, b in zip(after, before, strict=True)
    ]
    rss = [p.memory_info().rss / 2**20 for p in procs]
    return {
        "cpu_pct_mean": round(statistics.mean(cpu), 2),
        "cpu_pct_max": round(max(cpu), 2),
        "rss_mb_mean": round(statistics.mean(rss), 1),
        "rss_mb_max": round(max(rss), 1),
    }


def run(n_workers: int, samples: int, idle_s: float, command: list[str]) -> dict[str, Any]:
    with (
        in_process_sim(SimOptions(markets=5, seed=11, tick_ms=20)) as sim,
        httpx.Client(base_url=sim.urls.clob_url, timeout=30) as http,
        tempfile.TemporaryDirectory() as tmp,
    ):
        party = create_secure_client(Account.create().key.hex(), sim.urls)
        stamps = Stamps(sim, str(party.wallet).lower())
        markets = [quiet_market(sim, http, i) for i in range(n_workers)]
        keys = [Account.create().key.hex() for _ in markets]
        addresses = [str(Account.from_key(k).address).lower() for k in keys]
        for market in markets:
            party.place_limit_order(
                asset_id=market["yes"], price="0.40", size="5", side="BUY", post_only=True
            )
            party.place_limit_order(
                asset_id=market["no"], price="0.05", size="5", side="BUY", post_only=True
            )
        procs = [
            start_worker(sim, m, Path(tmp), k, command) for m, k in zip(markets, keys, strict=True)
        ]
        try:
            for address in addresses:
                if wait(lambda a=address: resting_bid(sim, a), 180) is None:
                    raise RuntimeError(f"worker {address} never placed its bid")
            idle = cpu_rss([p.pid for p in procs], idle_s)
            cancels, places = [], []
            price = {m["cid"]: Decimal("0.40") for m in markets}
            for i in range(samples):
                market, address = markets[i % n_workers], addresses[i % n_workers]
                new = price[market["cid"]] + TICK
                cancel_ms, place_ms = one_sample(sim, stamps, party, market, address, new)
                cancels.append(cancel_ms)
                places.append(place_ms)
                price[market["cid"]] = new
            result: dict[str, Any] = {
                "workers": n_workers,
                "samples": samples,
                "command": " ".join(command),
                "idle": idle,
                "reaction_ms_first_request": summary(cancels),
                "reaction_ms_new_order": summary(places),
            }
            if n_workers == 1:
                result["at_20_updates_per_s"] = cpu_rss(
                    [procs[0].pid], idle_s, lambda s: churn(party, markets[0], s, 20)
                )
            return result
        finally:
            for proc in procs:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
            for proc in procs:
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
            party.close()


def one_sample(
    sim: InProcessSim,
    stamps: Stamps,
    party: Any,
    market: dict[str, str],
    address: str,
    new: Decimal,
) -> tuple[float, float]:
    """Outbid the worker by one tick; ms until its cancel and its new bid reach the engine."""
    start = time.perf_counter()
    party.place_limit_order(
        asset_id=market["yes"], price=str(new), size="5", side="BUY", post_only=True
    )
    changed = stamps.changes[market["yes"]]
    cancel_at = wait(lambda: stamps.first_after(address, changed, "cancel"), 5)
    place_at = wait(lambda: stamps.first_after(address, changed, "place"), 5)
    if cancel_at is None or place_at is None or changed < start:
        raise RuntimeError(f"no reaction to the bid at {new}")
    wait(lambda: resting_bid(sim, address) == new, 5)
    return (cancel_at - changed) * 1000, (place_at - changed) * 1000


def churn(party: Any, market: dict[str, str], seconds: float, rate: float) -> None:
    """Book updates far from our bid (YES asks at 0.96..0.98) at ``rate`` per second."""
    deadline, step, resting = time.monotonic() + seconds, 1 / rate, []
    next_at = time.monotonic()
    while time.monotonic() < deadline:
        if len(resting) < 3:
            price = str(Decimal("0.02") + TICK * len(resting))
            resting.append(
                party.place_limit_order(
                    asset_id=market["no"], price=price, size="5", side="BUY", post_only=True
                ).order_id
            )
        else:
            party.cancel_order(order_id=resting.pop(0))
        next_at += step
        time.sleep(max(0.0, next_at - time.monotonic()))


def summary(values: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 2),
        "p99": round(percentile(values, 0.99), 2),
        "max": round(max(values), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 50])
    parser.add_argument("--samples", type=int, default=0, help="default: 40 or 4 per worker")
    parser.add_argument("--idle-s", type=float, default=10.0)
    parser.add_argument(
        "--lean",
        action="store_true",
        help="start workers as `python -m polymaker.worker` (no full CLI)",
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    results = []
    for n in args.workers:
        samples = args.samples or max(40, 4 * n)
        command = ["-m", "polymaker.worker"] if args.lean else ["-m", "polymaker", "worker"]
        results.append(run(n, samples, args.idle_s, command))
        print(json.dumps(results[-1]), flush=True)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
