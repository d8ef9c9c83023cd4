"""``data/handled_topics.json``: which markets were handled, and where each one is in its life.

The supervisor is the only writer (it holds the data-directory lock); every change is written
at once, atomically. Drill, paper and live never mix: the file holds one section per mode and a
run reads and changes only its own section, keeping the others byte for byte as it found them.
The original plain form ``{"updated_at", "total", "topics": [ids]}`` is still read: those ids
count as handled (finished) in every mode. A file that cannot be read raises
``StateFileError`` and is never replaced. The format is documented in docs/handled_topics.md.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from polymaker.autorun.states import TERMINAL_STATES, TopicState, check_transition
from polymaker.config.global_config import Mode
from polymaker.errors import StateFileError
from polymaker.files import atomic_write_json, read_json_file

LEDGER_VERSION = 2
HISTORY_LIMIT = 20  # transitions kept per topic; older ones are only in logs/autorun.log

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The wall clock, UTC-aware (ledger timestamps are for people and restarts)."""
    return datetime.now(UTC)


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TransitionRecord(_Record):
    """One state change: when, from which state (None at creation), to which, and why."""

    at: AwareDatetime
    old: TopicState | None
    new: TopicState
    reason: str


class RedemptionNote(_Record):
    """What became of the shares a topic held when its market resolved (``redemptions``).

    state: ``redeemed`` (paid ``payout_pusd`` in transaction ``tx``), ``lost`` (resolved to 0:
    no transaction), or ``pending``/``retrying`` (``last_error`` says why it is not paid yet).
    pnl: payout minus the shares' cost at the venue's average entry (None when unknown).
    """

    state: str
    shares: Decimal
    payout_pusd: Decimal | None = None
    pnl: Decimal | None = None
    tx: str | None = None
    last_error: str | None = None
    at: AwareDatetime


class LedgerEntry(_Record):
    """The persisted life of one topic in one mode.

    attempts: restarts since it was last queued (compared with ``restart.max_retries``).
    starts: launches ever. next_start_at: when a ``backoff`` topic restarts.
    stopped_by_user: set on entering ``stopped``, cleared only by an explicit retry.
    position_left / open_orders_left: what the last sweep of the market found (shares of the
    traded outcome, as a decimal string in the file; orders still open); None = not swept yet
    or the sweep failed. Files written before these fields existed read as None.
    redemption: the payout of the market after it resolved (None: nothing was held).
    """

    topic_id: str
    state: TopicState
    attempts: int = Field(default=0, ge=0)
    starts: int = Field(default=0, ge=0)
    first_seen: AwareDatetime
    last_change: AwareDatetime
    last_started: AwareDatetime | None = None
    last_exit: AwareDatetime | None = None
    last_exit_code: int | None = None
    last_reason: str = ""
    stopped_by_user: bool = False
    next_start_at: AwareDatetime | None = None
    condition_id: str | None = None
    position_left: Decimal | None = None
    open_orders_left: int | None = Field(default=None, ge=0)
    redemption: RedemptionNote | None = None
    history: tuple[TransitionRecord, ...] = ()


class _Section(_Record):
    updated_at: AwareDatetime | None = None
    queue: list[str] = Field(default_factory=list)
    topics: dict[str, LedgerEntry] = Field(default_factory=dict)


