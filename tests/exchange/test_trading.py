"""Trading: outcomes as values, error translation, retries, and lost-order reconciliation.

The SDK client is replaced by a hand-written fake with the same method names; its listings
serve recorded venue payloads, so parsing runs on real shapes.
"""

from __future__ import annotations

import asyncio
import copy
import json
from decimal import Decimal
from typing import Any

import httpx
import pytest
from eth_account import Account
from polymarket import errors as sdk
from polymarket.models.clob import AcceptedOrder, RejectedOrder

from polymaker.drill.server import SimOptions
from polymaker.drill.testing import in_process_sim
from polymaker.errors import (
    ConfigError,
    RequestRejectedError,
    TransportError,
    UnexpectedResponseError,
)
from polymaker.exchange.gateway import Accepted, RejectCode, Rejected, classify_rejection
from polymaker.exchange.ratelimit import CANCEL, ORDER, PUBLIC, AccountRateLimiter, BucketSpec
from polymaker.exchange.retry import RetryPolicy
from polymaker.exchange.trading import Trading, open_trading
from tests.conftest import load_fixture

OUR_ADDRESS = "0x1bFDF7224C358405A486b5FD8489f13c2aDcb5f3"  # the maker in the trade fixture
TOKEN = "21742633143463906290569050155826241533067272736897614950488156847949938836455"
MARKET = "0xdd22472e552920b8438158ea7238bfadfa4f736aa4cee91a6b86c39ead110917"


class _Creds:
    key = "our-api-key"


def _open_order(order_id: str, price: str = "0.45", size: str = "10") -> dict[str, Any]:
    return {
        "id": order_id,
        "status": "LIVE",
        "owner": "our-api-key",
        "maker_address": OUR_ADDRESS,
        "market": MARKET,
        "asset_id": TOKEN,
        "side": "BUY",
        "price": price,
        "original_size": size,
        "size_matched": "0",
        "outcome": "Yes",
        "order_type": "GTC",
        "associate_trades": [],
        "created_at": 1726043102,
        "expiration": "0",
    }


class FakeTransport:
    """Serves scripted answers per path; an exception in the script is raised instead."""

    def __init__(self) -> None:
        self.answers: dict[str, list[Any]] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def get_json(self, path: str, *, params: dict[str, Any]) -> Any:
        self.calls.append((path, dict(params)))
        script = self.answers[path]
        answer = script.pop(0) if len(script) > 1 else script[0]
        if isinstance(answer, Exception):
            raise answer
        return copy.deepcopy(answer)


class FakeClient:
    """The subset of ``AsyncSecureClient`` that Trading uses."""

    def __init__(self) -> None:
        self.wallet = OUR_ADDRESS
        self.credentials = _Creds()
        self._ctx = type("Ctx", (), {})()
        self._ctx.secure_clob = FakeTransport()
        self.post_results: list[Any] = []
        self.posted = 0
        self.cancelled: list[str] = []

    async def create_limit_order(self, **kwargs: Any) -> dict[str, Any]:
        assert kwargs["post_only"] is True
        if kwargs["price"] == Decimal("0.333"):
            raise sdk.UserInputError("price 0.333 is not on the tick size grid 0.01")
        return kwargs

    async def post_order(self, signed: dict[str, Any]) -> Any:
        self.posted += 1
        result = self.post_results.pop(0)
        if isinstance(result, Exception):
            raise result
        return result

    async def cancel_order(self, *, order_id: str) -> Any:
        self.cancelled.append(order_id)
        return type("R", (), {"canceled": (order_id,), "not_canceled": {}})()

    async def cancel_market_orders(self, *, market: str) -> Any:
        swept = ("0xa", "0xb", "0xc")
        self.cancelled.extend(swept)
        return type("R", (), {"canceled": swept, "not_canceled": {}})()


def _trading(client: FakeClient, sleeps: list[float] | None = None) -> Trading:
    async def sleep(seconds: float) -> None:
        if sleeps is not None:
            sleeps.append(seconds)

    return Trading(client, clob_url="http://clob", policy=RetryPolicy(retries=2), sleep=sleep)  # type: ignore[arg-type]


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def _accepted(order_id: str) -> AcceptedOrder:
    return AcceptedOrder(
        order_id=order_id,
        status="live",
        making_amount=Decimal(0),
        taking_amount=Decimal(0),
        trade_ids=(),
        transactions_hashes=(),
    )


