"""User regexes are matched in linear time: no pattern can stall the supervisor or a screen.

``^(\\w+\\s?)*$`` is the issue's reproducer: Python's ``re`` needs exponential time for it on a
question that ends in a non-word character; RE2 answers in microseconds.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from polymaker.config.filter import FilterParams
from polymaker.config.strategy_defaults import load_strategy_defaults, strategy_for
from polymaker.config.user_regex import MAX_PATTERN_LENGTH, regex_problem, user_regex_search
from polymaker.errors import ConfigError
from polymaker.screener.blacklist import Blacklist

EXPONENTIAL = r"^(\w+\s?)*$"
# Words and spaces, then one character that defeats the final ``$``: every split is tried.
QUESTION = "Will the candidate who wins the primary also win the general election " * 40 + "?"
BOUND_S = 1.0  # RE2 needs well under a millisecond; a generous bound for a loaded CI box


def _timed(call) -> tuple[object, float]:
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started


def test_a_backtracking_pattern_is_answered_in_linear_time() -> None:
    found, elapsed = _timed(lambda: user_regex_search(EXPONENTIAL, QUESTION))
    assert found is False
    assert elapsed < BOUND_S


def test_a_lone_surrogate_in_the_text_is_matched_not_raised() -> None:
    assert user_regex_search("b", "a\udcffb")
    assert not user_regex_search("c", "a\ud800b")


def test_matching_is_case_insensitive_and_python_like() -> None:
    assert user_regex_search(r"\b(election|primary)\b", "The PRIMARY is near")
    assert not user_regex_search(r"\b(election|primary)\b", "primaryschool fees")
    assert user_regex_search(r"(?P<team>lakers|celtics)\s+vs\.?", "Celtics vs. Lakers")


@pytest.mark.parametrize(
    ("pattern", "words"),
    [
        (r"(a)\1", "backreferences"),
        (r"(?<=win )the", "lookaround"),
        (r"foo(?=bar)", "lookaround"),
        ("(unclosed", "missing )"),
        ("", "empty"),
        ("a" * (MAX_PATTERN_LENGTH + 1), "longer than"),
        ("(((a{100}){100}){100})", "not a valid regex"),
        ("a\ud800", "surrogate"),
    ],
)
def test_patterns_that_cannot_be_linear_are_refused_with_the_reason(
    pattern: str, words: str
) -> None:
    problem = regex_problem(pattern)
    assert problem is not None and words in problem


def test_strategy_patterns_cannot_freeze_the_supervisors_launch(tmp_path: Path) -> None:
    path = tmp_path / "strategy_defaults.json"
    rule = {"match": EXPONENTIAL, "params": {"profit_pct": 0.02}}
    path.write_text(json.dumps({"patterns": [rule]}))
    defaults = load_strategy_defaults(path)
    params, elapsed = _timed(
        lambda: strategy_for(defaults, topic_id="t", question=QUESTION, event_title=QUESTION)
    )
    assert elapsed < BOUND_S
    assert str(params.profit_pct) == "0.01"  # did not match: the default stands


def test_a_strategy_pattern_with_a_backreference_is_refused_at_load(tmp_path: Path) -> None:
    path = tmp_path / "strategy_defaults.json"
    path.write_text(json.dumps({"patterns": [{"match": r"(\w+) \1", "params": {}}]}))
    with pytest.raises(ConfigError, match="RE2") as caught:
        load_strategy_defaults(path)
    assert caught.value.key == "patterns[0].match"


def test_blacklist_regexes_cannot_stall_a_screen() -> None:
    params = FilterParams.model_validate({"blacklist_terms": [], "blacklist_regex": [EXPONENTIAL]})
    blacklist = Blacklist.compile(params.blacklist_terms, params.blacklist_regex)
    hit, elapsed = _timed(lambda: blacklist.match([QUESTION, "some-slug", QUESTION]))
    assert hit is None and elapsed < BOUND_S


def test_a_blacklist_regex_with_lookaround_is_refused_naming_the_item() -> None:
    with pytest.raises(ValueError, match="item 1"):
        FilterParams.model_validate({"blacklist_regex": ["ok", "(?!x)y"]})