def _read_document(path: Path) -> dict[str, Any]:
    """The file as a version-2 document (an absent file is empty; the plain form is converted)."""
    if not path.exists():
        return {"version": LEDGER_VERSION, "legacy_topics": [], "modes": {}}
    raw = read_json_file(path)
    if not isinstance(raw, dict):
        raise StateFileError(path, "is not a ledger: the top level must be an object")
    if "version" not in raw:
        ids = raw.get("topics", raw.get("handled_topics"))
        if not isinstance(ids, list) or not all(isinstance(item, str) for item in ids):
            raise StateFileError(path, "plain ledger: 'topics' must be a list of topic ids")
        return {"version": LEDGER_VERSION, "legacy_topics": sorted(set(ids)), "modes": {}}
    if raw["version"] != LEDGER_VERSION:
        raise StateFileError(path, f"ledger version {raw['version']!r} is not supported")
    legacy, modes = raw.get("legacy_topics", []), raw.get("modes", {})
    if not isinstance(legacy, list) or not all(isinstance(item, str) for item in legacy):
        raise StateFileError(path, "'legacy_topics' must be a list of topic ids")
    if not isinstance(modes, dict) or set(modes) - {str(mode) for mode in Mode}:
        raise StateFileError(path, "'modes' must be an object keyed by drill, paper or live")
    return {"version": LEDGER_VERSION, "legacy_topics": legacy, "modes": modes}


def _parse_section(path: Path, mode: Mode, raw: Any) -> _Section:
    try:
        section = _Section.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise StateFileError(path, f"modes.{mode}.{where}: {first['msg']}") from None
    queued = [key for key, entry in section.topics.items() if entry.state is TopicState.QUEUED]
    if sorted(section.queue) != sorted(queued) or len(set(section.queue)) != len(section.queue):
        raise StateFileError(path, f"modes.{mode}.queue does not list exactly the queued topics")
    for key, entry in section.topics.items():
        if entry.topic_id != key:
            raise StateFileError(path, f"modes.{mode}.topics.{key}: topic_id is {entry.topic_id}")
    return section


def _write_document(path: Path, document: dict[str, Any], now: datetime) -> None:
    document["updated_at"] = now.isoformat().replace("+00:00", "Z")
    atomic_write_json(path, document)


def backup_path(path: Path, now: datetime) -> Path:
    """``handled_topics.json.bak-20261203T140500Z`` beside the ledger (``-2``... if taken)."""
    stem = f"{path.name}.bak-{now.strftime('%Y%m%dT%H%M%SZ')}"
    candidate, number = path.with_name(stem), 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{stem}-{number}")
    return candidate


def reset_ledger_file(
    path: Path | str, *, modes: Iterable[Mode] | None = None, clock: Clock = utc_now
) -> Path | None:
    """Forget handled topics (``reset-history``): copy the file to a timestamped backup first.

    Terminal entries (stopped, finished, failed) and the plain-form ids are dropped, in the
    given ``modes`` (default all). Queued, backoff and active topics stay: forgetting a running
    worker would orphan its orders. Returns the backup, or None when there was no file.
    """
    path = Path(path)
    document = _read_document(path)
    chosen = list(Mode) if modes is None else list(modes)
    sections = {mode: _parse_section(path, mode, document["modes"][str(mode)])
                for mode in chosen if str(mode) in document["modes"]}  # fmt: skip
    if not path.exists():
        return None
    now = clock()
    backup = backup_path(path, now)
    shutil.copy2(path, backup)
    for mode, section in sections.items():
        kept = {key: e for key, e in section.topics.items() if e.state not in TERMINAL_STATES}
        document["modes"][str(mode)] = _Section(
            updated_at=now, queue=section.queue, topics=kept
        ).model_dump(mode="json")
    document["legacy_topics"] = []
    _write_document(path, document, now)
    return backup


