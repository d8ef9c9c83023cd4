"""Spare workers: ``polymaker worker`` processes started before a market needs them.

A worker spends most of its start importing the official SDK (0.9 s of CPU idle, several
seconds when 200 workers share two cores). A spare has done that before a market appears, so a
launch only writes one line to its stdin (``worker.handoff``) and the market's first order
follows in milliseconds. Spares are ordinary workers in every other respect: each leads its own
session (its pid is its process group), is a child of the supervisor, inherits the same
environment, and once handed a market is watched, stopped and reaped as a ``WorkerProcess``.

A spare that died (or whose pipe broke) is replaced, and the launch falls back to a cold start:
a spare is an optimisation, never a condition. An idle spare exits by itself when its stdin
closes, so even a SIGKILLed supervisor leaves none waiting; :meth:`SparePool.close` closes the
pipes and kills what lingers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from polymaker.autorun.processes import WorkerProcess, start_in_new_session
from polymaker.worker.handoff import Handoff, spare_argv

log = logging.getLogger("polymaker.autorun.spares")

CLOSE_WAIT_S = 2.0


class SparePool:
    """Up to ``size`` idle spares for one data directory."""

    def __init__(
        self, size: int, *, data_dir: Path, output_file: Path, env: Mapping[str, str]
    ) -> None:
        self.size = size
        self._argv = spare_argv(sys.executable, data_dir)
        self._output_file = output_file
        self._env = dict(env)
        self._idle: list[subprocess.Popen[bytes]] = []
        self._killed: list[subprocess.Popen[bytes]] = []  # SIGKILLed, reaped by ``refill``
        self.handed_over = 0

    def refill(self) -> None:
        """Reap dead spares and start new ones until ``size`` are idle."""
        self._killed = [spare for spare in self._killed if spare.poll() is None]
        for spare in [s for s in self._idle if s.poll() is not None]:
            log.warning("spare worker pid %d exited (%s); replacing it", spare.pid, spare.poll())
            self._idle.remove(spare)
            _close_pipe(spare)
        while len(self._idle) < self.size:
            try:
                self._idle.append(self._start())
            except OSError as error:
                log.error("cannot start a spare worker: %s", error)
                return

    def hand_over(self, handoff: Handoff, *, topic_id: str, log_file: Path) -> WorkerProcess | None:
        """Give the market to an idle spare; None when none could take it (start it cold)."""
        while self._idle:
            spare = self._idle.pop(0)
            if spare.poll() is not None:
                _close_pipe(spare)
                continue
            try:
                assert spare.stdin is not None
                spare.stdin.write(handoff.encode())
                spare.stdin.close()
            except OSError as error:  # it died between the check and the write
                log.warning("spare worker pid %d refused the hand-over: %s", spare.pid, error)
                _kill_group(spare)
                self._killed.append(spare)  # reaped later: the supervisor's loop never blocks
                continue
            self.handed_over += 1
            return WorkerProcess(spare, topic_id, log_file, warm=True)
        return None

    async def close(self) -> None:
        """End every idle spare: close its stdin (it exits 0), SIGKILL what lingers, reap."""
        spares, self._idle = self._idle + self._killed, []
        self._killed = []
        for spare in spares:
            _close_pipe(spare)
        deadline = time.monotonic() + CLOSE_WAIT_S
        while any(s.poll() is None for s in spares) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        for spare in spares:
            if spare.poll() is None:
                _kill_group(spare)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    spare.wait(timeout=CLOSE_WAIT_S)

    def _start(self) -> subprocess.Popen[bytes]:
        return start_in_new_session(
            self._argv, output_file=self._output_file, env=self._env, stdin=subprocess.PIPE
        )


def _close_pipe(spare: subprocess.Popen[bytes]) -> None:
    if spare.stdin is not None:
        with contextlib.suppress(OSError):
            spare.stdin.close()


def _kill_group(spare: subprocess.Popen[bytes]) -> None:
    if spare.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(spare.pid, signal.SIGKILL)


__all__ = ["SparePool"]
