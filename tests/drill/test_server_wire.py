"""Pure wire helpers of the drill server: number format, cursors, book hash, WS framing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from polymaker.drill.routes_common import (
    END_CURSOR,
    START_CURSOR,
    ApiError,
    book_hash,
    decode_cursor,
    fmt,
    paged,
)
from polymaker.drill.ws import text_frame
from tests.conftest import load_fixture


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("0.50"), "0.5"),
        (Decimal("100"), "100"),
        (Decimal("1E+2"), "100"),
        (Decimal("0.0010"), "0.001"),
        (Decimal("0"), "0"),
        (Decimal("-0.00"), "0"),
        (None, ""),
        (Decimal("3149725.72"), "3149725.72"),
    ],
)
def test_fmt_writes_venue_decimal_strings(value, text) -> None:
    assert fmt(value) == text


@pytest.mark.parametrize(
    "name", ["ws_market_book_2026-08.json", "clob_book_negrisk_empty_ask_2026-08.json"]
)
def test_book_hash_reproduces_recorded_hashes(name: str) -> None:
    book = load_fixture(name)
    assert book_hash(book) == book["hash"]


def test_paged_walks_with_venue_cursors() -> None:
    items = list(range(7))
    first = paged(items, START_CURSOR, 3)
    assert first["data"] == [0, 1, 2] and first["count"] == 3
    second = paged(items, first["next_cursor"], 3)
    last = paged(items, second["next_cursor"], 3)
    assert second["data"] == [3, 4, 5] and last["data"] == [6]
    assert last["next_cursor"] == END_CURSOR
    with pytest.raises(ApiError):
        decode_cursor(END_CURSOR)
    with pytest.raises(ApiError):
        decode_cursor("not base64!")


@pytest.mark.parametrize(
    ("size", "header"),
    [
        (5, b"\x81\x05"),
        (126, b"\x81\x7e\x00\x7e"),
        (70_000, b"\x81\x7f" + (70_000).to_bytes(8, "big")),
    ],
)
def test_text_frame_lengths(size: int, header: bytes) -> None:
    frame = text_frame(b"x" * size)
    assert frame[: len(header)] == header and len(frame) == len(header) + size
