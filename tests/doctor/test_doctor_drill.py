"""``polymaker doctor`` against a real drill exchange: a clean pass, then each injected failure
reported with its remedy (exit 1), and a bad config (exit 2)."""

from __future__ import annotations

import json
import secrets
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from polymaker.cli import main
from polymaker.drill.server import SimOptions
from polymaker.drill.testing import InProcessSim, in_process_sim
from polymaker.exchange.sdk import create_secure_client, signer_address
from polymaker.exchange.urls import ExchangeUrls
from polymaker.exchange.wallet import WalletKind, key_wallets
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sim() -> Iterator[InProcessSim]:
    with in_process_sim(SimOptions(markets=4, seed=3, balance=1000)) as running:
        yield running


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in (
        "POLYMAKER_PRIVATE_KEY",
        "POLYMAKER_KEY_FILE",
        "POLYMAKER_API_KEY",
        "POLYMAKER_API_SECRET",
        "POLYMAKER_API_PASSPHRASE",
        "POLYMAKER_CREDS_FILE",
    ):
        monkeypatch.delenv(name, raising=False)


def project(tmp_path: Path, **overrides) -> Path:
    """A project root with the example configs; returns its global config path."""
    config_dir = tmp_path / "config"
    config_dir.mkdir(parents=True)
    for name in ("filter_params.json", "strategy_defaults.json"):
        shutil.copy(REPO_ROOT / "config" / name, config_dir / name)
    document = json.loads((REPO_ROOT / "config" / "global_config.json").read_text())
    document.update(overrides)
    path = config_dir / "global_config.json"
    path.write_text(json.dumps(document))
    return path


def url_file(tmp_path: Path, urls: ExchangeUrls) -> Path:
    path = tmp_path / "urls.json"
    path.write_text(urls.model_dump_json())
    return path


def doctor(capsys, *args: str) -> tuple[int, dict]:
    code = main(["doctor", "--json", *args])
    out = capsys.readouterr().out
    return code, json.loads(out)


def rows(document: dict) -> dict[str, dict]:
    return {row["name"]: row for row in document["checks"]}


def new_key(monkeypatch) -> tuple[str, str]:
    key = "0x" + secrets.token_hex(32)
    monkeypatch.setenv("POLYMAKER_PRIVATE_KEY", key)
    return key, signer_address(key)


def set_account(sim: InProcessSim, address: str, **body) -> None:
    httpx.post(f"{sim.urls.clob_url}/_sim/accounts/{address}", json=body).raise_for_status()


def drill_args(tmp_path: Path, sim: InProcessSim) -> list[str]:
    return [
        "--global-config",
        str(project(tmp_path)),
        "--exchange-url-file",
        str(url_file(tmp_path, sim.urls)),
    ]


def test_passes_against_the_drill_exchange_and_never_prints_the_key(
    tmp_path, sim, monkeypatch, capsys
):
    key, address = new_key(monkeypatch)
    code = main(["doctor", *drill_args(tmp_path, sim)])
    plain = capsys.readouterr().out
    assert code == 0, plain
    code, document = doctor(capsys, *drill_args(tmp_path / "again", sim))
    assert code == 0 and document["ok"] is True and document["mode"] == "drill"
    statuses = {name: row["status"] for name, row in rows(document).items()}
    assert statuses["geoblock"] == "skip"
    assert {s for n, s in statuses.items() if n != "geoblock"} == {"ok"}
    assert rows(document)["wallet type"]["detail"] == (
        f"wallet {address} (eoa, signature type 0), signer {address}"
    )
    for text in (plain, json.dumps(document)):
        assert key not in text and key[2:] not in text


@pytest.mark.parametrize(
    ("body", "check", "remedy"),
    [
        ({"balance": "0"}, "collateral balance", '{"balance": "1000"}'),
        ({"allowance": False}, "allowances", '{"allowance": true}'),
        ({"closed_only": True}, "closed-only", "contact Polymarket support"),
    ],
)
def test_reports_each_account_failure_with_its_remedy(
    tmp_path, sim, monkeypatch, capsys, body, check, remedy
):
    _, address = new_key(monkeypatch)
    set_account(sim, address.lower(), **body)
    code, document = doctor(capsys, *drill_args(tmp_path, sim))
    assert code == 1
    failed = [name for name, row in rows(document).items() if row["status"] == "fail"]
    assert failed == [check]
    assert remedy in rows(document)[check]["remedy"]


