"""Gamma API routes: market and event discovery, legacy offset and keyset paging.

Listings are assembled from each market's cached ``gamma_json()`` bytes (no re-encoding), and
the filtered, ordered id list of a query is cached for a second, so walking 20,000 markets
with ``/markets/keyset`` costs one filter pass, not one per page.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
from aiohttp import web

from polymaker.drill.routes_common import ApiError, raw_json_response

KEYSET_MAX = 100
LEGACY_DEFAULT_LIMIT = 100
LEGACY_MAX = 500
_CACHE_TTL_S = 1.0
_PAGING_KEYS = frozenset({"limit", "offset", "after_cursor"})


def _bool(request: web.Request, key: str) -> bool | None:
    raw = request.query.get(key)
    if raw is None:
        return None
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise ApiError(400, f"invalid boolean for '{key}': {raw!r}")


def _int(request: web.Request, key: str, default: int) -> int:
    raw = request.query.get(key)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"invalid integer for '{key}': {raw!r}") from None
    if value < 0:
        raise ApiError(400, f"'{key}' must not be negative")
    return value


def _date_ms(request: web.Request, key: str) -> int | None:
    raw = request.query.get(key)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, f"invalid ISO 8601 date for '{key}': {raw!r}") from None
    if moment.tzinfo is None:
        raise ApiError(400, f"'{key}' needs a time zone (e.g. 2026-01-01T00:00:00Z)")
    return int(moment.timestamp() * 1000)


def _multi(request: web.Request, key: str) -> set[str] | None:
    values = [part for raw in request.query.getall(key, []) for part in raw.split(",") if part]
    return set(values) if values else None


def _float(request: web.Request, key: str) -> float | None:
    raw = request.query.get(key)
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        raise ApiError(400, f"invalid number for '{key}': {raw!r}") from None


def _market_predicate(request: web.Request) -> Callable[[Any], bool]:
    """One predicate for every Gamma market filter the drill supports."""
    active, closed = _bool(request, "active"), _bool(request, "closed")
    end_min, end_max = _date_ms(request, "end_date_min"), _date_ms(request, "end_date_max")
    cids, tokens = _multi(request, "condition_ids"), _multi(request, "clob_token_ids")
    positions = _multi(request, "position_ids")
    slugs, ids = _multi(request, "slug"), _multi(request, "id")
    vol_min, vol_max = _float(request, "volume_num_min"), _float(request, "volume_num_max")
    liq_min, liq_max = _float(request, "liquidity_num_min"), _float(request, "liquidity_num_max")

    def keep(m: Any) -> bool:
        return not (
            (active is not None and m.active != active)
            or (closed is not None and m.closed != closed)
            or (end_min is not None and m.end_ms < end_min)
            or (end_max is not None and m.end_ms > end_max)
            or (cids is not None and m.condition_id not in cids)
            or (tokens is not None and not tokens.intersection(m.clob_token_ids))
            or (positions is not None and not positions.intersection(m.position_ids))
            or (slugs is not None and m.slug not in slugs)
            or (ids is not None and m.market_id not in ids)
            or (vol_min is not None and float(m.volume) < vol_min)
            or (vol_max is not None and float(m.volume) > vol_max)
            or (liq_min is not None and float(m.liquidity) < liq_min)
            or (liq_max is not None and float(m.liquidity) > liq_max)
        )

    return keep


_MARKET_SORT: dict[str, Callable[[Any], Any]] = {
    "id": lambda m: int(m.market_id),
    "volumeNum": lambda m: m.volume,
    "volume": lambda m: str(m.volume),  # Gamma sorts the string column lexicographically
    "liquidityNum": lambda m: m.liquidity,
    "liquidity": lambda m: str(m.liquidity),
    "volume24hr": lambda m: m.volume_24h,
    "endDate": lambda m: m.end_ms,
    "startDate": lambda m: m.start_ms,
    "slug": lambda m: m.slug,
}


def _ordered(request: web.Request, items: list[Any], table: dict[str, Any]) -> list[Any]:
    order = [field for field in request.query.get("order", "").split(",") if field]
    ascending = _bool(request, "ascending")
    for field in reversed(order):
        key = table.get(field)
        if key is None:
            raise ApiError(400, f"unsupported order field {field!r}")
        items = sorted(items, key=key, reverse=not ascending if ascending is not None else True)
    return items


class _ListingCache:
    """Filtered + ordered lists per query (without paging keys), valid for a second."""

    def __init__(self) -> None:
        self._entries: dict[tuple[Any, ...], tuple[float, list[Any]]] = {}

    def get(self, key: tuple[Any, ...], build: Callable[[], list[Any]]) -> list[Any]:
        now = time.monotonic()
        hit = self._entries.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        if len(self._entries) > 256:
            self._entries.clear()
        items = build()
        self._entries[key] = (now + _CACHE_TTL_S, items)
        return items


def _query_key(request: web.Request, kind: str, size: int) -> tuple[Any, ...]:
    items = sorted((k, v) for k, v in request.query.items() if k not in _PAGING_KEYS)
    return (kind, size, request.path.endswith("/keyset"), *items)


def _markets_listing(request: web.Request) -> list[Any]:
    from polymaker.drill.server import VENUE_KEY

    venue = request.app[VENUE_KEY]
    markets = venue.universe.markets
    cache: _ListingCache = request.app[_CACHE_KEY]

    def build() -> list[Any]:
        keep = _market_predicate(request)
        return _ordered(request, [m for m in markets if keep(m)], _MARKET_SORT)

    return cache.get(_query_key(request, "markets", len(markets)), build)


def _events_listing(request: web.Request) -> list[Any]:
    from polymaker.drill.server import VENUE_KEY

    venue = request.app[VENUE_KEY]
    events = venue.universe.events
    cache: _ListingCache = request.app[_CACHE_KEY]
    active, closed = _bool(request, "active"), _bool(request, "closed")
    slugs, ids = _multi(request, "slug"), _multi(request, "id")
    end_min, end_max = _date_ms(request, "end_date_min"), _date_ms(request, "end_date_max")

    def keep(e: Any) -> bool:
        return not (
            (active is not None and any(m.active for m in e.markets) != active)
            or (closed is not None and all(m.closed for m in e.markets) != closed)
            or (slugs is not None and e.slug not in slugs)
            or (ids is not None and e.event_id not in ids)
            or (end_min is not None and e.end_ms < end_min)
            or (end_max is not None and e.end_ms > end_max)
        )

    table = {
        "id": lambda e: int(e.event_id),
        "endDate": lambda e: e.end_ms,
        "slug": lambda e: e.slug,
    }
    return cache.get(
        _query_key(request, "events", len(events)),
        lambda: _ordered(request, [e for e in events if keep(e)], table),
    )


def _event_bytes(request: web.Request, event: Any) -> bytes:
    include = _bool(request, "include_markets")
    return orjson.dumps(event.gamma(include_markets=include is not False))


def _cursor_offset(request: web.Request) -> int:
    raw = request.query.get("after_cursor")
    if not raw:
        return 0
    try:
        return int(base64.urlsafe_b64decode(raw.encode()).decode())
    except ValueError:
        raise ApiError(400, f"invalid after_cursor {raw!r}") from None


def _keyset(
    request: web.Request, name: str, items: list[Any], encode: Callable[[Any], bytes]
) -> web.Response:
    if "offset" in request.query:
        raise ApiError(400, "offset is not supported on keyset routes; use after_cursor")
    limit = min(_int(request, "limit", KEYSET_MAX), KEYSET_MAX) or KEYSET_MAX
    start = _cursor_offset(request)
    page = items[start : start + limit]
    body = b'{"' + name.encode() + b'":[' + b",".join(encode(i) for i in page) + b"]"
    if start + limit < len(items):
        cursor = base64.urlsafe_b64encode(str(start + limit).encode())
        body += b',"next_cursor":"' + cursor + b'"'
    return raw_json_response(body + b"}")


def _legacy(request: web.Request, items: list[Any], encode: Callable[[Any], bytes]) -> web.Response:
    limit = min(_int(request, "limit", LEGACY_DEFAULT_LIMIT), LEGACY_MAX)
    offset = _int(request, "offset", 0)
    page = items[offset : offset + limit]
    return raw_json_response(b"[" + b",".join(encode(i) for i in page) + b"]")


async def list_markets(request: web.Request) -> web.Response:
    """GET /markets (array, limit/offset)."""
    return _legacy(request, _markets_listing(request), lambda m: m.gamma_json())


async def keyset_markets(request: web.Request) -> web.Response:
    """GET /markets/keyset ({markets, next_cursor}; limit clamped to 100)."""
    return _keyset(request, "markets", _markets_listing(request), lambda m: m.gamma_json())


async def list_events(request: web.Request) -> web.Response:
    """GET /events (array, limit/offset)."""
    return _legacy(request, _events_listing(request), lambda e: _event_bytes(request, e))


async def keyset_events(request: web.Request) -> web.Response:
    """GET /events/keyset ({events, next_cursor}; limit clamped to 100)."""
    return _keyset(request, "events", _events_listing(request), lambda e: _event_bytes(request, e))


def _venue(request: web.Request) -> Any:
    from polymaker.drill.server import VENUE_KEY

    return request.app[VENUE_KEY]


async def market_by_id(request: web.Request) -> web.Response:
    """GET /markets/{id}."""
    try:
        market = _venue(request).universe.by_id(request.match_info["id"])
    except KeyError:
        raise ApiError(404, "market not found") from None
    return raw_json_response(market.gamma_json())


async def market_by_slug(request: web.Request) -> web.Response:
    """GET /markets/slug/{slug}."""
    try:
        market = _venue(request).universe.by_slug(request.match_info["slug"])
    except KeyError:
        raise ApiError(404, "market not found") from None
    return raw_json_response(market.gamma_json())


async def event_by_id(request: web.Request) -> web.Response:
    """GET /events/{id}."""
    wanted = request.match_info["id"]
    for event in _venue(request).universe.events:
        if event.event_id == wanted:
            return raw_json_response(_event_bytes(request, event))
    raise ApiError(404, "event not found")


async def event_by_slug(request: web.Request) -> web.Response:
    """GET /events/slug/{slug}."""
    try:
        event = _venue(request).universe.event_by_slug(request.match_info["slug"])
    except KeyError:
        raise ApiError(404, "event not found") from None
    return raw_json_response(_event_bytes(request, event))


_CACHE_KEY: web.AppKey[_ListingCache] = web.AppKey("gamma_cache")


def add_routes(app: web.Application) -> None:
    """Register the Gamma routes on the Gamma site's app."""
    app[_CACHE_KEY] = _ListingCache()
    app.router.add_get("/markets", list_markets)
    app.router.add_get("/markets/keyset", keyset_markets)
    app.router.add_get("/markets/slug/{slug}", market_by_slug)
    app.router.add_get("/markets/{id}", market_by_id)
    app.router.add_get("/events", list_events)
    app.router.add_get("/events/keyset", keyset_events)
    app.router.add_get("/events/slug/{slug}", event_by_slug)
    app.router.add_get("/events/{id}", event_by_id)
