"""One test per edge of the state table, each taken through the ledger (the only mutation point)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from polymaker.autorun.ledger import Ledger, LedgerEntry
from polymaker.autorun.states import ALLOWED_FROM, TopicState, TransitionError, is_allowed

S = TopicState
T = "topic-a"
PATHS: dict[TopicState, list[TopicState]] = {
    S.QUEUED: [],
    S.STARTING: [S.STARTING],
    S.RUNNING: [S.STARTING, S.RUNNING],
    S.BACKOFF: [S.STARTING, S.BACKOFF],
    S.STOPPING: [S.STARTING, S.RUNNING, S.STOPPING],
    S.STOPPED: [S.STOPPED],
    S.FINISHED: [S.STARTING, S.FINISHED],
    S.FAILED: [S.STARTING, S.FAILED],
}


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def _at(tmp_path, state: TopicState) -> Ledger:
    ledger = Ledger.load(tmp_path / "handled_topics.json", "drill", clock=FakeClock())
    ledger.enqueue(T, reason="screened")
    for step in PATHS[state]:
        _take(ledger, step)
    assert ledger.get(T).state is state
    return ledger


def _take(ledger: Ledger, new: TopicState, **extra) -> LedgerEntry:
    if new is S.BACKOFF:
        extra.setdefault("next_start_at", datetime(2026, 12, 3, 13, 0, tzinfo=UTC))
    return ledger.transition(T, new, reason=f"to {new}", **extra)


def _edge(tmp_path, old: TopicState, new: TopicState, **extra) -> tuple[Ledger, LedgerEntry]:
    ledger = _at(tmp_path, old)
    entry = _take(ledger, new, **extra)
    assert entry.state is new
    assert (entry.history[-1].old, entry.history[-1].new) == (old, new)
    assert Ledger.load(ledger.path, "drill").get(T) == entry  # saved at once
    return ledger, entry


def test_transition_queued_to_starting(tmp_path):
    ledger, entry = _edge(tmp_path, S.QUEUED, S.STARTING)
    assert entry.starts == 1 and entry.last_started is not None
    assert ledger.queue == ()


def test_transition_backoff_to_starting(tmp_path):
    _, entry = _edge(tmp_path, S.BACKOFF, S.STARTING)
    assert entry.starts == 2 and entry.attempts == 1 and entry.next_start_at is None


def test_transition_starting_to_running(tmp_path):
    _edge(tmp_path, S.STARTING, S.RUNNING)


def test_transition_starting_to_backoff(tmp_path):
    _, entry = _edge(tmp_path, S.STARTING, S.BACKOFF, exit_code=1)
    assert entry.attempts == 1 and entry.next_start_at is not None
    assert entry.last_exit_code == 1 and entry.last_exit is not None


def test_transition_running_to_backoff(tmp_path):
    _, entry = _edge(tmp_path, S.RUNNING, S.BACKOFF, exit_code=-9)
    assert entry.attempts == 1


def test_transition_stopping_to_backoff_after_stale_heartbeat(tmp_path):
    _, entry = _edge(tmp_path, S.STOPPING, S.BACKOFF, exit_code=-15)
    assert not entry.stopped_by_user


def test_transition_starting_to_stopping(tmp_path):
    _edge(tmp_path, S.STARTING, S.STOPPING)


def test_transition_running_to_stopping(tmp_path):
    _edge(tmp_path, S.RUNNING, S.STOPPING)


def test_transition_stopping_to_stopped(tmp_path):
    _, entry = _edge(tmp_path, S.STOPPING, S.STOPPED, exit_code=0)
    assert entry.stopped_by_user


def test_transition_queued_to_stopped(tmp_path):
    ledger, entry = _edge(tmp_path, S.QUEUED, S.STOPPED)
    assert entry.stopped_by_user and ledger.queue == ()


def test_transition_backoff_to_stopped(tmp_path):
    _, entry = _edge(tmp_path, S.BACKOFF, S.STOPPED)
    assert entry.stopped_by_user and entry.next_start_at is None


def test_transition_starting_to_finished(tmp_path):
    _, entry = _edge(tmp_path, S.STARTING, S.FINISHED, exit_code=0)
    assert entry.last_exit_code == 0


def test_transition_running_to_finished(tmp_path):
    _edge(tmp_path, S.RUNNING, S.FINISHED, exit_code=0)


def test_transition_stopping_to_finished(tmp_path):
    _edge(tmp_path, S.STOPPING, S.FINISHED, exit_code=0)


def test_transition_starting_to_failed(tmp_path):
    _, entry = _edge(tmp_path, S.STARTING, S.FAILED, exit_code=2)
    assert entry.last_exit_code == 2


def test_transition_running_to_failed(tmp_path):
    _edge(tmp_path, S.RUNNING, S.FAILED, exit_code=3)


def test_transition_stopping_to_failed(tmp_path):
    _edge(tmp_path, S.STOPPING, S.FAILED, exit_code=2)


def test_transition_backoff_to_failed_past_max_retries(tmp_path):
    _edge(tmp_path, S.BACKOFF, S.FAILED)


def test_transition_failed_to_queued_on_retry(tmp_path):
    ledger, entry = _edge(tmp_path, S.FAILED, S.QUEUED)
    assert ledger.queue == (T,) and entry.attempts == 0


def test_transition_stopped_to_queued_clears_stopped_by_user(tmp_path):
    ledger, entry = _edge(tmp_path, S.STOPPED, S.QUEUED)
    assert not entry.stopped_by_user and ledger.queue == (T,)


def test_transition_finished_to_queued_with_ignore_history(tmp_path):
    ledger, _ = _edge(tmp_path, S.FINISHED, S.QUEUED)
    assert ledger.queue == (T,)


def test_transition_backoff_to_queued_resets_attempts(tmp_path):
    _, entry = _edge(tmp_path, S.BACKOFF, S.QUEUED)
    assert entry.attempts == 0 and entry.next_start_at is None


def test_transition_starting_to_queued_on_recovery(tmp_path):
    _edge(tmp_path, S.STARTING, S.QUEUED)


def test_transition_running_to_queued_on_recovery(tmp_path):
    _edge(tmp_path, S.RUNNING, S.QUEUED)


def test_transition_stopping_to_queued_on_recovery(tmp_path):
    _edge(tmp_path, S.STOPPING, S.QUEUED)


def test_every_edge_of_the_table_has_its_test():
    names = set(globals())
    missing = [
        f"{old}_to_{new}"
        for new, olds in ALLOWED_FROM.items()
        for old in olds
        if not any(name.startswith(f"test_transition_{old}_to_{new}") for name in names)
    ]
    assert missing == []


FORBIDDEN = [(old, new) for old in S for new in S if not is_allowed(old, new)]


@pytest.mark.parametrize(("old", "new"), FORBIDDEN, ids=[f"{o}-{n}" for o, n in FORBIDDEN])
def test_forbidden_transition_raises_and_changes_nothing(tmp_path, old, new):
    ledger = _at(tmp_path, old)
    before = ledger.get(T)
    with pytest.raises(TransitionError, match=f"{old} -> {new}"):
        _take(ledger, new)
    assert ledger.get(T) == before
    assert Ledger.load(ledger.path, "drill").get(T) == before


def test_backoff_needs_a_restart_time(tmp_path):
    ledger = _at(tmp_path, S.STARTING)
    with pytest.raises(ValueError, match="next_start_at"):
        ledger.transition(T, S.BACKOFF, reason="crash")
    assert ledger.get(T).state is S.STARTING
