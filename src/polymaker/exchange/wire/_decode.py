"""The decode loop shared by the WebSocket channels: frame -> objects -> typed events.

Kept channel-neutral so the market and user channels count and report failures the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from polymaker.exchange.wire._fields import WireError

Parsers = Mapping[str, Callable[[Mapping[str, Any]], Any]]


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
            return UnparsedEvent(None, f"venue error: {obj['error']}")
        return UnparsedEvent(None, "missing event_type")
    parser = parsers.get(tag)
    if parser is None:
        return UnparsedEvent(tag, "unknown event_type")
    try:
        return parser(obj)
    except WireError as error:
        return UnparsedEvent(tag, str(error))


def decode_frame(data: str | bytes, parsers: Parsers) -> list[Any]:
    """Split one WebSocket text frame (object or array) into decoded events."""
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError:
        excerpt = data[:40] if isinstance(data, str) else data[:40].decode("utf-8", "replace")
        return [UnparsedEvent(None, f"not JSON: {excerpt!r}")]
    if isinstance(doc, list):
        return [decode_object(item, parsers) for item in doc]
    return [decode_object(doc, parsers)]
