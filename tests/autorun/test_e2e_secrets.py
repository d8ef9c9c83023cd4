"""No secret leaks: a full drill run with a known wallet key and known API credentials.

Real ``polymaker run --no-repl`` with its embedded drill exchange (a small seeded universe),
two workers trading for a few seconds, then ``polymaker status --json``, ``polymaker stop``
and ``polymaker exit``.
"""

from __future__ import annotations

import asyncio
import json
import stat
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from polymaker.exchange.sdk import create_async_secure_client
from polymaker.exchange.urls import ExchangeUrls
from tests.autorun.test_e2e_support import Project, project_factory

pytestmark = pytest.mark.integration
__all__ = ["project_factory"]  # the fixture, imported for pytest

TEST_KEY = "0x" + "1f" * 32  # a fixed, throwaway key: its secrets are known to the test


def _derive(key: str, urls: ExchangeUrls) -> tuple[str, str, str]:
    """The API credentials the exchange gives ``key`` (create-or-derive, as the SDK does)."""

    async def derive() -> tuple[str, str, str]:
        client = await create_async_secure_client(key, urls)
        try:
            creds = client.credentials
            return creds.key, creds.secret, creds.passphrase
        finally:
            await client.close()

    return asyncio.run(derive())


def _leaks(data: bytes, secrets: dict[str, bytes]) -> list[str]:
    lowered = data.lower()
    return [name for name, value in secrets.items() if value.lower() in lowered]


def test_no_secret_appears_in_any_file_or_any_command_output(project_factory: Any) -> None:
    """Neither the private key (with or without 0x), the API secret, the passphrase nor the API
    key appears in the bytes of any file under the data and log directories (recursively) or
    in any command's output (the control commands' and the supervisor's own).

    Two files are excluded from the byte search because they must hold the credentials, and
    are asserted to be mode 0600: ``data/api_creds.json``, the credentials the supervisor
    derived once for its workers, and ``data/drill_world.pickle``, the embedded drill
    exchange's own database, which holds the API keys it issued (as every venue does: they own
    its orders). Those are drill credentials, derived from the drill's own secret; the private
    key is in neither. The other secret file of a drill run, ``data/drill_wallet.key``,
    is not made at all when ``POLYMAKER_PRIVATE_KEY`` is given (asserted), so it is not excluded.
    The credentials are checked against an independent derivation from the same key at the
    same (embedded) exchange, so the searched values are the real ones.
    """
    project: Project = project_factory(
        None,
        drill={"markets": 40, "seed": 42},
        order_heartbeat={"enabled": True, "interval_s": 2},
    )
    project.extra_env["POLYMAKER_PRIVATE_KEY"] = TEST_KEY
    shipped = Path(__file__).resolve().parents[2] / "config" / "filter_params.json"
    (project.root / "config" / "filter_params.json").write_bytes(shipped.read_bytes())
    process = project.start()
    topics = project.wait_topics(
        lambda t: sum(row["state"] == "running" for row in t.values()) == 2, 50, "two workers"
    )
    run_state = json.loads((project.data_dir / "run_state.json").read_text())
    api_key, secret, passphrase = _derive(TEST_KEY, ExchangeUrls(**run_state["exchange"]))
    creds_file = project.data_dir / "api_creds.json"
    assert json.loads(creds_file.read_text()) == {
        "api_key": api_key,
        "api_secret": secret,
        "api_passphrase": passphrase,
    }, "the workers' credentials are the ones the exchange derives for the key"
    assert stat.S_IMODE(creds_file.stat().st_mode) == 0o600
    assert not (project.data_dir / "drill_wallet.key").exists()
    for pids in project.workers().values():  # the workers read that file: none derives again
        for pid in pids:
            environ = psutil.Process(pid).environ()
            # A forked worker's process title overwrote the memory /proc shows as its environ.
            if "PATH" in environ:
                assert environ.get("POLYMAKER_CREDS_FILE") == str(creds_file)
    time.sleep(4)  # let the workers trade and log
    outputs = [project.command("status", "--json"), project.command("status")]
    running = [name for name, row in topics.items() if row["state"] == "running"]
    outputs.append(project.command("stop", running[0]))
    time.sleep(1)
    outputs.append(project.command("exit"))
    for done in outputs:
        assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(outputs[0].stdout)["mode"] == "drill"
    assert process.wait(timeout=40) == 0, project.run_log()[-3000:]

    secrets = {
        "private key": TEST_KEY.encode(),
        "private key without 0x": TEST_KEY[2:].encode(),
        "API secret": secret.encode(),
        "API passphrase": passphrase.encode(),
        "API key": api_key.encode(),
    }
    world = project.data_dir / "drill_world.pickle"
    assert stat.S_IMODE(world.stat().st_mode) == 0o600
    assert TEST_KEY[2:].encode() not in world.read_bytes().lower()
    searched = 0
    for directory in (project.data_dir, project.root / "logs"):
        for path in sorted(directory.rglob("*")):
            if path in (creds_file, world) or not path.is_file():
                continue
            searched += 1
            assert not _leaks(path.read_bytes(), secrets), (
                f"{path} leaks {_leaks(path.read_bytes(), secrets)}"
            )
    assert searched >= 10, "the ledger, run state, params, status files and logs were searched"
    for done in outputs:
        assert not _leaks((done.stdout + done.stderr).encode(), secrets), done.args
    assert not _leaks(project.run_log().encode(), secrets), "the supervisor's own output"