class Ledger:
    """One mode's section of the ledger, with the queue; every mutation is saved at once.

    ``transition`` is the only way a topic's state changes: it checks the table in
    ``polymaker.autorun.states`` and records the change in the entry's history.
    """

    def __init__(self, path: Path, mode: Mode, document: dict[str, Any], clock: Clock) -> None:
        self._path = path
        self._mode = mode
        self._document = document
        self._clock = clock
        section = _parse_section(path, mode, document["modes"].get(str(mode), {}))
        self._entries: dict[str, LedgerEntry] = dict(section.topics)
        self._queue: list[str] = list(section.queue)
        self._legacy: frozenset[str] = frozenset(document["legacy_topics"])
        self._from_history: set[str] = set(self._entries) | set(self._legacy)

    @classmethod
    def load(cls, path: Path | str, mode: Mode | str, *, clock: Clock = utc_now) -> Ledger:
        """Read ``path`` (absent = empty); raise ``StateFileError`` and touch nothing if bad."""
        path = Path(path)
        return cls(path, Mode(mode), _read_document(path), clock)

    @property
    def path(self) -> Path:
        """The ledger file."""
        return self._path

    @property
    def mode(self) -> Mode:
        """The mode whose section this ledger reads and writes."""
        return self._mode

    @property
    def queue(self) -> tuple[str, ...]:
        """Queued topic ids, oldest first (FIFO)."""
        return tuple(self._queue)

    def get(self, topic_id: str) -> LedgerEntry | None:
        """The entry of ``topic_id`` in this mode, if any."""
        return self._entries.get(topic_id)

    def entries(self) -> dict[str, LedgerEntry]:
        """A copy of all entries of this mode, by topic id."""
        return dict(self._entries)

    def in_state(self, states: Iterable[TopicState]) -> list[LedgerEntry]:
        """Entries whose state is one of ``states``, in ledger order."""
        wanted = frozenset(states)
        return [entry for entry in self._entries.values() if entry.state in wanted]

    def is_handled(self, topic_id: str) -> bool:
        """True when the topic has an entry or is in the plain-form list."""
        return topic_id in self._entries or topic_id in self._legacy

    def is_new(self, topic_id: str, *, ignore_history: bool) -> bool:
        """Should a screened topic be queued?

        Unknown topics are new. With ``ignore_history``, a topic that an earlier run finished or
        failed (and this run has not touched) is new again; one the user stopped never is.
        """
        if not self.is_handled(topic_id):
            return True
        if not ignore_history or topic_id not in self._from_history:
            return False
        entry = self._entries.get(topic_id)
        return entry is None or (
            entry.state in (TopicState.FINISHED, TopicState.FAILED) and not entry.stopped_by_user
        )

    def enqueue(
        self,
        topic_id: str,
        *,
        reason: str,
        condition_id: str | None = None,
        front: bool = False,
    ) -> LedgerEntry:
        """Add a topic to the queue: a new entry, or a re-queue of a known one.

        At the back (FIFO) unless ``front``: a resumed topic (it may hold a position) goes
        before the topics that were never started.
        """
        if topic_id not in self._entries:
            now = self._clock()
            record = TransitionRecord(at=now, old=None, new=TopicState.QUEUED, reason=reason)
            self._entries[topic_id] = LedgerEntry(
                topic_id=topic_id,
                state=TopicState.QUEUED,
                first_seen=now,
                last_change=now,
                last_reason=reason,
                condition_id=condition_id,
                history=(record,),
            )
            self._queue.insert(0 if front else len(self._queue), topic_id)
            self._from_history.discard(topic_id)
            self._save(now)
            return self._entries[topic_id]
        return self.transition(topic_id, TopicState.QUEUED, reason=reason, front=front)

    def transition(
        self,
        topic_id: str,
        new: TopicState,
        *,
        reason: str,
        exit_code: int | None = None,
        next_start_at: datetime | None = None,
        front: bool = False,
    ) -> LedgerEntry:
        """Move a topic to ``new`` (``TransitionError`` if the table forbids it) and save.

        Side effects by target: ``queued`` goes to the back of the queue (the front with
        ``front``) with attempts reset
        and ``stopped_by_user`` cleared; ``starting`` counts a start; ``backoff`` counts an
        attempt and needs ``next_start_at``; ``stopped`` sets ``stopped_by_user``.
        ``exit_code`` records an exit (code and time).
        """
        entry = self._entries.get(topic_id)
        if entry is None:
            raise KeyError(topic_id)
        check_transition(topic_id, entry.state, new)
        if new is TopicState.BACKOFF and next_start_at is None:
            raise ValueError("entering backoff needs next_start_at")
        now = self._clock()
        changes = _changes_for(entry, new, now, reason, exit_code, next_start_at)
        self._entries[topic_id] = entry.model_copy(update=changes)
        if entry.state is TopicState.QUEUED:
            self._queue.remove(topic_id)
        if new is TopicState.QUEUED:
            self._queue.insert(0 if front else len(self._queue), topic_id)
        self._from_history.discard(topic_id)
        self._save(now)
        return self._entries[topic_id]

    def record_left(
        self, topic_id: str, *, position: Decimal | None, open_orders: int | None
    ) -> LedgerEntry:
        """Record what a sweep left in the market (None = unknown: the sweep failed)."""
        entry = self._entries[topic_id]
        update = {"position_left": position, "open_orders_left": open_orders}
        self._entries[topic_id] = entry.model_copy(update=update)
        self._save(self._clock())
        return self._entries[topic_id]

    def record_redemption(self, topic_id: str, note: RedemptionNote) -> LedgerEntry:
        """Record the payout (or the failure) of a topic's resolved market; the state stays."""
        entry = self._entries[topic_id]
        self._entries[topic_id] = entry.model_copy(update={"redemption": note})
        self._save(self._clock())
        return self._entries[topic_id]

    def topic_of(self, condition_id: str) -> str | None:
        """The topic that traded market ``condition_id`` (the latest one), if any."""
        wanted = condition_id.lower()
        found = [
            e.topic_id for e in self._entries.values() if (e.condition_id or "").lower() == wanted
        ]
        return found[-1] if found else None

    def clear_attempts(self, topic_id: str) -> LedgerEntry:
        """Reset the retry count of a worker that stayed up ``restart.reset_after_s``."""
        entry = self._entries[topic_id]
        if entry.attempts:
            self._entries[topic_id] = entry.model_copy(update={"attempts": 0})
            self._save(self._clock())
        return self._entries[topic_id]

    def reset_history(self) -> Path | None:
        """``reset-history`` for this mode (see ``reset_ledger_file``); returns the backup."""
        backup = reset_ledger_file(self._path, modes=[self._mode], clock=self._clock)
        fresh = Ledger.load(self._path, self._mode, clock=self._clock)
        self._document, self._entries = fresh._document, fresh._entries
        self._queue, self._legacy = fresh._queue, fresh._legacy
        self._from_history = fresh._from_history
        return backup

    def _save(self, now: datetime) -> None:
        section = _Section(updated_at=now, queue=self._queue, topics=self._entries)
        self._document["modes"][str(self._mode)] = section.model_dump(mode="json")
        _write_document(self._path, self._document, now)


