"""--faults SPEC parsing and the pure fault decisions the drill server calls."""

from __future__ import annotations

import random

import pytest

from polymaker.drill.faults import (
    HTTP_FAULT_MESSAGES,
    ORDER_REJECT_MESSAGES,
    FaultPlan,
    Scope,
    TimePattern,
    parse_duration_ms,
    parse_faults,
)
from polymaker.errors import ConfigError

EXAMPLE = (
    "http500=0.05,http429=0.02@/book,latency=20ms,ws_disconnect=every:30s,"
    "ws_silence=after:60s,reject=0.1@POST /order,http425=schedule:10s-20s"
)


def test_example_spec_parses_into_rules():
    plan = parse_faults(EXAMPLE, start_ms=1_000)

    assert [(r.status, r.scope) for r in plan.http] == [
        (500, Scope(None, "*")),
        (429, Scope(None, "/book")),
        (425, Scope(None, "*")),
    ]
    assert plan.http[0].trigger.probability == 0.05
    assert plan.http[2].trigger.pattern == TimePattern(windows=((10_000, 20_000),))
    assert plan.latency[0].low_ms == plan.latency[0].high_ms == 20
    assert plan.ws_disconnect == TimePattern(period_ms=30_000)
    assert plan.ws_silence == TimePattern(windows=((60_000, None),))
    assert plan.reject is not None and plan.reject.probability == pytest.approx(0.1)
    assert plan.reject_scope == Scope("POST", "/order")
    assert plan.start_ms == 1_000


def test_empty_spec_is_a_plan_without_faults():
    plan = parse_faults("")
    rng = random.Random(1)

    assert plan == FaultPlan()
    assert plan.http_fault("GET", "/book", rng, 0) is None
    assert plan.latency_ms("GET", "/book", rng) == 0
    assert not plan.ws_should_disconnect(10**9, 10**9)
    assert not plan.ws_silent(10**9)
    assert plan.order_reject(rng) is None


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("http500=1.5", "outside [0, 1]"),
        ("reject=-0.1", "outside [0, 1]"),
        ("http500=abc", "bad probability"),
        ("latency=-5ms", "negative duration"),
        ("latency=20", "bad duration"),
        ("latency=50ms-10ms", "invalid"),
        ("explode=0.1", "unknown key 'explode'"),
        ("http500", "expected KEY=VALUE"),
        ("ws_silence=0.5", "unknown value"),
        ("ws_silence=after:1s@/book", "takes no @scope"),
        ("http425=schedule:20s-10s", "empty or negative"),
        ("http425=schedule:10s", "needs START-END"),
        ("http500=0.1@book", "must be a path glob"),
        ("ws_disconnect=every:1s,ws_disconnect=every:2s", "given twice"),
    ],
)
def test_bad_items_are_config_errors_naming_the_item(spec, fragment):
    with pytest.raises(ConfigError) as caught:
        parse_faults(spec)

    assert fragment in str(caught.value)
    bad_item = spec.split(",")[-1]
    assert repr(bad_item) in str(caught.value)
    assert caught.value.key == "faults"


@pytest.mark.parametrize(
    ("text", "ms"), [("20ms", 20), ("1.5s", 1500), ("2m", 120_000), ("1h", 3_600_000)]
)
def test_durations(text, ms):
    assert parse_duration_ms(text, "x") == ms


def test_http_fault_rate_is_close_to_the_probability():
    plan = parse_faults("http500=0.2")
    rng = random.Random(42)

    hits = sum(plan.http_fault("GET", "/markets", rng, 0) is not None for _ in range(10_000))

    assert 1700 < hits < 2300  # 0.2 * 10k = 2000, sd = 40


def test_http_fault_respects_scope_method_and_glob():
    plan = parse_faults("http500=1@POST /order*,http429=1@/book")
    rng = random.Random(1)

    assert plan.http_fault("POST", "/orders", rng, 0).status == 500
    assert plan.http_fault("DELETE", "/order", rng, 0) is None
    assert plan.http_fault("GET", "/books", rng, 0) is None
    fault = plan.http_fault("GET", "/book", rng, 0)
    assert (fault.status, fault.retry_after_s) == (429, 1)
    assert fault.body() == {"error": HTTP_FAULT_MESSAGES[429]}


