"""``polymaker screen``: bad config exits 2, an unreachable exchange exits 1, --out survives."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from polymaker.cli import main
from polymaker.errors import ConfigError
from polymaker.screener.cli import exchange_urls_from_global
from tests.conftest import REPO_ROOT


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fast_config(tmp_path: Path, **extra) -> Path:
    path = tmp_path / "filter_params.json"
    path.write_text(json.dumps({"retries": 1, "backoff_base_s": 0.01, "timeout_s": 2, **extra}))
    return path


def test_invalid_filter_config_exits_2_naming_file_key_problem(tmp_path, capsys):
    path = tmp_path / "filter_params.json"
    path.write_text(json.dumps({"ask_min": 0.99, "ask_max": 0.5}))
    out = tmp_path / "out.json"
    code = main(["screen", "--filter-config", str(path), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert str(path) in err and "ask_max" in err and "must be <= ask_max" in err
    assert not out.exists()


def test_unknown_key_exits_2(tmp_path, capsys):
    path = tmp_path / "f.json"
    path.write_text(json.dumps({"max_end_hourz": 3}))
    assert main(["screen", "--filter-config", str(path)]) == 2
    assert "max_end_hourz" in capsys.readouterr().err


def test_unreachable_exchange_exits_1_and_keeps_the_previous_result(tmp_path, capsys):
    out = tmp_path / "topics_filtered.json"
    out.write_text('{"previous": true}\n')
    url = f"http://127.0.0.1:{closed_port()}"
    code = main([
        "screen", "--filter-config", str(fast_config(tmp_path)), "--gamma-url", url,
        "--clob-url", url, "--out", str(out), "--global-config", str(tmp_path / "none.json"),
    ])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1
    assert f"{url}/markets/keyset" in err and "ConnectError" in err and "gave up after 2" in err
    assert out.read_text() == '{"previous": true}\n'


def test_global_config_urls_are_read_only_when_set(tmp_path):
    path = tmp_path / "global_config.json"
    assert exchange_urls_from_global(path) == {}
    path.write_text(json.dumps({"exchange": {"gamma_url": None, "clob_url": None}}))
    assert exchange_urls_from_global(path) == {}
    path.write_text(json.dumps({"exchange": {"gamma_url": "http://g/", "clob_url": "http://c"}}))
    assert exchange_urls_from_global(path) == {"gamma_url": "http://g", "clob_url": "http://c"}
    path.write_text(json.dumps({"exchange": {"gamma_url": 5}}))
    with pytest.raises(ConfigError) as info:
        exchange_urls_from_global(path)
    assert info.value.key == "exchange.gamma_url" and info.value.exit_code == 2
    path.write_text("{broken")
    with pytest.raises(ConfigError):
        exchange_urls_from_global(path)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"exchange": {}, "exchange": {}}', "appears twice"),
        ('{"max_concurrent_workers": ' + "9" * 5000 + "}", None),
        ("[" * 5000 + "]" * 5000, "nested deeper"),
    ],
)
def test_global_config_is_read_as_every_config_file_is(tmp_path, text, problem):
    path = tmp_path / "global_config.json"
    path.write_text(text)
    if problem is None:  # the screener only reads the URLs: a huge number elsewhere is no crash
        assert exchange_urls_from_global(path) == {}
        return
    with pytest.raises(ConfigError, match=problem):
        exchange_urls_from_global(path)


def test_global_config_urls_are_used(tmp_path, capsys):
    url = f"http://127.0.0.1:{closed_port()}"
    global_config = tmp_path / "global_config.json"
    global_config.write_text(json.dumps({"exchange": {"gamma_url": url, "clob_url": url}}))
    code = main([
        "screen", "--filter-config", str(fast_config(tmp_path)),
        "--global-config", str(global_config), "--out", str(tmp_path / "o.json"),
    ])  # fmt: skip
    assert code == 1 and url in capsys.readouterr().err


def test_bad_url_flag_exits_2(tmp_path, capsys):
    code = main(["screen", "--filter-config", str(fast_config(tmp_path)), "--gamma-url", "ftp://x"])
    assert code == 2 and "gamma" in capsys.readouterr().err


def test_reference_entry_point_forwards_flags(tmp_path):
    path = tmp_path / "f.json"
    path.write_text(json.dumps({"min_end_hours": -1}))
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "Customize_fliter_blacklist.py"),
         "--filter-config", str(path)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2 and "min_end_hours" in done.stderr


def test_progress_bars_track_both_stages():
    from polymaker.screener.cli import _RichProgress

    with _RichProgress() as progress:
        progress.advance("listing")
        progress.advance("listing")
        progress.advance("books", 1, None)
        tasks = {task.description: task.completed for task in progress._bar.tasks}
    assert tasks == {"listing pages": 2, "order book batches": 1}
