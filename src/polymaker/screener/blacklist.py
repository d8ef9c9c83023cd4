"""The blacklist matcher (pure): excluded terms and regexes over a market's texts.

Terms match case-insensitively. A short alphabetic term (at most 3 letters, e.g. ``BTC``,
``vs``, ``Sol``) matches only as a whole word, so ``Sol`` does not remove "Solomon Islands" and
``vs`` does not remove "canvas"; any other term is a plain substring (``Up or Down``, ``O/U``).
Regexes are searched case-insensitively as written, with RE2 (``config.user_regex``): linear
time, so no pattern can stall a screen. The texts are joined with newlines so a term never
matches across two fields.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from polymaker.config.user_regex import regex_problem, user_regex_search

WHOLE_WORD_MAX_LEN = 3


def is_whole_word_term(term: str) -> bool:
    """True for terms matched as whole words: alphabetic and at most 3 characters."""
    return term.isalpha() and len(term) <= WHOLE_WORD_MAX_LEN


@dataclass(frozen=True)
class Blacklist:
    """Compiled terms and regexes; ``match`` names the first entry that hits, or None.

    Built for speed over tens of thousands of markets: every term is first a plain ``in``
    test on the case-folded text (one big regex alternation is several times slower in
    Python's ``re``); a whole-word term that is present as a substring is then confirmed with
    its ``\\bterm\\b`` pattern.
    """

    terms: tuple[str, ...]
    regexes: tuple[str, ...]
    _words: tuple[tuple[str, str, re.Pattern[str]], ...]  # (folded, original, \bfolded\b)
    _substrings: tuple[tuple[str, str], ...]
    _patterns: tuple[tuple[str, str], ...]  # (name in results, RE2 pattern)

    @classmethod
    def compile(cls, terms: Iterable[str], regexes: Iterable[str] = ()) -> Blacklist:
        """Build the matcher; duplicate terms (ignoring case) are kept once.

        A regex RE2 refuses is a ValueError (``FilterParams`` refuses it at load already).
        """
        unique: dict[str, str] = {}
        for term in terms:
            unique.setdefault(term.casefold(), term)
        words = tuple(
            (k, t, re.compile(rf"\b{re.escape(k)}\b"))
            for k, t in unique.items()
            if is_whole_word_term(t)
        )
        substrings = tuple((k, t) for k, t in unique.items() if not is_whole_word_term(t))
        for pattern in regexes:
            problem = regex_problem(pattern)
            if problem is not None:
                raise ValueError(f"blacklist regex {pattern!r} {problem}")
        patterns = tuple((f"regex {p}", p) for p in regexes)
        return cls(tuple(unique.values()), tuple(regexes), words, substrings, patterns)

    def match(self, texts: Iterable[str | None]) -> str | None:
        """The first term (or ``regex <pattern>``) found in any of ``texts``, else None.

        The texts are joined with newlines, so no term matches across two fields.
        """
        haystack = "\n".join(text for text in texts if text)
        folded = haystack.casefold()
        for key, term, pattern in self._words:
            if key in folded and pattern.search(folded):
                return term
        for key, term in self._substrings:
            if key in folded:
                return term
        for name, regex in self._patterns:
            if user_regex_search(regex, haystack):
                return name
        return None


__all__ = ["WHOLE_WORD_MAX_LEN", "Blacklist", "is_whole_word_term"]
