"""``config/filter_params.json``: what the screener selects (docs/screener.md lists every key).

Defaults are the reference screener's shipped values where those make sense (favourite side
with an ask of 0.955-0.995, ending 5-48 h from now, at least 10,000 USDC traded), minus its
known mistakes (the blacklist term ``win`` that removed every "Will X win ...?" market).
Money thresholds are ``Decimal``; a JSON float is read through ``str()`` so 0.955 stays 0.955.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, Strict, ValidationInfo, field_validator

from polymaker.config import ConfigModel, load_config_file
from polymaker.config.user_regex import regex_problem

DEFAULT_BLACKLIST_TERMS: tuple[str, ...] = (
    "BTC", "ETH", "Bitcoin", "Ethereum", "Solana", "Sol", "BNB", "ADA", "XRP", "Dogecoin",
    "Crypto", "NFT", "Up or Down", "O/U", "vs", "odds", "score", "spread", "moneyline",
    "Cup", "lol", "EPL", "PGA", "NBA", "NFL", "NHL", "MLB", "UFC",
    "Will Elon Musk post", "What will Powell say", "a dozen eggs",
)  # fmt: skip


def _to_decimal(value: Any) -> Decimal:
    """A money value: JSON number or decimal string; bools and non-finite values refused."""
    if isinstance(value, bool):
        raise ValueError("must be a number, not true/false")
    if isinstance(value, int | float | str):
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError("must be a decimal number") from None
        if not number.is_finite():
            raise ValueError("must be a finite number")
        return number
    if isinstance(value, Decimal):
        return value
    raise ValueError("must be a number")


def _to_terms(value: Any) -> Any:
    """``only`` may be one string (the reference's form) or a list of strings; "" means off."""
    if isinstance(value, str):
        return () if not value.strip() else (value,)
    return value


def _to_side(value: Any) -> Any:
    if isinstance(value, str) and value.lower() in ("yes", "no", "higher"):
        return value.lower() if value.lower() == "higher" else value.upper()
    return value


MAX_VOLUME_USDC = Decimal("1e12")
MAX_END_HOURS = 10 * 366 * 24.0  # ten years: far beyond any market a swing trader screens

Money = Annotated[Decimal, BeforeValidator(_to_decimal), Field(ge=0, le=MAX_VOLUME_USDC)]
Price = Annotated[Decimal, BeforeValidator(_to_decimal), Field(gt=0, le=1)]
Spread = Annotated[Decimal, BeforeValidator(_to_decimal), Field(ge=0, le=1)]
Hours = Annotated[float, Strict(), Field(ge=0, le=MAX_END_HOURS, allow_inf_nan=False)]
Terms = tuple[Annotated[str, Strict()], ...]


class FilterParams(ConfigModel):
    """Screener criteria and fetch bounds. Every key is optional; see docs/screener.md.

    min_end_hours / max_end_hours: the market must end inside [now + min, now + max] hours.
    min_total_volume / min_volume_24h / min_liquidity: USDC floors (Gamma volumeNum/volume,
      volume24hr, liquidityNum/liquidity; a missing figure counts as 0).
    ask_min / ask_max: band for the chosen side's best ask; max_spread: maximum ask - bid there.
    prefer_side: NO, YES or higher (the side with the higher ask) when both sides qualify.
    one_per_event: keep one market per Gamma event (tie-break in docs/screener.md).
    blacklist_terms / blacklist_regex: excluded by question, slug, event title or tags (the
      regexes in RE2 syntax, matched in linear time: ``config.user_regex``).
    only: allow-list of substrings (question or slug); exclude_slugs: never these markets.
    max_topics: cap on the result (None = no cap).
    use_gamma_quotes: take bid/ask from Gamma's listing (YES side; NO = 1 - YES) and skip
      the order books; faster, but the listing's quotes are snapshots, not live books.
    books_both_tokens: fetch the NO token's book too instead of mirroring the YES book
      (NO bid = 1 - YES ask, NO ask = 1 - YES bid); doubles the book traffic.
    books_batch_size / books_concurrency: tokens per ``POST /books`` and batches in flight.
    listing_windows: the end-date window is split into this many sub-windows, each with its
      own keyset cursor chain, fetched concurrently.
    page_size: markets per Gamma page (keyset serves at most 100).
    timeout_s / retries / backoff_base_s / backoff_max_s: per-request bounds.
    """

    min_end_hours: Hours = 5.0
    max_end_hours: Hours = 48.0
    min_total_volume: Money = Decimal("10000")
    min_volume_24h: Money = Decimal("0")
    min_liquidity: Money = Decimal("0")
    ask_min: Price = Decimal("0.955")
    ask_max: Price = Decimal("0.995")
    max_spread: Spread = Decimal("0.20")
    prefer_side: Annotated[Literal["NO", "YES", "higher"], BeforeValidator(_to_side)] = "NO"
    one_per_event: Annotated[bool, Strict()] = True
    blacklist_terms: Terms = DEFAULT_BLACKLIST_TERMS
    blacklist_regex: Terms = ()
    only: Annotated[Terms, BeforeValidator(_to_terms)] = ()
    exclude_slugs: Terms = ()
    max_topics: Annotated[int, Strict(), Field(ge=1, le=10_000)] | None = None
    use_gamma_quotes: Annotated[bool, Strict()] = False
    books_both_tokens: Annotated[bool, Strict()] = False
    books_batch_size: Annotated[int, Strict(), Field(ge=1, le=500)] = 100
    books_concurrency: Annotated[int, Strict(), Field(ge=1, le=32)] = 4
    listing_windows: Annotated[int, Strict(), Field(ge=1, le=32)] = 4
    page_size: Annotated[int, Strict(), Field(ge=1, le=500)] = 100
    timeout_s: Annotated[float, Strict(), Field(ge=0.1, le=300, allow_inf_nan=False)] = 10.0
    retries: Annotated[int, Strict(), Field(ge=0, le=20)] = 3
    backoff_base_s: Annotated[float, Strict(), Field(ge=0, le=60, allow_inf_nan=False)] = 0.25
    backoff_max_s: Annotated[float, Strict(), Field(ge=0, le=300, allow_inf_nan=False)] = 8.0

    @field_validator("max_end_hours")
    @classmethod
    def _window_order(cls, value: float, info: ValidationInfo) -> float:
        low = info.data.get("min_end_hours")
        if low is not None and value < low:
            raise ValueError(f"must be >= min_end_hours ({low:g}), got {value:g}")
        return value

    @field_validator("ask_max")
    @classmethod
    def _band_order(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        low = info.data.get("ask_min")
        if low is not None and value < low:
            raise ValueError(f"ask_min ({low}) must be <= ask_max ({value})")
        return value

    @field_validator("blacklist_regex")
    @classmethod
    def _regexes_usable(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for index, pattern in enumerate(value):
            problem = regex_problem(pattern)
            if problem is not None:
                raise ValueError(f"item {index} {pattern[:60]!r} {problem}")
        return value

    @field_validator("blacklist_terms", "only", "exclude_slugs")
    @classmethod
    def _no_empty_terms(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not term.strip() for term in value):
            raise ValueError("contains an empty string (it would match everything)")
        return value

    def criteria_document(self) -> dict[str, Any]:
        """The parameters as JSON-ready values (Decimals as strings), for the result file."""
        return self.model_dump(mode="json")


def load_filter_params(path: Path | str) -> FilterParams:
    """Read and validate a filter_params.json; problems raise ConfigError (file, key, problem)."""
    return load_config_file(FilterParams, path)


__all__ = ["DEFAULT_BLACKLIST_TERMS", "FilterParams", "load_filter_params"]
