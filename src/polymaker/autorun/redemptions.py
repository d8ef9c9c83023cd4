"""``data/redemptions.json``: every payout of a resolved market, and the attempts still due.

One record per (wallet, market condition). Its ``state`` says where the payout is:

- ``pending``: the wallet holds shares of a resolved market; the redemption is due now;
- ``retrying``: an attempt failed (``last_error``, ``attempts``); the next is due at
  ``next_attempt_at`` (capped exponential backoff with jitter, never given up: a failure is
  reported, the money is never forgotten);
- ``redeemed``: the transaction (``tx``) burned ``shares`` and paid ``payout_pusd``;
- ``lost``: every share held resolved to 0. Nothing is sent (a transaction would only burn
  worthless shares and cost gas or a relayer call); the position leaves polymaker's view and
  limits, with its cost in ``pnl``.

``pnl`` = payout - shares x the venue's average entry (None when the venue did not give one):
it counts in the day's realized PnL and the daily loss limit. The file is written atomically
after every change; one that cannot be read is a ``StateFileError``, never replaced. Pure apart
from :class:`RedemptionStore`'s two file calls.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from polymaker.autorun.ledger import Ledger, RedemptionNote
from polymaker.autorun.limits import DailyPnl
from polymaker.errors import StateFileError
from polymaker.exchange.redeem import Holding
from polymaker.exchange.retry import RetryPolicy, backoff_delay
from polymaker.files import atomic_write_json, read_json_file

FILE_NAME = "redemptions.json"
VERSION = 1


class RedemptionState(StrEnum):
    """Where one market's payout is (see the module docstring)."""

    PENDING = "pending"
    RETRYING = "retrying"
    REDEEMED = "redeemed"
    LOST = "lost"


SETTLED_STATES = frozenset({RedemptionState.REDEEMED, RedemptionState.LOST})
"""The position is gone from the wallet's view: nothing more to do."""


class Redemption(BaseModel):
    """One market's redemption for one wallet (money as decimal strings in the file)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    wallet: str
    condition_id: str
    topic_id: str | None = None
    title: str = ""
    tokens: tuple[str, ...] = ()
    state: RedemptionState
    shares: Decimal = Field(ge=0)
    payout_pusd: Decimal | None = None
    pnl: Decimal | None = None
    tx: str | None = None
    attempts: int = Field(default=0, ge=0)
    last_error: str | None = None
    first_seen: AwareDatetime
    next_attempt_at: AwareDatetime | None = None
    settled_at: AwareDatetime | None = None

    @property
    def key(self) -> str:
        """``wallet:condition`` (lower case): one record per market and wallet."""
        return record_key(self.wallet, self.condition_id)

    def summary(self) -> dict[str, object]:
        """The record as ``status`` shows it (money as decimal strings)."""
        return {
            "condition_id": self.condition_id,
            "topic_id": self.topic_id,
            "title": self.title,
            "state": str(self.state),
            "shares": _text(self.shares),
            "payout_pusd": _text(self.payout_pusd),
            "pnl": _text(self.pnl),
            "tx": self.tx,
            "attempts": self.attempts,
            "last_error": self.last_error,
        }

    def ledger_note(self) -> RedemptionNote:
        """The record as the topic's ledger entry keeps it."""
        return RedemptionNote(
            state=str(self.state),
            shares=self.shares,
            payout_pusd=self.payout_pusd,
            pnl=self.pnl,
            tx=self.tx,
            last_error=self.last_error,
            at=self.settled_at or self.first_seen,
        )

    def describe(self) -> str:
        """One line for people: market, state, shares, payout or error."""
        what = self.title or self.condition_id
        shares = f"{self.shares.normalize():f} shares"
        if self.state is RedemptionState.REDEEMED:
            paid = self.payout_pusd or Decimal(0)
            return f"{what}: redeemed {shares} for {paid.normalize():f} pUSD (tx {self.tx})"
        if self.state is RedemptionState.LOST:
            return f"{what}: lost ({shares} resolved to 0; no transaction needed)"
        if self.state is RedemptionState.RETRYING:
            return f"{what}: {shares} not redeemed yet, attempt {self.attempts}: {self.last_error}"
        return f"{what}: {shares} to redeem"


