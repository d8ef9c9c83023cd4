"""The screener against the drill exchange (``polymaker sim`` as a real process), with faults."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from polymaker.cli import main
from polymaker.config.filter import FilterParams
from polymaker.drill.testing import running_sim
from polymaker.errors import RequestRejectedError
from polymaker.screener import Reason, screen
from polymaker.screener.fetch import iso_z

pytestmark = pytest.mark.integration

# Every market the drill lists, whatever its end date: makes counts independent of timing.
WIDE = {"min_end_hours": 0.0, "max_end_hours": 24.0 * 3650, "min_total_volume": 0}
FAST = {"retries": 6, "backoff_base_s": 0.01, "backoff_max_s": 0.05, "timeout_s": 10.0}


def params(**extra) -> FilterParams:
    return FilterParams.model_validate({**WIDE, **FAST, **extra})


def write_params(tmp_path: Path, **extra) -> Path:
    path = tmp_path / "filter_params.json"
    path.write_text(json.dumps({**WIDE, **FAST, **extra}))
    return path


def listed_count(gamma_url: str, generated_at: str) -> int:
    """Active, open markets in the screen's window, by one plain sequential keyset walk."""
    start = datetime.fromisoformat(generated_at)
    end = start + timedelta(hours=WIDE["max_end_hours"])
    count, cursor = 0, None
    with httpx.Client(timeout=10) as client:
        while True:
            query = {"limit": 100, "active": "true", "closed": "false",
                     "end_date_min": iso_z(start), "end_date_max": iso_z(end)}  # fmt: skip
            if cursor:
                query["after_cursor"] = cursor
            page = client.get(f"{gamma_url}/markets/keyset", params=query).json()
            count += len(page["markets"])
            cursor = page.get("next_cursor")
            if not cursor:
                return count


def test_cli_screens_the_drill_exchange(tmp_path, capsys):
    out = tmp_path / "data" / "topics_filtered.json"
    csv_path = tmp_path / "topics.csv"
    with running_sim(tmp_path, markets=400, seed=3) as urls:
        code = main([
            "screen", "--filter-config", str(write_params(tmp_path, ask_min=0.5, ask_max=0.999)),
            "--gamma-url", urls.gamma_url, "--clob-url", urls.clob_url,
            "--out", str(out), "--csv", str(csv_path), "--json",
        ])  # fmt: skip
        document = json.loads(out.read_text())
        expected_total = listed_count(urls.gamma_url, document["generated_at"])
        with httpx.Client(timeout=10) as client:
            first = document["topics"][0]
            book = client.get(f"{urls.clob_url}/book", params={"token_id": first["yes_token"]})
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["topics"] == document["topics"]
    assert document["total_markets"] == expected_total > 0
    assert document["topics"] and csv_path.read_text().count("\n") == len(document["topics"]) + 1
    events = [t["event_slug"] for t in document["topics"] if t["event_slug"]]
    assert len(events) == len(set(events))  # one market per event
    for topic in document["topics"]:
        assert Decimal("0.5") <= Decimal(topic["ask"]) <= Decimal("0.999")
        assert Decimal(topic["ask"]) - Decimal(topic["bid"]) <= Decimal("0.2")
        assert topic["token_id"] == topic[f"{topic['preferred_side'].lower()}_token"]
    assert book.status_code == 200 and book.json()["asset_id"] == first["yes_token"]


def test_injected_429_and_500_are_retried_without_losing_rows(tmp_path, caplog):
    caplog.set_level("WARNING", logger="polymaker.exchange.http")
    # Small pages make ~60 listing requests, so the 10% of 429s fire with near certainty;
    # 11 attempts make a request that never gets through vanishingly unlikely.
    faults = "http429=10%@/markets/keyset,http500=15%@/markets/keyset,http500=30%@/books"
    now = datetime.now(UTC)
    with running_sim(tmp_path, markets=300, seed=4, faults=faults + ",retry_after=1s") as urls:
        result = screen(
            params(listing_windows=3, page_size=10, books_batch_size=20, retries=10),
            gamma_url=urls.gamma_url,
            clob_url=urls.clob_url,
            now=now,
        )
        sequential = screen(
            params(listing_windows=1, books_batch_size=500, retries=10),
            gamma_url=urls.gamma_url,
            clob_url=urls.clob_url,
            now=now,
        )
    assert result.total_markets == sequential.total_markets > 0
    assert result.stats.pages >= 30
    assert result.stats.books_failed_batches == 0
    assert Reason.BOOKS_UNAVAILABLE.value not in result.rejected
    retried = [r.getMessage() for r in caplog.records]
    assert any("HTTP 429" in m and "/markets/keyset" in m for m in retried)
    assert any("HTTP 500" in m and "/books" in m for m in retried)


def test_a_listing_that_keeps_failing_raises_and_the_cli_keeps_out(tmp_path, capsys):
    out = tmp_path / "topics_filtered.json"
    out.write_text('{"previous": true}\n')
    with running_sim(tmp_path, markets=50, seed=5, faults="http500=1.0@/markets*") as urls:
        with pytest.raises(RequestRejectedError) as info:
            screen(params(retries=2), gamma_url=urls.gamma_url, clob_url=urls.clob_url)
        code = main([
            "screen", "--filter-config", str(write_params(tmp_path, retries=1)),
            "--gamma-url", urls.gamma_url, "--clob-url", urls.clob_url, "--out", str(out),
        ])  # fmt: skip
    assert info.value.status == 500 and "gave up after 3 attempts" in str(info.value)
    assert code == 1
    assert f"{urls.gamma_url}/markets/keyset" in capsys.readouterr().err
    assert out.read_text() == '{"previous": true}\n'


def test_books_outage_marks_markets_not_the_screen(tmp_path):
    with running_sim(tmp_path, markets=200, seed=6, faults="http500=1.0@/books") as urls:
        result = screen(params(retries=1), gamma_url=urls.gamma_url, clob_url=urls.clob_url)
    assert result.total_markets > 0 and result.topics == ()
    assert result.rejected[Reason.BOOKS_UNAVAILABLE.value] > 0
    assert result.stats.books_failed_batches == result.stats.books_batches
