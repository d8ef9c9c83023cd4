"""The spare hand-over line: encoded by the supervisor, read by the spare, nothing guessed."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from polymaker.errors import ConfigError
from polymaker.worker.handoff import Handoff, is_spare_cmdline, read_handoff, spare_argv

_PATH_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))


@given(params=_PATH_TEXT.filter(str.strip), output=_PATH_TEXT.filter(str.strip))
def test_what_the_supervisor_writes_the_spare_reads_back(params: str, output: str) -> None:
    sent = Handoff(Path(params), Path(output))
    assert read_handoff(io.BytesIO(sent.encode())) == sent


def test_end_of_input_means_no_market_was_handed_over() -> None:
    assert read_handoff(io.BytesIO(b"")) is None
    assert read_handoff(io.BytesIO(b"\n")) is None


@pytest.mark.parametrize(
    "line",
    [
        b"/tmp/params.json\n",
        b'{"params": "/tmp/p.json"}\n',
        b'{"params": 3, "output": "/tmp/o.log"}\n',
        b'{"params": "", "output": "/tmp/o.log"}\n',
        b"[1, 2]\n",
    ],
)
def test_a_line_that_is_not_a_hand_over_is_a_config_error(line: bytes) -> None:
    with pytest.raises(ConfigError, match="hand-over"):
        read_handoff(io.BytesIO(line))


def test_spare_command_lines_are_recognised_per_data_directory(tmp_path: Path) -> None:
    argv = spare_argv("/usr/bin/python3", tmp_path / "data")
    assert is_spare_cmdline(argv, tmp_path / "data")
    assert not is_spare_cmdline(argv, tmp_path / "other")
    assert not is_spare_cmdline(["python", "-m", "polymaker", "worker", "p.json"], tmp_path)
    assert not is_spare_cmdline([], tmp_path)
