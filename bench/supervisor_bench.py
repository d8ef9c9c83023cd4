"""Supervisor benchmark: N workers on a drill exchange; memory, supervisor CPU, start latency.

For each N (default 50 100 200) and each way of starting workers (``--variants cold forked``:
``worker_template`` false, the old cold start and the fallback while the template is down,
measured first as the baseline; then true, workers forked from the template): start
``polymaker sim``, create N - 30 markets the bench filter admits (30 = the sum of ``--late``),
start ``polymaker run`` with ``max_concurrent_workers`` N, wait until they all run, then

- measure the supervisor's own CPU (% of one core) over a steady window;
- for each ``--late K`` (default 10 20), create K more markets one per second and record, per
  market, its creation at the exchange, its launch (the supervisor's log line) and its
  worker's first order (``GET /_sim/orders``): appearance -> first order, split into the
  screening part (appearance -> launch) and launch -> first order;
- with N workers running, read the USS and PSS of every process (``/proc/PID/smaps_rollup``),
  summed by role: supervisor, template, workers, drill exchange, other (the screener's fork
  server); the marginal memory of a worker is its mean USS.

Prints one JSON line per (N, variant). Screening period ``--poll`` (default 1 s; with 300, as
shipped, the late markets are found by their ``new_market`` announcement, issue 11).

Usage: .venv/bin/python bench/supervisor_bench.py [N ...] [--variants cold forked]
[--late K ...] [--window S] [--poll S]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
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


def _config(root: Path, urls: dict[str, str], cap: int, forked: bool, poll_s: float) -> Path:
    config = root / "config"
    config.mkdir(parents=True)
    document = {
        "mode": "drill",
        "exchange": urls,
        "max_concurrent_workers": cap,
        "worker_template": forked,
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


def _role(process: psutil.Process, supervisor: int, sim: int) -> str:
    if process.pid == supervisor:
        return "supervisor"
    if process.pid == sim:
        return "drill_exchange"
    line = " ".join(part for part in process.cmdline() if part)
    if "worker-template" in line:
        return "template"
    if "polymaker worker " in line or line.startswith("polymaker worker "):
        return "workers"
    return "other"


def _memory(supervisor: int, sim: int) -> dict[str, Any]:
    """USS and PSS (MB) of every process this benchmark started, summed by role."""
    totals: dict[str, dict[str, float]] = {}
    worker_uss: list[float] = []
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            role = _role(child, supervisor, sim)
            info = child.memory_full_info()
            row = totals.setdefault(role, {"count": 0, "uss_mb": 0.0, "pss_mb": 0.0})
            row["count"] += 1
            row["uss_mb"] += info.uss / 1e6
            row["pss_mb"] += info.pss / 1e6
            if role == "workers":
                worker_uss.append(info.uss / 1e6)
    for row in totals.values():
        row["uss_mb"], row["pss_mb"] = round(row["uss_mb"]), round(row["pss_mb"])
    return {
        "memory": totals,
        "total_uss_mb": sum(row["uss_mb"] for row in totals.values()),
        "total_pss_mb": sum(row["pss_mb"] for row in totals.values()),
        "worker_uss_mb_mean": round(statistics.mean(worker_uss), 1) if worker_uss else None,
        "worker_uss_mb_median": round(statistics.median(worker_uss), 1) if worker_uss else None,
    }


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
    """Supervisor CPU (% of one core) and the machine's CPU over ``window_s``."""
    process = psutil.Process(supervisor.pid)
    cpu0, wall0 = _cpu_s(process), time.monotonic()
    psutil.cpu_percent(interval=None)
    time.sleep(window_s)
    cpu = (_cpu_s(process) - cpu0) / (time.monotonic() - wall0) * 100
    return {
        "supervisor_cpu_pct_of_core": round(cpu, 2),
        "machine_cpu_pct": psutil.cpu_percent(interval=None),
    }


def _launch_times(log_file: Path, slugs: set[str]) -> dict[str, float]:
    """Wall time of each slug's ``launch`` line in the supervisor's log."""
    times: dict[str, float] = {}
    for line in log_file.read_text(errors="replace").splitlines():
        for slug in slugs:
            if f" {slug}: launch" in line:
                moment = datetime.fromisoformat(line.split(" ", 1)[0].replace("Z", "+00:00"))
                times.setdefault(slug, moment.timestamp())
    return times


def _summary(values: list[float]) -> dict[str, Any]:
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "p50": round(statistics.median(ordered), 2),
        "p95": round(ordered[math.ceil(0.95 * len(ordered)) - 1], 2),  # nearest rank
        "max": round(ordered[-1], 2),
    }


