"""The wallet key the supervisor and its workers trade with, and how workers receive it.

``POLYMAKER_PRIVATE_KEY`` or ``POLYMAKER_KEY_FILE`` when set (workers inherit the variable).
In drill mode without either, a throwaway key is created once in the data directory
(``drill_wallet.key``, mode 0600) and workers get its *path* in ``POLYMAKER_KEY_FILE``: the key
itself is never put in argv, PARAMS or a log. Live mode refuses to start without a key; paper
mode uses none (its workers simulate fills, and the supervisor must not sweep a real account).
Once the supervisor has authenticated (``account.open_account``) it adds the path of the shared
credentials file (``POLYMAKER_CREDS_FILE``) to the workers' environment.

The account is the key plus a wallet (``wallet_address`` in the global config, overridden by
``POLYMAKER_WALLET_ADDRESS``), classified here once from the key (``exchange.wallet``): a wrong
address stops the run before anything trades. Workers get the address in PARAMS. A relayer API
key (``POLYMAKER_RELAYER_API_KEY`` and ``..._ADDRESS``) lets the supervisor deploy a new deposit
wallet; in drill mode a throwaway one stands in, as the drill key does.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from polymarket.auth import RelayerApiKey

from polymaker.config.global_config import Mode
from polymaker.errors import ConfigError
from polymaker.exchange.sdk import signer_address
from polymaker.exchange.secrets import (
    ENV_KEY_FILE,
    ENV_PRIVATE_KEY,
    ApiCredentials,
    PrivateKey,
    load_api_credentials,
    load_private_key,
    load_relayer_key,
)
from polymaker.exchange.wallet import (
    Wallet,
    classify_wallet,
    configured_wallet_address,
    parse_wallet_address,
)
from polymaker.files import atomic_write_bytes

DRILL_KEY_FILE_NAME = "drill_wallet.key"
DRILL_RELAYER_KEY = "polymaker-drill-relayer"  # the drill relayer takes any key; not a secret


@dataclass(frozen=True)
class WorkerKey:
    """The key (for the supervisor's own sweeps) and the extra environment of every worker."""

    key: PrivateKey | None
    credentials: ApiCredentials | None
    extra_env: Mapping[str, str] = field(default_factory=dict)
    source: str = ""
    wallet: Wallet | None = None  # the classified account (drill, live)
    wallet_address: str | None = None  # what PARAMS carry (paper: the configured one, if any)
    relayer_key: RelayerApiKey | None = None


def _given(environ: Mapping[str, str]) -> bool:
    return bool(environ.get(ENV_PRIVATE_KEY, "").strip() or environ.get(ENV_KEY_FILE, "").strip())


def drill_key_file(data_dir: Path) -> Path:
    """Create the throwaway drill key once (mode 0600) and return its path."""
    path = data_dir / DRILL_KEY_FILE_NAME
    if not path.exists():
        atomic_write_bytes(path, ("0x" + secrets.token_hex(32) + "\n").encode(), mode=0o600)
    return path


def worker_key(
    mode: Mode,
    data_dir: Path,
    environ: Mapping[str, str] | None = None,
    *,
    wallet_address: str | None = None,
) -> WorkerKey:
    """Resolve the key and the account for a run in ``mode``; ``ConfigError`` (exit 2) when
    live has no key or the wallet is none of the key's wallets."""
    env = os.environ if environ is None else environ
    address, address_source = configured_wallet_address(wallet_address, env)
    if mode is Mode.PAPER:  # paper sends no authenticated request: nothing to sign or sweep
        paper = None if address is None else parse_wallet_address(address, key=address_source)
        return WorkerKey(None, None, {}, "none (paper: no key is used)", wallet_address=paper)
    credentials = load_api_credentials(env)
    relayer_key = load_relayer_key(env)
    if _given(env):
        source = ENV_PRIVATE_KEY if env.get(ENV_PRIVATE_KEY, "").strip() else ENV_KEY_FILE
        key, extra_env = load_private_key(env), {}
    elif mode is Mode.DRILL:
        path = drill_key_file(data_dir)
        key = load_private_key({ENV_KEY_FILE: str(path)})
        source, extra_env = f"throwaway drill key {path}", {ENV_KEY_FILE: str(path)}
    else:  # live: real money needs a real, explicitly given key
        raise ConfigError(
            f"live mode needs the wallet key: set {ENV_PRIVATE_KEY} or point {ENV_KEY_FILE} at "
            "a mode-0600 file holding it (nothing was started)"
        )
    signer = signer_address(key.reveal())
    wallet = classify_wallet(signer, address, source=address_source)
    if relayer_key is None and mode is Mode.DRILL:
        relayer_key = RelayerApiKey(key=DRILL_RELAYER_KEY, address=signer)
    return WorkerKey(
        key,
        credentials,
        extra_env,
        source,
        wallet=wallet,
        wallet_address=None if wallet.is_eoa else wallet.address,
        relayer_key=relayer_key,
    )


__all__ = ["DRILL_KEY_FILE_NAME", "WorkerKey", "drill_key_file", "worker_key"]
