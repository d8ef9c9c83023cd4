"""The tick grid: the only place that snaps prices and sizes (buys round down, sells round up).

Valid prices are ``[tick, 1 - tick]`` on multiples of ``tick``; sizes have two decimals
(the venue truncates share amounts to 2 dp). Everything is ``Decimal``.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

ONE = Decimal(1)
SIZE_STEP = Decimal("0.01")


def valid_tick(tick: Decimal) -> bool:
    """A tick must be positive, below 1/2 and divide 1 exactly (0.1, 0.01, 0.005, 0.0025, ...)."""
    if not tick.is_finite() or tick <= 0 or tick * 2 >= ONE:
        return False
    return (ONE / tick) % 1 == 0


def round_down(price: Decimal, tick: Decimal) -> Decimal:
    """Largest grid price <= ``price``."""
    return ((price / tick).to_integral_value(rounding=ROUND_FLOOR) * tick).quantize(tick)


def round_up(price: Decimal, tick: Decimal) -> Decimal:
    """Smallest grid price >= ``price``."""
    return ((price / tick).to_integral_value(rounding=ROUND_CEILING) * tick).quantize(tick)


def on_grid(price: Decimal, tick: Decimal) -> bool:
    """Whether ``price`` is a valid order price on this tick grid."""
    return tick <= price <= ONE - tick and (price / tick) % 1 == 0


def buy_price(target: Decimal, tick: Decimal) -> Decimal | None:
    """Snap a buy target down to the grid, at most 1 - tick; None when it falls below one tick."""
    price = min(round_down(target, tick), (ONE - tick).quantize(tick))
    return price if price >= tick else None


def sell_price(target: Decimal, tick: Decimal) -> Decimal | None:
    """Snap a sell target up to the grid, at least one tick; None when it is above 1 - tick."""
    price = max(round_up(target, tick), tick.quantize(tick))
    return price if price <= ONE - tick else None


def profit_floor(
    entry: Decimal, profit_pct: Decimal, min_profit_ticks: int, tick: Decimal
) -> Decimal:
    """The lowest take-profit price: max(entry*(1+profit_pct), entry + k*tick) rounded up.

    It may exceed 1 - tick (then the position cannot be sold at a profit: see
    ``floor_sellable``); callers never buy where that would happen.
    """
    raw = max(entry * (ONE + profit_pct), entry + tick * min_profit_ticks)
    return round_up(raw, tick)


def floor_sellable(floor: Decimal, tick: Decimal) -> bool:
    """Whether a sell at ``floor`` is a valid price (at most 1 - tick)."""
    return floor <= ONE - tick


def max_feasible_buy_price(
    profit_pct: Decimal, min_profit_ticks: int, tick: Decimal
) -> Decimal | None:
    """The highest grid buy price whose profit floor is still sellable (<= 1 - tick).

    Starts from the analytic bound and steps down past rounding; None if no price qualifies.
    """
    top = ONE - tick
    bound = min(top / (ONE + profit_pct), top - tick * min_profit_ticks)
    price = round_down(bound, tick)
    while price >= tick:
        if floor_sellable(profit_floor(price, profit_pct, min_profit_ticks, tick), tick):
            return price
        price -= tick
    return None


def round_size(size: Decimal) -> Decimal:
    """Round a share amount down to the venue's 2 decimals (never sell or buy more than meant)."""
    if size <= 0:
        return Decimal("0.00")
    return size.quantize(SIZE_STEP, rounding=ROUND_FLOOR)
