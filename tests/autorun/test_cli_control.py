"""``polymaker status/stop/retry/refresh/exit/reset-history`` without and with a supervisor."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from polymaker.autorun import cli_control
from polymaker.autorun.control import ControlServer, Outcome
from polymaker.autorun.ledger import Ledger
from polymaker.autorun.repl import handle_line
from polymaker.autorun.snapshot import STATUS_KEYS
from polymaker.autorun.status_view import summary, uptime
from polymaker.cli import main
from polymaker.config.global_config import Mode

STATUS = {
    "mode": "drill",
    "paused": False,
    "topics": [
        {"topic_id": "a", "state": "running", "pid": 7, "started_at": "2026-12-03T14:00:00Z",
         "restarts": 1, "heartbeat_age_s": 1.2, "position": "5", "open_orders": 1,
         "realized_pnl": "0.10", "last_log": "strategy idle -> buying"},
        {"topic_id": "b", "state": "queued", "pid": None, "started_at": None, "restarts": 0,
         "heartbeat_age_s": None, "position": None, "open_orders": None, "realized_pnl": None,
         "last_log": ""},
    ],
}  # fmt: skip


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "config").mkdir()
    config = tmp_path / "config" / "global_config.json"
    config.write_text("{}")
    return config


@pytest.fixture
def fake_supervisor(project: Path) -> Iterator[list[tuple[str, dict[str, object]]]]:
    """A control server on the project's socket answering like a supervisor (records calls)."""
    calls: list[tuple[str, dict[str, object]]] = []
    server = ControlServer(project.parent.parent / "data" / "control.sock")

    def record(verb: str):  # type: ignore[no-untyped-def]
        def handler(**args: object) -> Outcome:
            calls.append((verb, args))
            return Outcome(STATUS if verb == "status" else None, f"{verb} done")

        return handler

    for verb in ("status", "stop", "retry", "refresh", "exit", "reset_history"):
        server.register(verb, record(verb))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(10)
    try:
        yield calls
    finally:
        asyncio.run_coroutine_threadsafe(server.close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def test_status_json_is_exactly_the_reply(
    project: Path, fake_supervisor: list[object], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", "--json", "--global-config", str(project)]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document == STATUS and set(document["topics"][0]) == set(STATUS_KEYS)


def test_commands_reach_the_supervisor(
    project: Path, fake_supervisor: list[tuple[str, dict[str, object]]]
) -> None:
    flags = ["--global-config", str(project)]
    assert main(["stop", "a", "--force", *flags]) == 0
    assert main(["retry", "a", *flags]) == 0
    assert main(["refresh", *flags]) == 0
    assert main(["reset-history", "--yes", *flags]) == 0
    assert fake_supervisor == [
        ("stop", {"topic": "a", "force": True}),
        ("retry", {"topic": "a"}),
        ("refresh", {}),
        ("status", {}),
        ("reset_history", {}),
    ]


def test_without_a_supervisor_commands_say_so(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", "--global-config", str(project)]) == 1
    assert "no supervisor is running" in capsys.readouterr().err


def test_offline_reset_history_keeps_a_backup_and_needs_yes(project: Path) -> None:
    ledger_path = project.parent.parent / "data" / "handled_topics.json"
    ledger = Ledger.load(ledger_path, Mode.DRILL)
    ledger.enqueue("old", reason="screened")
    ledger.transition("old", ledger.get("old").state.__class__("stopped"), reason="stop")  # type: ignore[union-attr]
    flags = ["--global-config", str(project)]
    refused = subprocess.run(
        [sys.executable, "-m", "polymaker", "reset-history", *flags],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert refused.returncode == 1 and "--yes" in refused.stderr
    assert "old" in Ledger.load(ledger_path, Mode.DRILL).entries()
    assert main(["reset-history", "--yes", *flags]) == 0
    assert Ledger.load(ledger_path, Mode.DRILL).entries() == {}
    backups = list(ledger_path.parent.glob("handled_topics.json.bak-*"))
    assert len(backups) == 1 and "old" in backups[0].read_text()


def test_offline_reset_of_a_corrupt_ledger_fails_and_touches_nothing(project: Path) -> None:
    ledger_path = project.parent.parent / "data" / "handled_topics.json"
    ledger_path.parent.mkdir(parents=True)
    ledger_path.write_text("{not json")
    assert main(["reset-history", "--yes", "--global-config", str(project)]) == 1
    assert ledger_path.read_text() == "{not json"
    assert list(ledger_path.parent.glob("*.bak-*")) == []


def test_the_table_shows_every_column_and_a_summary() -> None:
    text = _printed(STATUS, 200)
    for expected in ("polymaker [drill]", "running", "queued", "0.10", "strategy idle"):
        assert expected in text
    assert summary(STATUS) == "1 queued, 1 running"
    from datetime import UTC, datetime

    now = datetime(2026, 12, 3, 15, 2, 3, tzinfo=UTC)
    assert uptime("2026-12-03T14:00:00Z", "running", now) == "1h02m"
    assert uptime("2026-12-03T14:00:00Z", "stopped", now) == ""


LONG_SLUG = "will-the-federal-reserve-cut-interest-rates-by-50-bps-at-the-december-2026-meeting"
BUSY = {
    "mode": "drill",
    "paused": False,
    "topics": [
        {**STATUS["topics"][0], "topic_id": LONG_SLUG, "pid": 1234567, "position": "10",
         "realized_pnl": "-12.35", "open_orders": 2, "restarts": 3, "heartbeat_age_s": 0.4,
         "last_log": "2026-12-07T14:00:00Z INFO [drill] fed: strategy: BUYING -> HOLDING after a "
                     "fill of 5 at 0.962 (order 0xabc), the sell rests at 0.972 post-only"},
        *[{**STATUS["topics"][1], "topic_id": f"market-{i}-{LONG_SLUG}"} for i in range(3)],
    ],
}  # fmt: skip


def _printed(document: dict, width: int, *, wide: bool = False) -> str:
    from polymaker.autorun.status_view import print_status

    out = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COLUMNS", str(width))
        print_status(document, out, wide=wide)
    return out.getvalue()


@pytest.mark.parametrize("width", [80, 120, 200])
def test_the_table_fits_the_terminal_one_line_per_topic(width: int) -> None:
    lines = _printed(BUSY, width).splitlines()
    assert max(len(line) for line in lines) <= width
    assert len(lines) == 2 + len(BUSY["topics"]) + 1  # title, header, one per topic, summary
    header = lines[1].split()
    assert header[:4] == ["topic", "state", "position", "PnL"]  # the most useful first
    row = lines[2]
    assert "…" in row and row.startswith(LONG_SLUG[: min(len(LONG_SLUG), width // 3) - 1])
    assert "running" in row and "-12.35" in row and "10" in row
    if width >= 120:
        assert "last" in header and "strategy: BUYING" in row  # the log line, cut to fit
    if width >= 200:
        assert "1234567" in row and "restarts" in header


def test_wide_shows_everything_uncut_and_json_keeps_full_ids(
    fake_supervisor: list[tuple[str, dict[str, object]]], project: Path, capsys
) -> None:
    text = _printed(BUSY, 80, wide=True)
    assert LONG_SLUG in text and "the sell rests at 0.972 post-only" in text and "…" not in text
    STATUS["topics"].append(BUSY["topics"][0])
    try:
        assert main(["status", "--json", "--global-config", str(project)]) == 0
    finally:
        STATUS["topics"].pop()
    assert LONG_SLUG in json.loads(capsys.readouterr().out)["topics"][2]["topic_id"]


def test_repl_lines_go_through_dispatch() -> None:
    server = ControlServer(Path("/nonexistent/control.sock"))
    server.register("stop", lambda topic, force=False: Outcome(None, f"{topic} stopping {force}"))
    server.register("status", lambda: Outcome(STATUS, "ok"))
    supervisor = SimpleNamespace(server=server)
    out = io.StringIO()

    async def session() -> None:
        for line in ("stop a --force", "bogus", "help", "", "status"):
            await handle_line(supervisor, line, out)  # type: ignore[arg-type]

    asyncio.run(session())
    text = out.getvalue()
    assert "a stopping True" in text and "unknown command 'bogus'" in text
    assert "stop TOPIC [--force]" in text and "1 queued, 1 running" in text


def test_every_control_command_is_registered() -> None:
    for name in ("status", "stop", "retry", "refresh", "exit", "reset-history"):
        assert name in cli_control._COMMANDS


def test_the_repl_reads_stdin_without_blocking_and_eof_means_exit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import os

    from polymaker.autorun.repl import run_repl

    server = ControlServer(Path("/nonexistent/control.sock"))
    server.register("refresh", lambda: Outcome(None, "screening now"))
    reasons: list[str] = []

    async def session() -> None:
        exit_requested = asyncio.Event()
        supervisor = SimpleNamespace(
            server=server,
            exit_requested=exit_requested,
            request_exit=lambda why: (reasons.append(why), exit_requested.set()),
        )
        read_fd, write_fd = os.pipe()
        with os.fdopen(read_fd, "r") as stdin:
            repl = asyncio.create_task(run_repl(supervisor, stdin))  # type: ignore[arg-type]
            await asyncio.sleep(0.05)
            os.write(write_fd, b"refresh\nset concurrency x\n")
            await asyncio.sleep(0.1)
            os.close(write_fd)  # end of input
            await asyncio.wait_for(repl, 5)

    asyncio.run(session())
    out = capsys.readouterr().out
    assert "screening now" in out and "N must be a whole number" in out
    assert reasons == ["end of input"]
