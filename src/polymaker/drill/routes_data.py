"""Data API routes: positions (v1 and v2) and trades (v2) of a wallet, from the drill ledger.

The real Data API is an indexer view of the chain; here the views are computed from the
engine's trades and the ledger (FAILED trades excluded). Average price is the volume-weighted
price of the wallet's buys of that token; current price is the Gamma quote midpoint.
Shapes follow the fixtures data_api_v2_* (snake_case, JSON numbers, ``{data, pagination}``).
A position in a resolved market is ``redeemable`` (status ``REDEEMABLE``, a losing one too, as
the venue reports it) until a redemption burns it; ``status=`` filters OPEN, REDEEMABLE and
REDEEMABLE_LOST (resolved to a zero payout).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from aiohttp import web

from polymaker.drill.routes_common import ApiError, json_response
from polymaker.drill.universe_gamma import outcome_prices

_ZERO = Decimal(0)


def _venue(request: web.Request) -> Any:
    from polymaker.drill.server import VENUE_KEY

    return request.app[VENUE_KEY]


@dataclass(frozen=True)
class _Fill:
    token_id: str
    side: str
    price: Decimal
    size: Decimal
    timestamp: int
    transaction_hash: str


def _user(request: web.Request) -> str:
    user = request.query.get("user", "").lower()
    if len(user) != 42 or not user.startswith("0x"):
        raise ApiError(400, "user is required and must be a 0x wallet address")
    if "offset" in request.query and request.path.startswith("/v2/"):
        raise ApiError(400, "offset is not supported; use cursor")
    return user


def _fills(venue: Any, user: str) -> list[_Fill]:
    """The wallet's own side of every non-failed trade, oldest first."""
    fills: list[_Fill] = []
    for trade in venue.engine.trades(address=user):
        if trade.status == "FAILED":
            continue
        if trade.maker_address == user:
            fills.append(
                _Fill(
                    trade.asset_id,
                    trade.side,
                    trade.price,
                    trade.size,
                    trade.match_time,
                    trade.transaction_hash,
                )
            )
        for fill in trade.maker_orders:
            if fill.maker_address == user:
                fills.append(
                    _Fill(
                        fill.asset_id,
                        fill.side,
                        fill.price,
                        fill.matched_amount,
                        trade.match_time,
                        trade.transaction_hash,
                    )
                )
    return fills


def _position(
    venue: Any, user: str, token: str, size: Decimal, fills: list[_Fill]
) -> dict[str, Any]:
    market = venue.universe.by_token(token)
    index = 0 if token == market.yes_token else 1
    bought = [f for f in fills if f.token_id == token and f.side == "BUY"]
    sold = [f for f in fills if f.token_id == token and f.side == "SELL"]
    bought_size = sum((f.size for f in bought), _ZERO)
    avg = sum((f.size * f.price for f in bought), _ZERO) / bought_size if bought_size else _ZERO
    realized = sum((f.size * (f.price - avg) for f in sold), _ZERO)
    price = Decimal(outcome_prices(market)[index])
    resolved = market.closed and market.winner is not None
    value, cost = size * price, size * avg
    unrealized = value - cost
    return {
        "proxy_wallet": user,
        "token_id": token,
        "condition_id": market.condition_id,
        "current_size": float(size),
        "avg_price": float(avg),
        "entry_cost_usdc": float(cost),
        "entry_fees_usdc": 0.0,
        "total_cost_usdc": float(cost),
        "current_price": float(price),
        "current_value": float(value),
        "total_size": float(bought_size),
        "realized_pnl": float(realized),
        "unrealized_pnl": float(unrealized),
        "total_pnl": float(realized + unrealized),
        "percent_pnl": float(unrealized / cost * 100) if cost else 0.0,
        "percent_realized_pnl": float(realized / cost * 100) if cost else 0.0,
        "status": "REDEEMABLE" if resolved else "OPEN",
        "redeemable": resolved,
        "mergeable": False,
        "negative_risk": bool(market.neg_risk),
        "archived": False,
        "title": market.question,
        "slug": market.slug,
        "icon": "",
        "event_id": market.event.event_id,
        "event_slug": market.event.slug,
        "outcome": ("Yes", "No")[index],
        "outcome_index": index,
        "opposite_outcome": ("No", "Yes")[index],
        "opposite_token_id": market.no_token if index == 0 else market.yes_token,
        "end_date": market.end_date.strftime("%Y-%m-%d"),
        "last_event_at": max((f.timestamp for f in fills if f.token_id == token), default=0),
        "name": "",
        "profile_image": "",
        "verified": False,
    }


