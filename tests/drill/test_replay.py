"""--replay: recorded market-channel frames drive the engine's books and queues."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from polymaker.drill.engine import MatchingEngine, OrderRequest
from polymaker.drill.ledger import Ledger
from polymaker.drill.replay import REPLAY_MAKER, Replay, load_replay
from polymaker.drill.simulator import Simulator, spec_for
from polymaker.drill.universe import Universe
from polymaker.errors import ConfigError
from tests.conftest import FIXTURES, load_fixture

STREAM = FIXTURES / "ws_market_stream_book_then_price_changes_2026-09.json"
CID = "0x" + "c" * 64
YES, NO = "1" * 77, "2" * 77
USER = "0x" + "a" * 40
T0 = 1_800_000_000_000


def engine_for(replay: Replay) -> MatchingEngine:
    engine = MatchingEngine(Ledger())
    universe = Universe(seed=1, generated_ms=T0)
    for market in replay.markets():
        universe.add_external(market.condition_id, market.yes_token, market.no_token,
                              market.tick_size, T0)  # fmt: skip
    for market in universe.markets:
        engine.add_market(spec_for(market))
    return engine


def best(engine: MatchingEngine, token: str) -> tuple[Decimal | None, Decimal | None]:
    book = engine.book(token)
    return (book.bids[-1][0] if book.bids else None, book.asks[-1][0] if book.asks else None)


def write_lines(path: Path, items: list[object]) -> Path:
    path.write_text("\n".join(json.dumps(item) for item in items) + "\n", encoding="utf-8")
    return path


def test_the_recorded_stream_replays_with_the_recorded_best_prices_after_every_frame():
    replay = Replay.load(STREAM)
    (market,) = replay.markets()
    assert market.tick_size == Decimal("0.001")
    engine = engine_for(replay)
    frames = load_fixture(STREAM.name)
    book_frame = frames[0]

    for index, frame in enumerate(replay.frames):
        replay.apply_until(engine, T0 + frame.t_ms)
        assert replay.position == index + 1
        if index == 0:
            bids = [Decimal(level["price"]) for level in book_frame["bids"]]
            asks = [Decimal(level["price"]) for level in book_frame["asks"]]
            assert best(engine, book_frame["asset_id"]) == (max(bids), min(asks))
            assert best(engine, market.no_token) == (1 - min(asks), 1 - max(bids))
        for entry in frame.body.get("price_changes", []):
            expected = (Decimal(entry["best_bid"]), Decimal(entry["best_ask"]))
            assert best(engine, entry["asset_id"]) == expected, (index, entry["asset_id"])
    assert replay.done and replay.ignored == {}


def test_the_replayed_book_has_the_recorded_sizes_at_every_level():
    replay = Replay.load(STREAM)
    engine = engine_for(replay)
    frames = load_fixture(STREAM.name)
    yes = frames[0]["asset_id"]
    levels = {("BUY", Decimal(x["price"])): Decimal(x["size"]) for x in frames[0]["bids"]}
    levels |= {("SELL", Decimal(x["price"])): Decimal(x["size"]) for x in frames[0]["asks"]}
    for frame in frames[1:]:
        for entry in frame["price_changes"]:
            if entry["asset_id"] == yes:
                levels[(entry["side"], Decimal(entry["price"]))] = Decimal(entry["size"])

    replay.apply_until(engine, T0)
    replay.apply_until(engine, T0 + 10**9)

    book = engine.book(yes)
    expected_bids = sorted((p, s) for (side, p), s in levels.items() if side == "BUY" and s)
    expected_asks = sorted(((p, s) for (side, p), s in levels.items() if side == "SELL" and s),
                           reverse=True)  # fmt: skip
    assert list(book.bids) == expected_bids
    assert list(book.asks) == expected_asks
    resting = engine.open_orders(condition_id=replay.markets()[0].condition_id)
    assert {o.maker_address for o in resting} == {REPLAY_MAKER}


def _book(bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> dict[str, object]:
    return {"event_type": "book", "market": CID, "asset_id": YES, "tick_size": "0.01",
            "bids": [{"price": p, "size": s} for p, s in bids],
            "asks": [{"price": p, "size": s} for p, s in asks]}  # fmt: skip


def _trade(side: str, price: str, size: str) -> dict[str, object]:
    return {"event_type": "last_trade_price", "market": CID, "asset_id": YES, "price": price,
            "size": size, "side": side, "fee_rate_bps": "0"}  # fmt: skip


def _change(price: str, size: str, side: str) -> dict[str, object]:
    return {"event_type": "price_change", "market": CID, "price_changes": [
        {"asset_id": YES, "price": price, "size": size, "side": side},
        {"asset_id": NO, "price": str(1 - Decimal(price)), "size": size,
         "side": "SELL" if side == "BUY" else "BUY"}]}  # fmt: skip


def test_recorded_trades_consume_the_queue_ahead_of_a_user_order(tmp_path):
    opening = [_book([("0.40", "100")], [("0.45", "100")]), _change("0.40", "100", "BUY")]
    log = write_lines(tmp_path / "log.jsonl", [
        {"t_ms": 0, "frame": opening},
        {"t_ms": 1000, "frame": _trade("SELL", "0.40", "60")},
        {"t_ms": 1000, "frame": _change("0.40", "40", "BUY")},
        {"t_ms": 2000, "frame": _trade("SELL", "0.40", "45")},
        {"t_ms": 2000, "frame": _change("0.40", "0", "BUY")},
    ])  # fmt: skip
    replay = Replay.load(log)
    assert [(m.yes_token, m.no_token) for m in replay.markets()] == [(YES, NO)]
    engine = engine_for(replay)
    replay.apply_until(engine, T0)
    mine = "0x" + "e" * 64
    placed = engine.place(OrderRequest(mine, "key", USER, YES, "BUY", Decimal("0.40"),
                                       Decimal(10), "GTC", True, 0), T0)  # fmt: skip
    assert placed.success, placed.error

    replay.apply_until(engine, T0 + 999)
    assert engine.order(mine).size_matched == 0
    replay.apply_until(engine, T0 + 1000)
    assert engine.order(mine).size_matched == 0
    assert engine.book(YES).bids[-1] == (Decimal("0.40"), Decimal(50))  # 40 house + 10 mine

    replay.apply_until(engine, T0 + 2000)

    assert engine.order(mine).size_matched == Decimal(5)
    assert engine.book(YES).bids[-1] == (Decimal("0.40"), Decimal(5))  # only my rest is left


def test_frames_wait_for_their_time_and_arrays_are_split(tmp_path):
    log = write_lines(tmp_path / "log.jsonl", [
        [_book([("0.30", "50")], [("0.35", "50")])],
        {"t_ms": 5000, "frame": _change("0.31", "70", "BUY")},
    ])  # fmt: skip
    replay = Replay.load(log)
    engine = engine_for(replay)

    assert replay.apply_until(engine, T0) == 1
    assert best(engine, YES) == (Decimal("0.30"), Decimal("0.35"))
    assert replay.apply_until(engine, T0 + 4999) == 0
    assert replay.apply_until(engine, T0 + 5000) == 1
    assert best(engine, YES) == (Decimal("0.31"), Decimal("0.35"))
    assert best(engine, NO) == (Decimal("0.65"), Decimal("0.69"))


def test_speed_compresses_the_log(tmp_path):
    log = write_lines(tmp_path / "log.jsonl", [
        {"t_ms": 0, "frame": _book([("0.30", "50")], [("0.35", "50")])},
        {"t_ms": 60000, "frame": _change("0.32", "70", "BUY")},
    ])  # fmt: skip
    replay = Replay.load(log, speed=60.0)
    engine = engine_for(replay)
    replay.apply_until(engine, T0)

    assert replay.apply_until(engine, T0 + 1000) == 1


def test_legacy_price_change_shape_and_unknown_events(tmp_path):
    legacy = load_fixture("ws_market_price_change_legacy_2024-08.json")
    book = {"event_type": "book", "market": legacy["market"], "asset_id": legacy["asset_id"],
            "timestamp": str(int(legacy["timestamp"]) - 1000), "tick_size": "0.001",
            "bids": [{"price": "0.5", "size": "100"}],
            "asks": [{"price": "0.52", "size": "100"}]}  # fmt: skip
    odd = {"event_type": "best_bid_ask", "market": legacy["market"], "asset_id": legacy["asset_id"]}
    log = write_lines(tmp_path / "legacy.jsonl", [book, legacy, odd])
    replay = Replay.load(log)
    engine = engine_for(replay)

    replay.apply_until(engine, T0)
    replay.apply_until(engine, T0 + 1000)

    assert [f.t_ms for f in replay.frames] == [0, 1000, 1000]
    assert best(engine, legacy["asset_id"]) == (Decimal("0.5"), Decimal("0.514"))
    assert engine.book(legacy["asset_id"]).asks[-1] == (Decimal("0.514"), Decimal("21574.08"))
    assert replay.ignored == {"best_bid_ask": 1}


def test_a_bad_line_is_a_config_error_naming_it(tmp_path):
    log = tmp_path / "bad.jsonl"
    log.write_text(json.dumps(_book([], [])) + "\n{not json\n", encoding="utf-8")

    with pytest.raises(ConfigError, match="line 2: not JSON"):
        Replay.load(log)
    with pytest.raises(ConfigError, match="cannot read"):
        Replay.load(tmp_path / "missing.jsonl")


def test_replayed_markets_are_listed_and_left_alone_by_the_simulator():
    universe = Universe.generate(20, seed=1, now=datetime(2026, 9, 29, tzinfo=UTC))
    engine = MatchingEngine(Ledger())
    simulator = Simulator(universe, engine, seed=1)
    replay = load_replay(STREAM, universe=universe, engine=engine)
    simulator.register_markets(universe.generated_ms)
    (market,) = replay.markets()
    listed = universe.by_condition(market.condition_id)
    assert listed.source == "replay" and universe.by_token(market.no_token) is listed

    replay.step(universe.generated_ms)
    simulator.touch(market.condition_id, universe.generated_ms)

    owners = {o.maker_address for o in engine.open_orders(condition_id=market.condition_id)}
    assert owners == {REPLAY_MAKER}
    gamma = json.loads(listed.gamma_json())
    assert (gamma["bestBid"], gamma["bestAsk"]) == (0.3, 0.397)
    assert json.loads(gamma["clobTokenIds"]) == [market.yes_token, market.no_token]
