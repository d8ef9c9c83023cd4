"""What happens when a worker's process has ended: sweep its market, then record the outcome.

A dead worker cannot cancel its resting orders, so the market is swept *before* the next state
is recorded and before any restart (a restarted worker's new orders must never be swept). The
outcome follows ``states.classify_exit``; a worker that finished holding shares (its market
ended or resolved) makes the redeemer look at once; a worker stopped by the supervisor's own exit is
queued again instead, at the front of the queue, so the next supervisor resumes it before new
topics (the worker adopts its position).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from polymaker.autorun.launch import MarketDetails
from polymaker.autorun.ledger import Ledger, utc_now
from polymaker.autorun.monitor import Task, read_status
from polymaker.autorun.states import (
    NO_RETRY_EXIT_CODES,
    TopicState,
    classify_exit,
    describe_exit,
    restart_delay_s,
)

if TYPE_CHECKING:
    from polymaker.autorun.supervisor import Supervisor

log = logging.getLogger("polymaker.autorun")


def _ledger(supervisor: Supervisor) -> Ledger:
    assert supervisor.ledger is not None, "the ledger is loaded before any worker starts"
    return supervisor.ledger


async def handle_exit(supervisor: Supervisor, task: Task, code: int) -> None:
    """Sweep the market (a dead worker cannot cancel), then record the next state.

    The task leaves the table whatever happens here, so its slot is never lost.
    """
    try:
        note = ""
        if code not in NO_RETRY_EXIT_CODES:
            note = await sweep_note(supervisor, task.topic_id, task.details)
        final = read_status(task.status_file)
        finished = final is not None and final.pid == task.pid and final.state == "finished"
        redeemer, details = supervisor.redeemer, task.details
        if finished and redeemer and details and final and _holds(final.position):
            redeemer.watch(details.condition_id)  # it ended holding shares: left to redeem
        requested = task.stop_requested or task.flattening
        resumes = not (requested or finished or code in NO_RETRY_EXIT_CODES)
        if task.shutdown and resumes:
            reason = f"supervisor exit ({describe_exit(code)}); resumes at the next start{note}"
            _ledger(supervisor).transition(
                task.topic_id, TopicState.QUEUED, reason=reason, exit_code=code, front=True
            )
            log.info("%s: %s", task.topic_id, reason)
        else:
            record_exit(supervisor, task.topic_id, code, None, stop=requested, note=note)
    finally:
        supervisor.tasks.pop(task.topic_id, None)
        supervisor.write_run_state()
        supervisor.wake()


def _holds(position: str | None) -> bool:
    try:
        return position is not None and Decimal(position) > 0
    except InvalidOperation:
        return False


def record_exit(
    supervisor: Supervisor, topic: str, code: int, why: str | None, *, stop: bool, note: str = ""
) -> None:
    """Classify an exit (``states.classify_exit``) and record it; schedule a backoff restart."""
    entry = _ledger(supervisor).get(topic)
    assert entry is not None
    outcome = classify_exit(
        code,
        retries_done=entry.attempts,
        max_retries=supervisor.config.restart.max_retries,
        stop_requested=stop,
    )
    next_start = None
    if outcome.state is TopicState.BACKOFF:
        restart = supervisor.config.restart
        delay = restart_delay_s(
            entry.attempts + 1,
            base_s=restart.backoff_base_s,
            max_s=restart.backoff_max_s,
            rng=supervisor.rng,
        )
        next_start = utc_now() + timedelta(seconds=delay)
    reason = f"{why}; {outcome.reason}" if why else outcome.reason
    _ledger(supervisor).transition(
        topic, outcome.state, reason=reason + note, exit_code=code, next_start_at=next_start
    )
    level = logging.INFO if outcome.state is not TopicState.FAILED else logging.ERROR
    log.log(level, "%s: %s -> %s%s", topic, reason, outcome.state, note)


async def sweep_note(
    supervisor: Supervisor, topic: str, details: MarketDetails | None = None
) -> str:
    """Sweep the topic's market (when a sweeper exists); the phrase for the ledger's reason.

    What the sweep left (shares, open orders) is also recorded in the ledger entry's
    ``position_left`` / ``open_orders_left``.
    """
    details = details or supervisor.details.get(topic)
    entry = _ledger(supervisor).get(topic)
    condition = details.condition_id if details else (entry.condition_id if entry else None)
    if supervisor.sweeper is None or condition is None:
        return ""
    result = await supervisor.sweeper.sweep(condition, details.token_id if details else None)
    supervisor.sweeps[topic] = result
    if entry is not None:
        known = result.error is None
        _ledger(supervisor).record_left(
            topic,
            position=result.position if known else None,
            open_orders=result.remaining if known else None,
        )
    log.info("%s: %s (%.2f s)", topic, result.describe(), result.elapsed_s)
    return f"; {result.describe()}"


__all__ = ["handle_exit", "record_exit", "sweep_note"]
