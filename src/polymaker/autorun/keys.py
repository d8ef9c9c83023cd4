"""The wallet key the supervisor and its workers trade with, and how workers receive it.

``POLYMAKER_PRIVATE_KEY`` or ``POLYMAKER_KEY_FILE`` when set (workers inherit the variable).
In drill mode without either, a throwaway key is created once in the data directory
(``drill_wallet.key``, mode 0600) and workers get its *path* in ``POLYMAKER_KEY_FILE``: the key
itself is never put in argv, PARAMS or a log. Live mode refuses to start without a key; paper
mode uses none (its workers simulate fills, and the supervisor must not sweep a real account).
Once the supervisor has authenticated (``account.open_account``) it adds the path of the shared
credentials file (``POLYMAKER_CREDS_FILE``) to the workers' environment.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from polymaker.config.global_config import Mode
from polymaker.errors import ConfigError
from polymaker.exchange.secrets import (
    ENV_KEY_FILE,
    ENV_PRIVATE_KEY,
    ApiCredentials,
    PrivateKey,
    load_api_credentials,
    load_private_key,
)
from polymaker.files import atomic_write_bytes

DRILL_KEY_FILE_NAME = "drill_wallet.key"


@dataclass(frozen=True)
class WorkerKey:
    """The key (for the supervisor's own sweeps) and the extra environment of every worker."""

    key: PrivateKey | None
    credentials: ApiCredentials | None
    extra_env: Mapping[str, str] = field(default_factory=dict)
    source: str = ""


def _given(environ: Mapping[str, str]) -> bool:
    return bool(environ.get(ENV_PRIVATE_KEY, "").strip() or environ.get(ENV_KEY_FILE, "").strip())


def drill_key_file(data_dir: Path) -> Path:
    """Create the throwaway drill key once (mode 0600) and return its path."""
    path = data_dir / DRILL_KEY_FILE_NAME
    if not path.exists():
        atomic_write_bytes(path, ("0x" + secrets.token_hex(32) + "\n").encode(), mode=0o600)
    return path


def worker_key(mode: Mode, data_dir: Path, environ: Mapping[str, str] | None = None) -> WorkerKey:
    """Resolve the key for a run in ``mode``; ``ConfigError`` (exit 2) when live has none."""
    env = os.environ if environ is None else environ
    if mode is Mode.PAPER:  # paper sends no authenticated request: nothing to sign or sweep
        return WorkerKey(None, None, {}, "none (paper: no key is used)")
    credentials = load_api_credentials(env)
    if _given(env):
        source = ENV_PRIVATE_KEY if env.get(ENV_PRIVATE_KEY, "").strip() else ENV_KEY_FILE
        return WorkerKey(load_private_key(env), credentials, {}, source)
    if mode is Mode.DRILL:
        path = drill_key_file(data_dir)
        key = load_private_key({ENV_KEY_FILE: str(path)})
        return WorkerKey(key, credentials, {ENV_KEY_FILE: str(path)}, f"throwaway drill key {path}")
    raise ConfigError(  # live: real money needs a real, explicitly given key
        f"live mode needs the wallet key: set {ENV_PRIVATE_KEY} or point {ENV_KEY_FILE} at "
        "a mode-0600 file holding it (nothing was started)"
    )


__all__ = ["DRILL_KEY_FILE_NAME", "WorkerKey", "drill_key_file", "worker_key"]