def test_reports_clock_skew(tmp_path, sim, monkeypatch, capsys):
    new_key(monkeypatch)
    httpx.post(f"{sim.urls.clob_url}/_sim/clock", json={"offset_ms": 120_000}).raise_for_status()
    try:
        code, document = doctor(capsys, *drill_args(tmp_path, sim))
    finally:
        httpx.post(f"{sim.urls.clob_url}/_sim/clock", json={"offset_ms": 0}).raise_for_status()
    assert code == 1
    skew = rows(document)["clock skew"]
    assert skew["status"] == "fail" and "ahead" in skew["detail"]
    assert "synchronise" in skew["remedy"]
    assert rows(document)["credentials"]["status"] == "fail"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_reports_an_unreachable_exchange(tmp_path, monkeypatch, capsys):
    new_key(monkeypatch)
    port = _closed_port()
    urls = ExchangeUrls(
        gamma_url=f"http://127.0.0.1:{port}",
        clob_url=f"http://127.0.0.1:{port}",
        data_url=f"http://127.0.0.1:{port}",
        ws_market_url=f"ws://127.0.0.1:{port}/ws/market",
        ws_user_url=f"ws://127.0.0.1:{port}/ws/user",
    )
    args = ["--global-config", str(project(tmp_path)), "--exchange-url-file"]
    code, document = doctor(capsys, *args, str(url_file(tmp_path, urls)))
    assert code == 1
    table = rows(document)
    for name in ("gamma", "clob", "data api", "ws market", "ws user", "credentials"):
        assert table[name]["status"] == "fail", name
    assert "polymaker sim --url-file" in table["gamma"]["remedy"]


def test_refuses_a_world_readable_key_file(tmp_path, sim, monkeypatch, capsys):
    key_file = tmp_path / "wallet.key"
    key_file.write_text("0x" + secrets.token_hex(32))
    key_file.chmod(0o644)
    monkeypatch.setenv("POLYMAKER_KEY_FILE", str(key_file))
    code, document = doctor(capsys, *drill_args(tmp_path, sim))
    assert code == 1
    row = rows(document)["wallet key"]
    assert row["status"] == "fail" and "0644" in row["detail"]
    assert "chmod 600" in row["remedy"]
    assert rows(document)["credentials"]["status"] == "skip"


def test_refuses_a_malformed_key(tmp_path, sim, monkeypatch, capsys):
    monkeypatch.setenv("POLYMAKER_PRIVATE_KEY", "0x1234not-a-key")
    code, document = doctor(capsys, *drill_args(tmp_path, sim))
    assert code == 1
    row = rows(document)["wallet key"]
    assert row["status"] == "fail" and "64 hexadecimal digits" in row["remedy"]
    assert "1234not" not in json.dumps(document)


def test_refuses_credentials_of_another_address(tmp_path, sim, monkeypatch, capsys):
    other = "0x" + secrets.token_hex(32)
    with create_secure_client(other, sim.urls) as client:
        creds = client.credentials
    new_key(monkeypatch)
    monkeypatch.setenv("POLYMAKER_API_KEY", creds.key)
    monkeypatch.setenv("POLYMAKER_API_SECRET", creds.secret)
    monkeypatch.setenv("POLYMAKER_API_PASSPHRASE", creds.passphrase)
    code, document = doctor(capsys, *drill_args(tmp_path, sim))
    assert code == 1
    row = rows(document)["credentials"]
    assert row["status"] == "fail" and "another address" in row["remedy"]
    assert creds.secret not in json.dumps(document)


def test_live_config_without_a_key_is_refused(tmp_path, sim, capsys):
    exchange = sim.urls.model_dump()
    config = project(tmp_path, mode="live", exchange=exchange)
    code, document = doctor(capsys, "--mode", "live", "--global-config", str(config))
    assert code == 1
    row = rows(document)["wallet key"]
    assert row["status"] == "fail" and "POLYMAKER_PRIVATE_KEY" in row["remedy"]


def test_paper_mode_needs_no_credentials(tmp_path, sim, capsys):
    config = project(tmp_path, mode="paper", exchange=sim.urls.model_dump())
    code, document = doctor(capsys, "--global-config", str(config))
    assert code == 0, document
    assert rows(document)["credentials"]["status"] == "skip"
    assert rows(document)["wallet key"]["status"] == "skip"


