"""``--replay FILE``: drive drill books from a recorded log of market-channel frames.

The engine's book is made equal to the recorded one (plus whatever users rest) by house
orders: each recorded YES level is held by orders of ``REPLAY_MAKER`` (bids as BUY YES, asks as
BUY NO at the complement, so only cash is needed). A recorded trade (``last_trade_price``) is
sent as a FAK from ``REPLAY_TAKER``, so it consumes queue ahead of user orders in price-time
order; the level's next recorded size is then reconciled. Frames sharing one timestamp are
applied trades first. Format: docs/drill-simulation.md ("Replay").
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from polymaker.drill.engine import MatchingEngine, OrderRequest
from polymaker.drill.replay_log import Frame, read_frames
from polymaker.drill.universe import Universe

REPLAY_MAKER = "0x0000000000000000000000000000000000000b03"
REPLAY_TAKER = "0x0000000000000000000000000000000000000b04"
REPLAY_OWNER = "drill-replay"
_HOUSE_BALANCE = Decimal(10) ** 12
Level = tuple[bool, Decimal]  # (is a YES bid, YES price)


@dataclass(frozen=True)
class ReplayMarket:
    """A market found in the log. YES is the first token seen unless a book says otherwise."""

    condition_id: str
    yes_token: str
    no_token: str
    tick_size: Decimal


@dataclass
class _Book:
    """Recorded target and house orders of one market, YES-denominated."""

    market: ReplayMarket
    levels: dict[Level, list[str]] = field(default_factory=dict)  # house order ids, oldest first


class Replay:
    """A loaded log and its cursor; ``apply_until`` is pure engine work (no clock reads)."""

    def __init__(self, frames: list[Frame], *, speed: float = 1.0) -> None:
        self.frames = frames
        self.speed = speed
        self.position = 0
        self.ignored: dict[str, int] = {}  # event_type -> frames not applied (never silent)
        self.start_ms: int | None = None
        self.engine: MatchingEngine | None = None
        self.universe: Universe | None = None
        self._markets = _discover(frames)
        self._books = {m.condition_id: _Book(m) for m in self._markets}
        self._seq = 0

    @classmethod
    def load(
        cls,
        path: Path | str,
        *,
        universe: Universe | None = None,
        engine: MatchingEngine | None = None,
        speed: float = 1.0,
    ) -> Replay:
        """Read a log (JSON lines or one JSON array); ConfigError naming the bad line.

        With ``universe`` its markets are listed there (source "replay", so the simulator
        leaves them alone); ``engine`` is what ``step`` drives. Register the markets in the
        engine (``engine.add_market``) before the first ``step``.
        """
        replay = cls(read_frames(Path(path)), speed=speed)
        replay.engine = engine
        if universe is not None:
            replay.universe = universe
            for market in replay.markets():
                universe.add_external(
                    market.condition_id, market.yes_token, market.no_token,
                    market.tick_size, universe.generated_ms,
                )  # fmt: skip
        return replay

    def markets(self) -> list[ReplayMarket]:
        """Markets found in the log, in order of first appearance."""
        return list(self._markets)

    @property
    def done(self) -> bool:
        """True once every frame was applied."""
        return self.position >= len(self.frames)

    def step(self, now_ms: int) -> int:
        """``apply_until(self.engine, now_ms)`` for the server's background task."""
        if self.engine is None:
            raise RuntimeError("Replay.load(..., engine=) was not given an engine")
        return self.apply_until(self.engine, now_ms)

    def apply_until(self, engine: MatchingEngine, now_ms: int) -> int:
        """Apply every frame due by ``now_ms`` (offsets count from the first call)."""
        if self.start_ms is None:
            self.start_ms = now_ms
            for address in (REPLAY_MAKER, REPLAY_TAKER):
                engine.ledger.set_balance(address, _HOUSE_BALANCE)
        elapsed = (now_ms - self.start_ms) * self.speed
        applied = 0
        while self.position < len(self.frames) and self.frames[self.position].t_ms <= elapsed:
            end = self.position
            while (
                end < len(self.frames) and self.frames[end].t_ms == self.frames[self.position].t_ms
            ):
                end += 1
            group = self.frames[self.position : end]
            for frame in sorted(
                group, key=lambda f: f.body.get("event_type") != "last_trade_price"
            ):
                self._apply(engine, frame.body, now_ms)
            self.position = end
            applied += len(group)
        self._refresh_quotes(engine, now_ms)
        return applied

    # -- frames -----------------------------------------------------------------------------
    def _apply(self, engine: MatchingEngine, body: dict[str, Any], now_ms: int) -> None:
        kind = str(body.get("event_type") or ("book" if "bids" in body else "unknown"))
        book = self._books.get(str(body.get("market", "")))
        if book is None:
            self.ignored[kind] = self.ignored.get(kind, 0) + 1
            return
        if kind == "book":
            self._apply_book(engine, book, body, now_ms)
        elif kind == "price_change":
            entries = body.get("price_changes") or [body]
            for entry in entries:
                level = _yes_level(book.market, entry["asset_id"], entry["side"], entry["price"])
                self._set_level(engine, book, level, Decimal(entry["size"]), now_ms)
        elif kind == "last_trade_price":
            self._trade(engine, book, body, now_ms)
        elif kind == "tick_size_change":
            engine.set_tick_size(book.market.condition_id, Decimal(body["new_tick_size"]), now_ms)
        else:
            self.ignored[kind] = self.ignored.get(kind, 0) + 1

    def _apply_book(
        self, engine: MatchingEngine, book: _Book, body: dict[str, Any], now_ms: int
    ) -> None:
        """A snapshot replaces both sides; levels it does not list go to zero."""
        target: dict[Level, Decimal] = {}
        for side, rows in (("BUY", body.get("bids", [])), ("SELL", body.get("asks", []))):
            for row in rows:
                target[_yes_level(book.market, body["asset_id"], side, row["price"])] = Decimal(
                    row["size"]
                )
        if "tick_size" in body:
            tick = Decimal(body["tick_size"])
            if engine.market(book.market.condition_id).tick_size != tick:
                engine.set_tick_size(book.market.condition_id, tick, now_ms)
        for level in list(book.levels):
            if level not in target:
                self._set_level(engine, book, level, Decimal(0), now_ms)
        for level, size in sorted(target.items(), key=lambda item: _distance_first(item[0])):
            self._set_level(engine, book, level, size, now_ms)

    def _set_level(
        self, engine: MatchingEngine, book: _Book, level: Level, target: Decimal, now_ms: int
    ) -> None:
        """Make the house size at ``level`` equal ``target``, keeping the oldest orders."""
        if target > 0:
            self._uncross(engine, book, level, now_ms)
        orders = self._live(engine, book, level)
        held = sum((size for _, size in orders), Decimal(0))
        minimum = engine.market(book.market.condition_id).min_order_size
        while orders and (held > target or Decimal(0) < target - held < minimum):
            order_id, size = orders.pop()
            engine.cancel(order_id, REPLAY_MAKER, now_ms)
            held -= size
        book.levels[level] = [order_id for order_id, _ in orders]
        rest = target - held
        if rest > 0:
            self._rest(engine, book, level, max(rest, minimum), now_ms)
        if not book.levels[level]:
            del book.levels[level]

    def _uncross(self, engine: MatchingEngine, book: _Book, level: Level, now_ms: int) -> None:
        """Drop house levels on the other side that a new level would trade against."""
        is_bid, price = level
        for other in list(book.levels):
            if other[0] != is_bid and (other[1] <= price if is_bid else other[1] >= price):
                self._set_level(engine, book, other, Decimal(0), now_ms)

    def _live(self, engine: MatchingEngine, book: _Book, level: Level) -> list[tuple[str, Decimal]]:
        live = []
        for order_id in book.levels.get(level, []):
            view = engine.order(order_id)
            if view is not None and view.status == "LIVE":
                live.append((order_id, view.original_size - view.size_matched))
        return live

    def _rest(
        self, engine: MatchingEngine, book: _Book, level: Level, size: Decimal, now_ms: int
    ) -> None:
        is_bid, yes_price = level
        market = book.market
        token, price = (market.yes_token, yes_price) if is_bid else (market.no_token, 1 - yes_price)
        order_id = self._order_id()
        result = engine.place(
            OrderRequest(order_id, REPLAY_OWNER, REPLAY_MAKER, token, "BUY", price, size, "GTC",
                         False, 0),
            now_ms,
        )  # fmt: skip
        if result.success and result.status == "live":
            book.levels.setdefault(level, []).append(order_id)

    def _trade(
        self, engine: MatchingEngine, book: _Book, body: dict[str, Any], now_ms: int
    ) -> None:
        """A recorded trade as a FAK from the replay taker (BUY of the complement for SELLs)."""
        market, asset, price = book.market, str(body["asset_id"]), Decimal(body["price"])
        if body.get("side") == "SELL":
            asset = market.no_token if asset == market.yes_token else market.yes_token
            price = 1 - price
        order_id = self._order_id()
        engine.place(
            OrderRequest(order_id, REPLAY_OWNER, REPLAY_TAKER, asset, "BUY", price,
                         Decimal(body["size"]), "FAK", False, 0),
            now_ms,
        )  # fmt: skip

    def _order_id(self) -> str:
        self._seq += 1
        return "0x" + hashlib.sha256(f"replay:{self._seq}".encode()).hexdigest()

    def _refresh_quotes(self, engine: MatchingEngine, now_ms: int) -> None:
        if self.universe is None:
            return
        for market in self._markets:
            view = engine.book(market.yes_token)
            bid = view.bids[-1][0] if view.bids else None
            ask = view.asks[-1][0] if view.asks else None
            self.universe.by_condition(market.condition_id).set_quotes(
                bid, ask, view.last_trade_price, now_ms
            )


