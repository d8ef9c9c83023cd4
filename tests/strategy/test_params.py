"""StrategyParams: defaults, the design.md keys, and refusals that name the key."""

from __future__ import annotations

from decimal import Decimal

import pytest

from polymaker.config import validate_config
from polymaker.config.strategy import SellMode, StrategyParams
from polymaker.errors import ConfigError

DESIGN_KEYS = {
    "order_size",
    "max_position_shares",
    "drop_pct",
    "drop_window_minutes",
    "buy_price_threshold",
    "profit_pct",
    "sell_mode",
    "stop_loss_pct",
    "max_hold_minutes",
    "sell_only_minutes_before_end",
    "cooldown_s",
}


def test_defaults_are_valid_and_keep_the_design_keys() -> None:
    params = StrategyParams()
    assert set(StrategyParams.model_fields) >= DESIGN_KEYS
    assert params.drop_pct == Decimal("0.01") and params.drop_window_minutes == 10.0
    assert params.sell_mode == SellMode.AGGRESSIVE
    assert params.buy_price_threshold is None and params.stop_loss_pct is None


def test_json_numbers_become_decimals() -> None:
    params = validate_config(StrategyParams, {"profit_pct": 0.02, "order_size": 7})
    assert params.profit_pct == Decimal("0.02") and params.order_size == Decimal("7")


def test_every_documented_key_is_in_the_doc() -> None:
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "strategy.md").read_text(encoding="utf-8")
    for key in StrategyParams.model_fields:
        assert f"| `{key}` |" in doc, key


@pytest.mark.parametrize(
    ("doc", "key"),
    [
        ({"profit_pct": 0}, "profit_pct"),
        ({"profit_pct": -0.1}, "profit_pct"),
        ({"drop_pct": 1}, "drop_pct"),
        ({"order_size": 0}, "order_size"),
        ({"order_size": 30}, "max_position_shares"),
        ({"sell_mode": "yolo"}, "sell_mode"),
        ({"cooldown_s": True}, "cooldown_s"),
        ({"drop_window_minutes": 0.1}, "signal_sample_s"),
        ({"min_profit_ticks": 0}, "min_profit_ticks"),
        ({"stop_loss_pct": 1.5}, "stop_loss_pct"),
        ({"profit_pcnt": 0.1}, "profit_pcnt"),
    ],
)
def test_impossible_values_name_the_key(doc: dict, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        validate_config(StrategyParams, doc, file="params.json")
    assert info.value.key == key
    assert info.value.exit_code == 2
