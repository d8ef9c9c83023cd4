"""The file side of the account limits: status files in, the daily PnL tracker in and out.

Kept apart from ``limits`` so the rules stay pure. Reading is tolerant: a status file that is
missing, half written or malformed is skipped with a reason (the caller logs it), never fatal.
A skipped file means that topic's exposure is unknown for this tick; the supervisor should
treat "skipped" as a reason to be careful (e.g. not launch) if it persists.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from polymaker.autorun.limits import DailyPnl, OpenBuy, TopicExposure
from polymaker.errors import StateFileError
from polymaker.files import atomic_write_json, read_json_file

log = logging.getLogger("polymaker.autorun.limits")

DAILY_PNL_FILE_NAME = "daily_pnl.json"
"""The tracker's file in the data directory (``data/daily_pnl.json``)."""


@dataclass(frozen=True)
class Skipped:
    """A status file that could not be used, and why."""

    path: Path
    reason: str


@dataclass(frozen=True)
class ExposureRead:
    """Every readable topic of a status directory, and the files skipped."""

    exposures: tuple[TopicExposure, ...]
    skipped: tuple[Skipped, ...]


class _Unusable(ValueError):
    pass


def _decimal(document: dict[str, Any], key: str, *, optional: bool = False) -> Decimal | None:
    value = document.get(key)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _Unusable(f"{key!r} is not a decimal string")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise _Unusable(f"{key!r} is not a decimal: {value!r}") from None
    if not number.is_finite():
        raise _Unusable(f"{key!r} is not finite: {value!r}")
    return number


def _open_buys(document: dict[str, Any]) -> tuple[OpenBuy, ...]:
    orders = document.get("open_orders", [])
    if not isinstance(orders, list):
        raise _Unusable("'open_orders' is not a list")
    buys = []
    for order in orders:
        if not isinstance(order, dict):
            raise _Unusable("an open order is not an object")
        if str(order.get("side", "")).upper() != "BUY":
            continue
        price = _decimal(order, "price")
        size = _decimal(order, "size")
        matched = _decimal(order, "size_matched", optional=True) or Decimal(0)
        assert price is not None and size is not None
        buys.append(OpenBuy(price, max(size - matched, Decimal(0))))
    return tuple(buys)


def _started_at(document: dict[str, Any]) -> datetime | None:
    value = document.get("started_at")
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def exposure_from_status(document: Any) -> TopicExposure:
    """One status document as a :class:`TopicExposure`; ``ValueError`` when unusable."""
    if not isinstance(document, dict):
        raise _Unusable("not a JSON object")
    topic = document.get("topic_id")
    if not isinstance(topic, str) or not topic:
        raise _Unusable("no 'topic_id'")
    pid = document.get("pid")
    position = _decimal(document, "position")
    realized = _decimal(document, "realized_pnl")
    assert position is not None and realized is not None
    return TopicExposure(
        topic_id=topic,
        position=position,
        avg_entry=_decimal(document, "avg_entry", optional=True),
        open_buys=_open_buys(document),
        realized_pnl=realized,
        pid=pid if isinstance(pid, int) and not isinstance(pid, bool) else None,
        started_at=_started_at(document),
    )


def read_exposures(status_dir: Path) -> ExposureRead:
    """Read every ``<topic>.json`` in ``status_dir`` (a missing directory = no topics)."""
    if not status_dir.is_dir():
        return ExposureRead((), ())
    exposures: list[TopicExposure] = []
    skipped: list[Skipped] = []
    for path in sorted(status_dir.glob("*.json")):
        try:
            exposures.append(exposure_from_status(read_json_file(path)))
        except StateFileError as error:
            skipped.append(Skipped(path, str(error)))
        except ValueError as error:
            skipped.append(Skipped(path, f"{path}: {error}"))
    return ExposureRead(tuple(exposures), tuple(skipped))


def load_daily_pnl(path: Path, now: datetime) -> DailyPnl:
    """The tracker saved at ``path`` (a fresh one when absent, unreadable or from another day).

    An unreadable file is logged as an error: that day's earlier losses of runs whose status
    files were overwritten since are then forgotten.
    """
    if not path.exists():
        return DailyPnl.starting(now)
    try:
        return DailyPnl.from_document(read_json_file(path), now)
    except (StateFileError, ValueError) as error:
        log.error("daily PnL file %s unusable (%s); starting the day's count afresh", path, error)
        return DailyPnl.starting(now)


def save_daily_pnl(path: Path, tracker: DailyPnl) -> None:
    """Write the tracker atomically."""
    atomic_write_json(path, tracker.to_document())


__all__ = [
    "DAILY_PNL_FILE_NAME",
    "ExposureRead",
    "Skipped",
    "exposure_from_status",
    "load_daily_pnl",
    "read_exposures",
    "save_daily_pnl",
]