def _latencies(http: httpx.Client, late: int, log_file: Path, tag: str) -> dict[str, Any]:
    """Create ``late`` markets one per second; per market: appearance, launch, first order."""
    created: dict[str, tuple[str, float]] = {}  # condition -> (slug, wall time of creation)
    ordered: dict[str, float] = {}  # slug -> wall time its first order was seen
    appeared: dict[str, float] = {}
    next_index, next_at = 0, time.monotonic()
    deadline = time.monotonic() + 120 + late
    # Orders are polled while markets are still being created (one a second), so a market's
    # latency never includes the time spent creating the ones after it.
    while (created or next_index < late) and time.monotonic() < deadline:
        if next_index < late and time.monotonic() >= next_at:
            name = f"{tag}-{next_index}"
            condition, at = _add_market(http, name)
            created[condition] = (f"bench-{name}", time.time())
            appeared[f"bench-{name}"] = created[condition][1]
            next_index, next_at = next_index + 1, at + 1.0
        seen = _markets_with_orders(http)
        for condition in [c for c in created if c in seen]:
            slug, _at = created.pop(condition)
            ordered[slug] = time.time()
        time.sleep(0.05)
    launched = _launch_times(log_file, set(appeared))
    result: dict[str, Any] = {"late": late, "without_order": len(created)}
    parts = {
        "appear_to_order_s": [ordered[s] - appeared[s] for s in ordered],
        "appear_to_launch_s": [launched[s] - appeared[s] for s in launched],
        "launch_to_order_s": [ordered[s] - launched[s] for s in ordered if s in launched],
    }
    for name, values in parts.items():
        if values:
            result[name] = _summary(values)
    return result


def bench(
    workers: int,
    forked: bool,
    lates: list[int],
    window_s: float,
    ramp_timeout_s: float,
    poll_s: float = 1.0,
) -> dict[str, Any]:
    """One run with ``workers`` running workers (see the module docstring)."""
    with (
        tempfile.TemporaryDirectory(prefix="pmbench") as tmp,
        running_sim(Path(tmp), markets=5, seed=5, timeout_s=60) as urls,
        httpx.Client(base_url=urls.clob_url, timeout=30) as http,
    ):
        [sim] = [p for p in psutil.Process().children() if "sim" in p.cmdline()]
        root = Path(tmp) / "p"
        early = workers - sum(lates)  # the late markets bring it to ``workers`` running
        for index in range(early):
            _add_market(http, f"early-{index}")
        config = _config(root, urls.model_dump(), workers, forked, poll_s)
        supervisor = _start_supervisor(root, config)
        variant = "forked" if forked else "cold"
        result: dict[str, Any] = {"workers": workers, "variant": variant, "poll_s": poll_s}
        try:
            started = time.monotonic()
            while (running := _running(root / "data")) < early:
                if time.monotonic() - started > ramp_timeout_s or supervisor.poll() is not None:
                    result["error"] = f"only {running} running after the ramp"
                    return result
                time.sleep(2)
            result["ramp_s"] = round(time.monotonic() - started, 1)
            result.update(_steady(supervisor, window_s))
            log_file = root / "logs" / "autorun.log"
            result["arrivals"] = [
                _latencies(http, late, log_file, f"late{index}") for index, late in enumerate(lates)
            ]
            result.update(_memory(supervisor.pid, sim.pid))  # with ``workers`` running
            return result
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(supervisor.pid, signal.SIGTERM)
            try:
                supervisor.wait(timeout=180)
            except subprocess.TimeoutExpired:
                os.killpg(supervisor.pid, signal.SIGKILL)
                supervisor.wait()
            result["exit_code"] = supervisor.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[50, 100, 200])
    parser.add_argument(
        "--variants", nargs="+", choices=["cold", "forked"], default=["cold", "forked"]
    )
    parser.add_argument("--late", type=int, nargs="+", default=[10, 20])
    parser.add_argument("--window", type=float, default=20.0, help="steady CPU window, seconds")
    parser.add_argument("--ramp-timeout", type=float, default=900.0)
    parser.add_argument(
        "--poll",
        type=float,
        default=1.0,
        help="topics_poll_sec (300, as shipped: late markets are found by new_market)",
    )
    args = parser.parse_args()
    for size in args.sizes:
        for variant in args.variants:
            forked = variant == "forked"
            result = bench(size, forked, args.late, args.window, args.ramp_timeout, args.poll)
            print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
