"""Outputs of the strategy: what the worker runtime must do, in the order returned.

Each command has exactly one expected answer event (see docs/strategy.md): PlaceOrder ->
OrderAccepted or OrderRejected; CancelOrder -> OrderCanceled (or OrderUpdate with open=False);
CancelAll -> AllOrdersCanceled; RefreshBalances -> BalanceRefreshed; RefreshBook -> BookUpdate
(and TickSizeChanged if the tick differs); ReconcileFills -> OrderUpdate / Fill events.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from polymaker.strategy.events import Side
from polymaker.strategy.states import ExitReason


class OrderIntent(StrEnum):
    """Why an order is placed; only the exit intents may sell below the profit floor."""

    BUY_DIP = "buy_dip"
    BUY_THRESHOLD = "buy_threshold"
    TAKE_PROFIT = "take_profit"
    STOP_LOSS = "stop_loss"
    MAX_HOLD = "max_hold"
    FLATTEN = "flatten"


EXIT_INTENTS = frozenset({OrderIntent.STOP_LOSS, OrderIntent.MAX_HOLD, OrderIntent.FLATTEN})


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    """Post a limit order; price is on the current tick grid, size has 2 decimals.

    ``book_best_bid`` / ``book_best_ask`` are the top of the book it was decided on (None for
    an empty side), for logs and checks: a buy is below that ask, a sell above that bid.
    """

    client_ref: str
    side: Side
    price: Decimal
    size: Decimal
    intent: OrderIntent
    book_best_bid: Decimal | None
    book_best_ask: Decimal | None
    post_only: bool = True
    order_type: str = "GTC"


@dataclass(frozen=True, slots=True)
class CancelOrder:
    """Cancel one order, then re-read it and answer with its final size_matched."""

    order_id: str


@dataclass(frozen=True, slots=True)
class CancelAll:
    """Cancel every open order of this market's token, then count what is still open."""


@dataclass(frozen=True, slots=True)
class RefreshBalances:
    """Read the token balance and the USDC balance (ask the venue to re-read the chain)."""


@dataclass(frozen=True, slots=True)
class RefreshBook:
    """Re-read the book over REST (after a post-only rejection or an off-grid rejection)."""


@dataclass(frozen=True, slots=True)
class ReconcileFills:
    """Re-read this market's orders and trades and replay them as OrderUpdate / Fill events."""


@dataclass(frozen=True, slots=True)
class Finish:
    """End the run; ``clean=False`` means open orders could not be confirmed cancelled."""

    reason: ExitReason
    clean: bool = True


Command = (
    PlaceOrder | CancelOrder | CancelAll | RefreshBalances | RefreshBook | ReconcileFills | Finish
)
