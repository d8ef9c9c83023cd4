"""Topic lifecycle states, the allowed transitions, and how a worker's exit is classified.

supervisord's state names in our contract's lowercase (style rule 10): ``queued`` (ours),
``starting``, ``running``, ``backoff``, ``stopping``, ``stopped``, ``finished`` (supervisord's
expected ``EXITED``) and ``failed`` (its ``FATAL``, or an exit we must not retry). Everything here
is pure: no I/O, no clock; the randomness of the backoff comes in as a ``random.Random``.
"""

from __future__ import annotations

import random
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from polymaker.errors import PolymakerError
from polymaker.exchange.retry import RetryPolicy, backoff_delay


class TopicState(StrEnum):
    """Where one topic (market) is in its life under the supervisor."""

    QUEUED = "queued"  # waiting in the FIFO queue for a free worker slot
    STARTING = "starting"  # process spawned, no heartbeat yet
    RUNNING = "running"  # heartbeat seen
    BACKOFF = "backoff"  # exited abnormally; restarts after a delay
    STOPPING = "stopping"  # SIGTERM sent, waiting for the exit (SIGKILL after stop_timeout_s)
    STOPPED = "stopped"  # stopped on request; never restarted by itself
    FINISHED = "finished"  # exit 0: market ended, sell-only done
    FAILED = "failed"  # exit 2/3, or retries exhausted; never restarted by itself


ACTIVE_STATES: frozenset[TopicState] = frozenset(
    {TopicState.STARTING, TopicState.RUNNING, TopicState.STOPPING}
)
"""A worker process exists (or may still exist): these occupy a concurrency slot."""

WAITING_STATES: frozenset[TopicState] = frozenset({TopicState.QUEUED, TopicState.BACKOFF})
"""No process, but the supervisor will start one later by itself."""

TERMINAL_STATES: frozenset[TopicState] = frozenset(
    {TopicState.STOPPED, TopicState.FINISHED, TopicState.FAILED}
)
"""No process and nothing scheduled; only a command (retry, ignore_history) moves these."""

SIGNALLABLE_STATES: frozenset[TopicState] = frozenset({TopicState.STARTING, TopicState.RUNNING})
"""States in which a stop request sends SIGTERM (``stopping`` already has)."""

STOPPABLE_STATES: frozenset[TopicState] = (
    SIGNALLABLE_STATES | WAITING_STATES | frozenset({TopicState.STOPPING})
)
"""States a ``stop`` command accepts; a terminal topic answers ``not_running``."""

RETRYABLE_STATES: frozenset[TopicState] = frozenset(
    {TopicState.FAILED, TopicState.STOPPED, TopicState.BACKOFF}
)
"""States a ``retry`` command accepts (it moves the topic to the back of the queue)."""

ALLOWED_FROM: Mapping[TopicState, frozenset[TopicState]] = {
    # retry / ignore_history re-queue a terminal topic; a backoff may be retried at once;
    # the recovery edges from the active states apply when a new supervisor finds topics that
    # its dead predecessor left active (their process group is gone or is reaped first).
    TopicState.QUEUED: frozenset(
        {
            TopicState.STOPPED,
            TopicState.FINISHED,
            TopicState.FAILED,
            TopicState.BACKOFF,
            TopicState.STARTING,
            TopicState.RUNNING,
            TopicState.STOPPING,
        }
    ),
    TopicState.STARTING: frozenset({TopicState.QUEUED, TopicState.BACKOFF}),
    TopicState.RUNNING: frozenset({TopicState.STARTING}),
    # STOPPING -> BACKOFF: the supervisor killed a worker whose heartbeat went stale.
    TopicState.BACKOFF: frozenset({TopicState.STARTING, TopicState.RUNNING, TopicState.STOPPING}),
    TopicState.STOPPING: frozenset({TopicState.STARTING, TopicState.RUNNING}),
    # QUEUED/BACKOFF -> STOPPED: a stop command on a topic without a process.
    TopicState.STOPPED: frozenset({TopicState.STOPPING, TopicState.QUEUED, TopicState.BACKOFF}),
    TopicState.FINISHED: frozenset({TopicState.STARTING, TopicState.RUNNING, TopicState.STOPPING}),
    TopicState.FAILED: frozenset(
        {TopicState.STARTING, TopicState.RUNNING, TopicState.STOPPING, TopicState.BACKOFF}
    ),
}
"""For each target state, the source states it may be entered from (checked on every change)."""


