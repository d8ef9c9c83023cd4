"""The hand-over of a market to a spare worker: one JSON line on its stdin.

A spare is ``polymaker worker --await-params DATA_DIR``: it imports everything a worker needs
(the official SDK and its models: about 0.9 s of CPU on an idle machine, several seconds when
hundreds of workers share two cores), then blocks on stdin. The supervisor writes one line,
``{"params": "<PARAMS.json>", "output": "<raw output file>"}``, and closes the pipe; the spare
points its stdout and stderr at the output file and runs exactly like ``polymaker worker
PARAMS.json``. End of input before a line (the supervisor exited or died) means: exit 0, no
market was handed over. ``DATA_DIR`` only tags the command line, so a later supervisor and
``polymaker panic`` can tell this data directory's spares (and the workers they became) from
anything else on the machine.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from polymaker.errors import ConfigError

AWAIT_FLAG = "--await-params"


@dataclass(frozen=True)
class Handoff:
    """What a spare is told: its PARAMS file and where its raw stdout/stderr go."""

    params: Path
    output: Path

    def encode(self) -> bytes:
        """The line the supervisor writes to the spare's stdin."""
        document = {"params": str(self.params), "output": str(self.output)}
        return json.dumps(document).encode() + b"\n"


def read_handoff(stream: BinaryIO) -> Handoff | None:
    """The hand-over read from ``stream``; None at end of input (nothing was handed over).

    A line that is not the expected document is a ``ConfigError`` (exit 2): a spare never
    guesses which market it was given.
    """
    line = stream.readline()
    if not line.strip():
        return None
    try:
        document = json.loads(line)
        params, output = document["params"], document["output"]
    except (ValueError, TypeError, KeyError) as error:
        raise ConfigError(f"unreadable hand-over on stdin ({error!r}): {line[:200]!r}") from None
    if not isinstance(params, str) or not isinstance(output, str) or not params or not output:
        raise ConfigError(f"hand-over on stdin needs two non-empty paths: {line[:200]!r}")
    return Handoff(Path(params), Path(output))


def redirect_output(output: Path) -> None:
    """Send this process's stdout and stderr (file descriptors 1 and 2) to ``output``."""
    output.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.dup2(fd, 1)
        os.dup2(fd, 2)
    finally:
        os.close(fd)


def spare_argv(python: str, data_dir: Path) -> list[str]:
    """The command line of a spare worker for ``data_dir``."""
    return [python, "-m", "polymaker", "worker", AWAIT_FLAG, str(data_dir)]


def is_spare_cmdline(cmdline: list[str], data_dir: Path) -> bool:
    """True for ``... -m polymaker worker --await-params <data_dir>`` (a spare of that dir)."""
    return cmdline[-4:] == ["polymaker", "worker", AWAIT_FLAG, str(data_dir)]


__all__ = [
    "AWAIT_FLAG",
    "Handoff",
    "is_spare_cmdline",
    "read_handoff",
    "redirect_output",
    "spare_argv",
]
