"""Value types shared by the config models, each refusing what would only fail later.

A path is checked when the file is loaded, not when it is first opened: an empty path would
name the current directory, a NUL byte cannot reach the operating system, and ``~nosuchuser``
cannot be expanded; each of these used to end in a traceback at start-up or at the first write.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator

from polymaker.errors import ConfigError


def _path_problem(text: str) -> str | None:
    if not text.strip():
        return "must be a path, not an empty string"
    if "\0" in text:
        return "must not contain a NUL byte"
    if text.startswith("~"):
        try:
            Path(text).expanduser()
        except RuntimeError:
            return f"cannot expand {text!r}: no such user's home directory"
    return None


def expand_user(path: Path | str, *, key: str | None = None) -> Path:
    """``path`` with ``~`` / ``~user`` expanded (command-line paths); ConfigError if unusable."""
    problem = _path_problem(str(path))
    if problem is not None:
        raise ConfigError(problem, key=key)
    return Path(path).expanduser()


def _path_text(value: Any) -> Any:
    if not isinstance(value, str | Path):
        return value  # pydantic's own type error names the key
    problem = _path_problem(str(value))
    if problem is not None:
        raise ValueError(problem)
    return value


ConfigPath = Annotated[Path, BeforeValidator(_path_text)]
"""A file or directory path: non-empty, no NUL byte, any leading ``~user`` expandable."""

__all__ = ["ConfigPath", "expand_user"]