class FakeClock:
    """One clock for the limiter and Trading: sleeping advances it (nothing really waits).

    Like a real sleep, each one takes at least a microsecond: a wait shorter than the clock's
    float resolution would otherwise never move it.
    """

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(seconds, 1e-6)


def _limited(client: FakeClient, tmp_path: Any, clock: FakeClock) -> Trading:
    """Trading with tiny budgets: 1 order/s, 2 cancels/s (bursts of 1 and 2), 100 reads/s."""
    limits = {
        ORDER: BucketSpec(rate_per_s=1, capacity=1),
        CANCEL: BucketSpec(rate_per_s=2, capacity=2),
        PUBLIC: BucketSpec(rate_per_s=100, capacity=100),
    }
    limiter = AccountRateLimiter(
        tmp_path, fraction=1, limits=limits, clock=clock, sleep=clock.sleep
    )
    return Trading(
        client,  # type: ignore[arg-type]
        clob_url="http://clob",
        policy=RetryPolicy(retries=2),
        limiter=limiter,
        sleep=clock.sleep,
    )


def test_accepted_order_is_a_value() -> None:
    client = FakeClient()
    client.post_results = [
        AcceptedOrder(
            order_id="0xabc",
            status="live",
            making_amount=Decimal(0),
            taking_amount=Decimal(0),
            trade_ids=(),
            transactions_hashes=(),
        )
    ]
    outcome = run(_trading(client).place_post_only(TOKEN, "BUY", Decimal("0.45"), Decimal(10)))
    assert outcome == Accepted("0xabc", "live", Decimal(0), Decimal(0), ())


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("invalid post-only order: order crosses book", RejectCode.POST_ONLY_WOULD_CROSS),
        ("not enough balance / allowance", RejectCode.NOT_ENOUGH_BALANCE),
        (
            "order 0x1 is invalid. Price (0.455) breaks minimum tick size rule: 0.01",
            RejectCode.TICK_SIZE,
        ),
        ("order 0x1 is invalid. Size (1) lower than the minimum: 5", RejectCode.MIN_SIZE),
        ("'0xabc' address in closed only mode", RejectCode.CLOSED_ONLY),
        ("market is closed", RejectCode.MARKET_CLOSED),
        ("the market is not yet ready to process new orders", RejectCode.MARKET_CLOSED),
        ("market for token 123 not found", RejectCode.MARKET_CLOSED),
        ("Trading is currently cancel-only", RejectCode.RESTARTING),
        ("something new", RejectCode.OTHER),
    ],
)
def test_venue_messages_map_to_codes(message: str, code: RejectCode) -> None:
    assert classify_rejection(message) is code


def test_rejected_response_and_http_400_both_become_rejected() -> None:
    client = FakeClient()
    client.post_results = [
        RejectedOrder(
            code="post_only_would_cross", message="invalid post-only order: order crosses book"
        ),
        sdk.RequestRejectedError("not enough balance / allowance", status=400),
    ]
    trading = _trading(client)
    first = run(trading.place_post_only(TOKEN, "BUY", Decimal("0.5"), Decimal(10)))
    second = run(trading.place_post_only(TOKEN, "BUY", Decimal("0.5"), Decimal(10)))
    assert isinstance(first, Rejected) and first.code is RejectCode.POST_ONLY_WOULD_CROSS
    assert isinstance(second, Rejected) and second.code is RejectCode.NOT_ENOUGH_BALANCE


def test_rate_limit_and_restart_are_rejections_and_never_resent() -> None:
    client = FakeClient()
    client.post_results = [
        sdk.RateLimitError("slow down", retry_after=2.0),
        sdk.RequestRejectedError("restarting", status=425, retry_after=5.0),
    ]
    trading = _trading(client)
    limited = run(trading.place_post_only(TOKEN, "BUY", Decimal("0.5"), Decimal(10)))
    restarting = run(trading.place_post_only(TOKEN, "BUY", Decimal("0.5"), Decimal(10)))
    assert limited == Rejected(RejectCode.RATE_LIMITED, "slow down", 2.0)
    assert isinstance(restarting, Rejected) and restarting.code is RejectCode.RESTARTING
    assert client.posted == 2


def test_off_grid_price_is_a_tick_size_rejection_without_a_request() -> None:
    client = FakeClient()
    outcome = run(_trading(client).place_post_only(TOKEN, "BUY", Decimal("0.333"), Decimal(10)))
    assert isinstance(outcome, Rejected) and outcome.code is RejectCode.TICK_SIZE
    assert client.posted == 0


