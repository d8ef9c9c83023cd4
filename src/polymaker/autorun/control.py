"""The supervisor's control channel: a Unix socket in the data directory, JSON lines.

Request, one line: ``{"cmd": "stop", "args": {"topic": "x", "force": true}}``.
Reply, one line: ``{"ok": true, "result": ..., "message": "..."}`` or
``{"ok": false, "fault": "unknown_topic", "message": "..."}``.

The socket is mode 0600 and only peers with our own uid are served. The server checks the
verb and the argument names and types against ``VERBS`` before calling the handler the
supervisor registered for that verb (one verb per handler); a handler refuses by raising
``ControlError(message, fault=Fault.X)``. Garbage input gets a ``bad_request`` reply, never a
crash. ``send_command`` is the client used by ``polymaker status/stop/...``.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import os
import socket
import stat
import struct
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Any

from polymaker.errors import ControlError

SOCKET_NAME = "control.sock"
MAX_LINE_BYTES = 64 * 1024
DEFAULT_TIMEOUT_S = 10.0
_SUN_PATH_MAX = 107  # sockaddr_un.sun_path is 108 bytes on Linux, NUL included

log = logging.getLogger(__name__)


class Fault(StrEnum):
    """Stable refusal names of the control API (style rule 12)."""

    UNKNOWN_COMMAND = "unknown_command"  # no such verb
    UNKNOWN_TOPIC = "unknown_topic"  # the topic is not in the ledger
    NOT_RUNNING = "not_running"  # the topic is not in a state the verb acts on
    BAD_REQUEST = "bad_request"  # not JSON, wrong shape, wrong argument name or type
    INTERNAL_ERROR = "internal_error"  # the handler failed unexpectedly (logged)
    NO_SUPERVISOR = "no_supervisor"  # client side: nothing listens on the socket
    TIMEOUT = "timeout"  # client side: no reply in time
    BAD_REPLY = "bad_reply"  # client side: the reply is not a control reply


@dataclass(frozen=True)
class Arg:
    """One argument of a verb: its JSON type(s) and whether it may be left out."""

    types: tuple[type, ...]
    required: bool = True


_TOPIC = Arg((str,))
VERBS: Mapping[str, Mapping[str, Arg]] = {
    "status": {},
    "stop": {"topic": _TOPIC, "force": Arg((bool,), required=False)},
    "retry": {"topic": _TOPIC},
    "flatten": {"topic": Arg((str,), required=False)},
    "refresh": {},
    "pause": {},
    "resume": {},
    "set_concurrency": {"value": Arg((int,))},
    "set_poll": {"seconds": Arg((int, float))},
    "reset_history": {},
    "exit": {},
    "panic": {},
    "redeem": {"dry_run": Arg((bool,), required=False)},
}
"""Every verb the supervisor answers and its arguments."""


@dataclass(frozen=True)
class ControlRequest:
    """One request: a verb of ``VERBS`` and its arguments."""

    cmd: str
    args: dict[str, Any] = field(default_factory=dict)

    def to_line(self) -> bytes:
        """The wire form: one JSON object and a newline."""
        return json.dumps({"cmd": self.cmd, "args": self.args}).encode("utf-8") + b"\n"


@dataclass(frozen=True)
class Outcome:
    """What a handler returns: a JSON-serialisable ``result`` and a line for people."""

    result: Any = None
    message: str = "ok"


Handler = Callable[..., Outcome | Awaitable[Outcome]]


def socket_path(data_dir: Path | str) -> Path:
    """Where the supervisor of ``data_dir`` listens."""
    return Path(data_dir) / SOCKET_NAME


def fault_reply(fault: Fault | str, message: str) -> dict[str, Any]:
    """A refusal in wire form."""
    return {"ok": False, "fault": str(fault), "message": message}


def parse_request(line: bytes) -> ControlRequest:
    """Decode and check one request line; ``ControlError(bad_request|unknown_command)`` if bad."""
    try:
        document = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ControlError(f"not a JSON line: {error}", fault=Fault.BAD_REQUEST) from None
    if not isinstance(document, dict) or not isinstance(document.get("cmd"), str):
        raise ControlError('expected {"cmd": str, "args": {...}}', fault=Fault.BAD_REQUEST)
    extra = set(document) - {"cmd", "args"}
    args = document.get("args", {})
    if extra or not isinstance(args, dict):
        raise ControlError('expected {"cmd": str, "args": {...}}', fault=Fault.BAD_REQUEST)
    cmd = document["cmd"]
    spec = VERBS.get(cmd)
    if spec is None:
        raise ControlError(f"unknown command {cmd!r}", fault=Fault.UNKNOWN_COMMAND)
    for name in args:
        if name not in spec:
            raise ControlError(f"{cmd}: unknown argument {name!r}", fault=Fault.BAD_REQUEST)
    for name, arg in spec.items():
        if name not in args:
            if arg.required:
                raise ControlError(f"{cmd}: missing argument {name!r}", fault=Fault.BAD_REQUEST)
            continue
        value = args[name]
        if (isinstance(value, bool) and bool not in arg.types) or not isinstance(value, arg.types):
            kinds = " or ".join(kind.__name__ for kind in arg.types)
            raise ControlError(f"{cmd}: {name!r} must be {kinds}", fault=Fault.BAD_REQUEST)
    return ControlRequest(cmd, dict(args))


class ControlServer:
    """The asyncio server; the supervisor registers one handler per verb, then starts it."""

    def __init__(self, path: Path | str) -> None:
        self._path = Path(path)
        self._handlers: dict[str, Handler] = {}
        self._server: asyncio.Server | None = None

    @property
    def path(self) -> Path:
        """The socket file."""
        return self._path

    def register(self, verb: str, handler: Handler) -> None:
        """Answer ``verb`` with ``handler(**args)`` (sync or async, returning an ``Outcome``)."""
        if verb not in VERBS:
            raise ValueError(f"not a control verb: {verb!r}")
        self._handlers[verb] = handler

    async def dispatch(self, request: ControlRequest) -> dict[str, Any]:
        """Run the handler of a checked request and build the reply (the REPL calls this too)."""
        handler = self._handlers.get(request.cmd)
        if handler is None:
            return fault_reply(Fault.UNKNOWN_COMMAND, f"{request.cmd}: not available")
        try:
            outcome = handler(**request.args)
            if inspect.isawaitable(outcome):
                outcome = await outcome
        except ControlError as error:
            return fault_reply(error.fault, str(error))
        except Exception as error:
            log.exception("control command %s failed", request.cmd)
            return fault_reply(Fault.INTERNAL_ERROR, f"{request.cmd} failed: {error}")
        return {"ok": True, "result": outcome.result, "message": outcome.message}

    async def handle_line(self, line: bytes) -> dict[str, Any]:
        """Parse, check and dispatch one request line."""
        try:
            request = parse_request(line)
        except ControlError as error:
            return fault_reply(error.fault, str(error))
        return await self.dispatch(request)

    async def start(self) -> None:
        """Bind the socket (mode 0600), replacing a stale socket file nobody listens on."""
        if len(os.fsencode(self._path)) > _SUN_PATH_MAX:
            raise ControlError(f"socket path too long for a Unix socket: {self._path}")
        self._path.parent.mkdir(parents=True, exist_ok=True)
        if self._path.exists() or self._path.is_symlink():
            if not stat.S_ISSOCK(self._path.lstat().st_mode):
                raise ControlError(f"{self._path} exists and is not a socket; move it away")
            if _is_listening(self._path):
                raise ControlError(f"a supervisor already listens on {self._path}")
            self._path.unlink()
        old_umask = os.umask(0o177)  # the socket file is created 0600, no window for others
        try:
            self._server = await asyncio.start_unix_server(
                self._serve, path=str(self._path), limit=MAX_LINE_BYTES
            )
        finally:
            os.umask(old_umask)
        os.chmod(self._path, 0o600)

    async def close(self) -> None:
        """Stop listening and remove the socket file."""
        if self._server is None:
            return
        server, self._server = self._server, None
        server.close()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(server.wait_closed(), timeout=2.0)
        with contextlib.suppress(FileNotFoundError):
            self._path.unlink()

    async def __aenter__(self) -> ControlServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if not _same_user(writer):
                writer.write(_encode(fault_reply(Fault.BAD_REQUEST, "peer is another user")))
                return
            while True:
                try:
                    line = await reader.readline()
                except (asyncio.LimitOverrunError, ValueError):
                    writer.write(_encode(fault_reply(Fault.BAD_REQUEST, "request line too long")))
                    return
                if not line:
                    return
                if not line.strip():
                    continue
                writer.write(_encode(await self.handle_line(line)))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            with contextlib.suppress(ConnectionError, OSError):
                await writer.drain()
                writer.close()


def _encode(reply: dict[str, Any]) -> bytes:
    return json.dumps(reply, default=str).encode("utf-8") + b"\n"


def _same_user(writer: asyncio.StreamWriter) -> bool:
    """SO_PEERCRED check: only our own uid may command the supervisor."""
    sock = writer.get_extra_info("socket")
    if sock is None or not hasattr(socket, "SO_PEERCRED"):
        return True
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", raw)
    return int(uid) == os.getuid()


def _is_listening(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


def send_command(
    data_dir: Path | str,
    cmd: str,
    args: Mapping[str, Any] | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> dict[str, Any]:
    """Send one request to the supervisor of ``data_dir`` and return its reply.

    Raises ``ControlError`` with fault ``no_supervisor`` when nothing listens, ``timeout``
    when no reply arrives within ``timeout_s``, ``bad_reply`` for a malformed answer. A refusal
    is returned as a reply with ``ok`` false (see ``reply_result``).
    """
    path = socket_path(data_dir)
    request = ControlRequest(cmd, dict(args or {}))
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout_s)
        try:
            sock.connect(str(path))
        except (FileNotFoundError, ConnectionRefusedError) as error:
            raise ControlError(
                f"no supervisor is running for {data_dir} (nothing listens on {path}: "
                f"{error.strerror}); start one with `polymaker run`",
                fault=Fault.NO_SUPERVISOR,
            ) from None
        try:
            sock.sendall(request.to_line())
            reply = _read_line(sock)
        except TimeoutError:
            raise ControlError(
                f"the supervisor did not answer {cmd!r} within {timeout_s:g} s", fault=Fault.TIMEOUT
            ) from None
    try:
        document = json.loads(reply.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        document = None
    if not isinstance(document, dict) or not isinstance(document.get("ok"), bool):
        raise ControlError(f"not a control reply: {reply[:200]!r}", fault=Fault.BAD_REPLY)
    return document


def _read_line(sock: socket.socket) -> bytes:
    chunks: list[bytes] = []
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        chunks.append(chunk)
        if chunk.endswith(b"\n"):
            break
    return b"".join(chunks)


def reply_result(reply: Mapping[str, Any]) -> Any:
    """The ``result`` of a successful reply; a refusal becomes ``ControlError(fault=...)``."""
    if not reply.get("ok"):
        raise ControlError(
            str(reply.get("message", "refused")), fault=str(reply.get("fault", "error"))
        )
    return reply.get("result")


__all__ = [
    "MAX_LINE_BYTES",
    "SOCKET_NAME",
    "VERBS",
    "Arg",
    "ControlRequest",
    "ControlServer",
    "Fault",
    "Handler",
    "Outcome",
    "fault_reply",
    "parse_request",
    "reply_result",
    "send_command",
    "socket_path",
]
