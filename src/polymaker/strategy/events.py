"""Inputs of the strategy: frozen values the worker runtime builds from exchange data and clocks.

Every event carries ``ts_ms`` (epoch milliseconds, wall clock: end_time is wall time). The
strategy never reads a clock; a timestamp older than the newest one seen is treated as "now".
Prices and sizes are ``Decimal`` as parsed from the venue's decimal strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class Side(StrEnum):
    """Order side, in the venue's words."""

    BUY = "BUY"
    SELL = "SELL"


class RejectCode(StrEnum):
    """Why the exchange refused a new order (closed set; the runtime maps venue messages here)."""

    POST_ONLY_WOULD_CROSS = "post_only_would_cross"  # book moved: requote on a fresh book
    NOT_ENOUGH_BALANCE = "not_enough_balance"  # refresh balances (shares may not have settled)
    MIN_SIZE = "min_size"  # size below the market minimum
    TICK = "tick"  # price off the tick grid: the tick probably changed
    MARKET_CLOSED = "market_closed"  # closed / resolved / not accepting orders: finish
    MARKET_NOT_READY = "market_not_ready"  # engine restarting or not ready yet: back off
    OTHER = "other"  # anything else: back off and retry


class TradeStatus(StrEnum):
    """Lifecycle of a trade: MATCHED -> MINED -> CONFIRMED, or RETRYING -> FAILED."""

    MATCHED = "MATCHED"
    MINED = "MINED"
    CONFIRMED = "CONFIRMED"
    RETRYING = "RETRYING"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True)
class Level:
    """One price level of a book side."""

    price: Decimal
    size: Decimal


@dataclass(frozen=True, slots=True)
class BookUpdate:
    """The current top of the book of our token, best level first on each side.

    ``bids`` descending, ``asks`` ascending (the venue's arrays are worst -> best: reverse them).
    It includes our own resting order. ``ts_ms`` is when the runtime last knew the book to be
    current: re-send the book (same levels, newer ts) at least every ``stale_book_s`` while the
    feed is healthy, or the strategy stops placing orders.
    """

    ts_ms: int
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]


@dataclass(frozen=True, slots=True)
class BookInvalidated:
    """The local book is gone (feed reconnecting): do not place until a new BookUpdate."""

    ts_ms: int


@dataclass(frozen=True, slots=True)
class TickSizeChanged:
    """The market's tick size changed; the current book is discarded and orders re-gridded."""

    ts_ms: int
    tick_size: Decimal


@dataclass(frozen=True, slots=True)
class OrderAccepted:
    """The exchange accepted the PlaceOrder with this ``client_ref`` as ``order_id``."""

    ts_ms: int
    client_ref: str
    order_id: str


@dataclass(frozen=True, slots=True)
class OrderRejected:
    """The exchange refused the PlaceOrder with this ``client_ref`` (nothing rests)."""

    ts_ms: int
    client_ref: str
    code: RejectCode
    message: str = ""


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """What the exchange reports about one of our orders; ``open=False`` means it is gone.

    ``size_matched`` is cumulative (shares). Send ``open=False`` when the order is fully
    matched or cancelled by the exchange (e.g. CANCELED_MARKET_RESOLVED).
    """

    ts_ms: int
    order_id: str
    size_matched: Decimal
    open: bool = True


@dataclass(frozen=True, slots=True)
class OrderCanceled:
    """Confirmation of a CancelOrder, with the order's final ``size_matched`` (re-read it)."""

    ts_ms: int
    order_id: str
    size_matched: Decimal


@dataclass(frozen=True, slots=True)
class AllOrdersCanceled:
    """Answer to CancelAll: how many orders of this market are still open after the sweep."""

    ts_ms: int
    open_orders: int


@dataclass(frozen=True, slots=True)
class Fill:
    """One of our trades (as maker: our ``maker_orders`` entry), keyed by ``trade_id``.

    Resend on every status change; duplicates are ignored, FAILED reverses the trade.
    """

    ts_ms: int
    trade_id: str
    order_id: str
    side: Side
    price: Decimal
    size: Decimal
    status: TradeStatus


@dataclass(frozen=True, slots=True)
class BalanceRefreshed:
    """Balances read from the exchange: token ``shares`` held and ``cash`` (USDC) available."""

    ts_ms: int
    shares: Decimal
    cash: Decimal | None = None


@dataclass(frozen=True, slots=True)
class PositionAdopted:
    """A position found at start-up (before the first AllOrdersCanceled): sell it."""

    ts_ms: int
    size: Decimal
    avg_entry: Decimal


@dataclass(frozen=True, slots=True)
class Timer:
    """Time passes; send at least once a second."""

    ts_ms: int


@dataclass(frozen=True, slots=True)
class StopRequested:
    """Stop: cancel this market's orders; ``force`` finishes without waiting for confirmation."""

    ts_ms: int
    force: bool = False


@dataclass(frozen=True, slots=True)
class FlattenRequested:
    """Sell the whole position at the exit price (still post-only), buy nothing more, and
    finish once flat (the supervisor's daily loss flatten, or an operator's ``flatten``)."""

    ts_ms: int


@dataclass(frozen=True, slots=True)
class MarketClosed:
    """The exchange says the market is closed or resolved."""

    ts_ms: int


@dataclass(frozen=True, slots=True)
class Unparsed:
    """The runtime could not parse an exchange message of ``kind``; counted in the snapshot."""

    ts_ms: int
    kind: str
    detail: str = ""


Event = (
    BookUpdate
    | BookInvalidated
    | TickSizeChanged
    | OrderAccepted
    | OrderRejected
    | OrderUpdate
    | OrderCanceled
    | AllOrdersCanceled
    | Fill
    | BalanceRefreshed
    | PositionAdopted
    | Timer
    | StopRequested
    | FlattenRequested
    | MarketClosed
    | Unparsed
)