def test_lost_post_is_found_among_open_orders_not_resent() -> None:
    client = FakeClient()
    client.post_results = [sdk.TransportError("read timeout")]
    page = {
        "data": [_open_order("0xknown-elsewhere", price="0.40"), _open_order("0xlost")],
        "next_cursor": "LTE=",
    }
    client._ctx.secure_clob.answers["/data/orders"] = [page]
    outcome = run(_trading(client).place_post_only(TOKEN, "BUY", Decimal("0.45"), Decimal(10)))
    assert isinstance(outcome, Accepted) and outcome.order_id == "0xlost"
    assert client.posted == 1
    assert client._ctx.secure_clob.calls == [("/data/orders", {"asset_id": TOKEN})]


def test_lost_post_with_no_matching_order_is_rejected_as_other() -> None:
    client = FakeClient()
    client.post_results = [sdk.RequestRejectedError("bad gateway", status=502)]
    client._ctx.secure_clob.answers["/data/orders"] = [{"data": [], "next_cursor": "LTE="}]
    outcome = run(_trading(client).place_post_only(TOKEN, "BUY", Decimal("0.45"), Decimal(10)))
    assert isinstance(outcome, Rejected) and outcome.code is RejectCode.OTHER
    assert client.posted == 1


def test_reads_retry_5xx_with_backoff_then_succeed() -> None:
    client = FakeClient()
    client._ctx.secure_clob.answers["/data/orders"] = [
        sdk.RequestRejectedError("unavailable", status=503),
        sdk.TransportError("connection reset"),
        {"data": [_open_order("0x1")], "next_cursor": "LTE="},
    ]
    sleeps: list[float] = []
    orders = run(_trading(client, sleeps).open_orders(MARKET))
    assert [o.order_id for o in orders] == ["0x1"]
    assert len(sleeps) == 2 and all(s > 0 for s in sleeps)


def test_reads_give_up_after_the_policy_and_translate_the_error() -> None:
    client = FakeClient()
    client._ctx.secure_clob.answers["/data/orders"] = [sdk.TransportError("refused")]
    with pytest.raises(TransportError) as caught:
        run(_trading(client, []).open_orders(MARKET))
    assert "GET /data/orders" in str(caught.value)
    assert len(client._ctx.secure_clob.calls) == 3


def test_client_errors_are_not_retried() -> None:
    client = FakeClient()
    client._ctx.secure_clob.answers["/data/orders"] = [
        sdk.RequestRejectedError("Unauthorized/Invalid api key", status=401)
    ]
    with pytest.raises(RequestRejectedError) as caught:
        run(_trading(client, []).open_orders(MARKET))
    assert caught.value.status == 401
    assert len(client._ctx.secure_clob.calls) == 1


def test_pages_are_followed_until_the_end_cursor() -> None:
    client = FakeClient()
    client._ctx.secure_clob.answers["/data/orders"] = [
        {"data": [_open_order("0x1")], "next_cursor": "Mg=="},
        {"data": [_open_order("0x2")], "next_cursor": "LTE="},
    ]
    orders = run(_trading(client).open_orders(MARKET))
    assert [o.order_id for o in orders] == ["0x1", "0x2"]
    assert client._ctx.secure_clob.calls[1] == (
        "/data/orders",
        {"market": MARKET, "next_cursor": "Mg=="},
    )


def test_fills_are_ours_from_the_recorded_trade_and_bad_items_are_skipped() -> None:
    client = FakeClient()
    trade = load_fixture("clob_data_trades_item_2024-09.json")
    client._ctx.secure_clob.answers["/data/trades"] = [
        {"data": [trade, {"id": "broken"}], "next_cursor": "LTE="}
    ]
    trading = _trading(client)
    fills = run(trading.fills(MARKET))
    assert len(fills) == 1
    fill = fills[0]
    assert fill.trade_id == "0c357886-b9d3-44bb-9aa9-72d8abc90e6e"
    assert fill.order_id.startswith("0x6dd169f8")
    assert (fill.side, fill.price, fill.size, fill.status) == (
        "SELL",
        Decimal("0.489"),
        Decimal(5),
        "CONFIRMED",
    )
    assert trading.skipped_items == 1


