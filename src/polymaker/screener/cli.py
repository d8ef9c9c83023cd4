"""``polymaker screen`` (and ``python Customize_fliter_blacklist.py``): screen once, write it.

Exit codes: 0 done (even with zero topics); 2 invalid filter config or global config (the
message names the file, the key and the problem); 1 the exchange could not be reached after
retries (the message has the URL and the last error). On failure ``--out`` is not touched, so
the previous result stays in place.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from types import TracebackType
from typing import Any

from polymaker.config import read_json_file
from polymaker.config.filter import FilterParams, load_filter_params
from polymaker.errors import ConfigError
from polymaker.exchange.urls import PRODUCTION_CLOB_URL, PRODUCTION_GAMMA_URL
from polymaker.screener.output import (
    document_bytes,
    print_plain,
    print_table,
    result_document,
    write_csv,
    write_result,
)
from polymaker.screener.screen import ScreenResult, screen

DEFAULT_FILTER_CONFIG = Path("config/filter_params.json")
DEFAULT_GLOBAL_CONFIG = Path("config/global_config.json")
DEFAULT_OUT = Path("data/topics_filtered.json")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``polymaker screen``."""
    parser.add_argument(
        "--filter-config",
        type=Path,
        default=DEFAULT_FILTER_CONFIG,
        help=f"filter parameters (default {DEFAULT_FILTER_CONFIG}; built-in defaults if absent)",
    )
    parser.add_argument(
        "--global-config",
        type=Path,
        default=DEFAULT_GLOBAL_CONFIG,
        help="read exchange.gamma_url/clob_url from here when present",
    )
    parser.add_argument("--gamma-url", help="Gamma API base URL (overrides the global config)")
    parser.add_argument("--clob-url", help="CLOB API base URL (overrides the global config)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default {DEFAULT_OUT}")
    parser.add_argument("--csv", type=Path, metavar="F", help="also write the topics as CSV")
    parser.add_argument(
        "--json", action="store_true", help="print the result document as JSON on stdout"
    )


def exchange_urls_from_global(path: Path) -> dict[str, str]:
    """``exchange.gamma_url`` / ``exchange.clob_url`` of a global config, when set (non-null).

    A deliberately small lookup: the GlobalConfig model belongs to the supervisor's package.
    """
    if not path.exists():
        return {}
    document = read_json_file(path)
    exchange = document.get("exchange") if isinstance(document, dict) else None
    if not isinstance(exchange, dict):
        return {}
    urls: dict[str, str] = {}
    for key in ("gamma_url", "clob_url"):
        value = exchange.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not value.startswith(("http://", "https://")):
            raise ConfigError("must be an http(s) URL or null", file=path, key=f"exchange.{key}")
        urls[key] = value.rstrip("/")
    return urls


def _load_params(path: Path) -> FilterParams:
    if path == DEFAULT_FILTER_CONFIG and not path.exists():
        print(f"note: {path} not found; using the built-in defaults", file=sys.stderr)
        return FilterParams()
    return load_filter_params(path)


def _url(flag: str | None, configured: str | None, default: str, name: str) -> str:
    value = flag or configured or default
    if not value.startswith(("http://", "https://")):
        raise ConfigError(f"{name} must start with http:// or https:// (got {value!r})")
    return value.rstrip("/")


class _RichProgress:
    """Progress bars on the terminal while fetching (listing pages, book batches)."""

    def __init__(self) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self._bar = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), transient=True
        )
        self._tasks: dict[str, Any] = {}

    def __enter__(self) -> _RichProgress:
        self._bar.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._bar.stop()

    def advance(self, stage: str, amount: int = 1, total: int | None = None) -> None:
        if stage not in self._tasks:
            label = "listing pages" if stage == "listing" else "order book batches"
            self._tasks[stage] = self._bar.add_task(label, total=total)
        self._bar.update(self._tasks[stage], advance=amount, total=total)


def _run_screen(params: FilterParams, gamma_url: str, clob_url: str, show: bool) -> ScreenResult:
    if not show:
        return screen(params, gamma_url=gamma_url, clob_url=clob_url)
    with _RichProgress() as progress:
        return screen(params, gamma_url=gamma_url, clob_url=clob_url, progress=progress)


def run(args: argparse.Namespace) -> int:
    """Screen once; write --out (and --csv) only after a successful screen."""
    params = _load_params(args.filter_config)
    configured = exchange_urls_from_global(args.global_config)
    gamma_url = _url(args.gamma_url, configured.get("gamma_url"), PRODUCTION_GAMMA_URL, "gamma")
    clob_url = _url(args.clob_url, configured.get("clob_url"), PRODUCTION_CLOB_URL, "clob")
    interactive = sys.stdout.isatty() and not args.json
    result = _run_screen(params, gamma_url, clob_url, interactive)
    write_result(result, args.out)
    if args.csv is not None:
        write_csv(result, args.csv)
    if args.json:
        sys.stdout.write(document_bytes(result_document(result), indent=False).decode("utf-8"))
    elif interactive:
        print_table(result, sys.stdout)
    else:
        print_plain(result, sys.stdout)
    return 0


__all__ = ["add_arguments", "exchange_urls_from_global", "run"]
