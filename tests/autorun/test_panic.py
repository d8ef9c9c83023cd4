"""The kill switch: cancel_everything at a real drill exchange, its edge cases, the CLI."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account
from polymarket import AsyncSecureClient
from polymarket import errors as sdk

from polymaker.autorun import cli_panic
from polymaker.autorun.control import ControlServer, Outcome
from polymaker.autorun.panic import cancel_everything
from polymaker.autorun.pausing import saved_pause
from polymaker.autorun.processes import worker_title
from polymaker.autorun.recovery import find_workers
from polymaker.drill.faults import parse_faults
from polymaker.drill.server import SimOptions
from polymaker.drill.testing import InProcessSim, in_process_sim
from polymaker.exchange.sdk import create_async_secure_client, signer_address
from polymaker.exchange.urls import PRODUCTION_URLS, ExchangeUrls
from polymaker.files import atomic_write_bytes, atomic_write_json
from tests.polling import wait_for

END = "2030-01-01T00:00:00Z"


def _new_market(urls: ExchangeUrls, n: int) -> str:
    """A fresh drill market; returns its YES token."""
    body = {"question": f"Panic test {n}?", "end_date": END, "yes_price": 0.5, "volume": 1}
    gamma = httpx.post(f"{urls.clob_url}/_sim/markets", json=body, timeout=10).json()
    return str(json.loads(gamma["clobTokenIds"])[0])


async def _rest_buys(client: AsyncSecureClient, tokens: list[str], per_token: int) -> list[str]:
    """Post-only buys far below the market (they rest), ``per_token`` per token."""
    signed = [
        await client.create_limit_order(
            token_id=token, price=Decimal("0.01") * (i + 1), size=5, side="BUY", post_only=True
        )
        for token in tokens
        for i in range(per_token)
    ]
    ids: list[str] = []
    for start in range(0, len(signed), 15):  # POST /orders takes at most 15
        results = await client.post_orders(signed[start : start + 15])
        assert all(result.ok for result in results), results
        ids += [str(result.order_id) for result in results]
    return ids


def _sim_orders(urls: ExchangeUrls, maker: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{urls.clob_url}/_sim/orders", params={"maker_address": maker}, timeout=10)
    return list(answer.json())


@pytest.fixture
def sim() -> Iterator[InProcessSim]:
    with in_process_sim(SimOptions(markets=2, seed=11)) as running:
        yield running


@pytest.mark.integration
def test_cancel_everything_leaves_zero_orders_of_the_account_only(sim: InProcessSim) -> None:
    tokens = [_new_market(sim.urls, n) for n in range(4)]
    ours_key, theirs_key = Account.create().key.hex(), Account.create().key.hex()
    ours, theirs = signer_address(ours_key), signer_address(theirs_key)

    async def scenario() -> Any:
        client = await create_async_secure_client(ours_key, sim.urls)
        other = await create_async_secure_client(theirs_key, sim.urls)
        try:
            placed = await _rest_buys(client, tokens, 5)
            kept = await _rest_buys(other, tokens[:3], 1)
            assert len(_sim_orders(sim.urls, ours)) == 20
            report = await cancel_everything(client)
            return placed, kept, report
        finally:
            await client.close()
            await other.close()

    placed, kept, report = asyncio.run(scenario())
    assert report.confirmed and report.remaining == () and report.errors == ()
    assert sorted(report.cancelled) == sorted(placed)
    assert report.elapsed_s < 2.0
    assert _sim_orders(sim.urls, ours) == []
    assert sorted(order["id"] for order in _sim_orders(sim.urls, theirs)) == sorted(kept)


@pytest.mark.integration
def test_cancel_everything_cancels_by_id_when_cancel_all_is_refused() -> None:
    faults = parse_faults("http429=100%@DELETE /cancel-all,retry_after=1s")
    with in_process_sim(SimOptions(markets=2, seed=12, faults=faults)) as running:
        tokens = [_new_market(running.urls, n) for n in range(2)]
        key = Account.create().key.hex()

        async def scenario() -> Any:
            client = await create_async_secure_client(key, running.urls)
            try:
                placed = await _rest_buys(client, tokens, 3)
                return placed, await cancel_everything(client)
            finally:
                await client.close()

        placed, report = asyncio.run(scenario())
        assert report.confirmed and sorted(report.cancelled) == sorted(placed)
        assert any("DELETE /cancel-all" in error for error in report.errors)
        assert _sim_orders(running.urls, signer_address(key)) == []


class _Transport:
    """Scripted ``GET /data/orders`` pages; an exception in the script is raised."""

    def __init__(self, pages: list[Any]) -> None:
        self.pages = pages
        self.reads = 0

    async def get_json(self, path: str, *, params: dict[str, Any]) -> Any:
        assert path == "/data/orders"
        self.reads += 1
        page = self.pages.pop(0) if len(self.pages) > 1 else self.pages[0]
        if isinstance(page, Exception):
            raise page
        return page


class _Cancelled:
    def __init__(self, ids: list[str]) -> None:
        self.canceled = tuple(ids)
        self.not_canceled: dict[str, str] = {}


class FakeClient:
    """The part of ``AsyncSecureClient`` that cancel_everything uses."""

    def __init__(self, pages: list[Any], cancel_all_error: Exception | None = None) -> None:
        self._ctx = type("Ctx", (), {})()
        self._ctx.secure_clob = _Transport(pages)
        self.cancel_all_error = cancel_all_error
        self.cancelled_ids: list[str] = []

    async def cancel_all(self) -> _Cancelled:
        if self.cancel_all_error is not None:
            raise self.cancel_all_error
        return _Cancelled(["0xa"])

    async def cancel_orders(self, *, order_ids: list[str]) -> _Cancelled:
        self.cancelled_ids += order_ids
        return _Cancelled(order_ids)


def _page(*ids: str) -> dict[str, Any]:
    return {"data": [{"id": order_id} for order_id in ids], "next_cursor": "LTE="}


def test_an_order_that_lands_after_the_cancel_all_is_caught() -> None:
    client = FakeClient([_page(), _page("0xlate"), _page(), _page()])
    report = asyncio.run(cancel_everything(client, settle_s=0.01, poll_s=0.01))  # type: ignore[arg-type]
    assert client.cancelled_ids == ["0xlate"]
    assert report.confirmed and set(report.cancelled) == {"0xa", "0xlate"}


def test_unreachable_exchange_is_reported_not_raised() -> None:
    down = sdk.TransportError("connection refused")
    client = FakeClient([down], cancel_all_error=down)
    started = time.monotonic()
    report = asyncio.run(cancel_everything(client, timeout_s=0.3, poll_s=0.05))  # type: ignore[arg-type]
    assert not report.confirmed and report.cancelled == ()
    assert report.errors and "connection refused" in report.errors[0]
    assert time.monotonic() - started < 1.5
    assert "NOT CONFIRMED" in report.describe()


def test_orders_that_never_go_away_are_listed_as_remaining() -> None:
    client = FakeClient([_page("0xstuck")])
    report = asyncio.run(cancel_everything(client, timeout_s=0.2, poll_s=0.02))  # type: ignore[arg-type]
    assert not report.confirmed and report.remaining == ("0xstuck",)
    assert client.cancelled_ids.count("0xstuck") >= 2  # re-issued on every round


def _config(tmp_path: Path, urls: ExchangeUrls | None, mode: str = "drill") -> Path:
    path = tmp_path / "config" / "global_config.json"
    exchange = {} if urls is None else urls.model_dump()
    atomic_write_json(path, {"mode": mode, "exchange": exchange})
    return path


def _args(config: Path, *, as_json: bool = True) -> argparse.Namespace:
    return argparse.Namespace(global_config=config, mode=None, json=as_json)


def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("POLYMAKER_PRIVATE_KEY", "POLYMAKER_KEY_FILE", "POLYMAKER_API_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.integration
def test_cli_without_supervisor_cancels_with_the_drill_key(
    sim: InProcessSim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    _clean_env(monkeypatch)
    config = _config(tmp_path, sim.urls)
    key = Account.create().key.hex()
    atomic_write_bytes(tmp_path / "data" / "drill_wallet.key", key.encode(), mode=0o600)
    token = _new_market(sim.urls, 9)

    async def place() -> None:
        client = await create_async_secure_client(key, sim.urls)
        try:
            await _rest_buys(client, [token], 4)
        finally:
            await client.close()

    asyncio.run(place())
    assert cli_panic.run(_args(config)) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["via"], out["cancelled"], out["confirmed"]) == ("direct", 4, True)
    assert _sim_orders(sim.urls, signer_address(key)) == []
    assert (saved_pause(tmp_path / "data") or "").startswith("panic (no supervisor was running)")


def test_cli_embedded_drill_without_supervisor_has_nothing_to_cancel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    _clean_env(monkeypatch)
    assert cli_panic.run(_args(_config(tmp_path, None), as_json=False)) == 0
    assert "nothing to cancel" in capsys.readouterr().out


def test_cli_drill_refuses_an_embedded_url_file_naming_production(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _clean_env(monkeypatch)
    local = {"gamma_url": "http://127.0.0.1:9", "data_url": "http://127.0.0.1:9"}
    local |= {"ws_market_url": "ws://127.0.0.1:9/ws/market", "ws_user_url": "ws://127.0.0.1:9/u"}
    urls = {**local, "clob_url": "https://CLOB.polymarket.com:443/"}
    atomic_write_json(tmp_path / "data" / "drill_urls.json", urls)
    monkeypatch.setenv("POLYMAKER_PRIVATE_KEY", Account.create().key.hex())
    with pytest.raises(cli_panic.ConfigError, match="not a drill exchange"):
        cli_panic.run(_args(_config(tmp_path, None)))


def test_cli_live_without_key_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _clean_env(monkeypatch)
    urls = PRODUCTION_URLS  # never contacted: the key check comes first
    with pytest.raises(cli_panic.ConfigError, match="needs the wallet key"):
        cli_panic.run(_args(_config(tmp_path, urls, mode="live")))


def test_cli_asks_the_running_supervisor(tmp_path: Path, capsys: Any) -> None:
    config = _config(tmp_path, None)
    asked: list[str] = []

    def panic() -> Outcome:
        asked.append("panic")
        return Outcome({"cancelled": 3, "confirmed": True}, "panic: 3 orders cancelled")

    async def scenario() -> int:
        server = ControlServer(tmp_path / "data" / "control.sock")
        server.register("panic", panic)
        async with server:
            return await asyncio.to_thread(cli_panic.run, _args(config, as_json=False))

    assert asyncio.run(scenario()) == 0
    assert asked == ["panic"]
    assert capsys.readouterr().out.strip() == "panic: 3 orders cancelled"


def test_cli_pauses_an_old_supervisor_without_panic_and_acts_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    _clean_env(monkeypatch)
    config = _config(tmp_path, None)
    paused: list[bool] = []

    async def scenario() -> int:
        server = ControlServer(tmp_path / "data" / "control.sock")
        server.register("pause", lambda: paused.append(True) or Outcome(None, "paused"))
        async with server:
            return await asyncio.to_thread(cli_panic.run, _args(config, as_json=False))

    assert asyncio.run(scenario()) == 0
    captured = capsys.readouterr()
    assert paused == [True]
    assert "has no panic command" in captured.err
    assert "nothing to cancel" in captured.out


@pytest.mark.integration
def test_cli_without_supervisor_kills_leftover_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    _clean_env(monkeypatch)
    config = _config(tmp_path, None)
    params = tmp_path / "data" / "params" / "left-over.json"
    atomic_write_json(params, {})
    # Look like ``python -m polymaker worker PARAMS`` (a cold start) and like a forked worker,
    # whose title is ``polymaker worker PARAMS``, to the command-line checks.
    sleep = [sys.executable, "-c", "import time; time.sleep(60)"]
    cold = [*sleep, "polymaker", "worker", str(params)]
    title = f"import setproctitle, time; setproctitle.setproctitle({worker_title(params)!r})"
    forked = [sys.executable, "-c", f"{title}; time.sleep(60)"]
    children = [subprocess.Popen(argv, start_new_session=True) for argv in (cold, forked)]
    try:
        wait_for(lambda: len(find_workers([params]).get(params, [])) == 2, 10, "both titles")
        assert cli_panic.run(_args(config)) == 0
        assert json.loads(capsys.readouterr().out)["workers_killed"] == 2
        assert [child.wait(timeout=5) for child in children] == [-signal.SIGKILL] * 2
    finally:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
            child.wait()
