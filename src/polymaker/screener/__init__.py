"""The market screener: which markets are worth trading (issue 3, docs/screener.md).

Library entry for the supervisor::

    result = screen(params, gamma_url=..., clob_url=...)        # or: await screen_async(...)
    write_result(result, "data/topics_filtered.json")

``screen`` raises ``polymaker.errors.ExchangeError`` when the listing cannot be fetched after
retries; an empty ``result.topics`` therefore always means "nothing qualified".
"""

from polymaker.config.filter import FilterParams, load_filter_params
from polymaker.screener.model import Candidate, Quote, Reason, Rejection, Topic
from polymaker.screener.output import result_document, write_csv, write_result
from polymaker.screener.screen import (
    ScreenResult,
    ScreenStats,
    screen,
    screen_async,
    screen_market_async,
)

__all__ = [
    "Candidate",
    "FilterParams",
    "Quote",
    "Reason",
    "Rejection",
    "ScreenResult",
    "ScreenStats",
    "Topic",
    "load_filter_params",
    "result_document",
    "screen",
    "screen_async",
    "screen_market_async",
    "write_csv",
    "write_result",
]
