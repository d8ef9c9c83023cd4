"""A tiny stand-in worker for the process-management tests (run as a real child process).

Usage: python child_program.py MODE [ARG]; prints ``ready`` once its signal handling is set up.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time


def _ready() -> None:
    print(f"ready pid={os.getpid()}", flush=True)


def main() -> int:
    mode = sys.argv[1]
    arg = sys.argv[2] if len(sys.argv) > 2 else ""
    if mode == "exit":
        _ready()
        return int(arg)
    if mode == "graceful":
        signal.signal(signal.SIGTERM, lambda *_: (print("got SIGTERM", flush=True), os._exit(0)))
    elif mode == "stubborn":
        signal.signal(signal.SIGTERM, lambda *_: print("ignoring SIGTERM", flush=True))
    elif mode == "env":
        print(f"unbuffered={os.environ.get('PYTHONUNBUFFERED')}", flush=True)
        print(f"extra={os.environ.get('CHILD_EXTRA')}", flush=True)
        print(f"stdin={sys.stdin.read()!r}", flush=True)
        print("to stderr", file=sys.stderr, flush=True)
        return 0
    elif mode == "leave-grandchild":
        grandchild = subprocess.Popen([sys.executable, __file__, "sleep"])
        print(f"grandchild={grandchild.pid}", flush=True)
        time.sleep(0.5)  # let it start
        os._exit(0)  # no wait: the grandchild stays in our process group
    elif mode == "orphan":
        orphan = subprocess.Popen([sys.executable, __file__, "sleep"], start_new_session=True)
        print(f"orphan={orphan.pid}", flush=True)
        return 0
    _ready()
    while True:
        time.sleep(0.05)


if __name__ == "__main__":
    sys.exit(main())
