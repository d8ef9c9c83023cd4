"""The supervisor's one authenticated client for the account: credentials, heartbeat, panic.

At start-up in drill and live mode (never paper: no order rests at the exchange) the supervisor
authenticates once with the wallet key. The API credentials are taken from the environment
when given (``POLYMAKER_API_KEY``... or ``POLYMAKER_CREDS_FILE``) and otherwise derived from
the key once, here. They are written to ``data/api_creds.json`` (mode 0600, atomically) and
every worker gets that path in ``POLYMAKER_CREDS_FILE``, so no worker derives again (N workers
deriving at once cost N L1 round trips and can race each other's create-or-derive). The values
are registered with the log redactor before anything else can log them.

The same client sends the order heartbeat (``exchange.heartbeat.OrderHeartbeat``, when
``order_heartbeat.enabled``): the only chain of the key, since concurrent chains invalidate
each other's ids, and the panic command cancels through it too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from polymarket import AsyncSecureClient
from polymarket import errors as sdk_errors
from polymarket.auth import RelayerApiKey

from polymaker.config.global_config import OrderHeartbeatSection
from polymaker.exchange.heartbeat import OrderHeartbeat
from polymaker.exchange.sdk import create_async_secure_client
from polymaker.exchange.secrets import ApiCredentials, PrivateKey, RedactingFilter
from polymaker.exchange.trading import translate_sdk_error, wallet_not_ready
from polymaker.exchange.urls import ExchangeUrls
from polymaker.exchange.wallet import Wallet
from polymaker.files import atomic_write_json

log = logging.getLogger("polymaker.autorun")

CREDS_FILE_NAME = "api_creds.json"


@dataclass
class Account:
    """The authenticated client, its credentials and their file, and the heartbeat chain."""

    client: AsyncSecureClient
    credentials: ApiCredentials
    creds_file: Path
    heartbeat: OrderHeartbeat | None = None

    async def close(self) -> None:
        """Stop the heartbeat (the venue then cancels the key's orders ~10 s later), close."""
        if self.heartbeat is not None:
            await self.heartbeat.stop()
        try:
            await self.client.close()
        except (sdk_errors.PolymarketError, OSError) as error:  # closing must not fail an exit
            log.warning("closing the account client: %s", error)


def write_credentials(path: Path, credentials: ApiCredentials) -> Path:
    """``data/api_creds.json`` in the shape ``load_api_credentials`` reads (mode 0600)."""
    key, secret, passphrase = credentials.values()
    document = {"api_key": key, "api_secret": secret, "api_passphrase": passphrase}
    atomic_write_json(path, document, mode=0o600)
    return path


async def open_account(
    key: PrivateKey,
    given: ApiCredentials | None,
    urls: ExchangeUrls,
    *,
    wallet: Wallet | None = None,
    relayer_key: RelayerApiKey | None = None,
    data_dir: Path,
    heartbeat: OrderHeartbeatSection,
    redactor: RedactingFilter | None,
) -> Account:
    """Authenticate once (derive the credentials unless given), write them, start the beat.

    Raises ``ExchangeError`` (via ``translate_sdk_error``) when the exchange refuses or cannot
    be reached: without credentials no worker could trade, so the run does not start.
    """
    if given is not None and redactor is not None:
        redactor.register(*given.values())
    try:
        client = await create_async_secure_client(
            key.reveal(),
            urls,
            wallet=wallet,
            credentials=None if given is None else given.to_sdk(),
            relayer_key=relayer_key,
        )
    except sdk_errors.UserInputError as error:  # e.g. a wallet that is not deployed
        raise wallet_not_ready(error, wallet) from error
    except sdk_errors.PolymarketError as error:
        raise translate_sdk_error(error, f"{urls.clob_url} authenticate") from error
    sdk_creds = client.credentials
    credentials = ApiCredentials(sdk_creds.key, sdk_creds.secret, sdk_creds.passphrase)
    if redactor is not None:
        redactor.register(*credentials.values())
    account = Account(client, credentials, data_dir / CREDS_FILE_NAME)
    try:
        write_credentials(account.creds_file, credentials)
    except OSError:
        await account.close()
        raise
    log.info(
        "API credentials %s once; workers read %s",
        "loaded" if given is not None else "derived",
        account.creds_file,
    )
    if heartbeat.enabled:
        account.heartbeat = OrderHeartbeat(client, interval_s=heartbeat.interval_s)
        account.heartbeat.start()
    return account


__all__ = ["CREDS_FILE_NAME", "Account", "open_account", "write_credentials"]
