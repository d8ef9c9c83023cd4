"""Config validation errors name the file, the key and the problem."""

from __future__ import annotations

import pytest
from pydantic import Field

from polymaker.config import ConfigModel, load_config_file
from polymaker.errors import ConfigError


class _Example(ConfigModel):
    hours: float = Field(default=1.0, ge=0)
    name: str = "x"


def test_unknown_key_is_named(tmp_path):
    path = tmp_path / "c.json"
    path.write_text('{"hourz": 3}')
    with pytest.raises(ConfigError) as info:
        load_config_file(_Example, path)
    assert info.value.key == "hourz"
    assert str(path) in str(info.value)
    assert info.value.exit_code == 2


def test_range_violation_is_named(tmp_path):
    path = tmp_path / "c.json"
    path.write_text('{"hours": -1}')
    with pytest.raises(ConfigError, match="hours"):
        load_config_file(_Example, path)


def test_bad_json_is_named(tmp_path):
    path = tmp_path / "c.json"
    path.write_text("{")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_config_file(_Example, path)


def test_valid_file_loads(tmp_path):
    path = tmp_path / "c.json"
    path.write_text('{"hours": 2.5}')
    assert load_config_file(_Example, path).hours == 2.5
