"""Every unreadable config file ends in one ConfigError line (exit 2), never in a traceback.

Each corruption is applied to every shipped config file and to a PARAMS file, through the real
loaders and through the ``polymaker`` command line.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from polymaker.cli import main
from polymaker.config._loading import MAX_DEPTH
from polymaker.config.filter import load_filter_params
from polymaker.config.global_config import load_global_config
from polymaker.config.strategy_defaults import load_strategy_defaults
from polymaker.config.worker_params import load_worker_params
from polymaker.errors import ConfigError
from tests.config.test_worker_params import valid_params
from tests.conftest import REPO_ROOT

Loader = Callable[[Path], Any]

SHIPPED: dict[str, Loader] = {
    "global_config.json": load_global_config,
    "strategy_defaults.json": load_strategy_defaults,
    "filter_params.json": load_filter_params,
}


def _shipped_text(name: str) -> str:
    return (REPO_ROOT / "config" / name).read_text(encoding="utf-8")


def _all_files() -> list[tuple[str, str, Loader]]:
    files = [(name, _shipped_text(name), loader) for name, loader in SHIPPED.items()]
    files.append(("params.json", json.dumps(valid_params(), indent=2), load_worker_params))
    return files


def _first_scalar_key_line(lines: list[str]) -> int:
    return next(
        index
        for index, line in enumerate(lines)
        if line.strip().startswith('"') and not line.rstrip(",").endswith(("{", "["))
    )


def _non_utf8(text: str) -> bytes:
    return text.replace('"', '"\xff', 1).encode("latin-1")


def _deep(text: str) -> bytes:
    return text.replace("{", '{"deep": ' + "[" * 5000 + "]" * 5000 + ",", 1).encode()


def _duplicate(text: str) -> bytes:
    lines = text.splitlines()
    index = _first_scalar_key_line(lines)
    lines.insert(index, lines[index].rstrip(",") + ",")
    return "\n".join(lines).encode()


CORRUPTIONS: dict[str, tuple[Callable[[str], bytes], str]] = {
    "non-UTF-8 byte": (_non_utf8, "not UTF-8"),
    "nesting 5000 deep": (_deep, f"nested deeper than {MAX_DEPTH}"),
    "duplicate key": (_duplicate, "appears twice"),
}


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
@pytest.mark.parametrize(("name", "text", "loader"), _all_files(), ids=[f[0] for f in _all_files()])
def test_corrupted_files_are_config_errors(
    tmp_path: Path, corruption: str, name: str, text: str, loader: Loader
) -> None:
    mutate, problem = CORRUPTIONS[corruption]
    path = tmp_path / name
    path.write_bytes(mutate(text))
    with pytest.raises(ConfigError, match=problem) as caught:
        loader(path)
    assert str(path) in str(caught.value)
    assert caught.value.exit_code == 2


def test_a_duplicate_key_is_named() -> None:
    from polymaker.config._loading import parse_json_text

    with pytest.raises(ConfigError) as caught:
        parse_json_text('{"a": {"topics_poll_sec": 1, "topics_poll_sec": 2}}', file="g.json")
    assert caught.value.key == "topics_poll_sec"


def test_nesting_past_the_limit_names_the_deepest_key() -> None:
    from polymaker.config._loading import parse_json_text

    document = {"drill": {"strategy_overrides": {"x": [[[[1]]]]}}}
    text = json.dumps(document).replace("[[[[1]]]]", "[" * MAX_DEPTH + "1" + "]" * MAX_DEPTH)
    with pytest.raises(ConfigError) as caught:
        parse_json_text(text, file="g.json")
    assert caught.value.key is not None
    assert caught.value.key.startswith("drill.strategy_overrides.x[0]")


@pytest.mark.parametrize(
    ("name", "key", "value"),
    [
        ("global_config.json", "max_concurrent_workers", "9" * 5000),
        ("global_config.json", "drill.seed", "-" + "9" * 5000),
        ("filter_params.json", "max_topics", "9" * 4301),
        ("filter_params.json", "min_total_volume", "9" * 5000),
        ("strategy_defaults.json", "default.min_profit_ticks", "1" * 5000),
    ],
)
def test_an_integer_of_thousands_of_digits_is_out_of_range_naming_the_key(
    tmp_path: Path, name: str, key: str, value: str
) -> None:
    document = json.loads(_shipped_text(name))
    *parents, leaf = key.split(".")
    target = document
    for parent in parents:
        target = target[parent]
    target[leaf] = "@@"
    path = tmp_path / name
    path.write_text(json.dumps(document).replace('"@@"', value))
    with pytest.raises(ConfigError) as caught:
        SHIPPED[name](path)
    assert caught.value.key == key
    assert len(str(caught.value)) < 300


@pytest.mark.parametrize(
    ("paths", "key", "problem"),
    [
        ({"data_dir": "~nosuchuser-polymaker/x"}, "paths.data_dir", "no such user"),
        ({"log_dir": "lo\u0000gs"}, "paths.log_dir", "NUL"),
        ({"run_state": ""}, "paths.run_state", "empty"),
        ({"filter_config": "   "}, "paths.filter_config", "empty"),
    ],
)
def test_unusable_paths_are_refused_at_load(
    tmp_path: Path, paths: dict[str, str], key: str, problem: str
) -> None:
    path = tmp_path / "global_config.json"
    path.write_text(json.dumps({"paths": paths}))
    with pytest.raises(ConfigError, match=problem) as caught:
        load_global_config(path)
    assert caught.value.key == key


def _cli_line(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_run_reports_a_bad_global_config_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config" / "global_config.json"
    path.parent.mkdir()
    path.write_bytes(_non_utf8(_shipped_text("global_config.json")))
    line = _cli_line(capsys, ["run", "--global-config", str(path), "--no-repl"])
    assert str(path) in line and "not UTF-8" in line


def test_run_reports_an_unknown_home_directory_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config" / "global_config.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"paths": {"data_dir": "~nosuchuser-polymaker/x"}}))
    line = _cli_line(capsys, ["run", "--global-config", str(path), "--no-repl"])
    assert "paths.data_dir" in line and "no such user" in line


def test_run_reports_an_unknown_home_directory_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config" / "global_config.json"
    path.parent.mkdir()
    path.write_text("{}")
    argv = ["run", "--global-config", str(path), "--no-repl"]
    line = _cli_line(capsys, [*argv, "--filter-config", "~nosuchuser-polymaker/f.json"])
    assert "no such user" in line


def test_worker_reports_an_empty_status_file_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "params.json"
    path.write_text(json.dumps(valid_params(status_file="")))
    line = _cli_line(capsys, ["worker", str(path)])
    assert "status_file" in line and "empty" in line


def test_worker_reports_a_duplicate_key_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "params.json"
    path.write_bytes(_duplicate(json.dumps(valid_params(), indent=2)))
    line = _cli_line(capsys, ["worker", str(path)])
    assert "'topic_id'" in line and "appears twice" in line
