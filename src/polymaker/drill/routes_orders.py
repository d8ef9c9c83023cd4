"""CLOB authenticated routes: API keys (L1), order placement and cancels (L2).

Signed-order checks, in the venue's order: L2 headers; body shape; ``owner`` = the API key;
the EIP-712 signature for the order's signature type, in the domain of the market's exchange
(``order_signatures``: EOA, proxy, Safe or deposit wallet; CTF exchange V2 or neg-risk V2 for
v1 markets, ExchangeV3 in domain "3" for Protocol V2 markets). The order's ``maker`` (the
wallet) is the account that pays and holds the shares. Amounts (6 decimals) become price and
size; the matching engine does tick, size, balance and post-only checks.

A refused single ``POST /order`` answers HTTP 400 ``{"error": <venue message>}`` (the SDK
raises ``RequestRejectedError`` with that message); ``POST /orders`` answers 200 with one
result per order, refused ones ``success: false`` with ``errorMsg``.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_UP, Decimal
from typing import Any

from aiohttp import web

from polymaker.drill.auth import (
    ApiCreds,
    AuthError,
    OrderPayloadError,
    derive_creds,
    parse_order_fields,
    verify_l1,
    verify_l2,
)
from polymaker.drill.order_signatures import (
    OrderSignatureError,
    domain_for,
    verify_order_signature,
)
from polymaker.drill.routes_common import ApiError, fmt, json_response, read_json
from polymaker.drill.views import CancelResult, OrderRequest, Side
from polymaker.drill.wallets import wallets_of

MAX_BATCH_ORDERS = 15
MAX_CANCEL_IDS = 1000
_UNIT = Decimal(1_000_000)
_ORDER_TYPES = ("GTC", "GTD", "FOK", "FAK")


def _venue(request: web.Request) -> Any:
    from polymaker.drill.server import VENUE_KEY

    return request.app[VENUE_KEY]


async def authenticate(request: web.Request) -> ApiCreds:
    """L2 check of this request; 401 ``Unauthorized/Invalid api key`` on any mismatch."""
    venue = _venue(request)
    raw = await request.read()
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "Invalid payload: body is not UTF-8") from None
    key = request.headers.get("POLY_API_KEY", "")
    if key and key not in venue.keys:
        _recover_key(venue, request.headers.get("POLY_ADDRESS", ""), key)
    try:
        creds = verify_l2(
            request.headers,
            method=request.method,
            path=request.path,
            body=body,
            keys=venue.keys,
            now_s=venue.now_s(),
            max_skew_s=venue.options.max_skew_s,
        )
    except AuthError as error:
        raise ApiError(401, error.message) from None
    venue.wallets.see_owner(creds.address)
    return creds


def _recover_key(venue: Any, address: str, key: str) -> None:
    """Accept nonce-0 keys derived before a restart (credentials are deterministic per seed)."""
    if len(address) != 42:
        return
    creds = derive_creds(venue.server_secret, address, 0)
    if creds.key == key:
        venue.keys[key] = creds


def _l1(request: web.Request) -> ApiCreds:
    venue = _venue(request)
    try:
        address, nonce = verify_l1(
            request.headers, now_s=venue.now_s(), max_skew_s=venue.options.max_skew_s
        )
    except AuthError as error:
        raise ApiError(401, error.message) from None
    creds = derive_creds(venue.server_secret, address, nonce)
    venue.keys[creds.key] = creds
    venue.wallets.see_owner(address)
    return creds


def _creds_body(creds: ApiCreds) -> dict[str, str]:
    return {"apiKey": creds.key, "secret": creds.secret, "passphrase": creds.passphrase}


async def create_api_key(request: web.Request) -> web.Response:
    """POST /auth/api-key (L1): the key of (address, nonce) — deterministic, so re-creatable."""
    return json_response(_creds_body(_l1(request)))


async def derive_api_key(request: web.Request) -> web.Response:
    """GET /auth/derive-api-key (L1)."""
    return json_response(_creds_body(_l1(request)))


async def list_api_keys(request: web.Request) -> web.Response:
    """GET /auth/api-keys (L2): the keys of the caller's address."""
    creds = await authenticate(request)
    keys = [k for k, c in _venue(request).keys.items() if c.address == creds.address]
    return json_response({"apiKeys": keys})


async def delete_api_key(request: web.Request) -> web.Response:
    """DELETE /auth/api-key (L2): forget the calling key."""
    creds = await authenticate(request)
    _venue(request).keys.pop(creds.key, None)
    return json_response("OK")


