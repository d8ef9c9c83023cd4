"""The I/O of the doctor: endpoint probes, the exchange clock, the key, and account reads.

Each probe turns what it finds into a :class:`CheckResult` (or facts for a pure check) and
never raises for an exchange problem: doctor must report every failure, not stop at the first.
Account reads use the official SDK through ``exchange.sdk`` exactly as the worker does.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import websockets
from polymarket import AsyncSecureClient
from polymarket import errors as sdk_errors

from polymaker.autorun.keys import DRILL_KEY_FILE_NAME
from polymaker.config.global_config import Mode
from polymaker.doctor.checks import CheckResult, fail, ok, skip
from polymaker.errors import ConfigError
from polymaker.exchange.sdk import create_async_secure_client, signer_address
from polymaker.exchange.secrets import (
    ENV_API_KEY,
    ENV_CREDS_FILE,
    ENV_KEY_FILE,
    ENV_PRIVATE_KEY,
    ApiCredentials,
    PrivateKey,
    load_api_credentials,
    load_private_key,
)
from polymaker.exchange.urls import ExchangeUrls
from polymaker.exchange.wallet import Wallet, WalletKind

PROBE_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class KeyFacts:
    """The key doctor will sign with (None: none needed or none usable) and where it came from."""

    result: CheckResult
    key: PrivateKey | None
    credentials: ApiCredentials | None


def _key_remedy(problem: str) -> str:
    if "readable by others" in problem:
        return "make the key file private: chmod 600 <the file named above>"
    if "not a private key" in problem:
        return "store exactly one key: 0x followed by 64 hexadecimal digits, nothing else"
    if "incomplete API credentials" in problem or "must be a JSON object" in problem:
        return (
            f"set all three {ENV_API_KEY}/_SECRET/_PASSPHRASE, or none of them to derive the "
            "credentials from the key"
        )
    return f"set {ENV_PRIVATE_KEY}, or {ENV_KEY_FILE} naming a mode-0600 file with the key"


def load_key(mode: Mode, environ: Mapping[str, str], data_dir: Path) -> KeyFacts:
    """Where the wallet key comes from in ``mode``, checked the way the supervisor loads it.

    Drill without a key uses the supervisor's throwaway key if it exists, else a temporary one
    (``polymaker run`` creates the throwaway key itself). Paper needs no key.
    """
    try:
        credentials = load_api_credentials(environ)
        if environ.get(ENV_PRIVATE_KEY, "").strip() or environ.get(ENV_KEY_FILE, "").strip():
            key = load_private_key(environ)
            source = ENV_PRIVATE_KEY if environ.get(ENV_PRIVATE_KEY, "").strip() else ENV_KEY_FILE
            detail = f"from {source}: address {signer_address(key.reveal())}"
            return KeyFacts(ok("wallet key", detail), key, credentials)
        drill_file = data_dir / DRILL_KEY_FILE_NAME
        if mode is Mode.DRILL and drill_file.exists():
            key = load_private_key({ENV_KEY_FILE: str(drill_file)})
            detail = f"throwaway drill key {drill_file}: address {signer_address(key.reveal())}"
            return KeyFacts(ok("wallet key", detail), key, credentials)
    except ConfigError as error:
        return KeyFacts(fail("wallet key", str(error), _key_remedy(error.problem)), None, None)
    if mode is Mode.DRILL:
        key = PrivateKey("0x" + secrets.token_hex(32))
        detail = (
            "none set: `polymaker run` creates a throwaway drill key; checked with a temporary one"
        )
        return KeyFacts(ok("wallet key", detail), key, credentials)
    if mode is Mode.PAPER:
        return KeyFacts(skip("wallet key", "paper mode signs nothing"), None, credentials)
    return KeyFacts(
        fail("wallet key", "live mode needs the wallet key and none is set", _key_remedy("")),
        None,
        None,
    )


def _unreachable_remedy(config_key: str, mode: Mode) -> str:
    if mode is Mode.DRILL:
        return (
            "start `polymaker sim --url-file F` and pass --exchange-url-file F, or set every "
            "exchange URL to null so that doctor starts its own drill exchange"
        )
    return f"check exchange.{config_key} in the global config and this host's network access"


async def probe_http(
    client: httpx.AsyncClient, name: str, url: str, config_key: str, mode: Mode
) -> tuple[CheckResult, Any]:
    """GET ``url``: (result, decoded JSON body or None)."""
    started = time.monotonic()
    try:
        response = await client.get(url, timeout=PROBE_TIMEOUT_S)
    except httpx.HTTPError as error:
        detail = f"{url}: no answer ({type(error).__name__}: {error or 'timeout'})"
        return fail(name, detail, _unreachable_remedy(config_key, mode)), None
    elapsed_ms = (time.monotonic() - started) * 1000
    if response.status_code >= 400:
        detail = f"{url}: HTTP {response.status_code}"
        return fail(name, detail, _unreachable_remedy(config_key, mode)), None
    try:
        body = response.json()
    except ValueError:
        return fail(name, f"{url}: answer is not JSON", _unreachable_remedy(config_key, mode)), None
    return ok(name, f"{url} answered in {elapsed_ms:.0f} ms"), body


async def probe_ws(name: str, url: str, config_key: str, mode: Mode) -> CheckResult:
    """Open (and close) a WebSocket connection to ``url``."""
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_S):
            async with websockets.connect(url, open_timeout=PROBE_TIMEOUT_S):
                pass
    except (OSError, TimeoutError, websockets.WebSocketException) as error:
        detail = f"{url}: cannot connect ({type(error).__name__}: {error or 'timeout'})"
        return fail(name, detail, _unreachable_remedy(config_key, mode))
    return ok(name, f"{url} accepted a connection")


def server_seconds(body: Any) -> float | None:
    """The exchange's ``GET /time`` answer (unix seconds) or None.

    Whole seconds are truncated by the server, so the middle of that second is the unbiased
    estimate (+0.5 s).
    """
    if isinstance(body, bool) or not isinstance(body, int | float):
        return None
    return body + 0.5 if isinstance(body, int) else float(body)


def _foreign_creds_remedy(address: str) -> str:
    return (
        f"they belong to another address or were revoked: unset {ENV_API_KEY}/... and "
        f"{ENV_CREDS_FILE} to derive them from the key, or set the ones made for {address}"
    )


@dataclass
class Account:
    """An authenticated SDK client and who it is, for the account checks."""

    client: AsyncSecureClient
    address: str


async def open_account(
    key: PrivateKey, credentials: ApiCredentials | None, urls: ExchangeUrls, wallet: Wallet | None
) -> tuple[CheckResult, Account | None]:
    """Derive (or verify the given) API credentials over L1, as the worker does at start.

    ``wallet`` None: a client for the key's own address (the credentials are the key's).
    """
    address = signer_address(key.reveal())
    given = credentials is not None
    try:
        client = await create_async_secure_client(
            key.reveal(),
            urls,
            wallet=wallet,
            credentials=None if credentials is None else credentials.to_sdk(),
        )
    except sdk_errors.RequestRejectedError as error:
        if given:
            detail = f"the API credentials are refused for {address} (HTTP {error.status})"
            remedy = _foreign_creds_remedy(address)
        else:
            detail = f"deriving API credentials for {address} failed (HTTP {error.status})"
            remedy = "check the clock skew row; a skewed clock makes every signature expire"
        return fail("credentials", detail, remedy), None
    except (sdk_errors.TransportError, sdk_errors.PolymarketError) as error:
        detail = f"cannot authenticate at {urls.clob_url}: {type(error).__name__}"
        return fail("credentials", detail, "check the CLOB reachability row"), None
    account = Account(client, str(client.wallet))
    if credentials is not None and client.credentials.key != credentials.key:
        # The SDK silently derives new credentials when the given ones are not active.
        await client.close()
        detail = f"the given API credentials are not active for {address}"
        return fail("credentials", detail, _foreign_creds_remedy(address)), None
    how = "given credentials accepted" if given else "API credentials derived"
    return ok("credentials", f"{how} for {address}"), account


async def open_wallet(
    key: PrivateKey, account: Account, urls: ExchangeUrls, wallet: Wallet
) -> Account | str:
    """A client acting for ``wallet`` with the credentials ``account`` checked, or why not."""
    try:
        client = await create_async_secure_client(
            key.reveal(), urls, wallet=wallet, credentials=account.client.credentials
        )
    except sdk_errors.PolymarketError as error:
        return f"cannot act for {wallet.address}: {type(error).__name__}: {error}"
    return Account(client, wallet.address)


async def read_deployed(
    client: httpx.AsyncClient, relayer_url: str | None, wallet: Wallet
) -> bool | str:
    """The relayer's ``GET /deployed`` for the wallet, or the error text (an EOA: True)."""
    if wallet.is_eoa:
        return True
    if relayer_url is None:
        return "no relayer: exchange.relayer_url is not set"
    kind = {WalletKind.PROXY: "PROXY", WalletKind.SAFE: "SAFE", WalletKind.DEPOSIT: "WALLET"}
    query = {"address": wallet.address, "type": kind[wallet.kind]}
    try:
        answer = await client.get(f"{relayer_url}/deployed", params=query, timeout=PROBE_TIMEOUT_S)
        answer.raise_for_status()
        deployed = answer.json().get("deployed")
    except (httpx.HTTPError, ValueError, AttributeError) as error:
        return f"{type(error).__name__}: {error}"
    return deployed if isinstance(deployed, bool) else f"unexpected answer {answer.text[:80]!r}"


async def read_collateral(account: Account) -> tuple[int, dict[str, int]] | str:
    """(balance, allowances by spender) in base units, or the error text."""
    try:
        answer = await account.client.get_balance_allowance(asset_type="COLLATERAL")
    except sdk_errors.PolymarketError as error:
        return f"{type(error).__name__}: {error}"
    return answer.balance, dict(answer.allowances)


async def read_closed_only(account: Account) -> bool | str:
    """The account's closed-only flag, or the error text."""
    try:
        return await account.client.get_closed_only_mode()
    except sdk_errors.PolymarketError as error:
        return f"{type(error).__name__}: {error}"


__all__ = [
    "Account",
    "KeyFacts",
    "load_key",
    "open_account",
    "open_wallet",
    "probe_http",
    "probe_ws",
    "read_closed_only",
    "read_collateral",
    "read_deployed",
    "server_seconds",
]
