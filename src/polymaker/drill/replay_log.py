"""Reading ``--replay`` logs into timed frames (private to drill.replay).

Accepted: JSON lines (one frame per line: an object, an array of objects as the venue sends,
or ``{"t_ms": <offset>, "frame": <object or array>}``), or a file holding one JSON array of
frames (as the recorded fixtures are). Without ``t_ms`` a frame's time is its ``timestamp``
relative to the first timestamp in the log; times never go backwards (a late frame is
applied with the frame before it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from polymaker.errors import ConfigError


@dataclass(frozen=True)
class Frame:
    """One market-channel event object and when to apply it (ms after the replay starts)."""

    t_ms: int
    body: dict[str, Any]


def _items(path: Path, data: bytes) -> list[tuple[int, Any]]:
    """(line number, parsed item) pairs; a whole-file array counts as one item per element."""
    try:
        whole = orjson.loads(data)
    except orjson.JSONDecodeError:
        whole = None
    if isinstance(whole, list):
        return [(1, item) for item in whole]
    if isinstance(whole, dict):
        return [(1, whole)]
    items = []
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append((number, orjson.loads(line)))
        except orjson.JSONDecodeError as error:
            raise ConfigError(
                f"line {number}: not JSON ({error})", file=path, key="replay"
            ) from None
    return items


def read_frames(path: Path) -> list[Frame]:
    """Every frame of the log in order; ConfigError for unreadable files or bad lines."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError(
            f"cannot read: {error.strerror or error}", file=path, key="replay"
        ) from None
    frames: list[Frame] = []
    first_ts: int | None = None
    last_t = 0
    for number, item in _items(path, data):
        explicit = None
        if isinstance(item, dict) and "frame" in item:
            explicit, item = item.get("t_ms"), item["frame"]
            if not isinstance(explicit, int) or explicit < 0:
                raise ConfigError(
                    f"line {number}: t_ms must be a non-negative integer", file=path, key="replay"
                )
        bodies = item if isinstance(item, list) else [item]
        for body in bodies:
            if not isinstance(body, dict):
                raise ConfigError(f"line {number}: a frame must be a JSON object",
                                  file=path, key="replay")  # fmt: skip
            t = explicit
            if t is None and str(body.get("timestamp", "")).isdigit():
                stamp = int(body["timestamp"])
                first_ts = stamp if first_ts is None else first_ts
                t = stamp - first_ts
            last_t = max(last_t, t if t is not None else last_t)
            frames.append(Frame(last_t, body))
    return frames
