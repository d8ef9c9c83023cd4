"""Every quote the screener trusts comes from here: a ``/books`` entry, or Gamma's snapshot.

One place on purpose: what makes a top of book believable (finite prices, sizes above zero,
and whatever checks are added later) is decided here for both sources, and the criteria only
ever see ``Quote`` values. Whether a quote can be real at all (prices inside (0, 1), bid below
ask) is ``polymaker.quotes``, the rule the worker applies too; ``criteria.choose_side`` applies
it to both sides of every market, whichever source the quotes came from.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from polymaker.quotes import quote_problem
from polymaker.screener.model import Candidate, Quote
from polymaker.screener.wire import BookEntry, BookLevel

_ONE = Decimal(1)


def book_quote(entry: BookEntry) -> tuple[str, Quote]:
    """One ``/books`` entry -> (token id, top of book). Raises ValueError on a wrong shape.

    Best bid = the highest bid price, best ask = the lowest ask price: the venue lists levels
    worst -> best, but nothing here relies on the order. Levels of size 0 are ignored.
    """
    token = entry.asset_id if entry.asset_id not in (None, "") else entry.token_id
    if token is None or token == "":
        raise ValueError("book without asset_id")
    for key, value in (("tick_size", entry.tick_size), ("min_order_size", entry.min_order_size)):
        if value is not None and not value.is_finite():
            raise ValueError(f"book {token}: {key} {value} is not a finite number")
    return str(token), Quote(
        bid=_best(entry.bids, "bids", max),
        ask=_best(entry.asks, "asks", min),
        tick_size=entry.tick_size,
        min_order_size=entry.min_order_size,
        neg_risk=entry.neg_risk,
    )


def _best(
    levels: list[BookLevel] | None, side: str, pick: Callable[..., tuple[float, str | float]]
) -> Decimal | None:
    """The best price among the levels with a positive size, as ``Decimal``; None if none.

    The hot loop of a screen (every level of every book). Levels are compared by their float
    value, which orders decimal texts exactly as their values for prices on any tick grid
    (correctly rounded, so monotonic; distinct prices of at most 15 digits never collide).
    Only the winner becomes a ``Decimal``, from the text the venue sent.
    """
    live: list[tuple[float, str | float]] = []
    for level in levels or ():
        try:
            price, size = float(level.price), float(level.size)
        except ValueError:
            raise ValueError(f"{side} has a level without a numeric price and size") from None
        if not (math.isfinite(price) and math.isfinite(size)):
            raise ValueError(f"{side} has a level without a finite price and size")
        if size > 0:
            live.append((price, level.price))
    if not live:
        return None
    text = pick(live, key=_first)[1]
    try:
        return Decimal(text if isinstance(text, str) else repr(text))
    except InvalidOperation:
        raise ValueError(f"{side} has a price {text!r} that is not a decimal") from None


def _first(pair: tuple[float, str | float]) -> float:
    return pair[0]


def mirror_quote(yes: Quote) -> Quote:
    """The NO side implied by the YES book: NO bid = 1 - YES ask, NO ask = 1 - YES bid.

    On Polymarket the two outcome books of a binary market are one book: a NO order at p
    rests as a YES order at 1 - p (matching mints and merges across the pair), so this is the
    price a NO order actually gets. Impossible YES quotes are not mirrored (``1 - 1E+999999999``
    would overflow): the NO side is then empty, and ``criteria.choose_side`` refuses the YES.
    """
    if quote_problem(yes.bid, yes.ask) is not None:
        return Quote(None, None, yes.tick_size, yes.min_order_size, yes.neg_risk)
    return Quote(
        None if yes.ask is None else _ONE - yes.ask,
        None if yes.bid is None else _ONE - yes.bid,
        yes.tick_size,
        yes.min_order_size,
        yes.neg_risk,
    )


def gamma_quotes(c: Candidate) -> tuple[Quote, Quote]:
    """(YES, NO) quotes from the listing's snapshot (Gamma's bestBid/bestAsk are the first
    outcome's); NO is mirrored from YES."""
    yes = Quote(c.gamma_bid, c.gamma_ask, c.tick_size, c.min_order_size, c.neg_risk)
    return yes, mirror_quote(yes)


__all__ = ["book_quote", "gamma_quotes", "mirror_quote"]
