"""Question, slug and category text for the synthetic universe (private to drill.universe).

The screener's shipped blacklist removes crypto names and sports words ("vs", "win", "Cup",
team names...), and its highlight rule wants plain markets. The ``plain`` categories below
never use those words, so favourite markets built from them survive the shipped filter;
``sports`` and ``crypto`` deliberately use them, so the blacklist has something to reject.
"""

from __future__ import annotations

import functools
import random
import re
import string
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# category -> (feeType, taker rate, rebate rate, tag label); polymarket_api.md section 7.
FEES: dict[str, tuple[str | None, float, float, str]] = {
    "politics": ("politics_fees", 0.04, 0.25, "Politics"),
    "economics": ("economics_fees", 0.05, 0.25, "Economy"),
    "weather": ("weather_fees", 0.05, 0.25, "Weather"),
    "culture": ("culture_fees", 0.05, 0.25, "Culture"),
    "tech": ("tech_fees", 0.04, 0.25, "Tech"),
    "geopolitics": (None, 0.0, 0.0, "Geopolitics"),
    "sports": ("sports_fees_v2", 0.03, 0.25, "Sports"),
    "crypto": ("crypto_fees", 0.072, 0.2, "Crypto"),
}
PLAIN_CATEGORIES = ("politics", "economics", "weather", "culture", "tech", "geopolitics")
TAG_IDS = {name: str(100_000 + i * 17) for i, name in enumerate(FEES)}

_COUNTRIES = (
    "France", "Germany", "Japan", "Brazil", "Canada", "Mexico", "Italy", "Spain", "Poland",
    "Kenya", "Chile", "Norway", "Portugal", "Austria", "Ireland", "Peru", "Greece", "Sweden",
)  # fmt: skip
_CITIES = (
    "Paris", "Tokyo", "Toronto", "Madrid", "Berlin", "Chicago", "Seattle", "Denver", "Lima",
    "Oslo", "Dublin", "Vienna", "Lisbon", "Boston", "Phoenix", "Atlanta", "Sydney", "Nairobi",
)  # fmt: skip
_PEOPLE = (
    "Elena Ruiz", "Marco Bellini", "Aiko Tanaka", "Jonas Weber", "Priya Nair", "Samuel Okafor",
    "Clara Jensen", "Tomas Novak", "Grace Liu", "Daniel Costa", "Nadia Haddad", "Oliver Grant",
)  # fmt: skip
_FILMS = ("The Long Orbit", "Paper Harbor", "Quiet Engines", "Northern Glass", "Saltwater Kings")
_COMPANIES = ("Nimbus Labs", "Orchard Systems", "Helix Motors", "Vantage Foods", "Lumen Air")
_TEAMS = ("Lions", "Falcons", "Rovers", "Tigers", "Comets", "Wolves", "Sharks", "Pilots")
_COINS = (("Bitcoin", 150_000), ("Ethereum", 6_000), ("Solana", 300), ("XRP", 4))

_TEMPLATES: dict[str, tuple[str, ...]] = {
    "politics": (
        "Will {country} hold a snap election before {date}?",
        "Will the {country} parliament pass the budget by {date}?",
        "Will {person} remain party leader through {date}?",
        "Will the {country} cabinet announce a reshuffle by {date}?",
    ),
    "economics": (
        "Will {country} inflation be above {pct}% in the report due {date}?",
        "Will the central bank of {country} cut rates by {date}?",
        "Will {country} unemployment exceed {pct}% in the report due {date}?",
        "Will {country} report positive GDP growth by {date}?",
    ),
    "weather": (
        "Will {city} record more than {mm} mm of rain on {date}?",
        "Will the high temperature in {city} exceed {temp}°F on {date}?",
        "Will {city} see snowfall by {date}?",
    ),
    "culture": (
        "Will '{film}' gross over ${money}m in its opening weekend by {date}?",
        "Will {person} release a new album by {date}?",
        "Will '{film}' top the streaming charts on {date}?",
    ),
    "tech": (
        "Will {company} announce a new product by {date}?",
        "Will {company} shares close above ${money} on {date}?",
        "Will {company} ship its next update by {date}?",
    ),
    "geopolitics": (
        "Will {country} and {country2} sign a trade agreement by {date}?",
        "Will {country} open a new embassy in {city} by {date}?",
    ),
    "sports": (
        "{team} vs. {team2}: will the {team} win on {date}?",
        "Will the {team} win the {country} Cup by {date}?",
    ),
    "crypto": (
        "Will {coin} reach ${coin_price} by {date}?",
        "Will {coin} be above ${coin_price} on {date}?",
    ),
}
_NEG_RISK_TEMPLATES = (
    (
        "Who will be the next {office} of {country}?",
        "Will {item} be the next {office} of {country}?",
    ),
    (
        "Which film will top the box office on {date}?",
        "Will '{item}' top the box office on {date}?",
    ),
)
_OFFICES = ("prime minister", "central bank governor", "finance minister", "mayor of the capital")
_SLUG_STRIP = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    """Lower-case words joined by '-' as Gamma slugs are (no punctuation)."""
    return _SLUG_STRIP.sub("-", text.lower()).strip("-")[:120]


