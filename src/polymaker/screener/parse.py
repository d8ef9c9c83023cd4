"""Gamma market rows and CLOB books -> typed values, at the edge (polymarket_api.md 2.3, 3.1).

Gamma quirks handled here: ``clobTokenIds``, ``outcomes`` and ``outcomePrices`` are JSON text
inside the JSON; money is a decimal string on one key and a JSON number on its twin
(``volume`` / ``volumeNum``); ``negRisk`` and the volume figures may be missing; v2 markets
trade their ``positionIds``. A row that cannot be read becomes a ``Rejection`` with the reason,
never an exception, so one bad row cannot stop a screen.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from polymaker.excerpt import excerpt
from polymaker.screener.model import Candidate, Quote, Reason, Rejection


class _Malformed(ValueError):
    """A field has a shape Gamma does not send; the message names the field."""


class _NotTradableShape(Exception):
    """Well-formed, but not a two-token market (no token ids, or more than two)."""

    def __init__(self, reason: Reason, detail: str) -> None:
        self.reason = reason
        self.detail = detail


def parse_market(row: Any) -> Candidate | Rejection:
    """One Gamma market object -> ``Candidate``, or a ``Rejection`` saying what is wrong."""
    if not isinstance(row, Mapping):
        return Rejection(None, None, Reason.MALFORMED, f"row is a {type(row).__name__}")
    market_id = _text_id(row.get("id"))
    slug = row.get("slug") if isinstance(row.get("slug"), str) else None
    try:
        return _parse(row, market_id, slug)
    except _Malformed as error:
        return Rejection(market_id, slug, Reason.MALFORMED, str(error))
    except _NotTradableShape as refusal:
        return Rejection(market_id, slug, refusal.reason, refusal.detail)


def _parse(row: Mapping[str, Any], market_id: str | None, slug: str | None) -> Candidate:
    if market_id is None:
        raise _Malformed("missing id")
    if not slug:
        raise _Malformed("missing slug")
    condition_id = row.get("conditionId")
    if not isinstance(condition_id, str) or not condition_id:
        raise _Malformed("missing conditionId")
    yes_token, no_token, outcomes = _tokens(row)
    event = _first_event(row.get("events"))
    question = row.get("question") or row.get("title") or ""
    if not isinstance(question, str):
        raise _Malformed("question is not text")
    return Candidate(
        market_id=market_id,
        condition_id=condition_id,
        slug=slug,
        question=question,
        event_id=_text_id(event.get("id")) if event else None,
        event_slug=_opt_text(event.get("slug")) if event else None,
        event_title=_opt_text(event.get("title")) if event else None,
        tags=_tags(row.get("tags")),
        end_time=_end_time(row.get("endDate")),
        yes_token=yes_token,
        no_token=no_token,
        outcomes=outcomes,
        active=_flag(row, "active", default=False),
        closed=_flag(row, "closed", default=False),
        archived=_flag(row, "archived", default=False),
        accepting_orders=_flag(row, "acceptingOrders", default=False),
        enable_order_book=_flag(row, "enableOrderBook", default=False),
        tick_size=_decimal(row, "orderPriceMinTickSize"),
        min_order_size=_decimal(row, "orderMinSize"),
        neg_risk=_opt_flag(row, "negRisk"),
        volume_total=_first_decimal(row, "volumeNum", "volume"),
        volume_24h=_first_decimal(row, "volume24hr"),
        liquidity=_first_decimal(row, "liquidityNum", "liquidity"),
        gamma_bid=_decimal(row, "bestBid"),
        gamma_ask=_decimal(row, "bestAsk"),
        version=_opt_text(row.get("version")),
    )


def _tokens(row: Mapping[str, Any]) -> tuple[str, str, tuple[str, str]]:
    """(YES token, NO token, outcome labels), ordered by the ``outcomes`` labels."""
    key = "positionIds" if row.get("version") == "v2" else "clobTokenIds"
    tokens = _json_list(row.get(key), key)
    if not tokens:
        raise _NotTradableShape(Reason.NO_TOKENS, f"{key} empty or missing")
    if len(tokens) != 2:
        raise _NotTradableShape(Reason.NOT_BINARY, f"{len(tokens)} tokens")
    ids = tuple(_token_text(token, key) for token in tokens)
    labels_raw = _json_list(row.get("outcomes"), "outcomes") or ["Yes", "No"]
    if len(labels_raw) != 2 or not all(isinstance(label, str) for label in labels_raw):
        raise _Malformed(f"outcomes {excerpt(labels_raw)} do not match the 2 tokens")
    labels = (labels_raw[0], labels_raw[1])
    if labels[0].lower() == "no" and labels[1].lower() == "yes":
        return ids[1], ids[0], (labels[1], labels[0])
    return ids[0], ids[1], labels


def _json_list(value: Any, key: str) -> list[Any]:
    """A list that Gamma sends either as JSON text or natively; missing/null/"" -> []."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            raise _Malformed(f"{key} is not JSON text") from None
    if not isinstance(value, list):
        raise _Malformed(f"{key} is not a list")
    return value


