"""Pure pieces of the worker: entry replay, feed translation, the status document, logging."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from polymaker.config.worker_params import WorkerParams, parse_worker_params
from polymaker.errors import ConfigError
from polymaker.exchange.market_feed import FeedState, FeedStatus
from polymaker.exchange.ratelimit import ORDER, BucketSpec
from polymaker.exchange.secrets import RedactingFilter
from polymaker.exchange.user_feed import Reconnected
from polymaker.exchange.wire import (
    AccountIdentity,
    OrderEvent,
    OrderEventKind,
    Role,
    Side,
    TickSizeChange,
    TradeStatus,
    UnparsedEvent,
    UserDecoder,
)
from polymaker.exchange.wire.trades import Fill as WireFill
from polymaker.paper.gateway import PaperGateway
from polymaker.strategy.events import (
    BookInvalidated,
    Fill,
    OrderAccepted,
    OrderRejected,
    OrderUpdate,
    RejectCode,
    TickSizeChanged,
    Unparsed,
)
from polymaker.strategy.events import Side as StrategySide
from polymaker.strategy.events import TradeStatus as StrategyStatus
from polymaker.worker import translate
from polymaker.worker.gate import PlacementGate
from polymaker.worker.logsetup import configure_logging
from polymaker.worker.reconcile import average_entry, order_is_open
from polymaker.worker.status import StatusSnapshot, StatusWriter, WorkerState, status_document
from polymaker.worker.venue import paper_gateway, rate_limiter
from tests.config.test_worker_params import valid_params
from tests.conftest import load_fixture

TOKEN = "111"


def _fill(side: Side, price: str, size: str, minute: int, status=TradeStatus.CONFIRMED):
    return WireFill(
        f"t{minute}",
        f"o{minute}",
        Role.MAKER,
        TOKEN,
        side,
        Decimal(price),
        Decimal(size),
        status,
        "Yes",
        None,
        datetime(2026, 1, 1, 0, minute, tzinfo=UTC),
    )


def test_average_entry_replays_buys_and_sells_in_match_order_and_skips_failed() -> None:
    fills = [
        _fill(Side.SELL, "0.70", "5", 3),  # out of order on purpose
        _fill(Side.BUY, "0.50", "10", 1),
        _fill(Side.BUY, "0.60", "10", 2),
        _fill(Side.BUY, "0.10", "100", 4, TradeStatus.FAILED),
        WireFill(
            "x",
            "y",
            Role.MAKER,
            "other-token",
            Side.BUY,
            Decimal("0.9"),
            Decimal(7),
            TradeStatus.CONFIRMED,
            "No",
            None,
            None,
        ),
    ]
    position, entry = average_entry(fills, TOKEN)
    assert position == Decimal(15)
    assert entry == Decimal("0.55")  # selling at the average keeps the average


def test_average_entry_of_a_closed_round_trip_is_none() -> None:
    fills = [_fill(Side.BUY, "0.50", "5", 1), _fill(Side.SELL, "0.70", "5", 2)]
    assert average_entry(fills, TOKEN) == (Decimal(0), None)


def test_user_order_cancellation_closes_the_order_for_the_strategy() -> None:
    payload = load_fixture("ws_user_order_cancellation_2024-09.json")
    [event] = UserDecoder(AccountIdentity.of(None)).decode_frame(json.dumps(payload))
    assert isinstance(event, OrderEvent) and event.kind is OrderEventKind.CANCELLATION
    order = event.order
    [update] = translate.user_events(
        event, token_id=order.asset_id, condition_id=order.condition_id, ts_ms=5
    )
    assert update == OrderUpdate(5, order.order_id, order.size_matched or Decimal(0), open=False)
    assert (
        translate.user_events(event, token_id="other", condition_id=order.condition_id, ts_ms=5)
        == []
    )
    assert not order_is_open(order)


def test_maker_trade_becomes_our_fill_only_for_our_token() -> None:
    payload = load_fixture("ws_user_trade_maker_confirmed_2025-11.json")
    maker = payload["maker_orders"][0]
    decoder = UserDecoder(AccountIdentity.of(maker["owner"], [maker["maker_address"]]))
    [event] = decoder.decode_frame(json.dumps(payload))
    events = translate.user_events(
        event, token_id=maker["asset_id"], condition_id=payload["market"], ts_ms=9
    )
    ours = [m for m in payload["maker_orders"] if m["owner"] == maker["owner"]]
    assert len(ours) == 2  # one trade filled two of our resting orders
    assert all(isinstance(e, Fill) for e in events)
    assert [(e.order_id, e.size, e.price) for e in events] == [
        (m["order_id"], Decimal(m["matched_amount"]), Decimal(m["price"])) for m in ours
    ]


def test_reconnect_and_unparsed_events_ask_for_reconciliation() -> None:
    assert translate.needs_reconcile(Reconnected(2))
    unparsed = UnparsedEvent("trade", "bad price")
    assert translate.needs_reconcile(unparsed)
    assert translate.user_events(unparsed, token_id=TOKEN, condition_id="c", ts_ms=1) == [
        Unparsed(1, "user:trade", "bad price")
    ]


def test_market_feed_changes_become_strategy_events() -> None:
    tick = TickSizeChange("c", TOKEN, Decimal("0.01"), Decimal("0.001"), 10)
    assert translate.market_events(tick, token_id=TOKEN, condition_id="c", ts_ms=3) == [
        TickSizeChanged(3, Decimal("0.001"))
    ]
    assert translate.market_events(tick, token_id="x", condition_id="c", ts_ms=3) == []
    down = FeedStatus(FeedState.DISCONNECTED, "reset", 1)
    assert translate.market_events(down, token_id=TOKEN, condition_id="c", ts_ms=4) == [
        BookInvalidated(4)
    ]


def test_status_document_has_the_contract_keys_and_decimal_strings(tmp_path: Path) -> None:
    snapshot = StatusSnapshot(
        topic_id="t",
        mode="drill",
        condition_id="c",
        token_id=TOKEN,
        side="YES",
        state=WorkerState.RUNNING,
        position=Decimal("5"),
        avg_entry=Decimal("0.50"),
        realized_pnl=Decimal("1.25"),
    )
    snapshot.count("unparsed")
    now = datetime(2026, 12, 3, 14, 0, 0, 123000, tzinfo=UTC)
    doc = status_document(snapshot, now=now, pid=42)
    for key in (
        "topic_id",
        "pid",
        "mode",
        "state",
        "heartbeat_at",
        "position",
        "avg_entry",
        "open_orders",
        "realized_pnl",
        "last_error",
    ):
        assert key in doc
    assert doc["heartbeat_at"] == "2026-12-03T14:00:00.123Z"
    assert (doc["state"], doc["position"], doc["avg_entry"], doc["realized_pnl"]) == (
        "running",
        "5",
        "0.50",
        "1.25",
    )
    assert doc["counters"] == {"unparsed": 1}
    writer = StatusWriter(tmp_path / "status" / "t.json", pid=42)
    writer.write(snapshot, now=now)
    assert (tmp_path / "status" / "t.json").read_text().count('"pid": 42') == 1


def test_log_lines_carry_mode_and_topic_and_never_a_secret(tmp_path: Path) -> None:
    redactor = RedactingFilter()
    redactor.register("0x" + "cd" * 32)
    log_file = tmp_path / "logs" / "t.log"
    handler = configure_logging(
        topic_id="my-topic", mode="live", log_file=log_file, redactor=redactor
    )
    try:
        logging.getLogger("polymaker.test").info("signing with %s", "cd" * 32)
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    line = log_file.read_text()
    assert "[live] my-topic polymaker.test: signing with <redacted>" in line
    assert "cd" * 32 not in line
    assert line.endswith("\n") and line.count("\n") == 1


def test_fill_before_the_placement_answer_waits_for_it() -> None:
    gate = PlacementGate()
    gate.placing()
    early = Fill(
        1, "t1", "o1", StrategySide.BUY, Decimal("0.5"), Decimal(5), StrategyStatus.MATCHED
    )
    assert gate.admit(early) == []
    accepted = OrderAccepted(2, "ref-1", "o1")
    assert gate.admit(accepted) == [accepted, early]
    later = OrderUpdate(3, "o1", Decimal(5), open=False)
    assert gate.admit(later) == [later]  # known now: passes straight through
    gate.placing()
    stranger = OrderUpdate(4, "o9", Decimal(0))
    assert gate.admit(stranger) == []
    rejected = OrderRejected(5, "ref-2", RejectCode.OTHER)
    assert gate.admit(rejected) == [rejected, stranger]  # the strategy decides about it


def _params(tmp_path: Path, **overrides: object) -> WorkerParams:
    doc = valid_params(status_file=str(tmp_path / "status" / "t.json"), **overrides)
    return parse_worker_params(doc)


def test_rate_limiter_follows_the_params_and_a_bad_directory_is_exit_2(tmp_path: Path) -> None:
    assert rate_limiter(_params(tmp_path)) is None
    limiter = rate_limiter(
        _params(tmp_path, ratelimit_dir=str(tmp_path / "rl"), ratelimit_fraction=0.25)
    )
    assert limiter is not None and limiter.spec(ORDER) == BucketSpec(10, 15)
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigError) as caught:
        rate_limiter(_params(tmp_path, ratelimit_dir=str(blocker / "rl")))
    assert caught.value.key == "ratelimit_dir" and caught.value.exit_code == 2


def test_paper_gateway_uses_the_params_cash_and_ledger_beside_the_status(tmp_path: Path) -> None:
    async def build() -> PaperGateway:
        async with httpx.AsyncClient() as client:
            return paper_gateway(_params(tmp_path, mode="paper", paper_cash_usdc="42"), client)

    gateway = asyncio.run(build())
    assert gateway.ledger.cash == Decimal(42)
    assert gateway.ledger.path == tmp_path / "status" / "t.paper-ledger"
