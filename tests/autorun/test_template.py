"""The supervisor's worker template with the real template process: ready, fork, lost, back."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from polymaker.autorun.processes import WorkerProcess, worker_env, worker_title
from polymaker.autorun.template import WorkerTemplate
from polymaker.worker.template import ForkRequest
from tests.polling import wait_for

pytestmark = pytest.mark.integration


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def made(tmp_path: Path, subreaper: None) -> Iterator[tuple[WorkerTemplate, _Clock]]:
    clock = _Clock()
    template = WorkerTemplate(
        data_dir=tmp_path / "data",
        output_file=tmp_path / "template.log",
        env=worker_env(),
        rng=random.Random(1),
        clock=clock,
    )
    try:
        yield template, clock
    finally:
        asyncio.run(template.close())


def _ready(template: WorkerTemplate) -> int:
    def check() -> bool:
        template.maintain()
        return template.ready

    wait_for(check, 90, "the template's imports")
    assert template.pid is not None
    return template.pid


def _fork_bad_params(template: WorkerTemplate, tmp_path: Path, name: str) -> WorkerProcess:
    params = tmp_path / "data" / "params" / f"{name}.json"
    params.parent.mkdir(parents=True, exist_ok=True)
    params.write_text(json.dumps({"topic_id": name}))  # invalid: the worker exits 2
    output = tmp_path / f"{name}.stdout.log"
    pid = template.fork(ForkRequest(params, output, worker_title(params)))
    assert pid is not None
    return WorkerProcess(pid, name, output, forked=True)


def test_a_forked_worker_is_reaped_by_the_supervisor_with_its_exit_code(
    tmp_path: Path, made: tuple[WorkerTemplate, _Clock]
) -> None:
    template, _clock = made
    template.maintain()
    assert template.holds_launches(), "the run's first template is awaited"
    _ready(template)
    assert not template.holds_launches()
    worker = _fork_bad_params(template, tmp_path, "bad")
    assert asyncio.run(worker.wait(30)) == 2, "invalid params: exit 2, seen by its parent"
    assert "polymaker worker:" in (tmp_path / "bad.stdout.log").read_text()
    assert template.forks == 1


def test_a_dead_template_means_cold_starts_until_it_is_restarted(
    tmp_path: Path, made: tuple[WorkerTemplate, _Clock]
) -> None:
    template, clock = made
    first = _ready(template)
    os.killpg(first, signal.SIGKILL)
    wait_for(lambda: (template.maintain(), not template.ready)[1], 10, "the loss noticed")
    params = tmp_path / "p.json"
    assert template.fork(ForkRequest(params, tmp_path / "o.log", "polymaker worker x")) is None
    template.maintain()
    assert template.pid is None, "not restarted before its delay"
    clock.now += 120
    second = _ready(template)
    assert second != first
    worker = _fork_bad_params(template, tmp_path, "after")
    assert asyncio.run(worker.wait(30)) == 2
