"""Benchmark: screen a 20,000-market drill universe, polymaker vs a naive reference baseline.

Usage: ``.venv/bin/python bench/screener_bench.py [--markets 20000] [--runs 5] [--seed 1]
[--all-markets] [--direct]`` (or ``--url-file F`` to use an exchange that is already running).

The markets are the drill exchange's Gamma objects, which carry the real field set (about 5 KB
and 90 keys each with their event, like the recorded fixture
``gamma_market_v1_with_positionIds_and_feeSchedule_2026-08.json``). They are captured once
from a drill exchange and served as prebuilt bytes by ``standin_venue.py``, so the venue costs
almost nothing and the figures are the screeners' own (``--direct`` screens the drill exchange
itself instead). ``--all-markets`` widens the end-time window to every listed market, so the
screen parses the whole active universe instead of the ~7,000 ending 5-48 h from now.

Both variants use the shipped default criteria (config/filter_params.json). Each run is a
fresh child process (so peak RSS is per run) that screens end to end: listing, books for the
candidates, criteria, output file.
Reported: the median wall time of the screen itself (after imports) and the peak RSS of the
child. One untimed warm-up run per variant comes first.

The baseline does what the reference screener did (reference_behaviour.md section 1): the
legacy ``/markets`` listing with ``limit=500`` and window halving, one request at a time; early
filter on binary + end time only; ``POST /books`` for both tokens of every candidate in
sequential batches of 200; then blacklist, quote band, volume and one-per-event.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from polymaker.config.filter import FilterParams

VARIANTS = ("ours", "baseline")


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_end(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class Baseline:
    """The reference's algorithm, sequential and synchronous (requests-style httpx.Client)."""

    def __init__(self, gamma: str, clob: str, params: FilterParams) -> None:
        self.gamma, self.clob, self.p = gamma, clob, params
        self.client = httpx.Client(timeout=15)
        self.rows: dict[str, dict[str, Any]] = {}

    def _fetch(self, start: datetime, end: datetime) -> None:
        query = {
            "limit": 500, "order": "endDate", "ascending": "true", "active": "true",
            "closed": "false", "end_date_min": _iso(start), "end_date_max": _iso(end),
        }  # fmt: skip
        data = self.client.get(f"{self.gamma}/markets", params=query).json()
        if len(data) >= 500 and end - start > timedelta(hours=1):
            mid = start + (end - start) / 2
            self._fetch(start, mid)
            self._fetch(mid + timedelta(seconds=1), end)
            return
        for row in data:
            self.rows[str(row.get("id") or row.get("slug"))] = row
        if len(data) >= 500:
            last = _parse_end(data[-1].get("endDate"))
            if last is not None:
                self._fetch(last + timedelta(seconds=1), end)

    def run(self, now: datetime) -> dict[str, Any]:
        start = now + timedelta(hours=self.p.min_end_hours)
        end = now + timedelta(hours=self.p.max_end_hours)
        cursor = start
        while cursor < end:  # consecutive windows of gamma_window_days = 2
            upper = min(end, cursor + timedelta(days=2))
            self._fetch(cursor, upper)
            cursor = upper + timedelta(seconds=1)
        candidates = []
        for row in self.rows.values():
            tokens = json.loads(row.get("clobTokenIds") or "[]")
            ends = _parse_end(row.get("endDate"))
            if len(tokens) >= 2 and ends is not None and start <= ends <= end:
                candidates.append((row, tokens[0], tokens[1]))
        quotes = self._books([t for _, yes, no in candidates for t in (yes, no)])
        return self._final(candidates, quotes)

    def _books(self, tokens: list[str]) -> dict[str, tuple[float | None, float | None]]:
        quotes: dict[str, tuple[float | None, float | None]] = {}
        for i in range(0, len(tokens), 200):
            body = [{"token_id": t} for t in tokens[i : i + 200]]
            for book in self.client.post(f"{self.clob}/books", json=body).json():
                bids = [float(level["price"]) for level in book.get("bids") or []]
                asks = [float(level["price"]) for level in book.get("asks") or []]
                quotes[book["asset_id"]] = (max(bids, default=None), min(asks, default=None))
        return quotes

    def _final(self, candidates: list[Any], quotes: dict[str, Any]) -> dict[str, Any]:
        patterns = [
            re.compile(rf"\b{re.escape(t)}\b" if t.isalpha() and len(t) <= 3 else re.escape(t),
                       re.IGNORECASE)
            for t in self.p.blacklist_terms
        ]  # fmt: skip
        ask_min, ask_max = float(self.p.ask_min), float(self.p.ask_max)
        spread, volume = float(self.p.max_spread), float(self.p.min_total_volume)
        best: dict[str, tuple[Any, ...]] = {}
        chosen = []
        for row, yes, no in candidates:
            text = f"{row.get('question', '')} {row.get('slug', '')}"
            if any(p.search(text) for p in patterns):
                continue
            if float(row.get("volumeNum") or row.get("volume") or 0) < volume:
                continue
            for side, token in (("NO", no), ("YES", yes)):
                bid, ask = quotes.get(token, (None, None))
                if ask is None or bid is None or not ask_min <= ask <= ask_max:
                    continue
                if ask - bid > spread:
                    continue
                event = (row.get("events") or [{}])[0].get("id") or row["slug"]
                key = (side != "NO", -ask, row["slug"])
                if event not in best or key < best[event][0]:
                    best[event] = (key, row["slug"], side, token, bid, ask)
                break
        for _, slug, side, token, bid, ask in best.values():
            chosen.append({"slug": slug, "side": side, "token": token, "bid": bid, "ask": ask})
        return {"total": len(self.rows), "topics": chosen}


