"""Stray children of a dead template are reaped; other children's exits are left alone."""

from __future__ import annotations

import os

import pytest

from polymaker.autorun.reaping import child_pids, reap_strays
from tests.polling import wait_for

pytestmark = pytest.mark.integration


def _child(title: str | None) -> int:
    pid = os.fork()
    if pid == 0:
        if title is not None:
            import setproctitle

            setproctitle.setproctitle(title)
        os._exit(0)
    return pid


def _is_zombie(pid: int) -> bool:
    with open(f"/proc/{pid}/stat") as handle:
        return handle.read().rsplit(")", 1)[1].split()[0] == "Z"


def test_only_unknown_zombies_titled_as_ours_are_reaped() -> None:
    stray = _child("polymaker worker /data/params/x.json")
    known = _child("polymaker worker /data/params/y.json")
    other = _child(None)
    try:
        wait_for(lambda: all(_is_zombie(pid) for pid in (stray, known, other)), 10, "exits")
        assert {stray, known, other} <= set(child_pids())
        assert reap_strays(known={known}) == [stray]
        assert stray not in child_pids()
    finally:
        for pid in (known, other):
            os.waitpid(pid, 0)
