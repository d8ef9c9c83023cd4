"""``polymaker status``: the supervisor's topics as a table that fits the terminal.

Per topic, most useful first: topic, state, position, realized PnL, open orders, heartbeat
age, uptime, restarts, pid, and the last log line. The table is fitted to the terminal: a long
slug is cut with an ellipsis (at most a third of the width), columns that do not fit are left
out from the end of that list, and the last log line takes what is left. ``--wide`` shows
everything uncut. ``--json`` prints the status reply unchanged (design.md: ``{"mode",
"paused", "topics": [...]}``, full topic ids), one document and nothing else. The REPL's
``list`` and ``status --watch`` print the same fitted table. A topic whose resolved market's
shares were redeemed (or lost) shows ``redeemed`` (``lost``) as its state; under the table come
the wallet's redemptions not settled yet and the pUSD redeemed so far.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TextIO

from rich.console import Console
from rich.text import Text

_STATE_STYLES = {
    "running": "green",
    "starting": "cyan",
    "stopping": "yellow",
    "backoff": "yellow",
    "failed": "red",
    "stopped": "dim",
    "finished": "dim",
    "queued": "blue",
}


def uptime(started_at: str | None, state: str, now: datetime) -> str:
    """``1h02m`` since the last launch, for topics with a worker; else empty."""
    if started_at is None or state not in ("starting", "running", "stopping"):
        return ""
    try:
        start = datetime.fromisoformat(started_at.replace("Z", "+00:00"))
    except ValueError:
        return ""
    seconds = max(0, int((now - start).total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _message(line: str) -> str:
    """A worker log line without its time/level/mode/topic prefix (``...: message``)."""
    _head, colon, message = line.partition(": ")
    return message if colon and "[" in _head else line


@dataclass(frozen=True)
class _Column:
    """A column of the status table: its header, how to get its text, and how it may shrink.

    width: the fixed width in the fitted table (0 = as wide as its longest cell); the topic
    and the last log line are the two that are cut, with an ellipsis, to what is left.
    """

    name: str
    cell: Callable[[Mapping[str, Any], datetime], str]
    right: bool = False
    width: int = 0


def _state(row: Mapping[str, Any]) -> str:
    """The topic's state; once its resolved market's shares were redeemed (or lost), that."""
    redemption = row.get("redemption")
    if isinstance(redemption, dict) and redemption.get("state") in ("redeemed", "lost"):
        return str(redemption["state"])
    return _text(row.get("state"))


def _uptime(row: Mapping[str, Any], now: datetime) -> str:
    return uptime(row.get("started_at"), str(row.get("state")), now)


def _age(row: Mapping[str, Any], _now: datetime) -> str:
    age = row.get("heartbeat_age_s")
    return "" if age is None else f"{age:.0f}s"


# The most useful first: a narrow terminal drops columns from the end of this list (the last
# log line goes last of all: it takes whatever width is left).
_COLUMNS = (
    _Column("topic", lambda row, _now: _text(row.get("topic_id"))),
    _Column("state", lambda row, _now: _state(row), width=8),
    _Column("position", lambda row, _now: _text(row.get("position")), True, 8),
    _Column("PnL", lambda row, _now: _text(row.get("realized_pnl")), True, 8),
    _Column("orders", lambda row, _now: _text(row.get("open_orders")), True, 6),
    _Column("hb age", _age, True, 6),
    _Column("uptime", lambda row, now: _uptime(row, now), True, 6),
    _Column("restarts", lambda row, _now: _text(row.get("restarts")), True, 8),
    _Column("pid", lambda row, _now: _text(row.get("pid")), True, 7),
)
_LAST_LOG = _Column("last log", lambda row, _now: _message(_text(row.get("last_log"))))
_GAP = 2  # spaces between columns
TOPIC_MIN_WIDTH = 16  # a slug cut shorter than this no longer tells markets apart
LAST_LOG_MIN_WIDTH = 12
LAST_LOG_RESERVE = 24  # a column is left out rather than cut the log line below this


def _fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, the cut marked with an ellipsis."""
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def _layout(cells: list[list[str]], width: int, wide: bool) -> list[tuple[_Column, int]]:
    """The columns to show and their widths, so that a line is at most ``width`` long.

    ``wide``: every column at the width of its longest cell, whatever the terminal.
    Otherwise the topic gets up to a third of the width (at least TOPIC_MIN_WIDTH), the
    other columns are added in ``_COLUMNS`` order while they leave LAST_LOG_RESERVE for the
    last log line, which gets what is left (dropped when less than LAST_LOG_MIN_WIDTH).
    """
    columns = (*_COLUMNS, _LAST_LOG)
    natural = [
        max([len(column.name)] + [len(row[i]) for row in cells]) for i, column in enumerate(columns)
    ]
    if wide:
        return list(zip(columns, natural, strict=True))
    topic = min(natural[0], max(TOPIC_MIN_WIDTH, width // 3))
    chosen: list[tuple[_Column, int]] = [(columns[0], topic)]
    used = topic
    for column, longest in zip(columns[1:-1], natural[1:-1], strict=True):
        size = max(len(column.name), min(longest, column.width))
        if used + _GAP + size + _GAP + LAST_LOG_RESERVE > width:
            break
        chosen.append((column, size))
        used += _GAP + size
    left = width - used - _GAP
    if left >= LAST_LOG_MIN_WIDTH:
        chosen.append((_LAST_LOG, min(left, natural[-1])))
    return chosen


def build_table(
    document: Mapping[str, Any], width: int, *, wide: bool = False, now: datetime | None = None
) -> list[Text]:
    """The lines of the status table of one reply, fitted to ``width`` columns (see _layout).

    Full topic ids are in ``status --json``; ``wide`` shows every column uncut.
    """
    now = now or datetime.now(UTC)
    rows = list(document.get("topics", []))
    cells = [[column.cell(row, now) for column in (*_COLUMNS, _LAST_LOG)] for row in rows]
    layout = _layout(cells, width, wide)
    index = {column.name: i for i, column in enumerate((*_COLUMNS, _LAST_LOG))}
    paused = " (launching paused)" if document.get("paused") else ""
    lines = [Text(f"polymaker [{document.get('mode')}]{paused}", style="bold")]
    lines.append(_line([(c, w, c.name) for c, w in layout], "bold", ""))
    for row, values in zip(rows, cells, strict=True):
        state_style = _STATE_STYLES.get(str(row.get("state")), "")
        lines.append(_line([(c, w, values[index[c.name]]) for c, w in layout], "", state_style))
    return lines


def _line(cells: list[tuple[_Column, int, str]], style: str, state_style: str) -> Text:
    """One table line: cells cut and aligned to their widths; the state cell in its colour."""
    line = Text(style=style)
    for number, (column, width, value) in enumerate(cells):
        text = _fit(value, width)
        padded = text.rjust(width) if column.right else text.ljust(width)
        if number:
            line.append(" " * _GAP)
        line.append(padded, style=state_style if column.name == "state" else "")
    line.rstrip()
    return line


def unmanaged_line(held: Mapping[str, Any]) -> str:
    """``held, no worker: 10 shares of will-it-rain (at 0.42)`` for one unmanaged position."""
    name = held.get("topic_id") or f"market {str(held.get('condition_id'))[:12]}…"
    redeemable = ", redeemable" if held.get("redeemable") else ""
    return (
        f"held, no worker: {held.get('shares')} shares of {name} "
        f"(at {held.get('avg_price')}{redeemable})"
    )


def summary(document: Mapping[str, Any]) -> str:
    """``3 running, 2 queued`` (counts by state)."""
    counts: dict[str, int] = {}
    for row in document.get("topics", []):
        counts[str(row.get("state"))] = counts.get(str(row.get("state")), 0) + 1
    return ", ".join(f"{count} {state}" for state, count in sorted(counts.items())) or "no topics"


def redemption_lines(document: Mapping[str, Any]) -> list[str]:
    """Redemptions not settled yet (one line each), and the pUSD redeemed so far."""
    records = [r for r in document.get("redemptions", []) if isinstance(r, dict)]
    lines = [
        f"redemption {r.get('state')}: {r.get('title') or r.get('condition_id')}, "
        f"{r.get('shares')} shares, attempt {r.get('attempts')}: {r.get('last_error') or 'due'}"
        for r in records
        if r.get("state") in ("pending", "retrying")
    ]
    paid = [Decimal(str(r["payout_pusd"])) for r in records if r.get("payout_pusd") is not None]
    if paid:
        total = sum(paid, Decimal(0))
        lines.append(f"redeemed: {total.normalize():f} pUSD from {len(paid)} markets")
    return lines


def print_status(document: Mapping[str, Any], out: TextIO, *, wide: bool = False) -> None:
    """Print the table, fitted to the terminal of ``out`` (or uncut: ``wide``), the account
    line and a summary."""
    console = Console(file=out, soft_wrap=wide)
    for line in build_table(document, console.width, wide=wide):
        console.print(line, no_wrap=True, overflow="ignore" if wide else "ellipsis", crop=not wide)
    account = document.get("account")
    if isinstance(account, dict) and account.get("description"):
        console.print(Text(str(account["description"])), overflow="fold")
    for held in document.get("unmanaged") or []:
        console.print(Text(unmanaged_line(held)), overflow="fold")
    for redemption in redemption_lines(document):
        console.print(Text(redemption), overflow="fold")
    console.print(summary(document))


__all__ = ["build_table", "print_status", "redemption_lines", "summary", "uptime"]
