"""The local order book of one outcome token: a ``book`` snapshot plus ``price_change`` deltas.

Pure state, no I/O and no clock (the caller passes monotonic ``now``). Rules
(polymarket_api.md 3.1/4.1, reference_behaviour.md 4.4/4.5):

- a delta's ``size`` is the new total at that level; ``0`` deletes the level;
- best bid = max bid price, best ask = min ask price (never the served position);
- the book is *invalid* until a snapshot arrives, and becomes invalid again on a tick-size
  change (old-grid levels are meaningless), on reconnect, when it crosses (bid >= ask), or when
  the venue's reported top in a delta disagrees with ours (a missed delta). An invalid book
  ignores deltas and gives no top of book; only a new snapshot (WS or REST) revalidates it.
"""

from __future__ import annotations

import hashlib
import heapq
from dataclasses import dataclass
from decimal import Decimal

import orjson

from polymaker.exchange.wire import LevelChange, OrderBookSnapshot, PriceLevel, Side

NO_SNAPSHOT = "no snapshot yet"
_ZERO = Decimal(0)
_ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class TopOfBook:
    """Best bid and ask of a valid book (None = that side is empty) at ``timestamp_ms``."""

    asset_id: str
    best_bid: PriceLevel | None
    best_ask: PriceLevel | None
    timestamp_ms: int

    @property
    def mid(self) -> Decimal | None:
        """(bid + ask) / 2 when both sides exist, else None (never a fake 0)."""
        if self.best_bid is None or self.best_ask is None:
            return None
        return (self.best_bid.price + self.best_ask.price) / 2

    @property
    def spread(self) -> Decimal | None:
        """ask - bid when both sides exist, else None."""
        if self.best_bid is None or self.best_ask is None:
            return None
        return self.best_ask.price - self.best_bid.price


def compute_book_hash(
    snapshot: OrderBookSnapshot,
    *,
    min_order_size: Decimal | None = None,
    neg_risk: bool | None = None,
) -> str:
    """The venue's book hash: SHA-1 hex of compact JSON in the venue's key order (api.md 3.1).

    WebSocket ``book`` frames omit ``min_order_size``/``neg_risk``; pass the market's values
    (commonly ``5``/``False``) to reproduce the served hash. Fields the snapshot has win.
    """
    mos = snapshot.min_order_size if snapshot.min_order_size is not None else min_order_size
    risk = snapshot.neg_risk if snapshot.neg_risk is not None else neg_risk
    document = {
        "market": snapshot.condition_id,
        "asset_id": snapshot.asset_id,
        "timestamp": str(snapshot.timestamp_ms),
        "hash": "",
        "bids": [{"price": str(lv.price), "size": str(lv.size)} for lv in snapshot.bids],
        "asks": [{"price": str(lv.price), "size": str(lv.size)} for lv in snapshot.asks],
        "min_order_size": _text(mos),
        "tick_size": _text(snapshot.tick_size),
        "neg_risk": bool(risk),
        "last_trade_price": _text(snapshot.last_trade_price),
    }
    return hashlib.sha1(orjson.dumps(document)).hexdigest()


def _text(value: Decimal | None) -> str:
    return "" if value is None else str(value)