def _changes_for(
    entry: LedgerEntry,
    new: TopicState,
    now: datetime,
    reason: str,
    exit_code: int | None,
    next_start_at: datetime | None,
) -> dict[str, Any]:
    """The field updates of one transition (see ``Ledger.transition``)."""
    record = TransitionRecord(at=now, old=entry.state, new=new, reason=reason)
    changes: dict[str, Any] = {
        "state": new,
        "last_change": now,
        "last_reason": reason,
        "history": (*entry.history, record)[-HISTORY_LIMIT:],
        "next_start_at": next_start_at if new is TopicState.BACKOFF else None,
    }
    if new is TopicState.QUEUED:
        changes.update(attempts=0, stopped_by_user=False)
    elif new is TopicState.STARTING:
        changes.update(starts=entry.starts + 1, last_started=now)
    elif new is TopicState.BACKOFF:
        changes["attempts"] = entry.attempts + 1
    elif new is TopicState.STOPPED:
        changes["stopped_by_user"] = True
    if exit_code is not None:
        changes.update(last_exit=now, last_exit_code=exit_code)
    return changes


__all__ = [
    "HISTORY_LIMIT",
    "LEDGER_VERSION",
    "Ledger",
    "LedgerEntry",
    "RedemptionNote",
    "TransitionRecord",
    "backup_path",
    "reset_ledger_file",
    "utc_now",
]
