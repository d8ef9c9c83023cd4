"""Golden and malformed-input tests of the book parser (REST /book, POST /books, WS book)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from polymaker.errors import UnexpectedResponseError
from polymaker.exchange.wire import PriceLevel, WireError, parse_book, parse_books
from tests.conftest import load_fixture


def test_rest_book_current_shape_negrisk_empty_ask() -> None:
    # Arrange
    payload = load_fixture("clob_book_negrisk_empty_ask_2026-08.json")
    # Act
    book = parse_book(payload)
    # Assert
    assert book.condition_id == "0x9d839bf0aa31324b9848f5b89841b779238a7c07dee2f7fca675d934e8ab5bf2"
    assert book.asset_id.startswith("72610532355343625199")
    assert book.timestamp_ms == 1785734468581
    assert book.time == datetime(2026, 8, 3, 5, 21, 8, 581000, tzinfo=UTC)
    assert book.hash == "d7df883ae546b09533a4f485bfae0810da1af04e"
    assert book.bids == (
        PriceLevel(Decimal("0.001"), Decimal("667.12")),
        PriceLevel(Decimal("0.002"), Decimal("6.99")),
    )
    assert book.asks == ()
    assert book.best_bid == PriceLevel(Decimal("0.002"), Decimal("6.99"))
    assert book.best_ask is None
    assert book.min_order_size == Decimal("5")
    assert book.tick_size == Decimal("0.001")
    assert book.neg_risk is True
    assert book.last_trade_price is None  # served as ""


def test_rest_book_2024_shape_lacks_tick_fields() -> None:
    book = parse_book(load_fixture("clob_book_2024-10.json"))
    assert book.timestamp_ms == 1728799418260
    assert len(book.bids) == 5 and len(book.asks) == 7
    assert book.best_bid == PriceLevel(Decimal("0.1"), Decimal("125"))
    assert book.best_ask == PriceLevel(Decimal("0.14"), Decimal("705"))
    assert book.asks[0] == PriceLevel(Decimal("0.98"), Decimal("5000"))  # worst first
    assert (book.tick_size, book.min_order_size, book.neg_risk, book.last_trade_price) == (
        None,
        None,
        None,
        None,
    )


def test_post_books_array_of_both_shapes() -> None:
    payload = [load_fixture("clob_book_2024-10.json"), load_fixture("ws_market_book_2026-08.json")]
    books = parse_books(payload)
    assert [b.timestamp_ms for b in books] == [1728799418260, 1786604072222]
    assert books[1].last_trade_price == Decimal("0.920")
    assert str(books[1].last_trade_price) == "0.920"  # the served text survives


def test_post_books_rejects_non_list() -> None:
    with pytest.raises(WireError):
        parse_books({"data": []})


def _book() -> dict:
    return copy.deepcopy(load_fixture("clob_book_negrisk_empty_ask_2026-08.json"))


@pytest.mark.parametrize(
    ("mutate", "key"),
    [
        (lambda d: d.pop("market"), "market"),
        (lambda d: d.pop("timestamp"), "timestamp"),
        (lambda d: d["bids"][0].update(price=0.001), "bids"),  # float where a string belongs
        (lambda d: d["bids"][0].update(price=1), "bids"),  # int: rejected the same way
        (lambda d: d["bids"][0].update(size=True), "bids"),
        (lambda d: d["bids"][0].update(price="1.2"), "bids"),
        (lambda d: d["bids"][0].update(price="0"), "bids"),
        (lambda d: d["bids"][0].update(price="NaN"), "bids"),
        (lambda d: d["bids"][0].update(size="-1"), "bids"),
        (lambda d: d["bids"][0].pop("size"), "bids"),
        (lambda d: d.update(bids="0.1:5"), "bids"),
        (lambda d: d["asks"].append(["0.5", "1"]), "asks"),
        (lambda d: d["asks"].append({"price": "0.5", "size": "Infinity"}), "asks"),
        (lambda d: d["asks"].append({"price": "0.5", "size": "1e"}), "asks"),
        (lambda d: d.update(tick_size="2"), "tick_size"),
        (lambda d: d.update(neg_risk="true"), "neg_risk"),
        (lambda d: d.update(last_trade_price="1.5"), "last_trade_price"),
        (lambda d: d.update(timestamp="2026-08-03"), "timestamp"),
    ],
)
def test_malformed_book_is_rejected_naming_the_key(
    mutate: Callable[[dict], object], key: str
) -> None:
    payload = _book()
    mutate(payload)
    with pytest.raises(WireError) as caught:
        parse_book(payload)
    assert caught.value.key == key
    assert isinstance(caught.value, UnexpectedResponseError)


def test_book_that_is_not_an_object_is_rejected() -> None:
    with pytest.raises(WireError):
        parse_book(["not", "a", "book"])