def _positions(request: web.Request) -> list[dict[str, Any]]:
    venue = _venue(request)
    user = _user(request)
    conditions = {c for raw in request.query.getall("condition", []) for c in raw.split(",") if c}
    if user not in venue.ledger.accounts():  # do not fund an account by looking it up
        return []
    fills = _fills(venue, user)
    rows = [
        _position(venue, user, token, size, fills)
        for token, size in venue.ledger.positions(user).items()
        if size > 0
    ]
    status = request.query.get("status", "").upper()
    if status not in ("", "OPEN", "REDEEMABLE", "REDEEMABLE_LOST"):
        raise ApiError(400, "status must be OPEN, REDEEMABLE or REDEEMABLE_LOST in the drill")
    return [
        r
        for r in rows
        if (not conditions or r["condition_id"] in conditions) and _has_status(r, status)
    ]


def _has_status(row: dict[str, Any], status: str) -> bool:
    """The venue's position filters: REDEEMABLE_LOST = redeemable with a zero price."""
    if status == "REDEEMABLE_LOST":
        return bool(row["redeemable"]) and row["current_price"] == 0
    return not status or row["status"] == status


def _v1(row: dict[str, Any]) -> dict[str, Any]:
    """A v2 position row in the v1 camelCase shape (``/positions``)."""
    return {
        "proxyWallet": row["proxy_wallet"],
        "asset": row["token_id"],
        "conditionId": row["condition_id"],
        "size": row["current_size"],
        "avgPrice": row["avg_price"],
        "initialValue": row["entry_cost_usdc"],
        "currentValue": row["current_value"],
        "cashPnl": row["unrealized_pnl"],
        "percentPnl": row["percent_pnl"],
        "totalBought": row["total_size"],
        "realizedPnl": row["realized_pnl"],
        "percentRealizedPnl": row["percent_realized_pnl"],
        "curPrice": row["current_price"],
        "redeemable": row["redeemable"],
        "mergeable": row["mergeable"],
        "title": row["title"],
        "slug": row["slug"],
        "icon": row["icon"],
        "eventSlug": row["event_slug"],
        "outcome": row["outcome"],
        "outcomeIndex": row["outcome_index"],
        "oppositeOutcome": row["opposite_outcome"],
        "oppositeAsset": row["opposite_token_id"],
        "endDate": row["end_date"],
        "negativeRisk": row["negative_risk"],
    }


def _envelope(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"data": rows, "pagination": {"has_more": False, "next_cursor": None}}


async def positions_v1(request: web.Request) -> web.Response:
    """GET /positions?user= (v1, array, camelCase)."""
    return json_response([_v1(r) for r in _positions(request)])


async def positions_v2(request: web.Request) -> web.Response:
    """GET /v2/positions?user=&condition= ({data, pagination}, snake_case)."""
    return json_response(_envelope(_positions(request)))


async def trades_v2(request: web.Request) -> web.Response:
    """GET /v2/trades?user=&condition=&side= (the wallet's fills, newest first)."""
    venue = _venue(request)
    user = _user(request)
    side = request.query.get("side", "").upper()
    condition = request.query.get("condition", "")
    rows = []
    for fill in reversed(_fills(venue, user)):
        market = venue.universe.by_token(fill.token_id)
        if (side and fill.side != side) or (condition and market.condition_id != condition):
            continue
        index = 0 if fill.token_id == market.yes_token else 1
        rows.append(
            {
                "proxy_wallet": user,
                "side": fill.side,
                "token_id": fill.token_id,
                "condition_id": market.condition_id,
                "size": float(fill.size),
                "price": float(fill.price),
                "timestamp": fill.timestamp,
                "title": market.question,
                "slug": market.slug,
                "icon": "",
                "event_slug": market.event.slug,
                "outcome": ("Yes", "No")[index],
                "outcome_index": index,
                "name": "",
                "pseudonym": "",
                "bio": "",
                "profile_image": "",
                "profile_image_optimized": "",
                "transaction_hash": fill.transaction_hash,
            }
        )
    return json_response(_envelope(rows))


def add_routes(app: web.Application) -> None:
    """Register the Data API routes on the Data site's app."""
    app.router.add_get("/positions", positions_v1)
    app.router.add_get("/v2/positions", positions_v2)
    app.router.add_get("/v2/trades", trades_v2)
