"""The worker template: one pre-imported process that forks a worker per market on request.

``python -m polymaker.worker.template SUPERVISOR_PID DATA_DIR`` is started by the supervisor
with one end of a Unix socket pair as its stdin. It imports everything a worker needs (the
official SDK and its models: about 1 s of CPU, several seconds when hundreds of workers share
two cores), collects and freezes the garbage collector (``gc.freeze()``: the imported objects
move to a permanent generation that no collection walks, so the children's collector never
writes to those shared pages), says ``{"ready": ...}``, then answers one request per line:
``{"params": ..., "output": ..., "title": ...}`` -> ``{"pid": N}`` or ``{"error": ...}``.

Every worker is forked twice (``fork_worker``): the template forks an intermediate that forks
the worker and exits at once, so the worker is re-parented to the supervisor, a child
subreaper (``autorun.reaping``). The supervisor therefore reaps its workers and learns their
exit status exactly as for a cold start, and a dead template leaves its running workers
untouched. A worker trades only after the template has sent its pid: it blocks on a "go" pipe
that the template writes after the reply, so a template that dies between the fork and the
reply leaves a worker that exits at once (end of file on the pipe) instead of an unknown one.

What a worker must not inherit, it does not: the template has one thread (it refuses to fork
while another runs, so no lock is copied held), no event loop (the worker's ``asyncio.run``
makes a fresh one), no logging handler, and no socket but the supervisor's, which the worker
closes first, with its stdin (``/dev/null`` then); stdout and stderr go to the topic's raw
output file. The stdlib reseeds ``random`` in every forked child and OpenSSL reseeds when the
pid changes; every other generator is made by the worker after the fork. The template exits
when the supervisor closes its end of the socket and, through ``PR_SET_PDEATHSIG``, when the
supervisor dies.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import json
import os
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, NoReturn

TITLE = "polymaker worker-template"  # + the data dir; its forks start with the same name
EXIT_NOT_RELEASED = 75  # the template died before releasing the worker: it traded nothing
_GO = b"g"
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class ForkRequest:
    """One worker to fork: its PARAMS.json, its raw output file and its process title."""

    params: Path
    output: Path
    title: str

    def encode(self) -> bytes:
        """The request line the supervisor writes."""
        document = {"params": str(self.params), "output": str(self.output), "title": self.title}
        return json.dumps(document).encode() + b"\n"

    @classmethod
    def decode(cls, line: bytes) -> ForkRequest:
        """Parse a request line; ``ValueError`` when it is not one."""
        document = json.loads(line)
        fields = [document.get(name) if isinstance(document, dict) else None for name in
                  ("params", "output", "title")]  # fmt: skip
        texts = [value for value in fields if isinstance(value, str) and value]
        if len(texts) != len(fields):
            raise ValueError(f"not a fork request: {line[:200]!r}")
        params, output, title = texts
        return cls(Path(params), Path(output), title)


@dataclass
class Channel:
    """The template's end of the supervisor's socket, with its line reader and writer."""

    conn: socket.socket
    reader: BinaryIO
    writer: BinaryIO

    @classmethod
    def over(cls, conn: socket.socket) -> Channel:
        """Buffered reader and writer over ``conn``."""
        return cls(conn, conn.makefile("rb"), conn.makefile("wb"))

    def send(self, document: dict[str, Any]) -> None:
        """One JSON line, flushed at once (a fork never copies a pending reply)."""
        self.writer.write(json.dumps(document).encode() + b"\n")
        self.writer.flush()

    def close(self) -> None:
        """Close the reader, the writer and the socket (the socket closes with the last)."""
        for stream in (self.reader, self.writer):
            with contextlib.suppress(OSError):
                stream.close()
        self.conn.close()


RunMarket = Callable[[Path], int]


def run_market(params: Path) -> int:
    """What a forked worker runs: ``polymaker worker PARAMS.json`` (imported in the template)."""
    from polymaker.worker.cli import run_to_exit_code

    return run_to_exit_code(params)


def fork_worker(request: ForkRequest, channel: Channel, run: RunMarket = run_market) -> int:
    """Fork the worker of ``request`` (twice, see the module docstring); returns its pid.

    Sends the ``{"pid": N}`` reply *before* releasing the worker. The worker never returns
    from here: it ends with ``os._exit`` and the exit code of ``run``.
    """
    pid_read, pid_write = os.pipe()
    go_read, go_write = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    intermediate = os.fork()
    if intermediate == 0:  # the intermediate: fork the worker, then exit at once
        try:
            if os.fork() == 0:
                os.close(go_write)
                os.close(pid_read)
                _worker(request, channel, run, pid_write, go_read)
        finally:
            os._exit(0)
    os.close(pid_write)
    os.close(go_read)
    try:
        announced = _read_all(pid_read)
        os.waitpid(intermediate, 0)  # from here on the worker is the supervisor's child
        if not announced:
            raise OSError("the forked worker died before it announced itself")
        pid = int(announced)
        channel.send({"pid": pid})
        with contextlib.suppress(OSError):  # it died already: the supervisor reaps it
            os.write(go_write, _GO)
        return pid
    finally:
        os.close(pid_read)
        os.close(go_write)


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 64):
        chunks.append(chunk)
    return b"".join(chunks)


def _worker(
    request: ForkRequest, channel: Channel, run: RunMarket, pid_write: int, go_read: int
) -> NoReturn:
    """In the worker: own session and title, wait for the release, then run the market."""
    code = 1
    try:
        os.setsid()  # its pid is its process group before anyone learns the pid
        _set_title(request.title)
        os.write(pid_write, str(os.getpid()).encode())
        os.close(pid_write)
        released = os.read(go_read, 1) == _GO
        os.close(go_read)
        if not released:
            os._exit(EXIT_NOT_RELEASED)
        channel.close()
        _own_stdio(request.output)
        code = run(request.params)
    except BaseException:  # never return into the template's loop
        with contextlib.suppress(Exception):
            traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _own_stdio(output: Path) -> None:
    """stdin from /dev/null; stdout and stderr appended to the topic's raw output file."""
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    output.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def _set_title(title: str) -> None:
    """``ps``, recovery and ``panic`` find the worker by this title (``autorun.recovery``)."""
    import setproctitle

    setproctitle.setproctitle(title)