ALL_MARKETS = {"min_end_hours": 0.0, "max_end_hours": 24.0 * 400}


def _params(all_markets: bool) -> FilterParams:
    return FilterParams(**ALL_MARKETS) if all_markets else FilterParams()


def _child(args: argparse.Namespace) -> None:
    """One timed run in this process; prints one JSON line."""
    params = _params(args.all_markets)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    cpu_started = time.process_time()
    if args.child != "baseline":
        from polymaker.screener import screen, write_result

        result = screen(params, gamma_url=args.gamma_url, clob_url=args.clob_url)
        write_result(result, args.out)
        stats = result.stats
        summary = {"total": result.total_markets, "topics": len(result.topics),
                   "pages": stats.pages, "book_batches": stats.books_batches}  # fmt: skip
    else:
        document = Baseline(args.gamma_url, args.clob_url, params).run(datetime.now(UTC))
        Path(args.out).write_text(json.dumps(document))
        summary = {"total": document["total"], "topics": len(document["topics"])}
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"wall_s": wall, "cpu_s": cpu, "peak_rss_mb": peak_kb / 1024,
                      "rss_before_mb": rss_before / 1024, **summary}))  # fmt: skip


def _one(variant: str, urls: dict[str, str], out: Path, all_markets: bool) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", variant, "--gamma-url", urls["gamma_url"],
               "--clob-url", urls["clob_url"], "--out", str(out)]  # fmt: skip
    if all_markets:
        command.append("--all-markets")
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{variant} run failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _measure(urls: dict[str, str], args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    report: dict[str, Any] = {}
    samples: dict[str, list[dict[str, Any]]] = {v: [] for v in VARIANTS}
    for variant in samples:
        _one(variant, urls, workdir / f"{variant}.json", args.all_markets)  # warm-up, untimed
    for _ in range(args.runs):
        for variant, runs_of in samples.items():
            runs_of.append(_one(variant, urls, workdir / f"{variant}.json", args.all_markets))
    for variant, runs_of in samples.items():
        walls = [r["wall_s"] for r in runs_of]
        report[variant] = {
            "median_wall_s": round(statistics.median(walls), 3),
            "walls_s": [round(w, 3) for w in walls],
            "median_client_cpu_s": round(statistics.median(r["cpu_s"] for r in runs_of), 3),
            "peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs_of), 1),
            "rss_after_imports_mb": round(max(r["rss_before_mb"] for r in runs_of), 1),
            "last_run": {k: v for k, v in runs_of[-1].items() if not k.endswith("_mb")},
        }
    report["speedup"] = round(
        report["baseline"]["median_wall_s"] / report["ours"]["median_wall_s"], 2
    )
    # Runs are paired (ours, then baseline, back to back), so a pair shares the machine's
    # load at that moment; the median of the pair ratios is less sensitive to other jobs.
    paired = zip(samples["ours"], samples["baseline"], strict=True)
    pairs = [b["wall_s"] / o["wall_s"] for o, b in paired]
    report["paired_speedup_median"] = round(statistics.median(pairs), 2)
    return report


STANDIN = Path(__file__).with_name("standin_venue.py")


def _capture(drill: dict[str, str], args: argparse.Namespace, out: Path) -> dict[str, Any]:
    """Save the drill's listing, and the books of the markets the screens will ask about."""
    now = datetime.now(UTC)
    params = _params(args.all_markets)
    margin = timedelta(hours=1)
    low = _iso(now + timedelta(hours=params.min_end_hours) - margin)
    high = _iso(now + timedelta(hours=params.max_end_hours) + margin)
    command = [sys.executable, str(STANDIN), "capture", str(out),
               "--gamma-url", drill["gamma_url"], "--clob-url", drill["clob_url"],
               "--books-from", low, "--books-to", high]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=True)
    return json.loads(done.stdout)


@contextlib.contextmanager
def _standin(captured: Path, workdir: Path) -> Iterator[dict[str, str]]:
    """Serve the captured bytes from a child process until the block ends."""
    url_file = workdir / "standin_urls.json"
    server = subprocess.Popen([sys.executable, str(STANDIN), "serve", str(captured),
                               "--url-file", str(url_file)], start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not url_file.exists():
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the stand-in venue did not start")
            time.sleep(0.05)
        yield json.loads(url_file.read_text())
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markets", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--url-file", type=Path, help="use this running exchange directly")
    parser.add_argument("--direct", action="store_true", help="screen the drill exchange itself")
    parser.add_argument("--all-markets", action="store_true", help="no end-time window")
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--gamma-url", help=argparse.SUPPRESS)
    parser.add_argument("--clob-url", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return
    report: dict[str, Any] = {"markets": args.markets, "all_markets": args.all_markets}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if args.url_file is not None:
            report.update(_measure(json.loads(args.url_file.read_text()), args, workdir))
            print(json.dumps(report, indent=2))
            return
        from polymaker.drill.testing import running_sim

        captured = workdir / "captured.json"
        with running_sim(workdir, markets=args.markets, seed=args.seed, timeout_s=120) as sim:
            if args.direct:
                report.update(_measure(sim.model_dump(), args, workdir))
            else:
                report["venue"] = _capture(sim.model_dump(), args, captured)
        if not args.direct:
            with _standin(captured, workdir) as urls:
                report.update(_measure(urls, args, workdir))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
