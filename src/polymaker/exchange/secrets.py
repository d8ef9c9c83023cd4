"""Secrets of a trading process: the wallet key and the CLOB API credentials.

Secrets never travel in config or params files. The private key comes from
``POLYMAKER_PRIVATE_KEY`` or from the file named by ``POLYMAKER_KEY_FILE`` (which must be
readable by its owner only, mode 0600); API credentials come from ``POLYMAKER_API_KEY``,
``POLYMAKER_API_SECRET`` and ``POLYMAKER_API_PASSPHRASE``, or from the 0600 JSON file named by
``POLYMAKER_CREDS_FILE``; without them the SDK derives credentials from the key (L1).

The objects here redact themselves in ``repr``/``str``, and :class:`RedactingFilter` scrubs every
registered secret value out of log records, so a traceback or a debug line cannot leak one.
"""

from __future__ import annotations

import logging
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from polymarket.auth import RelayerApiKey
from polymarket.models.clob import ApiKeyCreds

from polymaker.config import parse_json_text
from polymaker.errors import ConfigError
from polymaker.exchange.wallet import checksummed_address

ENV_PRIVATE_KEY = "POLYMAKER_PRIVATE_KEY"
ENV_KEY_FILE = "POLYMAKER_KEY_FILE"
ENV_API_KEY = "POLYMAKER_API_KEY"
ENV_API_SECRET = "POLYMAKER_API_SECRET"
ENV_API_PASSPHRASE = "POLYMAKER_API_PASSPHRASE"
ENV_CREDS_FILE = "POLYMAKER_CREDS_FILE"
ENV_RELAYER_API_KEY = "POLYMAKER_RELAYER_API_KEY"
ENV_RELAYER_API_KEY_ADDRESS = "POLYMAKER_RELAYER_API_KEY_ADDRESS"

REDACTED = "<redacted>"
_KEY_PATTERN = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")
# The two accepted shapes of a credentials file: ours (named like the environment variables)
# and the venue's own answer to POST /auth/api-key.
_CREDS_SHAPES: tuple[tuple[str, str, str], ...] = (
    ("api_key", "api_secret", "api_passphrase"),
    ("apiKey", "secret", "passphrase"),
)


@dataclass(frozen=True, repr=False)
class PrivateKey:
    """A wallet private key (0x + 64 hex digits); ``repr``/``str`` never show it."""

    _value: str = field(repr=False)

    def reveal(self) -> str:
        """The key itself, for the one call that signs with it."""
        return self._value

    def __repr__(self) -> str:
        return f"PrivateKey({REDACTED})"

    __str__ = __repr__


@dataclass(frozen=True, repr=False)
class ApiCredentials:
    """CLOB L2 credentials (API key, secret, passphrase); ``repr``/``str`` never show them."""

    key: str = field(repr=False)
    secret: str = field(repr=False)
    passphrase: str = field(repr=False)

    def to_sdk(self) -> ApiKeyCreds:
        """The SDK's credentials object (it redacts itself too)."""
        return ApiKeyCreds(key=self.key, secret=self.secret, passphrase=self.passphrase)

    def values(self) -> tuple[str, str, str]:
        """All three values, e.g. to register them with :class:`RedactingFilter`."""
        return (self.key, self.secret, self.passphrase)

    def __repr__(self) -> str:
        return f"ApiCredentials(key={REDACTED}, secret={REDACTED}, passphrase={REDACTED})"

    __str__ = __repr__


def _read_private_file(path_text: str, variable: str) -> str:
    """Read a secret file after checking that only its owner can read it."""
    path = Path(path_text)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ConfigError(f"{variable} names a file that does not exist", file=path) from None
    except OSError as error:
        raise ConfigError(f"cannot be read: {error.strerror or error}", file=path) from None
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"{variable} must name a regular file", file=path)
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        raise ConfigError(
            f"is readable by others (mode {mode:04o}); a secret file must be private: "
            f"run `chmod 600 {path}`",
            file=path,
        )
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot be read: {error}", file=path) from None


def _parse_private_key(text: str, source: str) -> PrivateKey:
    value = text.strip()
    if not _KEY_PATTERN.match(value):
        # Never echo the value: a near-miss key is still a secret.
        raise ConfigError(
            f"{source} is not a private key: expected 64 hexadecimal digits, optionally "
            f"prefixed with 0x (got {len(value)} characters)"
        )
    return PrivateKey(value if value.startswith("0x") else "0x" + value)


