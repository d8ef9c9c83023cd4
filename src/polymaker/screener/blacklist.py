"""The blacklist matcher (pure): excluded terms and regexes over a market's texts.

Terms match case-insensitively. A short alphabetic term (at most 3 letters, e.g. ``BTC``,
``vs``, ``Sol``) matches only as a whole word, so ``Sol`` does not remove "Solomon Islands" and
``vs`` does not remove "canvas"; any other term is a plain substring (``Up or Down``, ``O/U``).
Regexes are searched case-insensitively as written. The texts are joined with newlines so a
term never matches across two fields.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

WHOLE_WORD_MAX_LEN = 3


def is_whole_word_term(term: str) -> bool:
    """True for terms matched as whole words: alphabetic and at most 3 characters."""
    return term.isalpha() and len(term) <= WHOLE_WORD_MAX_LEN


def _term_pattern(term: str) -> str:
    escaped = re.escape(term)
    return rf"\b{escaped}\b" if is_whole_word_term(term) else escaped


@dataclass(frozen=True)
class Blacklist:
    """Compiled terms and regexes; ``match`` names the first entry that hits, or None.

    The terms are also joined into one alternation, so the common case (no hit) costs a single
    search; regexes are searched one by one (a user pattern may carry inline flags that cannot
    be embedded in an alternation).
    """

    terms: tuple[str, ...]
    regexes: tuple[str, ...]
    _any_term: re.Pattern[str] | None
    _each_term: tuple[tuple[str, re.Pattern[str]], ...]
    _each_regex: tuple[tuple[str, re.Pattern[str]], ...]

    @classmethod
    def compile(cls, terms: Iterable[str], regexes: Iterable[str] = ()) -> Blacklist:
        """Build the matcher; duplicate terms (ignoring case) are kept once."""
        unique: dict[str, str] = {}
        for term in terms:
            unique.setdefault(term.casefold(), term)
        kept = tuple(unique.values())
        patterns = tuple(regexes)
        any_term = (
            re.compile("|".join(_term_pattern(t) for t in kept), re.IGNORECASE) if kept else None
        )
        each_term = tuple((t, re.compile(_term_pattern(t), re.IGNORECASE)) for t in kept)
        each_regex = tuple((f"regex {p}", re.compile(p, re.IGNORECASE)) for p in patterns)
        return cls(kept, patterns, any_term, each_term, each_regex)

    def match(self, texts: Iterable[str | None]) -> str | None:
        """The first term (or ``regex <pattern>``) found in any of ``texts``, else None."""
        haystack = "\n".join(text for text in texts if text)
        if self._any_term is not None and self._any_term.search(haystack):
            for name, pattern in self._each_term:
                if pattern.search(haystack):
                    return name
        for name, pattern in self._each_regex:
            if pattern.search(haystack):
                return name
        return None


__all__ = ["WHOLE_WORD_MAX_LEN", "Blacklist", "is_whole_word_term"]
