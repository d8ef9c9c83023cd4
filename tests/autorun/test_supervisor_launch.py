"""PARAMS of a launch: screener fields + merged strategy + exchange + files; no secrets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from polymaker.autorun.keys import DRILL_KEY_FILE_NAME, DRILL_RELAYER_KEY, worker_key
from polymaker.autorun.launch import (
    build_params,
    details_from_json,
    details_from_topic,
    raw_output_file,
    rotate_if_large,
    write_params,
)
from polymaker.config.global_config import Mode, PathsSection, resolve_paths
from polymaker.config.strategy_defaults import StrategyDefaults
from polymaker.errors import ConfigError
from polymaker.exchange.sdk import signer_address
from polymaker.exchange.secrets import (
    ENV_KEY_FILE,
    ENV_PRIVATE_KEY,
    ENV_RELAYER_API_KEY,
    ENV_RELAYER_API_KEY_ADDRESS,
)
from polymaker.exchange.urls import ExchangeUrls
from polymaker.exchange.wallet import ENV_WALLET_ADDRESS, WalletKind, key_wallets

# The Safe of key 0x22...22: a wallet, but not one of key 0x11...11's.
SAFE_OF_ANOTHER = next(
    a for a, k in key_wallets(signer_address("0x" + "22" * 32)).items() if k is WalletKind.SAFE
)
DRILL = ExchangeUrls(
    gamma_url="http://127.0.0.1:1", clob_url="http://127.0.0.1:2", data_url="http://127.0.0.1:3",
    ws_market_url="ws://127.0.0.1:2/ws/market", ws_user_url="ws://127.0.0.1:2/ws/user",
)  # fmt: skip
TOPIC: dict[str, Any] = {
    "topic_id": "will-it-snow", "condition_id": "0xabc", "question": "Will it snow in an election?",
    "event_slug": "snow", "event_title": "Snow", "end_time": "2099-12-05T12:00:00Z",
    "yes_token": "111", "no_token": "222", "preferred_side": "NO", "tick_size": "0.01",
    "min_order_size": "5", "neg_risk": False,
}  # fmt: skip
DEFAULTS = StrategyDefaults.model_validate(
    {
        "default": {"order_size": 10, "max_position_shares": 20, "profit_pct": 0.01},
        "patterns": [{"match": r"\belection\b", "params": {"profit_pct": 0.015}}],
        "topics": {"will-it-snow": {"order_size": 15}},
    }
)


def _paths(tmp_path: Path):  # type: ignore[no-untyped-def]
    return resolve_paths(PathsSection(), tmp_path / "config" / "global_config.json")


def test_params_merge_the_topic_the_strategy_layers_and_the_files(tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    details = details_from_topic(TOPIC)
    params = build_params(
        details, defaults=DEFAULTS, strategy_file="s.json", mode=Mode.DRILL, urls=DRILL, paths=paths
    )
    assert (params.side, params.token_id, str(params.tick_size)) == ("NO", "222", "0.01")
    assert str(params.strategy.order_size) == "15" and str(params.strategy.profit_pct) == "0.015"
    assert params.status_file == tmp_path / "data" / "status" / "will-it-snow.json"
    assert params.log_file == tmp_path / "logs" / "topics" / "will-it-snow.log"
    assert params.ratelimit_dir == tmp_path / "data" / "ratelimit"
    assert params.ratelimit_fraction == 0.5
    fraction = build_params(
        details,
        defaults=DEFAULTS,
        strategy_file="s.json",
        mode=Mode.DRILL,
        urls=DRILL,
        paths=paths,
        ratelimit_fraction=0.2,
    )
    assert fraction.ratelimit_fraction == 0.2
    path = write_params(params, paths.params_file("will-it-snow"))
    document = json.loads(path.read_text())
    assert document["exchange"] == DRILL.model_dump() and document["mode"] == "drill"
    assert not any("key" in name for name in document)
    assert details_from_json(details.to_json()) == details


def test_a_topic_that_cannot_make_valid_params_is_refused_before_launch(tmp_path: Path) -> None:
    bad = details_from_topic({**TOPIC, "tick_size": "0.02"})
    with pytest.raises(ConfigError, match="tick_size"):
        build_params(bad, defaults=DEFAULTS, strategy_file="s.json", mode=Mode.DRILL,
                     urls=DRILL, paths=_paths(tmp_path))  # fmt: skip
    with pytest.raises(ValueError, match="preferred_side"):
        details_from_topic({**TOPIC, "preferred_side": None})


def test_raw_output_is_kept_small(tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    raw = raw_output_file(paths, "will-it-snow")
    assert raw.name == "will-it-snow.stdout.log"
    raw.parent.mkdir(parents=True)
    raw.write_bytes(b"x" * 200)
    rotate_if_large(raw, 100)
    assert not raw.exists() and raw.with_name(raw.name + ".1").stat().st_size == 200


def test_drill_creates_a_private_throwaway_key_and_passes_only_its_path(tmp_path: Path) -> None:
    key = worker_key(Mode.DRILL, tmp_path, environ={})
    path = tmp_path / DRILL_KEY_FILE_NAME
    assert path.stat().st_mode & 0o777 == 0o600
    assert key.extra_env == {ENV_KEY_FILE: str(path)}
    assert key.key is not None and key.key.reveal() == path.read_text().strip()
    again = worker_key(Mode.DRILL, tmp_path, environ={})
    assert again.key is not None and again.key.reveal() == key.key.reveal(), "created once"


def test_a_given_key_is_inherited_not_copied(tmp_path: Path) -> None:
    secret = "0x" + "ab" * 32
    key = worker_key(Mode.LIVE, tmp_path, environ={ENV_PRIVATE_KEY: secret})
    assert key.extra_env == {} and key.key is not None and key.key.reveal() == secret
    assert not (tmp_path / DRILL_KEY_FILE_NAME).exists()


def test_live_refuses_to_start_without_a_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="live mode needs the wallet key"):
        worker_key(Mode.LIVE, tmp_path, environ={})


def test_paper_uses_no_key_even_when_one_is_set(tmp_path: Path) -> None:
    key = worker_key(Mode.PAPER, tmp_path, environ={ENV_PRIVATE_KEY: "0x" + "ab" * 32})
    assert key.key is None and key.extra_env == {}


def test_the_wallet_is_classified_once_and_only_a_non_eoa_goes_into_params(tmp_path: Path) -> None:
    secret = "0x" + "11" * 32
    signer = signer_address(secret)
    safe = next(a for a, k in key_wallets(signer).items() if k is WalletKind.SAFE)
    environ = {ENV_PRIVATE_KEY: secret, ENV_WALLET_ADDRESS: safe}
    key = worker_key(Mode.LIVE, tmp_path, environ=environ, wallet_address=None)
    assert key.wallet is not None and key.wallet.kind is WalletKind.SAFE
    assert key.wallet_address == safe and key.relayer_key is None
    own = worker_key(Mode.LIVE, tmp_path, environ={ENV_PRIVATE_KEY: secret}, wallet_address=signer)
    assert own.wallet is not None and own.wallet.is_eoa and own.wallet_address is None
    with pytest.raises(ConfigError, match="none of the wallets"):
        worker_key(
            Mode.LIVE, tmp_path, environ={ENV_PRIVATE_KEY: secret}, wallet_address=SAFE_OF_ANOTHER
        )


def test_drill_lends_a_throwaway_relayer_key_and_paper_keeps_the_address(tmp_path: Path) -> None:
    drill = worker_key(Mode.DRILL, tmp_path, environ={})
    assert drill.relayer_key is not None and drill.relayer_key.key == DRILL_RELAYER_KEY
    given = {ENV_RELAYER_API_KEY: "relayer-secret", ENV_RELAYER_API_KEY_ADDRESS: "0x" + "cd" * 20}
    live = worker_key(Mode.DRILL, tmp_path, environ=given)
    assert live.relayer_key is not None and live.relayer_key.key == "relayer-secret"
    paper = worker_key(Mode.PAPER, tmp_path, environ={}, wallet_address=SAFE_OF_ANOTHER.lower())
    assert paper.wallet is None and paper.wallet_address == SAFE_OF_ANOTHER
    with pytest.raises(ConfigError, match="or neither"):
        worker_key(Mode.DRILL, tmp_path, environ={ENV_RELAYER_API_KEY: "x"})


def test_drill_strategy_overrides_are_applied_last(tmp_path: Path) -> None:
    params = build_params(
        details_from_topic(TOPIC), defaults=DEFAULTS, strategy_file="s.json", mode=Mode.DRILL,
        urls=DRILL, paths=_paths(tmp_path), overrides={"order_size": 12, "cooldown_s": 10},
        overrides_file="g.json",
    )  # fmt: skip
    assert str(params.strategy.order_size) == "12" and params.strategy.cooldown_s == 10
    assert str(params.strategy.profit_pct) == "0.015"  # the pattern layer is still there


def test_an_override_that_breaks_the_params_names_its_section(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        build_params(
            details_from_topic(TOPIC), defaults=DEFAULTS, strategy_file="s.json",
            mode=Mode.DRILL, urls=DRILL, paths=_paths(tmp_path),
            overrides={"max_position_shares": 1}, overrides_file="g.json",
        )  # fmt: skip
    assert info.value.key is not None and info.value.key.startswith("drill.strategy_overrides")


def test_the_embedded_exchange_gets_the_drill_liveliness(tmp_path: Path) -> None:
    from polymaker.autorun.embedded import sim_argv
    from polymaker.config.global_config import DrillSection

    world = tmp_path / "drill_world.pickle"
    argv = sim_argv(
        DrillSection(volatility=10.0, takers_per_minute=60.0), tmp_path / "u.json", world
    )
    assert argv[argv.index("--state-file") + 1] == str(world)
    assert argv[argv.index("--volatility") + 1] == "10.0"
    assert argv[argv.index("--takers-per-minute") + 1] == "60.0"