def load_private_key(environ: Mapping[str, str] | None = None) -> PrivateKey:
    """The wallet key from ``POLYMAKER_PRIVATE_KEY``, else from the ``POLYMAKER_KEY_FILE`` file.

    Raises ``ConfigError`` (exit 2) when neither is set, the file is not mode 0600, or the
    value is not a 32-byte hex key.
    """
    env = os.environ if environ is None else environ
    inline = env.get(ENV_PRIVATE_KEY, "")
    if inline.strip():
        return _parse_private_key(inline, ENV_PRIVATE_KEY)
    path = env.get(ENV_KEY_FILE, "")
    if path.strip():
        return _parse_private_key(_read_private_file(path, ENV_KEY_FILE), f"the file {path}")
    raise ConfigError(
        f"no wallet key: set {ENV_PRIVATE_KEY} or point {ENV_KEY_FILE} at a mode-0600 file "
        "holding the key (secrets are never read from params or config files)"
    )


def _credentials_from_document(document: object, path: str) -> ApiCredentials:
    if isinstance(document, dict):
        for names in _CREDS_SHAPES:
            if all(isinstance(document.get(name), str) and document[name] for name in names):
                return ApiCredentials(*(document[name] for name in names))
    shapes = " or ".join("{" + ", ".join(f'"{n}"' for n in names) + "}" for names in _CREDS_SHAPES)
    raise ConfigError(f"must be a JSON object {shapes} with non-empty strings", file=path)


def load_relayer_key(environ: Mapping[str, str] | None = None) -> RelayerApiKey | None:
    """The relayer API key (key and its address, as polymarket.com shows them), else None.

    Needed to deploy a deposit wallet the first time, and to redeem resolved positions of a
    proxy wallet, Safe or deposit wallet through the relayer (docs/accounts.md); both
    variables or neither.
    """
    env = os.environ if environ is None else environ
    key = env.get(ENV_RELAYER_API_KEY, "").strip()
    address = env.get(ENV_RELAYER_API_KEY_ADDRESS, "").strip()
    if not key and not address:
        return None
    if not key or not address:
        raise ConfigError(
            f"set both {ENV_RELAYER_API_KEY} and {ENV_RELAYER_API_KEY_ADDRESS}, or neither"
        )
    try:
        return RelayerApiKey(key=key, address=checksummed_address(address))
    except ValueError as error:
        raise ConfigError(str(error), key=ENV_RELAYER_API_KEY_ADDRESS) from None


def load_api_credentials(environ: Mapping[str, str] | None = None) -> ApiCredentials | None:
    """API credentials from the three variables or the ``POLYMAKER_CREDS_FILE`` file, else None.

    ``None`` means "derive them from the key" (the SDK's create-or-derive call). Setting only
    some of the three variables is an error, not a silent fallback.
    """
    env = os.environ if environ is None else environ
    names = (ENV_API_KEY, ENV_API_SECRET, ENV_API_PASSPHRASE)
    given = [bool(env.get(name, "").strip()) for name in names]
    if all(given):
        return ApiCredentials(*(env[name].strip() for name in names))
    if any(given):
        missing = ", ".join(name for name, ok in zip(names, given, strict=True) if not ok)
        raise ConfigError(f"incomplete API credentials: also set {missing} (or none of them)")
    path = env.get(ENV_CREDS_FILE, "")
    if not path.strip():
        return None
    text = _read_private_file(path, ENV_CREDS_FILE)
    return _credentials_from_document(parse_json_text(text, file=path), path)


class RedactingFilter(logging.Filter):
    """Replaces every registered secret value in a log record's text with ``<redacted>``.

    Attach it to every handler (not to loggers: records of child loggers bypass a parent
    logger's filters but not its handlers' filters). The record's message is rendered once,
    scrubbed, and stored back without args; exception text is scrubbed too.
    """

    def __init__(self) -> None:
        super().__init__()
        self._secrets: list[str] = []

    def register(self, *values: str) -> None:
        """Start redacting ``values`` (values shorter than 6 characters are ignored as noise)."""
        for value in values:
            for form in {value, value.removeprefix("0x")}:
                if len(form) >= 6 and form not in self._secrets:
                    self._secrets.append(form)
        self._secrets.sort(key=len, reverse=True)

    def redact(self, text: str) -> str:
        """``text`` with every registered secret replaced."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


__all__ = [
    "ENV_API_KEY",
    "ENV_API_PASSPHRASE",
    "ENV_API_SECRET",
    "ENV_CREDS_FILE",
    "ENV_KEY_FILE",
    "ENV_PRIVATE_KEY",
    "ENV_RELAYER_API_KEY",
    "ENV_RELAYER_API_KEY_ADDRESS",
    "ApiCredentials",
    "PrivateKey",
    "RedactingFilter",
    "load_api_credentials",
    "load_private_key",
    "load_relayer_key",
]
