"""The embedded drill exchange: ``polymaker sim`` as a child of the supervisor, for drill runs.

Started when the mode is drill and no exchange URL is configured, so ``make run`` works on a
fresh machine with no account and no network. It runs in its own process group with
``PR_SET_PDEATHSIG`` (the kernel sends it SIGTERM if the supervisor dies, even by SIGKILL), its
pid is recorded in ``run_state.json`` so a later supervisor can verify and kill a survivor, and
``stop`` ends the whole group at exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

from polymaker.config.global_config import DrillSection
from polymaker.drill.world import WORLD_FILE_NAME
from polymaker.errors import PolymakerError
from polymaker.exchange.urls import ExchangeUrls

log = logging.getLogger("polymaker.autorun.embedded")

URL_FILE_NAME = "drill_urls.json"
LOG_FILE_NAME = "drill-exchange.log"
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 5.0
_PR_SET_PDEATHSIG = 1


class EmbeddedExchangeError(PolymakerError):
    """The embedded drill exchange did not start."""


def sim_argv(drill: DrillSection, url_file: Path, state_file: Path) -> list[str]:
    """``python -m polymaker sim`` with the ``drill`` section's universe, the url file and the
    drill world file (continued across supervisor restarts, as a venue keeps your account)."""
    return [
        sys.executable,
        "-m",
        "polymaker",
        "sim",
        "--url-file",
        str(url_file),
        "--state-file",
        str(state_file),
        "--markets",
        str(drill.markets),
        "--seed",
        str(drill.seed),
        "--speed",
        str(drill.speed),
        "--balance",
        str(drill.balance_usdc),
        "--volatility",
        str(drill.volatility),
        "--takers-per-minute",
        str(drill.takers_per_minute),
    ]


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the parent dies (Linux only; else a no-op)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def is_our_sim(pid: int, url_file: Path) -> bool:
    """True when ``pid`` is a ``polymaker sim`` writing ``url_file`` (checked before a kill)."""
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False  # dead already, only not reaped yet
        cmdline = process.cmdline()
    except psutil.Error:
        return False
    return "sim" in cmdline and str(url_file) in cmdline and "polymaker" in " ".join(cmdline)


class EmbeddedExchange:
    """One ``polymaker sim`` child: ``start`` waits for its url file, ``stop`` ends its group."""

    def __init__(self, drill: DrillSection, data_dir: Path, log_dir: Path) -> None:
        self._drill = drill
        self.url_file = data_dir / URL_FILE_NAME
        self.world_file = data_dir / WORLD_FILE_NAME
        self.log_file = log_dir / LOG_FILE_NAME
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The child's pid (= its process group id) while it runs."""
        return None if self._process is None else self._process.pid

    async def start(self, timeout_s: float = READY_TIMEOUT_S) -> ExchangeUrls:
        """Start the child and return its URLs once the url file appears."""
        with contextlib.suppress(FileNotFoundError):
            self.url_file.unlink()  # a stale file from a killed run would point nowhere
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self.url_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as output:
            self._process = subprocess.Popen(
                sim_argv(self._drill, self.url_file, self.world_file),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        deadline = time.monotonic() + timeout_s
        while not self.url_file.exists():
            if self._process.poll() is not None or time.monotonic() > deadline:
                await self.stop()
                raise EmbeddedExchangeError(
                    f"the embedded drill exchange did not start ({self._last_log_line()}); "
                    f"see {self.log_file}"
                )
            await asyncio.sleep(0.05)
        urls = ExchangeUrls.from_file(self.url_file)
        log.info("embedded drill exchange pid %d ready: %s", self._process.pid, urls.clob_url)
        return urls

    def _last_log_line(self) -> str:
        """The exchange's last words (e.g. why its drill world could not be read)."""
        try:
            lines = self.log_file.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "no log"
        return lines[-1][-300:] if lines else "no output"

    async def stop(self) -> None:
        """SIGTERM the group, SIGKILL it after ``STOP_TIMEOUT_S``; reap the child."""
        process, self._process = self._process, None
        if process is None:
            return
        for signum, wait_s in ((signal.SIGTERM, STOP_TIMEOUT_S), (signal.SIGKILL, STOP_TIMEOUT_S)):
            if process.poll() is not None:
                break
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signum)
            deadline = time.monotonic() + wait_s
            while process.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # stragglers of its group
        log.info("embedded drill exchange stopped")


async def kill_stale_sim(pid: int, url_file: Path) -> bool:
    """Kill the drill exchange a dead supervisor left (only if it really is that one)."""
    if not is_our_sim(pid, url_file):
        return False
    log.warning("killing the drill exchange pid %d left by the previous supervisor", pid)
    for signum in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signum)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while is_our_sim(pid, url_file) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if not is_our_sim(pid, url_file):
            return True
    return False


__all__ = [
    "EmbeddedExchange",
    "EmbeddedExchangeError",
    "is_our_sim",
    "kill_stale_sim",
    "sim_argv",
]
