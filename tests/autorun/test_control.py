"""The control socket, with a real Unix socket in tmp_path and the real client."""

from __future__ import annotations

import asyncio
import json
import socket
import stat
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from polymaker.autorun.control import (
    MAX_LINE_BYTES,
    ControlServer,
    Fault,
    Outcome,
    parse_request,
    reply_result,
    send_command,
    socket_path,
)
from polymaker.errors import ControlError

pytestmark = pytest.mark.integration


class FakeSupervisor:
    """Handlers that record their calls, as the supervisor's would."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.topics = {"alpha": "running", "beta": "finished"}

    def status(self) -> Outcome:
        self.calls.append(("status", {}))
        return Outcome({"topics": [{"topic_id": t, "state": s} for t, s in self.topics.items()]})

    async def stop(self, topic: str, force: bool = False) -> Outcome:
        self.calls.append(("stop", {"topic": topic, "force": force}))
        if topic not in self.topics:
            raise ControlError(f"no topic {topic!r}", fault=Fault.UNKNOWN_TOPIC)
        if self.topics[topic] != "running":
            raise ControlError(f"{topic} is {self.topics[topic]}", fault=Fault.NOT_RUNNING)
        self.topics[topic] = "stopping"
        return Outcome({"topic": topic, "state": "stopping"}, f"stopping {topic}")

    def set_concurrency(self, value: int) -> Outcome:
        self.calls.append(("set_concurrency", {"value": value}))
        return Outcome({"max_concurrent_workers": value})

    def panic(self) -> Outcome:
        raise RuntimeError("exchange unreachable")


def _serve(
    tmp_path: Path, body: Callable[[ControlServer, FakeSupervisor], Awaitable[None]]
) -> FakeSupervisor:
    supervisor = FakeSupervisor()

    async def main() -> None:
        server = ControlServer(socket_path(tmp_path))
        for verb in ("status", "stop", "set_concurrency", "panic"):
            server.register(verb, getattr(supervisor, verb))
        async with server:
            await body(server, supervisor)
        assert not server.path.exists()

    asyncio.run(asyncio.wait_for(main(), timeout=20))
    return supervisor


async def _send(tmp_path: Path, cmd: str, args: dict | None = None) -> dict[str, Any]:
    return await asyncio.to_thread(send_command, tmp_path, cmd, args, 5.0)


async def _raw(path: Path, payload: bytes) -> list[dict[str, Any]]:
    reader, writer = await asyncio.open_unix_connection(str(path), limit=4 * MAX_LINE_BYTES)
    writer.write(payload)
    await writer.drain()
    writer.write_eof()
    lines = []
    while line := await reader.readline():
        lines.append(json.loads(line))
    writer.close()
    await writer.wait_closed()
    return lines


def test_socket_is_mode_0600(tmp_path):
    async def body(server: ControlServer, _: FakeSupervisor) -> None:
        mode = server.path.stat().st_mode
        assert stat.S_ISSOCK(mode)
        assert stat.S_IMODE(mode) == 0o600

    _serve(tmp_path, body)


def test_status_round_trip_through_the_client(tmp_path):
    async def body(_: ControlServer, supervisor: FakeSupervisor) -> None:
        reply = await _send(tmp_path, "status")
        assert reply["ok"] is True and reply["message"] == "ok"
        assert reply_result(reply)["topics"][0] == {"topic_id": "alpha", "state": "running"}

    assert _serve(tmp_path, body).calls == [("status", {})]


def test_async_handler_gets_typed_arguments(tmp_path):
    async def body(_: ControlServer, supervisor: FakeSupervisor) -> None:
        reply = await _send(tmp_path, "stop", {"topic": "alpha", "force": True})
        assert reply == {
            "ok": True,
            "result": {"topic": "alpha", "state": "stopping"},
            "message": "stopping alpha",
        }

    assert _serve(tmp_path, body).calls == [("stop", {"topic": "alpha", "force": True})]


@pytest.mark.parametrize(
    ("args", "fault"),
    [({"topic": "nope"}, "unknown_topic"), ({"topic": "beta"}, "not_running")],
)
def test_handler_refusals_become_typed_faults(tmp_path, args, fault):
    async def body(_: ControlServer, supervisor: FakeSupervisor) -> None:
        reply = await _send(tmp_path, "stop", args)
        assert reply["ok"] is False and reply["fault"] == fault
        with pytest.raises(ControlError) as info:
            reply_result(reply)
        assert info.value.fault == fault

    _serve(tmp_path, body)


@pytest.mark.parametrize(
    ("cmd", "args", "fault"),
    [
        ("dance", {}, "unknown_command"),
        ("refresh", {}, "unknown_command"),  # a verb with no registered handler
        ("stop", {}, "bad_request"),
        ("stop", {"topic": 5}, "bad_request"),
        ("stop", {"topic": "alpha", "force": "yes"}, "bad_request"),
        ("stop", {"topic": "alpha", "speed": 1}, "bad_request"),
        ("set_concurrency", {"value": True}, "bad_request"),
        ("set_concurrency", {"value": 2.5}, "bad_request"),
    ],
)
def test_bad_requests_are_refused_before_the_handler(tmp_path, cmd, args, fault):
    async def body(_: ControlServer, supervisor: FakeSupervisor) -> None:
        reply = await _send(tmp_path, cmd, args)
        assert (reply["ok"], reply["fault"]) == (False, fault)
        assert reply["message"]

    assert _serve(tmp_path, body).calls == []


def test_garbage_lines_get_fault_replies_and_the_server_keeps_serving(tmp_path):
    async def body(server: ControlServer, _: FakeSupervisor) -> None:
        replies = await _raw(
            server.path,
            b'hello\n\xff\xfe\n[1,2]\n{}\n{"cmd": "status", "args": [], "x": 1}\n\n'
            b'{"cmd": "status"}\n',
        )
        assert [reply["ok"] for reply in replies] == [False] * 5 + [True]
        assert {reply.get("fault") for reply in replies[:5]} == {"bad_request"}
        assert (await _send(tmp_path, "status"))["ok"]

    _serve(tmp_path, body)


def test_an_overlong_line_is_refused(tmp_path):
    async def body(server: ControlServer, _: FakeSupervisor) -> None:
        replies = await _raw(server.path, b"x" * (MAX_LINE_BYTES + 100) + b"\n")
        assert replies == [
            {"ok": False, "fault": "bad_request", "message": "request line too long"}
        ]
        assert (await _send(tmp_path, "status"))["ok"]

    _serve(tmp_path, body)


def test_handler_crash_is_an_internal_error_fault(tmp_path):
    async def body(_: ControlServer, __: FakeSupervisor) -> None:
        reply = await _send(tmp_path, "panic")
        assert reply["fault"] == "internal_error"
        assert "exchange unreachable" in reply["message"]
        assert (await _send(tmp_path, "status"))["ok"]

    _serve(tmp_path, body)


def test_client_without_a_server_raises_control_error(tmp_path):
    with pytest.raises(ControlError, match="no supervisor is running") as info:
        send_command(tmp_path, "status")
    assert info.value.fault == "no_supervisor"


def test_client_with_a_stale_socket_file_raises_control_error(tmp_path):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as dead:
        dead.bind(str(socket_path(tmp_path)))  # bound, never listening: refused
    with pytest.raises(ControlError) as info:
        send_command(tmp_path, "status")
    assert info.value.fault == "no_supervisor"


def test_client_times_out_on_a_silent_listener(tmp_path):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as silent:
        silent.bind(str(socket_path(tmp_path)))
        silent.listen(1)
        with pytest.raises(ControlError, match="did not answer") as info:
            send_command(tmp_path, "status", timeout_s=0.3)
    assert info.value.fault == "timeout"


def test_server_replaces_a_stale_socket_file(tmp_path):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as dead:
        dead.bind(str(socket_path(tmp_path)))

    async def body(_: ControlServer, __: FakeSupervisor) -> None:
        assert (await _send(tmp_path, "status"))["ok"]

    _serve(tmp_path, body)


def test_second_server_on_a_live_socket_refuses(tmp_path):
    async def body(_: ControlServer, __: FakeSupervisor) -> None:
        with pytest.raises(ControlError, match="already listens"):
            await ControlServer(socket_path(tmp_path)).start()

    _serve(tmp_path, body)


def test_server_refuses_to_replace_a_regular_file(tmp_path):
    socket_path(tmp_path).write_text("important")
    with pytest.raises(ControlError, match="not a socket"):
        asyncio.run(ControlServer(socket_path(tmp_path)).start())
    assert socket_path(tmp_path).read_text() == "important"


def test_register_refuses_unknown_verbs(tmp_path):
    with pytest.raises(ValueError, match="not a control verb"):
        ControlServer(socket_path(tmp_path)).register("dance", lambda: Outcome())


def test_parse_request_accepts_missing_args_and_optional_flags():
    request = parse_request(b'{"cmd": "stop", "args": {"topic": "a"}}')
    assert (request.cmd, request.args) == ("stop", {"topic": "a"})
    assert parse_request(b'{"cmd": "status"}').args == {}
    assert parse_request(b'{"cmd": "set_poll", "args": {"seconds": 30}}').args == {"seconds": 30}
