"""``PARAMS.json`` of ``polymaker worker``: one market, one side, one strategy, one exchange.

The supervisor writes this file; a human may too, so every problem is reported with the file,
the key and the fix, and exits 2 before any order is sent. Prices and sizes become ``Decimal``.
Secrets never belong here: a key that looks
like one (``private_key``, ``api_secret``, ``passphrase``, ...) is refused with a message that
names the environment variables to use instead.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from polymaker.config._loading import ConfigModel, read_json_file, validate_config
from polymaker.config._types import ConfigPath
from polymaker.config.strategy import StrategyParams
from polymaker.errors import ConfigError
from polymaker.exchange.ratelimit import DEFAULT_FRACTION
from polymaker.exchange.urls import ExchangeUrls
from polymaker.exchange.wallet import checksummed_address

TICK_SIZES: frozenset[Decimal] = frozenset(
    Decimal(tick) for tick in ("0.1", "0.01", "0.005", "0.0025", "0.001", "0.0001")
)
"""The venue's tick sizes (polymarket_api.md 3.3)."""

MAX_MIN_ORDER_SIZE = Decimal(1_000_000)
MAX_PAPER_CASH_USDC = Decimal("1e9")

_SECRET_KEY = re.compile(
    r"(private|secret|passphrase|password|mnemonic|seed_phrase|api_?key|credential|(^|_)key$)",
    re.IGNORECASE,
)
_SECRET_HINT = (
    "secrets are never read from params files: pass the wallet key as POLYMAKER_PRIVATE_KEY or "
    "POLYMAKER_KEY_FILE (a mode-0600 file), API credentials as POLYMAKER_API_KEY/"
    "POLYMAKER_API_SECRET/POLYMAKER_API_PASSPHRASE or POLYMAKER_CREDS_FILE; remove this key"
)


