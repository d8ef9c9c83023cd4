"""CLOB authenticated account routes: open orders, trades, balances, heartbeats, closed-only.

Everything here is L2-authenticated and scoped to the accounts the caller's key acts for: the
key owner's own address and its proxy, Safe and deposit wallets (all of an owner's API keys
share them, as on the venue). Balances are the wallet's that ``signature_type`` names, as the
venue derives the funder from the key and the signature type. Order heartbeats are per API key.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from aiohttp import web

from polymaker.drill.order_signatures import EXCHANGE_V3, NEG_RISK_EXCHANGE, STANDARD_EXCHANGE
from polymaker.drill.routes_common import (
    ApiError,
    json_response,
    order_dict,
    paged,
    read_json,
    trade_dict,
)
from polymaker.drill.routes_orders import authenticate

PAGE_LIMIT = 500
HEARTBEAT_TIMEOUT_MS = 10_000
NEG_RISK_ADAPTER = "0xd91E80cF2E7be2e162c6513ceD06f1dD0dA35296"
NEG_RISK_ADAPTER_V2 = "0xadA2005600Dec949baf300f4C6120000bDB6eAab"
# Who may move what (polymarket_api.md 1, 5.1): pUSD for every exchange; CTF shares for the
# V2 exchanges and the neg-risk adapters; Protocol V2 positions for ExchangeV3.
_SPENDERS = {
    "COLLATERAL": (
        STANDARD_EXCHANGE,
        NEG_RISK_EXCHANGE,
        NEG_RISK_ADAPTER,
        NEG_RISK_ADAPTER_V2,
        EXCHANGE_V3,
    ),
    "CONDITIONAL": (STANDARD_EXCHANGE, NEG_RISK_EXCHANGE, NEG_RISK_ADAPTER, NEG_RISK_ADAPTER_V2),
    "CONDITIONAL-V2": (EXCHANGE_V3,),
}
_MAX_ALLOWANCE = str((1 << 256) - 1)
_UNIT = Decimal(1_000_000)


def _venue(request: web.Request) -> Any:
    from polymaker.drill.server import VENUE_KEY

    return request.app[VENUE_KEY]


async def list_orders(request: web.Request) -> web.Response:
    """GET /data/orders?market=&asset_id=&id=&next_cursor= (the caller's open orders)."""
    creds = await authenticate(request)
    q = request.query
    venue = _venue(request)
    items = [
        order_dict(o)
        for address in venue.key_accounts(creds)
        for o in venue.engine.open_orders(
            maker_address=address,
            condition_id=q.get("market") or None,
            token_id=q.get("asset_id") or None,
            order_id=q.get("id") or None,
        )
    ]
    return json_response(paged(items, q.get("next_cursor"), PAGE_LIMIT))


async def get_order(request: web.Request) -> web.Response:
    """GET /data/order/{id}: one of the caller's orders, whatever its status."""
    creds = await authenticate(request)
    venue = _venue(request)
    order = venue.engine.order(request.match_info["order_id"])
    if order is None or order.maker_address not in venue.key_accounts(creds):
        raise ApiError(404, "order not found")
    return json_response(order_dict(order))


def _int_param(request: web.Request, key: str) -> int | None:
    raw = request.query.get(key)
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ApiError(400, f"invalid integer for '{key}': {raw!r}") from None


async def list_trades(request: web.Request) -> web.Response:
    """GET /data/trades?market=&asset_id=&id=&maker_address=&after=&before=&next_cursor=."""
    creds = await authenticate(request)
    q = request.query
    after, before = _int_param(request, "after"), _int_param(request, "before")
    venue = _venue(request)
    trades = [
        t
        for address in venue.key_accounts(creds)
        for t in venue.engine.trades(
            address=address, condition_id=q.get("market") or None, trade_id=q.get("id") or None
        )
    ]
    asset, maker = q.get("asset_id"), (q.get("maker_address") or "").lower()
    items = [
        trade_dict(t)
        for t in trades
        if (not asset or t.asset_id == asset)
        and (
            not maker
            or t.maker_address == maker
            or any(f.maker_address == maker for f in t.maker_orders)
        )
        and (after is None or t.match_time > after)
        and (before is None or t.match_time < before)
    ]
    return json_response(paged(items, q.get("next_cursor"), PAGE_LIMIT))


def _balance_wallet(request: web.Request, creds: Any) -> str:
    """The wallet ``signature_type`` names for the key's owner (0, the default: the owner)."""
    raw = request.query.get("signature_type") or "0"
    try:
        wallet: str = _venue(request).wallets.wallet_for(creds.address, int(raw))
        return wallet
    except ValueError:
        raise ApiError(400, f"invalid signature_type {raw!r}: use 0, 1, 2 or 3") from None


def _balance_payload(request: web.Request, address: str) -> dict[str, Any]:
    venue = _venue(request)
    asset_type = request.query.get("asset_type", "")
    if asset_type == "COLLATERAL":
        amount = venue.ledger.balance(address)
    elif asset_type in ("CONDITIONAL", "CONDITIONAL-V2"):
        token = request.query.get("token_id", "")
        if not token:
            raise ApiError(400, f"token_id is required for asset_type {asset_type}")
        wanted = "CONDITIONAL-V2" if venue.market_of_token(token).version == "v2" else "CONDITIONAL"
        if asset_type != wanted:
            raise ApiError(400, f"token {token} is a {wanted} asset, not {asset_type}")
        amount = venue.ledger.shares(address, token)
    else:
        raise ApiError(
            400,
            f"invalid asset_type {asset_type!r}: use COLLATERAL, CONDITIONAL or CONDITIONAL-V2",
        )
    allowed = venue.ledger.ensure(address).allowance
    value = _MAX_ALLOWANCE if allowed else "0"
    return {
        "balance": str(int(amount * _UNIT)),
        "allowances": dict.fromkeys(_SPENDERS[asset_type], value),
    }


async def balance_allowance(request: web.Request) -> web.Response:
    """GET /balance-allowance?asset_type=&token_id=&signature_type= (6-decimal units)."""
    creds = await authenticate(request)
    wallet = _balance_wallet(request, creds)
    _venue(request).account(wallet)
    return json_response(_balance_payload(request, wallet))


async def balance_allowance_update(request: web.Request) -> web.Response:
    """GET /balance-allowance/update: the drill ledger is always current; validates only."""
    creds = await authenticate(request)
    wallet = _balance_wallet(request, creds)
    _venue(request).account(wallet)
    _balance_payload(request, wallet)
    return json_response("")


async def closed_only(request: web.Request) -> web.Response:
    """GET /auth/ban-status/closed-only -> {"closed_only": bool}."""
    creds = await authenticate(request)
    ledger = _venue(request).ledger
    accounts = _venue(request).key_accounts(creds)
    return json_response({"closed_only": any(ledger.ensure(a).closed_only for a in accounts)})


async def heartbeat(request: web.Request) -> web.Response:
    """POST /v1/heartbeats {"heartbeat_id"}: arm/extend the key's 10 s dead-man switch.

    The first send (any id, usually "") arms it; later sends must carry the id the previous
    reply returned, else 400 ``{"error_msg": "Invalid Heartbeat ID", "heartbeat_id": ...}``.
    """
    from polymaker.drill.server import HeartbeatState

    creds = await authenticate(request)
    body = await read_json(request)
    sent = body.get("heartbeat_id") if isinstance(body, dict) else None
    if not isinstance(sent, str):
        raise ApiError(400, "Invalid payload: 'heartbeat_id' must be a string")
    venue = _venue(request)
    state = venue.heartbeats.get(creds.key)
    if state is not None and sent != state.expected_id:
        return json_response(
            {"error_msg": "Invalid Heartbeat ID", "heartbeat_id": state.expected_id}, status=400
        )
    next_id = str(uuid.UUID(int=venue.rng.getrandbits(128), version=4))
    venue.heartbeats[creds.key] = HeartbeatState(next_id, venue.now_ms() + HEARTBEAT_TIMEOUT_MS)
    return json_response({"heartbeat_id": next_id})


def add_routes(app: web.Application) -> None:
    """Register the account routes on the CLOB site's app."""
    router = app.router
    router.add_get("/data/orders", list_orders)
    router.add_get("/data/order/{order_id}", get_order)
    router.add_get("/data/trades", list_trades)
    router.add_get("/balance-allowance", balance_allowance)
    router.add_get("/balance-allowance/update", balance_allowance_update)
    router.add_get("/auth/ban-status/closed-only", closed_only)
    router.add_post("/v1/heartbeats", heartbeat)
