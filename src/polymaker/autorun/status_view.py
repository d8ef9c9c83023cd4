"""``polymaker status``: the supervisor's topics as a rich table (or JSON, or refreshed).

The table shows, per topic: state, pid, uptime, restarts, heartbeat age, position, open
orders, realized PnL and the last log line. ``--json`` prints the status reply unchanged
(design.md: ``{"mode", "paused", "topics": [...]}``), one document and nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

from rich.console import Console, JustifyMethod
from rich.markup import escape
from rich.table import Table

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
LAST_LOG_WIDTH = 60


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


def build_table(document: Mapping[str, Any], now: datetime | None = None) -> Table:
    """The rich table of one status reply."""
    now = now or datetime.now(UTC)
    paused = " (launching paused)" if document.get("paused") else ""
    title = escape(f"polymaker [{document.get('mode')}]{paused}")
    table = Table(title=title, expand=False)
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("topic", "left"),
        ("state", "left"),
        ("pid", "right"),
        ("uptime", "right"),
        ("restarts", "right"),
        ("hb age", "right"),
        ("position", "right"),
        ("orders", "right"),
        ("PnL", "right"),
        ("last log", "left"),
    )
    for name, justify in columns:
        table.add_column(
            name,
            justify=justify,
            overflow="fold" if name == "topic" else "ellipsis",
            no_wrap=name == "last log",
        )
    for row in document.get("topics", []):
        state = str(row.get("state"))
        age = row.get("heartbeat_age_s")
        last = _text(row.get("last_log"))
        table.add_row(
            escape(_text(row.get("topic_id"))),
            f"[{_STATE_STYLES.get(state, 'white')}]{state}[/]",
            _text(row.get("pid")),
            uptime(row.get("started_at"), state, now),
            _text(row.get("restarts")),
            "" if age is None else f"{age:.0f}s",
            _text(row.get("position")),
            _text(row.get("open_orders")),
            _text(row.get("realized_pnl")),
            escape(_message(last)[-LAST_LOG_WIDTH:]),
        )
    return table


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


def print_status(document: Mapping[str, Any], out: TextIO) -> None:
    """Print the table and a summary line to ``out``."""
    console = Console(file=out, width=max(Console(file=out).width, 120))
    console.print(build_table(document))
    account = document.get("account")
    if isinstance(account, dict) and account.get("description"):
        console.print(escape(str(account["description"])))
    for held in document.get("unmanaged") or []:
        console.print(escape(unmanaged_line(held)))
    console.print(summary(document))


__all__ = ["build_table", "print_status", "summary", "uptime"]
