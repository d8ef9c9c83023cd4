"""Account-wide limits: one test per rule, the daily PnL day boundary, status-file reading."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from polymaker.autorun.limits import (
    AccountLimits,
    DailyPnl,
    LossAction,
    OpenBuy,
    TopicExposure,
    admit_launches,
    loss_action,
    markets_held,
    may_launch,
    total_exposure,
    worst_case_exposure,
)
from polymaker.autorun.limits_files import (
    load_daily_pnl,
    read_exposures,
    save_daily_pnl,
)
from polymaker.config.global_config import GlobalConfig
from polymaker.worker.status import StatusSnapshot, StatusWriter

D = Decimal
NOON = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def _held(topic: str, shares: str, entry: str, pnl: str = "0") -> TopicExposure:
    return TopicExposure(topic, position=D(shares), avg_entry=D(entry), realized_pnl=D(pnl))


def test_exposure_is_position_at_cost_plus_resting_buys() -> None:
    item = TopicExposure(
        "a", position=D(10), avg_entry=D("0.40"), open_buys=(OpenBuy(D("0.35"), D(20)),)
    )
    assert item.exposure == D("11.00")  # 10 * 0.40 + 20 * 0.35
    assert item.is_held


def test_unknown_entry_prices_a_share_at_one() -> None:
    assert TopicExposure("a", position=D(7)).exposure == D(7)


def test_flat_topic_without_buys_is_neither_held_nor_exposed() -> None:
    item = TopicExposure("a", realized_pnl=D("-3"))
    assert (item.exposure, item.is_held) == (D(0), False)


def test_worst_case_is_max_position_at_the_ask() -> None:
    assert worst_case_exposure(D(50), D("0.42")) == D("21.00")


def test_no_limits_allow_any_launch() -> None:
    decision = may_launch(AccountLimits(), [_held("a", "1000", "0.9")], "new", D(500), D(-1000))
    assert decision.allowed


def test_exposure_at_the_limit_stops_launches() -> None:
    limits = AccountLimits(max_total_exposure_usdc=D(100))
    at_limit = [_held("a", "100", "0.5"), _held("b", "100", "0.5")]
    assert total_exposure(at_limit) == D(100)
    decision = may_launch(limits, at_limit, "new", D("0.01"), D(0))
    assert not decision.allowed
    assert "max_total_exposure_usdc 100.00" in decision.reason


def test_launch_that_reaches_the_limit_exactly_is_allowed() -> None:
    limits = AccountLimits(max_total_exposure_usdc=D(100))
    assert may_launch(limits, [_held("a", "100", "0.6")], "new", D(40), D(0)).allowed
    assert not may_launch(limits, [_held("a", "100", "0.6")], "new", D("40.01"), D(0)).allowed


def test_resting_buys_count_toward_the_exposure_limit() -> None:
    limits = AccountLimits(max_total_exposure_usdc=D(50))
    resting = [TopicExposure("a", open_buys=(OpenBuy(D("0.5"), D(90)),))]
    assert not may_launch(limits, resting, "new", D(10), D(0)).allowed


def test_markets_held_at_the_cap_stops_launches() -> None:
    limits = AccountLimits(max_markets_held=2)
    two = [_held("a", "5", "0.5"), TopicExposure("b", open_buys=(OpenBuy(D("0.3"), D(5)),))]
    assert markets_held(two) == 2
    decision = may_launch(limits, two, "new", D(1), D(0))
    assert not decision.allowed and "max_markets_held is 2" in decision.reason
    assert may_launch(limits, [*two[:1], TopicExposure("c")], "new", D(1), D(0)).allowed


def test_loss_limit_pauses_launching() -> None:
    limits = AccountLimits(daily_loss_limit_usdc=D(25))
    assert loss_action(limits, D("-24.99")) is LossAction.NONE
    assert loss_action(limits, D("-25")) is LossAction.PAUSE
    decision = may_launch(limits, [], "new", D(1), D("-25"))
    assert not decision.allowed
    assert "daily loss limit reached: realized -25.00 USDC" in decision.reason


def test_loss_limit_flattens_when_configured() -> None:
    limits = AccountLimits(daily_loss_limit_usdc=D(25), flatten_on_daily_loss=True)
    assert loss_action(limits, D(-30)) is LossAction.FLATTEN
    assert loss_action(AccountLimits(), D(-(10**6))) is LossAction.NONE


def test_profit_never_trips_the_loss_limit() -> None:
    assert loss_action(AccountLimits(daily_loss_limit_usdc=D(1)), D(500)) is LossAction.NONE


def test_restart_of_a_held_topic_is_judged_by_what_it_adds() -> None:
    limits = AccountLimits(max_total_exposure_usdc=D(30), max_markets_held=2)
    held = [_held("a", "40", "0.5"), _held("b", "10", "0.5")]  # 20 + 5 USDC, 2 held
    restart = may_launch(limits, held, "a", D(20), D(0))  # a's worst case is what it holds
    assert restart.allowed, restart.reason
    assert not may_launch(limits, held, "a", D("25.01"), D(0)).allowed
    assert not may_launch(limits, held, "c", D(1), D(0)).allowed  # a third market


def test_reservations_of_running_workers_count_as_exposure_and_held() -> None:
    limits = AccountLimits(max_total_exposure_usdc=D(100), max_markets_held=3)
    running = {"a": D(40), "b": D(40)}  # launched, nothing bought yet
    decision = may_launch(limits, [], "c", D(25), D(0), running)
    assert not decision.allowed and "exposure 80.00 + 25.00" in decision.reason
    limits = AccountLimits(max_markets_held=2)
    assert not may_launch(limits, [], "c", D(1), D(0), running).allowed


def test_admit_launches_books_each_admitted_topic_before_the_next() -> None:
    limits = AccountLimits(max_total_exposure_usdc=D(100))
    decisions = admit_launches(
        limits,
        [_held("a", "50", "0.6")],
        [("b", D(40)), ("c", D(40)), ("d", D(31)), ("e", D(30))],
        D(0),
    )
    assert [decisions[t].allowed for t in "bcde"] == [True, False, False, True]
    assert "exposure 70.00 + 40.00" in decisions["c"].reason


def test_admit_launches_counts_admitted_topics_as_held() -> None:
    decisions = admit_launches(
        AccountLimits(max_markets_held=2), [], [("a", D(5)), ("b", D(5)), ("c", D(5))], D(0)
    )
    assert [decisions[t].allowed for t in "abc"] == [True, True, False]


def test_limits_come_from_the_global_config() -> None:
    config = GlobalConfig.model_validate(
        {"max_total_exposure_usdc": "250", "max_markets_held": 4, "daily_loss_limit_usdc": 30}
    )
    assert AccountLimits.from_config(config) == AccountLimits(D(250), 4, D(30), False)


def _run(topic: str, pid: int, pnl: str, started: datetime) -> TopicExposure:
    return TopicExposure(topic, realized_pnl=D(pnl), pid=pid, started_at=started)


def test_daily_pnl_sums_runs_started_today_from_zero() -> None:
    tracker = DailyPnl.starting(NOON)
    morning = NOON - timedelta(hours=3)
    tracker.observe([_run("a", 1, "-4", morning), _run("b", 2, "1.5", morning)], NOON)
    assert tracker.realized_today == D("-2.5")


def test_daily_pnl_keeps_a_finished_run_after_its_file_is_overwritten() -> None:
    tracker = DailyPnl.starting(NOON)
    morning = NOON - timedelta(hours=3)
    tracker.observe([_run("a", 1, "-4", morning)], NOON)
    later = NOON + timedelta(minutes=5)
    tracker.observe([_run("a", 2, "-1", later)], later)  # restarted worker, new pid, new file
    assert tracker.realized_today == D(-5)


def test_daily_pnl_counts_a_run_from_yesterday_from_its_first_value_today() -> None:
    tracker = DailyPnl.starting(NOON)
    tracker.observe([_run("a", 1, "-40", NOON - timedelta(days=1))], NOON)
    assert tracker.realized_today == D(0)
    tracker.observe([_run("a", 1, "-43", NOON - timedelta(days=1))], NOON)
    assert tracker.realized_today == D(-3)


def test_daily_pnl_starts_over_at_midnight_utc() -> None:
    before = datetime(2026, 12, 3, 23, 59, 59, tzinfo=UTC)
    tracker = DailyPnl.starting(before)
    started = before - timedelta(hours=1)
    tracker.observe([_run("a", 1, "-9", started)], before)
    assert tracker.realized_today == D(-9)
    after = before + timedelta(seconds=2)
    tracker.observe([_run("a", 1, "-9", started)], after)
    assert (tracker.day.isoformat(), tracker.realized_today) == ("2026-12-04", D(0))
    tracker.observe([_run("a", 1, "-10", started)], after)
    assert tracker.realized_today == D(-1)


def test_daily_pnl_survives_a_supervisor_restart_on_the_same_day(tmp_path: Path) -> None:
    path = tmp_path / "daily_pnl.json"
    tracker = DailyPnl.starting(NOON)
    tracker.observe([_run("a", 1, "-7.25", NOON - timedelta(hours=1))], NOON)
    save_daily_pnl(path, tracker)
    again = load_daily_pnl(path, NOON + timedelta(hours=1))
    assert again.realized_today == D("-7.25")
    assert load_daily_pnl(path, NOON + timedelta(days=1)).realized_today == D(0)


def test_unreadable_daily_pnl_file_starts_afresh(tmp_path: Path) -> None:
    path = tmp_path / "daily_pnl.json"
    path.write_text('{"day": "2026-12-03", "runs": {"a:1": {"baseline": "x"}}}')
    assert load_daily_pnl(path, NOON).runs == {}


def test_read_exposures_from_worker_status_files(tmp_path: Path) -> None:
    status_dir = tmp_path / "status"
    snapshot = StatusSnapshot(
        topic_id="t-1", mode="drill", condition_id="0xc", token_id="1", side="YES"
    )
    snapshot.position = D(10)
    snapshot.avg_entry = D("0.40")
    snapshot.realized_pnl = D("-1.5")
    snapshot.open_orders = [
        {"order_id": "0x1", "side": "BUY", "price": "0.30", "size": "10", "size_matched": "4"},
        {"order_id": "0x2", "side": "SELL", "price": "0.50", "size": "10", "size_matched": "0"},
    ]
    StatusWriter(status_dir / "t-1.json", pid=4242).write(snapshot, now=NOON)
    read = read_exposures(status_dir)
    [item] = read.exposures
    assert (item.topic_id, item.pid, item.realized_pnl) == ("t-1", 4242, D("-1.5"))
    assert item.exposure == D("5.80")  # 10 * 0.40 + 6 remaining * 0.30; the sell is not exposure
    assert item.started_at is not None and read.skipped == ()


def test_read_exposures_skips_missing_and_partial_files(tmp_path: Path) -> None:
    status_dir = tmp_path / "status"
    status_dir.mkdir()
    (status_dir / "half.json").write_text('{"topic_id": "half", "posit')
    (status_dir / "bad.json").write_text(json.dumps({"topic_id": "bad", "position": "NaN"}))
    (status_dir / "ok.json").write_text(
        json.dumps({"topic_id": "ok", "position": "2", "avg_entry": None, "realized_pnl": "0"})
    )
    read = read_exposures(status_dir)
    assert [item.topic_id for item in read.exposures] == ["ok"]
    reasons = {skip.path.name: skip.reason for skip in read.skipped}
    assert set(reasons) == {"half.json", "bad.json"}
    assert "not finite" in reasons["bad.json"]
    assert read_exposures(tmp_path / "nowhere").exposures == ()
