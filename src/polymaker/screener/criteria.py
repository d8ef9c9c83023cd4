"""The selection criteria (pure: no I/O, "now" is passed in). docs/screener.md explains each.

Two stages, because order books are the expensive part: ``early_reason`` needs only the Gamma
row and runs before any book is fetched; ``choose_side`` needs both sides' quotes. Then
``pick_per_event`` and ``rank_and_cap`` shape the final list. Every check returns the first
failing ``Reason`` so the result can count rejections by reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from polymaker.config.filter import FilterParams
from polymaker.quotes import quote_problem
from polymaker.screener.blacklist import Blacklist
from polymaker.screener.model import Candidate, Quote, Reason, Rejection, Side, Topic


@dataclass(frozen=True)
class Criteria:
    """The filter parameters bound to one moment, with the blacklist compiled once."""

    params: FilterParams
    now: datetime
    blacklist: Blacklist
    only: tuple[str, ...]
    exclude_slugs: frozenset[str]
    window: tuple[datetime, datetime]  # [now + min_end_hours, now + max_end_hours]

    @classmethod
    def build(cls, params: FilterParams, now: datetime) -> Criteria:
        """Compile ``params`` for evaluation at ``now`` (a timezone-aware datetime)."""
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        return cls(
            params=params,
            now=now,
            blacklist=Blacklist.compile(params.blacklist_terms, params.blacklist_regex),
            only=tuple(term.casefold() for term in params.only),
            exclude_slugs=frozenset(slug.casefold() for slug in params.exclude_slugs),
            window=(
                now + timedelta(hours=params.min_end_hours),
                now + timedelta(hours=params.max_end_hours),
            ),
        )


def _state_reason(c: Candidate) -> Reason | None:
    """Tradable only if active, not closed, not archived, with an order book taking orders.

    ``closed`` is checked on its own: Gamma can report a closed market as acceptingOrders.
    """
    if not c.active:
        return Reason.INACTIVE
    if c.closed:
        return Reason.CLOSED
    if c.archived:
        return Reason.ARCHIVED
    if not c.enable_order_book:
        return Reason.ORDER_BOOK_DISABLED
    if not c.accepting_orders:
        return Reason.NOT_ACCEPTING_ORDERS
    return None


def early_reason(c: Candidate, crit: Criteria) -> tuple[Reason, str] | None:
    """The first criterion (not needing quotes) that ``c`` fails, with a detail; None = passes."""
    state = _state_reason(c)
    if state is not None:
        return state, ""
    if c.end_time is None:
        return Reason.NO_END_TIME, ""
    low, high = crit.window
    if c.end_time < low:
        return Reason.ENDS_TOO_SOON, c.end_time.isoformat()
    if c.end_time > high:
        return Reason.ENDS_TOO_LATE, c.end_time.isoformat()
    if c.slug.casefold() in crit.exclude_slugs:
        return Reason.EXCLUDED_SLUG, c.slug
    if crit.only and not _in_allow_list(c, crit.only):
        return Reason.NOT_IN_ALLOW_LIST, ""
    hit = crit.blacklist.match((c.question, c.slug, c.event_title, *c.tags))
    if hit is not None:
        return Reason.BLACKLISTED, hit
    p = crit.params
    if c.volume_total < p.min_total_volume:
        return Reason.LOW_TOTAL_VOLUME, str(c.volume_total)
    if c.volume_24h < p.min_volume_24h:
        return Reason.LOW_VOLUME_24H, str(c.volume_24h)
    if c.liquidity < p.min_liquidity:
        return Reason.LOW_LIQUIDITY, str(c.liquidity)
    return None


def _in_allow_list(c: Candidate, only: tuple[str, ...]) -> bool:
    text = f"{c.question}\n{c.slug}".casefold()
    return any(term in text for term in only)


def side_qualifies(quote: Quote, params: FilterParams) -> bool:
    """True when the side's ask is inside [ask_min, ask_max] and ask - bid <= max_spread."""
    if quote.ask is None or quote.bid is None:
        return False
    if not params.ask_min <= quote.ask <= params.ask_max:
        return False
    return quote.ask - quote.bid <= params.max_spread


