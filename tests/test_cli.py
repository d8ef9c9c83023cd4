"""The command dispatcher: usage errors exit 2, unbuilt commands say so and exit 1."""

from __future__ import annotations

import subprocess
import sys

from polymaker.cli import main


def test_unknown_command_is_usage_error(capsys):
    assert main(["no-such-command"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_missing_command_is_usage_error(capsys):
    assert main([]) == 2


def test_python_dash_m_runs_the_cli():
    result = subprocess.run(
        [sys.executable, "-m", "polymaker", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert "sim" in result.stdout and "worker" in result.stdout
