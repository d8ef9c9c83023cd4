"""``polymaker doctor [--mode drill|paper|live]``: preflight checks, a remedy for each failure.

Exit codes: 0 every check the mode needs passed; 1 a needed check failed; 2 a config file is
invalid (or live was not chosen both in the file and on the command line). In drill mode with
null exchange URLs doctor starts its own drill exchange (``polymaker sim`` in a temporary
directory) and stops it at exit; ``--exchange-url-file`` points it at a running one instead.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.table import Table

from polymaker.autorun.embedded import EmbeddedExchange, EmbeddedExchangeError
from polymaker.config.filter import load_filter_params
from polymaker.config.global_config import (
    DEFAULT_GLOBAL_CONFIG,
    GlobalConfig,
    Mode,
    choose_mode,
    load_global_config,
    resolve_paths,
)
from polymaker.config.strategy_defaults import load_strategy_defaults
from polymaker.doctor.checks import CheckResult, Status, fail, ok
from polymaker.doctor.runner import DoctorRun, exit_code, run_checks
from polymaker.errors import ConfigError
from polymaker.exchange.urls import ExchangeUrls

EXIT_CONFIG = 2
_STYLES = {Status.OK: "green", Status.WARN: "yellow", Status.FAIL: "bold red", Status.SKIP: "dim"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--mode``, ``--global-config``, ``--exchange-url-file``, ``--json``."""
    parser.add_argument("--mode", choices=[str(m) for m in Mode], help="default: the file's mode")
    parser.add_argument(
        "--global-config",
        type=Path,
        default=DEFAULT_GLOBAL_CONFIG,
        help=f"the global config file (default {DEFAULT_GLOBAL_CONFIG})",
    )
    parser.add_argument(
        "--exchange-url-file",
        type=Path,
        help="check the exchange whose URLs `polymaker sim --url-file` wrote to this file",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")


def _config_checks(args: argparse.Namespace) -> tuple[GlobalConfig, Mode, CheckResult]:
    """Load and cross-check every config file; ConfigError names the file and the key."""
    config = load_global_config(args.global_config)
    mode = choose_mode(config, args.mode, file=args.global_config)
    paths = resolve_paths(config.paths, args.global_config)
    load_filter_params(paths.filter_config)
    load_strategy_defaults(paths.strategy_config)
    detail = f"{args.global_config}, {paths.filter_config.name}, {paths.strategy_config.name}"
    return config, mode, ok("config", f"valid: {detail}")


async def _with_exchange(
    args: argparse.Namespace,
    config: GlobalConfig,
    mode: Mode,
    check: Callable[[ExchangeUrls], Awaitable[list[CheckResult]]],
) -> list[CheckResult]:
    """Run ``check`` against the configured, given or an embedded drill exchange."""
    if args.exchange_url_file is not None:
        urls = ExchangeUrls.from_file(args.exchange_url_file)
        return [ok("exchange", f"from {args.exchange_url_file}"), *await check(urls)]
    configured = config.exchange.urls()
    if configured is not None:
        return [ok("exchange", f"configured: {configured.clob_url}"), *await check(configured)]
    assert mode is Mode.DRILL  # choose_mode refuses paper/live without URLs
    with tempfile.TemporaryDirectory(prefix="polymaker-doctor-") as scratch:
        embedded = EmbeddedExchange(config.drill, Path(scratch), Path(scratch))
        try:
            urls = await embedded.start()
        except EmbeddedExchangeError as error:
            remedy = "run `polymaker sim` by hand to see why it does not start"
            return [fail("exchange", str(error), remedy)]
        try:
            started = ok("exchange", f"embedded drill exchange (pid {embedded.pid})")
            return [started, *await check(urls)]
        finally:
            await embedded.stop()


def _print_plain(results: list[CheckResult], out: TextIO) -> None:
    for result in results:
        line = f"{result.status.upper():<4}  {result.name:<18}  {result.detail}"
        if result.remedy and result.status in (Status.FAIL, Status.WARN):
            line += f"\n      fix: {result.remedy}"
        print(line, file=out)


def _print_table(results: list[CheckResult], mode: str, out: TextIO) -> None:
    table = Table(title=f"polymaker doctor ({mode} mode)")
    for column in ("check", "status", "detail", "remedy"):
        table.add_column(column, overflow="fold")
    for r in results:
        table.add_row(r.name, f"[{_STYLES[r.status]}]{r.status}[/]", r.detail, r.remedy)
    Console(file=out).print(table)


def report(results: list[CheckResult], mode: str, code: int, *, as_json: bool, out: TextIO) -> None:
    """Print the results: JSON document, a rich table on a terminal, else plain lines."""
    if as_json:
        document = {
            "mode": mode,
            "ok": code == 0,
            "exit_code": code,
            "checks": [result.as_json() for result in results],
        }
        print(json.dumps(document, indent=2), file=out)
    elif out.isatty():
        _print_table(results, mode, out)
    else:
        _print_plain(results, out)


def run(args: argparse.Namespace) -> int:
    """Run every check and report; the exit code follows the module doc."""
    out = sys.stdout
    try:
        config, mode, config_row = _config_checks(args)
    except ConfigError as error:
        row = fail("config", str(error), "fix the named key in the named file")
        report([row], args.mode or "?", EXIT_CONFIG, as_json=args.json, out=out)
        return EXIT_CONFIG
    paths = resolve_paths(config.paths, args.global_config)

    async def check(urls: ExchangeUrls) -> list[CheckResult]:
        return await run_checks(DoctorRun(config, mode, urls, paths, dict(os.environ)))

    try:
        results = [config_row, *asyncio.run(_with_exchange(args, config, mode, check))]
    except ConfigError as error:
        row = fail("exchange", str(error), "point --exchange-url-file at a valid url file")
        results, code = [config_row, row], EXIT_CONFIG
    else:
        code = exit_code(results)
    report(results, str(mode), code, as_json=args.json, out=out)
    return code


__all__ = ["add_arguments", "report", "run"]