def describe_pass(records: list[Redemption], *, dry_run: bool) -> str:
    """What a pass did (or, dry, would do), one line per market."""
    if not records:
        return "nothing to redeem"
    head = "would redeem (dry run):" if dry_run else f"{len(records)} markets:"
    return "\n".join([head, *(f"  {record.describe()}" for record in records)])


def _text(value: Decimal | None) -> str | None:
    return None if value is None else f"{value.normalize():f}"


def record_key(wallet: str, condition_id: str) -> str:
    """The store key of a wallet's market."""
    return f"{wallet.lower()}:{condition_id.lower()}"


def entry_cost(holdings: Iterable[Holding], burned: dict[str, Decimal]) -> Decimal | None:
    """What the burned shares cost at the venue's average entry (None if one is unknown)."""
    total = Decimal(0)
    for holding in holdings:
        shares = burned.get(holding.token_id, Decimal(0))
        if shares and holding.avg_price is None:
            return None
        total += shares * (holding.avg_price or Decimal(0))
    return total


def payout(holdings: Iterable[Holding], burned: dict[str, Decimal]) -> Decimal:
    """pUSD the burned shares pay: 1 a winning share, 0 a losing one."""
    return sum((burned.get(h.token_id, Decimal(0)) * h.price for h in holdings), Decimal(0))


def retry_at(
    attempts: int, now: datetime, *, base_s: float, max_s: float, rng: random.Random
) -> datetime:
    """When attempt ``attempts + 1`` is due (capped exponential backoff with jitter)."""
    policy = RetryPolicy(retries=max(attempts, 1), backoff_base_s=base_s, backoff_max_s=max_s)
    return now + timedelta(seconds=backoff_delay(max(attempts, 1), policy, rng))


def note_redemption(ledger: Ledger, pnl: DailyPnl, record: Redemption) -> None:
    """A redemption changed: into its topic's ledger entry, and today's PnL once settled."""
    topic = record.topic_id
    if topic is not None and ledger.get(topic) is not None:
        ledger.record_redemption(topic, record.ledger_note())
    count_payout(pnl, record)


def count_payout(pnl: DailyPnl, record: Redemption) -> None:
    """A settled redemption's PnL counts in the day it settled (idempotent)."""
    if record.state in SETTLED_STATES and record.pnl is not None and record.settled_at:
        pnl.record_settlement(f"redeem:{record.key}", record.pnl, record.settled_at)


def redeemed_topics(records: Iterable[Redemption], running: Collection[str]) -> set[str]:
    """Topics without a worker whose shares were redeemed or lost: they hold nothing now."""
    return {
        r.topic_id
        for r in records
        if r.topic_id and r.state in SETTLED_STATES and r.topic_id not in running
    }


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int
    redemptions: dict[str, Redemption] = Field(default_factory=dict)


class RedemptionStore:
    """The records of ``data/redemptions.json``; every change is written at once."""

    def __init__(self, path: Path, records: dict[str, Redemption]) -> None:
        self.path = path
        self._records = records

    @classmethod
    def load(cls, path: Path) -> RedemptionStore:
        """Read ``path`` (absent = empty); StateFileError, file untouched, when unreadable."""
        if not path.exists():
            return cls(path, {})
        raw = read_json_file(path)
        try:
            document = _Document.model_validate(raw)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise StateFileError(path, f"{where}: {first['msg']}") from None
        if document.version != VERSION:
            raise StateFileError(path, f"version {document.version!r} is not supported")
        return cls(path, dict(document.redemptions))

    def get(self, wallet: str, condition_id: str) -> Redemption | None:
        """The record of a wallet's market, if any."""
        return self._records.get(record_key(wallet, condition_id))

    def records(self) -> list[Redemption]:
        """Every record, oldest first."""
        return sorted(self._records.values(), key=lambda r: r.first_seen)

    def put(self, record: Redemption) -> None:
        """Add or replace a record and write the file (OSError propagates)."""
        self._records[record.key] = record
        document = _Document(version=VERSION, redemptions=self._records)
        atomic_write_json(self.path, document.model_dump(mode="json"))


__all__ = [
    "FILE_NAME",
    "SETTLED_STATES",
    "Redemption",
    "RedemptionState",
    "RedemptionStore",
    "count_payout",
    "describe_pass",
    "entry_cost",
    "note_redemption",
    "payout",
    "record_key",
    "redeemed_topics",
    "retry_at",
]
