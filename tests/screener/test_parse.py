"""Parsing every recorded Gamma market fixture, plus malformed rows (bytes -> decode -> parse)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from polymaker.screener.model import Candidate, Reason, Rejection
from tests.conftest import load_fixture
from tests.screener.fakes import make_market
from tests.screener.fakes import parse_row as parse_market

SINGLE_MARKET_FIXTURES = [
    "gamma_market_closed_sports_with_fees_2026-04.json",
    "gamma_market_v1_with_positionIds_and_feeSchedule_2026-08.json",
    "gamma_market_closed_still_accepting_orders_2026-05.json",
    "gamma_market_negrisk_with_feeSchedule_2026-06.json",
]


def all_fixture_rows():
    rows = list(load_fixture("gamma_markets_list_2026-01.json"))
    rows += [load_fixture(name) for name in SINGLE_MARKET_FIXTURES]
    rows += load_fixture("gamma_events_negrisk_2026-03.json")[0]["markets"]
    return rows


@pytest.mark.parametrize("row", all_fixture_rows(), ids=lambda r: r["slug"][:40])
def test_every_gamma_fixture_row_parses(row):
    parsed = parse_market(row)
    assert isinstance(parsed, Candidate)
    tokens = json.loads(row["clobTokenIds"])
    assert (parsed.yes_token, parsed.no_token) == (tokens[0], tokens[1])
    assert parsed.condition_id == row["conditionId"]
    assert parsed.end_time is not None and parsed.end_time.tzinfo is not None


def test_list_fixture_exact_values():
    first = parse_market(load_fixture("gamma_markets_list_2026-01.json")[0])
    assert isinstance(first, Candidate)
    assert first.market_id == "516938"
    assert first.slug == "will-2025-be-the-hottest-year-on-record"
    assert first.end_time == datetime(2025, 12, 31, 12, 0, tzinfo=UTC)
    assert first.volume_total == Decimal("2147013.414819")
    assert first.volume_24h == Decimal("21048.641464")
    assert first.liquidity == Decimal("41347.0411")
    assert first.tick_size == Decimal("0.001")
    assert first.min_order_size == Decimal("5")
    assert first.gamma_bid == Decimal("0.001") and first.gamma_ask == Decimal("0.004")
    assert first.neg_risk is False
    assert first.outcomes == ("Yes", "No")
    assert first.event_slug == "will-2025-be-the-hottest-year-on-record"
    assert (first.active, first.closed, first.accepting_orders) == (True, False, True)


def test_missing_neg_risk_is_none():
    rows = load_fixture("gamma_markets_list_2026-01.json")
    row = next(r for r in rows if "negRisk" not in r)
    parsed = parse_market(row)
    assert isinstance(parsed, Candidate) and parsed.neg_risk is None


def test_closed_market_still_accepting_orders_is_read_as_closed():
    parsed = parse_market(load_fixture("gamma_market_closed_still_accepting_orders_2026-05.json"))
    assert isinstance(parsed, Candidate)
    assert parsed.closed is True and parsed.accepting_orders is True
    assert parsed.volume_24h == Decimal(0) and parsed.liquidity == Decimal(0)


def test_v1_market_with_position_ids_uses_clob_token_ids_and_reads_tags():
    row = load_fixture("gamma_market_v1_with_positionIds_and_feeSchedule_2026-08.json")
    parsed = parse_market(row)
    assert isinstance(parsed, Candidate)
    assert parsed.version == "v1"
    assert parsed.yes_token == json.loads(row["clobTokenIds"])[0]
    assert "Geopolitics" in parsed.tags
    assert parsed.event_id is None


def test_v2_market_trades_position_ids():
    row = load_fixture("gamma_market_v1_with_positionIds_and_feeSchedule_2026-08.json")
    parsed = parse_market({**row, "version": "v2"})
    assert isinstance(parsed, Candidate)
    assert (parsed.yes_token, parsed.no_token) == tuple(row["positionIds"])


def test_non_yes_no_outcomes_keep_labels_first_is_yes():
    parsed = parse_market(load_fixture("gamma_market_closed_sports_with_fees_2026-04.json"))
    assert isinstance(parsed, Candidate)
    assert parsed.outcomes == ("FaZe", "illwill")
    assert parsed.event_title.startswith("Counter-Strike")


def test_no_yes_order_is_swapped():
    row = make_market(1, outcomes='["No", "Yes"]')
    parsed = parse_market(row)
    assert isinstance(parsed, Candidate)
    assert parsed.yes_token == "10003" and parsed.no_token == "10002"
    assert parsed.outcomes == ("Yes", "No")


def test_numbers_as_strings_or_numbers_keep_their_decimal_text():
    parsed = parse_market(make_market(1, volumeNum=None, volume="1234.50", bestAsk=0.955))
    assert isinstance(parsed, Candidate)
    assert parsed.volume_total == Decimal("1234.50")
    assert parsed.gamma_ask == Decimal("0.955")  # from the number's text, not a binary float
    parsed = parse_market(make_market(1, volumeNum=0.1, orderMinSize="5", liquidityNum=None))
    assert isinstance(parsed, Candidate)
    assert parsed.volume_total == Decimal("0.1") and parsed.min_order_size == Decimal(5)
    assert parsed.liquidity == Decimal("8000")  # the text twin when the number is missing


def test_flags_sent_as_text_are_read():
    parsed = parse_market(make_market(1, active="true", negRisk="false"))
    assert isinstance(parsed, Candidate)
    assert parsed.active is True and parsed.neg_risk is False


@pytest.mark.parametrize(
    ("overrides", "reason", "detail"),
    [
        ({"clobTokenIds": "[not json"}, Reason.MALFORMED, "clobTokenIds is not JSON"),
        ({"clobTokenIds": '{"a": 1}'}, Reason.MALFORMED, "clobTokenIds is not a list"),
        ({"clobTokenIds": '["1", "x"]'}, Reason.MALFORMED, "non-numeric token"),
        ({"clobTokenIds": None}, Reason.NO_TOKENS, "clobTokenIds"),
        ({"clobTokenIds": '["1", "2", "3"]'}, Reason.NOT_BINARY, "3 tokens"),
        ({"outcomes": '["A", "B", "C"]'}, Reason.MALFORMED, "outcomes"),
        ({"endDate": "tomorrow"}, Reason.MALFORMED, "endDate"),
        ({"volumeNum": "lots"}, Reason.MALFORMED, "volumeNum"),
        ({"volume": "1,234.5", "volumeNum": None}, Reason.MALFORMED, "volume"),
        ({"volumeNum": "NaN"}, Reason.MALFORMED, "volume"),
        ({"bestBid": "Infinity"}, Reason.MALFORMED, "bestBid"),
        ({"tags": [{"label": 5}]}, Reason.MALFORMED, "tags"),
        ({"events": "event-1"}, Reason.MALFORMED, "events"),
        ({"bestAsk": True}, Reason.MALFORMED, "bestAsk"),
        ({"active": "maybe"}, Reason.MALFORMED, "active"),
        ({"conditionId": None}, Reason.MALFORMED, "conditionId"),
        ({"slug": None}, Reason.MALFORMED, "slug"),
        ({"id": None}, Reason.MALFORMED, "id"),
        ({"question": 5}, Reason.MALFORMED, "question"),
    ],
)
def test_malformed_rows_are_rejections_with_reason(overrides, reason, detail):
    parsed = parse_market(make_market(7, **overrides))
    assert isinstance(parsed, Rejection)
    assert parsed.reason == reason
    assert detail in parsed.detail
    if overrides.get("id", "") is not None:
        assert parsed.market_id == "1007"  # the id is kept even when the row does not decode


def test_non_object_row_is_rejected():
    parsed = parse_market(["not", "a", "market"])
    assert isinstance(parsed, Rejection) and parsed.reason == Reason.MALFORMED


def test_v2_without_position_ids_has_no_tokens():
    parsed = parse_market(make_market(1, version="v2"))
    assert isinstance(parsed, Rejection) and parsed.reason == Reason.NO_TOKENS
