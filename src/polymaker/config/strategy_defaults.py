"""``config/strategy_defaults.json``: the strategy template and its per-market overrides.

Shape: ``{"default": {...}, "patterns": [{"match": REGEX, "params": {...}}],
"topics": {"<topic id or event slug>": {...}}}``. The parameters of one market are merged in
this order, later layers winning key by key:

1. ``default``
2. every pattern whose regex matches the market question or the event title, in file order
3. ``topics[<event slug>]`` then ``topics[<topic id>]`` (the topic id is the market slug)

A ``null`` value never overrides (the reference let nulls wipe defaults); an unknown key is
rejected when the file is loaded, naming the section and the key. Each section is also
validated as ``default`` + that section with ``StrategyParams`` at load, so a bad override is
found at start-up, not when its market first appears. Keys and values: docs/strategy.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator

from polymaker.config._loading import ConfigModel, load_config_file
from polymaker.config.strategy import StrategyParams
from polymaker.config.user_regex import regex_problem, user_regex_search
from polymaker.errors import ConfigError


class PatternRule(ConfigModel):
    """One pattern override.

    match: a regular expression (RE2 syntax, ``config.user_regex``: linear time, so the
    supervisor's loop never hangs on it), searched case-insensitively in the market question
    and in the event title (either may match). params: strategy keys to set for matching markets.
    """

    match: str = Field(min_length=1)
    params: dict[str, Any]

    @field_validator("match")
    @classmethod
    def _usable(cls, value: str) -> str:
        problem = regex_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    def matches(self, texts: Iterable[str]) -> bool:
        """True when the regex is found in any of ``texts``."""
        return any(user_regex_search(self.match, text) for text in texts if text)


class StrategyDefaults(ConfigModel):
    """The whole file: ``default`` params, ordered ``patterns``, per-topic ``topics`` overrides."""

    default: dict[str, Any] = Field(default_factory=dict)
    patterns: list[PatternRule] = Field(default_factory=list)
    topics: dict[str, dict[str, Any]] = Field(default_factory=dict)

    def layers(self) -> list[tuple[str, Mapping[str, Any]]]:
        """Every section with its key path (``default``, ``patterns[0].params``, ``topics.x``)."""
        named: list[tuple[str, Mapping[str, Any]]] = [("default", self.default)]
        named += [(f"patterns[{i}].params", rule.params) for i, rule in enumerate(self.patterns)]
        named += [(f"topics.{key}", params) for key, params in self.topics.items()]
        return named


def known_keys() -> frozenset[str]:
    """Keys a section may set: the fields of ``StrategyParams``."""
    return frozenset(StrategyParams.model_fields)


def merge_layers(layers: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Merge raw parameter dicts, later winning key by key; a None value never overrides."""
    merged: dict[str, Any] = {}
    for layer in layers:
        merged.update({key: value for key, value in layer.items() if value is not None})
    return merged


def matching_layers(
    defaults: StrategyDefaults,
    *,
    topic_id: str,
    question: str = "",
    event_title: str = "",
    event_slug: str | None = None,
) -> list[tuple[str, Mapping[str, Any]]]:
    """The sections that apply to one market, in merge order, each with its key path."""
    chosen: list[tuple[str, Mapping[str, Any]]] = [("default", defaults.default)]
    for index, rule in enumerate(defaults.patterns):
        if rule.matches((question, event_title)):
            chosen.append((f"patterns[{index}].params", rule.params))
    for key in (event_slug, topic_id):
        if key is not None and key in defaults.topics:
            chosen.append((f"topics.{key}", defaults.topics[key]))
    return chosen


def validate_params(
    merged: Mapping[str, Any], *, file: Path | str | None, section: str
) -> StrategyParams:
    """Validate merged params with ``StrategyParams``; errors name ``<section>.<field>``."""
    unknown = sorted(set(merged) - known_keys())
    if unknown:
        raise ConfigError(
            "unknown strategy key (see docs/strategy.md)", file=file, key=f"{section}.{unknown[0]}"
        )
    try:
        return StrategyParams.model_validate(dict(merged))
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        where = f"{section}.{field}" if field else section
        message = first["msg"]
        if "input" in first:
            message = f"{message} (got {first['input']!r})"
        raise ConfigError(message, file=file, key=where) from None


def check_sections(defaults: StrategyDefaults, *, file: Path | str | None) -> None:
    """Validate ``default`` alone and ``default`` + each other section (errors name the section)."""
    # ``default`` comes first, so a problem found in a later merge lies in that later section.
    for name, layer in defaults.layers():
        merged = merge_layers(
            [defaults.default] if name == "default" else [defaults.default, layer]
        )
        validate_params(merged, file=file, section=name)


def load_strategy_defaults(path: Path | str) -> StrategyDefaults:
    """Read, validate and check every section of a strategy defaults file."""
    defaults = load_config_file(StrategyDefaults, path)
    check_sections(defaults, file=path)
    return defaults


def strategy_for(
    defaults: StrategyDefaults,
    *,
    topic_id: str,
    question: str = "",
    event_title: str = "",
    event_slug: str | None = None,
    file: Path | str | None = None,
) -> StrategyParams:
    """The validated strategy params of one market (merge order in the module docstring)."""
    layers = matching_layers(
        defaults,
        topic_id=topic_id,
        question=question,
        event_title=event_title,
        event_slug=event_slug,
    )
    merged = merge_layers(layer for _, layer in layers)
    return validate_params(merged, file=file, section=layers[-1][0])


__all__ = [
    "PatternRule",
    "StrategyDefaults",
    "check_sections",
    "known_keys",
    "load_strategy_defaults",
    "matching_layers",
    "merge_layers",
    "strategy_for",
    "validate_params",
]
