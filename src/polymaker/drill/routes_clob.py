"""CLOB public routes: books, prices, market metadata and the venue's housekeeping routes.

Every route that reads a book first lets the simulator catch that market up (``touch``).
Unknown tokens and markets are 404 ``{"error": ...}`` (the venue rewrites "not found" to 404).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aiohttp import web

from polymaker.drill.routes_common import (
    ApiError,
    book_payload,
    fmt,
    json_response,
    query_str,
    read_json,
)
from polymaker.drill.views import BookView

EXCHANGE_ORDER_VERSION = 2


def _venue(request: web.Request) -> Any:
    from polymaker.drill.server import VENUE_KEY

    return request.app[VENUE_KEY]


def _book(request: web.Request, token_id: str) -> BookView:
    """The token's book after catching its market up; the events of the catch-up are fanned
    out first, so WebSocket subscribers see every change the answer already contains."""
    venue = _venue(request)
    market = venue.market_of_token(token_id)
    venue.touch(market.condition_id)
    venue.flush()
    book: BookView = venue.engine.book(token_id)
    return book


def _token_list(body: Any, *, with_side: bool = False) -> list[tuple[str, str]]:
    """``[{"token_id": ..., "side"?: ...}]`` bodies of the batch routes, type-checked."""
    if not isinstance(body, list) or not body:
        raise ApiError(400, "Invalid payload: expected a non-empty array of {token_id}")
    items: list[tuple[str, str]] = []
    for entry in body:
        token = entry.get("token_id") if isinstance(entry, dict) else None
        if not isinstance(token, str) or not token:
            raise ApiError(400, "Invalid payload: every entry needs a token_id string")
        side = entry.get("side", "")
        if with_side and side not in ("BUY", "SELL"):
            raise ApiError(400, "Invalid payload: side must be BUY or SELL")
        items.append((token, side))
    return items


def _best(book: BookView, side: str) -> Decimal:
    """BUY -> best ask (what a buyer pays), SELL -> best bid, as /price answers."""
    levels = book.asks if side == "BUY" else book.bids
    if not levels:
        raise ApiError(404, "No orderbook exists for the requested token id and side")
    return levels[-1][0]


def _mid(book: BookView) -> Decimal:
    if not book.bids or not book.asks:
        raise ApiError(404, "No orderbook exists for the requested token id")
    return (book.bids[-1][0] + book.asks[-1][0]) / 2


def _spread(book: BookView) -> Decimal:
    if not book.bids or not book.asks:
        raise ApiError(404, "No orderbook exists for the requested token id")
    return book.asks[-1][0] - book.bids[-1][0]


def _side_param(request: web.Request) -> str:
    side = query_str(request, "side").upper()
    if side not in ("BUY", "SELL"):
        raise ApiError(400, "side must be BUY or SELL")
    return side


async def get_book(request: web.Request) -> web.Response:
    """GET /book?token_id= (levels worst to best, with the venue's hash)."""
    return json_response(book_payload(_book(request, query_str(request, "token_id"))))


async def post_books(request: web.Request) -> web.Response:
    """POST /books [{token_id}] -> array of books."""
    tokens = _token_list(await read_json(request))
    return json_response([book_payload(_book(request, t)) for t, _ in tokens])


async def get_price(request: web.Request) -> web.Response:
    """GET /price?token_id=&side= -> {"price"}."""
    book = _book(request, query_str(request, "token_id"))
    return json_response({"price": fmt(_best(book, _side_param(request)))})


async def post_prices(request: web.Request) -> web.Response:
    """POST /prices [{token_id, side}] -> {token: {side: price}}."""
    result: dict[str, dict[str, str]] = {}
    for token, side in _token_list(await read_json(request), with_side=True):
        result.setdefault(token, {})[side] = fmt(_best(_book(request, token), side))
    return json_response(result)


async def get_midpoint(request: web.Request) -> web.Response:
    """GET /midpoint?token_id= -> {"mid"}."""
    return json_response({"mid": fmt(_mid(_book(request, query_str(request, "token_id"))))})


async def post_midpoints(request: web.Request) -> web.Response:
    """POST /midpoints [{token_id}] -> {token: mid}."""
    tokens = _token_list(await read_json(request))
    return json_response({t: fmt(_mid(_book(request, t))) for t, _ in tokens})


async def get_spread(request: web.Request) -> web.Response:
    """GET /spread?token_id= -> {"spread"}."""
    return json_response({"spread": fmt(_spread(_book(request, query_str(request, "token_id"))))})


async def post_spreads(request: web.Request) -> web.Response:
    """POST /spreads [{token_id}] -> {token: spread}."""
    tokens = _token_list(await read_json(request))
    return json_response({t: fmt(_spread(_book(request, t))) for t, _ in tokens})


def _last_trade(book: Any) -> dict[str, str]:
    price = book.last_trade_price
    return {"price": fmt(price) if price is not None else "0", "side": "BUY" if price else ""}


async def get_last_trade_price(request: web.Request) -> web.Response:
    """GET /last-trade-price?token_id= -> {"price", "side"} (side "" before any trade)."""
    return json_response(_last_trade(_book(request, query_str(request, "token_id"))))


async def post_last_trades_prices(request: web.Request) -> web.Response:
    """POST /last-trades-prices [{token_id}] -> [{token_id, price, side}]."""
    tokens = _token_list(await read_json(request))
    return json_response([{"token_id": t, **_last_trade(_book(request, t))} for t, _ in tokens])


async def get_tick_size(request: web.Request) -> web.Response:
    """GET /tick-size?token_id= -> {"minimum_tick_size": number}."""
    book = _book(request, query_str(request, "token_id"))
    return json_response({"minimum_tick_size": float(book.tick_size)})


async def get_neg_risk(request: web.Request) -> web.Response:
    """GET /neg-risk?token_id= -> {"neg_risk": bool}."""
    market = _venue(request).market_of_token(query_str(request, "token_id"))
    return json_response({"neg_risk": bool(market.neg_risk)})


async def get_fee_rate(request: web.Request) -> web.Response:
    """GET /fee-rate?token_id= -> {"base_fee": 0} (V2 fees are applied at match time)."""
    _venue(request).market_of_token(query_str(request, "token_id"))
    return json_response({"base_fee": 0})


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _fee(market: Any) -> dict[str, Any] | None:
    doc = market.gamma(include_events=False)
    schedule = doc.get("feeSchedule")
    if not schedule:
        return None
    return {"r": schedule["rate"], "e": schedule["exponent"], "to": schedule["takerOnly"]}


async def get_clob_market(request: web.Request) -> web.Response:
    """GET /clob-markets/{condition_id}: the compact form the SDK reads before signing."""
    market = _venue(request).market_of_condition(request.match_info["condition_id"])
    payload: dict[str, Any] = {
        "c": market.condition_id,
        "t": [{"t": market.yes_token, "o": "Yes"}, {"t": market.no_token, "o": "No"}],
        "mts": _number(market.tick_size),
        "nr": bool(market.neg_risk),
        "mos": _number(market.min_order_size),
        "ao": bool(market.accepting_orders and not market.closed),
    }
    fee = _fee(market)
    if fee is not None:
        payload["fd"] = fee
    return json_response(payload)


async def get_market(request: web.Request) -> web.Response:
    """GET /markets/{condition_id}: the verbose CLOB market (fixture clob_market_by_condition)."""
    market = _venue(request).market_of_condition(request.match_info["condition_id"])
    doc = market.gamma(include_events=False)
    prices = [Decimal(p) for p in _json_list(doc["outcomePrices"])]
    winner = market.winner
    return json_response(
        {
            "enable_order_book": True,
            "active": market.active,
            "closed": market.closed,
            "archived": False,
            "accepting_orders": market.accepting_orders,
            "accepting_order_timestamp": doc.get("acceptingOrdersTimestamp"),
            "minimum_order_size": _number(market.min_order_size),
            "minimum_tick_size": _number(market.tick_size),
            "condition_id": market.condition_id,
            "question_id": market.question_id,
            "question": market.question,
            "description": doc.get("description", ""),
            "market_slug": market.slug,
            "end_date_iso": doc["endDate"],
            "game_start_time": None,
            "seconds_delay": 0,
            "fpmm": "",
            "maker_base_fee": 0,
            "taker_base_fee": 0,
            "notifications_enabled": False,
            "neg_risk": bool(market.neg_risk),
            "neg_risk_market_id": doc.get("negRiskMarketID", ""),
            "neg_risk_request_id": doc.get("negRiskRequestID", ""),
            "icon": doc.get("icon", ""),
            "image": doc.get("image", ""),
            "rewards": {"rates": None, "min_size": 0, "max_spread": 0},
            "is_50_50_outcome": False,
            "tokens": [
                {
                    "token_id": market.yes_token,
                    "outcome": "Yes",
                    "price": float(prices[0]),
                    "winner": winner == "Yes",
                },
                {
                    "token_id": market.no_token,
                    "outcome": "No",
                    "price": float(prices[1]),
                    "winner": winner == "No",
                },
            ],
            "tags": [],
        }
    )


def _json_list(text: str) -> list[str]:
    import orjson

    return list(orjson.loads(text))


async def get_markets_by_token(request: web.Request) -> web.Response:
    """GET /markets-by-token/{token_id} -> {condition_id, primary/secondary token ids}."""
    market = _venue(request).market_of_token(request.match_info["token_id"])
    return json_response(
        {
            "condition_id": market.condition_id,
            "primary_token_id": market.yes_token,
            "secondary_token_id": market.no_token,
        }
    )


async def get_time(request: web.Request) -> web.Response:
    """GET /time -> unix seconds (with the /_sim/clock skew applied)."""
    return json_response(_venue(request).now_s())


async def get_ok(_request: web.Request) -> web.Response:
    """GET /ok -> "OK"."""
    return json_response("OK")


async def get_version(_request: web.Request) -> web.Response:
    """GET /version -> the exchange order version the server expects."""
    return json_response({"version": EXCHANGE_ORDER_VERSION})


def add_routes(app: web.Application) -> None:
    """Register the public CLOB routes on the CLOB site's app."""
    router = app.router
    router.add_get("/book", get_book)
    router.add_post("/books", post_books)
    router.add_get("/price", get_price)
    router.add_post("/prices", post_prices)
    router.add_get("/midpoint", get_midpoint)
    router.add_post("/midpoints", post_midpoints)
    router.add_get("/spread", get_spread)
    router.add_post("/spreads", post_spreads)
    router.add_get("/last-trade-price", get_last_trade_price)
    router.add_post("/last-trades-prices", post_last_trades_prices)
    router.add_get("/tick-size", get_tick_size)
    router.add_get("/neg-risk", get_neg_risk)
    router.add_get("/fee-rate", get_fee_rate)
    router.add_get("/clob-markets/{condition_id}", get_clob_market)
    router.add_get("/markets/{condition_id}", get_market)
    router.add_get("/markets-by-token/{token_id}", get_markets_by_token)
    router.add_get("/time", get_time)
    router.add_get("/ok", get_ok)
    router.add_get("/version", get_version)
