"""The one quote rule (``polymaker.quotes``), and the screener and the worker both applying it.

The screener's reproducers from the issue: a YES ask of -0.5 selected a market on NO at bid 1.5;
a YES bid of 1.5, or bid 0.99 over ask 0.97, was selected; with ``use_gamma_quotes``, Gamma's
``bestBid: 10`` was selected. The worker's book check already refused all of these.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from polymaker.config.filter import FilterParams
from polymaker.quotes import QuoteProblem, quote_problem
from polymaker.screener import Reason
from polymaker.strategy.book import book_problem
from polymaker.strategy.events import BookUpdate, Level
from tests.screener.fakes import FakeExchange, book, make_market, yes_no_tokens
from tests.screener.test_screen import run_screen

D = Decimal
BAND = FilterParams(blacklist_terms=(), ask_min=D("0.5"), ask_max=D("0.999"), max_spread=D(1))


@pytest.mark.parametrize(
    ("bid", "ask", "problem"),
    [
        ("0.45", "0.55", None),
        (None, "0.55", None),
        ("0.45", None, None),
        (None, None, None),
        ("0.99", "0.97", QuoteProblem.CROSSED),
        ("0.5", "0.5", QuoteProblem.CROSSED),
        ("1.5", None, QuoteProblem.PRICE_OUT_OF_RANGE),
        (None, "-0.5", QuoteProblem.PRICE_OUT_OF_RANGE),
        ("0", "0.5", QuoteProblem.PRICE_OUT_OF_RANGE),
        ("0.5", "1", QuoteProblem.PRICE_OUT_OF_RANGE),
        ("NaN", None, QuoteProblem.NOT_FINITE),
        (None, "Infinity", QuoteProblem.NOT_FINITE),
    ],
)
def test_the_quote_rule(bid: str | None, ask: str | None, problem: QuoteProblem | None) -> None:
    as_decimal = [None if p is None else D(p) for p in (bid, ask)]
    assert quote_problem(*as_decimal) is problem


def _screened(yes_bids: list[str], yes_asks: list[str], **params: object) -> dict[str, int]:
    row = make_market(1, bestBid=params.pop("gamma_bid", 0.5), bestAsk=0.6)
    yes, no = yes_no_tokens(row)
    books = [book(yes, yes_bids, yes_asks), book(no, [], [])]
    result = run_screen(FakeExchange([row], books), BAND.model_copy(update=params))
    assert not result.topics, result.topics
    return result.rejected


@pytest.mark.parametrize(
    ("bids", "asks"),
    [
        (["0.02"], ["-0.5"]),  # mirrored: NO bid 1.5
        (["1.5"], ["0.97"]),
        (["0.99"], ["0.97"]),  # crossed
    ],
)
def test_the_screener_selects_nothing_on_impossible_books(bids: list[str], asks: list[str]) -> None:
    assert _screened(bids, asks) == {Reason.IMPOSSIBLE_QUOTES.value: 1}


@pytest.mark.parametrize("gamma_bid", [10, "1E+999999999", -0.5])
def test_the_screener_selects_nothing_on_impossible_gamma_quotes(gamma_bid: object) -> None:
    rejected = _screened([], [], use_gamma_quotes=True, gamma_bid=gamma_bid)
    assert rejected == {Reason.IMPOSSIBLE_QUOTES.value: 1}


@pytest.mark.parametrize(
    ("bids", "asks", "reason"),
    [
        ([("0.99", "5")], [("0.97", "5")], "book_crossed"),
        ([("1.5", "5")], [], "book_price_out_of_range"),
        ([], [("-0.5", "5")], "book_price_out_of_range"),
    ],
)
def test_the_worker_refuses_the_same_books(
    bids: list[tuple[str, str]], asks: list[tuple[str, str]], reason: str
) -> None:
    update = BookUpdate(
        0, tuple(Level(D(p), D(s)) for p, s in bids), tuple(Level(D(p), D(s)) for p, s in asks)
    )
    assert book_problem(update) == reason