def test_paper_mode_against_an_unreachable_exchange_fails(tmp_path, capsys):
    port = _closed_port()
    exchange = {
        "gamma_url": f"http://127.0.0.1:{port}",
        "clob_url": f"http://127.0.0.1:{port}",
        "data_url": f"http://127.0.0.1:{port}",
        "ws_market_url": f"ws://127.0.0.1:{port}/ws/market",
        "ws_user_url": f"ws://127.0.0.1:{port}/ws/user",
    }
    config = project(tmp_path, mode="paper", exchange=exchange)
    code, document = doctor(capsys, "--global-config", str(config))
    assert code == 1
    assert rows(document)["clob"]["status"] == "fail"
    assert "exchange.clob_url" in rows(document)["clob"]["remedy"]
    assert rows(document)["ws user"]["status"] == "warn"  # paper does not need the user feed


def test_invalid_config_exits_2(tmp_path, capsys):
    config = project(tmp_path, max_concurrent_workers="many")
    code, document = doctor(capsys, "--global-config", str(config))
    assert code == 2
    assert document["checks"][0]["name"] == "config"
    assert "max_concurrent_workers" in document["checks"][0]["detail"]


def test_live_asked_only_on_the_command_line_exits_2(tmp_path, capsys):
    code, document = doctor(capsys, "--mode", "live", "--global-config", str(project(tmp_path)))
    assert code == 2
    assert "--mode live" in document["checks"][0]["detail"]


def test_starts_and_stops_its_own_drill_exchange_when_no_url_is_set(tmp_path, capsys):
    config = project(tmp_path, drill={"markets": 2, "seed": 1, "speed": 1.0, "balance_usdc": 50})
    code, document = doctor(capsys, "--global-config", str(config))
    assert code == 0, document
    exchange = rows(document)["exchange"]["detail"]
    assert exchange.startswith("embedded drill exchange (pid ")
    pid = int(exchange.split("pid ")[1].rstrip(")"))
    assert not Path(f"/proc/{pid}").exists()
    assert rows(document)["wallet key"]["detail"].startswith("none set")
    assert "50 pUSD" in rows(document)["collateral balance"]["detail"]


@pytest.mark.parametrize("kind", [WalletKind.PROXY, WalletKind.SAFE, WalletKind.DEPOSIT])
def test_checks_the_wallet_of_the_key_deployment_funds_and_allowances_at_the_wallet(
    tmp_path, sim, monkeypatch, capsys, kind
):
    _, signer = new_key(monkeypatch)
    wallet = next(a for a, k in key_wallets(signer).items() if k is kind)
    monkeypatch.setenv("POLYMAKER_WALLET_ADDRESS", wallet)
    code, document = doctor(capsys, *drill_args(tmp_path, sim))
    found = rows(document)
    assert found["wallet type"]["detail"] == (
        f"wallet {wallet} ({kind.value}, signature type {kind.signature_type}), signer {signer}"
    )
    if kind is WalletKind.DEPOSIT:  # not deployed until the supervisor deploys it
        assert code == 1 and found["wallet deployed"]["status"] == "fail"
        assert '{"deployed": true}' in found["wallet deployed"]["remedy"]
        assert found["collateral balance"]["status"] == "skip"
        set_account(sim, wallet.lower(), deployed=True)
        code, document = doctor(capsys, *drill_args(tmp_path / "again", sim))
        found = rows(document)
    assert code == 0, found
    assert found["wallet deployed"]["status"] == "ok"
    assert wallet in found["collateral balance"]["detail"]
    set_account(sim, wallet.lower(), allowance=False)
    code, document = doctor(capsys, *drill_args(tmp_path / "third", sim))
    assert code == 1 and wallet in rows(document)["allowances"]["remedy"]


def test_an_address_that_is_none_of_the_keys_wallets_fails_with_the_kinds_tried(
    tmp_path, sim, monkeypatch, capsys
):
    new_key(monkeypatch)
    monkeypatch.setenv("POLYMAKER_WALLET_ADDRESS", "0x" + "12" * 20)
    code, document = doctor(capsys, *drill_args(tmp_path, sim))
    wallet_row = rows(document)["wallet type"]
    assert code == 1 and wallet_row["status"] == "fail"
    assert "eoa, proxy, safe, deposit wallet" in wallet_row["detail"]
    assert rows(document)["credentials"]["status"] == "skip"
