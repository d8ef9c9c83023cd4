"""State groups, exit classification and the restart backoff."""

from __future__ import annotations

import random

import pytest

from polymaker.autorun.states import (
    ACTIVE_STATES,
    ALLOWED_FROM,
    TERMINAL_STATES,
    WAITING_STATES,
    TopicState,
    classify_exit,
    describe_exit,
    restart_delay_s,
)

S = TopicState


def test_groups_partition_the_states():
    assert set(S) == ACTIVE_STATES | WAITING_STATES | TERMINAL_STATES
    assert not ACTIVE_STATES & WAITING_STATES
    assert not ACTIVE_STATES & TERMINAL_STATES
    assert not WAITING_STATES & TERMINAL_STATES


def test_table_covers_every_state_and_values_are_the_contract_names():
    assert set(ALLOWED_FROM) == set(S)
    assert {str(state) for state in S} == {
        "queued",
        "starting",
        "running",
        "backoff",
        "stopping",
        "stopped",
        "finished",
        "failed",
    }


def test_exit_zero_is_finished():
    outcome = classify_exit(0, retries_done=0, max_retries=3)
    assert outcome.state is S.FINISHED and not outcome.will_retry


@pytest.mark.parametrize(("code", "words"), [(2, "invalid worker params"), (3, "not tradable")])
def test_exit_two_and_three_fail_without_retry(code, words):
    outcome = classify_exit(code, retries_done=0, max_retries=3)
    assert outcome.state is S.FAILED
    assert words in outcome.reason and "not retried" in outcome.reason


@pytest.mark.parametrize("code", [1, 4, 70, 137, -9, -11])
def test_other_exits_back_off_while_retries_remain(code):
    outcome = classify_exit(code, retries_done=2, max_retries=3)
    assert outcome.state is S.BACKOFF and outcome.will_retry
    assert "retry 3 of 3" in outcome.reason


def test_other_exit_fails_past_max_retries():
    outcome = classify_exit(1, retries_done=3, max_retries=3)
    assert outcome.state is S.FAILED
    assert "gave up after 3 retries" in outcome.reason


def test_zero_max_retries_never_backs_off():
    assert classify_exit(1, retries_done=0, max_retries=0).state is S.FAILED


@pytest.mark.parametrize("code", [0, 1, 2, -9])
def test_requested_stop_is_stopped_whatever_the_code(code):
    outcome = classify_exit(code, retries_done=0, max_retries=3, stop_requested=True)
    assert outcome.state is S.STOPPED


def test_describe_exit_names_signals():
    assert describe_exit(-9) == "killed by SIGKILL"
    assert describe_exit(-15) == "killed by SIGTERM"
    assert describe_exit(1) == "exit code 1"
    assert describe_exit(-200) == "killed by signal 200"


def test_backoff_doubles_and_stays_within_equal_jitter_bounds():
    rng = random.Random(7)
    for retry, capped in [(1, 5.0), (2, 10.0), (3, 20.0), (4, 40.0), (8, 300.0), (30, 300.0)]:
        delays = [restart_delay_s(retry, base_s=5, max_s=300, rng=rng) for _ in range(200)]
        assert min(delays) >= capped / 2
        assert max(delays) <= capped
        assert max(delays) - min(delays) > capped / 4  # really jittered


def test_backoff_is_deterministic_for_a_seed():
    first = [restart_delay_s(n, base_s=2, max_s=60, rng=random.Random(1)) for n in (1, 2, 3)]
    again = [restart_delay_s(n, base_s=2, max_s=60, rng=random.Random(1)) for n in (1, 2, 3)]
    assert first == again


def test_backoff_retry_numbers_start_at_one():
    with pytest.raises(ValueError):
        restart_delay_s(0, base_s=1, max_s=10, rng=random.Random(0))
