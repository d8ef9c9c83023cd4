"""The synthetic universe: Gamma shapes against the recorded fixtures, determinism, mix, speed."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
import pytest
from polymarket._internal.protocol import is_v2_position_id

from polymaker.drill.universe import MarketSpecError, Universe
from tests.conftest import load_fixture

NOW = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)
HOUR_MS = 3_600_000
MARKET_FIXTURES = (
    "gamma_market_closed_sports_with_fees_2026-04.json",
    "gamma_market_closed_still_accepting_orders_2026-05.json",
    "gamma_market_negrisk_with_feeSchedule_2026-06.json",
    "gamma_market_v1_with_positionIds_and_feeSchedule_2026-08.json",
)
BLACKLIST_WORDS = re.compile(
    r"\b(vs|win|cup|btc|eth|sol|xrp|bitcoin|ethereum|solana|crypto|odds|score|spread)\b", re.I
)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def _fixture_markets() -> list[dict[str, Any]]:
    markets = [load_fixture(name) for name in MARKET_FIXTURES]
    return markets + load_fixture("gamma_markets_list_2026-01.json")


def _common_types(documents: list[dict[str, Any]]) -> dict[str, str]:
    common = set.intersection(*(set(d) for d in documents))
    types = {}
    for key in common:
        kinds = {_json_type(d[key]) for d in documents}
        assert len(kinds) == 1, key  # the fixtures agree on each shared key's type
        types[key] = kinds.pop()
    return types


@pytest.fixture(scope="module")
def universe() -> Universe:
    return Universe.generate(600, seed=11, now=NOW)


def test_every_market_has_the_keys_and_json_types_all_gamma_fixtures_share(universe):
    expected = _common_types(_fixture_markets())
    assert len(expected) > 55

    for market in universe.markets:
        document = orjson.loads(market.gamma_json())
        missing = set(expected) - set(document)
        assert not missing, (market.slug, missing)
        wrong = {
            k: _json_type(document[k]) for k in expected if _json_type(document[k]) != expected[k]
        }
        assert not wrong, (market.slug, wrong)


def test_market_wire_values_follow_gamma_conventions(universe):
    for market in universe.markets[:200]:
        doc = market.gamma()
        clob_ids, position_ids = json.loads(doc["clobTokenIds"]), doc["positionIds"]
        assert doc["version"] == market.version
        assert all(re.fullmatch(r"[1-9]\d{76}", t) for t in clob_ids)
        assert all(is_v2_position_id(p) for p in position_ids)
        traded = position_ids if market.version == "v2" else clob_ids
        assert tuple(traded) == (market.yes_token, market.no_token)
        assert re.fullmatch(r"0x[0-9a-f]{64}", doc["conditionId"])
        assert json.loads(doc["outcomes"]) == ["Yes", "No"]
        prices = [Decimal(p) for p in json.loads(doc["outcomePrices"])]
        assert sum(prices) == 1
        assert Decimal(doc["volume"]) == market.volume
        assert doc["volumeNum"] == float(market.volume)
        assert doc["orderPriceMinTickSize"] in (0.01, 0.001)
        assert doc["orderMinSize"] == 5
        assert datetime.fromisoformat(doc["endDate"].replace("Z", "+00:00")) == market.end_date
        assert doc["events"][0]["slug"] == market.event.slug
        if doc["feesEnabled"]:
            assert set(doc["feeSchedule"]) == {"exponent", "rate", "takerOnly", "rebateRate"}
        if market.neg_risk:
            assert doc["negRiskMarketID"] == market.event.neg_risk_market_id
            assert re.fullmatch(r"0x[0-9a-f]{64}", doc["negRiskRequestID"])
        else:
            assert doc["negRiskRequestID"] == ""


def test_events_have_the_keys_and_types_of_the_recorded_events(universe):
    recorded = load_fixture("gamma_events_negrisk_2026-03.json")
    for market in load_fixture("gamma_markets_list_2026-01.json"):
        recorded.extend(market["events"])
    expected = _common_types(recorded)

    for event in universe.events:
        document = orjson.loads(orjson.dumps(event.gamma()))
        assert {k: _json_type(document[k]) for k in expected} == expected
        assert [m["conditionId"] for m in document["markets"]] == [
            m.condition_id for m in event.markets
        ]
        assert all("events" not in m for m in document["markets"])
    assert "markets" not in universe.events[0].gamma(include_markets=False)


def test_negative_risk_events_group_several_markets_like_the_fixture(universe):
    groups = [e for e in universe.events if e.neg_risk]
    assert groups
    for event in groups:
        assert len(event.markets) >= 3
        doc = event.gamma()
        assert doc["negRisk"] and doc["enableNegRisk"]
        assert {m["negRiskMarketID"] for m in doc["markets"]} == {event.neg_risk_market_id}
        assert len({m["groupItemTitle"] for m in doc["markets"]}) == len(event.markets)
        assert 0.8 < sum(m.fair for m in event.markets) < 1.2


def test_resolved_markets_say_closed_with_one_zero_prices(universe):
    resolved = [m for m in universe.markets if m.closed]
    assert resolved
    for market in resolved:
        doc = market.gamma()
        assert doc["closed"] and not doc["acceptingOrders"]
        assert json.loads(doc["outcomePrices"]) in (["1", "0"], ["0", "1"])
        assert market.end_ms < NOW_MS


def test_the_mix_has_what_a_bot_must_meet(universe):
    markets = universe.markets
    active = [m for m in markets if m.tradable]
    assert {m.tick_size for m in active} == {Decimal("0.01"), Decimal("0.001")}
    assert any(not m.accepting_orders and not m.closed for m in markets)
    hours = [(m.end_ms - NOW_MS) / HOUR_MS for m in active]
    assert min(hours) < 12 and max(hours) > 24 * 60
    assert {m.category for m in markets} >= {"politics", "economics", "weather", "sports", "crypto"}
    for market in active:
        assert market.best_bid is not None and market.best_ask is not None
        spread = (market.best_ask - market.best_bid) / market.tick_size
        assert 1 <= spread <= 3


def _screenable(market) -> bool:
    """The shipped screener defaults: 5-48 h, favourite ask 0.955-0.995, volume >= 10k."""
    hours = (market.end_ms - NOW_MS) / HOUR_MS
    if not market.tradable or not 5 <= hours <= 48 or market.volume < 10_000:
        return False
    if BLACKLIST_WORDS.search(f"{market.question} {market.slug} {market.event.title}"):
        return False
    yes_ask, no_ask = market.best_ask, 1 - market.best_bid
    return any(Decimal("0.955") <= ask <= Decimal("0.995") for ask in (yes_ask, no_ask))


def test_a_healthy_share_of_active_markets_passes_the_shipped_filter(universe):
    active = [m for m in universe.markets if m.tradable]
    share = sum(_screenable(m) for m in active) / len(active)

    assert 0.06 < share < 0.25


def test_favourite_categories_never_use_blacklisted_words():
    big = Universe.generate(3000, seed=5, now=NOW)
    plain = [m for m in big.markets if m.category not in ("sports", "crypto")]
    flagged = [m.question for m in plain if BLACKLIST_WORDS.search(m.question)]

    assert not flagged
    assert any(BLACKLIST_WORDS.search(m.question) for m in big.markets if m.category == "sports")


def test_same_seed_and_now_give_the_same_bytes():
    first = Universe.generate(300, seed=3, now=NOW)
    second = Universe.generate(300, seed=3, now=NOW)
    other = Universe.generate(300, seed=4, now=NOW)

    assert [m.gamma_json() for m in first.markets] == [m.gamma_json() for m in second.markets]
    assert [m.condition_id for m in first.markets] != [m.condition_id for m in other.markets]


def test_lookups_and_unique_slugs(universe):
    market = universe.markets[17]
    assert universe.by_condition(market.condition_id) is market
    assert universe.by_token(market.yes_token) is universe.by_token(market.no_token) is market
    assert universe.by_slug(market.slug) is market
    assert universe.by_id(market.market_id) is market
    assert universe.event_by_slug(market.event.slug) is market.event
    assert len({m.slug for m in universe.markets}) == len(universe.markets)
    with pytest.raises(KeyError):
        universe.by_condition("0xnope")


def test_gamma_json_is_cached_until_the_market_changes():
    market = Universe.generate(5, seed=1, now=NOW).markets[0]
    cached = market.gamma_json()
    assert market.gamma_json() is cached

    market.set_quotes(market.best_bid, market.best_ask, market.last_trade_price, NOW_MS + 1)
    assert market.gamma_json() is cached

    market.set_quotes(Decimal("0.40"), Decimal("0.42"), Decimal("0.41"), NOW_MS + 2)
    fresh = orjson.loads(market.gamma_json())
    assert (fresh["bestBid"], fresh["bestAsk"], fresh["lastTradePrice"]) == (0.40, 0.42, 0.41)
    assert fresh["outcomePrices"] == '["0.41", "0.59"]'


def test_add_market_from_a_sim_api_body():
    universe = Universe.generate(5, seed=1, now=NOW)
    market = universe.add_market(
        {"question": "Will Oslo see snowfall by Friday?", "end_date": "2026-12-05T12:00:00Z",
         "yes_price": 0.97, "volume": 25000, "tick_size": "0.001", "event_slug": "oslo-snow"},
        NOW,
    )  # fmt: skip

    doc = market.gamma()
    assert doc["question"] == "Will Oslo see snowfall by Friday?"
    assert doc["endDate"] == "2026-12-05T12:00:00Z"
    assert doc["orderPriceMinTickSize"] == 0.001 and doc["volume"] == "25000"
    assert doc["events"][0]["slug"] == "oslo-snow"
    assert universe.by_slug(market.slug) is market and universe.markets[-1] is market
    assert market.best_ask is not None and market.best_ask > Decimal("0.96")


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({"end_date": "2026-12-05T12:00:00Z", "yes_price": 0.5, "volume": 1}, "question"),
        ({"question": "q?", "end_date": "soon", "yes_price": 0.5, "volume": 1}, "end_date"),
        ({"question": "q?", "end_date": "2026-12-05", "yes_price": 1.5, "volume": 1}, "yes_price"),
        ({"question": "q?", "end_date": "2026-12-05", "yes_price": 0.5}, "volume"),
        ({"question": "q?", "end_date": "2026-12-05", "yes_price": 0.5, "volume": 1,
          "tick_size": 0.05}, "tick_size"),
    ],
)  # fmt: skip
def test_add_market_rejects_bad_bodies_naming_the_key(body, key):
    universe = Universe.generate(2, seed=1, now=NOW)

    with pytest.raises(MarketSpecError, match=f"^{key}:"):
        universe.add_market(body, NOW)


def test_generating_20000_markets_is_fast():
    started = time.perf_counter()
    big = Universe.generate(20_000, seed=1, now=NOW)
    elapsed = time.perf_counter() - started

    assert len(big.markets) == 20_000
    assert elapsed < 5.0, f"generation took {elapsed:.2f} s"


def test_about_a_quarter_of_the_markets_are_protocol_v2(universe):
    share = sum(market.version == "v2" for market in universe.markets) / len(universe.markets)
    assert 0.15 < share < 0.35
