"""Which topics start now: the FIFO queue, due restarts and the concurrency cap (pure).

No I/O and no clock: the supervisor passes the ledger's entries, the number of slots in use and
the time. Restarts count against the cap like first starts (the reference restarted above the
cap, 4.27). A crashed market keeps its slot: a topic in ``backoff`` holds one while it waits
for its restart (it may hold a position that nobody manages until then), so the queue only
gets the slots left after running workers and pending restarts, and a due restart goes before
the queue.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from polymaker.autorun.ledger import LedgerEntry
from polymaker.autorun.states import TopicState


@dataclass(frozen=True)
class Plan:
    """What to launch now (in order) and what waits, with why."""

    start: tuple[str, ...]
    waiting_for_details: tuple[str, ...] = ()
    free_slots: int = 0


def free_slots(cap: int, in_use: int) -> int:
    """Slots left under the cap (never negative: a lowered cap stops nothing that runs)."""
    return max(cap - in_use, 0)


def due_restarts(entries: Iterable[LedgerEntry], now: datetime) -> list[str]:
    """Backoff topics whose ``next_start_at`` has passed, the longest-waiting first."""
    due = [
        entry
        for entry in entries
        if entry.state is TopicState.BACKOFF
        and entry.next_start_at is not None
        and entry.next_start_at <= now
    ]
    due.sort(key=lambda entry: (entry.next_start_at, entry.topic_id))
    return [entry.topic_id for entry in due]


def plan_starts(
    *,
    queue: Sequence[str],
    entries: Iterable[LedgerEntry],
    in_use: int,
    cap: int,
    now: datetime,
    paused: bool,
    launchable: Callable[[str], bool],
    busy: Callable[[str], bool] = lambda _topic: False,
) -> Plan:
    """The topics to launch this tick: due restarts, then the queue in FIFO order.

    Every ``backoff`` topic not yet due holds one of the free slots, so the queue cannot take
    it (see the module docstring). ``launchable(topic)`` says whether the market's details are
    known (a topic queued by an earlier run waits until a screen or a params file supplies
    them). ``busy(topic)`` is true
    while the supervisor still has a process or a sweep for it. Paused: nothing starts.
    """
    slots = free_slots(cap, in_use)
    if paused or slots == 0:
        return Plan(start=(), free_slots=slots)
    entries = [entry for entry in entries if not busy(entry.topic_id)]
    due = due_restarts(entries, now)
    held = sum(entry.state is TopicState.BACKOFF for entry in entries) - len(due)
    chosen: list[str] = []
    waiting: list[str] = []
    for topic in due:
        if len(chosen) < slots:
            _consider(topic, chosen, waiting, launchable)
    queue_slots = slots - len(chosen) - held
    for topic in queue:
        if len(chosen) >= slots or queue_slots <= 0:
            break
        if topic in chosen or busy(topic):
            continue
        if _consider(topic, chosen, waiting, launchable):
            queue_slots -= 1
    return Plan(start=tuple(chosen), waiting_for_details=tuple(waiting), free_slots=slots)


def _consider(
    topic: str, chosen: list[str], waiting: list[str], launchable: Callable[[str], bool]
) -> bool:
    """Choose ``topic`` if its details are known, else note it as waiting; True if chosen."""
    if not launchable(topic):
        waiting.append(topic)
        return False
    chosen.append(topic)
    return True


__all__ = ["Plan", "due_restarts", "free_slots", "plan_starts"]
