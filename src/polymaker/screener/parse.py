"""Decoded Gamma market rows -> ``Candidate`` (polymarket_api.md 2.3).

``wire`` has already checked the JSON types and made money ``Decimal``; what is left are the
Gamma quirks that types cannot say: ``clobTokenIds`` and ``outcomes`` are JSON text inside
the JSON, money sits on a decimal string and its number twin (``volume`` / ``volumeNum``),
either of which may be missing, and v2 markets trade their ``positionIds``. A row that cannot be
read becomes a ``Rejection`` with the reason, never an exception, so one bad row cannot stop a
screen.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import msgspec

from polymaker.screener.model import Candidate, Reason, Rejection
from polymaker.screener.wire import GammaEvent, GammaMarket, GammaTag, Row, TokenIds, decode_row

_ZERO = Decimal(0)
_json_list = msgspec.json.Decoder(list[str | int])


class _Malformed(ValueError):
    """A field has a shape Gamma does not send; the message names the field."""


class _NotTradableShape(Exception):
    """Well-formed, but not a two-token market (no token ids, or more than two)."""

    def __init__(self, reason: Reason, detail: str) -> None:
        self.reason = reason
        self.detail = detail


def parse_market(row: Row) -> Candidate | Rejection:
    """One decoded Gamma market -> ``Candidate``, or a ``Rejection`` saying what is wrong."""
    if isinstance(row, Rejection):
        return row
    market_id = _text_id(row.id)
    try:
        return _parse(row, market_id)
    except _Malformed as error:
        return Rejection(market_id, row.slug or None, Reason.MALFORMED, str(error))
    except _NotTradableShape as refusal:
        return Rejection(market_id, row.slug or None, refusal.reason, refusal.detail)


def parse_market_json(body: bytes) -> Candidate | Rejection:
    """One Gamma market object as JSON bytes (``GET /markets/{id}``) -> ``Candidate``."""
    return parse_market(decode_row(body))


def _parse(row: GammaMarket, market_id: str | None) -> Candidate:
    if market_id is None:
        raise _Malformed("missing id")
    if not row.slug:
        raise _Malformed("missing slug")
    if not row.conditionId:
        raise _Malformed("missing conditionId")
    yes_token, no_token, outcomes = _tokens(row)
    event = row.events[0] if row.events else GammaEvent()
    return Candidate(
        market_id=market_id,
        condition_id=row.conditionId,
        slug=row.slug,
        question=row.question or "",
        event_id=_text_id(event.id),
        event_slug=event.slug or None,
        event_title=event.title or None,
        tags=_tags(row.tags),
        end_time=_end_time(row.endDate),
        yes_token=yes_token,
        no_token=no_token,
        outcomes=outcomes,
        active=bool(row.active),
        closed=bool(row.closed),
        archived=bool(row.archived),
        accepting_orders=bool(row.acceptingOrders),
        enable_order_book=bool(row.enableOrderBook),
        tick_size=_finite(row.orderPriceMinTickSize, "orderPriceMinTickSize"),
        min_order_size=_finite(row.orderMinSize, "orderMinSize"),
        neg_risk=row.negRisk,
        volume_total=_money(row.volumeNum, row.volume, "volume"),
        volume_24h=_money(row.volume24hr, None, "volume24hr"),
        liquidity=_money(row.liquidityNum, row.liquidity, "liquidity"),
        gamma_bid=_finite(row.bestBid, "bestBid"),
        gamma_ask=_finite(row.bestAsk, "bestAsk"),
        version=row.version or None,
    )


def _tokens(row: GammaMarket) -> tuple[str, str, tuple[str, str]]:
    """(YES token, NO token, outcome labels), ordered by the ``outcomes`` labels."""
    v2 = row.version == "v2"
    key = "positionIds" if v2 else "clobTokenIds"
    tokens = _list(row.positionIds if v2 else row.clobTokenIds, key)
    if not tokens:
        raise _NotTradableShape(Reason.NO_TOKENS, f"{key} empty or missing")
    if len(tokens) != 2:
        raise _NotTradableShape(Reason.NOT_BINARY, f"{len(tokens)} tokens")
    ids = (_token_text(tokens[0], key), _token_text(tokens[1], key))
    labels_raw = _list(row.outcomes, "outcomes") or ["Yes", "No"]
    if len(labels_raw) != 2 or not all(isinstance(label, str) for label in labels_raw):
        raise _Malformed(f"outcomes {labels_raw!r} do not match the 2 tokens")
    labels = (str(labels_raw[0]), str(labels_raw[1]))
    if labels[0].lower() == "no" and labels[1].lower() == "yes":
        return ids[1], ids[0], (labels[1], labels[0])
    return ids[0], ids[1], labels


def _list(value: TokenIds | list[str], key: str) -> list[str | int]:
    """A list that Gamma sends either as JSON text or natively; missing/null/"" -> []."""
    if not value:
        return []
    if isinstance(value, list):
        return [item for item in value]
    try:
        return _json_list.decode(value)
    except msgspec.ValidationError:
        raise _Malformed(f"{key} is not a list of ids or labels") from None
    except (msgspec.DecodeError, RecursionError):  # msgspec recurses on nesting
        raise _Malformed(f"{key} is not JSON") from None


def _token_text(token: str | int, key: str) -> str:
    if isinstance(token, str) and token.isdigit():
        return token
    if isinstance(token, int) and token >= 0:
        return str(token)
    raise _Malformed(f"{key} holds a non-numeric token id {token!r}")


def _tags(value: list[GammaTag | str] | None) -> tuple[str, ...]:
    if not value:
        return ()
    labels: list[str] = []
    for tag in value:
        label = tag if isinstance(tag, str) else tag.label or tag.slug
        if label:
            labels.append(label)
    return tuple(labels)


def _end_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise _Malformed(f"endDate {value!r} is not ISO 8601") from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _finite(value: Decimal | None, key: str) -> Decimal | None:
    if value is not None and not value.is_finite():
        raise _Malformed(f"{key}: {value} is not a finite number")
    return value


def _money(number: Decimal | None, text: Decimal | None, key: str) -> Decimal:
    """The number twin if sent, else the decimal string; 0 when neither is."""
    value = number if number is not None else text
    if value is None:
        return _ZERO
    if not value.is_finite():
        raise _Malformed(f"{key}: {value} is not a finite number")
    return value


def _text_id(value: str | int | None) -> str | None:
    if isinstance(value, str):
        return value or None
    if isinstance(value, int):
        return str(value)
    return None


__all__ = ["parse_market", "parse_market_json"]
