"""Facts about the market the strategy trades; they come with the market, not with PARAMS."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from polymaker.strategy import pricing


@dataclass(frozen=True, slots=True)
class MarketInfo:
    """Tick size and minimum order size (shares) at start, and the end time (epoch ms, UTC).

    The side (YES/NO -> token) and neg_risk matter only to order signing, so the runtime keeps
    them; the tick can change later through a TickSizeChanged event.
    """

    tick_size: Decimal
    min_order_size: Decimal
    end_time_ms: int

    def __post_init__(self) -> None:
        if not pricing.valid_tick(self.tick_size):
            raise ValueError(f"tick_size {self.tick_size} is not a valid tick (e.g. 0.01)")
        if not (self.min_order_size.is_finite() and self.min_order_size > 0):
            raise ValueError(f"min_order_size {self.min_order_size} must be positive")
