"""global_config.json: every validation rule, live-needs-two-choices, and path resolution."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from polymaker.config.global_config import (
    GlobalConfig,
    Mode,
    PathsSection,
    choose_mode,
    load_global_config,
    project_root,
    resolve_paths,
    topic_file_name,
)
from polymaker.errors import ConfigError
from tests.conftest import REPO_ROOT

LOCAL_URLS = {
    "gamma_url": "http://127.0.0.1:9000/",
    "clob_url": "http://127.0.0.1:9000",
    "data_url": "http://127.0.0.1:9000",
    "ws_market_url": "ws://127.0.0.1:9000/ws/market",
    "ws_user_url": "ws://127.0.0.1:9000/ws/user",
}
PRODUCTION = {
    "gamma_url": "https://gamma-api.polymarket.com",
    "clob_url": "https://clob.polymarket.com",
    "data_url": "https://data-api.polymarket.com",
    "ws_market_url": "wss://ws-subscriptions-clob.polymarket.com/ws/market",
    "ws_user_url": "wss://ws-subscriptions-clob.polymarket.com/ws/user",
}


def _load(tmp_path: Path, document: dict) -> GlobalConfig:
    path = tmp_path / "config" / "global_config.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(document))
    return load_global_config(path)


def _error(tmp_path: Path, document: dict) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, document)
    assert info.value.exit_code == 2
    assert info.value.file and info.value.file.endswith("global_config.json")
    return info.value


def test_empty_file_gives_drill_defaults(tmp_path):
    config = _load(tmp_path, {})
    assert config.mode is Mode.DRILL
    assert config.exchange.is_embedded and config.exchange.urls() is None
    assert config.max_concurrent_workers == 3
    assert config.restart.max_retries == 3
    assert config.max_total_exposure_usdc is None
    assert config.drill.balance_usdc == Decimal("1000")
    assert config.flatten_on_daily_loss is False
    assert config.order_heartbeat.enabled is False
    assert config.order_heartbeat.interval_s == 5.0
    assert config.ratelimit_fraction == 0.5
    assert config.worker_template is True
    assert config.spare_workers is None


def test_order_heartbeat_section_is_read(tmp_path):
    config = _load(tmp_path, {"order_heartbeat": {"enabled": True, "interval_s": 8}})
    assert config.order_heartbeat.enabled and config.order_heartbeat.interval_s == 8.0


def test_shipped_example_config_is_valid():
    config = load_global_config(REPO_ROOT / "config" / "global_config.json")
    assert config.mode is Mode.DRILL
    assert config.exchange.is_embedded


def test_unknown_key_is_rejected(tmp_path):
    assert _error(tmp_path, {"max_concurent_workers": 2}).key == "max_concurent_workers"


def test_unknown_nested_key_is_rejected(tmp_path):
    assert _error(tmp_path, {"restart": {"retries": 2}}).key == "restart.retries"


@pytest.mark.parametrize(
    ("document", "key"),
    [
        ({"max_concurrent_workers": "3"}, "max_concurrent_workers"),
        ({"max_concurrent_workers": True}, "max_concurrent_workers"),
        ({"topics_poll_sec": True}, "topics_poll_sec"),
        ({"topics_poll_sec": "300"}, "topics_poll_sec"),
        ({"max_total_exposure_usdc": True}, "max_total_exposure_usdc"),
        ({"ignore_history": "yes"}, "ignore_history"),
        ({"mode": "production"}, "mode"),
        ({"paths": {"data_dir": 5}}, "paths.data_dir"),
        ({"drill": {"markets": 2.5}}, "drill.markets"),
        ({"flatten_on_daily_loss": 1}, "flatten_on_daily_loss"),
        ({"ratelimit_fraction": "0.5"}, "ratelimit_fraction"),
        ({"spare_workers": 1.5}, "spare_workers"),
        ({"worker_template": "yes"}, "worker_template"),
        ({"order_heartbeat": {"enabled": "yes"}}, "order_heartbeat.enabled"),
    ],
)
def test_wrong_type_is_rejected(tmp_path, document, key):
    assert _error(tmp_path, document).key == key


@pytest.mark.parametrize(
    ("document", "key"),
    [
        ({"max_concurrent_workers": 0}, "max_concurrent_workers"),
        ({"topics_poll_sec": 0}, "topics_poll_sec"),
        ({"stop_timeout_s": -1}, "stop_timeout_s"),
        ({"heartbeat_stale_s": 2}, "heartbeat_stale_s"),
        ({"restart": {"max_retries": -1}}, "restart.max_retries"),
        ({"screener": {"timeout_s": 0}}, "screener.timeout_s"),
        ({"max_total_exposure_usdc": 0}, "max_total_exposure_usdc"),
        ({"daily_loss_limit_usdc": -5}, "daily_loss_limit_usdc"),
        ({"max_markets_held": 0}, "max_markets_held"),
        ({"ratelimit_fraction": 0}, "ratelimit_fraction"),
        ({"ratelimit_fraction": 1.5}, "ratelimit_fraction"),
        ({"log_max_bytes": 100}, "log_max_bytes"),
        ({"drill": {"speed": 0}}, "drill.speed"),
        ({"stop_timeout_s": float("inf")}, "stop_timeout_s"),
        ({"max_total_exposure_usdc": "NaN"}, "max_total_exposure_usdc"),
        ({"order_heartbeat": {"interval_s": 0.5}}, "order_heartbeat.interval_s"),
        ({"order_heartbeat": {"interval_s": 9}}, "order_heartbeat.interval_s"),
        ({"topics_poll_sec": 1e-30}, "topics_poll_sec"),
        ({"status_interval_s": 1e-30}, "status_interval_s"),
        ({"stop_timeout_s": 1e-30}, "stop_timeout_s"),
        ({"restart": {"backoff_base_s": 2.5e11, "backoff_max_s": 3e11}}, "restart.backoff_base_s"),
        ({"restart": {"backoff_max_s": 2.5e11}}, "restart.backoff_max_s"),
        ({"restart": {"reset_after_s": 1e300}}, "restart.reset_after_s"),
        ({"heartbeat_stale_s": 1e300}, "heartbeat_stale_s"),
        ({"drill": {"seed": 2**64}}, "drill.seed"),
        ({"drill": {"balance_usdc": "1e999999999"}}, "drill.balance_usdc"),
    ],
)
def test_range_is_enforced(tmp_path, document, key):
    assert _error(tmp_path, document).key == key


def test_backoff_cap_below_base_is_rejected(tmp_path):
    error = _error(tmp_path, {"restart": {"backoff_base_s": 60, "backoff_max_s": 10}})
    assert "backoff_max_s" in str(error)


def test_money_limits_are_decimal(tmp_path):
    config = _load(tmp_path, {"max_total_exposure_usdc": 250.1, "daily_loss_limit_usdc": "40"})
    assert config.max_total_exposure_usdc == Decimal("250.1")
    assert config.daily_loss_limit_usdc == Decimal("40")


@pytest.mark.parametrize("mode", ["paper", "live"])
def test_non_drill_mode_without_urls_is_rejected(tmp_path, mode):
    error = _error(tmp_path, {"mode": mode})
    assert error.key == "exchange"
    assert "needs the five exchange URLs" in str(error)


def test_partial_urls_are_rejected(tmp_path):
    error = _error(tmp_path, {"exchange": {"gamma_url": "http://127.0.0.1:1"}})
    assert error.key == "exchange"
    assert "clob_url" in str(error)


def test_bad_url_scheme_is_rejected(tmp_path):
    urls = {**LOCAL_URLS, "ws_user_url": "http://127.0.0.1:9000/ws/user"}
    assert _error(tmp_path, {"exchange": urls}).key == "exchange.ws_user_url"


def test_drill_with_production_urls_is_rejected(tmp_path):
    assert "production" in str(_error(tmp_path, {"exchange": PRODUCTION}))


@pytest.mark.parametrize(
    ("key", "url"),
    [
        ("clob_url", "https://CLOB.polymarket.com:443/"),
        ("clob_url", "https://clob.polymarket.com/some/path"),
        ("gamma_url", "https://Gamma-API.Polymarket.COM"),
        ("data_url", "http://data-api.polymarket.com.:8080"),
        ("ws_user_url", "wss://ws-subscriptions-clob.polymarket.com/ws/user?x=1"),
    ],
)
def test_drill_refuses_one_production_host_among_local_ones(tmp_path, key, url):
    error = _error(tmp_path, {"exchange": {**LOCAL_URLS, key: url}})
    assert error.key == "exchange" and "production" in str(error)


def test_a_host_that_only_resembles_production_is_a_drill_exchange(tmp_path):
    urls = {**LOCAL_URLS, "clob_url": "http://polymarket.com.127.0.0.1.nip.io:9000"}
    assert _load(tmp_path, {"exchange": urls}).exchange.clob_url == urls["clob_url"]


def test_a_url_without_a_host_is_refused(tmp_path):
    error = _error(tmp_path, {"exchange": {**LOCAL_URLS, "clob_url": "http://"}})
    assert error.key == "exchange.clob_url" and "host name" in str(error)


def test_drill_with_external_drill_exchange(tmp_path):
    config = _load(tmp_path, {"exchange": LOCAL_URLS})
    urls = config.exchange.urls()
    assert urls is not None and urls.gamma_url == "http://127.0.0.1:9000"
    assert urls.relayer is None, "no production relayer behind a drill exchange"
    relayed = _load(tmp_path, {"exchange": {**LOCAL_URLS, "relayer_url": "http://127.0.0.1:9003/"}})
    assert (relayed.exchange.urls() or urls).relayer == "http://127.0.0.1:9003"


def test_production_urls_come_with_polymarkets_relayer(tmp_path):
    config = _load(tmp_path, {"mode": "live", "exchange": PRODUCTION})
    urls = config.exchange.urls()
    assert urls is not None and urls.relayer == "https://relayer-v2.polymarket.com"


def test_a_relayer_without_the_five_urls_is_rejected(tmp_path):
    error = _error(tmp_path, {"exchange": {"relayer_url": "http://127.0.0.1:9003"}})
    assert "relayer_url is set but the five URLs are null" in str(error)


def test_wallet_address_is_read_checksummed_and_a_malformed_one_names_the_key(tmp_path):
    config = _load(tmp_path, {"wallet_address": "0x" + "ab" * 20})
    assert config.wallet_address == "0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB"
    assert _load(tmp_path, {}).wallet_address is None
    assert _error(tmp_path, {"wallet_address": "0xnope"}).key == "wallet_address"


def test_live_needs_both_file_and_command_line(tmp_path):
    live = _load(tmp_path, {"mode": "live", "exchange": PRODUCTION})
    assert choose_mode(live, "live", file="g.json") is Mode.LIVE
    for cli in (None, "paper"):
        with pytest.raises(ConfigError, match="--mode live") as info:
            choose_mode(live, cli, file="g.json")
        assert info.value.key == "mode"


def test_command_line_live_needs_file_live(tmp_path):
    paper = _load(tmp_path, {"mode": "paper", "exchange": PRODUCTION})
    with pytest.raises(ConfigError, match='"mode": "live"'):
        choose_mode(paper, Mode.LIVE, file="g.json")


def test_command_line_mode_overrides_file_when_not_live(tmp_path):
    paper = _load(tmp_path, {"mode": "paper", "exchange": LOCAL_URLS})
    assert choose_mode(paper, None, file="g.json") is Mode.PAPER
    assert choose_mode(paper, "drill", file="g.json") is Mode.DRILL


def test_command_line_mode_is_checked_against_urls(tmp_path):
    drill = _load(tmp_path, {})
    with pytest.raises(ConfigError, match="needs the five exchange URLs") as info:
        choose_mode(drill, "paper", file="g.json")
    assert info.value.key == "exchange"


def test_project_root_is_parent_of_config_dir(tmp_path):
    assert project_root(tmp_path / "config" / "global_config.json") == tmp_path.resolve()


def test_relative_paths_resolve_against_project_root(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path / "..")
    resolved = resolve_paths(PathsSection(), tmp_path / "config" / "global_config.json")
    root = tmp_path.resolve()
    assert resolved.root == root
    assert resolved.data_dir == root / "data"
    assert resolved.log_dir == root / "logs"
    assert resolved.handled_topics == root / "data" / "handled_topics.json"
    assert resolved.topics_filtered == root / "data" / "topics_filtered.json"
    assert resolved.run_state == root / "data" / "run_state.json"
    assert resolved.filter_config == root / "config" / "filter_params.json"
    assert resolved.strategy_config == root / "config" / "strategy_defaults.json"
    assert resolved.status_dir == root / "data" / "status"
    assert resolved.topic_log_dir == root / "logs" / "topics"
    assert resolved.control_socket == root / "data" / "control.sock"
    assert resolved.lock_file == root / "data" / ".supervisor.lock"


def test_configured_paths_are_honoured(tmp_path):
    paths = PathsSection(
        data_dir=Path("state"),
        log_dir=tmp_path / "elsewhere" / "logs",
        handled_topics=Path("state/ledger.json"),
        topics_filtered=Path("/abs/topics.json"),
        run_state=Path("snap.json"),
        filter_config=Path("cfg/filter.json"),
    )
    resolved = resolve_paths(paths, tmp_path / "config" / "g.json")
    root = tmp_path.resolve()
    assert resolved.data_dir == root / "state"
    assert resolved.log_dir == tmp_path / "elsewhere" / "logs"
    assert resolved.handled_topics == root / "state" / "ledger.json"
    assert resolved.topics_filtered == Path("/abs/topics.json")
    assert resolved.run_state == root / "snap.json"
    assert resolved.filter_config == root / "cfg" / "filter.json"


def test_unset_data_files_follow_data_dir(tmp_path):
    resolved = resolve_paths(PathsSection(data_dir=Path("/srv/pm")), tmp_path / "c" / "g.json")
    assert resolved.handled_topics == Path("/srv/pm/handled_topics.json")
    assert resolved.status_dir == Path("/srv/pm/status")


def test_command_line_config_paths_win_and_resolve_against_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    resolved = resolve_paths(
        PathsSection(filter_config=Path("config/f.json")),
        tmp_path / "proj" / "config" / "g.json",
        filter_config="mine/filter.json",
        strategy_config=tmp_path / "s.json",
    )
    assert resolved.filter_config == tmp_path.resolve() / "mine" / "filter.json"
    assert resolved.strategy_config == tmp_path / "s.json"
    assert resolved.data_dir == tmp_path.resolve() / "proj" / "data"


@pytest.mark.parametrize(
    ("topic_id", "name"),
    [
        ("will-it-rain-in-paris-2026", "will-it-rain-in-paris-2026"),
        ("a/b c", "a_b_c"),
        ("..", "_."),
        (".hidden", "_hidden"),
        ("", "_"),
    ],
)
def test_topic_file_names_are_safe(topic_id, name):
    assert topic_file_name(topic_id) == name


def test_per_topic_files(tmp_path):
    resolved = resolve_paths(PathsSection(), tmp_path / "config" / "g.json")
    root = tmp_path.resolve()
    assert resolved.status_file("m-1") == root / "data" / "status" / "m-1.json"
    assert resolved.params_file("m-1") == root / "data" / "params" / "m-1.json"
    assert resolved.topic_log("a/b") == root / "logs" / "topics" / "a_b.log"


def test_drill_liveliness_and_strategy_overrides_are_read(tmp_path):
    drill = {"volatility": 10, "takers_per_minute": 60, "strategy_overrides": {"drop_pct": 0.005}}
    config = _load(tmp_path, {"drill": drill})
    assert (config.drill.volatility, config.drill.takers_per_minute) == (10.0, 60.0)
    assert config.drill.strategy_overrides == {"drop_pct": 0.005}


def test_an_unknown_drill_strategy_override_fails_at_load(tmp_path):
    error = _error(tmp_path, {"drill": {"strategy_overrides": {"drop_pc": 0.005}}})
    assert error.key == "drill.strategy_overrides" and "drop_pc" in str(error)


def test_an_invalid_drill_strategy_override_fails_at_load(tmp_path):
    error = _error(tmp_path, {"drill": {"strategy_overrides": {"profit_pct": -1}}})
    assert error.key == "drill.strategy_overrides.profit_pct"


def test_the_deprecated_spare_workers_key_is_still_read(tmp_path):
    # Ignored since the worker template replaced spares (the supervisor warns); a config
    # written for an older version still loads.
    assert _load(tmp_path, {"spare_workers": 8}).spare_workers == 8
