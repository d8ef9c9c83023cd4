"""The supervisor's account client: the shared credentials file, and authentication once."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest

from polymaker.autorun.account import open_account, write_credentials
from polymaker.config.global_config import OrderHeartbeatSection
from polymaker.drill.testing import running_sim
from polymaker.exchange.secrets import (
    ENV_CREDS_FILE,
    ApiCredentials,
    PrivateKey,
    RedactingFilter,
    load_api_credentials,
)
from polymaker.exchange.urls import ExchangeUrls


def test_the_credentials_file_is_private_and_in_the_shape_workers_read(tmp_path: Path) -> None:
    credentials = ApiCredentials("key-1234567", "secret-abcdefg", "pass-phrase-xyz")
    path = write_credentials(tmp_path / "data" / "api_creds.json", credentials)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = load_api_credentials({ENV_CREDS_FILE: str(path)})
    assert loaded is not None and loaded.values() == credentials.values()


@pytest.mark.integration
def test_open_account_derives_once_writes_the_file_registers_and_beats(tmp_path: Path) -> None:
    key = PrivateKey("0x" + "2a" * 32)
    redactor = RedactingFilter()

    async def scenario(urls: ExchangeUrls) -> ApiCredentials:
        account = await open_account(
            key,
            None,
            urls,
            data_dir=tmp_path / "data",
            heartbeat=OrderHeartbeatSection(enabled=True, interval_s=1),
            redactor=redactor,
        )
        try:
            for _ in range(50):
                if account.heartbeat is not None and account.heartbeat.accepted:
                    break
                await asyncio.sleep(0.05)
            assert account.heartbeat is not None and account.heartbeat.accepted >= 1
            again = await open_account(
                key,
                account.credentials,
                urls,
                data_dir=tmp_path / "other",
                heartbeat=OrderHeartbeatSection(),
                redactor=None,
            )
            await again.close()
            assert again.heartbeat is None, "disabled: no chain"
            assert again.credentials.values() == account.credentials.values()
            return account.credentials
        finally:
            await account.close()
            assert not account.heartbeat.running

    with running_sim(tmp_path, markets=1, seed=3) as urls:
        credentials = asyncio.run(scenario(urls))
    stored = load_api_credentials({ENV_CREDS_FILE: str(tmp_path / "data" / "api_creds.json")})
    assert stored is not None and stored.values() == credentials.values()
    _, secret, passphrase = credentials.values()
    assert redactor.redact(f"s={secret} p={passphrase}") == "s=<redacted> p=<redacted>"
