"""Fuzz: mutated recorded Gamma markets and CLOB books through the screener's parsers and rules.

A Gamma row becomes a ``Candidate`` or a ``Rejection``, a book a quote or ``ValueError`` (a
skipped book), never another exception; and no market is ever selected on a quote outside
(0, 1) or on a crossed book, whether the quote came from the books or from Gamma's listing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from polymaker.config.filter import FilterParams
from polymaker.quotes import quote_problem
from polymaker.screener.criteria import (
    Criteria,
    choose_side,
    early_reason,
    gamma_quotes,
    mirror_quote,
)
from polymaker.screener.model import Candidate, Quote, Reason, Rejection
from polymaker.screener.parse import parse_book, parse_market
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


def _never_selected_on_bad_quotes(yes: Quote, no: Quote) -> None:
    side = choose_side(yes, no, WIDE)
    if not isinstance(side, Reason):
        assert quote_problem(yes.bid, yes.ask) is None and quote_problem(no.bid, no.ask) is None


@FUZZ_SETTINGS
@given(st.sampled_from(ROWS).flatmap(mutated))
def test_gamma_rows(sample: Sample) -> None:
    parsed = parse_market(sample.value)
    assert isinstance(parsed, Candidate | Rejection)
    if isinstance(parsed, Candidate):
        early_reason(parsed, Criteria.build(WIDE, NOW))
        _never_selected_on_bad_quotes(*gamma_quotes(parsed))


@FUZZ_SETTINGS
@given(st.sampled_from(BOOKS).flatmap(lambda name: mutated(load_fixture(name))))
def test_books(sample: Sample) -> None:
    try:
        _, quote = parse_book(sample.value)
    except ValueError:
        return
    _never_selected_on_bad_quotes(quote, mirror_quote(quote))


def test_a_price_nested_past_the_repr_limit_is_a_skipped_book() -> None:
    """Found by test_books: the error message's repr raised RecursionError."""
    book = load_fixture("clob_book_2024-10.json")
    price: Any = "0.5"
    for _ in range(1100):
        price = [price]
    book["bids"][0]["price"] = price
    with pytest.raises(ValueError, match="numeric price"):
        parse_book(book)