class WorkerParams(ConfigModel):
    """Everything one worker needs except secrets.

    topic_id: the market slug; names the status and log files and appears in every log line.
    condition_id: the market (CLOB condition id); orders are only ever cancelled within it.
    yes_token, no_token: the two outcome token ids (decimal strings).
    side: ``YES`` or ``NO``: the token this worker buys and sells.
    tick_size: the market's price grid at start (it may change while running).
    min_order_size: the market's minimum order size, shares.
    neg_risk: whether orders are signed against the neg-risk exchange.
    end_time: when the market ends (ISO 8601 with a timezone); sell-only starts
        ``strategy.sell_only_minutes_before_end`` before it.
    mode: ``drill`` (a drill exchange), ``paper`` (real market data, simulated orders, no
        key) or ``live``; written on every log line.
    exchange: the five exchange URLs (``gamma_url``, ``clob_url``, ``data_url``,
        ``ws_market_url``, ``ws_user_url``).
    status_file: where the status JSON is rewritten (``data/status/<topic>.json``).
    log_file: the worker's log (rotated by size); null = stderr.
    strategy: the strategy parameters (``StrategyParams``).
    paper_cash_usdc: paper mode's starting cash when its ledger does not exist yet.
    paper_ledger_file: paper mode's ledger (cash, shares, fills); null = beside the status
        file as ``<status stem>.paper-ledger`` (not ``.json``: the status directory holds only
        status files).
    ratelimit_dir: the account's shared request budget (``exchange.ratelimit``; the
        supervisor passes ``data/ratelimit``); null = no client-side rate limit.
    ratelimit_fraction: share of the venue's documented limits that budget allows.
    wallet_address: the account's wallet (proxy, Safe or deposit wallet of the key; null = the
        key's own address); orders are made by it, and the worker classifies it from the key
        at start (docs/accounts.md). In paper mode it names the simulated account.
    """

    topic_id: str = Field(min_length=1, max_length=200)
    condition_id: str = Field(min_length=1)
    yes_token: str = Field(min_length=1)
    no_token: str = Field(min_length=1)
    side: Literal["YES", "NO"]
    tick_size: Decimal
    min_order_size: Decimal = Field(gt=0, le=MAX_MIN_ORDER_SIZE, allow_inf_nan=False)
    neg_risk: bool
    end_time: datetime
    mode: Literal["drill", "paper", "live"]
    exchange: ExchangeUrls
    status_file: ConfigPath
    log_file: ConfigPath | None = None
    strategy: StrategyParams
    paper_cash_usdc: Decimal = Field(
        default=Decimal(1000), gt=0, le=MAX_PAPER_CASH_USDC, allow_inf_nan=False
    )
    paper_ledger_file: ConfigPath | None = None
    ratelimit_dir: ConfigPath | None = None
    ratelimit_fraction: float = Field(default=DEFAULT_FRACTION, gt=0, le=1, allow_inf_nan=False)
    wallet_address: str | None = None

    @field_validator("topic_id")
    @classmethod
    def _printable_topic(cls, value: str) -> str:
        if any(ch in value for ch in "/\\\n\r\t\0"):
            raise ValueError("must not contain slashes or control characters")
        return value

    @field_validator("tick_size")
    @classmethod
    def _venue_tick(cls, value: Decimal) -> Decimal:
        if value not in TICK_SIZES:
            allowed = ", ".join(str(t) for t in sorted(TICK_SIZES))
            raise ValueError(f"must be one of the venue's tick sizes: {allowed}")
        return value

    @field_validator("exchange")
    @classmethod
    def _drill_is_not_production(cls, value: ExchangeUrls, info: ValidationInfo) -> ExchangeUrls:
        """Drill signs orders with whatever key is set: one production host must stop it."""
        if info.data.get("mode") == "drill" and value.production_urls:
            raise ValueError(
                "mode 'drill' must point at a drill exchange, not at Polymarket "
                f"({value.production_urls[0]})"
            )
        return value

    @field_validator("wallet_address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return None if value is None else checksummed_address(value)

    @field_validator("end_time")
    @classmethod
    def _aware_and_ahead(cls, value: datetime, info: ValidationInfo) -> datetime:
        """A market that has ended cannot be traded; ``context={"now": ...}`` pins the clock."""
        if value.tzinfo is None:
            raise ValueError("needs a timezone, e.g. 2026-12-31T12:00:00Z")
        now = (info.context or {}).get("now") or datetime.now(UTC)
        if value <= now:
            raise ValueError(f"is in the past (now {now.isoformat(timespec='seconds')})")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> WorkerParams:
        if self.yes_token == self.no_token:
            raise ValueError("yes_token and no_token must differ")
        return self

    @property
    def token_id(self) -> str:
        """The token this worker trades."""
        return self.yes_token if self.side == "YES" else self.no_token

    @property
    def paper_ledger_path(self) -> Path:
        """Where paper mode keeps its ledger (``paper_ledger_file`` or beside the status)."""
        if self.paper_ledger_file is not None:
            return self.paper_ledger_file
        return self.status_file.with_name(f"{self.status_file.stem}.paper-ledger")

    @property
    def other_token_id(self) -> str:
        """The complementary token (never traded, only watched)."""
        return self.no_token if self.side == "YES" else self.yes_token


def _find_secret_key(document: Any, path: str = "") -> str | None:
    """The dotted path of the first key that looks like a secret, if any."""
    if isinstance(document, dict):
        for key, value in document.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and _SECRET_KEY.search(key):
                return where
            found = _find_secret_key(value, where)
            if found:
                return found
    elif isinstance(document, list):
        for index, item in enumerate(document):
            found = _find_secret_key(item, f"{path}[{index}]")
            if found:
                return found
    return None


def parse_worker_params(
    document: Any, *, file: Path | str | None = None, now: datetime | None = None
) -> WorkerParams:
    """Validate an already-parsed params document; raises ``ConfigError`` (exit 2).

    ``now`` (tests) replaces the clock that ``end_time`` is checked against.
    """
    secret = _find_secret_key(document)
    if secret is not None:
        raise ConfigError(_SECRET_HINT, file=file, key=secret)
    context = None if now is None else {"now": now}
    return validate_config(WorkerParams, document, file=file, context=context)


def load_worker_params(path: Path | str) -> WorkerParams:
    """Read and validate ``PARAMS.json`` (read as every config file is: ``read_json_file``).

    JSON numbers arrive as float but pydantic turns them into ``Decimal`` through their
    shortest text (0.01 -> Decimal("0.01")); decimal strings are accepted as well.
    """
    return parse_worker_params(read_json_file(path), file=path)


__all__ = ["TICK_SIZES", "WorkerParams", "load_worker_params", "parse_worker_params"]
