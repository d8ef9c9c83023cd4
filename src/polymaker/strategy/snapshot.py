"""Read-only view of the strategy for the worker's status file and logs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from polymaker.strategy.commands import OrderIntent
from polymaker.strategy.events import Side
from polymaker.strategy.states import ExitReason, State


@dataclass(frozen=True, slots=True)
class OpenOrder:
    """Our order as the strategy knows it (order_id None while the placement is unanswered)."""

    order_id: str | None
    side: Side
    price: Decimal
    size: Decimal
    size_matched: Decimal
    intent: OrderIntent


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything the status file shows about the strategy; ``ignored`` counts skipped input.

    ``dust``: a position below the market minimum (held, not sellable). ``unsellable``: the
    floor of the held position is above 1 - tick (only a stop-loss / max-hold exit can sell).
    """

    state: State
    position: Decimal
    sellable: Decimal
    avg_entry: Decimal | None
    floor: Decimal | None
    open_order: OpenOrder | None
    open_orders: int
    realized_pnl: Decimal
    last_error: str | None
    dust: bool
    unsellable: bool
    sell_only: bool
    exit_mode: OrderIntent | None
    rolling_high: Decimal | None
    tick_size: Decimal
    exit_reason: ExitReason | None
    ignored: Mapping[str, int]
