"""Every selection criterion, one at a time (pure functions, fixed "now")."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from polymaker.config.filter import FilterParams
from polymaker.screener.criteria import (
    Criteria,
    choose_side,
    early_reason,
    pick_per_event,
    rank_and_cap,
    side_qualifies,
)
from polymaker.screener.model import Candidate, Quote, Reason, Topic
from tests.screener.fakes import NOW, make_market, parse_row

D = Decimal
PARAMS = FilterParams(blacklist_terms=("BTC", "Up or Down"))


def candidate(index: int = 1, **overrides) -> Candidate:
    parsed = parse_row(make_market(index, **overrides))
    assert isinstance(parsed, Candidate)
    return parsed


def reason(c: Candidate, params: FilterParams = PARAMS):
    found = early_reason(c, Criteria.build(params, NOW))
    return None if found is None else found[0]


def test_a_good_market_passes_early_criteria():
    assert reason(candidate()) is None


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"active": False}, Reason.INACTIVE),
        ({"closed": True, "acceptingOrders": True}, Reason.CLOSED),
        ({"archived": True}, Reason.ARCHIVED),
        ({"enableOrderBook": False}, Reason.ORDER_BOOK_DISABLED),
        ({"acceptingOrders": False}, Reason.NOT_ACCEPTING_ORDERS),
        ({"acceptingOrders": None}, Reason.NOT_ACCEPTING_ORDERS),
    ],
)
def test_state_gates(overrides, expected):
    assert reason(candidate(**overrides)) == expected


def test_end_time_window_bounds_are_inclusive():
    assert reason(candidate(end=NOW + timedelta(hours=5))) is None
    assert reason(candidate(end=NOW + timedelta(hours=48))) is None
    assert reason(candidate(end=NOW + timedelta(hours=4, minutes=59))) == Reason.ENDS_TOO_SOON
    assert reason(candidate(end=NOW + timedelta(hours=48, seconds=1))) == Reason.ENDS_TOO_LATE
    assert reason(candidate(end=NOW - timedelta(hours=1))) == Reason.ENDS_TOO_SOON
    assert reason(candidate(endDate=None)) == Reason.NO_END_TIME


def test_excluded_slugs_ignore_case():
    params = PARAMS.model_copy(update={"exclude_slugs": ("MARKET-1",)})
    assert reason(candidate(1), params) == Reason.EXCLUDED_SLUG
    assert reason(candidate(2), params) is None


def test_allow_list_on_question_or_slug():
    params = PARAMS.model_copy(update={"only": ("THING 1", "market-2")})
    assert reason(candidate(1), params) is None
    assert reason(candidate(2), params) is None
    assert reason(candidate(3), params) == Reason.NOT_IN_ALLOW_LIST


@pytest.mark.parametrize(
    "overrides",
    [
        {"question": "Will BTC close green?"},
        {"slug": "btc-up-or-down-dec-3"},
        {"events": [{"id": "9", "slug": "e", "title": "Bitcoin Up or Down"}]},
        {"tags": [{"label": "BTC"}]},
    ],
)
def test_blacklist_checks_question_slug_event_title_and_tags(overrides):
    c = candidate(**overrides)
    found = early_reason(c, Criteria.build(PARAMS, NOW))
    assert found is not None and found[0] == Reason.BLACKLISTED and found[1]


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("min_total_volume", D("50000.6"), Reason.LOW_TOTAL_VOLUME),
        ("min_volume_24h", D("1200.26"), Reason.LOW_VOLUME_24H),
        ("min_liquidity", D("8000.01"), Reason.LOW_LIQUIDITY),
    ],
)
def test_volume_and_liquidity_floors(field, value, expected):
    assert reason(candidate(), PARAMS.model_copy(update={field: value})) == expected
    exact = {"min_total_volume": D("50000.5"), "min_volume_24h": D("1200.25")}
    exact["min_liquidity"] = D("8000")
    assert reason(candidate(), PARAMS.model_copy(update={field: exact[field]})) is None


def q(bid: str | None, ask: str | None) -> Quote:
    return Quote(None if bid is None else D(bid), None if ask is None else D(ask))


def test_side_band_and_spread():
    assert side_qualifies(q("0.95", "0.96"), PARAMS)
    assert side_qualifies(q("0.90", "0.955"), PARAMS)
    assert side_qualifies(q("0.80", "0.995"), PARAMS)
    assert not side_qualifies(q("0.90", "0.954"), PARAMS)
    assert not side_qualifies(q("0.90", "0.996"), PARAMS)
    assert not side_qualifies(q("0.75", "0.96"), PARAMS)  # spread 0.21 > 0.20
    assert side_qualifies(q("0.76", "0.96"), PARAMS)  # spread exactly 0.20
    assert not side_qualifies(q(None, "0.96"), PARAMS)


def test_choose_side_picks_the_only_qualifying_side():
    assert choose_side(q("0.02", "0.03"), q("0.97", "0.98"), PARAMS) == "NO"
    assert choose_side(q("0.97", "0.98"), q("0.02", "0.03"), PARAMS) == "YES"


def test_choose_side_preference_when_both_qualify():
    wide = PARAMS.model_copy(update={"ask_min": D("0.4"), "ask_max": D("0.7")})
    yes, no = q("0.50", "0.55"), q("0.45", "0.60")
    assert choose_side(yes, no, wide) == "NO"
    assert choose_side(yes, no, wide.model_copy(update={"prefer_side": "YES"})) == "YES"
    higher = wide.model_copy(update={"prefer_side": "higher"})
    assert choose_side(yes, no, higher) == "NO"
    assert choose_side(q("0.50", "0.65"), no, higher) == "YES"
    assert choose_side(q("0.50", "0.60"), no, higher) == "NO"  # tie -> NO


def test_choose_side_reasons():
    assert choose_side(q(None, None), q(None, None), PARAMS) == Reason.NO_QUOTES
    assert choose_side(q("0.4", "0.5"), q("0.5", "0.6"), PARAMS) == Reason.ASK_OUT_OF_BAND
    assert choose_side(q("0.01", "0.03"), q("0.5", "0.97"), PARAMS) == Reason.SPREAD_TOO_WIDE
    assert choose_side(q(None, None), q(None, "0.97"), PARAMS) == Reason.SPREAD_TOO_WIDE


def topic(index: int, event: str | None, side: str, ask: str, volume: float = 100.0, **kw):
    events = None if event is None else [{"id": event, "slug": event, "title": event}]
    c = candidate(index, events=events, volumeNum=volume, **kw)
    chosen = q("0.9", ask)
    other = q("0.01", "0.05")
    yes, no = (chosen, other) if side == "YES" else (other, chosen)
    return Topic(c, side, yes, no, "books")


def slugs(topics):
    return [t.candidate.slug for t in topics]


def test_one_per_event_tie_break_order():
    a = topic(1, "e1", "YES", "0.99")
    b = topic(2, "e1", "NO", "0.96")  # preferred side wins over a higher ask
    c = topic(3, "e1", "NO", "0.97")  # ... and among NO, the higher ask wins
    d = topic(4, "e2", "NO", "0.97", volume=10)
    e = topic(5, "e2", "NO", "0.97", volume=20)  # same ask: higher volume wins
    f = topic(7, "e3", "NO", "0.97")
    g = topic(6, "e3", "NO", "0.97")  # full tie: alphabetically first slug wins
    h = topic(8, None, "NO", "0.97")
    i = topic(9, None, "NO", "0.97")  # no event: both kept
    kept, rejected = pick_per_event([a, b, c, d, e, f, g, h, i], PARAMS)
    assert sorted(slugs(kept)) == ["market-3", "market-5", "market-6", "market-8", "market-9"]
    assert sorted(r.slug for r in rejected) == ["market-1", "market-2", "market-4", "market-7"]
    assert {r.reason for r in rejected} == {Reason.SAME_EVENT}


def test_one_per_event_off_keeps_all():
    topics = [topic(1, "e1", "NO", "0.97"), topic(2, "e1", "NO", "0.96")]
    kept, rejected = pick_per_event(topics, PARAMS.model_copy(update={"one_per_event": False}))
    assert len(kept) == 2 and rejected == []


def test_rank_and_cap():
    topics = [
        topic(1, None, "NO", "0.97", volume24hr=5),
        topic(2, None, "NO", "0.97", volume24hr=50),
        topic(3, None, "NO", "0.97", volume=1e6, volume24hr=50),
    ]
    ordered, over = rank_and_cap(topics, PARAMS)
    assert slugs(ordered) == ["market-3", "market-2", "market-1"] and over == []
    capped, over = rank_and_cap(topics, PARAMS.model_copy(update={"max_topics": 2}))
    assert slugs(capped) == ["market-3", "market-2"]
    assert [(r.slug, r.reason) for r in over] == [("market-1", Reason.OVER_MAX_TOPICS)]


def test_criteria_needs_an_aware_now():
    with pytest.raises(ValueError):
        Criteria.build(PARAMS, NOW.replace(tzinfo=None))
    window = Criteria.build(PARAMS, NOW).window
    assert window == (NOW + timedelta(hours=5), NOW + timedelta(hours=48))
