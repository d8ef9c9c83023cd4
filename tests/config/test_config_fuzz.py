"""Fuzz: mutated versions of every shipped config file and of a PARAMS file, through the loaders.

Each outcome must be a loaded model or ``ConfigError`` (exit 2), never another exception. What
loads must then work where it is used: paths resolve, a restart delay becomes a date, the
screening window becomes dates, and the strategy of any market (patterns matched against a
hostile question) builds and takes its first events. Mutations are structural (a value
replaced, a key deleted or added, nesting) or on the bytes of the file (a byte inserted,
dropped or replaced: non-UTF-8, truncation, duplicated lines).
"""

from __future__ import annotations

import json
import random
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from polymaker.autorun.states import restart_delay_s
from polymaker.config.filter import load_filter_params
from polymaker.config.global_config import load_global_config, resolve_paths
from polymaker.config.strategy import StrategyParams
from polymaker.config.strategy_defaults import load_strategy_defaults, strategy_for
from polymaker.config.worker_params import load_worker_params
from polymaker.errors import ConfigError
from polymaker.screener.criteria import Criteria
from polymaker.strategy import MarketInfo, Strategy
from polymaker.strategy.events import AllOrdersCanceled, BookUpdate, Level, Timer
from tests.config.test_worker_params import valid_params
from tests.conftest import REPO_ROOT
from tests.fuzzing import FUZZ_SETTINGS, HOSTILE_STRINGS, mutated

NOW = datetime(2026, 12, 7, tzinfo=UTC)


def _shipped(name: str) -> Any:
    return json.loads((REPO_ROOT / "config" / name).read_text(encoding="utf-8"))


@st.composite
def _file_bytes(draw: st.DrawFn, document: Any) -> bytes:
    """The document, structurally mutated, as JSON text; sometimes with its bytes mutated."""
    # Nested past the loader's limit of 32 levels, not thousands deep: that is its own test
    # (test_loading.py), and indented JSON of it would be megabytes per example.
    text = json.dumps(draw(mutated(document, depths=(1, 2, 40))).value, indent=2).encode()
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(text)))
        edit = draw(st.sampled_from(["insert", "drop", "line"]))
        if edit == "insert":
            text = text[:at] + draw(st.binary(min_size=1, max_size=4)) + text[at:]
        elif edit == "drop":
            text = text[:at] + text[at + draw(st.integers(1, 8)) :]
        else:
            lines = text.split(b"\n")
            line = draw(st.integers(0, len(lines) - 1))
            text = b"\n".join([*lines[: line + 1], lines[line], *lines[line + 1 :]])
    return text


def _load(loader: Callable[[Path], Any], name: str, content: bytes) -> Any:
    """The loaded model, or None when the loader refused the file with ConfigError."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "config" / name
        path.parent.mkdir()
        path.write_bytes(content)
        try:
            return loader(path)
        except ConfigError as error:
            assert error.exit_code == 2
            assert "\n" not in str(error)
            return None


def _trade_a_little(params: StrategyParams) -> None:
    """The strategy builds from loaded params and takes its first events without raising."""
    now = int(NOW.timestamp() * 1000)
    market = MarketInfo(Decimal("0.01"), Decimal(5), now + 48 * 3_600_000)
    strategy = Strategy(params, market, now)
    strategy.handle(Timer(now))
    strategy.handle(AllOrdersCanceled(now, 0))
    book = BookUpdate(now + 1000, (Level(Decimal("0.9"), Decimal(100)),), ())
    strategy.handle(book)
    strategy.handle(Timer(now + 10 * 86_400_000))


@FUZZ_SETTINGS
@given(_file_bytes(_shipped("global_config.json")))
def test_global_config(content: bytes) -> None:
    config = _load(load_global_config, "global_config.json", content)
    if config is None:
        return
    resolve_paths(config.paths, Path("/srv/pm/config/global_config.json"))
    restart = config.restart
    for attempt in (1, restart.max_retries + 1):
        delay = restart_delay_s(
            attempt,
            base_s=restart.backoff_base_s,
            max_s=restart.backoff_max_s,
            rng=random.Random(1),
        )
        assert NOW + timedelta(seconds=delay + restart.reset_after_s) > NOW
    for seconds in (config.topics_poll_sec, config.stop_timeout_s, config.status_interval_s):
        assert seconds >= 0.5
        assert NOW + timedelta(seconds=seconds) > NOW
    for overrides in (config.drill.strategy_overrides,):
        if overrides:
            _trade_a_little(StrategyParams.model_validate(overrides))


@FUZZ_SETTINGS
@given(_file_bytes(_shipped("filter_params.json")))
def test_filter_params(content: bytes) -> None:
    params = _load(load_filter_params, "filter_params.json", content)
    if params is None:
        return
    criteria = Criteria.build(params, NOW)
    assert criteria.window[0] <= criteria.window[1]
    criteria.blacklist.match((*HOSTILE_STRINGS, "Will it rain " * 300 + "?"))


@FUZZ_SETTINGS
@given(_file_bytes(_shipped("strategy_defaults.json")), st.sampled_from(HOSTILE_STRINGS))
def test_strategy_defaults(content: bytes, question: str) -> None:
    defaults = _load(load_strategy_defaults, "strategy_defaults.json", content)
    if defaults is None:
        return
    for topic in ("fed-decision-in-december", "any-other-market"):
        params = strategy_for(
            defaults, topic_id=topic, question=question + " election " * 200, event_title=question
        )
        _trade_a_little(params)


@FUZZ_SETTINGS
@given(_file_bytes(valid_params()))
def test_worker_params(content: bytes) -> None:
    params = _load(load_worker_params, "params.json", content)
    if params is None:
        return
    assert params.end_time > datetime.now(UTC)
    assert not params.exchange.production_urls or params.mode != "drill"
    _trade_a_little(params.strategy)
