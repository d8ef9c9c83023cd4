"""WorkerParams: the PARAMS.json contract of ``polymaker worker``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from polymaker.config.worker_params import load_worker_params, parse_worker_params
from polymaker.errors import ConfigError

DRILL = {
    "gamma_url": "http://127.0.0.1:9/gamma",
    "clob_url": "http://127.0.0.1:9",
    "data_url": "http://127.0.0.1:9/data",
    "ws_market_url": "ws://127.0.0.1:9/ws/market",
    "ws_user_url": "ws://127.0.0.1:9/ws/user",
}


def valid_params(**overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "topic_id": "will-it-rain",
        "condition_id": "0x" + "1" * 64,
        "yes_token": "111",
        "no_token": "222",
        "side": "NO",
        "tick_size": "0.01",
        "min_order_size": 5,
        "neg_risk": False,
        "end_time": "2099-12-31T12:00:00Z",
        "mode": "drill",
        "exchange": dict(DRILL),
        "status_file": "data/status/will-it-rain.json",
        "strategy": {"order_size": 5, "profit_pct": 0.02},
    }
    doc.update(overrides)
    return doc


def test_valid_params_load_with_decimal_money(tmp_path: Path) -> None:
    path = tmp_path / "params.json"
    path.write_text(json.dumps(valid_params(tick_size=0.001)))
    params = load_worker_params(path)
    assert params.tick_size == Decimal("0.001")
    assert params.min_order_size == Decimal(5)
    assert params.strategy.profit_pct == Decimal("0.02")
    assert params.token_id == "222" and params.other_token_id == "111"
    assert params.log_file is None
    assert params.end_time.utcoffset() is not None


def test_unknown_key_is_rejected_naming_it() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_worker_params(valid_params(colour="red"), file="p.json")
    assert caught.value.key == "colour"
    assert "unknown key" in str(caught.value)


def test_unknown_strategy_key_is_rejected_naming_the_path() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_worker_params(valid_params(strategy={"order_sise": 5}))
    assert caught.value.key == "strategy.order_sise"


@pytest.mark.parametrize("key", ["private_key", "api_secret", "passphrase", "POLY_KEY", "apiKey"])
def test_secret_looking_keys_are_refused_with_the_env_variables(key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_worker_params(valid_params(**{key: "0x" + "ab" * 32}))
    assert caught.value.key == key
    assert "POLYMAKER_KEY_FILE" in str(caught.value)
    assert "ab" * 32 not in str(caught.value)


def test_nested_secret_key_is_refused() -> None:
    exchange = dict(DRILL, api_passphrase="x")
    with pytest.raises(ConfigError) as caught:
        parse_worker_params(valid_params(exchange=exchange))
    assert caught.value.key == "exchange.api_passphrase"


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"side": "MAYBE"}, "side"),
        ({"tick_size": "0.02"}, "tick_size"),
        ({"min_order_size": 0}, "min_order_size"),
        ({"end_time": "2099-12-31T12:00:00"}, "end_time"),
        ({"end_time": "2020-01-01T00:00:00Z"}, "end_time"),
        ({"status_file": ""}, "status_file"),
        ({"status_file": "data/st\u0000atus.json"}, "status_file"),
        ({"log_file": "~nosuchuser-polymaker/x.log"}, "log_file"),
        ({"min_order_size": 1e30}, "min_order_size"),
        ({"strategy": {"order_size": 1e-30}}, "strategy.order_size"),
        ({"strategy": {"order_size": 1e28}}, "strategy.order_size"),
        ({"strategy": {"min_profit_ticks": 10**30}}, "strategy.min_profit_ticks"),
        ({"strategy": {"signal_sample_s": 0.0004}}, "strategy.signal_sample_s"),
        ({"strategy": {"cooldown_s": 3e303}}, "strategy.cooldown_s"),
        ({"strategy": {"max_hold_minutes": 3e303}}, "strategy.max_hold_minutes"),
        ({"mode": "yolo"}, "mode"),
        ({"topic_id": "a/b"}, "topic_id"),
        ({"exchange": dict(DRILL, clob_url="ftp://x")}, "exchange.clob_url"),
        ({"strategy": {"order_size": -1}}, "strategy.order_size"),
        ({"paper_cash_usdc": 0}, "paper_cash_usdc"),
        ({"ratelimit_fraction": 0}, "ratelimit_fraction"),
        ({"ratelimit_fraction": 1.5}, "ratelimit_fraction"),
        ({"wallet_address": "0x1234"}, "wallet_address"),
        ({"wallet_address": 42}, "wallet_address"),
    ],
)
def test_invalid_values_name_the_key(overrides: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_worker_params(valid_params(**overrides))
    assert caught.value.key == key
    assert caught.value.exit_code == 2


def test_wallet_address_is_checksummed() -> None:
    params = parse_worker_params(valid_params(wallet_address="0x" + "ab" * 20))
    assert params.wallet_address == "0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB"
    assert parse_worker_params(valid_params()).wallet_address is None


def test_missing_key_is_named() -> None:
    doc = valid_params()
    del doc["condition_id"]
    with pytest.raises(ConfigError) as caught:
        parse_worker_params(doc)
    assert caught.value.key == "condition_id"


def test_same_token_twice_is_refused() -> None:
    with pytest.raises(ConfigError, match="must differ"):
        parse_worker_params(valid_params(no_token="111"))


def test_missing_exchange_is_an_error_never_production() -> None:
    doc = valid_params()
    del doc["exchange"]
    with pytest.raises(ConfigError) as caught:
        parse_worker_params(doc)
    assert caught.value.key == "exchange"


@pytest.mark.parametrize("key", sorted(DRILL))
def test_a_missing_exchange_url_is_an_error_never_production(key: str) -> None:
    exchange = dict(DRILL)
    del exchange[key]
    with pytest.raises(ConfigError) as caught:
        parse_worker_params(valid_params(exchange=exchange))
    assert caught.value.key == f"exchange.{key}"


@pytest.mark.parametrize(
    ("key", "url"),
    [
        ("clob_url", "https://clob.polymarket.com"),
        ("clob_url", "https://CLOB.polymarket.com:443/"),
        ("clob_url", "http://user@clob.Polymarket.COM./x"),
        ("gamma_url", "https://gamma-api.polymarket.com/markets"),
        ("ws_user_url", "wss://ws-subscriptions-clob.polymarket.com:443/ws/user"),
        ("data_url", "https://polymarket.com"),
    ],
)
def test_drill_mode_refuses_one_production_host_among_local_ones(key: str, url: str) -> None:
    with pytest.raises(ConfigError, match="drill exchange") as caught:
        parse_worker_params(valid_params(exchange=dict(DRILL, **{key: url})))
    assert caught.value.key == "exchange"


def test_paper_mode_reads_production_market_data() -> None:
    urls = {
        "gamma_url": "https://gamma-api.polymarket.com",
        "clob_url": "https://clob.polymarket.com",
        "data_url": "https://data-api.polymarket.com",
        "ws_market_url": "wss://ws-subscriptions-clob.polymarket.com/ws/market",
        "ws_user_url": "wss://ws-subscriptions-clob.polymarket.com/ws/user",
    }
    assert parse_worker_params(valid_params(mode="paper", exchange=urls)).mode == "paper"


def test_end_time_is_checked_against_the_given_clock() -> None:
    now = datetime(2100, 1, 1, tzinfo=UTC)
    with pytest.raises(ConfigError, match="in the past") as caught:
        parse_worker_params(valid_params(), now=now)
    assert caught.value.key == "end_time"


def test_malformed_json_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "params.json"
    path.write_text("{nope")
    with pytest.raises(ConfigError) as caught:
        load_worker_params(path)
    assert str(path) in str(caught.value) and "line 1" in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_worker_params(tmp_path / "absent.json")


def test_paper_and_rate_limit_keys_default_to_off_and_1000_cash() -> None:
    params = parse_worker_params(valid_params())
    assert params.paper_cash_usdc == Decimal(1000)
    assert params.paper_ledger_file is None
    assert params.paper_ledger_path == Path("data/status/will-it-rain.paper-ledger")
    assert params.ratelimit_dir is None and params.ratelimit_fraction == 0.5


def test_paper_mode_with_its_own_ledger_cash_and_a_shared_rate_limit() -> None:
    doc = valid_params(
        mode="paper",
        paper_cash_usdc="250.5",
        paper_ledger_file="data/paper/will-it-rain.json",
        ratelimit_dir="data/ratelimit",
        ratelimit_fraction=0.25,
    )
    params = parse_worker_params(doc)
    assert params.mode == "paper"
    assert params.paper_cash_usdc == Decimal("250.5")
    assert params.paper_ledger_path == Path("data/paper/will-it-rain.json")
    assert params.ratelimit_dir == Path("data/ratelimit") and params.ratelimit_fraction == 0.25
