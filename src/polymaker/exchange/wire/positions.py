"""Data API v2 positions: what the venue says a wallet holds (``GET /v2/positions``).

The Data API is an indexer view (polymarket_api.md 6): snake_case fields, numbers served as
JSON numbers (``current_size: 400000.0``), ``{"data": [...], "pagination": {"has_more",
"next_cursor"}}`` envelopes. Only what the account limits and the status need is read:
token, market, size, average price and whether it can be redeemed. A number is taken through
its text (``Decimal(str(x))``), so 0.1 stays 0.1; a missing, negative, absurdly large or
non-finite size (or a price outside [0, 1]) is a ``WireError`` (the row is skipped by the
caller, never counted as zero).
Fixture: ``data_api_v2_positions_items_2026-09.json``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from polymaker.exchange.wire import _fields as f
from polymaker.exchange.wire._fields import WireError


@dataclass(frozen=True, slots=True)
class Position:
    """One held outcome: ``size`` shares of ``token_id`` bought at ``avg_price`` on average."""

    token_id: str
    condition_id: str
    size: Decimal
    avg_price: Decimal
    redeemable: bool


_MAX_SHARES = Decimal(10) ** 12  # more than every share of any market ever listed
_BOUNDS = {"current_size": _MAX_SHARES, "avg_price": Decimal(1)}


def _number(obj: Mapping[str, Any], key: str) -> Decimal:
    """A JSON number in [0, bound of ``key``]: a size or a price a position can have."""
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise WireError(key, f"expected a number, got {value!r}")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise WireError(key, f"not a decimal: {value!r}") from None
    if not number.is_finite() or not 0 <= number <= _BOUNDS[key]:
        raise WireError(key, f"expected a number in [0, {_BOUNDS[key]}], got {value!r}")
    return number


def parse_position(item: object) -> Position:
    """One ``/v2/positions`` row; WireError when it lacks what the limits need."""
    obj = f.require_mapping(item, "position")
    return Position(
        token_id=f.text(obj, "token_id"),
        condition_id=f.text(obj, "condition_id"),
        size=_number(obj, "current_size"),
        avg_price=_number(obj, "avg_price"),
        redeemable=f.optional_bool(obj, "redeemable") is True,
    )


def parse_positions_page(document: object) -> tuple[list[object], str | None]:
    """The rows and the next cursor of one envelope (None: last page)."""
    envelope = f.require_mapping(document, "positions page")
    rows = envelope.get("data")
    if not isinstance(rows, list):
        raise WireError("data", "expected an array of positions")
    pagination = envelope.get("pagination")
    cursor = None
    if isinstance(pagination, Mapping) and pagination.get("has_more") is True:
        cursor = f.optional_text(pagination, "next_cursor")
    return rows, cursor


__all__ = ["Position", "parse_position", "parse_positions_page"]
