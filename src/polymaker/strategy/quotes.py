"""Where our one order should rest, given the book without our own order (pure, on the grid).

Every target depends only on the rest of the market (the book with our own order taken out),
never on where our order happens to rest, so a requote (cancel, then place) lands exactly
where the decision said, and an unchanged book never causes a requote.

Buy: join the best bid of the others. That follows the bid up, and when our bid is left alone
above everyone else it moves back down to the next bid. Never above the signal's cap, never at
or above the best ask (post-only).

Take-profit sell: join the best ask of the others (following it down, and back up when we are
left alone below it), never below the floor, never at or below the best bid. In aggressive mode
a cap that steps down one tick per no-fill timeout bounds the price (never below the floor).

Exit sell (stop-loss, max hold): one tick under the others' best ask, but at least one tick
above the best bid (the lowest price a post-only sell can rest at).
"""

from __future__ import annotations

from decimal import Decimal

from polymaker.strategy import pricing
from polymaker.strategy.book import BookView


def buy_target(others: BookView, full: BookView, cap: Decimal, tick: Decimal) -> Decimal | None:
    """Price for our bid, or None when the book gives no valid price (no bids, cap too low)."""
    if others.best_bid is None:
        return None
    target = min(others.best_bid, cap)
    if full.best_ask is not None:
        target = min(target, full.best_ask - tick)
    return pricing.buy_price(target, tick)


def take_profit_target(
    others: BookView, full: BookView, floor: Decimal, step_cap: Decimal | None, tick: Decimal
) -> Decimal | None:
    """Price for our take-profit ask (>= floor), or None when even the floor is not valid."""
    target = floor if others.best_ask is None else others.best_ask
    if step_cap is not None:
        target = min(target, step_cap)
    target = max(target, floor)
    if full.best_bid is not None:
        target = max(target, full.best_bid + tick)
    return pricing.sell_price(target, tick)


def exit_target(others: BookView, full: BookView, tick: Decimal) -> Decimal | None:
    """Price for a stop-loss / max-hold exit ask, below the floor if the market is there."""
    best_ask = others.best_ask
    best_bid = full.best_bid
    if best_bid is not None:
        floor_price = best_bid + tick
        target = floor_price if best_ask is None else max(best_ask - tick, floor_price)
    elif best_ask is not None:
        target = best_ask - tick
    else:
        return None
    return pricing.sell_price(target, tick)
