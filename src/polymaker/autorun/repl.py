"""The REPL on the supervisor's terminal: the control verbs typed as text, answered at once.

Input is read with the event loop's reader on stdin (no thread, no blocking read), so a
command acts within the same tick, and workers never see the terminal (their stdin is
/dev/null, reference bug 4.19). Commands go through ``ControlServer.dispatch``, exactly like
``polymaker stop ...`` from another terminal. End of input (Ctrl+D) is ``exit``.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import TYPE_CHECKING, TextIO

from polymaker.autorun.commands import COMMAND_HELP, HELP_WORDS, CommandSyntaxError, parse_command
from polymaker.autorun.status_view import print_status

if TYPE_CHECKING:
    from polymaker.autorun.supervisor import Supervisor

PROMPT = "polymaker> "


async def handle_line(supervisor: Supervisor, line: str, out: TextIO) -> None:
    """Run one typed command and print its answer."""
    if line.strip().lower() in HELP_WORDS:
        out.write(COMMAND_HELP + "\n")
        return
    try:
        request = parse_command(line)
    except CommandSyntaxError as error:
        out.write(f"{error}\n")
        return
    if request is None:
        return
    reply = await supervisor.server.dispatch(request)
    if request.cmd == "status" and reply.get("ok"):
        print_status(reply["result"], out)
        return
    prefix = "" if reply.get("ok") else f"refused ({reply.get('fault')}): "
    out.write(f"{prefix}{reply.get('message')}\n")


async def run_repl(supervisor: Supervisor, stdin: TextIO = sys.stdin) -> None:
    """Read commands until exit or end of input."""
    loop = asyncio.get_running_loop()
    fd = stdin.fileno()
    lines: asyncio.Queue[str | None] = asyncio.Queue()
    pending = b""

    def readable() -> None:
        nonlocal pending
        data = os.read(fd, 4096)
        if not data:
            loop.remove_reader(fd)
            lines.put_nowait(None)
            return
        pending += data
        while b"\n" in pending:
            raw, pending = pending.split(b"\n", 1)
            lines.put_nowait(raw.decode("utf-8", errors="replace"))

    loop.add_reader(fd, readable)
    out = sys.stdout
    try:
        out.write(f"type 'help' for commands\n{PROMPT}")
        out.flush()
        while not supervisor.exit_requested.is_set():
            line = await lines.get()
            if line is None:
                supervisor.request_exit("end of input")
                return
            await handle_line(supervisor, line, out)
            out.write(PROMPT)
            out.flush()
    finally:
        loop.remove_reader(fd)


__all__ = ["PROMPT", "handle_line", "run_repl"]
