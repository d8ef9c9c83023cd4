"""The worker template's forks: own session, stdio and title, nothing inherited, exit seen.

The template here is ``template_probe.py``: the real serving loop with a "worker" that reports
its own state instead of trading. The test process is a child subreaper, as the supervisor is,
so each forked worker becomes its child and its exit status is read with ``waitpid``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from polymaker.worker.template import ForkRequest

pytestmark = pytest.mark.integration
PROBE = Path(__file__).with_name("template_probe.py")


@pytest.fixture
def template(subreaper: None) -> Iterator[tuple[socket.socket, BinaryIO]]:
    ours, theirs = socket.socketpair()
    process = subprocess.Popen(
        [sys.executable, str(PROBE)], stdin=theirs.fileno(), start_new_session=True
    )
    theirs.close()
    reader = ours.makefile("rb")
    try:
        assert json.loads(reader.readline())["ready"] is True
        yield ours, reader
    finally:
        reader.close()
        ours.close()  # end of input: the template exits 0
        try:
            assert process.wait(timeout=10) == 0
        finally:
            if process.poll() is None:
                os.killpg(process.pid, 9)
                process.wait()


def _fork(template: tuple[socket.socket, BinaryIO], request: ForkRequest) -> dict[str, Any]:
    conn, reader = template
    conn.sendall(request.encode())
    return json.loads(reader.readline())


def test_a_forked_worker_owns_its_session_stdio_and_title_and_inherits_nothing(
    tmp_path: Path, template: tuple[socket.socket, BinaryIO]
) -> None:
    reports = []
    for n in range(2):
        params = tmp_path / "data" / "params" / f"t{n}.json"
        output = tmp_path / "logs" / f"t{n}.stdout.log"
        reply = _fork(template, ForkRequest(params, output, f"polymaker worker {params}"))
        _pid, status = os.waitpid(reply["pid"], 0)  # our child, not the template's
        assert os.waitstatus_to_exitcode(status) == 7
        reports.append(json.loads(output.read_text()))
    for n, report in enumerate(reports):
        assert report["pid"] == report["pgid"] == report["sid"], "its own session and group"
        assert report["ppid"] == os.getpid(), "re-parented to the subreaper"
        assert report["fds"] == [0, 1, 2, 3], "no inherited descriptor (3 is the listing's own)"
        assert report["stdin"] == os.devnull
        assert report["title"] == f"polymaker worker {tmp_path}/data/params/t{n}.json"
        assert report["threads"] == 1 and report["running_loop"] is False
        assert report["frozen"] > 0, "the template's frozen objects are shared, not collected"
    assert reports[0]["random"] != reports[1]["random"], "each fork has its own RNG state"


def test_a_bad_request_is_refused_and_the_template_goes_on(
    tmp_path: Path, template: tuple[socket.socket, BinaryIO]
) -> None:
    conn, reader = template
    conn.sendall(b'{"params": ""}\n')
    assert "not a fork request" in json.loads(reader.readline())["error"]
    params = tmp_path / "p.json"
    reply = _fork(template, ForkRequest(params, tmp_path / "out.log", "polymaker worker x"))
    _pid, status = os.waitpid(reply["pid"], 0)
    assert os.waitstatus_to_exitcode(status) == 7
