"""CLOB market metadata: ``GET /markets/{condition_id}`` (the verbose market object).

The worker uses it to re-check tradability and the tick grid. This endpoint serves
``minimum_tick_size``/``minimum_order_size`` as JSON *numbers* (V1-era deployments) or strings;
both are read through ``str()``, which gives the shortest round-trip text of a float
(``0.001`` -> ``Decimal("0.001")``), never a binary-float artefact. Token ``price`` floats are
display values and are not read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from polymaker.excerpt import excerpt
from polymaker.exchange.wire import _fields as f
from polymaker.exchange.wire._fields import WireError


@dataclass(frozen=True, slots=True)
class MarketToken:
    """One outcome token of a market."""

    token_id: str
    outcome: str
    winner: bool | None


@dataclass(frozen=True, slots=True)
class ClobMarket:
    """What decides whether and how the market can be traded."""

    condition_id: str
    question: str | None
    slug: str | None
    tokens: tuple[MarketToken, ...]
    tick_size: Decimal
    min_order_size: Decimal
    neg_risk: bool
    active: bool
    closed: bool
    accepting_orders: bool
    enable_order_book: bool
    end_time: datetime | None

    @property
    def is_tradable(self) -> bool:
        """Open for new orders: active, not closed, accepting orders, with an order book."""
        return self.active and not self.closed and self.accepting_orders and self.enable_order_book


def decimal_from_number(obj: Mapping[str, Any], key: str) -> Decimal:
    """A decimal served as a JSON number or string (this endpoint only; see module doc)."""
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise WireError(key, f"expected a number, got {excerpt(value)}")
    try:
        text = str(value)  # ValueError for an int of more than 4,300 digits
        if len(text) > f.MAX_DECIMAL_TEXT:
            raise WireError(key, f"number text longer than {f.MAX_DECIMAL_TEXT} characters")
        result = Decimal(text)
    except (InvalidOperation, ValueError):
        raise WireError(key, f"not a usable decimal ({type(value).__name__})") from None
    if not result.is_finite() or result <= 0:
        raise WireError(key, f"expected a positive number, got {excerpt(value)}")
    return f.bounded(result, key)


def _flag(obj: Mapping[str, Any], key: str) -> bool:
    value = f.optional_bool(obj, key)
    if value is None:
        raise WireError(key, "missing true/false")
    return value


def _tokens(obj: Mapping[str, Any]) -> tuple[MarketToken, ...]:
    raw = obj.get("tokens")
    if not isinstance(raw, list):
        raise WireError("tokens", "expected a list")
    tokens = []
    for item in raw:
        token = f.require_mapping(item, "tokens")
        tokens.append(
            MarketToken(
                token_id=f.text(token, "token_id"),
                outcome=f.text(token, "outcome"),
                winner=f.optional_bool(token, "winner"),
            )
        )
    return tuple(tokens)


def parse_clob_market(payload: object) -> ClobMarket:
    """The ``/markets/{condition_id}`` body; raises WireError (UnexpectedResponseError)."""
    obj = f.require_mapping(payload, "market")
    tick_size = decimal_from_number(obj, "minimum_tick_size")
    if tick_size >= 1:
        raise WireError("minimum_tick_size", f"tick size {tick_size} >= 1")
    end_text = f.optional_text(obj, "end_date_iso")
    try:
        end_time = None if end_text is None else datetime.fromisoformat(end_text)
    except ValueError:
        raise WireError("end_date_iso", f"not ISO 8601: {excerpt(end_text)}") from None
    if end_time is not None and end_time.tzinfo is None:
        end_time = end_time.replace(tzinfo=UTC)
    return ClobMarket(
        condition_id=f.text(obj, "condition_id"),
        question=f.optional_text(obj, "question"),
        slug=f.optional_text(obj, "market_slug"),
        tokens=_tokens(obj),
        tick_size=tick_size,
        min_order_size=decimal_from_number(obj, "minimum_order_size"),
        neg_risk=_flag(obj, "neg_risk"),
        active=_flag(obj, "active"),
        closed=_flag(obj, "closed"),
        accepting_orders=_flag(obj, "accepting_orders"),
        enable_order_book=_flag(obj, "enable_order_book"),
        end_time=end_time,
    )


__all__ = ["ClobMarket", "MarketToken", "parse_clob_market"]
