"""Drill exchange benchmark: order throughput, WebSocket fan-out latency, Gamma listing.

Runs the real ``polymaker sim`` as a subprocess (so client and server use separate cores) and
reports the median of ``--runs`` runs of each measurement:
- orders: signed post-only placements + cancels per second over HTTP (L2 HMAC and EIP-712
  signature checks on the server; orders are signed ahead of time with the SDK's signing);
- ws: frames per second delivered to 200 market-channel subscribers of one asset, with
  p50/p99 delivery latency (receive time minus the frame's server timestamp);
- gamma: wall time to walk all 20,000 markets with /markets/keyset.

Usage: .venv/bin/python bench/drill_bench.py [--runs 3] [--orders 600] [--subscribers 200]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import websockets
from eth_account import Account
from polymarket._internal.actions.orders.post import build_post_order_request
from polymarket._internal.hmac import build_hmac_signature

from polymaker.drill.testing import running_sim, trading_ids
from polymaker.exchange.sdk import create_secure_client
from polymaker.exchange.urls import ExchangeUrls


def _headers(client: Any, method: str, path: str, body: str) -> dict[str, str]:
    creds = client.credentials
    ts = int(time.time())
    return {
        "POLY_ADDRESS": client.signer,
        "POLY_API_KEY": creds.key,
        "POLY_PASSPHRASE": creds.passphrase,
        "POLY_TIMESTAMP": str(ts),
        "POLY_SIGNATURE": build_hmac_signature(
            secret=creds.secret, timestamp=ts, method=method, path=path, body=body
        ),
        "Content-Type": "application/json",
    }


def _quiet_market(client: Any) -> tuple[str, Decimal]:
    for page in client.list_markets(closed=False):
        for market in page.items:
            if market.state.accepting_orders:
                token = trading_ids(market)[0]
                book = client.get_order_book(asset_id=token)
                if book.bids:
                    return token, book.tick_size
    raise RuntimeError("no market with bids")


async def _order_run(urls: ExchangeUrls, client: Any, bodies: list[str], concurrency: int) -> float:
    """Place then cancel every pre-signed order; returns operations per second."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)

    async def worker(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            body = queue.get_nowait()
            async with session.post(
                urls.clob_url + "/order",
                data=body,
                headers=_headers(client, "POST", "/order", body),
            ) as resp:
                placed = await resp.json()
                assert resp.status == 200, placed
            cancel = orjson.dumps({"orderID": placed["orderID"]}).decode()
            async with session.delete(
                urls.clob_url + "/order",
                data=cancel,
                headers=_headers(client, "DELETE", "/order", cancel),
            ) as r:
                assert r.status == 200 and (await r.json())["canceled"]

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return 2 * len(bodies) / elapsed


def bench_orders(urls: ExchangeUrls, n_orders: int, runs: int) -> list[float]:
    client = create_secure_client(Account.create().key.hex(), urls)
    token, tick = _quiet_market(client)
    results = []
    for run in range(runs):
        signed = [
            client.create_limit_order(
                asset_id=token, price=str(tick), size="5", side="BUY", post_only=True
            )
            for _ in range(n_orders)
        ]
        bodies = [
            orjson.dumps(
                build_post_order_request(s, owner_api_key=client.credentials.key)[1]
            ).decode()
            for s in signed
        ]
        results.append(asyncio.run(_order_run(urls, client, bodies, concurrency=8)))
        print(f"  orders run {run + 1}: {results[-1]:.0f} ops/s ({n_orders} place + cancel)")
    return results


async def _ws_run(
    urls: ExchangeUrls, client: Any, token: str, bodies: list[str], subscribers: int
) -> tuple[float, float, float]:
    latencies: list[float] = []
    stop = asyncio.Event()

    async def subscriber() -> None:
        async with websockets.connect(urls.ws_market_url, max_queue=None) as ws:
            await ws.send(orjson.dumps({"type": "market", "assets_ids": [token]}).decode())
            await ws.recv()
            ready.release()
            while not stop.is_set():
                try:
                    raw = await asyncio.wait_for(ws.recv(), 0.5)
                except TimeoutError:
                    continue
                now_ms = time.time() * 1000
                frame = orjson.loads(raw)
                if isinstance(frame, dict) and frame.get("event_type") == "price_change":
                    latencies.append(now_ms - int(frame["timestamp"]))

    ready = asyncio.Semaphore(0)
    tasks = [asyncio.create_task(subscriber()) for _ in range(subscribers)]
    for _ in range(subscribers):
        await ready.acquire()
    async with aiohttp.ClientSession() as session:
        started = time.perf_counter()
        for body in bodies:  # signed ahead of time: signing would steal the client's GIL
            async with session.post(
                urls.clob_url + "/order",
                data=body,
                headers=_headers(client, "POST", "/order", body),
            ) as resp:
                placed = await resp.json()
            cancel = orjson.dumps({"orderID": placed["orderID"]}).decode()
            async with session.delete(
                urls.clob_url + "/order",
                data=cancel,
                headers=_headers(client, "DELETE", "/order", cancel),
            ):
                pass
            await asyncio.sleep(0.02)
        elapsed = time.perf_counter() - started
    await asyncio.sleep(0.5)
    stop.set()
    await asyncio.gather(*tasks)
    latencies.sort()
    p50 = latencies[len(latencies) // 2]
    p99 = latencies[int(len(latencies) * 0.99)]
    return len(latencies) / elapsed, p50, p99


def bench_ws(urls: ExchangeUrls, subscribers: int, runs: int) -> list[tuple[float, float, float]]:
    client = create_secure_client(Account.create().key.hex(), urls)
    token, tick = _quiet_market(client)
    results = []
    for run in range(runs):
        signed = [
            client.create_limit_order(
                asset_id=token, price=str(tick), size="5", side="BUY", post_only=True
            )
            for _ in range(150)
        ]
        bodies = [
            orjson.dumps(
                build_post_order_request(s, owner_api_key=client.credentials.key)[1]
            ).decode()
            for s in signed
        ]
        results.append(asyncio.run(_ws_run(urls, client, token, bodies, subscribers)))
        rate, p50, p99 = results[-1]
        print(
            f"  ws run {run + 1}: {rate:.0f} frames/s to {subscribers} subscribers, "
            f"p50 {p50:.1f} ms, p99 {p99:.1f} ms"
        )
    return results


async def _walk(urls: ExchangeUrls) -> tuple[int, float]:
    count, cursor = 0, None
    async with aiohttp.ClientSession() as session:
        started = time.perf_counter()
        while True:
            params = {"limit": "100", **({"after_cursor": cursor} if cursor else {})}
            async with session.get(urls.gamma_url + "/markets/keyset", params=params) as resp:
                page = orjson.loads(await resp.read())
            count += len(page["markets"])
            cursor = page.get("next_cursor")
            if not cursor:
                return count, time.perf_counter() - started


def bench_gamma(runs: int) -> list[float]:
    results = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_sim(Path(tmp), markets=20000, timeout_s=60) as urls,
    ):
        time.sleep(3)  # let the server finish serializing the universe in the background
        for run in range(runs):
            count, elapsed = asyncio.run(_walk(urls))
            assert count == 20000, count
            results.append(elapsed)
            print(f"  gamma run {run + 1}: {count} markets in {elapsed:.2f} s")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--orders", type=int, default=600)
    parser.add_argument("--subscribers", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, running_sim(Path(tmp), markets=200) as urls:
        orders = bench_orders(urls, args.orders, args.runs)
        ws = bench_ws(urls, args.subscribers, args.runs)
    gamma = bench_gamma(args.runs)
    print(f"orders: median {statistics.median(orders):.0f} place+cancel ops/s (goal >= 500)")
    print(
        f"ws: median {statistics.median(r[0] for r in ws):.0f} frames/s, p50 "
        f"{statistics.median(r[1] for r in ws):.1f} ms, p99 "
        f"{statistics.median(r[2] for r in ws):.1f} ms (goal p99 <= 50 ms)"
    )
    print(f"gamma: median {statistics.median(gamma):.2f} s for 20,000 markets (goal <= 2 s)")


if __name__ == "__main__":
    main()