def load_replay(
    path: Path | str,
    *,
    universe: Universe | None = None,
    engine: MatchingEngine | None = None,
    speed: float = 1.0,
) -> Replay:
    """``Replay.load`` as a function (what the server's ``build_venue`` calls)."""
    return Replay.load(path, universe=universe, engine=engine, speed=speed)


def _trades_first(frame: Frame) -> bool:
    return frame.body.get("event_type") != "last_trade_price"


def _distance_first(level: Level) -> Decimal:
    """Place far levels first and the touch last, as a snapshot is usually built."""
    is_bid, price = level
    return price if is_bid else -price


def _yes_level(market: ReplayMarket, asset_id: str, side: str, price: str) -> Level:
    """A token's (side, price) as a YES-book level: NO bids at p are YES asks at 1 - p."""
    value = Decimal(price)
    if asset_id == market.yes_token:
        return (side == "BUY", value)
    return (side != "BUY", 1 - value)


def _discover(frames: list[Frame]) -> list[ReplayMarket]:
    """Markets and their two tokens; a market seen with one token gets a derived NO id."""
    tokens: dict[str, list[str]] = {}
    ticks: dict[str, Decimal] = {}
    for frame in frames:
        body = frame.body
        condition_id = body.get("market")
        if not isinstance(condition_id, str):
            continue
        seen = tokens.setdefault(condition_id, [])
        for entry in body.get("price_changes") or [body]:
            asset = entry.get("asset_id")
            if isinstance(asset, str) and asset not in seen:
                seen.append(asset)
        for key in ("tick_size", "old_tick_size"):
            if key in body and condition_id not in ticks:
                ticks[condition_id] = Decimal(str(body[key]))
    found = []
    for condition_id, seen in tokens.items():
        if not seen:
            continue
        if len(seen) == 1:
            digest = hashlib.sha256(f"no:{seen[0]}".encode()).digest()
            seen.append(str(int.from_bytes(digest, "big") % 10**77))
        found.append(
            ReplayMarket(condition_id, seen[0], seen[1], ticks.get(condition_id, Decimal("0.01")))
        )
    return found


__all__ = ["REPLAY_MAKER", "REPLAY_TAKER", "Replay", "ReplayMarket", "load_replay"]
