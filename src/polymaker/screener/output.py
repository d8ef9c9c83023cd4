"""Screener output: the ``topics_filtered.json`` document, CSV, and the terminal listing.

The JSON keys are a contract (design.md "Files"); prices and sizes are decimal strings so no
reader has to go through float.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import orjson

from polymaker.files import atomic_write_bytes
from polymaker.screener.model import Topic
from polymaker.screener.screen import ScreenResult

CSV_COLUMNS = (
    "topic_id", "market_id", "question", "event_slug", "end_time", "hours_to_end",
    "preferred_side", "token_id", "bid", "ask", "spread", "yes_bid", "yes_ask", "no_bid",
    "no_ask", "tick_size", "min_order_size", "neg_risk", "volume_total", "volume_24h",
    "liquidity", "condition_id", "yes_token", "no_token",
)  # fmt: skip


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def topic_document(topic: Topic, result: ScreenResult) -> dict[str, Any]:
    """One ``topics`` entry of the result file."""
    c = topic.candidate
    chosen = topic.chosen
    book_tick = chosen.tick_size if chosen.tick_size is not None else c.tick_size
    book_min = chosen.min_order_size if chosen.min_order_size is not None else c.min_order_size
    neg_risk = chosen.neg_risk if chosen.neg_risk is not None else c.neg_risk
    spread = None if chosen.ask is None or chosen.bid is None else chosen.ask - chosen.bid
    assert c.end_time is not None  # the end-time criterion passed
    hours = (c.end_time - result.generated_at).total_seconds() / 3600
    return {
        "topic_id": c.slug,
        "market_id": c.market_id,
        "condition_id": c.condition_id,
        "question": c.question,
        "event_slug": c.event_slug,
        "event_title": c.event_title,
        "end_time": c.end_time.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "hours_to_end": round(hours, 2),
        "yes_token": c.yes_token,
        "no_token": c.no_token,
        "outcomes": list(c.outcomes),
        "preferred_side": topic.side,
        "token_id": topic.token,
        "tick_size": _money(book_tick),
        "min_order_size": _money(book_min),
        "neg_risk": neg_risk,
        "bid": _money(chosen.bid),
        "ask": _money(chosen.ask),
        "spread": _money(spread),
        "yes_bid": _money(topic.yes.bid),
        "yes_ask": _money(topic.yes.ask),
        "no_bid": _money(topic.no.bid),
        "no_ask": _money(topic.no.ask),
        "quote_source": topic.quote_source,
        "volume_total": str(c.volume_total),
        "volume_24h": str(c.volume_24h),
        "liquidity": str(c.liquidity),
    }


def result_document(result: ScreenResult) -> dict[str, Any]:
    """The whole ``topics_filtered.json`` document."""
    s = result.stats
    return {
        "generated_at": result.generated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "criteria": result.params.criteria_document(),
        "total_markets": result.total_markets,
        "selected": len(result.topics),
        "rejected": dict(result.rejected),
        "source": {
            "gamma_url": result.gamma_url,
            "clob_url": result.clob_url,
            "listing": s.listing_source,
            "pages": s.pages,
            "books_requested": s.books_requested,
            "books_batches": s.books_batches,
            "books_failed_batches": s.books_failed_batches,
            "elapsed_s": s.elapsed_s,
        },
        "topics": [topic_document(t, result) for t in result.topics],
    }


def document_bytes(document: dict[str, Any], *, indent: bool = True) -> bytes:
    """The document as UTF-8 JSON (orjson: a 20,000-market screen writes thousands of topics)."""
    option = orjson.OPT_INDENT_2 if indent else 0
    return orjson.dumps(document, option=option) + b"\n"


def write_result(result: ScreenResult, path: Path | str) -> dict[str, Any]:
    """Write the result file atomically (a reader sees the old or the new file) and return it."""
    document = result_document(result)
    atomic_write_bytes(Path(path), document_bytes(document))
    return document


def write_csv(result: ScreenResult, path: Path | str) -> None:
    """The selected topics as CSV (one row per topic, ``CSV_COLUMNS``), written atomically."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for topic in result.topics:
        writer.writerow(topic_document(topic, result))
    atomic_write_bytes(Path(path), buffer.getvalue().encode("utf-8"))


def print_plain(result: ScreenResult, stream: IO[str]) -> None:
    """One line per topic and a summary, for pipes and logs."""
    for index, topic in enumerate(result.topics, 1):
        row = topic_document(topic, result)
        stream.write(
            f"[{index}] {row['topic_id']} | {row['question']} | side={row['preferred_side']} "
            f"bid/ask={row['bid']}/{row['ask']} | ends_in={row['hours_to_end']}h "
            f"| end_time={row['end_time']}\n"
        )
    stream.write(_summary(result) + "\n")
    for reason, count in result.rejected.items():
        stream.write(f"  rejected {count:>6}  {reason}\n")


def print_table(result: ScreenResult, stream: IO[str]) -> None:
    """A ``rich`` table of the topics and the rejection counts, for a terminal."""
    from rich.console import Console
    from rich.table import Table

    console = Console(file=stream)
    table = Table(title=_summary(result), show_lines=False)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("topic (market slug)", overflow="fold")
    for name in ("side", "bid", "ask", "ends in", "24h vol"):
        table.add_column(name, justify="right", no_wrap=True)
    for index, topic in enumerate(result.topics, 1):
        row = topic_document(topic, result)
        table.add_row(
            str(index), row["topic_id"], row["preferred_side"], row["bid"], row["ask"],
            f"{row['hours_to_end']}h", f"{topic.candidate.volume_24h:,.0f}",
        )  # fmt: skip
    console.print(table)
    reasons = Table(title="rejected by reason")
    reasons.add_column("count", justify="right")
    reasons.add_column("reason")
    for reason, count in result.rejected.items():
        reasons.add_row(str(count), reason)
    console.print(reasons)


def _summary(result: ScreenResult) -> str:
    s = result.stats
    return (
        f"selected {len(result.topics)} of {result.total_markets} markets "
        f"({s.pages} pages via {s.listing_source}, {s.books_batches} book batches, "
        f"{s.books_failed_batches} failed, {s.elapsed_s:.2f}s)"
    )


__all__ = [
    "CSV_COLUMNS",
    "document_bytes",
    "print_plain",
    "print_table",
    "result_document",
    "topic_document",
    "write_csv",
    "write_result",
]
