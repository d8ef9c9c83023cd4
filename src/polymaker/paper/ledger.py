"""The paper account: cash, shares and fills of simulated trading, kept apart from real ones.

A paper ledger is its own file (never the drill's or the venue's history), rewritten atomically
after every fill, so a restarted paper worker finds its position again the way a live worker
finds it at the exchange. Orders are not persisted: a restart cancels them anyway.
Also here: the venue-shaped objects (``Order``, ``Trade``, ``Fill``) the worker already reads,
built from paper state, so paper fills reach the strategy through the same types as real ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from polymaker.errors import StateFileError
from polymaker.exchange.wire import (
    AccountIdentity,
    Fill,
    MakerOrderMatch,
    Order,
    OrderStatus,
    Role,
    Side,
    Trade,
    TradeStatus,
)
from polymaker.files import atomic_write_json, read_json_file
from polymaker.paper.fill_model import PaperFill

ZERO = Decimal(0)
LEDGER_VERSION = 1


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def utc(epoch_ms: int) -> datetime:
    """Epoch milliseconds as an aware UTC datetime (exact, no float rounding)."""
    seconds, millis = divmod(epoch_ms, 1000)
    return datetime.fromtimestamp(seconds, tz=UTC) + timedelta(milliseconds=millis)


@dataclass
class PaperOrder:
    """A paper order as the gateway tracks it (the fill model holds only resting ones)."""

    order_id: str
    condition_id: str
    asset_id: str
    side: Side
    price: Decimal
    size: Decimal
    created_ms: int
    size_matched: Decimal = ZERO
    canceled: bool = False
    trade_ids: list[str] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        """Still resting (not cancelled, not fully matched)."""
        return not self.canceled and self.size_matched < self.size

    def as_order(self, identity: AccountIdentity, address: str) -> Order:
        """The venue's ``Order`` view (what ``/data/orders`` and the user channel carry)."""
        if self.canceled:
            status = OrderStatus.CANCELED
        elif self.is_open:
            status = OrderStatus.LIVE
        else:
            status = OrderStatus.MATCHED
        return Order(
            order_id=self.order_id,
            status=status,
            cancel_reason=None,
            owner=identity.api_key,
            maker_address=address,
            condition_id=self.condition_id,
            asset_id=self.asset_id,
            side=self.side,
            price=self.price,
            original_size=self.size,
            size_matched=self.size_matched,
            outcome=None,
            order_type="GTC",
            associate_trades=tuple(self.trade_ids),
            created_at=utc(self.created_ms),
            expiration=None,
        )


def paper_trade(
    fill: PaperFill,
    order: PaperOrder,
    trade_id: str,
    status: TradeStatus,
    identity: AccountIdentity,
    address: str,
) -> Trade:
    """A trade in the venue's shape with us as the (only) maker and ``fills`` = ours."""
    match_time = utc(fill.timestamp_ms)
    ours = Fill(
        trade_id,
        order.order_id,
        Role.MAKER,
        order.asset_id,
        fill.side,
        fill.price,
        fill.size,
        status,
        None,
        ZERO,
        match_time,
    )
    maker = MakerOrderMatch(
        order.order_id,
        identity.api_key,
        address,
        order.asset_id,
        fill.price,
        fill.size,
        fill.side,
        None,
        ZERO,
    )
    return Trade(
        trade_id=trade_id,
        taker_order_id=f"{trade_id}-taker",
        condition_id=order.condition_id,
        asset_id=order.asset_id,
        side=Side.SELL if fill.side is Side.BUY else Side.BUY,
        price=fill.price,
        size=fill.size,
        status=status,
        trader_side=Role.MAKER,
        owner=identity.api_key,
        maker_address=address,
        outcome=None,
        fee_rate_bps=ZERO,
        match_time=match_time,
        last_update=match_time,
        transaction_hash=None,
        maker_orders=(maker,),
        fills=(ours,),
    )


@dataclass
class PaperLedger:
    """Cash (pUSD), shares per token and every paper fill; ``path`` None = memory only."""

    cash: Decimal
    shares: dict[str, Decimal] = field(default_factory=dict)
    fills: list[Fill] = field(default_factory=list)
    condition_of: dict[str, str] = field(default_factory=dict)  # trade id -> condition id
    path: Path | None = None

    @classmethod
    def open(cls, path: Path | None, cash: Decimal) -> PaperLedger:
        """The ledger at ``path`` if it exists (its cash wins), else a new one with ``cash``."""
        if path is None or not path.exists():
            return cls(cash=cash, path=path)
        return _load(path)

    def record(self, fill: PaperFill, order: PaperOrder, trade_id: str) -> Fill:
        """Book one fill: move cash and shares, remember it, persist the ledger."""
        cost = fill.price * fill.size
        held = self.shares.get(order.asset_id, ZERO)
        if fill.side is Side.BUY:
            self.cash -= cost
            self.shares[order.asset_id] = held + fill.size
        else:
            self.cash += cost
            self.shares[order.asset_id] = held - fill.size
        match_time = utc(fill.timestamp_ms)
        booked = Fill(
            trade_id,
            order.order_id,
            Role.MAKER,
            order.asset_id,
            fill.side,
            fill.price,
            fill.size,
            TradeStatus.CONFIRMED,
            None,
            ZERO,
            match_time,
        )
        self.fills.append(booked)
        self.condition_of[trade_id] = order.condition_id
        self.save()
        return booked

    def save(self) -> None:
        """Rewrite the ledger file atomically (private: mode 0600)."""
        if self.path is None:
            return
        document = {
            "version": LEDGER_VERSION,
            "cash": str(self.cash),
            "shares": {token: str(size) for token, size in self.shares.items()},
            "fills": [_fill_json(f, self.condition_of[f.trade_id]) for f in self.fills],
        }
        atomic_write_json(self.path, document, mode=0o600)


def _fill_json(fill: Fill, condition_id: str) -> dict[str, Any]:
    assert fill.match_time is not None  # paper fills always carry their time
    return {
        "trade_id": fill.trade_id,
        "order_id": fill.order_id,
        "condition_id": condition_id,
        "asset_id": fill.asset_id,
        "side": str(fill.side),
        "price": str(fill.price),
        "size": str(fill.size),
        "match_time_ms": (fill.match_time - _EPOCH) // timedelta(milliseconds=1),
    }


def _load(path: Path) -> PaperLedger:
    document = read_json_file(path)
    try:
        if document["version"] != LEDGER_VERSION:
            raise StateFileError(path, f"unknown paper ledger version {document['version']!r}")
        ledger = PaperLedger(
            cash=Decimal(document["cash"]),
            shares={token: Decimal(size) for token, size in document["shares"].items()},
            path=path,
        )
        for item in document["fills"]:
            ledger.fills.append(
                Fill(
                    item["trade_id"],
                    item["order_id"],
                    Role.MAKER,
                    item["asset_id"],
                    Side(item["side"]),
                    Decimal(item["price"]),
                    Decimal(item["size"]),
                    TradeStatus.CONFIRMED,
                    None,
                    ZERO,
                    utc(item["match_time_ms"]),
                )
            )
            ledger.condition_of[item["trade_id"]] = item["condition_id"]
    except (KeyError, TypeError, ValueError, ArithmeticError, AttributeError) as error:
        raise StateFileError(path, f"not a paper ledger: {error!r}") from error
    return ledger


__all__ = ["LEDGER_VERSION", "PaperLedger", "PaperOrder", "paper_trade", "utc"]
