"""FilterParams: defaults, the shipped example file, and invalid files (exit 2, file/key)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from polymaker.config.filter import DEFAULT_BLACKLIST_TERMS, FilterParams, load_filter_params
from polymaker.errors import ConfigError
from tests.conftest import REPO_ROOT


def test_shipped_example_equals_the_documented_defaults():
    assert load_filter_params(REPO_ROOT / "config" / "filter_params.json") == FilterParams()


def test_defaults_are_the_reference_shipped_values():
    p = FilterParams()
    assert (p.min_end_hours, p.max_end_hours) == (5.0, 48.0)
    assert (p.ask_min, p.ask_max, p.max_spread) == (
        Decimal("0.955"),
        Decimal("0.995"),
        Decimal("0.20"),
    )
    assert p.min_total_volume == Decimal(10000) and p.prefer_side == "NO"
    assert "win" not in [t.lower() for t in DEFAULT_BLACKLIST_TERMS]


def test_floats_are_read_through_str():
    p = FilterParams.model_validate({"ask_min": 0.955, "max_spread": "0.05"})
    assert p.ask_min == Decimal("0.955") and p.max_spread == Decimal("0.05")


def test_only_accepts_a_string_or_a_list_and_side_any_case():
    assert FilterParams.model_validate({"only": "fed"}).only == ("fed",)
    assert FilterParams.model_validate({"only": ""}).only == ()
    assert FilterParams.model_validate({"only": ["a", "b"]}).only == ("a", "b")
    assert FilterParams.model_validate({"prefer_side": "yes"}).prefer_side == "YES"
    assert FilterParams.model_validate({"prefer_side": "Higher"}).prefer_side == "higher"


@pytest.mark.parametrize(
    ("document", "key", "words"),
    [
        ({"min_end_hour": 5}, "min_end_hour", "unknown key"),
        ({"min_end_hours": "5"}, "min_end_hours", "valid number"),
        ({"min_end_hours": -1}, "min_end_hours", "greater than or equal"),
        ({"min_end_hours": 10, "max_end_hours": 5}, "max_end_hours", "min_end_hours"),
        ({"ask_min": 0.99, "ask_max": 0.9}, "ask_max", "ask_min (0.99) must be <= ask_max"),
        ({"ask_max": 1.5}, "ask_max", "less than or equal"),
        ({"ask_min": True}, "ask_min", "not true/false"),
        ({"max_spread": "wide"}, "max_spread", "decimal"),
        ({"prefer_side": "MAYBE"}, "prefer_side", "NO"),
        ({"one_per_event": "yes"}, "one_per_event", "boolean"),
        ({"blacklist_terms": "BTC"}, "blacklist_terms", "tuple"),
        ({"blacklist_terms": ["BTC", ""]}, "blacklist_terms", "empty string"),
        ({"blacklist_regex": ["("]}, "blacklist_regex", "not a valid regex"),
        ({"max_topics": 0}, "max_topics", "greater than or equal"),
        ({"books_batch_size": 1000}, "books_batch_size", "less than or equal"),
        ({"timeout_s": 0}, "timeout_s", "greater than"),
        ({"max_end_hours": 7e7}, "max_end_hours", "less than or equal"),
        ({"max_end_hours": float("inf")}, "max_end_hours", "finite"),
        ({"min_total_volume": "1e999999"}, "min_total_volume", "less than or equal"),
        ({"max_spread": 2}, "max_spread", "less than or equal"),
        ({"max_topics": 10**9}, "max_topics", "less than or equal"),
    ],
)
def test_invalid_files_name_file_key_and_problem(tmp_path, document, key, words):
    path = tmp_path / "filter_params.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ConfigError) as info:
        load_filter_params(path)
    error = info.value
    assert error.exit_code == 2
    assert error.file == str(path)
    assert error.key is not None and error.key.startswith(key)
    assert words in error.problem


def test_not_json_and_missing_file(tmp_path):
    bad = tmp_path / "f.json"
    bad.write_text("{nope")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_filter_params(bad)
    with pytest.raises(ConfigError, match="file not found"):
        load_filter_params(tmp_path / "missing.json")
