"""Fill accounting from our own orders and trades (never from the lagging data API).

Per order, the filled amount is ``max(size_matched - failed trades, sum of live trades)``: the
order's ``size_matched`` counts fills whose trade event has not arrived yet (priced at the
order's limit, which is what a maker fill pays), trades dedupe by ``trade_id``, and a FAILED
trade is taken back out. Average entry and realized PnL are replayed from the orders in the
order they were first seen (average-cost method), so a late or reversed trade corrects both.
Shares count as settled (sellable) once their trade is CONFIRMED (as on the venue, shares of a
merely MINED trade cannot be sold yet), or once a balance
read taken after the last change says so.

An order never fills beyond its own size: a trade that would take its live trades past the size
(15 shares on a 10-share buy) or a ``size_matched`` above it cannot be right. It is bad data, not
a position: it is refused (``FillOutcome.OVERSIZED``, ``record_matched`` -> False) and the
caller re-reads the exchange instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from polymaker.strategy.events import Fill, Side, TradeStatus

ZERO = Decimal(0)
_EARLY_CAP = 200  # fills kept for orders not accepted yet (bounded: foreign fills never match)
_SETTLED = frozenset({TradeStatus.CONFIRMED})
_TERMINAL = frozenset({TradeStatus.CONFIRMED, TradeStatus.FAILED})


class FillOutcome(StrEnum):
    """What recording a Fill did (the machine counts the ignored kinds)."""

    NEW = "new"
    EARLY = "early"  # the order is not known yet: kept until its acceptance arrives
    UPDATED = "updated"
    DUPLICATE = "duplicate"
    UNKNOWN_ORDER = "unknown_order"
    SIDE_MISMATCH = "side_mismatch"
    BAD_VALUES = "bad_values"
    OVERSIZED = "oversized"  # more than the order's remaining size: bad data, never applied


@dataclass(slots=True)
class _Trade:
    price: Decimal
    size: Decimal
    status: TradeStatus


@dataclass(slots=True)
class _OrderFills:
    side: Side
    limit_price: Decimal
    size: Decimal  # the order's own size: no report of fills may exceed it
    size_matched: Decimal = ZERO
    trades: dict[str, _Trade] = field(default_factory=dict)
    adopted: bool = False

    def _split(self) -> tuple[Decimal, Decimal]:
        ok = sum((t.size for t in self.trades.values() if t.status != TradeStatus.FAILED), ZERO)
        failed = sum((t.size for t in self.trades.values() if t.status == TradeStatus.FAILED), ZERO)
        return ok, failed

    def filled(self) -> Decimal:
        ok, failed = self._split()
        return max(self.size_matched - failed, ok)

    def notional(self) -> Decimal:
        ok, _ = self._split()
        traded = sum(
            (t.price * t.size for t in self.trades.values() if t.status != TradeStatus.FAILED),
            ZERO,
        )
        return traded + (self.filled() - ok) * self.limit_price

    def settled(self) -> Decimal:
        if self.adopted:
            return self.filled()
        return sum((t.size for t in self.trades.values() if t.status in _SETTLED), ZERO)


@dataclass(frozen=True, slots=True)
class Totals:
    """Replayed totals: shares held, their cost basis and the realized PnL (USDC)."""

    position: Decimal
    cost: Decimal
    realized_pnl: Decimal
    settled_by_status: Decimal
    bought: Decimal
    bought_settled: Decimal
    bought_cost: Decimal
    sold: Decimal
    sold_proceeds: Decimal


@dataclass(frozen=True, slots=True)
class _BalanceRead:
    shares: Decimal
    cash: Decimal | None
    at: Totals


class Position:
    """All fills of this run's orders (plus an adopted position), with derived totals."""

    def __init__(self) -> None:
        self._orders: dict[str, _OrderFills] = {}
        self._early: list[Fill] = []
        self._version = 0
        self._balance: _BalanceRead | None = None
        self._totals: tuple[int, Totals] | None = None

    # -- recording ---------------------------------------------------------------------------
    def adopt(self, size: Decimal, avg_entry: Decimal) -> None:
        """Seed the ledger with a position held before this run (counted as settled)."""
        fills = _OrderFills(
            side=Side.BUY, limit_price=avg_entry, size=size, size_matched=size, adopted=True
        )
        self._orders["adopted"] = fills
        self._changed()

    def register_order(
        self, order_id: str, side: Side, limit_price: Decimal, size: Decimal
    ) -> list[tuple[Fill, FillOutcome]]:
        """Remember an accepted order (its size bounds its fills) so its fills are counted.

        Returns the fills that had arrived before the acceptance, with what recording them did.
        """
        if order_id in self._orders:
            return []
        self._orders[order_id] = _OrderFills(side=side, limit_price=limit_price, size=size)
        early = [f for f in self._early if f.order_id == order_id]
        self._early = [f for f in self._early if f.order_id != order_id]
        return [(fill, self.record_fill(fill)) for fill in early]

    def knows(self, order_id: str) -> bool:
        """Whether ``order_id`` is one of this run's orders."""
        return order_id in self._orders and not self._orders[order_id].adopted

    def within_size(self, order_id: str, size_matched: Decimal) -> bool:
        """Whether a size_matched report fits the order (an unknown order: nothing to check)."""
        fills = self._orders.get(order_id)
        return fills is None or size_matched <= fills.size

    def record_matched(self, order_id: str, size_matched: Decimal) -> bool:
        """Take a (cumulative) size_matched report; it only ever grows. True if it changed.

        A report beyond the order's size is refused (False): see ``within_size``.
        """
        fills = self._orders.get(order_id)
        if fills is None or fills.adopted or size_matched <= fills.size_matched:
            return False
        if size_matched > fills.size:
            return False
        fills.size_matched = size_matched
        self._changed()
        return True

    def record_fill(self, fill: Fill) -> FillOutcome:
        """Count a trade once; later reports only move its status forward (FAILED reverses it).

        A trade of an order not accepted yet (the user channel can beat the HTTP answer) is
        kept and counted when ``register_order`` sees that order.
        """
        fills = self._orders.get(fill.order_id)
        if fills is None and len(self._early) < _EARLY_CAP:
            self._early.append(fill)
            return FillOutcome.EARLY
        if fills is None or fills.adopted:
            return FillOutcome.UNKNOWN_ORDER
        if fills.side != fill.side:
            return FillOutcome.SIDE_MISMATCH
        if not (ZERO < fill.price < 1) or fill.size <= 0:
            return FillOutcome.BAD_VALUES
        trade = fills.trades.get(fill.trade_id)
        if trade is None:
            live, _ = fills._split()
            if fill.size > fills.size - live:
                return FillOutcome.OVERSIZED
            fills.trades[fill.trade_id] = _Trade(fill.price, fill.size, fill.status)
            self._changed()
            return FillOutcome.NEW
        if trade.status in _TERMINAL or trade.status == fill.status:
            return FillOutcome.DUPLICATE
        trade.status = fill.status
        self._changed()
        return FillOutcome.UPDATED

    def note_balance(self, shares: Decimal, cash: Decimal | None) -> None:
        """Balances read from the exchange, remembered with the totals they correspond to."""
        self._balance = _BalanceRead(shares, cash, self.totals())

    # -- derived -------------------------------------------------------------------------------
    def order_filled(self, order_id: str) -> Decimal:
        """Shares filled on one order so far."""
        fills = self._orders.get(order_id)
        return ZERO if fills is None else fills.filled()

    def totals(self) -> Totals:
        """Replay every order (first-seen order) with the average-cost method."""
        if self._totals is not None and self._totals[0] == self._version:
            return self._totals[1]
        qty = cost = realized = bought = settled = bought_cost = sold_total = proceeds = ZERO
        for fills in self._orders.values():
            size = fills.filled()
            if fills.side == Side.BUY:
                qty += size
                cost += fills.notional()
                bought += size
                bought_cost += fills.notional()
                settled += fills.settled()
                continue
            sold = min(size, qty)
            removed = cost if sold == qty else cost * sold / qty if qty else ZERO
            realized += fills.notional() * (sold / size if size else ZERO) - removed
            cost -= removed
            qty -= sold
            sold_total += size
            proceeds += fills.notional()
        totals = Totals(
            position=qty,
            cost=cost,
            realized_pnl=realized,
            settled_by_status=max(settled - sold_total, ZERO),
            bought=bought,
            bought_settled=settled,
            bought_cost=bought_cost,
            sold=sold_total,
            sold_proceeds=proceeds,
        )
        self._totals = (self._version, totals)
        return totals

    @property
    def position(self) -> Decimal:
        """Shares held (filled buys minus filled sells, failed trades excluded)."""
        return self.totals().position

    @property
    def avg_entry(self) -> Decimal | None:
        """Size-weighted average entry of the shares held, None when flat."""
        totals = self.totals()
        return totals.cost / totals.position if totals.position > 0 else None

    @property
    def realized_pnl(self) -> Decimal:
        """Realized PnL in USDC (fees excluded: makers pay none on Polymarket)."""
        return self.totals().realized_pnl

    @property
    def sellable(self) -> Decimal:
        """Shares that can be offered now; never more than the position.

        A balance read minus what was sold since is authoritative while no buy-side fill has
        changed since the read (it then also overrides trade statuses that claim settlement,
        which is how a "not enough balance" rejection gets resolved). After a new buy fill,
        the larger of the two lower bounds (balance minus sold, settled trades) is used.
        """
        totals = self.totals()
        by_status = totals.settled_by_status
        read = self._balance
        if read is None:
            return max(min(totals.position, by_status), ZERO)
        by_balance = read.shares - (totals.sold - read.at.sold)
        unchanged = (totals.bought, totals.bought_settled) == (
            read.at.bought,
            read.at.bought_settled,
        )
        estimate = by_balance if unchanged else max(by_balance, by_status)
        return max(min(totals.position, estimate), ZERO)

    @property
    def cash(self) -> Decimal | None:
        """USDC available by the last read, minus buys and plus sells filled since; None if unknown.

        Sell proceeds may not be settled yet; a "not enough balance" refusal re-reads the truth.
        """
        read = self._balance
        if read is None or read.cash is None:
            return None
        totals = self.totals()
        spent = totals.bought_cost - read.at.bought_cost
        earned = totals.sold_proceeds - read.at.sold_proceeds
        return read.cash - spent + earned

    @property
    def version(self) -> int:
        """Bumped on every change of the ledger."""
        return self._version

    def _changed(self) -> None:
        self._version += 1
