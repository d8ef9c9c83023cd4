"""Validation of POST /_sim/markets bodies (private to drill.universe)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any


class MarketSpecError(ValueError):
    """A POST /_sim/markets body is invalid; the message names the key and the problem."""


def spec_decimal(spec: dict[str, Any], key: str, default: Decimal | None = None) -> Decimal:
    value = spec.get(key)
    if value is None:
        if default is None:
            raise MarketSpecError(f"{key}: missing")
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise MarketSpecError(f"{key}: must be a number")
    try:
        return Decimal(str(value))
    except ArithmeticError:
        raise MarketSpecError(f"{key}: {value!r} is not a number") from None


def parse_spec(spec: dict[str, Any]) -> tuple[str, int, Decimal, Decimal]:
    question = spec.get("question")
    if not isinstance(question, str) or not question.strip():
        raise MarketSpecError("question: missing or empty")
    end_text = spec.get("end_date")
    try:
        end = datetime.fromisoformat(str(end_text).replace("Z", "+00:00"))
    except ValueError:
        raise MarketSpecError(f"end_date: {end_text!r} is not ISO 8601") from None
    if end.tzinfo is None:
        end = end.replace(tzinfo=UTC)
    yes_price = spec_decimal(spec, "yes_price")
    if not Decimal(0) < yes_price < Decimal(1):
        raise MarketSpecError(f"yes_price: {yes_price} must be between 0 and 1")
    volume = spec_decimal(spec, "volume")
    if volume < 0:
        raise MarketSpecError("volume: must not be negative")
    return question.strip(), int(end.timestamp() * 1000), yes_price, volume
