"""``polymaker status|stop|retry|flatten|refresh|exit|reset-history``: talk to the supervisor.

One module for the seven commands (``polymaker.cli`` registers it for each; the command name is
the last word of the subparser's ``prog``). The supervisor is found through
``--global-config`` (its data directory's control socket). ``reset-history`` also works with no
supervisor running: it then edits the ledger file itself (every mode), after a timestamped
backup. Exit codes: 0 done, 1 refused or no supervisor, 2 bad usage/config.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from polymaker.autorun.control import Fault, send_command
from polymaker.autorun.ledger import backup_path, reset_ledger_file
from polymaker.autorun.status_view import print_status
from polymaker.config.global_config import (
    DEFAULT_GLOBAL_CONFIG,
    ResolvedPaths,
    load_global_config,
    resolve_paths,
)
from polymaker.drill.world import WORLD_FILE_NAME
from polymaker.errors import ControlError

WATCH_PERIOD_S = 2.0
EXIT_WAIT_S = 120.0


def _paths(args: argparse.Namespace) -> ResolvedPaths:
    config = load_global_config(args.global_config)
    return resolve_paths(config.paths, args.global_config)


def _call(paths: ResolvedPaths, cmd: str, call_args: dict[str, Any] | None = None) -> int:
    """Send one command, print its message; 1 when refused."""
    reply = send_command(paths.data_dir, cmd, call_args or {})
    if not reply.get("ok"):
        print(f"refused ({reply.get('fault')}): {reply.get('message')}", file=sys.stderr)
        return 1
    print(reply.get("message"))
    return 0


def _status(args: argparse.Namespace) -> int:
    paths = _paths(args)
    while True:
        reply = send_command(paths.data_dir, "status")
        if not reply.get("ok"):
            print(f"refused ({reply.get('fault')}): {reply.get('message')}", file=sys.stderr)
            return 1
        if args.json:
            sys.stdout.write(json.dumps(reply["result"]) + "\n")
        else:
            if args.watch:
                sys.stdout.write("\x1b[2J\x1b[H")
            print_status(reply["result"], sys.stdout, wide=args.wide)
        sys.stdout.flush()
        if not args.watch:
            return 0
        time.sleep(WATCH_PERIOD_S)


def _stop(args: argparse.Namespace) -> int:
    return _call(_paths(args), "stop", {"topic": args.topic, "force": args.force})


def _retry(args: argparse.Namespace) -> int:
    return _call(_paths(args), "retry", {"topic": args.topic})


def _flatten(args: argparse.Namespace) -> int:
    return _call(_paths(args), "flatten", {"topic": args.topic} if args.topic else {})


def _add_flatten(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "topic", metavar="TOPIC", nargs="?", help="the topic id (default: every running topic)"
    )


def _refresh(args: argparse.Namespace) -> int:
    return _call(_paths(args), "refresh")


def _exit(args: argparse.Namespace) -> int:
    """Ask the supervisor to exit and wait until its socket is gone (workers stopped)."""
    paths = _paths(args)
    code = _call(paths, "exit")
    if code or args.no_wait:
        return code
    deadline = time.monotonic() + EXIT_WAIT_S
    while paths.control_socket.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    if paths.control_socket.exists():
        print(f"the supervisor is still stopping after {EXIT_WAIT_S:g} s", file=sys.stderr)
        return 1
    print("supervisor stopped")
    return 0


def _confirmed(args: argparse.Namespace, what: str) -> bool:
    if args.yes:
        return True
    if not sys.stdin.isatty():
        print(f"reset-history: {what}; pass --yes to confirm", file=sys.stderr)
        return False
    answer = input(f"{what}. Continue? [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def _reset_history(args: argparse.Namespace) -> int:
    paths = _paths(args)
    world = paths.data_dir / WORLD_FILE_NAME
    try:
        send_command(paths.data_dir, "status", timeout_s=5.0)
    except ControlError as error:
        if error.fault != Fault.NO_SUPERVISOR:
            raise
        what = f"forget finished/failed/stopped topics in {paths.handled_topics}"
        if args.drill_world:
            what += f" and start a fresh drill world (no positions, orders or history) in {world}"
        if not _confirmed(args, what):
            return 1
        backup = reset_ledger_file(paths.handled_topics)
        print("no ledger file; nothing to reset" if backup is None else f"history reset ({backup})")
        return _reset_drill_world(world, fresh=args.drill_world)
    if args.drill_world:
        print(
            "reset-history --drill-world: the running supervisor's drill exchange holds that "
            "world; `polymaker exit` first",
            file=sys.stderr,
        )
        return 1
    if not _confirmed(args, "forget finished/failed/stopped topics of the running supervisor"):
        return 1
    return _call(paths, "reset_history")


def _reset_drill_world(world: Path, *, fresh: bool) -> int:
    """Move the drill world aside (``--drill-world``), or say that it is kept."""
    if not world.exists():
        return 0
    if not fresh:
        print(
            f"the drill world {world} is kept (its positions and resting orders stay); "
            "add --drill-world to start a fresh one too"
        )
        return 0
    backup = backup_path(world, datetime.now(UTC))
    world.replace(backup)
    print(f"drill world reset ({backup}); the next drill run starts a fresh one")
    return 0


def _topic_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("topic", metavar="TOPIC", help="the topic id (market slug)")


def _add_stop(parser: argparse.ArgumentParser) -> None:
    _topic_arguments(parser)
    parser.add_argument("--force", action="store_true", help="SIGKILL at once, then sweep orders")


def _add_status(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    parser.add_argument("--watch", action="store_true", help=f"refresh every {WATCH_PERIOD_S:g} s")
    parser.add_argument(
        "--wide", action="store_true", help="every column, uncut (the table fits the terminal)"
    )


def _add_exit(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-wait", action="store_true", help="do not wait for the exit")


def _add_reset(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    parser.add_argument(
        "--drill-world",
        action="store_true",
        help="also start a fresh drill world (the embedded exchange's markets, balances, "
        "positions and orders; a backup is kept); only with no supervisor running",
    )


Adder = Callable[[argparse.ArgumentParser], None]
Runner = Callable[[argparse.Namespace], int]

_COMMANDS: dict[str, tuple[Adder, Runner]] = {
    "status": (_add_status, _status),
    "stop": (_add_stop, _stop),
    "retry": (_topic_arguments, _retry),
    "flatten": (_add_flatten, _flatten),
    "refresh": (lambda _parser: None, _refresh),
    "exit": (_add_exit, _exit),
    "reset-history": (_add_reset, _reset_history),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of the command this subparser is for, plus ``--global-config``."""
    name = parser.prog.split()[-1]
    parser.add_argument(
        "--global-config",
        type=Path,
        default=DEFAULT_GLOBAL_CONFIG,
        help=f"finds the supervisor's data directory (default {DEFAULT_GLOBAL_CONFIG})",
    )
    _COMMANDS[name][0](parser)
    parser.set_defaults(_control_command=name)


def run(args: argparse.Namespace) -> int:
    """Run the control command named by the subparser."""
    return _COMMANDS[args._control_command][1](args)


__all__ = ["add_arguments", "run"]
