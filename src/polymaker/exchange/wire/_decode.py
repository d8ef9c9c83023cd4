"""The decode loop shared by the WebSocket channels: frame -> objects -> typed events.

Kept channel-neutral so the market and user channels count and report failures the same way.
One bad frame must never end a feed (a feed's iteration ending ends the worker), so the loop
never raises: the parsers raise only ``WireError``, and should one of them still raise a plain
exception on input nobody foresaw, that becomes an ``UnparsedEvent`` too, logged as a decoder
bug (the fuzz tests in tests/exchange/test_wire_fuzz.py assert it never happens).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from polymaker.excerpt import excerpt
from polymaker.exchange.wire._fields import WireError

log = logging.getLogger(__name__)

Parsers = Mapping[str, Callable[[Mapping[str, Any]], Any]]
DECODER_BUG = "decoder bug"


@dataclass(frozen=True, slots=True)
class UnparsedEvent:
    """An object the decoder could not turn into a typed event.

    tag: its ``event_type`` (None when absent or the frame was not JSON); reason: why.
    """

    tag: str | None
    reason: str


def decode_object(obj: object, parsers: Parsers) -> Any | UnparsedEvent:
    """Dispatch one decoded JSON object on its ``event_type``; failures become UnparsedEvent."""
    if not isinstance(obj, Mapping):
        return UnparsedEvent(None, f"expected an object, got {type(obj).__name__}")
    tag = obj.get("event_type")
    if not isinstance(tag, str):
        if "error" in obj:  # e.g. {"error": "Unauthorized/Invalid api key"} before a close
            error = obj["error"]
            message = error[:200] if isinstance(error, str) else excerpt(error)
            return UnparsedEvent(None, f"venue error: {message}")
        return UnparsedEvent(None, "missing event_type")
    parser = parsers.get(tag)
    if parser is None:
        return UnparsedEvent(tag, "unknown event_type")
    try:
        return parser(obj)
    except WireError as error:
        return UnparsedEvent(tag, str(error))
    except (ArithmeticError, LookupError, TypeError, ValueError) as error:
        log.error("%s: %s event raised %r; skipped", DECODER_BUG, tag, error)
        return UnparsedEvent(tag, f"{DECODER_BUG}: {error!r}")


def decode_frame(data: str | bytes, parsers: Parsers) -> list[Any]:
    """Split one WebSocket text frame (object or array) into decoded events."""
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError:
        start = data[:40] if isinstance(data, str) else data[:40].decode("utf-8", "replace")
        return [UnparsedEvent(None, f"not JSON: {start!r}")]
    if isinstance(doc, list):
        return [decode_object(item, parsers) for item in doc]
    return [decode_object(doc, parsers)]