def _token_text(token: Any, key: str) -> str:
    if isinstance(token, str) and token.isdigit():
        return token
    if isinstance(token, int) and not isinstance(token, bool) and token >= 0:
        return str(token)
    raise _Malformed(f"{key} holds a non-numeric token id {excerpt(token)}")


def _first_event(value: Any) -> Mapping[str, Any] | None:
    if isinstance(value, list) and value and isinstance(value[0], Mapping):
        return value[0]
    return None


def _tags(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    labels: list[str] = []
    for tag in value:
        if isinstance(tag, str):
            labels.append(tag)
        elif isinstance(tag, Mapping):
            label = tag.get("label") or tag.get("slug")
            if isinstance(label, str):
                labels.append(label)
    return tuple(labels)


def _end_time(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _Malformed("endDate is not text")
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise _Malformed(f"endDate {value!r} is not ISO 8601") from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _flag(row: Mapping[str, Any], key: str, *, default: bool) -> bool:
    value = _opt_flag(row, key)
    return default if value is None else value


def _opt_flag(row: Mapping[str, Any], key: str) -> bool | None:
    value = row.get(key)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _Malformed(f"{key} is not true/false: {excerpt(value)}")


def to_decimal(value: Any) -> Decimal | None:
    """A wire number (decimal string or JSON number) as ``Decimal``; None/"" -> None.

    A JSON float goes through its text so 0.955 stays 0.955 (not its binary expansion), and
    "1,234.5" is read as 1234.5. Raises ValueError for text that is not a finite number, and
    for booleans. Called ~7 times per market, so the common types are tested first.
    """
    kind = type(value)
    if kind is str:
        if not value:
            return None
        try:
            number = Decimal(value)
        except InvalidOperation:
            number = _lenient_decimal(value)
    elif kind is float:
        number = Decimal(repr(value))
    elif kind is int:
        number = Decimal(value)
    elif value is None:
        return None
    else:
        raise ValueError(f"{excerpt(value)} is not a number")
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return number


def _lenient_decimal(text: str) -> Decimal:
    try:
        return Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number") from None


def _decimal(row: Mapping[str, Any], key: str) -> Decimal | None:
    try:
        return to_decimal(row.get(key))
    except ValueError as error:
        raise _Malformed(f"{key}: {error}") from None


def _first_decimal(row: Mapping[str, Any], *keys: str) -> Decimal:
    for key in keys:
        value = _decimal(row, key)
        if value is not None:
            return value
    return Decimal(0)


def _text_id(value: Any) -> str | None:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _opt_text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def parse_book(book: Any) -> tuple[str, Quote]:
    """One ``/books`` entry -> (token id, top of book). Raises ValueError on a wrong shape.

    Best bid = max of the bid prices, best ask = min of the ask prices: the venue lists levels
    worst -> best, but nothing here relies on the order. Levels of size 0 are ignored.
    """
    if not isinstance(book, Mapping):
        raise ValueError(f"book is a {type(book).__name__}")
    token = _text_id(book.get("asset_id")) or _text_id(book.get("token_id"))
    if token is None:
        raise ValueError("book without asset_id")
    bids = _level_prices(book.get("bids"), "bids")
    asks = _level_prices(book.get("asks"), "asks")
    neg_risk = book.get("neg_risk")
    return token, Quote(
        bid=max(bids) if bids else None,
        ask=min(asks) if asks else None,
        tick_size=to_decimal(book.get("tick_size")),
        min_order_size=to_decimal(book.get("min_order_size")),
        neg_risk=neg_risk if isinstance(neg_risk, bool) else None,
    )


def _level_prices(levels: Any, side: str) -> list[Decimal]:
    """The prices of the levels with a positive size.

    The hot loop of a screen (every level of every book), so it calls ``Decimal`` directly
    instead of going through ``to_decimal``.
    """
    if levels is None:
        return []
    if not isinstance(levels, list):
        raise ValueError(f"{side} is not a list")
    prices: list[Decimal] = []
    try:
        for level in levels:
            price = _wire_decimal(level["price"])
            if not price.is_finite():
                raise InvalidOperation
            if _wire_decimal(level["size"]) > 0:
                prices.append(price)
    except (TypeError, KeyError, InvalidOperation):
        raise ValueError(f"{side} has a level without a numeric price and size") from None
    return prices


def _wire_decimal(value: Any) -> Decimal:
    if type(value) is str:
        return Decimal(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(str(value))
    raise TypeError(f"{excerpt(value)} is not a number")


__all__ = ["parse_book", "parse_market", "to_decimal"]
