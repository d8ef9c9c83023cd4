"""Quotes from recorded ``/books`` entries and from Gamma's snapshot (screener/quotes.py)."""

from __future__ import annotations

from decimal import Decimal

import orjson
import pytest

from polymaker.screener.model import Candidate, Quote
from polymaker.screener.quotes import book_quote, gamma_quotes
from polymaker.screener.wire import decode_books
from tests.conftest import load_fixture
from tests.screener.fakes import make_market, parse_row

D = Decimal


def quote_of(entry: object) -> tuple[str, Quote]:
    answer = decode_books(orjson.dumps([entry]))
    assert answer.bad == []
    return book_quote(answer.entries[0])


def test_book_fixture_2024_best_levels_ignore_order():
    token, quote = quote_of(load_fixture("clob_book_2024-10.json"))
    assert token == "23360939988679364027624185518382759743328544433592111535569478055890815567848"
    assert quote.bid == D("0.1")
    book = load_fixture("clob_book_2024-10.json")
    assert quote.ask == min(D(a["price"]) for a in book["asks"])
    assert quote.tick_size is None and quote.neg_risk is None


def test_book_fixture_2026_empty_ask_side():
    token, quote = quote_of(load_fixture("clob_book_negrisk_empty_ask_2026-08.json"))
    assert token.startswith("7261053235")
    assert quote == Quote(
        bid=D("0.002"), ask=None, tick_size=D("0.001"), min_order_size=D("5"), neg_risk=True
    )


def test_book_zero_size_levels_are_ignored():
    _, quote = quote_of(
        {"asset_id": "1", "bids": [{"price": "0.5", "size": "0"}], "asks": [], "neg_risk": False}
    )
    assert quote.is_empty


@pytest.mark.parametrize(
    "entry",
    [
        {"bids": []},
        {"asset_id": "", "bids": []},
        {"asset_id": "1", "bids": [{"price": "NaN", "size": "1"}]},
        {"asset_id": "1", "asks": [{"price": "0.5", "size": "Infinity"}]},
        {"asset_id": "1", "tick_size": "NaN"},
    ],
)
def test_book_values_that_cannot_be_a_quote_raise(entry):
    with pytest.raises(ValueError):
        quote_of(entry)


def test_gamma_quotes_mirror_the_yes_side():
    def candidate(**overrides) -> Candidate:
        parsed = parse_row(make_market(1, **overrides))
        assert isinstance(parsed, Candidate)
        return parsed

    yes, no = gamma_quotes(candidate(bestBid=0.02, bestAsk=0.035))
    assert (yes.bid, yes.ask) == (D("0.02"), D("0.035"))
    assert (no.bid, no.ask) == (D("0.965"), D("0.98"))
    yes, no = gamma_quotes(candidate(bestBid=None, bestAsk=0.04))
    assert yes.bid is None and no.ask is None and no.bid == D("0.96")
