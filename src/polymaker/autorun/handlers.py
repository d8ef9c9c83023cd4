"""The supervisor's control verbs: one handler per verb, refusals with stable fault names.

The same handlers answer the control socket (``polymaker status/stop/...``), the REPL and
``polymaker run --command``; they only change state and start jobs, so every reply is
immediate (a stop replies ``stopping`` at once; the exit is recorded when the worker is gone).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from dataclasses import replace
from typing import TYPE_CHECKING

from polymaker.autorun.control import Fault, Outcome
from polymaker.autorun.ledger import utc_now
from polymaker.autorun.panic import PANIC_TIMEOUT_S, cancel_everything
from polymaker.autorun.pausing import clear_pause, save_pause
from polymaker.autorun.redemptions import describe_pass
from polymaker.autorun.snapshot import status_document
from polymaker.autorun.states import (
    RETRYABLE_STATES,
    SIGNALLABLE_STATES,
    STOPPABLE_STATES,
    WAITING_STATES,
    TopicState,
)
from polymaker.config.global_config import MAX_POLL_S, MIN_POLL_S
from polymaker.errors import ControlError
from polymaker.exchange.redeem import RedeemError

if TYPE_CHECKING:
    from polymaker.autorun.ledger import LedgerEntry
    from polymaker.autorun.supervisor import Supervisor

log = logging.getLogger("polymaker.autorun")


def _entry(supervisor: Supervisor, topic: str) -> LedgerEntry:
    entry = supervisor.ledger.get(topic) if supervisor.ledger else None
    if entry is None:
        raise ControlError(f"unknown topic {topic!r}", fault=Fault.UNKNOWN_TOPIC)
    return entry


def stop(
    supervisor: Supervisor, topic: str, force: bool = False, why: str | None = None
) -> Outcome:
    """``stop TOPIC [--force]``: SIGTERM (SIGKILL after stop_timeout_s), or SIGKILL at once.

    ``why`` replaces "stop requested" in the ledger's reason (the daily loss flatten).
    """
    entry = _entry(supervisor, topic)
    ledger = supervisor.ledger
    assert ledger is not None
    if entry.state not in STOPPABLE_STATES:
        raise ControlError(f"{topic} is {entry.state}; nothing to stop", fault=Fault.NOT_RUNNING)
    task = supervisor.tasks.get(topic)
    if task is None:
        if entry.state not in WAITING_STATES:
            raise ControlError(f"{topic} has no worker to stop", fault=Fault.NOT_RUNNING)
        ledger.transition(topic, TopicState.STOPPED, reason=f"stopped on request ({entry.state})")
        supervisor.wake()
        return Outcome({"topic_id": topic, "state": "stopped"}, f"{topic}: stopped")
    task.stop_requested = True
    task.force = task.force or force
    how = "force stop (SIGKILL)" if force else f"{why or 'stop requested'} (SIGTERM)"
    if entry.state in SIGNALLABLE_STATES:
        ledger.transition(topic, TopicState.STOPPING, reason=how)
    if not task.exiting:
        timeout = supervisor.config.stop_timeout_s
        supervisor.run_job(task.process.stop(timeout, force=force))
    return Outcome({"topic_id": topic, "state": "stopping"}, f"{topic}: stopping ({how})")


def flatten(supervisor: Supervisor, why: str, topic: str | None = None) -> int:
    """Sell out of every market (or ``topic``): the daily loss flatten, the ``flatten`` command.

    A running worker gets SIGUSR1: it buys nothing more, sells its position at the exit price
    (post-only, below the profit floor if need be) and exits once flat; the topic then ends
    ``stopped`` (``retry`` starts it again). A worker that has not reported ``running`` yet may
    not have its signal handlers installed (SIGUSR1 would kill it), so it is stopped gracefully
    instead and keeps its position. A flattening topic shows ``stopping`` in the ledger until
    its worker exits. Returns how many workers were asked.
    """
    ledger = supervisor.ledger
    assert ledger is not None
    if topic is not None:
        _entry(supervisor, topic)  # an unknown topic is an error, not a silent no-op
        if topic not in supervisor.tasks:
            raise ControlError(f"{topic} has no running worker", fault=Fault.NOT_RUNNING)
    tasks = [
        task
        for task in supervisor.tasks.values()
        if (topic is None or task.topic_id == topic)
        and not task.exiting
        and not task.stop_requested
        and not task.flattening
    ]
    for task in tasks:
        trading = task.status is not None and task.status.state == "running"
        if trading and task.process.signal_leader(signal.SIGUSR1):
            task.flattening = True
            reason = f"flattening ({why}): selling the position, no more buys"
            if _entry(supervisor, task.topic_id).state in SIGNALLABLE_STATES:
                ledger.transition(task.topic_id, TopicState.STOPPING, reason=reason)
            log.warning("%s: %s", task.topic_id, reason)
            continue
        with contextlib.suppress(ControlError):  # already on its way out
            stop(supervisor, task.topic_id, why=f"{why}; not trading yet, stopped instead")
    return len(tasks)


def _flatten_command(supervisor: Supervisor, topic: str | None = None) -> Outcome:
    count = flatten(supervisor, "flatten command", topic)
    what = topic or "every market"
    return Outcome({"workers": count}, f"flattening {what}: {count} workers asked to sell out")


def retry(supervisor: Supervisor, topic: str) -> Outcome:
    """``retry TOPIC``: a failed, stopped or backoff topic goes to the back of the queue."""
    entry = _entry(supervisor, topic)
    ledger = supervisor.ledger
    assert ledger is not None
    if entry.state not in RETRYABLE_STATES or topic in supervisor.tasks:
        raise ControlError(
            f"{topic} is {entry.state}; only failed, stopped or backoff topics can be retried",
            fault=Fault.NOT_RUNNING,
        )
    ledger.transition(topic, TopicState.QUEUED, reason="retry requested")
    supervisor.wake()
    return Outcome({"topic_id": topic, "state": "queued"}, f"{topic}: queued again")


def set_concurrency(supervisor: Supervisor, value: int) -> Outcome:
    """``set concurrency N`` (1..200); lowering it stops no running worker."""
    if not 1 <= value <= 200:
        raise ControlError("concurrency must be 1..200", fault=Fault.BAD_REQUEST)
    supervisor.cap = value
    supervisor.wake()
    return Outcome({"max_concurrent_workers": value}, f"max_concurrent_workers = {value}")


def set_poll(supervisor: Supervisor, seconds: float) -> Outcome:
    """``set poll SECONDS`` (topics_poll_sec's range); the next screen is due that long from now."""
    if not MIN_POLL_S <= seconds <= MAX_POLL_S:
        raise ControlError(
            f"poll seconds must be {MIN_POLL_S:g}..{MAX_POLL_S:g}", fault=Fault.BAD_REQUEST
        )
    supervisor.set_poll(float(seconds))
    return Outcome({"topics_poll_sec": float(seconds)}, f"topics_poll_sec = {seconds:g}")


def pause(supervisor: Supervisor, paused: bool, why: str = "pause command") -> Outcome:
    """``pause`` / ``resume`` launching (running workers keep running); a pause is kept on disk.

    ``data/paused.json`` (``pausing``) makes the next supervisor start paused too; a failure to
    write it is logged, the pause itself still holds for this run.
    """
    supervisor.paused = paused
    try:
        if paused:
            save_pause(supervisor.paths.data_dir, why, utc_now())
        else:
            clear_pause(supervisor.paths.data_dir)
    except OSError as error:
        log.error("cannot record the pause in %s: %s", supervisor.paths.data_dir, error)
    supervisor.wake()
    word = "paused: no new workers start" if paused else "resumed launching"
    return Outcome({"paused": paused}, word)


def reset_history(supervisor: Supervisor) -> Outcome:
    """``reset-history`` of this mode (a timestamped backup is kept)."""
    assert supervisor.ledger is not None
    backup = supervisor.ledger.reset_history()
    supervisor.wake()
    where = f"backup {backup}" if backup else "no ledger file yet"
    return Outcome({"backup": None if backup is None else str(backup)}, f"history reset ({where})")


async def panic(supervisor: Supervisor) -> Outcome:
    """``panic``: pause launching, SIGKILL every worker, cancel every order, and confirm.

    The workers die first (no order sender may be left), then ``panic.cancel_everything``
    cancels the whole account's orders through the supervisor's own account client (the one
    that sends the order heartbeat) and re-reads until the exchange lists none. The killed
    topics end ``stopped`` (swept again by the exit handling); queued ones wait, paused.
    """
    pause(supervisor, True, why="panic")
    ledger = supervisor.ledger
    assert ledger is not None
    tasks = [task for task in supervisor.tasks.values() if not task.exiting]
    for task in tasks:
        task.stop_requested = task.force = True
        entry = ledger.get(task.topic_id)
        if entry is not None and entry.state in SIGNALLABLE_STATES:
            ledger.transition(task.topic_id, TopicState.STOPPING, reason="panic (SIGKILL)")
    codes = await asyncio.gather(
        *(task.process.stop(0.0, force=True) for task in tasks), return_exceptions=True
    )
    killed = sum(isinstance(code, int) for code in codes)
    supervisor.wake()
    account = supervisor.account
    if account is None:
        note = "no key in this mode: no order rests at the exchange"
        return Outcome({"confirmed": True, "workers_killed": killed, "note": note}, note)
    report = await cancel_everything(account.client, timeout_s=PANIC_TIMEOUT_S)
    report = replace(report, workers_killed=killed)
    return Outcome(report.to_json(), report.describe())


def register_handlers(supervisor: Supervisor) -> None:
    """Register every verb this supervisor answers."""
    server = supervisor.server
    server.register(
        "status", lambda: Outcome(status_document(supervisor), f"{len(supervisor.tasks)} workers")
    )
    server.register("stop", lambda topic, force=False: stop(supervisor, topic, force))
    server.register("retry", lambda topic: retry(supervisor, topic))
    server.register("refresh", lambda: _refresh(supervisor))
    server.register("pause", lambda: pause(supervisor, True))
    server.register("resume", lambda: pause(supervisor, False))
    server.register("set_concurrency", lambda value: set_concurrency(supervisor, value))
    server.register("set_poll", lambda seconds: set_poll(supervisor, seconds))
    server.register("reset_history", lambda: reset_history(supervisor))
    server.register("exit", lambda: _exit(supervisor))
    server.register("panic", lambda: panic(supervisor))
    server.register("flatten", lambda topic=None: _flatten_command(supervisor, topic))
    server.register("redeem", lambda dry_run=False: _redeem(supervisor, dry_run))


async def _redeem(supervisor: Supervisor, dry_run: bool) -> Outcome:
    """``redeem [--dry-run]``: a redemption pass now (failed ones are retried at once)."""
    redeemer = supervisor.redeemer
    if redeemer is None:
        raise ControlError(
            "nothing to redeem in paper mode (no position is held at the exchange)",
            fault=Fault.NOT_RUNNING,
        )
    try:
        records = await redeemer.run_now(dry_run=dry_run)
    except RedeemError as error:
        raise ControlError(str(error), fault=Fault.NOT_RUNNING) from None
    result = {"dry_run": dry_run, "redemptions": [r.summary() for r in records]}
    return Outcome(result, describe_pass(records, dry_run=dry_run))


def _refresh(supervisor: Supervisor) -> Outcome:
    supervisor.request_refresh()
    return Outcome(None, "screening now")


def _exit(supervisor: Supervisor) -> Outcome:
    supervisor.request_exit("exit command")
    return Outcome(None, "exiting: stopping every worker")


__all__ = ["flatten", "panic", "register_handlers", "retry", "set_concurrency", "stop"]
