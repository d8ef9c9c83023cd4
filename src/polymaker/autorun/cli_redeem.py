"""``polymaker redeem [--dry-run]``: collect what resolved markets pay out, by hand.

With a supervisor running on the config's data directory, it is sent ``redeem`` (a pass now,
failed redemptions retried at once) and its report is printed. Without one, this command
takes the data directory's lock (so no supervisor starts meanwhile), authenticates with the
account's key (``POLYMAKER_PRIVATE_KEY`` / ``POLYMAKER_KEY_FILE``, or the drill key), and runs
the same pass itself, writing ``data/redemptions.json`` and the topics' ledger entries (the
next supervisor counts today's payouts in its daily PnL). ``--dry-run`` lists what would be
redeemed and changes nothing. Exit codes: 0 done (or nothing to do), 1 a redemption failed
(it is recorded and retried later) or the exchange could not be reached, 2 bad config.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

from polymarket import errors as sdk_errors

from polymaker.autorun.control import Fault, send_command
from polymaker.autorun.embedded import URL_FILE_NAME
from polymaker.autorun.keys import worker_key
from polymaker.autorun.ledger import Ledger, utc_now
from polymaker.autorun.limits import DailyPnl
from polymaker.autorun.lock import SupervisorLock
from polymaker.autorun.redeemer import open_redeemer
from polymaker.autorun.redemptions import (
    Redemption,
    RedemptionState,
    describe_pass,
    note_redemption,
)
from polymaker.config.global_config import (
    DEFAULT_GLOBAL_CONFIG,
    GlobalConfig,
    Mode,
    ResolvedPaths,
    load_global_config,
    resolve_paths,
)
from polymaker.errors import ControlError
from polymaker.exchange.redeem import RedeemError
from polymaker.exchange.sdk import create_async_secure_client
from polymaker.exchange.trading import translate_sdk_error
from polymaker.exchange.urls import ExchangeUrls

SUPERVISOR_WAIT_S = 180.0  # a pass waits for each transaction to be mined


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``polymaker redeem``."""
    parser.add_argument(
        "--global-config",
        type=Path,
        default=DEFAULT_GLOBAL_CONFIG,
        help=f"finds the supervisor, account and exchange (default {DEFAULT_GLOBAL_CONFIG})",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="show what would be redeemed; change nothing"
    )
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")


def run(args: argparse.Namespace) -> int:
    """Redeem through the supervisor if one answers, else directly."""
    config = load_global_config(args.global_config)
    paths = resolve_paths(config.paths, args.global_config)
    try:
        reply = send_command(
            paths.data_dir, "redeem", {"dry_run": args.dry_run}, timeout_s=SUPERVISOR_WAIT_S
        )
    except ControlError as error:
        if error.fault != Fault.NO_SUPERVISOR:
            raise
        return _direct(args, config, paths)
    if not reply.get("ok"):
        print(f"refused ({reply.get('fault')}): {reply.get('message')}")
        return 1
    answer = reply.get("result")
    result: dict[str, Any] = answer if isinstance(answer, dict) else {}
    _emit(args, {"via": "supervisor", **result}, str(reply.get("message", "")))
    rows = result.get("redemptions", [])
    return 1 if any(row.get("state") == "retrying" for row in rows) else 0


def _urls(config: GlobalConfig, paths: ResolvedPaths) -> ExchangeUrls | None:
    """The configured exchange, or an embedded drill exchange that is still up (else None)."""
    urls = config.exchange.urls()
    if urls is not None:
        return urls
    url_file = paths.data_dir / URL_FILE_NAME
    return ExchangeUrls.from_file(url_file) if url_file.exists() else None


def _direct(args: argparse.Namespace, config: GlobalConfig, paths: ResolvedPaths) -> int:
    if config.mode is Mode.PAPER:
        _emit(args, _nothing(), "paper mode: nothing is held at the exchange; nothing to redeem")
        return 0
    urls = _urls(config, paths)
    if urls is None:
        note = (
            "drill mode with an embedded exchange and no supervisor: the exchange stopped with "
            "it; start polymaker run (it redeems by itself)"
        )
        _emit(args, _nothing(), note)
        return 0
    lock = SupervisorLock(paths.data_dir)
    lock.acquire()
    try:
        records = asyncio.run(_pass(config, paths, urls, args.dry_run))
    finally:
        lock.release()
    document = {"via": "direct", "dry_run": args.dry_run}
    _emit(
        args,
        {**document, "redemptions": [r.summary() for r in records]},
        describe_pass(records, dry_run=args.dry_run),
    )
    return 1 if any(r.state is RedemptionState.RETRYING for r in records) else 0


async def _pass(
    config: GlobalConfig, paths: ResolvedPaths, urls: ExchangeUrls, dry_run: bool
) -> list[Redemption]:
    key = worker_key(config.mode, paths.data_dir, wallet_address=config.wallet_address)
    assert key.key is not None  # drill and live always have one
    ledger = Ledger.load(paths.handled_topics, config.mode)
    try:
        client = await create_async_secure_client(
            key.key.reveal(),
            urls,
            wallet=key.wallet,
            credentials=None if key.credentials is None else key.credentials.to_sdk(),
            relayer_key=key.relayer_key,
        )
    except sdk_errors.PolymarketError as error:
        raise translate_sdk_error(error, f"{urls.clob_url} authenticate") from error
    pnl = DailyPnl.starting(utc_now())  # the supervisor counts the day's payouts from the file
    try:
        redeemer = open_redeemer(
            client,
            paths.data_dir,
            config.redeem,
            topic_of=ledger.topic_of,
            on_record=lambda record: note_redemption(ledger, pnl, record),
        )
        return await redeemer.run_now(dry_run=dry_run)
    except RedeemError as error:
        raise ControlError(str(error)) from error
    finally:
        await client.close()


def _nothing() -> dict[str, Any]:
    return {"via": "direct", "redemptions": []}


def _emit(args: argparse.Namespace, document: dict[str, Any], message: str) -> None:
    if args.json:
        print(json.dumps({**document, "message": message}))
    else:
        print(message)


__all__ = ["add_arguments", "run"]
