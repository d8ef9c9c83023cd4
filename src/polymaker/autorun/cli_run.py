"""``polymaker run`` (and ``python poly_maker_autorun.py``): the supervisor, from config alone.

``--command CMD`` (repeatable) goes to the supervisor already running on the same data
directory, through its control socket, and this invocation then exits; when none runs, this
one starts and runs the commands once it is up (the reference started a second, deaf
supervisor, 3.10). The REPL runs only on a terminal and without ``--no-repl``/``--command``.
Every log line carries the mode; ``logs/autorun.log`` rotates by size.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import logging.handlers
import sys
from pathlib import Path

from polymaker.autorun.commands import CommandSyntaxError, parse_command
from polymaker.autorun.control import ControlRequest, Fault, send_command
from polymaker.autorun.supervisor import RunOptions, Supervisor
from polymaker.config.filter import load_filter_params
from polymaker.config.global_config import (
    DEFAULT_GLOBAL_CONFIG,
    GlobalConfig,
    Mode,
    ResolvedPaths,
    choose_mode,
    load_global_config,
    resolve_paths,
)
from polymaker.config.strategy_defaults import load_strategy_defaults
from polymaker.errors import ControlError
from polymaker.exchange.secrets import RedactingFilter
from polymaker.worker.logsetup import UtcFormatter

_FORMAT = "%(asctime)s.%(msecs)03dZ %(levelname)s [{mode}] %(name)s: %(message)s"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``polymaker run``."""
    parser.add_argument("--global-config", type=Path, default=DEFAULT_GLOBAL_CONFIG)
    parser.add_argument("--strategy-config", type=Path, help="overrides paths.strategy_config")
    parser.add_argument("--filter-config", type=Path, help="overrides paths.filter_config")
    parser.add_argument("--mode", choices=[str(mode) for mode in Mode], help="drill|paper|live")
    parser.add_argument("--no-repl", action="store_true", help="do not read commands on stdin")
    parser.add_argument(
        "--command",
        action="append",
        default=[],
        metavar="CMD",
        help="a command for the running supervisor (or for this one once started); repeatable",
    )


def configure_logging(
    config: GlobalConfig, mode: Mode, paths: ResolvedPaths, *, console_level: int
) -> RedactingFilter:
    """Rotated ``logs/autorun.log`` (INFO) plus stderr; both redact registered secrets."""
    redactor = RedactingFilter()
    paths.log_dir.mkdir(parents=True, exist_ok=True)
    formatter = UtcFormatter(_FORMAT.format(mode=mode), datefmt="%Y-%m-%dT%H:%M:%S")
    file_handler = logging.handlers.RotatingFileHandler(
        paths.supervisor_log,
        maxBytes=config.log_max_bytes,
        backupCount=config.log_backups,
        encoding="utf-8",
    )
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(console_level)
    root = logging.getLogger()
    for handler in (file_handler, console):
        handler.setFormatter(formatter)
        handler.addFilter(redactor)
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    for noisy in ("httpx", "httpcore", "polymarket", "websockets"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return redactor


def _send_to_running(data_dir: Path, requests: list[ControlRequest]) -> int | None:
    """Send the commands to a running supervisor; None when none is running."""
    code = 0
    for index, request in enumerate(requests):
        try:
            reply = send_command(data_dir, request.cmd, request.args)
        except ControlError as error:
            if index == 0 and error.fault == Fault.NO_SUPERVISOR:
                return None
            raise
        if not reply.get("ok"):
            code = 1
            print(f"refused ({reply.get('fault')}): {reply.get('message')}", file=sys.stderr)
        elif request.cmd == "status":
            from polymaker.autorun.status_view import print_status

            print_status(reply["result"], sys.stdout)
        else:
            print(reply.get("message"))
    return code


def run(args: argparse.Namespace) -> int:
    """Start the supervisor (or hand ``--command`` to the running one)."""
    config_file: Path = args.global_config
    config = load_global_config(config_file)
    mode = choose_mode(config, args.mode, file=config_file)
    config = config.model_copy(update={"mode": mode})
    paths = resolve_paths(
        config.paths,
        config_file,
        filter_config=args.filter_config,
        strategy_config=args.strategy_config,
    )
    try:
        requests = [r for r in (parse_command(text) for text in args.command) if r is not None]
    except CommandSyntaxError as error:
        print(f"polymaker run: --command: {error}", file=sys.stderr)
        return 2
    if requests:
        code = _send_to_running(paths.data_dir, requests)
        if code is not None:
            return code
    strategy = load_strategy_defaults(paths.strategy_config)
    load_filter_params(paths.filter_config)  # a bad filter file stops here, not in every screen
    repl = not args.no_repl and not requests and sys.stdin.isatty()
    redactor = configure_logging(
        config, mode, paths, console_level=logging.WARNING if repl else logging.INFO
    )
    options = RunOptions(
        config_file=config_file.expanduser().resolve(),
        commands=tuple(requests),
        repl=repl,
        redactor=redactor,
    )
    return asyncio.run(Supervisor(config, mode, paths, strategy, options).run())


__all__ = ["add_arguments", "configure_logging", "run"]