def human_date(end_ms: int) -> str:
    """'December 5, 2026' for a question text."""
    return _day_text(end_ms // 86_400_000)


@functools.lru_cache(maxsize=4096)
def _day_text(day_number: int) -> str:
    day = datetime.fromtimestamp(day_number * 86_400, tz=UTC)
    return f"{day:%B} {day.day}, {day.year}"


def _fields(template: str) -> tuple[str, ...]:
    return tuple(name for _, name, _, _ in string.Formatter().parse(template) if name)


_TEMPLATE_FIELDS = {t: _fields(t) for group in _TEMPLATES.values() for t in group}
_POOLS: dict[str, tuple[Any, ...]] = {
    "city": _CITIES,
    "person": _PEOPLE,
    "film": _FILMS,
    "company": _COMPANIES,
    "pct": (2, 2.5, 3, 3.5, 4, 5, 6),
    "mm": (5, 10, 20),
    "temp": (50, 60, 70, 80, 90),
    "money": (20, 50, 100, 150, 200),
}


def market_question(rng: random.Random, category: str, end_ms: int) -> str:
    """One question of ``category`` whose date is the market's end date.

    Only the fields the chosen template uses are drawn (generation speed matters at 20,000).
    """
    template = rng.choice(_TEMPLATES[category])
    values: dict[str, Any] = {}
    for name in _TEMPLATE_FIELDS[template]:
        if name in values:
            continue
        if name in _POOLS:
            values[name] = rng.choice(_POOLS[name])
        elif name in ("country", "country2"):
            values["country"], values["country2"] = rng.sample(_COUNTRIES, 2)
        elif name in ("team", "team2"):
            values["team"], values["team2"] = rng.sample(_TEAMS, 2)
        elif name in ("coin", "coin_price"):
            coin, base = rng.choice(_COINS)
            values["coin"] = coin
            values["coin_price"] = f"{round(base * rng.uniform(0.7, 1.4)):,}"
        elif name == "date":
            values["date"] = human_date(end_ms)
    return template.format(**values)


@dataclass(frozen=True)
class NegRiskText:
    """Texts of one multi-outcome event: its title and one question per outcome."""

    category: str
    title: str
    items: tuple[str, ...]
    questions: tuple[str, ...]


def neg_risk_text(rng: random.Random, n_outcomes: int, end_ms: int) -> NegRiskText:
    """A multi-outcome (negative-risk) event: candidates or films, one market each."""
    index = rng.randrange(len(_NEG_RISK_TEMPLATES))
    title_t, question_t = _NEG_RISK_TEMPLATES[index]
    pool = _PEOPLE if index == 0 else _FILMS + tuple(f"{p}: The Movie" for p in _PEOPLE)
    items = tuple(rng.sample(pool, min(n_outcomes, len(pool))))
    fill = {"office": rng.choice(_OFFICES), "country": rng.choice(_COUNTRIES)}
    fill["date"] = human_date(end_ms)
    title = title_t.format(**fill)
    questions = tuple(question_t.format(item=item, **fill) for item in items)
    return NegRiskText("politics" if index == 0 else "culture", title, items, questions)


def description(question: str, end_iso: str) -> str:
    """A resolution text in the style of Gamma descriptions."""
    return (
        f'This market will resolve to "Yes" if the following is true: {question} '
        f'The market ends at {end_iso}. Otherwise, this market will resolve to "No".'
    )