def test_confirm_no_open_orders_cancels_leftovers_until_empty() -> None:
    client = FakeClient()
    client._ctx.secure_clob.answers["/data/orders"] = [
        {"data": [_open_order("0xleft")], "next_cursor": "LTE="},
        {"data": [], "next_cursor": "LTE="},
    ]
    remaining = run(_trading(client).confirm_no_open_orders(MARKET, timeout_s=5, poll_s=0))
    assert remaining == []
    assert client.cancelled == ["0xleft"]


def test_orders_beyond_the_budget_wait_instead_of_failing(tmp_path: Any) -> None:
    client = FakeClient()
    client.post_results = [_accepted("0x1"), _accepted("0x2"), _accepted("0x3")]
    clock = FakeClock()
    trading = _limited(client, tmp_path, clock)

    async def three() -> list[Any]:
        return [
            await trading.place_post_only(TOKEN, "BUY", Decimal("0.45"), Decimal(10))
            for _ in range(3)
        ]

    outcomes = run(three())
    assert [o.order_id for o in outcomes] == ["0x1", "0x2", "0x3"]
    assert client.posted == 3
    assert clock.sleeps == pytest.approx([1.0, 1.0])  # 1/s: the 2nd and 3rd wait a second


def test_a_429_pauses_the_shared_bucket_for_retry_after(tmp_path: Any) -> None:
    client = FakeClient()
    client.post_results = [sdk.RateLimitError("slow down", retry_after=5.0), _accepted("0x2")]
    clock = FakeClock()
    trading = _limited(client, tmp_path, clock)
    first = run(trading.place_post_only(TOKEN, "BUY", Decimal("0.45"), Decimal(10)))
    assert isinstance(first, Rejected) and first.code is RejectCode.RATE_LIMITED
    assert clock.sleeps == []
    # Another process of the account (same directory) is held back as well.
    other = _limited(FakeClient(), tmp_path, clock)
    assert other._limiter is not None and other._limiter.try_acquire(ORDER) > 4.9
    second = run(trading.place_post_only(TOKEN, "BUY", Decimal("0.45"), Decimal(10)))
    assert isinstance(second, Accepted)
    assert sum(clock.sleeps) == pytest.approx(6.0)  # 5 s of debt, then a full token (1/s)


def test_retried_reads_and_429_reads_take_from_the_public_budget(tmp_path: Any) -> None:
    client = FakeClient()
    client._ctx.secure_clob.answers["/data/orders"] = [
        sdk.RateLimitError("slow down", retry_after=3.0),
        {"data": [_open_order("0x1")], "next_cursor": "Mg=="},
        {"data": [_open_order("0x2")], "next_cursor": "LTE="},
    ]
    clock = FakeClock()
    trading = _limited(client, tmp_path, clock)
    orders = run(trading.open_orders(MARKET))
    assert [o.order_id for o in orders] == ["0x1", "0x2"]
    assert len(client._ctx.secure_clob.calls) == 3
    assert clock.sleeps[0] >= 3.0  # the retry waits Retry-After; the bucket is repaid by then
    assert trading._limiter is not None
    # Without the 429's debt 97 of 100 tokens would be left; the debt leaves a near-empty bucket.
    assert trading._limiter.try_acquire(PUBLIC, 50) > 0


def test_cancel_market_costs_one_plus_the_orders_it_cancelled(tmp_path: Any) -> None:
    client = FakeClient()
    clock = FakeClock()
    trading = _limited(client, tmp_path, clock)
    outcome = run(trading.cancel_market(MARKET))
    assert outcome.canceled == ("0xa", "0xb", "0xc")
    # 1 before the request (bucket of 2 -> 1), then 3: waits for a full bucket (0.5 s) and
    # leaves it in debt, so the next cancel waits too.
    assert clock.sleeps == pytest.approx([0.5])
    run(trading.cancel("0xd"))
    assert sum(clock.sleeps) == pytest.approx(0.5 + 1.0)
    assert client.cancelled[-1] == "0xd"


