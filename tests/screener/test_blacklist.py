"""The blacklist matcher: case, whole words for short alphabetic terms, regexes, fields."""

from __future__ import annotations

import pytest

from polymaker.screener.blacklist import Blacklist, is_whole_word_term


@pytest.mark.parametrize(
    ("text", "hit"),
    [
        ("Will BTC hit 100k?", "BTC"),
        ("will-btc-hit-100k", "BTC"),
        ("Solomon Islands election", None),
        ("SOL above $200?", "Sol"),
        ("canvas sales", None),
        ("FaZe vs illwill", "vs"),
        ("Bitcoin Up or Down today", "Up or Down"),
        ("Total O/U 2.5", "O/U"),
        ("price of a dozen eggs", "a dozen eggs"),
        ("Will the Fed cut rates?", None),
    ],
)
def test_terms(text, hit):
    blacklist = Blacklist.compile(["BTC", "Sol", "vs", "Up or Down", "O/U", "a dozen eggs"])
    assert blacklist.match([text]) == hit


def test_long_terms_are_substrings():
    assert Blacklist.compile(["Token"]).match(["tokenized stocks"]) == "Token"


def test_whole_word_rule():
    assert is_whole_word_term("BTC") and is_whole_word_term("vs")
    assert not is_whole_word_term("odds")
    assert not is_whole_word_term("O/U")
    assert not is_whole_word_term("F1")


def test_duplicates_ignoring_case_are_kept_once():
    assert Blacklist.compile(["BTC", "btc", "Btc"]).terms == ("BTC",)


def test_regexes_are_case_insensitive_and_named():
    blacklist = Blacklist.compile([], [r"^will trump", r"(?i)\bnba\b"])
    assert blacklist.match(["Will Trump sign it?"]) == "regex ^will trump"
    assert blacklist.match(["NBA finals"]) == r"regex (?i)\bnba\b"
    assert blacklist.match(["Someone else"]) is None


def test_fields_are_not_joined_into_false_matches():
    blacklist = Blacklist.compile(["end start"])
    assert blacklist.match(["the end", "start here"]) is None
    assert blacklist.match(["the end start"]) == "end start"


def test_none_texts_are_skipped_and_empty_blacklist_matches_nothing():
    assert Blacklist.compile([]).match(["anything", None]) is None
    assert Blacklist.compile(["x y"]).match([None, "x y"]) == "x y"
