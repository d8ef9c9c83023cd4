"""The ``polymaker`` command: one subcommand per process role or control verb.

Each subcommand lives in the package that owns it, as a module with two functions:
``add_arguments(parser)`` and ``run(args) -> int``. This module only dispatches and maps
exceptions to exit codes (0 success, 2 bad usage or invalid config, 1 runtime failure,
3 market not tradable), so every command reports errors the same way.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from polymaker.errors import PolymakerError


@dataclass(frozen=True)
class _Command:
    name: str
    help: str
    module: str | None  # None: not built yet
    issue: int


_COMMANDS: tuple[_Command, ...] = (
    _Command(
        "run",
        "the supervisor (same as python poly_maker_autorun.py)",
        "polymaker.autorun.cli_run",
        5,
    ),
    _Command("screen", "run the market screener once", "polymaker.screener.cli", 3),
    _Command("worker", "trade one market from a PARAMS.json file", "polymaker.worker.cli", 4),
    _Command("sim", "the drill exchange (a local Polymarket)", "polymaker.drill.cli", 2),
    _Command("status", "show the running supervisor's topics", "polymaker.autorun.cli_control", 5),
    _Command(
        "stop", "stop one topic of the running supervisor", "polymaker.autorun.cli_control", 5
    ),
    _Command(
        "retry",
        "retry a failed topic of the running supervisor",
        "polymaker.autorun.cli_control",
        5,
    ),
    _Command(
        "flatten",
        "sell out of one or every market of the running supervisor",
        "polymaker.autorun.cli_control",
        6,
    ),
    _Command(
        "refresh", "make the running supervisor screen now", "polymaker.autorun.cli_control", 5
    ),
    _Command(
        "exit",
        "stop the running supervisor and all its workers",
        "polymaker.autorun.cli_control",
        5,
    ),
    _Command(
        "reset-history",
        "clear the handled-topics ledger (keeps a backup)",
        "polymaker.autorun.cli_control",
        5,
    ),
    _Command(
        "panic",
        "kill switch: stop every worker, cancel every order",
        "polymaker.autorun.cli_panic",
        6,
    ),
    _Command(
        "redeem",
        "collect what resolved markets pay out (with or without a supervisor)",
        "polymaker.autorun.cli_redeem",
        13,
    ),
    _Command(
        "doctor", "preflight checks with a remedy for each failure", "polymaker.doctor.cli", 6
    ),
)


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as exit code 2 through our own error path."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(f"{self.prog}: {message}")


def _selected_command(argv: Sequence[str]) -> str | None:
    """The subcommand named in ``argv`` (the first word that is not an option)."""
    return next((word for word in argv if not word.startswith("-")), None)


def build_parser(selected: str | None = None) -> argparse.ArgumentParser:
    """The parser; only the ``selected`` subcommand's module is imported.

    Importing every role's module for every invocation would slow down and bloat each of the
    hundreds of worker processes the supervisor starts, so the other subcommands are listed for
    ``--help`` without their flags. Subcommands that are not built yet accept any arguments.
    """
    parser = _Parser(prog="polymaker", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for command in _COMMANDS:
        child = sub.add_parser(command.name, help=command.help, description=command.help)
        child.set_defaults(_command=command)
        if command.module is None:
            child.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
        elif command.name == selected:
            module = importlib.import_module(command.module)
            module.add_arguments(child)
            child.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv``, run the subcommand, and turn its outcome into an exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_selected_command(argv))
    try:
        args = parser.parse_args(argv)
    except _UsageError as error:
        print(error, file=sys.stderr)
        return 2
    command: _Command = args._command
    if command.module is None:
        print(
            f"polymaker {command.name}: not built yet (tracked in issue {command.issue})",
            file=sys.stderr,
        )
        return 1
    try:
        return int(args._run(args))
    except PolymakerError as error:
        print(f"polymaker {command.name}: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print(f"polymaker {command.name}: interrupted", file=sys.stderr)
        return 130