def _die_with_parent(parent: int) -> None:
    """SIGKILL this template when the supervisor dies (Linux); exit if it already has."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        sys.exit(0)


def _import_what_httpx_loads_on_first_use() -> None:
    """Modules a worker would otherwise import at its first request, each child its own copy.

    httpx imports httpcore, its HTTP/1.1 and HTTP/2 stacks and anyio lazily. Importing them
    here, with the shared TLS context built once, took a forked worker's USS from 23.8 MB to
    18.3 MB (``bench/supervisor_bench.py 40 --variants forked``, drill).
    """
    import encodings.idna  # noqa: F401

    import anyio._backends._asyncio
    import anyio.streams.tls
    import anyio.to_thread  # noqa: F401
    import certifi  # noqa: F401
    import h2.connection  # noqa: F401
    import httpcore._async.connection_pool
    import httpcore._async.http2
    import httpcore._backends.anyio
    import httpcore._backends.auto  # noqa: F401
    import sniffio  # noqa: F401


def _preload() -> float:
    """Import the worker's code and the SDK, then freeze the GC; returns the seconds spent."""
    started = time.monotonic()
    import setproctitle  # noqa: F401  (each child sets its title)

    import polymaker.worker.cli  # noqa: F401  (the worker, the SDK, httpx, websockets, ...)

    _import_what_httpx_loads_on_first_use()
    from polymaker.exchange.tls import preload_default_context

    preload_default_context()  # the CA bundle, parsed once here and shared by every child
    gc.collect()
    gc.freeze()
    return time.monotonic() - started


def serve(channel: Channel, run: RunMarket = run_market, *, preload: bool = True) -> int:
    """Answer fork requests on ``channel`` until the supervisor closes it; returns 0."""
    seconds = _preload() if preload else 0.0
    channel.send({"ready": True, "pid": os.getpid(), "import_s": round(seconds, 3)})
    for line in channel.reader:
        try:
            request = ForkRequest.decode(line)
            if threading.active_count() != 1:
                raise RuntimeError("a thread is running: forking now could copy a held lock")
            fork_worker(request, channel, run)
        except (OSError, ValueError, RuntimeError) as error:
            channel.send({"error": str(error)})
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m polymaker.worker.template SUPERVISOR_PID DATA_DIR`` (stdin: the socket)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or not args[0].isdigit():
        print("usage: python -m polymaker.worker.template SUPERVISOR_PID DATA_DIR", file=sys.stderr)
        return 2
    _die_with_parent(int(args[0]))
    _set_title(f"{TITLE} {args[1]}")
    channel = Channel.over(socket.socket(fileno=os.dup(0)))
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    try:
        return serve(channel)
    except (BrokenPipeError, ConnectionResetError):
        return 0  # the supervisor went away
    finally:
        channel.close()


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["EXIT_NOT_RELEASED", "TITLE", "Channel", "ForkRequest", "fork_worker", "main", "serve"]
