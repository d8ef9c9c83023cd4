"""Loading JSON config files into frozen pydantic models with actionable errors.

Every way a file can be unreadable ends in one ``ConfigError`` (exit 2) naming the file, the key
when there is one, and the problem; never in a traceback. ``read_json_file`` is the one reader
of the config files and PARAMS: it refuses bytes that are not UTF-8, duplicate keys (JSON lets
the last one win silently, which hides a mistake), nesting deeper than any config needs, and
reads integers too long to mean anything as a float, so the key's range check names them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from polymaker.errors import ConfigError
from polymaker.excerpt import excerpt

MAX_DEPTH = 32
"""Deepest nesting of objects and arrays accepted (the deepest config needs 4 levels)."""

MAX_INT_DIGITS = 30
"""Longer integers are read as floats: out of every key's range, but never an ``int()`` crash
(CPython refuses to convert more than 4,300 digits)."""


class ConfigModel(BaseModel):
    """Base of every config model: frozen, unknown keys rejected, no silent coercion of types."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False, validate_default=True)


M = TypeVar("M", bound=BaseModel)


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _key_path(location: Sequence[int | str]) -> str:
    parts: list[str] = []
    for item in location:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(f".{item}" if parts else str(item))
    return "".join(parts) or "(top level)"


def describe_validation_error(error: ValidationError) -> tuple[str, str]:
    """(key path, message) of the first problem; the count of the others is appended."""
    first = error.errors()[0]
    key = _key_path(tuple(first["loc"]))
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        message = "unknown key (check the spelling against docs/configuration.md)"
    elif "input" in first and first["type"] not in ("missing",):
        message = f"{message} (got {excerpt(first['input'])})"
    more = len(error.errors()) - 1
    if more:
        message += f"; and {more} more problem{'s' if more > 1 else ''}"
    return key, message


def validate_config(
    model: type[M],
    document: Any,
    *,
    file: Path | str | None = None,
    context: dict[str, Any] | None = None,
) -> M:
    """Validate ``document`` against ``model``; the first problem becomes a ``ConfigError``."""
    try:
        return model.model_validate(document, context=context)
    except ValidationError as error:
        key, message = describe_validation_error(error)
        raise ConfigError(message, file=file, key=key) from None


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise _DuplicateKey(key)
        document[key] = value
    return document


def _read_int(text: str) -> int | float:
    return int(text) if len(text.lstrip("-")) <= MAX_INT_DIGITS else float(text)


def _too_deep(document: Any) -> str | None:
    """The key path of the first value nested deeper than MAX_DEPTH, or None (iterative)."""
    stack: list[tuple[Any, tuple[int | str, ...]]] = [(document, ())]
    while stack:
        value, where = stack.pop()
        if len(where) > MAX_DEPTH:
            return _key_path(where)
        if isinstance(value, dict):
            stack.extend((item, (*where, key)) for key, item in value.items())
        elif isinstance(value, list):
            stack.extend((item, (*where, index)) for index, item in enumerate(value))
    return None


def parse_json_text(text: str, *, file: Path | str | None = None) -> Any:
    """A config document from JSON text; every problem is a ConfigError naming ``file``."""
    try:
        document = json.loads(text, object_pairs_hook=_refuse_duplicates, parse_int=_read_int)
    except _DuplicateKey as duplicate:
        raise ConfigError(
            "appears twice in one object (JSON would silently keep the last; remove one)",
            file=file,
            key=duplicate.key,
        ) from None
    except json.JSONDecodeError as error:
        raise ConfigError(
            f"not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})", file=file
        ) from None
    except RecursionError:
        raise ConfigError(f"nested deeper than {MAX_DEPTH} levels", file=file) from None
    deep = _too_deep(document)
    if deep is not None:
        raise ConfigError(f"nested deeper than {MAX_DEPTH} levels", file=file, key=deep)
    return document


def read_json_file(path: Path | str) -> Any:
    """Read one config or PARAMS file as JSON (the checks in the module docstring)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError("file not found", file=path) from None
    except OSError as error:
        raise ConfigError(f"cannot be read: {error.strerror or error}", file=path) from None
    except ValueError as error:  # a NUL byte in the path
        raise ConfigError(f"not a usable path: {error}", file=path) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ConfigError(
            f"not UTF-8 text (byte {error.start}, line {line}); save the file as UTF-8",
            file=path,
        ) from None
    return parse_json_text(text, file=path)


def load_config_file(model: type[M], path: Path | str) -> M:
    """Read a JSON config file and validate it; any problem is a ConfigError."""
    return validate_config(model, read_json_file(path), file=path)
