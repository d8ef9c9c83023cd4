"""Trades (REST ``/data/trades`` items and user-channel ``trade`` events) and OUR fills in them.

A trade names the taker at the top level and each resting maker order in ``maker_orders[]``.
Which part is ours depends on our role (polymarket_api.md 4.2):

- as maker: every ``maker_orders[]`` entry whose ``owner`` (API key) or ``maker_address`` is
  ours. It may sit on the *complementary* token (a YES taker buy matched against a NO maker
  buy mints a pair); when the entry has no ``side`` it is derived: opposite of the taker's side
  on the same token, the taker's side on the other token;
- as taker (``trader_side: TAKER``): the top-level order, when its owner or address is ours.

Identity is matched rather than trusting ``trader_side`` alone: recorded frames carry maker
entries of the receiving account while ``trader_side`` names someone else's role.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from polymaker.excerpt import excerpt
from polymaker.exchange.wire import _fields as f
from polymaker.exchange.wire._fields import Side, WireError


class TradeStatus(StrEnum):
    """Settlement status of a trade, venue words (REST may prefix them with ``TRADE_STATUS_``)."""

    MATCHED = "MATCHED"  # matched by the operator, not yet sent on chain
    MATCHED_NOT_BROADCASTED = "MATCHED_NOT_BROADCASTED"  # REST listings only
    MINED = "MINED"  # included in a block
    CONFIRMED = "CONFIRMED"  # final: the fill is durable
    RETRYING = "RETRYING"  # the transaction failed and is being resubmitted
    FAILED = "FAILED"  # final: the fill did not happen; undo any provisional accounting


class Role(StrEnum):
    """Our side of the match."""

    MAKER = "MAKER"
    TAKER = "TAKER"


@dataclass(frozen=True, slots=True)
class AccountIdentity:
    """Who "we" are on the venue: the API key (``owner`` on the wire) and wallet addresses.

    Addresses compare case-insensitively (the venue mixes checksummed and lowercase forms).
    """

    api_key: str | None
    addresses: frozenset[str]

    @classmethod
    def of(cls, api_key: str | None, addresses: Iterable[str] = ()) -> AccountIdentity:
        """Build from an API key and any number of addresses (signer, funder)."""
        return cls(api_key, frozenset(address.lower() for address in addresses))

    def owns(self, owner: str | None, address: str | None) -> bool:
        """True when the API key or the address is ours."""
        if owner is not None and owner == self.api_key:
            return True
        return address is not None and address.lower() in self.addresses


@dataclass(frozen=True, slots=True)
class MakerOrderMatch:
    """One ``maker_orders[]`` entry: a resting order matched against the taker."""

    order_id: str
    owner: str | None
    maker_address: str | None
    asset_id: str
    price: Decimal
    matched_amount: Decimal
    side: Side | None
    outcome: str | None
    fee_rate_bps: Decimal | None


@dataclass(frozen=True, slots=True)
class Fill:
    """Part of a trade that is ours. Deduplicate on ``key`` and follow ``status`` to the end."""

    trade_id: str
    order_id: str
    role: Role
    asset_id: str
    side: Side
    price: Decimal
    size: Decimal
    status: TradeStatus
    outcome: str | None
    fee_rate_bps: Decimal | None
    match_time: datetime | None

    @property
    def key(self) -> tuple[str, str]:
        """(trade id, order id): one trade can fill several of our orders."""
        return (self.trade_id, self.order_id)


@dataclass(frozen=True, slots=True)
class Trade:
    """A trade as the venue reports it (top level = the taker), plus ``fills``: ours in it."""

    trade_id: str
    taker_order_id: str
    condition_id: str
    asset_id: str
    side: Side
    price: Decimal
    size: Decimal
    status: TradeStatus
    trader_side: Role | None
    owner: str | None
    maker_address: str | None
    outcome: str | None
    fee_rate_bps: Decimal | None
    match_time: datetime | None
    last_update: datetime | None
    transaction_hash: str | None
    maker_orders: tuple[MakerOrderMatch, ...]
    fills: tuple[Fill, ...]


def trade_status(obj: Mapping[str, Any], key: str = "status") -> TradeStatus:
    """The trade status, with the REST ``TRADE_STATUS_`` prefix removed."""
    value = f.text(obj, key).upper().removeprefix("TRADE_STATUS_")
    try:
        return TradeStatus(value)
    except ValueError:
        raise WireError(key, f"unknown trade status {excerpt(value)}") from None


def _role(obj: Mapping[str, Any]) -> Role | None:
    value = f.optional_text(obj, "trader_side")
    if value is None:
        return None
    try:
        return Role(value.upper())
    except ValueError:
        raise WireError("trader_side", f"expected TAKER or MAKER, got {excerpt(value)}") from None


def _maker_order(obj: Mapping[str, Any]) -> MakerOrderMatch:
    return MakerOrderMatch(
        order_id=f.text(obj, "order_id"),
        owner=f.optional_text(obj, "owner"),
        maker_address=f.optional_text(obj, "maker_address"),
        asset_id=f.text(obj, "asset_id"),
        price=f.price(obj, "price"),
        matched_amount=f.size(obj, "matched_amount"),
        side=f.side(obj, "side") if obj.get("side") else None,
        outcome=f.optional_text(obj, "outcome"),
        fee_rate_bps=f.optional_decimal(obj, "fee_rate_bps"),
    )


def _maker_orders(obj: Mapping[str, Any]) -> tuple[MakerOrderMatch, ...]:
    raw = obj.get("maker_orders")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise WireError("maker_orders", "expected a list")
    return tuple(_maker_order(f.require_mapping(item, "maker_orders")) for item in raw)


def _opposite(side: Side) -> Side:
    return Side.SELL if side is Side.BUY else Side.BUY


def _our_fills(trade: Trade, account: AccountIdentity, trade_owner: str | None) -> tuple[Fill, ...]:
    fills = []
    if trade.trader_side is Role.TAKER and (
        account.owns(trade.owner, trade.maker_address) or account.owns(trade_owner, None)
    ):
        fills.append(
            Fill(
                trade.trade_id,
                trade.taker_order_id,
                Role.TAKER,
                trade.asset_id,
                trade.side,
                trade.price,
                trade.size,
                trade.status,
                trade.outcome,
                trade.fee_rate_bps,
                trade.match_time,
            )
        )
    for maker in trade.maker_orders:
        if not account.owns(maker.owner, maker.maker_address):
            continue
        side = maker.side
        if side is None:
            same_token = maker.asset_id == trade.asset_id
            side = _opposite(trade.side) if same_token else trade.side
        fills.append(
            Fill(
                trade.trade_id,
                maker.order_id,
                Role.MAKER,
                maker.asset_id,
                side,
                maker.price,
                maker.matched_amount,
                trade.status,
                maker.outcome,
                maker.fee_rate_bps,
                trade.match_time,
            )
        )
    return tuple(fills)


def parse_trade(payload: object, account: AccountIdentity) -> Trade:
    """One trade object (REST item or user-channel event) with ``account``'s fills derived."""
    obj = f.require_mapping(payload, "trade")
    trade = Trade(
        trade_id=f.text(obj, "id"),
        taker_order_id=f.text(obj, "taker_order_id"),
        condition_id=f.text(obj, "market"),
        asset_id=f.text(obj, "asset_id"),
        side=f.side(obj, "side"),
        price=f.price(obj, "price"),
        size=f.size(obj, "size"),
        status=trade_status(obj),
        trader_side=_role(obj),
        owner=f.optional_text(obj, "owner"),
        maker_address=f.optional_text(obj, "maker_address"),
        outcome=f.optional_text(obj, "outcome"),
        fee_rate_bps=f.optional_decimal(obj, "fee_rate_bps"),
        match_time=f.optional_utc(obj, "match_time"),
        last_update=f.optional_utc(obj, "last_update"),
        transaction_hash=f.optional_text(obj, "transaction_hash"),
        maker_orders=_maker_orders(obj),
        fills=(),
    )
    fills = _our_fills(trade, account, f.optional_text(obj, "trade_owner"))
    return replace(trade, fills=fills)


__all__ = [
    "AccountIdentity",
    "Fill",
    "MakerOrderMatch",
    "Role",
    "Trade",
    "TradeStatus",
    "parse_trade",
]
