"""strategy_defaults.json: shape, unknown keys, merge precedence, nulls never override."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from polymaker.config.strategy import SellMode, StrategyParams
from polymaker.config.strategy_defaults import (
    StrategyDefaults,
    load_strategy_defaults,
    matching_layers,
    merge_layers,
    strategy_for,
)
from polymaker.errors import ConfigError
from tests.conftest import REPO_ROOT


def _write(tmp_path: Path, document: dict) -> Path:
    path = tmp_path / "strategy_defaults.json"
    path.write_text(json.dumps(document))
    return path


def _load_error(tmp_path: Path, document: dict) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_strategy_defaults(_write(tmp_path, document))
    assert info.value.exit_code == 2
    assert info.value.file and info.value.file.endswith("strategy_defaults.json")
    return info.value


DOC = {
    "default": {"order_size": 10, "max_position_shares": 30, "profit_pct": 0.01, "drop_pct": 0.01},
    "patterns": [
        {"match": "election", "params": {"profit_pct": 0.02, "drop_pct": 0.03}},
        {"match": "^Will .* win", "params": {"profit_pct": 0.04, "cooldown_s": 5}},
    ],
    "topics": {
        "big-event": {"cooldown_s": 7},
        "will-x-win-the-election": {"profit_pct": 0.05, "drop_pct": None},
    },
}


def test_shipped_example_file_is_valid():
    defaults = load_strategy_defaults(REPO_ROOT / "config" / "strategy_defaults.json")
    assert defaults.patterns and defaults.topics
    params = strategy_for(defaults, topic_id="fed-decision-in-december")
    assert params.sell_mode is SellMode.CONSERVATIVE


def test_empty_file_gives_strategy_defaults(tmp_path):
    params = strategy_for(load_strategy_defaults(_write(tmp_path, {})), topic_id="t")
    assert params == StrategyParams()


def test_unknown_top_level_section_is_rejected(tmp_path):
    assert _load_error(tmp_path, {"overrides": {}}).key == "overrides"


def test_unknown_key_in_default_is_rejected(tmp_path):
    assert _load_error(tmp_path, {"default": {"ordr_size": 1}}).key == "default.ordr_size"


def test_unknown_key_in_pattern_is_rejected(tmp_path):
    document = {"patterns": [{"match": "x", "params": {"profit": 0.1}}]}
    assert _load_error(tmp_path, document).key == "patterns[0].params.profit"


def test_unknown_key_in_topic_is_rejected(tmp_path):
    document = {"topics": {"my-slug": {"sell": "aggressive"}}}
    assert _load_error(tmp_path, document).key == "topics.my-slug.sell"


def test_bad_value_in_topic_is_found_at_load(tmp_path):
    error = _load_error(tmp_path, {"topics": {"my-slug": {"profit_pct": 2}}})
    assert error.key == "topics.my-slug.profit_pct"


def test_bad_value_in_default_is_found_at_load(tmp_path):
    assert _load_error(tmp_path, {"default": {"sell_mode": "yolo"}}).key == "default.sell_mode"


def test_override_conflicting_with_default_is_found_at_load(tmp_path):
    document = {"default": {"max_position_shares": 20}, "topics": {"t": {"order_size": 50}}}
    assert _load_error(tmp_path, document).key == "topics.t.max_position_shares"


def test_invalid_regex_is_rejected(tmp_path):
    error = _load_error(tmp_path, {"patterns": [{"match": "(unclosed", "params": {}}]})
    assert error.key == "patterns[0].match"


def test_pattern_needs_params(tmp_path):
    assert _load_error(tmp_path, {"patterns": [{"match": "x"}]}).key == "patterns[0].params"


def test_merge_skips_none_values():
    assert merge_layers([{"a": 1, "b": 2}, {"a": None, "b": 3}, {"c": None}]) == {"a": 1, "b": 3}


def test_default_only_when_nothing_matches():
    defaults = StrategyDefaults.model_validate(DOC)
    params = strategy_for(defaults, topic_id="other", question="Rain tomorrow?")
    assert params.profit_pct == Decimal("0.01")
    assert params.max_position_shares == Decimal("30")


def test_patterns_apply_in_file_order_case_insensitively():
    defaults = StrategyDefaults.model_validate(DOC)
    params = strategy_for(defaults, topic_id="other", question="Will Ann win the ELECTION?")
    assert params.profit_pct == Decimal("0.04")  # second pattern wins over the first
    assert params.drop_pct == Decimal("0.03")  # only the first sets it
    assert params.cooldown_s == 5


def test_pattern_matches_event_title():
    defaults = StrategyDefaults.model_validate(DOC)
    params = strategy_for(
        defaults, topic_id="x", question="Turnout above 60%?", event_title="US election"
    )
    assert params.profit_pct == Decimal("0.02")


def test_topic_override_wins_over_patterns_and_null_keeps_lower_layer():
    defaults = StrategyDefaults.model_validate(DOC)
    params = strategy_for(
        defaults, topic_id="will-x-win-the-election", question="Will X win the election?"
    )
    assert params.profit_pct == Decimal("0.05")
    assert params.drop_pct == Decimal("0.03")  # null in the topic section did not wipe it


def test_event_slug_applies_before_topic_id():
    defaults = StrategyDefaults.model_validate(DOC)
    layers = matching_layers(
        defaults, topic_id="will-x-win-the-election", event_slug="big-event", question="q"
    )
    assert [name for name, _ in layers] == [
        "default",
        "topics.big-event",
        "topics.will-x-win-the-election",
    ]
    params = strategy_for(defaults, topic_id="market-of-big-event", event_slug="big-event")
    assert params.cooldown_s == 7


def test_strategy_for_names_the_last_section_on_error():
    defaults = StrategyDefaults.model_validate(
        {"default": {"max_position_shares": 20}, "topics": {"t": {"order_size": 50}}}
    )
    with pytest.raises(ConfigError) as info:
        strategy_for(defaults, topic_id="t", file="s.json")
    assert info.value.key == "topics.t.max_position_shares"
