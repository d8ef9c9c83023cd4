"""Typed, validated config models: one model per file, validated when loaded.

A failure names the file, the key and the problem, and maps to exit code 2.
"""

from polymaker.config._loading import (
    ConfigModel,
    load_config_file,
    parse_json_text,
    read_json_file,
    validate_config,
)

__all__ = [
    "ConfigModel",
    "load_config_file",
    "parse_json_text",
    "read_json_file",
    "validate_config",
]
