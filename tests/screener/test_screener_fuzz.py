"""Fuzz: mutated recorded Gamma markets and CLOB books through the screener's decoders and rules.

Each mutated document is served as the bytes the screener decodes. A Gamma row becomes a
``Candidate`` or a ``Rejection``; a ``/books`` answer entries and skipped ones (``bad``, or a
``ValueError`` from ``book_quote``); never another exception. And no market is ever selected
on a quote outside (0, 1) or on a crossed book, whether it came from the books or from Gamma.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from polymaker.config.filter import FilterParams
from polymaker.quotes import quote_problem
from polymaker.screener.criteria import Criteria, choose_side, early_reason
from polymaker.screener.model import Candidate, Quote, Reason, Rejection
from polymaker.screener.parse import parse_market_json
from polymaker.screener.quotes import book_quote, gamma_quotes, mirror_quote
from polymaker.screener.wire import decode_books, decode_keyset_page
from tests.conftest import load_fixture
from tests.fuzzing import FUZZ_SETTINGS, Sample, mutated

NOW = datetime(2026, 1, 15, tzinfo=UTC)
WIDE = FilterParams(
    min_end_hours=0,
    max_end_hours=87_000,
    min_total_volume=0,
    ask_min="0.01",
    ask_max=1,
    max_spread=1,
    blacklist_terms=(),
)
ROWS = [
    *load_fixture("gamma_markets_list_2026-01.json")[:3],
    load_fixture("gamma_market_closed_sports_with_fees_2026-04.json"),
    load_fixture("gamma_market_closed_still_accepting_orders_2026-05.json"),
    load_fixture("gamma_market_negrisk_with_feeSchedule_2026-06.json"),
    load_fixture("gamma_market_v1_with_positionIds_and_feeSchedule_2026-08.json"),
    load_fixture("gamma_events_negrisk_2026-03.json")[0]["markets"][0],
]
BOOKS = ["clob_book_2024-10.json", "clob_book_negrisk_empty_ask_2026-08.json"]
DEPTHS = (1, 2, 50, 400)  # json.dumps (serving the bytes) recurses; deeper: the test below


def _wire_bytes(document: Any) -> bytes:
    """The document as the venue could serve it (NaN and huge integers included)."""
    return json.dumps(document).encode()


def _never_selected_on_bad_quotes(yes: Quote, no: Quote) -> None:
    side = choose_side(yes, no, WIDE)
    if not isinstance(side, Reason):
        assert quote_problem(yes.bid, yes.ask) is None and quote_problem(no.bid, no.ask) is None


@FUZZ_SETTINGS
@given(st.sampled_from(ROWS).flatmap(lambda row: mutated(row, depths=DEPTHS)))
def test_gamma_rows(sample: Sample) -> None:
    parsed = parse_market_json(_wire_bytes(sample.value))
    assert isinstance(parsed, Candidate | Rejection)
    if isinstance(parsed, Candidate):
        early_reason(parsed, Criteria.build(WIDE, NOW))
        _never_selected_on_bad_quotes(*gamma_quotes(parsed))


def _quotes(body: bytes) -> list[Quote]:
    """What the books fetcher keeps of one ``/books`` answer (``fetch._store_books``)."""
    try:
        answer = decode_books(body)
    except ValueError:  # not a list of books at all: the batch counts as unavailable
        return []
    quotes = []
    for entry in answer.entries:
        try:
            quotes.append(book_quote(entry)[1])
        except ValueError:
            continue
    return quotes


@FUZZ_SETTINGS
@given(st.sampled_from(BOOKS).flatmap(lambda name: mutated(load_fixture(name), depths=DEPTHS)))
def test_books(sample: Sample) -> None:
    for quote in _quotes(_wire_bytes([sample.value])):
        _never_selected_on_bad_quotes(quote, mirror_quote(quote))


def test_a_price_nested_past_the_repr_limit_is_a_skipped_book() -> None:
    """Found by test_books: an error message's repr raised RecursionError."""
    book = load_fixture("clob_book_2024-10.json")
    book["bids"][0]["price"] = "@@"
    deep = "[" * 1100 + '"0.5"' + "]" * 1100
    assert _quotes(_wire_bytes([book]).replace(b'"@@"', deep.encode())) == []


@pytest.mark.parametrize("price", ["-0.5", "1.5", "1E+999999999"])
def test_an_impossible_yes_ask_never_mirrors_into_a_selectable_no(price: str) -> None:
    book = load_fixture("clob_book_2024-10.json")
    book["asks"] = [{"price": price, "size": "100"}]
    for quote in _quotes(_wire_bytes([book])):
        assert choose_side(quote, mirror_quote(quote), WIDE) in tuple(Reason)


DEEP = "[" * 1100 + "1" + "]" * 1100


def test_a_gamma_row_nested_past_msgspecs_recursion_is_a_rejection() -> None:
    """msgspec raises RecursionError (not DecodeError) on deep nesting: a malformed row."""
    row = _wire_bytes({**ROWS[0], "tags": "@@"}).replace(b'"@@"', DEEP.encode())
    assert isinstance(parse_market_json(row), Rejection)
    inside = {**ROWS[0], "clobTokenIds": DEEP}  # JSON text inside the JSON
    assert isinstance(parse_market_json(_wire_bytes(inside)), Rejection)


def test_a_listing_page_nested_past_msgspecs_recursion_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="markets"):
        decode_keyset_page(DEEP.encode())
    with pytest.raises(ValueError, match="books"):
        decode_books(DEEP.encode())
