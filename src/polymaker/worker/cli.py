"""``polymaker worker PARAMS.json``: trade one market until it ends or a stop is requested.

Order of start-up, so that every refusal happens before any order: params (exit 2), logging,
secrets from the environment (exit 2), the exchange client, the market check (exit 3), then the
runtime. Exit codes: 0 finished or stopped; 2 invalid params or secrets; 3 market not
tradable; 1 any other failure (the supervisor may retry).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path

from polymaker.config.worker_params import WorkerParams, load_worker_params
from polymaker.errors import ConfigError, PolymakerError
from polymaker.exchange.secrets import (
    ApiCredentials,
    PrivateKey,
    RedactingFilter,
    load_api_credentials,
    load_private_key,
)
from polymaker.exchange.trading import open_trading
from polymaker.exchange.user_feed import ApiCredentials as FeedCredentials
from polymaker.worker.logsetup import configure_logging
from polymaker.worker.runtime import EXIT_FAILURE, WorkerRuntime
from polymaker.worker.status import StatusSnapshot, StatusWriter, WorkerState

log = logging.getLogger("polymaker.worker")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``PARAMS`` positional argument."""
    parser.add_argument(
        "params",
        type=Path,
        metavar="PARAMS.json",
        help="the market, side, strategy and exchange of this worker",
    )


async def _main(
    params: WorkerParams,
    key: PrivateKey,
    credentials: ApiCredentials | None,
    redactor: RedactingFilter,
    writer: StatusWriter,
) -> int:
    trading = await open_trading(
        key.reveal(),
        params.exchange,
        credentials=None if credentials is None else credentials.to_sdk(),
    )
    try:
        sdk_creds = trading.credentials
        redactor.register(sdk_creds.key, sdk_creds.secret, sdk_creds.passphrase)
        feed_creds = FeedCredentials(sdk_creds.key, sdk_creds.secret, sdk_creds.passphrase)
        log.info("trading %s %s as %s", params.side, params.topic_id, trading.address)
        runtime = WorkerRuntime(params, trading, feed_creds, writer=writer)
        return await runtime.run()
    finally:
        await trading.aclose()


def _failed_status(params: WorkerParams, writer: StatusWriter, error: str, code: int) -> None:
    snapshot = StatusSnapshot(
        topic_id=params.topic_id,
        mode=params.mode,
        condition_id=params.condition_id,
        token_id=params.token_id,
        side=params.side,
        state=WorkerState.FAILED,
        phase="failed",
        last_error=error,
        exit_code=code,
    )
    try:
        writer.write(snapshot)
    except OSError as write_error:
        log.error("cannot write the status file: %s", write_error)


def run(args: argparse.Namespace) -> int:
    """Run one worker; returns the exit code (errors before trading are exit 2 or 1)."""
    params = load_worker_params(args.params)
    if params.mode == "paper":
        raise ConfigError(
            "paper mode is not supported by the worker yet (use drill or live)",
            file=args.params,
            key="mode",
        )
    redactor = RedactingFilter()
    configure_logging(
        topic_id=params.topic_id, mode=params.mode, log_file=params.log_file, redactor=redactor
    )
    writer = StatusWriter(params.status_file)
    try:
        key = load_private_key()
        redactor.register(key.reveal())
        credentials = load_api_credentials()
        if credentials is not None:
            redactor.register(*credentials.values())
    except ConfigError as error:
        log.error("%s", error)
        _failed_status(params, writer, str(error), error.exit_code)
        raise
    try:
        return asyncio.run(_main(params, key, credentials, redactor, writer))
    except PolymakerError as error:
        log.error("worker failed: %s", error)
        _failed_status(params, writer, str(error), error.exit_code)
        return error.exit_code
    except Exception as error:
        log.exception("worker crashed")
        _failed_status(params, writer, f"crashed: {error!r}", EXIT_FAILURE)
        return EXIT_FAILURE
