"""``/_sim/`` routes (CLOB port): inspect and steer the drill exchange from tests and tools.

Not Polymarket API. Reads: ``GET /_sim/orders``, ``GET /_sim/accounts``, ``GET /_sim/clock``.
Controls: create/close (resolve) markets, change a tick size, set an account's balance/POL/
allowance/closed-only flag, shift the server clock (L1/L2 timestamps are checked against it),
fail a trade, make relayed transactions fail. Documented in docs/drill-exchange.md.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from polymaker.drill.chain import WEI
from polymaker.drill.routes_common import (
    ApiError,
    fmt,
    json_response,
    order_dict,
    raw_json_response,
    read_json,
    trade_dict,
)


def _venue(request: web.Request) -> Any:
    from polymaker.drill.server import VENUE_KEY

    return request.app[VENUE_KEY]


async def list_orders(request: web.Request) -> web.Response:
    """GET /_sim/orders?asset_id=&market=&maker_address= -> array of /data/orders items."""
    q = request.query
    orders = _venue(request).engine.open_orders(
        maker_address=q.get("maker_address") or None,
        condition_id=q.get("market") or None,
        token_id=q.get("asset_id") or None,
    )
    return json_response([order_dict(o) for o in orders])


def _account_doc(venue: Any, address: str) -> dict[str, Any]:
    account = venue.ledger.ensure(address)
    owner = venue.wallets.owner_of(address)
    kind = venue.wallets.kind_of(address)
    return {
        "address": address,
        "wallet_type": None if kind is None else kind.value,
        "owner": owner,
        "deployed": venue.wallets.is_deployed(address),
        "balance": fmt(account.cash),
        "pol": fmt(Decimal(venue.chain.pol(address)) / WEI),
        "available": fmt(account.available),
        "allowance": account.allowance,
        "closed_only": account.closed_only,
        "positions": {t: fmt(s) for t, s in venue.ledger.positions(address).items()},
        "api_keys": [k for k, c in venue.keys.items() if c.address == (owner or address)],
        "user": address in venue.user_addresses,
    }


async def list_accounts(request: web.Request) -> web.Response:
    """GET /_sim/accounts[?address=]: balances, positions, flags (house accounts included)."""
    venue = _venue(request)
    wanted = request.query.get("address", "").lower()
    addresses = [a for a in venue.ledger.accounts() if not wanted or a == wanted]
    return json_response([_account_doc(venue, a) for a in addresses])


async def set_account(request: web.Request) -> web.Response:
    """POST /_sim/accounts/{address} {"balance"?, "pol"?, "allowance"?, "closed_only"?,
    "deployed"?}.

    ``deployed`` deploys or removes a wallet of a key the drill has seen (a proxy or Safe
    without its contract, or a deposit wallet deployed without the relayer); ``pol`` sets the
    address's POL (gas) balance.
    """
    venue = _venue(request)
    address = request.match_info["address"].lower()
    if len(address) != 42 or not address.startswith("0x"):
        raise ApiError(400, "address must be a 0x address")
    body = await read_json(request)
    known = {"balance", "pol", "allowance", "closed_only", "deployed"}
    if not isinstance(body, dict) or not body.keys() <= known:
        raise ApiError(
            400, "body must be an object with balance, pol, allowance, closed_only and/or deployed"
        )
    if "deployed" in body:
        if not isinstance(body["deployed"], bool):
            raise ApiError(400, "deployed must be true or false")
        if venue.wallets.kind_of(address) is None:
            raise ApiError(400, "deployed: not a wallet of a key the drill has seen")
        venue.wallets.set_deployed(address, body["deployed"])
    if "balance" in body:
        venue.ledger.set_balance(address, _amount(body, "balance"))
    if "pol" in body:
        venue.chain.set_pol(address, int(_amount(body, "pol") * WEI))
    for key, setter in (
        ("allowance", venue.ledger.set_allowance),
        ("closed_only", venue.ledger.set_closed_only),
    ):
        if key in body:
            if not isinstance(body[key], bool):
                raise ApiError(400, f"{key} must be true or false")
            setter(address, body[key])
    return json_response(_account_doc(venue, address))


def _amount(body: dict[str, Any], key: str) -> Decimal:
    """A decimal amount of the body (``"12.5"`` or a number), or a 400 naming the key."""
    try:
        amount = Decimal(str(body[key]))
    except InvalidOperation:
        raise ApiError(400, f"{key} must be a decimal number") from None
    if not amount.is_finite() or isinstance(body[key], bool):
        raise ApiError(400, f"{key} must be a decimal number")
    return amount


async def get_clock(request: web.Request) -> web.Response:
    """GET /_sim/clock -> {"now_ms", "offset_ms"}."""
    venue = _venue(request)
    return json_response({"now_ms": venue.now_ms(), "offset_ms": venue.clock_offset_ms})


async def set_clock(request: web.Request) -> web.Response:
    """POST /_sim/clock {"offset_ms": int}: shift server time (0 = wall clock)."""
    venue = _venue(request)
    body = await read_json(request)
    offset = body.get("offset_ms") if isinstance(body, dict) else None
    if not isinstance(offset, int) or isinstance(offset, bool):
        raise ApiError(400, "offset_ms must be an integer")
    venue.clock_offset_ms = offset
    return await get_clock(request)


async def create_market(request: web.Request) -> web.Response:
    """POST /_sim/markets {question, end_date, yes_price, volume, ...} -> Gamma market."""
    from polymaker.drill.universe_spec import MarketSpecError

    venue = _venue(request)
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ApiError(400, "body must be a JSON object")
    try:
        market = venue.simulator.add_market(body, venue.now_ms())
    except MarketSpecError as error:
        raise ApiError(400, str(error)) from None
    venue.simulator.touch(market.condition_id, venue.now_ms())
    venue.flush()
    venue.hub.announce_market(market, venue.now_ms())
    return raw_json_response(market.gamma_json())


async def close_market(request: web.Request) -> web.Response:
    """POST /_sim/markets/{condition_id}/close [{"winner": "Yes"|"No"}]: resolve it now.

    Its orders are cancelled and Gamma shows it closed with outcome prices 1/0. Without a
    winner the simulator draws one as it does at a natural resolution (the YES probability);
    a market that already resolved keeps its winner.
    """
    venue = _venue(request)
    market = venue.market_of_condition(request.match_info["condition_id"])
    body = await read_json(request) if await request.read() else {}
    winner = body.get("winner") if isinstance(body, dict) else "?"
    if winner not in (None, "Yes", "No") or not isinstance(body, dict) or body.keys() - {"winner"}:
        raise ApiError(400, 'body must be {} or {"winner": "Yes"} / {"winner": "No"}')
    if market.winner is not None:
        winner = market.winner
    now = venue.now_ms()
    if not market.closed:
        venue.engine.close_market(market.condition_id, now)
    if winner is None:
        winner = venue.simulator.draw_winner(market)
    market.set_state(now_ms=now, accepting_orders=False, closed=True, winner=winner)
    venue.flush()
    return raw_json_response(market.gamma_json())


async def fail_relayed(request: web.Request) -> web.Response:
    """POST /_sim/relayer {"fail_next": N}: the next N relayed call batches end STATE_FAILED."""
    venue = _venue(request)
    body = await read_json(request)
    count = body.get("fail_next") if isinstance(body, dict) else None
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise ApiError(400, "fail_next must be a non-negative integer")
    venue.wallets.fail_next = count
    return json_response({"fail_next": count})


async def set_tick_size(request: web.Request) -> web.Response:
    """POST /_sim/markets/{condition_id}/tick-size {"tick_size": "0.001"}."""
    venue = _venue(request)
    market = venue.market_of_condition(request.match_info["condition_id"])
    body = await read_json(request)
    try:
        tick = Decimal(str(body.get("tick_size"))) if isinstance(body, dict) else Decimal("nan")
    except InvalidOperation:
        tick = Decimal("nan")
    if tick not in (
        Decimal("0.1"),
        Decimal("0.01"),
        Decimal("0.005"),
        Decimal("0.0025"),
        Decimal("0.001"),
        Decimal("0.0001"),
    ):
        raise ApiError(400, "tick_size must be one of 0.1, 0.01, 0.005, 0.0025, 0.001, 0.0001")
    venue.engine.set_tick_size(market.condition_id, tick, venue.now_ms())
    market.tick_size = tick
    market.invalidate(venue.now_ms())
    venue.flush()
    return raw_json_response(market.gamma_json())


async def fail_trade(request: web.Request) -> web.Response:
    """POST /_sim/trades/{trade_id}/fail: a MATCHED/MINED trade goes FAILED (reversed)."""
    venue = _venue(request)
    trade_id = request.match_info["trade_id"]
    try:
        venue.engine.fail_trade(trade_id, venue.now_ms())
    except KeyError:
        raise ApiError(404, f"trade {trade_id} not found") from None
    except ValueError as error:
        raise ApiError(409, str(error)) from None
    venue.flush()
    return json_response(trade_dict(venue.engine.trades(trade_id=trade_id)[0]))


def add_inspect_routes(app: web.Application) -> None:
    """Register the /_sim/ routes on the CLOB site's app."""
    router = app.router
    router.add_get("/_sim/orders", list_orders)
    router.add_get("/_sim/accounts", list_accounts)
    router.add_post("/_sim/accounts/{address}", set_account)
    router.add_get("/_sim/clock", get_clock)
    router.add_post("/_sim/clock", set_clock)
    router.add_post("/_sim/markets", create_market)
    router.add_post("/_sim/markets/{condition_id}/close", close_market)
    router.add_post("/_sim/markets/{condition_id}/tick-size", set_tick_size)
    router.add_post("/_sim/trades/{trade_id}/fail", fail_trade)
    router.add_post("/_sim/relayer", fail_relayed)