class LocalBook:
    """One token's book, maintained from WS/REST snapshots and WS deltas (see module doc)."""

    def __init__(self, asset_id: str) -> None:
        self.asset_id = asset_id
        self.condition_id: str | None = None
        self.tick_size: Decimal | None = None
        self.last_trade_price: Decimal | None = None
        self.timestamp_ms: int | None = None
        self.updated_at: float | None = None
        self.invalid_reason: str | None = NO_SNAPSHOT
        self.crossed_count = 0
        self.diverged_count = 0
        self._bids: dict[Decimal, Decimal] = {}
        self._asks: dict[Decimal, Decimal] = {}
        self._best_bid: Decimal | None = None
        self._best_ask: Decimal | None = None

    @property
    def is_valid(self) -> bool:
        """True when the levels can be trusted (a snapshot arrived and nothing broke since)."""
        return self.invalid_reason is None

    def apply_snapshot(self, snapshot: OrderBookSnapshot, now: float) -> None:
        """Replace every level with ``snapshot`` (WS ``book`` or REST ``/book``)."""
        self._bids = {lv.price: lv.size for lv in snapshot.bids if lv.size > _ZERO}
        self._asks = {lv.price: lv.size for lv in snapshot.asks if lv.size > _ZERO}
        self._best_bid = max(self._bids, default=None)
        self._best_ask = min(self._asks, default=None)
        self.condition_id = snapshot.condition_id
        if snapshot.tick_size is not None:
            self.tick_size = snapshot.tick_size
        self.last_trade_price = snapshot.last_trade_price
        self.timestamp_ms = snapshot.timestamp_ms
        self.updated_at = now
        self.invalid_reason = None
        self._check_crossed()

    def apply_change(self, change: LevelChange, timestamp_ms: int, now: float) -> bool:
        """Apply one delta; True when the book is valid afterwards (False: ignored or broke)."""
        if self.invalid_reason is not None:
            return False
        if change.side is Side.BUY:
            self._set_bid(change.price, change.size)
        else:
            self._set_ask(change.price, change.size)
        self.timestamp_ms = timestamp_ms
        self.updated_at = now
        if self._check_crossed():
            return False
        return self._check_reported_top(change)

    def invalidate(self, reason: str) -> None:
        """Drop every level; the book stays unusable until the next snapshot."""
        self._bids.clear()
        self._asks.clear()
        self._best_bid = self._best_ask = None
        self.invalid_reason = reason

    def top(self) -> TopOfBook | None:
        """Best bid and ask, or None while the book is invalid."""
        if self.invalid_reason is not None or self.timestamp_ms is None:
            return None
        bid, ask = self._best_bid, self._best_ask
        return TopOfBook(
            self.asset_id,
            None if bid is None else PriceLevel(bid, self._bids[bid]),
            None if ask is None else PriceLevel(ask, self._asks[ask]),
            self.timestamp_ms,
        )

    def levels(self, side: Side, depth: int) -> tuple[PriceLevel, ...]:
        """The best ``depth`` levels of one side, best first (empty while invalid)."""
        if self.invalid_reason is not None:
            return ()
        if side is Side.BUY:
            prices = heapq.nlargest(depth, self._bids)
            return tuple(PriceLevel(p, self._bids[p]) for p in prices)
        prices = heapq.nsmallest(depth, self._asks)
        return tuple(PriceLevel(p, self._asks[p]) for p in prices)

    def as_snapshot(self) -> OrderBookSnapshot | None:
        """The current state in the venue's snapshot shape (worst to best), for hash checks."""
        if self.invalid_reason is not None or self.timestamp_ms is None:
            return None
        assert self.condition_id is not None  # set together with timestamp_ms by a snapshot
        return OrderBookSnapshot(
            condition_id=self.condition_id,
            asset_id=self.asset_id,
            timestamp_ms=self.timestamp_ms,
            hash=None,
            bids=tuple(PriceLevel(p, self._bids[p]) for p in sorted(self._bids)),
            asks=tuple(PriceLevel(p, self._asks[p]) for p in sorted(self._asks, reverse=True)),
            tick_size=self.tick_size,
            min_order_size=None,
            neg_risk=None,
            last_trade_price=self.last_trade_price,
        )

    def _set_bid(self, price: Decimal, size: Decimal) -> None:
        if size > _ZERO:
            self._bids[price] = size
            if self._best_bid is None or price > self._best_bid:
                self._best_bid = price
        elif self._bids.pop(price, None) is not None and price == self._best_bid:
            self._best_bid = max(self._bids, default=None)

    def _set_ask(self, price: Decimal, size: Decimal) -> None:
        if size > _ZERO:
            self._asks[price] = size
            if self._best_ask is None or price < self._best_ask:
                self._best_ask = price
        elif self._asks.pop(price, None) is not None and price == self._best_ask:
            self._best_ask = min(self._asks, default=None)

    def _check_crossed(self) -> bool:
        bid, ask = self._best_bid, self._best_ask
        if bid is not None and ask is not None and bid >= ask:
            self.crossed_count += 1
            self.invalidate(f"crossed: bid {bid} >= ask {ask}")
            return True
        return False

    def _check_reported_top(self, change: LevelChange) -> bool:
        """Compare with the venue's best_bid/best_ask of the delta (absent in the legacy shape).

        The venue reports an empty side as 0 (bid) or 0/1 (ask); both mean "no level".
        """
        if change.best_bid is None and change.best_ask is None:
            return True
        reported_bid = change.best_bid if change.best_bid not in (None, _ZERO) else None
        reported_ask = change.best_ask if change.best_ask not in (None, _ZERO, _ONE) else None
        if change.best_bid is not None and reported_bid != self._best_bid:
            return self._diverged("bid", reported_bid, self._best_bid)
        if change.best_ask is not None and reported_ask != self._best_ask:
            return self._diverged("ask", reported_ask, self._best_ask)
        return True

    def _diverged(self, side: str, reported: Decimal | None, local: Decimal | None) -> bool:
        self.diverged_count += 1
        self.invalidate(f"diverged: venue best {side} {reported}, local {local}")
        return False


__all__ = ["NO_SNAPSHOT", "LocalBook", "TopOfBook", "compute_book_hash"]
