"""The local order book of one outcome token: a ``book`` snapshot plus ``price_change`` deltas.

Pure state, no I/O and no clock (the caller passes monotonic ``now``). Rules
(polymarket_api.md 3.1/4.1, reference_behaviour.md 4.4/4.5):

- a delta's ``size`` is the new total at that level; ``0`` deletes the level;
- best bid = max bid price, best ask = min ask price (never the served position);
- the venue stamps every entry of one *operation* (a trade that takes several levels, a
  multi-order cancel, a crossing order that trades then rests) with the book's hash and top
  (``best_bid``/``best_ask``) *after the whole operation*, and one operation may arrive split
  over several frames. So entries are applied without judging, and the book is verified once
  per operation (``settle``): when an entry of this token carries another hash, or when the
  caller says the operation is over (a quiet time). In between the book is *pending*: it gives
  no top of book, so a crossed or half-applied top is never published. ``settle_if_consistent``
  ends an operation early when the book already matches the venue's reported top, which is
  the usual case at the end of a frame;
- the book is *invalid* until a snapshot arrives, and becomes invalid again on a tick-size
  change (old-grid levels are meaningless), on reconnect, or when a finished operation leaves
  it crossed (bid >= ask) or disagreeing with the venue's reported top (a missed delta). An
  invalid book ignores deltas and gives no top of book; only a new snapshot (WS or REST)
  revalidates it, and a snapshot also ends any pending operation;
- a delta older than the book's snapshot is ignored (its effect is already in the snapshot).
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


@dataclass(frozen=True, slots=True)
class _Operation:
    """The venue operation being applied: its hash and the top the venue says it ends with."""

    hash: str | None
    best_bid: Decimal | None
    best_ask: Decimal | None


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
        self._snapshot_ms = 0
        self._operation: _Operation | None = None
        self.entries = 0  # entries applied so far: tells a caller whether more came since

    @property
    def is_valid(self) -> bool:
        """True when the levels can be trusted (a snapshot arrived and nothing broke since)."""
        return self.invalid_reason is None

    @property
    def pending(self) -> bool:
        """True while an operation is applied but not verified yet (no top of book meanwhile)."""
        return self._operation is not None

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
        self.timestamp_ms = self._snapshot_ms = snapshot.timestamp_ms
        self.updated_at = now
        self.invalid_reason = None
        self._operation = None
        self._check_crossed()

    def apply_change(self, change: LevelChange, timestamp_ms: int, now: float) -> None:
        """Apply one entry without judging it (see the module doc); check ``is_valid`` after.

        Ignored while the book is invalid, and when older than the snapshot. An entry with
        another hash than the pending operation's first settles that operation, which may
        invalidate the book (then this entry is not applied).
        """
        if self.invalid_reason is not None or timestamp_ms < self._snapshot_ms:
            return
        pending = self._operation
        if pending is not None and change.hash is not None and change.hash != pending.hash:
            self.settle()
            if self.invalid_reason is not None:
                return
        if change.side is Side.BUY:
            self._set_bid(change.price, change.size)
        else:
            self._set_ask(change.price, change.size)
        self._operation = _Operation(change.hash, change.best_bid, change.best_ask)
        self.entries += 1
        self.timestamp_ms = timestamp_ms
        self.updated_at = now

    def settle_if_consistent(self) -> bool:
        """End the pending operation if the book already matches the venue's report.

        True when nothing is pending afterwards. Never invalidates: the operation may go on in
        the next frame, so a mismatch here is not a verdict yet.
        """
        if self._operation is None:
            return True
        if self._crossed() or self._top_mismatch(self._operation) is not None:
            return False
        self._operation = None
        return True

    def settle(self) -> None:
        """Verify the pending operation as finished: crossed or off the venue's top -> invalid."""
        operation, self._operation = self._operation, None
        if operation is None or self.invalid_reason is not None or self._check_crossed():
            return
        mismatch = self._top_mismatch(operation)
        if mismatch is not None:
            side, reported, local = mismatch
            self.diverged_count += 1
            self.invalidate(f"diverged: venue best {side} {reported}, local {local}")

    def invalidate(self, reason: str) -> None:
        """Drop every level; the book stays unusable until the next snapshot."""
        self._bids.clear()
        self._asks.clear()
        self._best_bid = self._best_ask = None
        self._operation = None
        self.invalid_reason = reason

    def top(self) -> TopOfBook | None:
        """Best bid and ask, or None while the book is invalid or an operation is pending."""
        if self.invalid_reason is not None or self.timestamp_ms is None or self.pending:
            return None
        bid, ask = self._best_bid, self._best_ask
        return TopOfBook(
            self.asset_id,
            None if bid is None else PriceLevel(bid, self._bids[bid]),
            None if ask is None else PriceLevel(ask, self._asks[ask]),
            self.timestamp_ms,
        )

    def levels(self, side: Side, depth: int) -> tuple[PriceLevel, ...]:
        """The best ``depth`` levels of one side, best first (empty while invalid or pending)."""
        if self.invalid_reason is not None or self.pending:
            return ()
        if side is Side.BUY:
            prices = heapq.nlargest(depth, self._bids)
            return tuple(PriceLevel(p, self._bids[p]) for p in prices)
        prices = heapq.nsmallest(depth, self._asks)
        return tuple(PriceLevel(p, self._asks[p]) for p in prices)

    def as_snapshot(self) -> OrderBookSnapshot | None:
        """The current state in the venue's snapshot shape (worst to best), for hash checks.

        Also while an operation is pending: the hash of the state is how it is compared.
        """
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

    def _crossed(self) -> bool:
        bid, ask = self._best_bid, self._best_ask
        return bid is not None and ask is not None and bid >= ask

    def _check_crossed(self) -> bool:
        if not self._crossed():
            return False
        self.crossed_count += 1
        self.invalidate(f"crossed: bid {self._best_bid} >= ask {self._best_ask}")
        return True

    def _top_mismatch(
        self, operation: _Operation
    ) -> tuple[str, Decimal | None, Decimal | None] | None:
        """(side, venue's, ours) where the venue's reported top differs, else None.

        The legacy shape reports no top (nothing to compare). The venue reports an empty side as
        0 (bid) or 0/1 (ask); both mean "no level".
        """
        if operation.best_bid is not None:
            reported = operation.best_bid if operation.best_bid != _ZERO else None
            if reported != self._best_bid:
                return "bid", reported, self._best_bid
        if operation.best_ask is not None:
            reported = operation.best_ask if operation.best_ask not in (_ZERO, _ONE) else None
            if reported != self._best_ask:
                return "ask", reported, self._best_ask
        return None


__all__ = ["NO_SNAPSHOT", "LocalBook", "TopOfBook", "compute_book_hash"]