def _price_size(fields: Any, order_type: str, tick: Decimal) -> tuple[Decimal, Decimal]:
    """Decode 6-decimal amounts: BUY pays makerAmount pUSD for takerAmount shares."""
    maker, taker = Decimal(fields.maker_amount), Decimal(fields.taker_amount)
    if maker <= 0 or taker <= 0:
        raise ApiError(400, "invalid amounts: makerAmount and takerAmount must be positive")
    if fields.side == "BUY":
        size, price = taker / _UNIT, maker / taker
    else:
        size, price = maker / _UNIT, taker / maker
    if order_type in ("FOK", "FAK"):  # market orders: implied price snapped to the tick
        price = price.quantize(tick, rounding=ROUND_DOWN if fields.side == "BUY" else ROUND_UP)
    return price, size


def decode_order(venue: Any, creds: ApiCreds, item: Any) -> OrderRequest:
    """One ``{"order", "owner", "orderType", "postOnly"}`` payload -> an engine OrderRequest."""
    if not isinstance(item, dict):
        raise ApiError(400, "Invalid order payload")
    owner, order_type = item.get("owner"), item.get("orderType", "GTC")
    post_only = item.get("postOnly", False)
    if order_type not in _ORDER_TYPES or not isinstance(post_only, bool):
        raise ApiError(400, "Invalid order payload")
    if owner != creds.key:
        raise ApiError(400, "the order owner has to be the owner of the API KEY")
    try:
        fields = parse_order_fields(item.get("order"))
    except OrderPayloadError as error:
        raise ApiError(400, f"Invalid order payload: {error}") from None
    market = venue.market_of_token(fields.token_id)
    try:
        signed = verify_order_signature(
            fields,
            key_address=creds.address,
            domain=domain_for(market.version, bool(market.neg_risk)),
            wallets_of=wallets_of,
            deployed=venue.wallets.deployed_deposit_wallets(),
        )
    except OrderSignatureError as error:
        raise ApiError(400, str(error)) from None
    venue.account(signed.maker)
    tick = venue.engine.market(market.condition_id).tick_size
    price, size = _price_size(fields, order_type, tick)
    side: Side = "BUY" if fields.side == "BUY" else "SELL"  # auth admits only these two
    return OrderRequest(
        order_id=signed.order_id,
        owner=creds.key,
        maker_address=signed.maker,
        token_id=fields.token_id,
        side=side,
        price=price,
        size=size,
        order_type=order_type,
        post_only=post_only,
        expiration=fields.expiration,
    )


def _place(venue: Any, creds: ApiCreds, item: Any, path: str) -> dict[str, Any]:
    """Decode, check and place one order; a refusal raises ApiError(400, venue message)."""
    request = decode_order(venue, creds, item)
    rejection = venue.faults.order_reject(venue.rng, path=path, now_ms=venue.now_ms())
    if rejection is not None:
        raise ApiError(400, rejection)
    condition_id = venue.universe.by_token(request.token_id).condition_id
    venue.touch(condition_id)
    result = venue.engine.place(request, venue.now_ms())
    venue.mark_hot(condition_id)
    if not result.success:
        raise ApiError(400, result.error)
    return {
        "success": True,
        "orderID": result.order_id,
        "status": result.status,
        "makingAmount": fmt(result.making_amount),
        "takingAmount": fmt(result.taking_amount),
        "tradeIDs": list(result.trade_ids),
        "transactionsHashes": [],
        "errorMsg": "",
    }


async def post_order(request: web.Request) -> web.Response:
    """POST /order (L2)."""
    creds = await authenticate(request)
    venue = _venue(request)
    try:
        return json_response(_place(venue, creds, await read_json(request), request.path))
    finally:
        venue.flush()


def _refused(error: ApiError) -> dict[str, Any]:
    return {
        "success": False,
        "errorMsg": error.message,
        "orderID": "",
        "status": "",
        "makingAmount": "",
        "takingAmount": "",
        "tradeIDs": [],
        "transactionsHashes": [],
    }


async def post_orders(request: web.Request) -> web.Response:
    """POST /orders (L2): at most 15 payloads; one result per payload, in order."""
    creds = await authenticate(request)
    venue = _venue(request)
    body = await read_json(request)
    if not isinstance(body, list) or not body:
        raise ApiError(400, "Invalid order payload: expected a non-empty array")
    if len(body) > MAX_BATCH_ORDERS:
        raise ApiError(
            400, f"Too many orders in payload: {len(body)}, max allowed: {MAX_BATCH_ORDERS}"
        )
    results: list[dict[str, Any]] = []
    try:
        for item in body:
            try:
                results.append(_place(venue, creds, item, request.path))
            except ApiError as error:
                results.append(_refused(error))
    finally:
        venue.flush()
    return json_response(results)


