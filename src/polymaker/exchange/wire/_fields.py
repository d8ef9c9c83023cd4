"""Field readers shared by the wire parsers: one place decides how a venue value is accepted.

Decision on numbers: prices and sizes must be JSON *strings* holding a finite decimal (that is
what the CLOB REST and WebSocket APIs serve). A JSON number (float or int) or a bool in such a
field is rejected with ``WireError``: a float has already lost the exact decimal, so accepting
it would hide a broken producer. The only exception is market metadata that the venue itself
serves as numbers (``/markets/{condition_id}``: ``minimum_tick_size``, ``minimum_order_size``),
read with ``decimal_from_number`` in ``wire/markets.py``.

Decision on magnitudes: a decimal must fit what a venue value can be (0, or between 10**-30
and 10**15; at most 64 characters), so that no later arithmetic on it can overflow a
``Decimal`` context (``1E+999999999`` used to decode and then raise ``decimal.Overflow`` when an
order's remaining size was computed). Epoch timestamps are read in seconds, milliseconds,
microseconds or nanoseconds (told apart by magnitude) and always returned in milliseconds;
anything else, including Unicode digits such as ``"²"`` that ``str.isdigit`` accepts, is a
``WireError``.

Every reader raises ``WireError`` and nothing else, with the key and the problem; the decode
entry points turn it into an ``UnparsedEvent`` (WebSocket) or ``UnexpectedResponseError`` (REST).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from polymaker.errors import UnexpectedResponseError
from polymaker.excerpt import excerpt

_ONE = Decimal(1)
_ZERO = Decimal(0)
MAX_DECIMAL_TEXT = 64
MIN_ADJUSTED = -30  # no non-zero venue value is below 1e-30 (the venue uses 6 decimals)
MAX_ADJUSTED = 14  # below 1e15: no price, size or amount of the venue comes near it
# Epoch values below 10**11 are seconds (10**11 s is in year 5138), below 10**14 milliseconds,
# below 10**17 microseconds, below 10**20 nanoseconds.
_SECONDS_BELOW, _MS_BELOW, _US_BELOW, _NS_BELOW = 10**11, 10**14, 10**17, 10**20


class WireError(UnexpectedResponseError):
    """A venue payload does not have the documented shape (names the key and the problem)."""

    def __init__(self, key: str, problem: str) -> None:
        self.key = key
        self.problem = problem
        super().__init__(f"{key}: {problem}")


class Side(StrEnum):
    """Order or level side, in the venue's words (``BUY`` = bid, ``SELL`` = ask)."""

    BUY = "BUY"
    SELL = "SELL"


def require_mapping(value: object, key: str) -> Mapping[str, Any]:
    """``value`` as a JSON object, or WireError."""
    if not isinstance(value, Mapping):
        raise WireError(key, f"expected an object, got {type(value).__name__}")
    return value


def text(obj: Mapping[str, Any], key: str) -> str:
    """A required non-empty string field."""
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise WireError(key, "missing or not a non-empty string")
    return value


def optional_text(obj: Mapping[str, Any], key: str) -> str | None:
    """An optional string field; absent, null and ``""`` all become None."""
    value = obj.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise WireError(key, f"expected a string, got {type(value).__name__}")
    return value


def decimal(obj: Mapping[str, Any], key: str) -> Decimal:
    """A required finite decimal given as a JSON string (numbers are rejected, see module doc)."""
    return _to_decimal(obj.get(key), key)


def optional_decimal(obj: Mapping[str, Any], key: str) -> Decimal | None:
    """Like ``decimal`` but absent, null and ``""`` become None.

    ``""`` is what the venue sends for "no value": REST ``/book`` ``last_trade_price`` before
    the first trade, user-channel ``size_matched`` of a killed FOK order.
    """
    value = obj.get(key)
    if value is None or value == "":
        return None
    return _to_decimal(value, key)


def _to_decimal(value: object, key: str) -> Decimal:
    if not isinstance(value, str):
        raise WireError(key, f"expected a decimal string, got {type(value).__name__}")
    if len(value) > MAX_DECIMAL_TEXT:
        raise WireError(key, f"decimal text longer than {MAX_DECIMAL_TEXT} characters")
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise WireError(key, f"not a decimal: {excerpt(value)}") from None
    if not result.is_finite():
        raise WireError(key, f"not a finite decimal: {excerpt(value)}")
    return bounded(result, key)


