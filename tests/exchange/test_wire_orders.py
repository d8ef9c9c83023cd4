"""Golden tests of the REST account listings (/data/orders, /data/trades) and /markets/{id}."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from polymaker.exchange.wire import (
    AccountIdentity,
    OrderStatus,
    Role,
    Side,
    TradeStatus,
    WireError,
    parse_clob_market,
    parse_orders_page,
    parse_trades_page,
)
from tests.conftest import load_fixture

OURS = AccountIdentity.of(
    "3e2c94ca-8124-c4c1-c7ea-be1ea21b71fe", ["0xa3D82Ed56F4c68d2328Fb8c29e568Ba2cAF7d7c8"]
)


def _open_order_item() -> dict:
    """A /data/orders item: the order event's field set without the event envelope keys."""
    item = copy.deepcopy(load_fixture("ws_user_order_placement_2024-09.json"))
    del item["event_type"], item["type"], item["timestamp"]
    return item


def test_orders_page_with_cursor() -> None:
    page = parse_orders_page({"data": [_open_order_item()], "next_cursor": "MTAw", "count": 1})
    assert page.next_cursor == "MTAw"
    [order] = page.orders
    assert order.status is OrderStatus.LIVE
    assert (order.side, order.price, order.original_size, order.size_matched) == (
        Side.BUY,
        Decimal("0.513"),
        Decimal("5"),
        Decimal("0"),
    )
    assert order.maker_address == "0xa3D82Ed56F4c68d2328Fb8c29e568Ba2cAF7d7c8"


def test_orders_page_end_cursor_and_bare_list() -> None:
    partly = _open_order_item()
    partly.update(size_matched="2.5", status="MATCHED")
    assert parse_orders_page({"data": [], "next_cursor": "LTE="}).next_cursor is None
    [order] = parse_orders_page([partly]).orders  # the drill's /_sim/orders answers a list
    assert order.remaining == Decimal("2.5")
    assert order.status is OrderStatus.MATCHED


def test_orders_page_rejects_a_bad_item() -> None:
    bad = _open_order_item()
    bad["size_matched"] = 0.0
    with pytest.raises(WireError) as caught:
        parse_orders_page({"data": [bad]})
    assert caught.value.key == "size_matched"


def test_trades_page_taker_fill_is_ours() -> None:
    item = load_fixture("clob_data_trades_item_2024-09.json")
    page = parse_trades_page({"data": [item], "next_cursor": "LTE="}, OURS)
    assert page.next_cursor is None
    [trade] = page.trades
    assert trade.trader_side is Role.TAKER
    assert trade.status is TradeStatus.CONFIRMED
    assert trade.match_time == datetime(2024, 9, 11, 8, 25, 2, tzinfo=UTC)
    assert trade.last_update == datetime(2024, 9, 11, 8, 28, 2, tzinfo=UTC)
    assert trade.transaction_hash.startswith("0x5fbfe169")
    [fill] = trade.fills
    assert fill.role is Role.TAKER
    assert fill.order_id == "0x4505aada9831d06078a005c8ec96396a78c8f06035bf763b40fc16d27a250043"
    assert (fill.side, fill.price, fill.size) == (Side.BUY, Decimal("0.489"), Decimal("5"))


def test_trades_page_same_trade_seen_by_its_maker() -> None:
    maker = AccountIdentity.of(None, ["0x1bFDF7224C358405A486b5FD8489f13c2aDcb5f3"])
    [trade] = parse_trades_page([load_fixture("clob_data_trades_item_2024-09.json")], maker).trades
    [fill] = trade.fills
    assert (fill.role, fill.side, fill.size) == (Role.MAKER, Side.SELL, Decimal("5"))


def test_clob_market_numbers_read_exactly() -> None:
    market = parse_clob_market(load_fixture("clob_market_by_condition_2024.json"))
    assert market.condition_id.startswith("0xdd22472e")
    assert market.tick_size == Decimal("0.001")  # served as the JSON number 0.001
    assert market.min_order_size == Decimal("5")
    assert market.neg_risk is True
    assert market.is_tradable is True
    assert market.end_time == datetime(2024, 11, 5, tzinfo=UTC)
    assert [(t.outcome, t.winner) for t in market.tokens] == [("Yes", False), ("No", False)]
    assert market.tokens[1].token_id.startswith("48331043336612883890")


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"minimum_tick_size": "abc"}, "minimum_tick_size"),
        ({"minimum_tick_size": 1}, "minimum_tick_size"),
        ({"minimum_order_size": True}, "minimum_order_size"),
        ({"closed": None}, "closed"),
        ({"tokens": None}, "tokens"),
        ({"end_date_iso": "soon"}, "end_date_iso"),
    ],
)
def test_clob_market_malformed(change: dict, key: str) -> None:
    payload = copy.deepcopy(load_fixture("clob_market_by_condition_2024.json"))
    payload.update(change)
    with pytest.raises(WireError) as caught:
        parse_clob_market(payload)
    assert caught.value.key == key
