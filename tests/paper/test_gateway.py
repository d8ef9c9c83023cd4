"""PaperGateway on a mocked public exchange: refusals like the venue's, fills from market
frames, the user-channel events they produce, balances and the persisted ledger."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import httpx
import orjson
import pytest

from polymaker.exchange.gateway import Accepted, RejectCode, Rejected, classify_rejection
from polymaker.exchange.http import JsonHttp
from polymaker.exchange.user_feed import Reconnected
from polymaker.exchange.wire import OrderEvent, OrderEventKind, OrderStatus, TradeEvent
from polymaker.exchange.wire import TradeStatus as WireTradeStatus
from polymaker.paper.gateway import PaperGateway
from polymaker.paper.ledger import PaperLedger

D = Decimal
CID = "0xcond"
YES, NO = "111", "222"
CLOB = "http://clob.test"
T0 = 1_790_000_000_000  # epoch ms, as the venue sends them


def market_json(**overrides) -> dict:
    document = {
        "condition_id": CID,
        "question": "Will it?",
        "market_slug": "will-it",
        "tokens": [{"token_id": YES, "outcome": "Yes"}, {"token_id": NO, "outcome": "No"}],
        "minimum_tick_size": 0.01,
        "minimum_order_size": 5,
        "neg_risk": False,
        "active": True,
        "closed": False,
        "accepting_orders": True,
        "enable_order_book": True,
        "end_date_iso": "2030-01-01T00:00:00Z",
    }
    document.update(overrides)
    return document


def book_json(token: str, bids, asks) -> dict:
    return {
        "market": CID,
        "asset_id": token,
        "timestamp": "1000",
        "hash": "h",
        "bids": [{"price": p, "size": s} for p, s in bids],
        "asks": [{"price": p, "size": s} for p, s in asks],
        "tick_size": "0.01",
    }


class FakeClob:
    def __init__(self, **market_overrides) -> None:
        self.market = market_json(**market_overrides)
        self.books = {
            YES: book_json(
                YES, [("0.40", "100"), ("0.45", "50")], [("0.55", "30"), ("0.50", "20")]
            ),
            NO: book_json(NO, [("0.50", "20")], [("0.55", "50")]),
        }
        self.requests: list[str] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(f"{request.method} {request.url.path}")
        if request.url.path == f"/markets/{CID}":
            return httpx.Response(200, json=self.market)
        if request.url.path == "/book":
            return httpx.Response(200, json=self.books[request.url.params["token_id"]])
        return httpx.Response(404, json={"error": "not found"})


def make_gateway(fake: FakeClob, cash: str = "100", **kwargs) -> PaperGateway:
    http = JsonHttp(transport=httpx.MockTransport(fake.handler))
    clock = iter(range(10_000, 10**9, 10))
    return PaperGateway(http, CLOB, cash=D(cash), clock_ms=lambda: next(clock), **kwargs)


def trade_frame(price: str, size: str, side: str, token: str = YES, ts: int = T0) -> bytes:
    return orjson.dumps(
        {
            "event_type": "last_trade_price",
            "market": CID,
            "asset_id": token,
            "price": price,
            "size": size,
            "side": side,
            "fee_rate_bps": "0",
            "timestamp": str(ts),
        }
    )


def level_frame(price: str, size: str, side: str, ts: int = T0) -> bytes:
    return orjson.dumps(
        {
            "event_type": "price_change",
            "market": CID,
            "timestamp": str(ts),
            "price_changes": [{"asset_id": YES, "price": price, "size": size, "side": side}],
        }
    )


def drain(gateway: PaperGateway) -> list:
    async def collect() -> list:
        feed = gateway.user_feed()
        events = [await feed.__anext__()]
        while not gateway._events.empty():
            events.append(await feed.__anext__())
        return events

    return asyncio.run(collect())


def test_orders_on_an_unknown_market_are_refused():
    gateway = make_gateway(FakeClob())
    outcome = asyncio.run(gateway.place_post_only(YES, "BUY", D("0.45"), D(10)))
    assert isinstance(outcome, Rejected) and outcome.code is RejectCode.MARKET_CLOSED


@pytest.mark.parametrize(
    ("side", "price", "size", "code"),
    [
        ("BUY", "0.455", "10", RejectCode.TICK_SIZE),
        ("BUY", "0.00", "10", RejectCode.TICK_SIZE),
        ("BUY", "0.45", "4", RejectCode.MIN_SIZE),
        ("BUY", "0.50", "10", RejectCode.POST_ONLY_WOULD_CROSS),
        ("SELL", "0.45", "10", RejectCode.POST_ONLY_WOULD_CROSS),
        ("BUY", "0.45", "300", RejectCode.NOT_ENOUGH_BALANCE),
        ("SELL", "0.60", "10", RejectCode.NOT_ENOUGH_BALANCE),
    ],
)
def test_refusals_match_the_venue(side, price, size, code):
    fake = FakeClob()
    gateway = make_gateway(fake)

    async def run():
        await gateway.market_info(CID)
        return await gateway.place_post_only(YES, side, D(price), D(size))

    outcome = asyncio.run(run())
    assert isinstance(outcome, Rejected) and outcome.code is code
    assert classify_rejection(outcome.message) is code  # the venue's words, the same codes
    assert f"GET /markets/{CID}" in fake.requests and "GET /book" in fake.requests


def test_a_closed_market_refuses_orders():
    gateway = make_gateway(FakeClob(accepting_orders=False))

    async def run():
        await gateway.market_info(CID)
        return await gateway.place_post_only(YES, "BUY", D("0.45"), D(10))

    assert asyncio.run(run()).code is RejectCode.MARKET_CLOSED


def test_open_buys_reserve_cash():
    gateway = make_gateway(FakeClob(), cash="10")

    async def run():
        await gateway.market_info(CID)
        first = await gateway.place_post_only(YES, "BUY", D("0.45"), D(20))
        second = await gateway.place_post_only(YES, "BUY", D("0.44"), D(5))
        return first, second

    first, second = asyncio.run(run())
    assert isinstance(first, Accepted)
    assert isinstance(second, Rejected) and second.code is RejectCode.NOT_ENOUGH_BALANCE


def test_a_fill_moves_balances_and_emits_user_channel_events(tmp_path):
    ledger = tmp_path / "paper" / "ledger.json"
    gateway = make_gateway(FakeClob(), ledger_path=ledger)

    async def place():
        await gateway.market_info(CID)
        return await gateway.place_post_only(YES, "BUY", D("0.45"), D(10))

    accepted = asyncio.run(place())
    assert isinstance(accepted, Accepted) and accepted.status == "live"
    gateway.on_frame(trade_frame("0.45", "52", "SELL"))  # 50 ahead of us, then 2 for us
    gateway.on_frame(trade_frame("0.46", "99", "SELL"))  # above our bid: nothing
    events = drain(gateway)
    assert isinstance(events[0], Reconnected)
    kinds = [(type(e).__name__, getattr(e, "kind", None)) for e in events[1:]]
    assert kinds == [
        ("OrderEvent", OrderEventKind.PLACEMENT),
        ("OrderEvent", OrderEventKind.UPDATE),
        ("TradeEvent", None),
        ("TradeEvent", None),
    ]
    update = events[2]
    assert isinstance(update, OrderEvent) and update.order.size_matched == D(2)
    trades = [e for e in events if isinstance(e, TradeEvent)]
    assert [t.trade.status for t in trades] == [WireTradeStatus.MATCHED, WireTradeStatus.CONFIRMED]
    (fill,) = trades[0].trade.fills
    assert (fill.order_id, fill.asset_id, str(fill.side), fill.price, fill.size) == (
        accepted.order_id,
        YES,
        "BUY",
        D("0.45"),
        D(2),
    )
    assert trades[0].trade.condition_id == CID

    async def reads():
        return (
            await gateway.collateral_balance(),
            await gateway.token_balance(YES),
            await gateway.fills(CID),
            await gateway.open_orders(CID),
        )

    cash, shares, fills, open_orders = asyncio.run(reads())
    assert (cash, shares) == (D("99.10"), D(2))
    assert [(f.size, f.status) for f in fills] == [(D(2), WireTradeStatus.CONFIRMED)]
    assert [(o.order_id, o.size_matched) for o in open_orders] == [(accepted.order_id, D(2))]
    assert oct(ledger.stat().st_mode & 0o777) == "0o600"
    reopened = PaperLedger.open(ledger, D(5))
    assert (reopened.cash, reopened.shares, reopened.fills) == (D("99.10"), {YES: D(2)}, fills)
    assert json.loads(ledger.read_text())["fills"][0]["match_time_ms"] == T0


def test_cancel_and_confirm_no_open_orders():
    gateway = make_gateway(FakeClob())

    async def run():
        await gateway.market_info(CID)
        first = await gateway.place_post_only(YES, "BUY", D("0.44"), D(10))
        second = await gateway.place_post_only(YES, "BUY", D("0.43"), D(10))
        one = await gateway.cancel(first.order_id)
        again = await gateway.cancel(first.order_id)
        unknown = await gateway.cancel("nope")
        remaining = await gateway.confirm_no_open_orders(CID, timeout_s=1)
        final = await gateway.get_order(second.order_id)
        return first, one, again, unknown, remaining, final

    first, one, again, unknown, remaining, final = asyncio.run(run())
    assert one.canceled == (first.order_id,)
    assert again.canceled == () and first.order_id in again.not_canceled
    assert unknown.not_canceled == {"nope": "order not found"}
    assert remaining == [] and final.status is OrderStatus.CANCELED
    gateway.on_frame(trade_frame("0.30", "1000", "SELL"))  # cancelled orders never fill
    cancellations = [
        e
        for e in drain(gateway)
        if isinstance(e, OrderEvent) and e.kind is OrderEventKind.CANCELLATION
    ]
    assert len(cancellations) == 2


def test_queue_follows_level_changes_from_frames():
    gateway = make_gateway(FakeClob())

    async def place():
        await gateway.market_info(CID)
        return await gateway.place_post_only(YES, "BUY", D("0.45"), D(10))

    accepted = asyncio.run(place())
    gateway.on_frame(level_frame("0.45", "20", "BUY"))  # 30 of the 50 ahead left
    gateway.on_frame(trade_frame("0.45", "25", "SELL", ts=T0 + 9000))  # 20 ahead, 5 for us
    order = asyncio.run(gateway.get_order(accepted.order_id))
    assert order.size_matched == D(5)


def test_a_tick_size_change_moves_the_grid():
    gateway = make_gateway(FakeClob())
    asyncio.run(gateway.market_info(CID))
    frame = {
        "event_type": "tick_size_change",
        "market": CID,
        "asset_id": YES,
        "old_tick_size": "0.01",
        "new_tick_size": "0.001",
        "timestamp": str(T0),
    }
    gateway.on_frame(orjson.dumps(frame))
    outcome = asyncio.run(gateway.place_post_only(YES, "BUY", D("0.455"), D(10)))
    assert isinstance(outcome, Accepted)
