"""One rule for whether a top of book can be real, shared by the screener and the worker.

A price on Polymarket lies strictly between 0 and 1 (a share pays 0 or 1 USDC), and a book's
best bid lies below its best ask (an order that would cross is matched, so a crossed or locked
book is stale or broken data). The worker never trades on a book that breaks this rule
(``strategy.book.book_problem``) and the screener never selects a market on one
(``screener.criteria.choose_side``, for books and Gamma's listing quotes alike): both ask here.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

_ZERO = Decimal(0)
_ONE = Decimal(1)


class QuoteProblem(StrEnum):
    """Why a top of book cannot be right."""

    NOT_FINITE = "not_finite"
    PRICE_OUT_OF_RANGE = "price_out_of_range"  # not strictly inside (0, 1)
    CROSSED = "crossed"  # best bid >= best ask


def quote_problem(bid: Decimal | None, ask: Decimal | None) -> QuoteProblem | None:
    """What is wrong with the best ``bid`` and ``ask`` (None = that side is empty), or None."""
    for price in (bid, ask):
        if price is None:
            continue
        if not price.is_finite():
            return QuoteProblem.NOT_FINITE
        if not _ZERO < price < _ONE:
            return QuoteProblem.PRICE_OUT_OF_RANGE
    if bid is not None and ask is not None and bid >= ask:
        return QuoteProblem.CROSSED
    return None


__all__ = ["QuoteProblem", "quote_problem"]
