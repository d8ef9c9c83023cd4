"""The supervisor's end of the worker template: start it, watch it, restart it, fork through it.

The template (``worker.template``) has imported the worker's code and the SDK once, so a launch
is a fork (milliseconds, pages shared with the template) instead of a new Python importing
everything (about 1 s of CPU, several seconds when 200 workers share two cores). It is a
convenience, never a condition: while it is starting, dead or refusing, ``fork`` returns None
and the caller starts the worker cold, as before. A template that died is started again after
a capped, jittered delay.

Forking is a short blocking exchange on a Unix socket (one request line, one reply line, a few
milliseconds). A template that does not answer within ``FORK_TIMEOUT_S`` is killed; a pid it
sent before it died is still used, since that worker is already the supervisor's child.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from polymaker.autorun.processes import start_in_new_session
from polymaker.autorun.states import describe_exit, restart_delay_s
from polymaker.worker.template import ForkRequest

log = logging.getLogger("polymaker.autorun.template")

FORK_TIMEOUT_S = 5.0
READY_TIMEOUT_S = 120.0  # imports under a heavy load; past this the template counts as hung
FIRST_READY_WAIT_S = 30.0  # launches wait this long for the first template of a run
RESTART_BASE_S = 1.0
RESTART_MAX_S = 60.0
CLOSE_WAIT_S = 2.0
_MAX_LINE = 65536


def template_argv(data_dir: Path) -> list[str]:
    """``python -m polymaker.worker.template <supervisor pid> <data dir>``."""
    return [sys.executable, "-m", "polymaker.worker.template", str(os.getpid()), str(data_dir)]


class WorkerTemplate:
    """One template process for one data directory (see the module docstring)."""

    def __init__(
        self,
        *,
        data_dir: Path,
        output_file: Path,
        env: Mapping[str, str],
        rng: random.Random,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._argv = template_argv(data_dir)
        self._output_file = output_file
        self._env = dict(env)
        self._rng = rng
        self._clock = clock
        self._popen: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None
        self._buffer = b""
        self._started_at = 0.0
        self._next_start = 0.0
        self._failures = 0
        self.ready = False
        self.forks = 0

    @property
    def pid(self) -> int | None:
        """The template's pid while one runs (its exit is this object's to reap)."""
        return None if self._popen is None else self._popen.pid

    def holds_launches(self) -> bool:
        """True while the run's first template is importing (up to ``FIRST_READY_WAIT_S``).

        A cold start then would cost as much time as waiting for the template, and its full
        memory for as long as the worker lives; later outages start workers cold at once.
        """
        return (
            self._popen is not None
            and not self.ready
            and self._failures == 0
            and self.forks == 0
            and self._clock() - self._started_at < FIRST_READY_WAIT_S
        )

    def maintain(self) -> None:
        """Start the template when due, notice its death, read its ``ready`` line (no waits)."""
        if self._popen is None:
            if self._clock() >= self._next_start:
                self._start()
            return
        if (code := self._popen.poll()) is not None:
            self._lost(describe_exit(code))
        elif not self.ready:
            self._await_ready()

    def fork(self, request: ForkRequest) -> int | None:
        """The pid of the worker forked for ``request``, or None: start it cold instead."""
        if not self.ready or self._sock is None:
            return None
        try:
            self._sock.settimeout(FORK_TIMEOUT_S)
            self._sock.sendall(request.encode())
            reply = self._read_reply()
        except OSError as error:  # includes the timeout
            return self._abandon(f"no answer to a fork ({error or 'timed out'})")
        if isinstance(reply.get("pid"), int):
            self.forks += 1
            self._failures = 0
            return int(reply["pid"])
        log.warning("the worker template refused a fork: %s", reply.get("error"))
        return None

    async def close(self) -> None:
        """End the template: close the socket (it exits), SIGKILL it if it lingers, reap."""
        popen, self._popen = self._popen, None
        self._close_socket()
        self.ready = False
        if popen is None:
            return
        deadline = time.monotonic() + CLOSE_WAIT_S
        while popen.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        if popen.poll() is None:
            _kill_group(popen)
            with contextlib.suppress(subprocess.TimeoutExpired):
                popen.wait(timeout=CLOSE_WAIT_S)

    # ---- internals ------------------------------------------------------------------------

    def _start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._popen = start_in_new_session(
                self._argv, output_file=self._output_file, env=self._env, stdin=theirs.fileno()
            )
        except OSError as error:
            ours.close()
            self._schedule_restart(f"cannot start it: {error}")
            return
        finally:
            theirs.close()
        ours.setblocking(False)
        self._sock, self._buffer, self.ready = ours, b"", False
        self._started_at = self._clock()
        log.info("worker template pid %d starting", self._popen.pid)

    def _await_ready(self) -> None:
        assert self._sock is not None
        try:
            self._sock.setblocking(False)
            line = self._next_line()
        except OSError as error:
            self._abandon(f"its socket failed ({error})")
            return
        if line is None:
            if self._clock() - self._started_at > READY_TIMEOUT_S:
                self._abandon(f"not ready after {READY_TIMEOUT_S:g} s")
            return
        hello = _decode(line)
        if hello.get("ready") is not True:
            self._abandon(f"unexpected first line {line[:200]!r}")
            return
        self.ready = True
        log.info(
            "worker template pid %s ready (imports took %s s): workers are forked from it",
            hello.get("pid"),
            hello.get("import_s"),
        )

    def _read_reply(self) -> dict[str, Any]:
        while (line := self._next_line()) is None:
            pass
        return _decode(line)

    def _next_line(self) -> bytes | None:
        """The next complete line; None when none is there yet (non-blocking socket only)."""
        assert self._sock is not None
        while b"\n" not in self._buffer:
            try:
                chunk = self._sock.recv(4096)
            except BlockingIOError:
                return None
            if not chunk:
                raise ConnectionResetError("the template closed its socket")
            self._buffer += chunk
            if len(self._buffer) > _MAX_LINE:
                raise ConnectionResetError("the template sent an overlong line")
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line

    def _abandon(self, why: str) -> int | None:
        """Kill the template; return a worker pid it had already sent, if any."""
        popen = self._popen
        if popen is not None and popen.poll() is None:
            _kill_group(popen)
            with contextlib.suppress(subprocess.TimeoutExpired):
                popen.wait(timeout=CLOSE_WAIT_S)
        pid = self._sent_pid()
        self._lost(why)
        return pid

    def _sent_pid(self) -> int | None:
        """A ``{"pid"}`` reply still unread on the socket of a template that is gone."""
        if self._sock is None:
            return None
        with contextlib.suppress(OSError):
            self._sock.setblocking(False)
            while (line := self._next_line()) is not None:
                reply = _decode(line)
                if isinstance(reply.get("pid"), int):
                    return int(reply["pid"])
        return None

    def _lost(self, why: str) -> None:
        popen, self._popen = self._popen, None
        if popen is not None and popen.poll() is None:
            _kill_group(popen)
            with contextlib.suppress(subprocess.TimeoutExpired):
                popen.wait(timeout=CLOSE_WAIT_S)
        self._close_socket()
        self.ready = False
        self._schedule_restart(why)

    def _schedule_restart(self, why: str) -> None:
        self._failures += 1
        delay = restart_delay_s(
            self._failures, base_s=RESTART_BASE_S, max_s=RESTART_MAX_S, rng=self._rng
        )
        self._next_start = self._clock() + delay
        log.error(
            "worker template lost (%s); workers start cold until it is back (in %.1f s)",
            why,
            delay,
        )

    def _close_socket(self) -> None:
        sock, self._sock = self._sock, None
        self._buffer = b""
        if sock is not None:
            sock.close()


def _decode(line: bytes) -> dict[str, Any]:
    try:
        document = json.loads(line)
    except ValueError:
        return {"error": f"unreadable line {line[:200]!r}"}
    return document if isinstance(document, dict) else {"error": f"not an object: {line[:200]!r}"}


def _kill_group(popen: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(popen.pid, signal.SIGKILL)


__all__ = ["FORK_TIMEOUT_S", "WorkerTemplate", "template_argv"]
