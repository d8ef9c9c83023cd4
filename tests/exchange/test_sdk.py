"""The SDK environment module: custom URLs reach every SDK host; production stays production."""

from __future__ import annotations

import json

import pytest
from polymarket import PRODUCTION
from polymarket._internal.environment import PRODUCTION_CONFIG, get_environment_config

from polymaker.errors import ConfigError
from polymaker.exchange.sdk import create_public_client, environment_for, signer_address
from polymaker.exchange.urls import PRODUCTION_URLS, ExchangeUrls

DRILL = ExchangeUrls(
    gamma_url="http://127.0.0.1:1001",
    clob_url="http://127.0.0.1:1000/",
    data_url="http://127.0.0.1:1002",
    ws_market_url="ws://127.0.0.1:1000/ws/market",
    ws_user_url="ws://127.0.0.1:1000/ws/user",
)


def test_production_urls_give_the_sdk_production_environment() -> None:
    assert PRODUCTION_URLS.is_production
    assert environment_for(PRODUCTION_URLS) is PRODUCTION


def test_custom_urls_replace_the_five_hosts_and_keep_contracts() -> None:
    config = get_environment_config(environment_for(DRILL))
    assert config.clob_url == "http://127.0.0.1:1000"  # trailing slash stripped
    assert config.gamma_url == "http://127.0.0.1:1001"
    assert config.data_url == "http://127.0.0.1:1002"
    assert config.clob_market_ws_url == "ws://127.0.0.1:1000/ws/market"
    assert config.clob_user_ws_url == "ws://127.0.0.1:1000/ws/user"
    assert config.chain_id == 137
    assert config.standard_exchange == PRODUCTION_CONFIG.standard_exchange
    assert config.neg_risk_exchange == PRODUCTION_CONFIG.neg_risk_exchange


def test_custom_environment_never_points_at_another_production_host() -> None:
    config = get_environment_config(environment_for(DRILL))
    for name in (
        "relayer_url",
        "rpc_url",
        "rfq_url",
        "builder_gateway_url",
        "perps_url",
        "rtds_ws_url",
        "sports_ws_url",
        "realtime_ws_url",
        "perps_ws_url",
    ):
        assert "127.0.0.1" in getattr(config, name), name


def test_public_client_uses_the_custom_environment() -> None:
    client = create_public_client(DRILL)
    try:
        assert get_environment_config(client.environment).gamma_url == DRILL.gamma_url
    finally:
        client.close()


def test_signer_address_is_the_checksummed_eoa() -> None:
    key = "0x" + "11" * 32
    assert signer_address(key) == "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A"


def test_url_file_loads_and_rejects_bad_schemes(tmp_path) -> None:
    good = tmp_path / "urls.json"
    good.write_text(json.dumps(DRILL.model_dump()))
    assert ExchangeUrls.from_file(good) == DRILL
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**DRILL.model_dump(), "ws_user_url": "http://x/ws/user"}))
    with pytest.raises(ConfigError, match="ws_user_url"):
        ExchangeUrls.from_file(bad)
    extra = tmp_path / "extra.json"
    extra.write_text(json.dumps({**DRILL.model_dump(), "unknown_url": "http://x"}))
    with pytest.raises(ConfigError, match="unknown_url"):
        ExchangeUrls.from_file(extra)
    rpc = tmp_path / "rpc.json"
    rpc.write_text(json.dumps({**DRILL.model_dump(), "rpc_url": "ftp://x"}))
    with pytest.raises(ConfigError, match="rpc_url"):
        ExchangeUrls.from_file(rpc)
    relayer = tmp_path / "relayer.json"
    relayer.write_text(json.dumps({**DRILL.model_dump(), "relayer_url": "http://x/"}))
    assert ExchangeUrls.from_file(relayer).relayer == "http://x"
    assert DRILL.relayer is None  # a drill exchange without one: no production fallback
    assert DRILL.rpc is None and PRODUCTION_URLS.rpc == "https://polygon.drpc.org"
