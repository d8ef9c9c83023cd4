"""The screener's typed values: a parsed market, a quote, a rejection reason, a chosen topic.

Everything past ``parse`` works on these frozen objects, never on Gamma's dicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Literal

import msgspec

Side = Literal["YES", "NO"]


class Reason(StrEnum):
    """Why a market was not selected; the values are the keys of ``rejected`` in the result."""

    MALFORMED = "malformed row"
    NO_TOKENS = "no token ids"
    NOT_BINARY = "not binary"
    INACTIVE = "inactive"
    CLOSED = "closed"
    ARCHIVED = "archived"
    ORDER_BOOK_DISABLED = "order book disabled"
    NOT_ACCEPTING_ORDERS = "not accepting orders"
    NO_END_TIME = "no end time"
    ENDS_TOO_SOON = "ends too soon"
    ENDS_TOO_LATE = "ends too late"
    EXCLUDED_SLUG = "excluded slug"
    NOT_IN_ALLOW_LIST = "not in allow-list (only)"
    BLACKLISTED = "blacklisted"
    LOW_TOTAL_VOLUME = "total volume too low"
    LOW_VOLUME_24H = "24h volume too low"
    LOW_LIQUIDITY = "liquidity too low"
    NO_QUOTES = "no quotes (empty book)"
    BOOKS_UNAVAILABLE = "no quotes (books unavailable)"
    IMPOSSIBLE_QUOTES = "impossible quotes (price outside (0, 1) or crossed book)"
    ASK_OUT_OF_BAND = "ask outside band"
    SPREAD_TOO_WIDE = "spread too wide"
    SAME_EVENT = "same event, better market chosen"
    OVER_MAX_TOPICS = "over max_topics"


@dataclass(frozen=True, slots=True)
class Rejection:
    """One market that was not selected, with the first criterion it failed."""

    market_id: str | None
    slug: str | None
    reason: Reason
    detail: str = ""


class Candidate(msgspec.Struct, frozen=True):
    """A Gamma market row, parsed. Money is ``Decimal``; a missing volume figure is 0.

    A frozen ``msgspec.Struct`` rather than a frozen dataclass: one is built per listed market
    (20,000 in a full screen), and a frozen dataclass sets each of its 26 fields through
    ``object.__setattr__``, which was a third of the parsing time.

    yes_token / no_token: the outcome tokens (``positionIds`` on v2 markets, else
    ``clobTokenIds``). For outcomes other than Yes/No, the first outcome is "YES".
    neg_risk: None when Gamma left the key out (the book's ``neg_risk`` then decides).
    gamma_bid / gamma_ask: the listing's YES-side snapshot quotes, when present.
    """

    market_id: str
    condition_id: str
    slug: str
    question: str
    event_id: str | None
    event_slug: str | None
    event_title: str | None
    tags: tuple[str, ...]
    end_time: datetime | None
    yes_token: str
    no_token: str
    outcomes: tuple[str, str]
    active: bool
    closed: bool
    archived: bool
    accepting_orders: bool
    enable_order_book: bool
    tick_size: Decimal | None
    min_order_size: Decimal | None
    neg_risk: bool | None
    volume_total: Decimal
    volume_24h: Decimal
    liquidity: Decimal
    gamma_bid: Decimal | None
    gamma_ask: Decimal | None
    version: str | None


@dataclass(frozen=True, slots=True)
class Quote:
    """Top of one token's book. Tick, minimum size and neg-risk come from the book when sent."""

    bid: Decimal | None
    ask: Decimal | None
    tick_size: Decimal | None = None
    min_order_size: Decimal | None = None
    neg_risk: bool | None = None

    @property
    def is_empty(self) -> bool:
        """True when the book has neither a bid nor an ask."""
        return self.bid is None and self.ask is None


EMPTY_QUOTE = Quote(None, None)


@dataclass(frozen=True, slots=True)
class Topic:
    """A selected market: the candidate, both sides' quotes and the side to trade."""

    candidate: Candidate
    side: Side
    yes: Quote
    no: Quote
    quote_source: Literal["books", "gamma"]

    @property
    def chosen(self) -> Quote:
        """The quote of the side to trade."""
        return self.yes if self.side == "YES" else self.no

    @property
    def token(self) -> str:
        """The token id of the side to trade."""
        return self.candidate.yes_token if self.side == "YES" else self.candidate.no_token


__all__ = ["EMPTY_QUOTE", "Candidate", "Quote", "Reason", "Rejection", "Side", "Topic"]