class TransitionError(PolymakerError):
    """A state change that the table does not allow: a supervisor bug, never a user error."""

    def __init__(self, topic_id: str, old: TopicState, new: TopicState):
        self.topic_id = topic_id
        self.old = old
        self.new = new
        super().__init__(f"topic {topic_id}: transition {old} -> {new} is not allowed")


def is_allowed(old: TopicState, new: TopicState) -> bool:
    """True when ``old -> new`` is an edge of ``ALLOWED_FROM``."""
    return old in ALLOWED_FROM[new]


def check_transition(topic_id: str, old: TopicState, new: TopicState) -> None:
    """Raise ``TransitionError`` unless ``old -> new`` is allowed."""
    if not is_allowed(old, new):
        raise TransitionError(topic_id, old, new)


EXIT_FINISHED = 0
EXIT_INVALID_PARAMS = 2
EXIT_NOT_TRADABLE = 3
NO_RETRY_EXIT_CODES: frozenset[int] = frozenset({EXIT_INVALID_PARAMS, EXIT_NOT_TRADABLE})


@dataclass(frozen=True)
class ExitOutcome:
    """What a worker's exit means: the next state and a readable reason for the ledger."""

    state: TopicState
    reason: str

    @property
    def will_retry(self) -> bool:
        """True when the supervisor restarts the topic after a backoff delay."""
        return self.state is TopicState.BACKOFF


def describe_exit(returncode: int) -> str:
    """``exit code 1`` or ``killed by SIGKILL`` (Popen reports a signal as -signum)."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"killed by {name}"
    return f"exit code {returncode}"


def classify_exit(
    returncode: int, *, retries_done: int, max_retries: int, stop_requested: bool = False
) -> ExitOutcome:
    """Map a worker's return code to the next state (style rule 11).

    A stop the user asked for ends in ``stopped`` whatever the code. Otherwise 0 -> finished,
    2 (invalid params) or 3 (market not tradable) -> failed without retry, anything else ->
    backoff while ``retries_done < max_retries``, then failed.
    """
    what = describe_exit(returncode)
    if stop_requested:
        return ExitOutcome(TopicState.STOPPED, f"stopped on request ({what})")
    if returncode == EXIT_FINISHED:
        return ExitOutcome(TopicState.FINISHED, "finished (exit code 0)")
    if returncode == EXIT_INVALID_PARAMS:
        return ExitOutcome(TopicState.FAILED, "invalid worker params (exit code 2); not retried")
    if returncode == EXIT_NOT_TRADABLE:
        return ExitOutcome(TopicState.FAILED, "market not tradable (exit code 3); not retried")
    if retries_done >= max_retries:
        return ExitOutcome(TopicState.FAILED, f"{what}; gave up after {retries_done} retries")
    return ExitOutcome(TopicState.BACKOFF, f"{what}; retry {retries_done + 1} of {max_retries}")


def restart_delay_s(retry_number: int, *, base_s: float, max_s: float, rng: random.Random) -> float:
    """Seconds before restart number ``retry_number`` (1 = first restart).

    ``base_s * 2**(retry_number - 1)`` capped at ``max_s``, with equal jitter (half fixed, half
    random) so workers that failed together do not restart together; the arithmetic is the
    exchange retry policy's (``polymaker.exchange.retry.backoff_delay``).
    """
    policy = RetryPolicy(retries=max(retry_number, 0), backoff_base_s=base_s, backoff_max_s=max_s)
    return backoff_delay(retry_number, policy, rng)


__all__ = [
    "ACTIVE_STATES",
    "ALLOWED_FROM",
    "NO_RETRY_EXIT_CODES",
    "RETRYABLE_STATES",
    "SIGNALLABLE_STATES",
    "STOPPABLE_STATES",
    "TERMINAL_STATES",
    "WAITING_STATES",
    "ExitOutcome",
    "TopicState",
    "TransitionError",
    "check_transition",
    "classify_exit",
    "describe_exit",
    "is_allowed",
    "restart_delay_s",
]
