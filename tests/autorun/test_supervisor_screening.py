"""Screening in a killable child: timeouts kill it, failures raise, retries back off."""

from __future__ import annotations

import asyncio
import random
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from polymaker.autorun.screening import (
    ScreenFailed,
    ScreenRequest,
    failed_round_delay_s,
    screen_once,
    screen_with_retries,
)
from polymaker.exchange.urls import ExchangeUrls


def _request(
    tmp_path: Path, port: int, *, timeout_s: float = 20, retries: int = 0
) -> ScreenRequest:
    base = f"http://127.0.0.1:{port}"
    urls = ExchangeUrls(
        gamma_url=base, clob_url=base, data_url=base,
        ws_market_url=f"ws://127.0.0.1:{port}/ws/market", ws_user_url=f"ws://127.0.0.1:{port}/ws/user",
    )  # fmt: skip
    filter_file = tmp_path / "filter.json"
    filter_file.write_text('{"timeout_s": 30, "retries": 0}')
    return ScreenRequest(
        filter_config=filter_file, out_file=tmp_path / "out.json", urls=urls,
        timeout_s=timeout_s, retries=retries,
    )  # fmt: skip


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A TCP port that accepts connections and never answers (a hung exchange)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield server.getsockname()[1]


@pytest.mark.integration
def test_a_bad_filter_file_fails_the_attempt_with_its_reason(tmp_path: Path) -> None:
    request = _request(tmp_path, 1)
    request.filter_config.write_text('{"ask_min": "lots"}')
    with pytest.raises(ScreenFailed, match="ask_min"):
        asyncio.run(screen_once(request))


@pytest.mark.integration
def test_a_hung_screener_is_killed_at_the_timeout(tmp_path: Path, silent_port: int) -> None:
    started = time.monotonic()
    with pytest.raises(ScreenFailed, match="timed out after 3 s"):
        asyncio.run(screen_once(_request(tmp_path, silent_port, timeout_s=3)))
    assert time.monotonic() - started < 8
    assert not (tmp_path / "out.json").exists()


@pytest.mark.integration
def test_an_unreachable_exchange_is_a_failure_not_an_empty_result(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(ScreenFailed, match=r"127\.0\.0\.1"):
        asyncio.run(screen_once(_request(tmp_path, port)))


def test_retries_back_off_and_return_the_first_success(tmp_path: Path) -> None:
    calls: list[int] = []
    waits: list[float] = []

    async def attempt(_request: ScreenRequest) -> list[dict[str, Any]]:
        calls.append(1)
        if len(calls) < 3:
            raise ScreenFailed("boom")
        return [{"topic_id": "a"}]

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    request = _request(tmp_path, 1, retries=2)
    topics = asyncio.run(
        screen_with_retries(request, attempt=attempt, rng=random.Random(1), sleep=sleep)
    )
    assert topics == [{"topic_id": "a"}] and len(calls) == 3
    assert len(waits) == 2 and 1.0 <= waits[0] <= 2.0 and 2.0 <= waits[1] <= 4.0


def test_all_attempts_failing_raises(tmp_path: Path) -> None:
    async def attempt(_request: ScreenRequest) -> list[dict[str, Any]]:
        raise ScreenFailed("still down")

    async def sleep(_seconds: float) -> None:
        return None

    with pytest.raises(ScreenFailed, match="after 2 attempts: still down"):
        asyncio.run(
            screen_with_retries(_request(tmp_path, 1, retries=1), attempt=attempt, sleep=sleep)
        )


def test_failed_rounds_back_off_but_never_past_the_poll_period() -> None:
    rng = random.Random(3)
    assert 2.5 <= failed_round_delay_s(1, 300, rng) <= 5
    assert failed_round_delay_s(20, 60, rng) <= 60
    assert failed_round_delay_s(1, 1, rng) <= 1
