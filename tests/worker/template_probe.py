"""A worker template whose workers report what they inherited instead of trading (for tests).

Run as ``python template_probe.py`` with the socket as stdin, like the real template; each
forked "worker" writes one JSON line to its stdout (the request's output file) and exits 7.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import random
import socket
import sys
import threading
from pathlib import Path

from polymaker.worker.template import Channel, serve


def probe(params: Path) -> int:
    """Report the process's own state; exit code 7."""
    with open(f"/proc/{os.getpid()}/cmdline", "rb") as handle:
        title = handle.read().split(b"\0")[0].decode()
    try:
        asyncio.get_running_loop()
        loop = True
    except RuntimeError:
        loop = False
    report = {
        "params": str(params),
        "pid": os.getpid(),
        "ppid": os.getppid(),
        "pgid": os.getpgid(0),
        "sid": os.getsid(0),
        "fds": sorted(int(fd) for fd in os.listdir("/proc/self/fd")),
        "stdin": os.readlink("/proc/self/fd/0"),
        "title": title,
        "random": random.random(),
        "threads": threading.active_count(),
        "frozen": gc.get_freeze_count(),
        "running_loop": loop,
    }
    print(json.dumps(report), flush=True)
    return 7


if __name__ == "__main__":
    channel = Channel.over(socket.socket(fileno=os.dup(0)))
    gc.freeze()
    sys.exit(serve(channel, probe, preload=False))
