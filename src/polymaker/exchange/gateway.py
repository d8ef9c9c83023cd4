"""What every order gateway speaks: outcomes of a placement or cancel, refusal codes, the protocol.

:class:`OrderGateway` is the part of an account the worker uses. ``exchange.trading.Trading``
provides it with real signed orders, ``paper.gateway.PaperGateway`` with orders simulated on
real market data. Expected refusals are values (:class:`Rejected` with a closed
:class:`RejectCode`). One table, ``_VENUE_REJECTIONS``, maps the venue's messages to codes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Literal, Protocol

from polymaker.exchange.wire.markets import ClobMarket
from polymaker.exchange.wire.orders import Order
from polymaker.exchange.wire.trades import AccountIdentity, Fill

Side = Literal["BUY", "SELL"]


class RejectCode(StrEnum):
    """Why the exchange refused an order (what the caller should do in brackets)."""

    POST_ONLY_WOULD_CROSS = "post_only_would_cross"  # requote behind the book
    NOT_ENOUGH_BALANCE = "not_enough_balance"  # refresh balances, do not shrink in a loop
    TICK_SIZE = "tick_size"  # refresh the tick size and requote on the grid
    MIN_SIZE = "min_size"  # below the market's minimum order size
    MARKET_CLOSED = "market_closed"  # the market no longer trades: stop (exit 3)
    CLOSED_ONLY = "closed_only"  # the account may only reduce positions
    RATE_LIMITED = "rate_limited"  # wait ``retry_after_s``
    RESTARTING = "restarting"  # matching engine restart / cancel-only: back off
    OTHER = "other"  # anything else; logged with the venue's message


# Venue message fragments (lower case) -> code; first match wins, so specific text comes first.
# Sources: polymarket_api.md 3.7 and the SDK's ``models/clob/order_response.py``.
_VENUE_REJECTIONS: tuple[tuple[str, RejectCode], ...] = (
    ("invalid post-only order: order crosses book", RejectCode.POST_ONLY_WOULD_CROSS),
    ("crosses the book", RejectCode.POST_ONLY_WOULD_CROSS),
    ("not enough balance", RejectCode.NOT_ENOUGH_BALANCE),
    ("breaks minimum tick size rule", RejectCode.TICK_SIZE),
    ("tick size", RejectCode.TICK_SIZE),
    ("lower than the minimum", RejectCode.MIN_SIZE),
    ("closed only mode", RejectCode.CLOSED_ONLY),
    ("market is closed", RejectCode.MARKET_CLOSED),
    ("market closed", RejectCode.MARKET_CLOSED),
    ("market is not accepting orders", RejectCode.MARKET_CLOSED),
    ("market for token", RejectCode.MARKET_CLOSED),  # "market for token X not found"
    ("not yet ready to process new orders", RejectCode.MARKET_CLOSED),  # not accepting orders
    ("market resolved", RejectCode.MARKET_CLOSED),
    ("cancel-only", RejectCode.RESTARTING),
    ("trading is currently disabled", RejectCode.RESTARTING),
    ("matching engine", RejectCode.RESTARTING),
    ("too many requests", RejectCode.RATE_LIMITED),
)


def classify_rejection(message: str) -> RejectCode:
    """The :class:`RejectCode` for a venue refusal message (``OTHER`` when unknown)."""
    text = message.lower()
    for fragment, code in _VENUE_REJECTIONS:
        if fragment in text:
            return code
    return RejectCode.OTHER


@dataclass(frozen=True)
class Accepted:
    """The exchange took the order. ``status`` is the venue's: live, matched or delayed."""

    order_id: str
    status: str
    making_amount: Decimal
    taking_amount: Decimal
    trade_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rejected:
    """The exchange refused the order; nothing rests. ``retry_after_s`` comes with 429/425."""

    code: RejectCode
    message: str
    retry_after_s: float | None = None


PlaceOutcome = Accepted | Rejected


@dataclass(frozen=True)
class CancelOutcome:
    """What a cancel request did: ids cancelled and ids refused with the venue's reason."""

    canceled: tuple[str, ...]
    not_canceled: dict[str, str] = field(default_factory=dict)


class OrderGateway(Protocol):
    """What the worker needs from an account: :class:`Trading` (real orders) and
    ``paper.gateway.PaperGateway`` (simulated orders on real market data) both provide it."""

    address: str
    identity: AccountIdentity

    async def market_info(self, condition_id: str) -> ClobMarket: ...

    async def place_post_only(
        self, token_id: str, side: Side, price: Decimal, size: Decimal
    ) -> PlaceOutcome: ...

    async def cancel(self, order_id: str) -> CancelOutcome: ...

    async def cancel_market(self, condition_id: str) -> CancelOutcome: ...

    async def confirm_no_open_orders(
        self, condition_id: str, *, timeout_s: float, poll_s: float = 0.2
    ) -> list[Order]: ...

    async def open_orders(self, condition_id: str) -> list[Order]: ...

    async def get_order(self, order_id: str) -> Order: ...

    async def fills(self, condition_id: str) -> list[Fill]: ...

    async def collateral_balance(self) -> Decimal: ...

    async def token_balance(self, token_id: str) -> Decimal: ...

    async def aclose(self) -> None: ...


__all__ = [
    "Accepted",
    "CancelOutcome",
    "OrderGateway",
    "PlaceOutcome",
    "RejectCode",
    "Rejected",
    "Side",
    "classify_rejection",
]