def test_retry_after_key_sets_the_429_header_value():
    plan = parse_faults("http429=1,retry_after=3s")

    assert plan.http_fault("GET", "/book", random.Random(1), 0).retry_after_s == 3


def test_scheduled_fault_is_active_only_inside_its_window_relative_to_start():
    plan = parse_faults("http425=schedule:10s-20s;30s-31s", start_ms=5_000)
    rng = random.Random(1)

    def active(now_ms: int) -> bool:
        return plan.http_fault("GET", "/x", rng, now_ms) is not None

    assert not active(5_000 + 9_999)
    assert active(5_000 + 10_000)
    assert active(5_000 + 19_999)
    assert not active(5_000 + 20_000)
    assert active(5_000 + 30_500)
    assert plan.http_fault("GET", "/x", rng, 15_000).message == HTTP_FAULT_MESSAGES[425]


def test_periodic_pattern_with_duty():
    plan = parse_faults("http503=every:10s/2s")
    rng = random.Random(1)

    assert [
        plan.http_fault("GET", "/", rng, t) is not None for t in (0, 5_000, 10_000, 11_999)
    ] == [
        False,
        False,
        True,
        True,
    ]
    assert plan.http_fault("GET", "/", rng, 12_000) is None


def test_latency_range_is_uniform_within_bounds_and_scoped():
    plan = parse_faults("latency=10ms-30ms@/book,latency=5ms")
    rng = random.Random(7)

    draws = [plan.latency_ms("GET", "/book", rng) for _ in range(500)]

    assert min(draws) >= 15 and max(draws) <= 35
    assert len(set(draws)) > 10
    assert plan.latency_ms("GET", "/markets", rng) == 5


def test_ws_disconnect_every_is_by_connection_age():
    plan = parse_faults("ws_disconnect=every:30s")

    assert not plan.ws_should_disconnect(29_999, 10**9)
    assert plan.ws_should_disconnect(30_000, 0)


def test_ws_disconnect_schedule_is_by_time_since_start():
    plan = parse_faults("ws_disconnect=schedule:1m-2m", start_ms=100)

    assert not plan.ws_should_disconnect(0, 100 + 59_999)
    assert plan.ws_should_disconnect(0, 100 + 60_000)


def test_ws_silence_after_and_schedule():
    after = parse_faults("ws_silence=after:60s")
    window = parse_faults("ws_silence=schedule:10s-20s")

    assert not after.ws_silent(59_999) and after.ws_silent(60_000) and after.ws_silent(10**9)
    assert not window.ws_silent(9_999) and window.ws_silent(10_000) and not window.ws_silent(20_000)


def test_order_reject_rate_and_venue_messages():
    plan = parse_faults("reject=25%")
    rng = random.Random(3)

    results = [plan.order_reject(rng) for _ in range(4_000)]
    rejected = [r for r in results if r is not None]

    assert 800 < len(rejected) < 1200  # 1000 expected, sd ~ 27
    assert set(rejected) <= set(ORDER_REJECT_MESSAGES)
    assert len(set(rejected)) == len(ORDER_REJECT_MESSAGES)
    assert plan.order_reject(rng, path="/cancel-all") is None


def test_same_seed_same_decisions():
    plan = parse_faults("http500=0.3,reject=0.3,latency=1ms-100ms")

    def run() -> list[object]:
        rng = random.Random(99)
        return [
            (plan.http_fault("GET", "/a", rng, 0), plan.latency_ms("GET", "/a", rng),
             plan.order_reject(rng))
            for _ in range(50)
        ]  # fmt: skip

    assert run() == run()


def test_starting_at_moves_the_schedule_to_the_server_start():
    plan = parse_faults("ws_silence=schedule:10s-20s").starting_at(1_700_000_000_000)

    assert not plan.ws_silent(1_700_000_000_000 + 9_000)
    assert plan.ws_silent(1_700_000_000_000 + 10_000)
