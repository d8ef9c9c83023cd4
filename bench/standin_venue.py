"""A stand-in venue for the screener benchmark: the drill's markets and books as prebuilt bytes.

Why: against the live drill exchange, the exchange itself spends about as much CPU per screen
as the screener (it rebuilds Gamma objects whose quotes moved, and builds books on first
touch), and on a shared 2-core machine that CPU is taken from the screener being measured.
The stand-in serves bytes captured once from a drill exchange, so both variants are measured
against a venue that costs almost nothing, as the issue's measurement did.

``capture`` pages a drill exchange's whole active listing (the real-shaped Gamma objects) and
the ``/books`` entries of the markets ending in a window; ``serve`` answers
``GET /markets/keyset`` (cursor = offset, at most 100 a page), ``GET /markets`` (offset, at
most 500) with the ``end_date_min``/``end_date_max`` window, and ``POST /books``.

Usage (the benchmark does this itself, each in its own process so that the benchmark's
children do not inherit its memory): ``python bench/standin_venue.py capture OUT --gamma-url U
--clob-url U --books-from T --books-to T``, then ``python bench/standin_venue.py serve OUT
--url-file F``.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
from aiohttp import web

KEYSET_MAX = 100
LEGACY_MAX = 500


def _end_key(text: str | None) -> str:
    """Gamma's ``endDate`` as a sortable UTC text ('' when missing: before every window)."""
    if not text:
        return ""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).strftime("%Y-%m-%dT%H:%M:%SZ")


def capture(
    gamma_url: str, clob_url: str, books_from: str, books_to: str, out: Path
) -> dict[str, Any]:
    """Save the active listing and the books of markets ending in [books_from, books_to]."""
    rows: list[tuple[str, str]] = []
    tokens: list[str] = []
    with httpx.Client(timeout=120) as client:
        query: dict[str, Any] = {"limit": KEYSET_MAX, "active": "true", "closed": "false"}
        while True:
            page = client.get(f"{gamma_url}/markets/keyset", params=query).json()
            for market in page["markets"]:
                end = _end_key(market.get("endDate"))
                rows.append((end, orjson.dumps(market).decode()))
                if books_from <= end <= books_to:  # v2 markets trade their positionIds
                    v2 = market.get("version") == "v2"
                    tokens += market["positionIds"] if v2 else json.loads(market["clobTokenIds"])
            if not page.get("next_cursor"):
                break
            query["after_cursor"] = page["next_cursor"]
        books: dict[str, str] = {}
        for i in range(0, len(tokens), 200):
            body = [{"token_id": t} for t in tokens[i : i + 200]]
            for book in client.post(f"{clob_url}/books", json=body).json():
                books[book["asset_id"]] = orjson.dumps(book).decode()
    rows.sort(key=lambda row: row[0])
    out.write_bytes(orjson.dumps({"rows": rows, "books": books}))
    sizes = sorted(len(market) for _, market in rows)
    keys = sorted(len(orjson.loads(market)) for _, market in rows[:: max(1, len(rows) // 500)])
    return {
        "markets": len(rows),
        "books": len(books),
        "median_market_bytes": sizes[len(sizes) // 2],
        "median_market_keys": keys[len(keys) // 2],
    }


class StandIn:
    """Serves captured bytes; every answer is a join of prebuilt pieces."""

    def __init__(self, captured: dict[str, Any]) -> None:
        self.ends = [end for end, _ in captured["rows"]]
        self.rows = [market.encode() for _, market in captured["rows"]]
        self.books = {token: book.encode() for token, book in captured["books"].items()}

    def _window(self, request: web.Request) -> tuple[int, int]:
        low = _end_key(request.query.get("end_date_min")) or ""
        high = _end_key(request.query.get("end_date_max")) or "9999"
        return bisect.bisect_left(self.ends, low), bisect.bisect_right(self.ends, high)

    async def keyset(self, request: web.Request) -> web.Response:
        start, stop = self._window(request)
        limit = min(int(request.query.get("limit", KEYSET_MAX)), KEYSET_MAX)
        first = start + int(request.query.get("after_cursor", "0"))
        last = min(first + limit, stop)
        body = b'{"markets":[' + b",".join(self.rows[first:last]) + b"]"
        if last < stop:
            body += b',"next_cursor":"' + str(last - start).encode() + b'"'
        return web.Response(body=body + b"}", content_type="application/json")

    async def offset(self, request: web.Request) -> web.Response:
        start, stop = self._window(request)
        limit = min(int(request.query.get("limit", LEGACY_MAX)), LEGACY_MAX)
        first = start + int(request.query.get("offset", "0"))
        body = b"[" + b",".join(self.rows[first : min(first + limit, stop)]) + b"]"
        return web.Response(body=body, content_type="application/json")

    async def books_route(self, request: web.Request) -> web.Response:
        wanted = orjson.loads(await request.read())
        found = [self.books[item["token_id"]] for item in wanted if item["token_id"] in self.books]
        return web.Response(body=b"[" + b",".join(found) + b"]", content_type="application/json")


async def serve(capture_file: Path, url_file: Path) -> None:
    """Serve on 127.0.0.1 (a free port) until killed; write the URLs once ready."""
    standin = StandIn(orjson.loads(capture_file.read_bytes()))
    app = web.Application()
    app.router.add_get("/markets/keyset", standin.keyset)
    app.router.add_get("/markets", standin.offset)
    app.router.add_post("/books", standin.books_route)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    base = f"http://127.0.0.1:{port}"
    temporary = url_file.with_suffix(".tmp")
    temporary.write_text(json.dumps({"gamma_url": base, "clob_url": base}))
    temporary.replace(url_file)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    take = commands.add_parser("capture", help="save a drill exchange's listing and books")
    take.add_argument("out", type=Path)
    for name in ("--gamma-url", "--clob-url", "--books-from", "--books-to"):
        take.add_argument(name, required=True)
    give = commands.add_parser("serve", help="serve a capture on 127.0.0.1")
    give.add_argument("capture", type=Path)
    give.add_argument("--url-file", type=Path, required=True)
    args = parser.parse_args()
    if args.command == "capture":
        shape = capture(args.gamma_url, args.clob_url, args.books_from, args.books_to, args.out)
        print(json.dumps(shape))
    else:
        asyncio.run(serve(args.capture, args.url_file))


if __name__ == "__main__":
    main()