def bounded(value: Decimal, key: str) -> Decimal:
    """``value`` if its magnitude fits a venue value: 0, or between 1e-30 and 1e15."""
    if value and not MIN_ADJUSTED <= value.adjusted() <= MAX_ADJUSTED:
        raise WireError(key, f"decimal out of range: {value}")
    return value


def price(obj: Mapping[str, Any], key: str) -> Decimal:
    """A required order/level price: strictly between 0 and 1 (the CLOB grid is [tick, 1-tick])."""
    value = decimal(obj, key)
    if not _ZERO < value < _ONE:
        raise WireError(key, f"price {value} outside (0, 1)")
    return value


def optional_tick(obj: Mapping[str, Any], key: str) -> Decimal | None:
    """An optional tick size: strictly between 0 and 1, like a price (absent/``""`` -> None)."""
    value = optional_decimal(obj, key)
    if value is not None and not _ZERO < value < _ONE:
        raise WireError(key, f"tick size {value} outside (0, 1)")
    return value


def quote(obj: Mapping[str, Any], key: str) -> Decimal | None:
    """An optional reported price (best bid/ask, last trade, spread): within [0, 1] or None."""
    value = optional_decimal(obj, key)
    if value is not None and not _ZERO <= value <= _ONE:
        raise WireError(key, f"price {value} outside [0, 1]")
    return value


def size(obj: Mapping[str, Any], key: str) -> Decimal:
    """A required size in shares, >= 0."""
    value = decimal(obj, key)
    if value < _ZERO:
        raise WireError(key, f"negative size {value}")
    return value


def side(obj: Mapping[str, Any], key: str) -> Side:
    """``BUY`` or ``SELL`` (case-insensitive, as some REST deployments send lowercase)."""
    value = obj.get(key)
    if isinstance(value, str):
        upper = value.upper()
        if upper == "BUY":
            return Side.BUY
        if upper == "SELL":
            return Side.SELL
    raise WireError(key, f"expected BUY or SELL, got {excerpt(value)}")


def epoch_ms(obj: Mapping[str, Any], key: str) -> int:
    """A required epoch timestamp in milliseconds, served as a digit string.

    A value that is clearly in seconds (the user channel's trade ``timestamp`` sometimes is) is
    scaled to milliseconds, so callers always get one unit.
    """
    value = optional_epoch_ms(obj, key)
    if value is None:
        raise WireError(key, "missing timestamp")
    return value


def optional_epoch_ms(obj: Mapping[str, Any], key: str) -> int | None:
    """Like ``epoch_ms``; absent, null, ``""`` and ``"0"`` become None.

    Seconds, milliseconds, microseconds and nanoseconds are told apart by magnitude (the user
    channel has sent all but nanoseconds); the result is always milliseconds.
    """
    value = obj.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise WireError(key, f"expected an epoch digit string, got {type(value).__name__}")
    if isinstance(value, str) and not (len(value) <= 20 and value.isascii() and value.isdigit()):
        raise WireError(key, f"not an epoch timestamp: {excerpt(value)}")
    number = int(value)
    if number == 0:
        return None
    if not 0 < number < _NS_BELOW:
        raise WireError(key, f"epoch timestamp out of range: {number}")
    if number < _SECONDS_BELOW:
        return number * 1000
    if number < _MS_BELOW:
        return number
    if number < _US_BELOW:
        return number // 1000
    return number // 1_000_000


def ms_to_utc(value_ms: int) -> datetime:
    """An epoch-milliseconds value as an aware UTC datetime."""
    seconds, millis = divmod(value_ms, 1000)
    return datetime.fromtimestamp(seconds, tz=UTC) + timedelta(milliseconds=millis)


def optional_utc(obj: Mapping[str, Any], key: str) -> datetime | None:
    """An epoch (seconds or ms) field as a UTC datetime; absent/``""``/``"0"`` become None."""
    value = optional_epoch_ms(obj, key)
    return None if value is None else ms_to_utc(value)


def string_tuple(obj: Mapping[str, Any], key: str) -> tuple[str, ...]:
    """An optional list of strings; absent or null (user channel ``associate_trades``) is ()."""
    value = obj.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise WireError(key, "expected a list of strings")
    return tuple(value)


def optional_bool(obj: Mapping[str, Any], key: str) -> bool | None:
    """An optional JSON bool."""
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise WireError(key, f"expected true/false, got {excerpt(value)}")
    return value
