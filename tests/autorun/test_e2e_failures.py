"""The drill checklist, part 3: a corrupt ledger, a screener that keeps failing, and the
default run (mode drill, no URLs: the supervisor starts and stops its own drill exchange).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.autorun.test_e2e_support import (
    Project,
    drill_exchange,
    project_factory,
    running,
    wait_for,
)

pytestmark = pytest.mark.integration
__all__ = ["project_factory"]  # the fixture, imported for pytest


def test_a_corrupt_ledger_stops_the_start_and_is_left_untouched(project_factory: Any) -> None:
    project: Project = project_factory(None)
    ledger = project.data_dir / "handled_topics.json"
    ledger.parent.mkdir(parents=True)
    ledger.write_bytes(b'{"version": 2, "modes": {"drill": {"topics": 7}}')
    before = ledger.read_bytes()
    result = project.command("run", "--no-repl")
    assert result.returncode == 1
    assert str(ledger) in result.stderr and "left untouched" in result.stderr
    assert ledger.read_bytes() == before
    assert not (project.data_dir / "drill_urls.json").exists(), "nothing was started"


def test_a_failing_screener_is_retried_and_never_stops_the_supervisor(
    tmp_path: Path, project_factory: Any
) -> None:
    faults = "http500=100%@/markets/keyset,http500=100%@/markets"
    with drill_exchange(tmp_path, faults=faults) as exchange:
        exchange.add_market("f0")
        project: Project = project_factory(exchange.urls, topics_poll_sec=1)
        project.start()
        log = project.root / "logs" / "autorun.log"
        wait_for(
            lambda: log.exists() and log.read_text().count("screening failed") >= 3,
            40,
            "three failed screening rounds",
        )
        status = project.status()
        assert status is not None and status["topics"] == [], "a failure is not 'no markets'"
        text = log.read_text()
        assert "next screen in" in text and "500" in text
        assert not (project.data_dir / "topics_filtered.json").exists()
        project.exit()


def test_the_default_drill_run_starts_and_stops_its_own_exchange(project_factory: Any) -> None:
    project: Project = project_factory(None, drill={"markets": 40, "seed": 42})
    shipped = Path(__file__).resolve().parents[2] / "config" / "filter_params.json"
    (project.root / "config" / "filter_params.json").write_bytes(shipped.read_bytes())
    process = project.start()
    project.wait_topics(
        lambda t: any(row["state"] == "running" for row in t.values()), 50, "a drill worker"
    )
    run_state = json.loads((project.data_dir / "run_state.json").read_text())
    sim_pid = run_state["embedded_exchange"]["pid"]
    assert running(sim_pid) and run_state["exchange"]["clob_url"].startswith("http://127.")
    key_file = project.data_dir / "drill_wallet.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    key = key_file.read_text().strip()
    written = list((project.data_dir / "params").glob("*.json"))
    assert written
    for params in written:
        assert key[2:] not in params.read_text(), "no secret in PARAMS"
    for pids in project.workers().values():
        assert all(key not in " ".join(psutil.Process(pid).cmdline()) for pid in pids)
    assert "[drill]" in (project.root / "logs" / "autorun.log").read_text().splitlines()[0]
    project.exit()
    assert process.returncode == 0
    deadline = time.monotonic() + 5
    while running(sim_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not running(sim_pid), "the embedded drill exchange was stopped"


def test_poly_maker_autorun_script_is_the_run_command(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, str(root / "poly_maker_autorun.py"), "--help"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode == 0 and "--no-repl" in result.stdout and "--command" in result.stdout
