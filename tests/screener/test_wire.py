"""Decoding Gamma pages and ``/books`` answers: bad rows are rejected one by one, pages kept."""

from __future__ import annotations

import orjson
import pytest

from polymaker.screener.model import Reason, Rejection
from polymaker.screener.wire import (
    GammaMarket,
    decode_books,
    decode_keyset_page,
    decode_offset_page,
)
from tests.conftest import load_fixture
from tests.screener.fakes import book, make_market


def test_real_market_object_decodes_only_the_used_fields():
    row = load_fixture("gamma_market_v1_with_positionIds_and_feeSchedule_2026-08.json")
    page = decode_keyset_page(orjson.dumps({"markets": [row], "next_cursor": "abc"}))
    (market,) = page.rows
    assert isinstance(market, GammaMarket)
    assert page.next_cursor == "abc"
    assert market.id == row["id"] and market.version == "v1"
    assert market.positionIds == row["positionIds"]
    assert str(market.volumeNum) == repr(row["volumeNum"])


def test_one_bad_row_is_rejected_and_the_rest_of_the_page_kept():
    rows = [make_market(1), make_market(2, active=[1]), ["not", "a", "row"], make_market(3)]
    page = decode_keyset_page(orjson.dumps({"markets": rows}))
    assert page.next_cursor is None
    good = [r.id for r in page.rows if isinstance(r, GammaMarket)]
    assert good == ["1001", "1003"]
    bad = [r for r in page.rows if isinstance(r, Rejection)]
    assert [(r.market_id, r.slug, r.reason) for r in bad] == [
        ("1002", "market-2", Reason.MALFORMED),
        (None, None, Reason.MALFORMED),
    ]
    assert "$.active" in bad[0].detail and "row is a list" in bad[1].detail


def test_offset_pages_are_a_list_or_a_data_envelope():
    rows = [make_market(1), make_market(2, slug=7)]
    for body in (rows, {"data": rows}):
        decoded = decode_offset_page(orjson.dumps(body))
        assert isinstance(decoded[0], GammaMarket) and isinstance(decoded[1], Rejection)


@pytest.mark.parametrize("body", [b"[1, 2]", b"<html>", b'{"markets": 3}'])
def test_a_body_that_is_not_a_keyset_page_raises_value_error(body):
    with pytest.raises(ValueError, match="'markets' list"):
        decode_keyset_page(body)


@pytest.mark.parametrize("body", [b'{"data": 3}', b"<html>", b'{"markets": []}'])
def test_a_body_that_is_not_an_offset_page_raises_value_error(body):
    with pytest.raises(ValueError, match="list of markets"):
        decode_offset_page(body)


def test_books_answer_keeps_good_entries_and_lists_bad_ones():
    good = book("11", ["0.5"], ["0.6"])
    answer = decode_books(orjson.dumps([good, {"asset_id": "12", "bids": [{"price": "x"}]}]))
    assert [e.asset_id for e in answer.entries] == ["11"]
    assert len(answer.bad) == 1
    with pytest.raises(ValueError):
        decode_books(b'{"error": "nope"}')
