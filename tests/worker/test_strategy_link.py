"""The worker's strategy link logs the input the strategy refuses (bad exchange data above all)."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from polymaker.config.worker_params import parse_worker_params
from polymaker.strategy.commands import PlaceOrder
from polymaker.strategy.events import (
    AllOrdersCanceled,
    BookUpdate,
    Fill,
    Level,
    OrderAccepted,
    OrderUpdate,
    Side,
    Timer,
    TradeStatus,
)
from polymaker.worker.strategy_link import StrategyLink
from tests.config.test_worker_params import valid_params

T0 = 1_800_000_000_000


def _book(ts: int, bid: str) -> BookUpdate:
    return BookUpdate(
        ts, (Level(Decimal(bid), Decimal(100)),), (Level(Decimal("0.93"), Decimal(100)),)
    )


def _buying(link: StrategyLink) -> str:
    """Start, warm the 10-minute window at 0.90, dip to 0.88: the buy is placed and accepted."""
    link.handle(Timer(T0))
    link.handle(AllOrdersCanceled(T0, 0))
    ts = T0
    for _ in range(125):
        ts += 5_000
        link.handle(_book(ts, "0.90"))
    place = [c for c in link.handle(_book(ts + 5_000, "0.88")) if isinstance(c, PlaceOrder)]
    assert len(place) == 1 and place[0].side == Side.BUY
    link.handle(OrderAccepted(ts + 6_000, place[0].client_ref, "0xbuy"))
    return "0xbuy"


def test_a_fill_beyond_its_order_is_logged_every_time_with_the_detail(
    caplog: pytest.LogCaptureFixture,
) -> None:
    link = StrategyLink(parse_worker_params(valid_params()))
    order = _buying(link)
    now = T0 + 700_000
    bad = Fill(now, "t1", order, Side.BUY, Decimal("0.88"), Decimal(15), TradeStatus.MATCHED)
    with caplog.at_level(logging.WARNING, logger="polymaker.worker.strategy_link"):
        link.handle(bad)
        link.handle(OrderUpdate(now, order, Decimal(15)))
        link.handle(OrderUpdate(now, "0xstranger", Decimal(1)))
        link.handle(OrderUpdate(now, "0xstranger", Decimal(2)))
    lines = [record.getMessage() for record in caplog.records]
    assert any("fill_oversized" in line and "exceeds" in line for line in lines)
    assert any("order_update_oversized" in line for line in lines)
    assert sum("unknown_order" in line for line in lines) == 1  # routine: logged once
    snap = link.snapshot()
    assert snap is not None and snap.position == 0
