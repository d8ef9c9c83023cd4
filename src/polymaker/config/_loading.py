"""Loading JSON config files into frozen pydantic models with actionable errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from polymaker.errors import ConfigError


class ConfigModel(BaseModel):
    """Base of every config model: frozen, unknown keys rejected, no silent coercion of types."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False, validate_default=True)


M = TypeVar("M", bound=BaseModel)


def _key_path(location: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in location:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(f".{item}" if parts else str(item))
    return "".join(parts) or "(top level)"


def validate_config(model: type[M], document: Any, *, file: Path | str | None = None) -> M:
    """Validate ``document`` against ``model``; the first problem becomes a ``ConfigError``."""
    try:
        return model.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        key = _key_path(tuple(first["loc"]))
        message = first["msg"]
        if first["type"] == "extra_forbidden":
            message = "unknown key (check the spelling against docs/configuration.md)"
        elif "input" in first and first["type"] not in ("missing",):
            message = f"{message} (got {first['input']!r})"
        more = len(error.errors()) - 1
        if more:
            message += f"; and {more} more problem{'s' if more > 1 else ''}"
        raise ConfigError(message, file=file, key=key) from None


def load_config_file(model: type[M], path: Path | str) -> M:
    """Read a JSON config file and validate it; a missing or malformed file is a ConfigError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", file=path) from None
    except OSError as error:
        raise ConfigError(f"cannot be read: {error.strerror or error}", file=path) from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(
            f"not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})", file=path
        ) from None
    return validate_config(model, document, file=path)
