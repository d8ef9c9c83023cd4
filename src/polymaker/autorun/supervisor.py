"""The supervisor (``polymaker run``): screen, queue, launch, monitor, restart, stop, clean up.

One asyncio loop and no blocking sleeps: a one-second tick reaps exits, reads heartbeats and
launches what the scheduler allows; screening, stops, sweeps and control commands are tasks
that run beside it, so none of them delays monitoring (the reference slept on its one thread,
4.2). Start-up: lock the data directory, load the ledger (a corrupt one stops here, untouched),
resolve the key, start the exchange (embedded drill exchange when no URL is configured),
authenticate once for the account (``account``: shared credentials, the order heartbeat),
recover what a dead predecessor left, start the worker template (``template``: workers are
forked from it, the supervisor being their child subreaper, ``reaping``), then serve the
control socket. Every tick also applies the account limits (``guard``): launches they refuse
wait in the queue; and it starts a redemption pass when one is due (``redeemer``: resolved
markets' payouts). Exit (SIGINT, SIGTERM,
``exit``): stop launching, stop every worker in parallel, sweep their markets, write the ledger
and ``run_state.json``, stop the order heartbeat, stop the embedded exchange. Transitions and
their edges: ``states``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import signal
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from polymaker.autorun import reaping, recovery
from polymaker.autorun.account import Account
from polymaker.autorun.control import ControlRequest, ControlServer
from polymaker.autorun.embedded import EmbeddedExchange
from polymaker.autorun.exits import handle_exit
from polymaker.autorun.guard import LimitGuard, strategy_worst_case
from polymaker.autorun.handlers import flatten, register_handlers
from polymaker.autorun.holdings import HoldingsWatcher
from polymaker.autorun.keys import WorkerKey, worker_key
from polymaker.autorun.launch import MarketDetails, details_from_topic
from polymaker.autorun.ledger import Ledger, utc_now
from polymaker.autorun.limits import AccountLimits
from polymaker.autorun.listings import ListingWatch
from polymaker.autorun.lock import SupervisorLock
from polymaker.autorun.monitor import Task
from polymaker.autorun.pausing import saved_pause
from polymaker.autorun.processes import worker_env
from polymaker.autorun.redeemer import Redeemer, open_redeemer
from polymaker.autorun.redemptions import count_payout, note_redemption, redeemed_topics
from polymaker.autorun.repl import run_repl
from polymaker.autorun.scheduler import plan_starts
from polymaker.autorun.screening import ScreenLoop, ScreenRequest
from polymaker.autorun.snapshot import run_state_document
from polymaker.autorun.starting import start_topic
from polymaker.autorun.startup import recover, start_exchange
from polymaker.autorun.states import (
    SIGNALLABLE_STATES,
    TopicState,
)
from polymaker.autorun.sweeper import Sweeper, SweepResult
from polymaker.autorun.template import WorkerTemplate
from polymaker.config.global_config import GlobalConfig, Mode, ResolvedPaths
from polymaker.config.strategy_defaults import StrategyDefaults
from polymaker.exchange.secrets import RedactingFilter
from polymaker.exchange.urls import ExchangeUrls

log = logging.getLogger("polymaker.autorun")

TICK_S = 1.0
TEMPLATE_OUTPUT_FILE = "worker-template.log"  # log dir: what the template itself prints
LAUNCHES_PER_TICK = 10  # a fork storm of 200 Python starts would starve running workers


@dataclass(frozen=True)
class RunOptions:
    """How this run was started (besides the config): files, commands, terminal."""

    config_file: Path
    commands: Sequence[ControlRequest] = ()
    repl: bool = False
    redactor: RedactingFilter | None = None


class Supervisor:
    """One supervisor run over one data directory (see the module docstring)."""

    def __init__(
        self,
        config: GlobalConfig,
        mode: Mode,
        paths: ResolvedPaths,
        strategy: StrategyDefaults,
        options: RunOptions,
    ) -> None:
        self.config = config
        self.mode = mode
        self.paths = paths
        self.strategy = strategy
        self.options = options
        self.cap = config.max_concurrent_workers
        self.poll_s = config.topics_poll_sec
        self.paused = False
        self.tasks: dict[str, Task] = {}
        self.details: dict[str, MarketDetails] = {}
        self.sweeps: dict[str, SweepResult] = {}
        self.ledger: Ledger | None = None
        self.urls: ExchangeUrls | None = None
        self.server = ControlServer(paths.control_socket)
        self.exit_requested = asyncio.Event()
        self.rng = random.Random()
        self.key: WorkerKey | None = None
        self.embedded: EmbeddedExchange | None = None
        self.sweeper: Sweeper | None = None
        self.holdings: HoldingsWatcher | None = None
        self.account: Account | None = None
        self.template: WorkerTemplate | None = None
        self.redeemer: Redeemer | None = None
        self.guard = LimitGuard(
            AccountLimits.from_config(config), paths.status_dir, paths.data_dir, utc_now()
        )
        self._worst_cases: dict[str, Decimal] = {}
        self._wake = asyncio.Event()
        self._screens = ScreenLoop(None, self.poll_s, self._accept, self.rng)
        self._jobs: set[asyncio.Task[Any]] = set()
        self._exit_jobs: set[asyncio.Task[Any]] = set()
        self._waiting_logged: set[str] = set()
        self._last_snapshot = 0.0
        self._last_summary = ""

    def _register_secrets(self, key: WorkerKey) -> None:
        """Keep the key and the relayer key out of every log line from here on."""
        if self.options.redactor is None:
            return
        if key.key is not None:
            self.options.redactor.register(key.key.reveal())
        if key.relayer_key is not None:
            self.options.redactor.register(key.relayer_key.key)

    # ---- start-up -------------------------------------------------------------------------

    async def run(self) -> int:
        """Run until exit is requested; always cleans up. Returns the exit code (0)."""
        lock = SupervisorLock(self.paths.data_dir)
        lock.acquire()
        try:
            self.ledger = Ledger.load(self.paths.handled_topics, self.mode)
            if (why := saved_pause(self.paths.data_dir)) is not None:
                self.paused = True
                log.warning("launching stays paused (%s): run resume to launch again", why)
            self._install_signals()  # from here on, SIGINT/SIGTERM mean an orderly exit
            self.key = worker_key(
                self.mode, self.paths.data_dir, wallet_address=self.config.wallet_address
            )
            self._register_secrets(self.key)
            log.info("supervisor pid %d, key: %s", os.getpid(), self.key.source)
            if self.key.wallet is not None:
                log.info("account: %s", self.key.wallet.describe())
            previous = recovery.read_run_state(self.paths.run_state)
            try:
                await start_exchange(self, previous)
                self._open_redeemer()
                await recover(self, previous)
                self.template = self._worker_template()
                register_handlers(self)
                await self.server.start()
                self._start_screening()
                for request in self.options.commands:
                    reply = await self.server.dispatch(request)
                    log.info("--command %s: %s", request.cmd, reply.get("message"))
                if self.options.repl:
                    self._run_job(run_repl(self))
                await self._loop()
            finally:
                await self._shutdown()
        finally:
            self._remove_signals()
            if self.template is not None:
                reaping.set_child_subreaper(False)
            lock.release()
        return 0

    def _worker_template(self) -> WorkerTemplate | None:
        """The template workers are forked from; None: every worker starts cold."""
        if self.config.spare_workers is not None:
            log.warning("spare_workers is deprecated and ignored: workers are forked instead")
        if not self.config.worker_template:
            log.info("worker_template is off: every worker starts cold")
            return None
        if not reaping.set_child_subreaper(True):
            log.warning("cannot become a child subreaper: every worker starts cold")
            return None
        assert self.key is not None
        return WorkerTemplate(
            data_dir=self.paths.data_dir,
            output_file=self.paths.log_dir / TEMPLATE_OUTPUT_FILE,
            env=worker_env(self.key.extra_env),
            rng=self.rng,
        )

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, self.request_exit, signal.Signals(signum).name)

    def _remove_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)

    # ---- the loop -------------------------------------------------------------------------

    @property
    def _ledger(self) -> Ledger:
        assert self.ledger is not None, "the ledger is loaded in run()"
        return self.ledger

    def request_exit(self, why: str = "exit command") -> None:
        """Begin the orderly exit (idempotent)."""
        if not self.exit_requested.is_set():
            log.info("exit requested (%s)", why)
            self.exit_requested.set()
            self._wake.set()

    def wake(self) -> None:
        """Run a tick now (after a command or an exit)."""
        self._wake.set()

    async def _loop(self) -> None:
        while not self.exit_requested.is_set():
            try:
                self._tick()
            except Exception:  # one bad tick must not end supervision
                log.exception("supervisor tick failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), TICK_S)
            self._wake.clear()

    def _tick(self) -> None:
        now = utc_now()
        for task in list(self.tasks.values()):
            if task.exiting:
                continue
            code = task.process.reap()
            if code is not None:
                task.exiting = True
                self._run_job(handle_exit(self, task, code), exit_job=True)
                continue
            task.refresh(now)
            try:
                self._watch(task)
            except Exception:  # one topic's trouble must not stall the others
                log.exception("%s: monitoring failed", task.topic_id)
        self._observe_limits(now)
        if self.guard.take_flatten():
            flatten(self, "daily loss limit (flatten_on_daily_loss)")
        if self.template is not None:
            self.template.maintain()
            known = {task.pid for task in self.tasks.values()} | {self.template.pid or 0}
            reaping.reap_strays(known)
        if not self.exit_requested.is_set():
            if self.redeemer is not None and (redeeming := self.redeemer.start_if_due(now)):
                self._run_job(redeeming)
            self._launch_due(now)
        loop_time = asyncio.get_running_loop().time()
        if loop_time - self._last_snapshot >= self.config.status_interval_s:
            self.write_run_state()
            self._log_summary()

    def _open_redeemer(self) -> None:
        """The redeemer over the account's client: its passes run unattended when
        ``redeem.enabled``, and on the ``redeem`` command either way."""
        if self.account is None:
            return
        self.redeemer = open_redeemer(
            self.account.client,
            self.paths.data_dir,
            self.config.redeem,
            topic_of=self._ledger.topic_of,
            on_record=lambda record: note_redemption(self._ledger, self.guard.pnl, record),
        )
        for record in self.redeemer.store.records():  # today's payouts count after a restart
            count_payout(self.guard.pnl, record)

    def _observe_limits(self, now: datetime) -> None:
        """Account limits from the exchange's holdings (the workers' files for today's PnL);
        topics whose shares were redeemed hold nothing, whatever their last file says."""
        holdings = None if self.holdings is None else self.holdings.latest
        records = () if self.redeemer is None else self.redeemer.store.records()
        redeemed = redeemed_topics(records, self.tasks)
        self.guard.observe(now, holdings, self.topic_of_condition(), redeemed)
        if self.holdings is not None:
            self.holdings.note_positions(self.guard.reported_positions())

    def topic_of_condition(self) -> dict[str, str]:
        """Which topic trades each known market (condition id -> topic id)."""
        return {details.condition_id: topic for topic, details in self.details.items()}

    def _log_summary(self) -> None:
        """One ``status: 3 running, 2 queued`` line whenever the counts change."""
        counts: dict[str, int] = {}
        for entry in self._ledger.entries().values():
            counts[str(entry.state)] = counts.get(str(entry.state), 0) + 1
        line = ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "no topics"
        if line != self._last_summary:
            self._last_summary = line
            log.info("status: %s%s", line, " (launching paused)" if self.paused else "")

    def _watch(self, task: Task) -> None:
        """starting -> running on the first heartbeat; kill a silent worker; reset retries."""
        entry = self._ledger.get(task.topic_id)
        if entry is None:
            return
        if entry.state is TopicState.STARTING and task.seen_heartbeat:
            self._ledger.transition(task.topic_id, TopicState.RUNNING, reason="first heartbeat")
        elif entry.state in SIGNALLABLE_STATES and task.is_stale(self.config.heartbeat_stale_s):
            silence = task.silence_s()
            task.stale = True
            self._ledger.transition(
                task.topic_id,
                TopicState.STOPPING,
                reason=f"no heartbeat for {silence:.0f} s; killing the worker",
            )
            log.warning("%s: silent for %.0f s; SIGKILL", task.topic_id, silence)
            self._run_job(task.process.stop(0.0, force=True))
        elif (
            entry.state is TopicState.RUNNING
            and entry.attempts
            and task.process.uptime_s() >= self.config.restart.reset_after_s
        ):
            self._ledger.clear_attempts(task.topic_id)

    def _launch_due(self, now: datetime) -> None:
        if self.template is not None and self.template.holds_launches():
            return  # the run's first template is importing: fork rather than start cold
        ledger = self._ledger
        plan = plan_starts(
            queue=ledger.queue,
            entries=ledger.in_state([TopicState.BACKOFF]),
            in_use=len(self.tasks),
            cap=self.cap,
            now=now,
            paused=self.paused,
            launchable=lambda topic: topic in self.details,
            busy=lambda topic: topic in self.tasks,
        )
        for topic in plan.waiting_for_details:
            if topic not in self._waiting_logged:
                self._waiting_logged.add(topic)
                log.warning("%s is queued but its market details are unknown; waiting", topic)
        admitted = self.guard.admit(plan.start, list(self.tasks), self._worst_case)
        for topic in admitted[:LAUNCHES_PER_TICK]:
            try:
                start_topic(self, topic)
            except Exception:  # e.g. a full disk: the topic stays queued, the loop goes on
                log.exception("%s: launch failed", topic)

    def _worst_case(self, topic: str) -> Decimal:
        """``max_position_shares`` x the screened ask (cached: the strategy is fixed per run)."""
        if topic not in self._worst_cases:
            self._worst_cases[topic] = strategy_worst_case(
                self.strategy, topic, self.details.get(topic), self.paths.strategy_config
            )
        return self._worst_cases[topic]

    def request_refresh(self) -> None:
        """Screen now (the ``refresh`` command)."""
        self._screens.refresh()

    def set_poll(self, seconds: float) -> None:
        """Change ``topics_poll_sec``; the next screen is rescheduled from now."""
        self.poll_s = seconds
        self._screens.set_poll(seconds)

    def _start_screening(self) -> None:
        assert self.urls is not None
        request = ScreenRequest(
            filter_config=self.paths.filter_config,
            out_file=self.paths.topics_filtered,
            urls=self.urls,
            timeout_s=self.config.screener.timeout_s,
            retries=self.config.screener.retries,
        )
        self._screens = ScreenLoop(request, self.poll_s, self._accept, self.rng)
        self._run_job(self._screens.run(self.exit_requested))
        self._run_job(ListingWatch(self.urls, self.paths.filter_config, self._accept).run())

    def _accept(self, topics: list[dict[str, Any]]) -> None:
        """Queue the screened topics the ledger does not know (FIFO, in screener order)."""
        ledger = self._ledger
        added = 0
        for document in topics:
            try:
                details = details_from_topic(document)
            except ValueError as error:
                log.warning("skipping a screener topic: %s", error)
                continue
            topic = details.topic_id
            self.details[topic] = details
            if topic in self.tasks:
                continue
            if ledger.is_new(topic, ignore_history=self.config.ignore_history):
                ledger.enqueue(topic, reason="screened", condition_id=details.condition_id)
                added += 1
        log.info("screen: %d topics, %d new, %d queued", len(topics), added, len(ledger.queue))
        self.wake()

    # ---- exit -----------------------------------------------------------------------------

    async def _shutdown(self) -> None:
        """Stop everything this run started; leave the ledger and run_state.json written."""
        self.exit_requested.set()
        for job in list(self._jobs):
            job.cancel()
        await asyncio.gather(*self._jobs, return_exceptions=True)
        ledger = self.ledger
        stops = []
        for task in list(self.tasks.values()):
            task.shutdown = True
            entry = ledger.get(task.topic_id) if ledger else None
            if ledger and entry and entry.state in SIGNALLABLE_STATES and not task.exiting:
                ledger.transition(task.topic_id, TopicState.STOPPING, reason="supervisor exit")
            stops.append(self._stop_for_exit(task))
        if self.template is not None:
            stops.append(self.template.close())
        await asyncio.gather(*stops, return_exceptions=True)
        await asyncio.gather(*self._exit_jobs, return_exceptions=True)
        if ledger is not None:
            self.write_run_state()
        await self.server.close()
        if self.holdings is not None:
            await self.holdings.stop()
        if self.sweeper is not None:
            await self.sweeper.aclose()
        if self.account is not None:  # after every worker stopped and every sweep
            await self.account.close()
        if self.embedded is not None:
            await self.embedded.stop()
        log.info("supervisor stopped")

    async def _stop_for_exit(self, task: Task) -> None:
        if task.exiting:
            return
        try:
            code = await task.process.stop(self.config.stop_timeout_s, force=task.force)
        except RuntimeError as error:
            log.error("%s", error)
            return
        task.exiting = True
        await handle_exit(self, task, code)

    # ---- helpers --------------------------------------------------------------------------

    def _run_job(self, coroutine: Coroutine[Any, Any, Any], *, exit_job: bool = False) -> None:
        """Run ``coroutine`` beside the loop; its failure is logged, never lost."""
        job = asyncio.get_running_loop().create_task(coroutine)
        jobs = self._exit_jobs if exit_job else self._jobs
        jobs.add(job)

        def finished(done: asyncio.Task[Any]) -> None:
            jobs.discard(done)
            _log_failure(done)

        job.add_done_callback(finished)

    def run_job(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        """Public for the control handlers: a stop runs beside the loop."""
        self._run_job(coroutine, exit_job=True)

    def write_run_state(self) -> None:
        """Write ``data/run_state.json`` (tasks, pids, states, log paths) atomically."""
        self._last_snapshot = asyncio.get_running_loop().time()
        try:
            recovery.write_run_state(self.paths.run_state, run_state_document(self))
        except OSError as error:
            log.error("cannot write %s: %s", self.paths.run_state, error)


def _log_failure(job: asyncio.Task[Any]) -> None:
    if not job.cancelled() and job.exception() is not None:
        log.error("background job failed", exc_info=job.exception())


__all__ = ["RunOptions", "Supervisor"]
