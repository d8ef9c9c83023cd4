"""Atomic state-file writes and reads that name the file on failure."""

from __future__ import annotations

import json
import os

import pytest

from polymaker.errors import StateFileError
from polymaker.files import atomic_write_json, read_json_file


def test_atomic_write_replaces_whole_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "sub" / "state.json"
    atomic_write_json(target, {"a": 1})
    atomic_write_json(target, {"b": [1, 2]})
    assert json.loads(target.read_text()) == {"b": [1, 2]}
    assert [p.name for p in target.parent.iterdir()] == ["state.json"]


def test_atomic_write_mode_is_applied(tmp_path):
    target = tmp_path / "secret.json"
    atomic_write_json(target, {"k": "v"}, mode=0o600)
    assert os.stat(target).st_mode & 0o777 == 0o600


def test_corrupt_file_is_an_error_naming_it_and_is_left_untouched(tmp_path):
    target = tmp_path / "handled_topics.json"
    target.write_text('{"topics": [')
    with pytest.raises(StateFileError) as info:
        read_json_file(target)
    assert str(target) in str(info.value)
    assert "not valid JSON" in str(info.value)
    assert target.read_text() == '{"topics": ['


def test_missing_file_is_an_error(tmp_path):
    with pytest.raises(StateFileError, match="cannot be read"):
        read_json_file(tmp_path / "absent.json")