def choose_side(yes: Quote, no: Quote, params: FilterParams) -> Side | Reason:
    """The side to trade, or why neither side qualifies.

    prefer_side only decides between two qualifying sides: NO or YES, or ``higher`` = the
    side with the higher ask (NO on a tie, as the reference preferred NO). Quotes that cannot be
    real (``polymaker.quotes``: a price outside (0, 1), a crossed book) select nothing, whether
    they come from the books or from Gamma's listing.
    """
    if yes.is_empty and no.is_empty:
        return Reason.NO_QUOTES
    if any(quote_problem(q.bid, q.ask) is not None for q in (yes, no)):
        return Reason.IMPOSSIBLE_QUOTES
    yes_ok = side_qualifies(yes, params)
    no_ok = side_qualifies(no, params)
    if yes_ok and no_ok:
        if params.prefer_side == "higher":
            assert yes.ask is not None and no.ask is not None
            return "YES" if yes.ask > no.ask else "NO"
        return params.prefer_side
    if yes_ok:
        return "YES"
    if no_ok:
        return "NO"
    if any(_in_band(q, params) for q in (yes, no)):
        return Reason.SPREAD_TOO_WIDE
    return Reason.ASK_OUT_OF_BAND


def _in_band(quote: Quote, params: FilterParams) -> bool:
    return quote.ask is not None and params.ask_min <= quote.ask <= params.ask_max


def _event_rank(topic: Topic, prefer: str) -> tuple[int, Decimal, Decimal, str]:
    ask = topic.chosen.ask or Decimal(0)
    preferred = 0 if prefer == "higher" or topic.side == prefer else 1
    return (preferred, -ask, -topic.candidate.volume_total, topic.candidate.slug)


def pick_per_event(
    topics: Sequence[Topic], params: FilterParams
) -> tuple[list[Topic], list[Rejection]]:
    """At most one market per event (when one_per_event): the others are rejected.

    Tie-break, in order: the preferred side, the higher ask, the higher total volume, the
    alphabetically first slug. Markets without an event are each their own group.
    """
    if not params.one_per_event:
        return list(topics), []
    best: dict[str, Topic] = {}
    kept: list[Topic] = []
    for topic in topics:
        event = topic.candidate.event_id
        if event is None:
            kept.append(topic)
            continue
        current = best.get(event)
        if current is None or _event_rank(topic, params.prefer_side) < _event_rank(
            current, params.prefer_side
        ):
            best[event] = topic
    winners = {id(t) for t in best.values()}
    rejected = [
        Rejection(t.candidate.market_id, t.candidate.slug, Reason.SAME_EVENT, t.candidate.event_id)
        for t in topics
        if t.candidate.event_id is not None and id(t) not in winners
    ]
    return kept + list(best.values()), rejected


def rank_and_cap(
    topics: Iterable[Topic], params: FilterParams
) -> tuple[list[Topic], list[Rejection]]:
    """Order the result by 24 h volume, then total volume (both descending), then slug; cap it."""
    ordered = sorted(
        topics,
        key=lambda t: (-t.candidate.volume_24h, -t.candidate.volume_total, t.candidate.slug),
    )
    if params.max_topics is None or len(ordered) <= params.max_topics:
        return ordered, []
    over = [
        Rejection(t.candidate.market_id, t.candidate.slug, Reason.OVER_MAX_TOPICS)
        for t in ordered[params.max_topics :]
    ]
    return ordered[: params.max_topics], over


__all__ = [
    "Criteria",
    "choose_side",
    "early_reason",
    "pick_per_event",
    "rank_and_cap",
    "side_qualifies",
]
