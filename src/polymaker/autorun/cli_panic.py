"""``polymaker panic``: the kill switch, from the command line.

With a supervisor running on the config's data directory, it is sent ``panic`` (it pauses
launching, SIGKILLs every worker, cancels every order of the account and confirms) and its
report is printed. Without one — or when it does not answer — this command acts itself:

0. record the pause in ``data/paused.json`` (the next supervisor starts paused);
1. SIGKILL the process groups of workers a dead supervisor left (found by their command line
   or, forked, their process title: ``polymaker worker <data/params/...json>``, verified with
   psutil before any signal);
2. cancel every order of the account and confirm (``panic.cancel_everything``), with the key
   of ``POLYMAKER_PRIVATE_KEY`` / ``POLYMAKER_KEY_FILE``, or in drill mode the throwaway key
   the supervisor created (``data/drill_wallet.key``), on the configured exchange.

Nothing to cancel (exit 0) when: the mode is paper (orders are simulated, none rests at the
exchange); drill mode with null URLs and no embedded exchange left (it stops with its
supervisor, and its orders vanish with it; a survivor is found through ``data/drill_urls.json``
and used); drill mode with no key at all (no order was ever signed here). Exit codes: 0 when
the exchange confirms zero open orders (or there is nothing to cancel), 1 when not confirmed
or refused, 2 for a bad config or a live run without a key.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from polymarket import errors as sdk_errors

from polymaker.autorun.control import Fault, send_command
from polymaker.autorun.embedded import URL_FILE_NAME
from polymaker.autorun.keys import DRILL_KEY_FILE_NAME
from polymaker.autorun.ledger import utc_now
from polymaker.autorun.panic import PANIC_TIMEOUT_S, PanicReport, cancel_everything
from polymaker.autorun.pausing import save_pause
from polymaker.autorun.processes import group_alive
from polymaker.autorun.recovery import find_workers
from polymaker.config.global_config import (
    DEFAULT_GLOBAL_CONFIG,
    GlobalConfig,
    Mode,
    ResolvedPaths,
    load_global_config,
    resolve_paths,
)
from polymaker.errors import ConfigError, ControlError, TransportError
from polymaker.exchange.sdk import create_async_secure_client, signer_address
from polymaker.exchange.secrets import (
    ENV_KEY_FILE,
    ENV_PRIVATE_KEY,
    ApiCredentials,
    PrivateKey,
    load_api_credentials,
    load_private_key,
)
from polymaker.exchange.trading import translate_sdk_error
from polymaker.exchange.urls import ExchangeUrls
from polymaker.exchange.wallet import Wallet, classify_wallet, configured_wallet_address

SUPERVISOR_WAIT_S = 15.0  # the supervisor's panic takes ~PANIC_TIMEOUT_S at worst
KILL_WAIT_S = 5.0  # the kernel only needs to tear killed workers down


@dataclass(frozen=True)
class _Target:
    """Who and where to cancel: the account's key on one exchange."""

    key: PrivateKey
    credentials: ApiCredentials | None
    urls: ExchangeUrls
    embedded: bool
    wallet: Wallet


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``polymaker panic``."""
    parser.add_argument(
        "--global-config",
        type=Path,
        default=DEFAULT_GLOBAL_CONFIG,
        help=f"finds the supervisor and the exchange (default {DEFAULT_GLOBAL_CONFIG})",
    )
    parser.add_argument(
        "--mode",
        choices=[str(mode) for mode in Mode],
        help="the mode the stopped run used, when it was not the file's (no supervisor only)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")


def run(args: argparse.Namespace) -> int:
    """Panic through the supervisor if one answers, else directly."""
    config = load_global_config(args.global_config)
    paths = resolve_paths(config.paths, args.global_config)
    try:
        reply = send_command(paths.data_dir, "panic", timeout_s=SUPERVISOR_WAIT_S)
    except ControlError as error:
        if error.fault != Fault.NO_SUPERVISOR:
            _warn(f"the supervisor did not answer ({error}); acting directly")
        return _direct(args, config, paths)
    if reply.get("ok"):
        answer = reply.get("result")
        result: dict[str, Any] = answer if isinstance(answer, dict) else {}
        _emit(args, {"via": "supervisor", **result}, str(reply.get("message", "")))
        return 0 if result.get("confirmed") else 1
    if reply.get("fault") == Fault.UNKNOWN_COMMAND:
        _warn("the running supervisor has no panic command; pausing it and acting directly")
        with contextlib.suppress(ControlError):
            send_command(paths.data_dir, "pause", timeout_s=5.0)
        return _direct(args, config, paths)
    print(f"refused ({reply.get('fault')}): {reply.get('message')}", file=sys.stderr)
    return 1


def _direct(args: argparse.Namespace, config: GlobalConfig, paths: ResolvedPaths) -> int:
    mode = config.mode if args.mode is None else Mode(args.mode)
    try:  # the next supervisor on this data directory starts paused, as after a panic it ran
        save_pause(paths.data_dir, "panic (no supervisor was running)", utc_now())
    except OSError as error:
        _warn(f"cannot record the pause in {paths.data_dir}: {error}")
    killed = asyncio.run(_kill_leftover_workers(paths))
    target = _target(mode, config, paths, os.environ)
    if isinstance(target, str):
        _emit(args, _nothing(target, killed), f"panic: {killed} workers killed; {target}")
        return 0
    report = asyncio.run(_cancel(target))
    if report is None:
        note = (
            "the embedded drill exchange is gone (stopped with its supervisor): nothing to cancel"
        )
        _emit(args, _nothing(note, killed), f"panic: {killed} workers killed; {note}")
        return 0
    report = replace(report, workers_killed=killed)
    _emit(args, {"via": "direct", **report.to_json()}, report.describe())
    return 0 if report.confirmed else 1


async def _kill_leftover_workers(paths: ResolvedPaths) -> int:
    """SIGKILL (no SIGTERM first) every verified ``polymaker worker`` group of this data dir.

    Returns how many groups are gone. A pid that leads no process group is not signalled.
    """
    params = sorted(paths.params_dir.glob("*.json")) if paths.params_dir.is_dir() else []
    pids = [pid for found in find_workers(params).values() for pid in found]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            if os.getpgid(pid) == pid:
                os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + KILL_WAIT_S
    while any(group_alive(pid) for pid in pids) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    return sum(1 for pid in pids if not group_alive(pid))


def _target(
    mode: Mode, config: GlobalConfig, paths: ResolvedPaths, environ: Mapping[str, str]
) -> _Target | str:
    """The account and exchange to cancel on, or why there is nothing to cancel."""
    if mode is Mode.PAPER:
        return "paper mode: orders are simulated, none rests at the exchange"
    urls = config.exchange.urls()
    embedded = urls is None
    if urls is None:
        url_file = paths.data_dir / URL_FILE_NAME
        if not url_file.exists():
            return (
                "drill mode with an embedded exchange and no supervisor: the exchange and "
                "its orders stopped with the supervisor; nothing to cancel"
            )
        urls = ExchangeUrls.from_file(url_file)
        if urls.production_urls:  # the embedded drill wrote it: loopback, never production
            raise ConfigError(
                f"names a Polymarket host ({urls.production_urls[0]}); not a drill exchange",
                file=url_file,
            )
    if environ.get(ENV_PRIVATE_KEY, "").strip() or environ.get(ENV_KEY_FILE, "").strip():
        key = load_private_key(environ)
    elif mode is Mode.DRILL and (paths.data_dir / DRILL_KEY_FILE_NAME).exists():
        key = load_private_key({ENV_KEY_FILE: str(paths.data_dir / DRILL_KEY_FILE_NAME)})
    elif mode is Mode.DRILL:
        return "drill mode and no key (none given, no drill key in the data dir): nothing to cancel"
    else:
        raise ConfigError(
            f"panic in live mode needs the wallet key: set {ENV_PRIVATE_KEY} or {ENV_KEY_FILE}"
        )
    address, source = configured_wallet_address(config.wallet_address, environ)
    wallet = classify_wallet(signer_address(key.reveal()), address, source=source)
    return _Target(key, load_api_credentials(environ), urls, embedded, wallet)


async def _cancel(target: _Target) -> PanicReport | None:
    """cancel_everything with a fresh client; None when an embedded exchange is unreachable."""
    creds = None if target.credentials is None else target.credentials.to_sdk()
    try:
        client = await create_async_secure_client(
            target.key.reveal(), target.urls, wallet=target.wallet, credentials=creds
        )
    except sdk_errors.PolymarketError as error:
        failure = translate_sdk_error(error, f"{target.urls.clob_url} authenticate")
        if target.embedded and isinstance(failure, TransportError):
            return None
        raise failure from error
    try:
        return await cancel_everything(client, timeout_s=PANIC_TIMEOUT_S)
    finally:
        await client.close()


def _nothing(note: str, killed: int) -> dict[str, Any]:
    return {
        "via": "direct",
        "cancelled": 0,
        "remaining": [],
        "confirmed": True,
        "workers_killed": killed,
        "note": note,
    }


def _emit(args: argparse.Namespace, document: dict[str, Any], message: str) -> None:
    if args.json:
        print(json.dumps({**document, "message": message}))
    else:
        print(message)


def _warn(message: str) -> None:
    print(f"polymaker panic: {message}", file=sys.stderr)


__all__ = ["add_arguments", "run"]
