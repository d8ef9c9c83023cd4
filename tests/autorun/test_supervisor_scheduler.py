"""The pure start decisions: cap (restarts count), FIFO queue, due restarts first, pause."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from polymaker.autorun.ledger import LedgerEntry
from polymaker.autorun.scheduler import due_restarts, free_slots, plan_starts
from polymaker.autorun.states import TopicState

NOW = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)


def _entry(topic: str, state: TopicState, next_start_in_s: float | None = None) -> LedgerEntry:
    next_start = None if next_start_in_s is None else NOW + timedelta(seconds=next_start_in_s)
    return LedgerEntry(
        topic_id=topic, state=state, first_seen=NOW, last_change=NOW, next_start_at=next_start
    )


def _plan(queue: list[str], entries: list[LedgerEntry] = (), **kw: object) -> tuple[str, ...]:  # type: ignore[assignment]
    options = {"in_use": 0, "cap": 2, "paused": False, "launchable": lambda _t: True}
    options.update(kw)
    return plan_starts(queue=queue, entries=entries, now=NOW, **options).start  # type: ignore[arg-type]


def test_the_queue_starts_in_fifo_order_up_to_the_cap() -> None:
    assert _plan(["a", "b", "c"]) == ("a", "b")
    assert _plan(["a", "b", "c"], in_use=1) == ("a",)
    assert _plan(["a", "b", "c"], in_use=2) == ()


def test_a_lowered_cap_starts_nothing_and_stops_nothing() -> None:
    assert free_slots(cap=1, in_use=3) == 0
    assert _plan(["a"], cap=1, in_use=3) == ()


def test_due_restarts_go_first_and_count_against_the_cap() -> None:
    entries = [_entry("late", TopicState.BACKOFF, -1), _entry("early", TopicState.BACKOFF, -5)]
    assert due_restarts(entries, NOW) == ["early", "late"]
    assert _plan(["q1", "q2"], entries) == ("early", "late")
    assert _plan(["q1", "q2"], entries, cap=3) == ("early", "late", "q1")


def test_a_restart_that_is_not_due_waits() -> None:
    entries = [_entry("soon", TopicState.BACKOFF, 10)]
    assert _plan(["q1"], entries) == ("q1",)


def test_paused_starts_nothing() -> None:
    assert _plan(["a"], [_entry("b", TopicState.BACKOFF, -1)], paused=True) == ()


def test_topics_without_details_wait_without_taking_a_slot() -> None:
    plan = plan_starts(
        queue=["unknown", "a", "b"], entries=[], in_use=0, cap=2, now=NOW, paused=False,
        launchable=lambda topic: topic != "unknown",
    )  # fmt: skip
    assert plan.start == ("a", "b") and plan.waiting_for_details == ("unknown",)


def test_a_busy_topic_is_never_started_twice() -> None:
    assert _plan(["a", "b"], busy=lambda topic: topic == "a") == ("b",)


def test_a_crashed_topic_in_backoff_keeps_its_slot_from_the_queue() -> None:
    crashed = [_entry("crashed", TopicState.BACKOFF, 30)]
    assert _plan(["q1"], crashed, in_use=1) == (), "the slot waits for the restart"
    assert _plan(["q1", "q2"], crashed, cap=3, in_use=1) == ("q1",)


def test_a_due_restart_takes_its_held_slot_before_the_queue() -> None:
    crashed = [_entry("crashed", TopicState.BACKOFF, -1)]
    assert _plan(["q1"], crashed, in_use=1) == ("crashed",)


def test_a_busy_backoff_topic_holds_no_second_slot() -> None:
    crashed = [_entry("crashed", TopicState.BACKOFF, 30)]
    assert _plan(["q1"], crashed, in_use=1, busy=lambda topic: topic == "crashed") == ("q1",)
