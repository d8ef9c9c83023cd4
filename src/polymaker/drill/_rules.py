"""Order admission rules and the venue's refusal messages (internal).

Messages are the venue's exact texts (polymarket_api.md 3.7) because clients branch on them.
The checks here need no ledger state; balance checks happen when the engine reserves.
"""

from __future__ import annotations

from decimal import Decimal

from polymaker.drill.ledger import Account
from polymaker.drill.views import MarketSpec, OrderRequest

NOT_ENOUGH_BALANCE = "not enough balance / allowance"
POST_ONLY_CROSSES = "invalid post-only order: order crosses book"
POST_ONLY_TYPE = "invalid post-only order: only GTC and GTD orders can be post-only"
FOK_KILLED = "order couldn't be fully filled. FOK orders are fully filled or killed."
FAK_KILLED = (
    "no orders found to match with FAK order. FAK orders are partially filled or killed if no "
    "match is found."
)
NOT_READY = "the market is not yet ready to process new orders"
MARKET_CLOSED = "market is closed"
INVALID_EXPIRATION = "invalid expiration"
INVALID_PAYLOAD = "Invalid order payload"
CANCEL_NOT_FOUND = "order can't be found - already canceled or matched"

GTD_MIN_LEAD_MS = 60_000  # the venue wants a GTD expiration at least a minute ahead
_SIDES = ("BUY", "SELL")
_TYPES = ("GTC", "GTD", "FOK", "FAK")


def token_not_found(token_id: str) -> str:
    """The refusal for an order on a token no market has (contains "not found": a 404)."""
    return f"market for token {token_id} not found"


def duplicated(order_id: str) -> str:
    """The refusal for an order id the engine has already accepted."""
    return f"order {order_id} is invalid. Duplicated."


def closed_only(address: str) -> str:
    """The refusal for any new order from an account in closed-only mode."""
    return f"'{address}' address in closed only mode"


def on_tick_grid(price: Decimal, tick: Decimal) -> bool:
    """True if ``price`` is a multiple of ``tick`` within ``[tick, 1 - tick]``."""
    if not price.is_finite():
        return False
    return tick <= price <= 1 - tick and price % tick == 0


def static_refusal(
    req: OrderRequest, spec: MarketSpec, closed: bool, account: Account, now_ms: int
) -> str:
    """The first rule ``req`` breaks, as the venue's message, or "" if it may proceed.

    Order of checks: market state, account mode, payload shape, post-only type, tick grid,
    minimum size, GTD expiration. Balance and crossing come later (they need the book).
    """
    if closed:
        return MARKET_CLOSED
    if not spec.accepting_orders:
        return NOT_READY
    if account.closed_only:
        return closed_only(account.address)
    if req.side not in _SIDES or req.order_type not in _TYPES:
        return INVALID_PAYLOAD
    if req.post_only and req.order_type not in ("GTC", "GTD"):
        return POST_ONLY_TYPE
    if not on_tick_grid(req.price, spec.tick_size):
        return (
            f"order {req.order_id} is invalid. Price ({req.price}) breaks minimum tick size "
            f"rule: {spec.tick_size}"
        )
    if not req.size.is_finite() or req.size <= 0 or req.size < spec.min_order_size:
        return (
            f"order {req.order_id} is invalid. Size ({req.size}) lower than the minimum: "
            f"{spec.min_order_size}"
        )
    if req.order_type == "GTD" and req.expiration * 1000 < now_ms + GTD_MIN_LEAD_MS:
        return INVALID_EXPIRATION
    return ""
