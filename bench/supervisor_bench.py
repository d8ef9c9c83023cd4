"""Supervisor benchmark: N concurrent workers on a drill exchange, supervisor CPU, RSS, latency.

For each N (default 50 100 200): start ``polymaker sim``, create N-K markets the bench filter
admits, start ``polymaker run`` with ``max_concurrent_workers`` N, wait until N-K workers are
running, measure the supervisor's own CPU (% of one core) and the RSS of every process
(supervisor, workers, screener children, drill exchange) over a steady window, then create K
more markets one per second and measure, for each, the time from its creation at the exchange
to the first order of its worker (``GET /_sim/orders``), and to the supervisor's launch of
that worker (its share of the latency). Prints one JSON line per N.

Usage: .venv/bin/python bench/supervisor_bench.py [N ...] [--spares S ...] [--late K] [--window S]
[--poll S] (``--spares 0 1`` runs each N without and with a spare worker, the baseline first;
``--poll 300`` keeps the shipped screening period, so a late market is found by its
``new_market`` announcement, not by the next periodic screen).
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
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import psutil

from polymaker.autorun.control import send_command
from polymaker.drill.simulator import HOUSE_MAKER, HOUSE_TAKER
from polymaker.drill.testing import running_sim
from polymaker.errors import ControlError

FILTER = {
    "min_end_hours": 1,
    "max_end_hours": 48,
    "min_total_volume": 1000,
    "ask_min": 0.5,
    "ask_max": 0.95,
    "prefer_side": "NO",
    "one_per_event": False,
    "blacklist_terms": [],
    "only": ["Bench"],
}
STRATEGY = {"default": {"order_size": 5, "max_position_shares": 10, "buy_price_threshold": 0.9}}


def _config(root: Path, urls: dict[str, str], workers: int, spares: int, poll_s: float) -> Path:
    config = root / "config"
    config.mkdir(parents=True)
    document = {
        "mode": "drill",
        "exchange": urls,
        "max_concurrent_workers": workers,
        "spare_workers": spares,
        "topics_poll_sec": poll_s,
        "heartbeat_stale_s": 120,
        "stop_timeout_s": 10,
        "screener": {"timeout_s": 60, "retries": 1},
        "status_interval_s": 5,
    }
    (config / "global_config.json").write_text(json.dumps(document))
    (config / "filter_params.json").write_text(json.dumps(FILTER))
    (config / "strategy_defaults.json").write_text(json.dumps(STRATEGY))
    return config / "global_config.json"


def _add_market(http: httpx.Client, name: str) -> tuple[str, float]:
    end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 20 * 3600))
    body = {"question": f"Bench {name}?", "slug": f"bench-{name}", "end_date": end,
            "yes_price": 0.3, "volume": 50000}  # fmt: skip
    answer = http.post("/_sim/markets", json=body)
    answer.raise_for_status()
    return str(answer.json()["conditionId"]), time.monotonic()


def _markets_with_orders(http: httpx.Client) -> set[str]:
    """Markets where a worker (not the simulator's house accounts) has an order."""
    answer = http.get("/_sim/orders")
    answer.raise_for_status()
    house = {HOUSE_MAKER.lower(), HOUSE_TAKER.lower()}
    return {
        str(order.get("market"))
        for order in answer.json()
        if str(order.get("maker_address", "")).lower() not in house
    }


def _running(data_dir: Path) -> int:
    try:
        reply = send_command(data_dir, "status", timeout_s=30)
    except ControlError:
        return 0
    topics = reply.get("result", {}).get("topics", []) if reply.get("ok") else []
    return sum(row["state"] == "running" for row in topics)


def _descendants_rss_mb() -> float:
    """RSS of every process this benchmark started (drill exchange, supervisor, workers...)."""
    total = 0
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            total += child.memory_info().rss
    return total / 1e6


def _cpu_s(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def _start_supervisor(root: Path, config: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLYMAKER_")}
    with open(root / "run.log", "wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "polymaker", "run", "--global-config", str(config),
             "--no-repl"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
            start_new_session=True,
        )  # fmt: skip


def _steady(supervisor: subprocess.Popen[bytes], window_s: float) -> dict[str, Any]:
    """Supervisor CPU (% of one core) and the peak total RSS over ``window_s``."""
    process = psutil.Process(supervisor.pid)
    cpu0, wall0 = _cpu_s(process), time.monotonic()
    psutil.cpu_percent(interval=None)
    rss = [_descendants_rss_mb()]
    while time.monotonic() - wall0 < window_s:
        time.sleep(2)
        rss.append(_descendants_rss_mb())
    cpu = (_cpu_s(process) - cpu0) / (time.monotonic() - wall0) * 100
    return {
        "supervisor_cpu_pct_of_core": round(cpu, 2),
        "machine_cpu_pct": psutil.cpu_percent(interval=None),
        "total_rss_mb": round(max(rss)),
    }


def _launch_delays(log_file: Path, created_wall: dict[str, float]) -> list[float]:
    """Seconds from each late market's creation to the supervisor's ``launch`` log line."""
    delays = []
    for line in log_file.read_text(errors="replace").splitlines():
        for slug, at in created_wall.items():
            if f" {slug}: launch" in line:
                moment = datetime.fromisoformat(line.split(" ", 1)[0].replace("Z", "+00:00"))
                delays.append(moment.timestamp() - at)
    return delays


def _summary(values: list[float]) -> dict[str, Any]:
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "p50": round(statistics.median(ordered), 2),
        "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 2),
        "max": round(ordered[-1], 2),
    }


def _latencies(http: httpx.Client, late: int, log_file: Path) -> dict[str, Any]:
    """Create ``late`` markets one per second; seconds from each creation to its first order."""
    created: dict[str, float] = {}
    created_wall: dict[str, float] = {}
    latencies: list[float] = []
    next_index, next_at = 0, time.monotonic()
    deadline = time.monotonic() + 120 + late
    # Orders are polled while markets are still being created (one a second), so a market's
    # latency never includes the time spent creating the ones after it.
    while (created or next_index < late) and time.monotonic() < deadline:
        if next_index < late and time.monotonic() >= next_at:
            condition, at = _add_market(http, f"late-{next_index}")
            created[condition] = at
            created_wall[f"bench-late-{next_index}"] = time.time()
            next_index, next_at = next_index + 1, at + 1.0
        seen = _markets_with_orders(http)
        for condition in [c for c in created if c in seen]:
            latencies.append(time.monotonic() - created.pop(condition))
        time.sleep(0.1)
    result: dict[str, Any] = {"late_markets_without_order": len(created)}
    if latencies:
        result["first_order_latency_s"] = _summary(latencies)
    launches = _launch_delays(log_file, created_wall)
    if launches:
        result["appear_to_launch_s"] = _summary(launches)
    return result


def bench(
    workers: int, spares: int, late: int, window_s: float, ramp_timeout_s: float, poll_s: float
) -> dict[str, Any]:
    """One run with ``workers`` concurrent workers (see the module docstring)."""
    with (
        tempfile.TemporaryDirectory(prefix="pmbench") as tmp,
        running_sim(Path(tmp), markets=5, seed=5, timeout_s=60) as urls,
        httpx.Client(base_url=urls.clob_url, timeout=30) as http,
    ):
        root = Path(tmp) / "p"
        for index in range(workers - late):
            _add_market(http, f"early-{index}")
        config = _config(root, urls.model_dump(), workers, spares, poll_s)
        supervisor = _start_supervisor(root, config)
        result: dict[str, Any] = {"workers": workers, "spare_workers": spares, "poll_s": poll_s}
        try:
            started = time.monotonic()
            while (running := _running(root / "data")) < workers - late:
                if time.monotonic() - started > ramp_timeout_s or supervisor.poll() is not None:
                    result["error"] = f"only {running} running after the ramp"
                    return result
                time.sleep(2)
            result["ramp_s"] = round(time.monotonic() - started, 1)
            result.update(_steady(supervisor, window_s))
            result.update(_latencies(http, late, root / "logs" / "autorun.log"))
            return result
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(supervisor.pid, signal.SIGTERM)
            try:
                supervisor.wait(timeout=120)
            except subprocess.TimeoutExpired:
                os.killpg(supervisor.pid, signal.SIGKILL)
                supervisor.wait()
            result["exit_code"] = supervisor.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[50, 100, 200])
    parser.add_argument(
        "--spares", type=int, nargs="+", default=[1], help="spare_workers values to compare"
    )
    parser.add_argument("--late", type=int, default=10, help="markets created after the ramp")
    parser.add_argument("--window", type=float, default=20.0, help="steady CPU window, seconds")
    parser.add_argument("--ramp-timeout", type=float, default=600.0)
    parser.add_argument("--poll", type=float, default=1.0, help="topics_poll_sec")
    args = parser.parse_args()
    for size in args.sizes:
        for spares in args.spares:
            result = bench(size, spares, args.late, args.window, args.ramp_timeout, args.poll)
            print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
