"""Where our one order should rest, given the book without our own order (pure, on the grid).

Buy: join the best bid of the rest of the market; when our bid is above all others (we are
alone at the top), sit one tick above the next bid instead, which keeps first place in the
queue at the lowest price. Never above the signal's cap, never at or above the best ask.

Take-profit sell: join the best ask of the others; when alone below them, move up to one tick
under the next ask. Never below the floor, never at or below the best bid. In aggressive mode
a cap that steps down one tick per no-fill timeout bounds the price (never below the floor).

Exit sell (stop-loss, max hold): one tick under the others' best ask, but at least one tick
above the best bid (post-only), and never higher than where it already rests.
"""

from __future__ import annotations

from decimal import Decimal

from polymaker.strategy import pricing
from polymaker.strategy.book import BookView


def buy_target(
    others: BookView, full: BookView, our_price: Decimal | None, cap: Decimal, tick: Decimal
) -> Decimal | None:
    """Price for our bid, or None when the book gives no valid price (no bids, cap too low)."""
    best = others.best_bid
    if best is None:
        return None
    target = best + tick if our_price is not None and our_price > best else best
    target = min(target, cap)
    if full.best_ask is not None:
        target = min(target, full.best_ask - tick)
    return pricing.buy_price(target, tick)


def take_profit_target(
    others: BookView,
    full: BookView,
    our_price: Decimal | None,
    floor: Decimal,
    step_cap: Decimal | None,
    tick: Decimal,
) -> Decimal | None:
    """Price for our take-profit ask (>= floor), or None when even the floor is not valid."""
    best = others.best_ask
    if best is None:
        target = floor
    elif our_price is not None and our_price < best:
        target = best - tick
    else:
        target = best
    if step_cap is not None:
        target = min(target, step_cap)
    target = max(target, floor)
    if full.best_bid is not None:
        target = max(target, full.best_bid + tick)
    return pricing.sell_price(target, tick)


def exit_target(
    others: BookView, full: BookView, our_price: Decimal | None, tick: Decimal
) -> Decimal | None:
    """Price for a stop-loss / max-hold exit ask, below the floor if the market is there."""
    best_ask = others.best_ask
    best_bid = full.best_bid
    if best_ask is None and best_bid is None:
        return None
    target = best_ask - tick if best_ask is not None else best_bid + tick  # type: ignore[operator]
    if our_price is not None:
        target = min(target, our_price)
    if best_bid is not None:
        target = max(target, best_bid + tick)
    return pricing.sell_price(target, tick)
