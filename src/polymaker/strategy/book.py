"""Validated view of the top of the book, and the same book with our own order taken out.

A book that is crossed, unsorted, or has prices outside (0, 1) or non-positive sizes is
refused as a whole (the machine counts it and keeps trading on nothing): an order is only ever
decided on a book that passed these checks. Prices and crossing are judged by
``polymaker.quotes``, the rule the screener applies too.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from polymaker.quotes import quote_problem
from polymaker.strategy.events import BookUpdate, Level, Side

ZERO = Decimal(0)


def book_problem(update: BookUpdate) -> str | None:
    """Why this book must not be traded on, or None when it is sound."""
    for level in (*update.bids, *update.asks):
        price = quote_problem(level.price, None)
        if price is not None:
            return f"book_{price}"
        if not level.size.is_finite():
            return "book_not_finite"
        if level.size <= 0:
            return "book_size_not_positive"
    if any(a.price <= b.price for a, b in zip(update.bids, update.bids[1:], strict=False)):
        return "book_unsorted"
    if any(b.price <= a.price for a, b in zip(update.asks, update.asks[1:], strict=False)):
        return "book_unsorted"
    top = quote_problem(
        update.bids[0].price if update.bids else None,
        update.asks[0].price if update.asks else None,
    )
    return None if top is None else f"book_{top}"


@dataclass(frozen=True, slots=True)
class BookView:
    """Sorted, validated levels (best first) and when they were last known current."""

    ts_ms: int
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]

    @classmethod
    def from_update(cls, update: BookUpdate) -> BookView:
        """Wrap an update that ``book_problem`` accepted."""
        return cls(update.ts_ms, update.bids, update.asks)

    @property
    def best_bid(self) -> Decimal | None:
        """Highest bid, None for an empty side."""
        return self.bids[0].price if self.bids else None

    @property
    def best_ask(self) -> Decimal | None:
        """Lowest ask, None for an empty side."""
        return self.asks[0].price if self.asks else None

    def without_own(self, side: Side, price: Decimal, size: Decimal) -> BookView:
        """The book as the rest of the market sees it: our resting size removed at our price.

        When the level at our price holds no more than our own remaining size we are alone
        there, and the level disappears.
        """
        levels = self.bids if side == Side.BUY else self.asks
        kept = []
        for level in levels:
            if level.price == price:
                rest = level.size - size
                if rest > 0:
                    kept.append(Level(level.price, rest))
            else:
                kept.append(level)
        if side == Side.BUY:
            return BookView(self.ts_ms, tuple(kept), self.asks)
        return BookView(self.ts_ms, self.bids, tuple(kept))