def _cancel_response(result: Any) -> web.Response:
    return json_response(
        {"canceled": list(result.canceled), "not_canceled": dict(result.not_canceled)}
    )


async def cancel_order(request: web.Request) -> web.Response:
    """DELETE /order {"orderID"} (L2)."""
    creds = await authenticate(request)
    body = await read_json(request)
    order_id = body.get("orderID") if isinstance(body, dict) else None
    if not isinstance(order_id, str) or not order_id:
        raise ApiError(400, "Invalid payload: 'orderID' must be a non-empty string")
    venue = _venue(request)
    result = _cancel_one(venue, creds, order_id)
    venue.flush()
    return _cancel_response(result)


def _cancel_one(venue: Any, creds: ApiCreds, order_id: str) -> Any:
    """Cancel one order of any account the key acts for (else: not found)."""
    order = venue.engine.order(order_id)
    maker = order.maker_address if order is not None else ""
    if maker not in venue.key_accounts(creds):
        maker = creds.address  # someone else's or unknown: the engine answers "not found"
    return venue.engine.cancel(order_id, maker, venue.now_ms())


async def cancel_orders(request: web.Request) -> web.Response:
    """DELETE /orders ["0x…", …] (L2, at most 1000 ids)."""
    creds = await authenticate(request)
    body = await read_json(request)
    if not isinstance(body, list) or not all(isinstance(i, str) and i for i in body):
        raise ApiError(400, "Invalid payload: expected an array of order id strings")
    if len(body) > MAX_CANCEL_IDS:
        raise ApiError(
            400, f"Too many orders in payload: {len(body)}, max allowed: {MAX_CANCEL_IDS}"
        )
    venue = _venue(request)
    canceled: list[str] = []
    not_canceled: dict[str, str] = {}
    for order_id in body:
        result = _cancel_one(venue, creds, order_id)
        canceled.extend(result.canceled)
        not_canceled.update(result.not_canceled)
    venue.flush()
    return json_response({"canceled": canceled, "not_canceled": not_canceled})


async def cancel_all(request: web.Request) -> web.Response:
    """DELETE /cancel-all (L2): every open order of the accounts the caller acts for."""
    creds = await authenticate(request)
    venue = _venue(request)
    result = _cancel_where(venue, creds)
    venue.flush()
    return _cancel_response(result)


def _cancel_where(venue: Any, creds: ApiCreds, **where: str | None) -> Any:
    """Cancel the key's accounts' open orders (optionally one market or token), merged."""
    canceled: list[str] = []
    for address in venue.key_accounts(creds):
        canceled.extend(venue.engine.cancel_where(address, venue.now_ms(), **where).canceled)
    return CancelResult(canceled, {})


async def cancel_market_orders(request: web.Request) -> web.Response:
    """DELETE /cancel-market-orders {"market"?, "asset_id"?} (L2; at least one of them)."""
    creds = await authenticate(request)
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ApiError(400, "Invalid payload: expected an object")
    market, asset = body.get("market") or None, body.get("asset_id") or None
    if market is None and asset is None:
        raise ApiError(400, "Invalid payload: 'market' or 'asset_id' is required")
    if not isinstance(market, str | None) or not isinstance(asset, str | None):
        raise ApiError(400, "Invalid payload: 'market' and 'asset_id' must be strings")
    venue = _venue(request)
    result = _cancel_where(venue, creds, condition_id=market, token_id=asset)
    venue.flush()
    return _cancel_response(result)


def add_routes(app: web.Application) -> None:
    """Register the key and order routes on the CLOB site's app."""
    router = app.router
    router.add_post("/auth/api-key", create_api_key)
    router.add_get("/auth/derive-api-key", derive_api_key)
    router.add_get("/auth/api-keys", list_api_keys)
    router.add_delete("/auth/api-key", delete_api_key)
    router.add_post("/order", post_order)
    router.add_post("/orders", post_orders)
    router.add_delete("/order", cancel_order)
    router.add_delete("/orders", cancel_orders)
    router.add_delete("/cancel-all", cancel_all)
    router.add_delete("/cancel-market-orders", cancel_market_orders)
    from polymaker.drill import routes_account

    routes_account.add_routes(app)
