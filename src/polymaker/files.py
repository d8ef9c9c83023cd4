"""State-file I/O: atomic writes (temp file, fsync, rename) and reads that never guess.

A state file that exists but cannot be parsed is an error naming the file; it is never replaced
by an empty default, because losing e.g. ``handled_topics.json`` would re-trade every market.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from polymaker.errors import StateFileError


def atomic_write_bytes(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Replace ``path`` with ``data`` so that a reader sees either the old or the new file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def atomic_write_json(path: Path, document: Any, *, mode: int = 0o644) -> None:
    """Write ``document`` as indented UTF-8 JSON atomically."""
    text = json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False, default=str)
    atomic_write_bytes(path, (text + "\n").encode("utf-8"), mode=mode)


def read_json_file(path: Path) -> Any:
    """Parse a JSON state file; raise ``StateFileError`` naming the file when it is unreadable."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise StateFileError(path, f"cannot be read: {error.strerror or error}") from error
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise StateFileError(path, f"is not UTF-8 text: {error}") from error
    except json.JSONDecodeError as error:
        raise StateFileError(
            path, f"is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from error
