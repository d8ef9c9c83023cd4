"""Short, safe ``repr`` of outside data for error messages and logs.

A plain ``repr`` of a value from the wire or a config file can be megabytes long, or raise
``RecursionError`` when the value is nested a thousand deep (JSON parsers accept more depth
than ``repr`` does), turning an error message into a crash. ``excerpt`` bounds both.
"""

from __future__ import annotations

import reprlib

_REPR = reprlib.Repr()
_REPR.maxlevel = 3
_REPR.maxstring = 60
_REPR.maxother = 60


def excerpt(value: object) -> str:
    """``repr(value)`` cut to about 60 characters per string and 3 levels of nesting."""
    return _REPR.repr(value)


__all__ = ["excerpt"]
