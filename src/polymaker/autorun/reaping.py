"""The supervisor as a child subreaper: forked workers become its children, strays are reaped.

A worker forked by the template (``worker.template``) is forked twice: its first parent exits
at once, and Linux then hands the orphan to the nearest ancestor that declared itself a child
subreaper (``PR_SET_CHILD_SUBREAPER``), the supervisor, instead of to init. The supervisor so
reaps every worker itself and learns each exit status exactly as for a cold start, whoever
forked it and whether the template still lives.

The price is that any orphan below the supervisor comes to it. The only ones expected are the
template's: an intermediate process whose template died before reaping it, and a worker whose
template died before reporting its pid (it exits at once, unreleased). Both carry the title of
a polymaker worker or template (``comm`` ``polymaker worke``), so ``reap_strays`` reaps such
zombies only when they are not a known worker: the exits of other children (the screener's
fork server, the embedded drill exchange) stay with the code that owns them.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import logging
import os
from collections.abc import Collection

import psutil

log = logging.getLogger("polymaker.autorun.reaping")

_PR_SET_CHILD_SUBREAPER = 36
_PR_GET_CHILD_SUBREAPER = 37
STRAY_COMM = "polymaker worke"  # setproctitle's "polymaker worker..." cut to comm's 15 bytes


def set_child_subreaper(enabled: bool) -> bool:
    """Declare (or stop declaring) this process a child subreaper; True if it is one now.

    Linux only: elsewhere this returns False and the supervisor starts every worker cold.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_CHILD_SUBREAPER, int(enabled), 0, 0, 0) != 0:
            return False
        value = ctypes.c_int(0)
        if libc.prctl(_PR_GET_CHILD_SUBREAPER, ctypes.byref(value), 0, 0, 0) != 0:
            return False
    except (OSError, AttributeError):
        return False
    return bool(value.value)


def child_pids() -> list[int]:
    """This process's children (``/proc/self/task/*/children``, else a psutil scan)."""
    files = glob.glob("/proc/self/task/*/children")
    if not files:
        return [child.pid for child in psutil.Process().children()]
    pids: list[int] = []
    for name in files:
        with contextlib.suppress(OSError), open(name) as handle:
            pids.extend(int(pid) for pid in handle.read().split())
    return pids


def _zombie_comm(pid: int) -> str | None:
    """The ``comm`` of ``pid`` if it is a zombie, else None (``/proc/PID/stat``)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            stat = handle.read()
    except OSError:
        return None
    comm = stat[stat.index("(") + 1 : stat.rindex(")")]
    state = stat[stat.rindex(")") + 2 : stat.rindex(")") + 3]
    return comm if state == "Z" else None


def reap_strays(known: Collection[int]) -> list[int]:
    """Reap zombie children left by a dead template (see the module docstring).

    ``known`` are the pids whose exits other code handles (the supervisor's workers, the
    template itself). Returns the pids reaped.
    """
    reaped = []
    for pid in child_pids():
        if pid in known or _zombie_comm(pid) != STRAY_COMM:
            continue
        with contextlib.suppress(ChildProcessError):
            _pid, status = os.waitpid(pid, os.WNOHANG)
            if _pid:
                code = os.waitstatus_to_exitcode(status)
                log.warning("reaped a stray process %d left by the template (exit %d)", pid, code)
                reaped.append(pid)
    return reaped


__all__ = ["STRAY_COMM", "child_pids", "reap_strays", "set_child_subreaper"]