@pytest.mark.integration
def test_trading_against_the_drill_exchange() -> None:
    """Every Trading call once against a real drill exchange (its own market)."""

    async def scenario(urls: Any, yes: str, cid: str) -> None:
        trading = await open_trading(Account.create().key.hex(), urls)
        try:
            assert (await trading.market_info(cid)).is_tradable
            assert await trading.collateral_balance() == Decimal(10000)
            assert await trading.token_balance(yes) == Decimal(0)
            placed = await trading.place_post_only(yes, "BUY", Decimal("0.01"), Decimal(5))
            assert isinstance(placed, Accepted) and placed.status == "live"
            [order] = await trading.open_orders(cid)
            assert (order.order_id, order.price, order.remaining) == (
                placed.order_id,
                Decimal("0.01"),
                Decimal(5),
            )
            crossing = await trading.place_post_only(yes, "BUY", Decimal("0.99"), Decimal(5))
            assert isinstance(crossing, Rejected)
            assert crossing.code in (
                RejectCode.POST_ONLY_WOULD_CROSS,
                RejectCode.NOT_ENOUGH_BALANCE,
            )
            small = await trading.place_post_only(yes, "BUY", Decimal("0.01"), Decimal(1))
            assert isinstance(small, Rejected) and small.code is RejectCode.MIN_SIZE
            off_grid = await trading.place_post_only(yes, "BUY", Decimal("0.015"), Decimal(5))
            assert isinstance(off_grid, Rejected) and off_grid.code is RejectCode.TICK_SIZE
            swept = await trading.cancel_market(cid)
            assert swept.canceled == (placed.order_id,)
            assert await trading.confirm_no_open_orders(cid, timeout_s=2) == []
            assert (await trading.get_order(placed.order_id)).status == "CANCELED"
            assert await trading.fills(cid) == []
        finally:
            await trading.aclose()

    with in_process_sim(SimOptions(markets=3, seed=5)) as sim:
        end = "2030-01-01T00:00:00Z"
        body = {"question": "Trading test?", "end_date": end, "yes_price": 0.5, "volume": 1}
        gamma = httpx.post(f"{sim.urls.clob_url}/_sim/markets", json=body).json()
        yes, _no = json.loads(gamma["clobTokenIds"])
        asyncio.run(scenario(sim.urls, yes, gamma["conditionId"]))


@pytest.mark.integration
def test_credentials_of_another_address_are_refused_before_any_order() -> None:
    """The SDK would quietly derive fresh credentials for key B; open_trading says what to fix."""
    key_a, key_b = Account.create().key.hex(), Account.create().key.hex()
    address_b = str(Account.from_key(key_b).address)

    async def scenario(urls: Any) -> tuple[Any, Any]:
        own = await open_trading(key_a, urls)
        creds_a = own.credentials
        await own.aclose()
        again = await open_trading(key_a, urls, credentials=creds_a)  # A's own: accepted
        assert again.credentials.key == creds_a.key
        await again.aclose()
        with pytest.raises(ConfigError) as caught:
            await open_trading(key_b, urls, credentials=creds_a)
        return caught.value, creds_a

    with in_process_sim(SimOptions(markets=1, seed=5)) as sim:
        error, creds_a = asyncio.run(scenario(sim.urls))
        orders = httpx.get(f"{sim.urls.clob_url}/_sim/orders").json()
    assert error.exit_code == 2
    message = str(error)
    assert address_b in message and "POLYMAKER_API_KEY" in message
    assert "POLYMAKER_CREDS_FILE" in message and "derive" in message
    for secret in (creds_a.key, creds_a.secret, creds_a.passphrase, key_a, key_b):
        assert secret not in message
    assert orders == []


def test_reconciliation_listings_skip_trades_with_impossible_values() -> None:
    client = FakeClient()
    trade = load_fixture("clob_data_trades_item_2024-09.json")
    bad_time = {**trade, "id": "t-time", "match_time": "²"}
    bad_amount = copy.deepcopy({**trade, "id": "t-amount"})
    bad_amount["maker_orders"][0]["matched_amount"] = "1e999999"
    client._ctx.secure_clob.answers["/data/trades"] = [
        {"data": [bad_time, bad_amount, trade], "next_cursor": "LTE="}
    ]
    trading = _trading(client)
    assert [fill.trade_id for fill in run(trading.fills(MARKET))] == [trade["id"]]
    assert trading.skipped_items == 2


def test_an_unreadable_open_order_never_confirms_the_market_empty() -> None:
    client = FakeClient()
    unreadable = {**_open_order("0xodd"), "original_size": "1E+999999999"}
    client._ctx.secure_clob.answers["/data/orders"] = [
        {"data": [unreadable], "next_cursor": "LTE="}
    ]
    with pytest.raises(UnexpectedResponseError, match="could not be read"):
        run(_trading(client).confirm_no_open_orders(MARKET, timeout_s=0.05, poll_s=0))
