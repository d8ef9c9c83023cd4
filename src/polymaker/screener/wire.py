"""Gamma listing pages and CLOB ``/books`` answers, decoded straight into typed structs.

A real Gamma market object is ~5 KB with ~90 keys, and the screener reads about 25 of them.
``msgspec`` decodes a page into the structs below at C speed, skipping every other key without
building a Python object for it, and turns money into ``Decimal`` from the number's own text
(``0.955`` stays ``0.955``; polymarket_api.md 2.3). ``strict=False`` accepts the venue's
"true"/"false" strings for flags.

Field names are Gamma's own (camelCase) so a reader can grep the venue's payloads for them. A
page is first decoded whole; only when one of its rows has a shape Gamma does not send does the
page go row by row, so one bad row becomes a ``Rejection`` naming the field, never a failed
page. A body that is not a page at all raises ``ValueError`` (``JsonHttp`` turns it into
``UnexpectedResponseError``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

from polymaker.screener.model import Reason, Rejection

TokenIds = str | list[str | int] | None  # JSON text on v1 (``clobTokenIds``), an array on v2


class GammaEvent(msgspec.Struct, frozen=True):
    """The parent event of a market (``events[0]``): groups markets for ``one_per_event``."""

    id: str | int | None = None
    slug: str | None = None
    title: str | None = None


class GammaTag(msgspec.Struct, frozen=True):
    """A tag object (``?include_tag=true``); the blacklist reads its label."""

    label: str | None = None
    slug: str | None = None


class GammaMarket(msgspec.Struct, frozen=True):
    """The fields of a Gamma market object the screener uses; every other key is skipped.

    clobTokenIds / outcomes: JSON text inside the JSON (or native arrays). positionIds: the
    tokens a ``version: "v2"`` market trades. volume/liquidity: decimal strings, with JSON
    number twins ``volumeNum``/``liquidityNum``; any of them may be missing.
    """

    id: str | int | None = None
    slug: str | None = None
    conditionId: str | None = None
    question: str | None = None
    endDate: str | None = None
    version: str | None = None
    clobTokenIds: TokenIds = None
    positionIds: TokenIds = None
    outcomes: str | list[str] | None = None
    events: list[GammaEvent] | None = None
    tags: list[GammaTag | str] | None = None
    active: bool | None = None
    closed: bool | None = None
    archived: bool | None = None
    acceptingOrders: bool | None = None
    enableOrderBook: bool | None = None
    negRisk: bool | None = None
    orderPriceMinTickSize: Decimal | None = None
    orderMinSize: Decimal | None = None
    volumeNum: Decimal | None = None
    volume: Decimal | None = None
    volume24hr: Decimal | None = None
    liquidityNum: Decimal | None = None
    liquidity: Decimal | None = None
    bestBid: Decimal | None = None
    bestAsk: Decimal | None = None


Row = GammaMarket | Rejection  # a decoded row, or why it could not be decoded


class _KeysetPage(msgspec.Struct):
    markets: list[GammaMarket]
    next_cursor: Any = None


class _KeysetPageRaw(msgspec.Struct):
    markets: list[msgspec.Raw]
    next_cursor: Any = None


class _DataEnvelope(msgspec.Struct):
    data: list[msgspec.Raw]


class KeysetPage(msgspec.Struct):
    """One ``/markets/keyset`` page: its rows and the cursor of the next page (None = last)."""

    rows: list[Row]
    next_cursor: Any  # checked by the fetcher: it must be text that advances


class BookLevel(msgspec.Struct, frozen=True):
    """One price level of a ``/books`` entry: decimal strings on the wire, kept as sent.

    Not ``Decimal`` here: a screen reads tens of thousands of levels and keeps two per book,
    and building a ``Decimal`` costs more than the rest of decoding (``quotes`` converts the
    two it keeps).
    """

    price: str | float
    size: str | float


class BookEntry(msgspec.Struct, frozen=True):
    """One ``/books`` entry: the fields a quote needs (``hash``, ``timestamp`` ... skipped)."""

    asset_id: str | int | None = None
    token_id: str | int | None = None
    bids: list[BookLevel] | None = None
    asks: list[BookLevel] | None = None
    tick_size: Decimal | None = None
    min_order_size: Decimal | None = None
    neg_risk: bool | None = None


class BooksAnswer(msgspec.Struct):
    """A ``POST /books`` answer: the entries that decoded, and why the others did not."""

    entries: list[BookEntry]
    bad: list[str]


_market = msgspec.json.Decoder(GammaMarket, strict=False)
_markets = msgspec.json.Decoder(list[GammaMarket], strict=False)
_keyset = msgspec.json.Decoder(_KeysetPage, strict=False)
_keyset_raw = msgspec.json.Decoder(_KeysetPageRaw)
_offset_raw = msgspec.json.Decoder(list[msgspec.Raw] | _DataEnvelope)
_book = msgspec.json.Decoder(BookEntry, strict=False)
_books = msgspec.json.Decoder(list[BookEntry], strict=False)
_raw_list = msgspec.json.Decoder(list[msgspec.Raw])
_any = msgspec.json.Decoder()


# msgspec raises RecursionError, not DecodeError, for JSON nested deeper than it recurses: a
# body the venue should never send, and one answer must not stop a screen over it.
_UNDECODABLE = (msgspec.DecodeError, RecursionError)

_KEYSET_SHAPE = "expected an object with a 'markets' list"
_OFFSET_SHAPE = "expected a list of markets"
_BOOKS_SHAPE = "expected a list of books"


def _decode(decoder: msgspec.json.Decoder[Any], body: bytes, shape: str) -> Any:
    """``decoder.decode(body)``; a body of another shape raises ValueError saying ``shape``."""
    try:
        return decoder.decode(body)
    except _UNDECODABLE as error:
        raise ValueError(f"{shape}: {error}") from None


def _whole(decoder: msgspec.json.Decoder[Any], body: bytes, shape: str) -> Any | None:
    """The body decoded in one pass (the fast, usual case); None when an item inside has an
    unexpected shape, so the caller decodes item by item and rejects only that item."""
    try:
        return decoder.decode(body)
    except msgspec.ValidationError:
        return None
    except _UNDECODABLE as error:
        raise ValueError(f"{shape}: {error}") from None


def decode_keyset_page(body: bytes) -> KeysetPage:
    """A keyset page; ValueError when the body is not an object with a ``markets`` list."""
    page = _whole(_keyset, body, _KEYSET_SHAPE)
    if page is not None:
        return KeysetPage(list(page.markets), page.next_cursor)
    raw = _decode(_keyset_raw, body, _KEYSET_SHAPE)
    return KeysetPage([decode_row(row) for row in raw.markets], raw.next_cursor)


def decode_offset_page(body: bytes) -> list[Row]:
    """A legacy ``/markets`` page: a list of rows, or ``{"data": [...]}``."""
    rows = _whole(_markets, body, _OFFSET_SHAPE)
    if rows is not None:
        return list(rows)
    raw = _decode(_offset_raw, body, _OFFSET_SHAPE)
    return [decode_row(row) for row in (raw.data if isinstance(raw, _DataEnvelope) else raw)]


def decode_row(raw: bytes | msgspec.Raw) -> Row:
    """One market object; a shape Gamma does not send becomes a MALFORMED ``Rejection``."""
    try:
        return _market.decode(raw)
    except _UNDECODABLE as error:
        return _rejected_row(raw, str(error))


def _rejected_row(raw: bytes | msgspec.Raw, problem: str) -> Rejection:
    """The rejection of an undecodable row, with its id and slug when they can be read."""
    try:
        loose: Any = _any.decode(raw)
    except _UNDECODABLE:
        loose = None
    if not isinstance(loose, dict):
        kind = "not JSON" if loose is None else f"a {type(loose).__name__}"
        return Rejection(None, None, Reason.MALFORMED, f"row is {kind}: {problem}")
    market_id, slug = loose.get("id"), loose.get("slug")
    return Rejection(
        str(market_id) if isinstance(market_id, str | int) and market_id != "" else None,
        slug if isinstance(slug, str) and slug else None,
        Reason.MALFORMED,
        problem,
    )


def decode_books(body: bytes) -> BooksAnswer:
    """A ``/books`` answer; an entry with a wrong shape is listed in ``bad``, not raised."""
    entries = _whole(_books, body, _BOOKS_SHAPE)
    if entries is not None:
        return BooksAnswer(list(entries), [])
    answer = BooksAnswer([], [])
    for raw in _decode(_raw_list, body, _BOOKS_SHAPE):
        try:
            answer.entries.append(_book.decode(raw))
        except _UNDECODABLE as error:
            answer.bad.append(str(error))
    return answer


__all__ = [
    "BookEntry",
    "BookLevel",
    "BooksAnswer",
    "GammaEvent",
    "GammaMarket",
    "GammaTag",
    "KeysetPage",
    "Row",
    "decode_books",
    "decode_keyset_page",
    "decode_offset_page",
    "decode_row",
]
