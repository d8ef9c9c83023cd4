"""Regular expressions written by users, matched in time linear in the text (RE2).

A pattern such as ``^(\\w+\\s?)*$`` makes Python's backtracking ``re`` run for hours on a long
market question; matched on the supervisor's event loop it froze the supervisor (deaf even to
SIGTERM), and in the screener it made every screen time out. RE2 (Google's engine, the
``google-re2`` package) guarantees linear time and bounded memory instead, at the price of the
few features that need backtracking: backreferences (``\\1``), lookaround (``(?=``, ``(?<=``),
atomic groups and possessive quantifiers. A pattern that uses them, or that would need more
than ``MAX_MEMORY_BYTES`` to compile, is refused when the config file is loaded, with RE2's
reason. Everything else of Python's syntax that the config files use (``\\b``, classes,
alternation, ``(?i)``, named groups) works as before; ``\\w``, ``\\d`` and ``\\b`` are ASCII.

Every user pattern is searched case-insensitively (as both config files document).
"""

from __future__ import annotations

import functools
from typing import Any

import re2

MAX_PATTERN_LENGTH = 1000
"""Longer patterns are refused: no blacklist or override needs one, and compiling is not free."""

MAX_MEMORY_BYTES = 1 << 23
"""RE2's memory budget for one compiled pattern (8 MiB); a bigger automaton is refused."""


def _options() -> Any:
    """Case-insensitive, bounded memory, and errors raised rather than logged to stderr."""
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False
    options.max_mem = MAX_MEMORY_BYTES
    return options


def regex_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be used as a user regex, or None when it can (see the docstring)."""
    if not pattern:
        return "is empty (it would match everything)"
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"is longer than {MAX_PATTERN_LENGTH} characters"
    try:
        _compiled(pattern)
    except UnicodeEncodeError:
        return "is not valid text (it holds a lone UTF-16 surrogate such as \\ud800)"
    except re2.error as error:
        reason = error.args[0] if error.args else error
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        return (
            f"is not a valid regex for the linear-time matcher RE2 ({reason}); "
            "backreferences and lookaround are not supported (docs/configuration.md)"
        )
    return None


@functools.lru_cache(maxsize=512)
def _compiled(pattern: str) -> Any:
    return re2.compile(pattern, _options())


def user_regex_search(pattern: str, text: str) -> bool:
    """True when ``pattern`` (checked with ``regex_problem`` at load) is found in ``text``.

    Linear in ``len(text)``: safe on any event loop, for any market text the venue sends. RE2
    matches UTF-8, so a lone surrogate (JSON's ``"\\ud800"`` decodes to one) is replaced first.
    """
    try:
        return _compiled(pattern).search(text) is not None
    except UnicodeEncodeError:
        clean = text.encode("utf-8", "replace").decode("utf-8")
        return _compiled(pattern).search(clean) is not None


__all__ = ["MAX_MEMORY_BYTES", "MAX_PATTERN_LENGTH", "regex_problem", "user_regex_search"]
