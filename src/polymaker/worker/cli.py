"""``polymaker worker PARAMS.json``: trade one market until it ends or a stop is requested.

Order of start-up, so that every refusal happens before any order: params (exit 2), logging,
secrets from the environment (exit 2; given API credentials that are not the key's are refused
too), the exchange client, the market check (exit 3), then the runtime. Paper mode reads no
secret at all: its orders are simulated (``worker.venue``). Exit codes: 0 finished or
stopped; 2 invalid params or secrets; 3 market not tradable; 1 any other failure (the
supervisor may retry). The supervisor usually forks this same code from its pre-imported
template (``worker.template``), which calls :func:`run_to_exit_code`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import httpx

from polymaker.config.worker_params import WorkerParams, load_worker_params
from polymaker.errors import ConfigError, PolymakerError
from polymaker.exchange.sdk import signer_address
from polymaker.exchange.secrets import (
    ApiCredentials,
    PrivateKey,
    RedactingFilter,
    load_api_credentials,
    load_private_key,
)
from polymaker.exchange.trading import open_trading
from polymaker.exchange.user_feed import ApiCredentials as FeedCredentials
from polymaker.exchange.wallet import classify_wallet
from polymaker.worker.logsetup import configure_logging
from polymaker.worker.runtime import EXIT_FAILURE, WorkerRuntime
from polymaker.worker.status import StatusSnapshot, StatusWriter, WorkerState
from polymaker.worker.venue import (
    REST_TIMEOUT_S,
    ExchangeFeeds,
    PaperFeeds,
    paper_gateway,
    rate_limiter,
)

log = logging.getLogger("polymaker.worker")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``PARAMS`` positional argument."""
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
    """drill/live: trade for the account's wallet with ``key`` (credentials given or derived)."""
    wallet = classify_wallet(
        signer_address(key.reveal()), params.wallet_address, source="wallet_address"
    )
    trading = await open_trading(
        key.reveal(),
        params.exchange,
        wallet=wallet,
        credentials=None if credentials is None else credentials.to_sdk(),
        limiter=rate_limiter(params),
    )
    try:
        sdk_creds = trading.credentials
        redactor.register(sdk_creds.key, sdk_creds.secret, sdk_creds.passphrase)
        feeds = ExchangeFeeds(
            FeedCredentials(sdk_creds.key, sdk_creds.secret, sdk_creds.passphrase)
        )
        log.info("trading %s %s for %s", params.side, params.topic_id, wallet.describe())
        async with httpx.AsyncClient(timeout=REST_TIMEOUT_S) as http_client:
            runtime = WorkerRuntime(params, trading, feeds, writer=writer, http_client=http_client)
            return await runtime.run()
    finally:
        await trading.aclose()


async def _main_paper(params: WorkerParams, writer: StatusWriter) -> int:
    """paper: simulated orders on the exchange's public market data; no key, no credentials."""
    async with httpx.AsyncClient(timeout=REST_TIMEOUT_S) as http_client:
        gateway = paper_gateway(params, http_client)
        log.info(
            "paper trading %s %s: orders are simulated locally (cash %s, ledger %s)",
            params.side,
            params.topic_id,
            gateway.ledger.cash,
            params.paper_ledger_path,
        )
        runtime = WorkerRuntime(
            params, gateway, PaperFeeds(gateway), writer=writer, http_client=http_client
        )
        try:
            return await runtime.run()
        finally:
            await gateway.aclose()


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
    return run_params(Path(args.params))


def run_params(params_file: Path) -> int:
    """Run the worker of ``params_file``; ``PolymakerError`` before trading propagates."""
    params = load_worker_params(params_file)
    redactor = RedactingFilter()
    configure_logging(
        topic_id=params.topic_id, mode=params.mode, log_file=params.log_file, redactor=redactor
    )
    writer = StatusWriter(params.status_file)
    if params.mode == "paper":
        return _guarded(params, writer, lambda: _main_paper(params, writer))
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
    return _guarded(params, writer, lambda: _main(params, key, credentials, redactor, writer))


def run_to_exit_code(params_file: Path) -> int:
    """:func:`run_params` with every error mapped to its exit code (and told on stderr)."""
    try:
        return run_params(params_file)
    except PolymakerError as error:
        print(f"polymaker worker: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return 130


def _guarded(
    params: WorkerParams, writer: StatusWriter, main: Callable[[], Coroutine[Any, Any, int]]
) -> int:
    """Run ``main`` on a new event loop; a failure becomes its exit code and a failed status."""
    try:
        return asyncio.run(main())
    except PolymakerError as error:
        log.error("worker failed: %s", error)
        _failed_status(params, writer, str(error), error.exit_code)
        return error.exit_code
    except Exception as error:
        log.exception("worker crashed")
        _failed_status(params, writer, f"crashed: {error!r}", EXIT_FAILURE)
        return EXIT_FAILURE
