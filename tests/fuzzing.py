"""Mutations of real documents for the fuzz tests (hypothesis strategies).

A mutated document is a recorded payload or a shipped config file with one to four edits, each
at a path drawn from the document itself: a value replaced by a hostile one (the values that
broke the parsers before: ``"²"``, ``1E+999999999``, microsecond and 21-digit timestamps,
thousands of digits, negative prices, NaN and infinities, wrong types), a key deleted, a key
added, a value wrapped in a list or nested deep. Starting from real documents keeps most of
each example valid, so the mutation reaches the code behind the first check.

``FUZZ_EXAMPLES`` (environment ``POLYMAKER_FUZZ_EXAMPLES``) sets the examples per test: small
in ``make test``, large in ``make fuzz``.
"""

from __future__ import annotations

import copy
import os
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from polymaker.excerpt import excerpt

FUZZ_EXAMPLES = int(os.environ.get("POLYMAKER_FUZZ_EXAMPLES", "120"))
FUZZ_SETTINGS = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=os.environ.get("POLYMAKER_FUZZ_RANDOM") is None,
)

HOSTILE_STRINGS = (
    "",
    " ",
    "²",
    "١٢٣",
    "0",
    "-0",
    "-0.5",
    "1.5",
    "0.5",
    "1",
    "NaN",
    "-Infinity",
    "Infinity",
    "1E+999999999",
    "1e999999",
    "1E-999999999",
    "0E-1000000",
    "1111111111111111111",
    "9" * 400,
    "9" * 5000,
    "0." + "1" * 80,
    "1725842520990000",
    "9" * 20,
    "9" * 21,
    "-1725842520",
    "12.5",
    "0x10",
    "true",
    "null",
    "BUY",
    "sell",
    "CANCELED_MARKET_RESOLVED",
    "TRADE_STATUS_CONFIRMED",
    "MATCHED",
    '["1", "2"]',
    "[]",
    "2026-13-45T99:99:99Z",
    "9999-12-31T23:59:59Z",
    "~nosuchuser-polymaker/x",
    "a\0b",
    "https://CLOB.polymarket.com:443/",
    "^(\\w+\\s?)*$",
    "(a)\\1",
    "\udcff",
)
HOSTILE_NUMBERS = (
    0,
    -1,
    1,
    10**30,
    -(10**30),
    10**400,
    2**63,
    1e-30,
    1e308,
    -1e308,
    float("inf"),
    float("-inf"),
    float("nan"),
    0.5,
    1.5,
    -0.5,
    1725842520990000,
)


_PATH_DEPTH = 12  # a deeper edit adds nothing (and nesting is one of the edits)


def hostile_values() -> st.SearchStrategy[Any]:
    """Scalars and small containers that a careless producer (or an attacker) could send."""
    scalars = st.one_of(
        st.sampled_from(HOSTILE_STRINGS),
        st.sampled_from(HOSTILE_NUMBERS),
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=12),
        st.decimals(allow_nan=True, allow_infinity=True).map(str),
    )
    return st.one_of(
        scalars,
        st.lists(scalars, max_size=3),
        st.dictionaries(st.sampled_from(["price", "size", "id", "x"]), scalars, max_size=2),
    )


def _paths(document: Any) -> list[tuple[Any, ...]]:
    """Every path to a value inside ``document`` down to ``_PATH_DEPTH`` (the root excluded)."""
    found: list[tuple[Any, ...]] = []
    stack: list[tuple[Any, tuple[Any, ...]]] = [(document, ())]
    while stack:
        value, prefix = stack.pop()
        if len(prefix) >= _PATH_DEPTH:
            continue
        if isinstance(value, dict):
            items: list[tuple[Any, Any]] = list(value.items())
        elif isinstance(value, list):
            items = list(enumerate(value))
        else:
            continue
        for key, item in items:
            path = (*prefix, key)
            found.append(path)
            stack.append((item, path))
    return found


def _parent(document: Any, path: tuple[Any, ...]) -> Any:
    for key in path[:-1]:
        document = document[key]
    return document


def _nested(value: Any, depth: int) -> Any:
    for _ in range(depth):
        value = [value]
    return value


class Sample:
    """A mutated document, with a short repr: hypothesis prints the failing example, and a
    value nested a thousand deep would crash its printer (RecursionError) and hide the bug."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"Sample({excerpt(self.value)})"


@st.composite
def mutated(
    draw: st.DrawFn,
    document: Any,
    max_edits: int = 4,
    depths: tuple[int, ...] = (1, 2, 50, 1100),
) -> Sample:
    """``document`` (unchanged) copied and edited 1..max_edits times (module docstring).

    ``depths``: how deep a value may be nested by one edit (1,100 passes both orjson's limit
    of 1,024 and CPython's recursion limit of 1,000).
    """
    result = copy.deepcopy(document)
    for _ in range(draw(st.integers(1, max_edits))):
        paths = _paths(result)
        if not paths:
            return Sample(draw(hostile_values()))
        path = draw(st.sampled_from(paths))
        parent, key = _parent(result, path), path[-1]
        edit = draw(st.sampled_from(["replace", "replace", "replace", "delete", "add", "wrap"]))
        if edit == "replace":
            parent[key] = draw(hostile_values())
        elif edit == "delete" and isinstance(parent, dict):
            del parent[key]
        elif edit == "delete":
            parent.pop(key)
        elif edit == "add" and isinstance(parent, dict):
            parent[draw(st.text(max_size=8))] = draw(hostile_values())
        elif edit == "add":
            parent.append(draw(hostile_values()))
        else:
            parent[key] = _nested(parent[key], draw(st.sampled_from(depths)))
    return Sample(result)


__all__ = ["FUZZ_EXAMPLES", "FUZZ_SETTINGS", "Sample", "hostile_values", "mutated"]
