"""Trade records, taker fees and the ledger movements of a trade (internal).

A trade moves value in *legs*, one per participant: a BUY leg pays ``cash`` pUSD and receives
``shares`` unsettled shares, a SELL leg gives ``shares`` settled shares and receives ``cash``.
Pairing a YES-book bid party (BUY YES or SELL NO) with an ask party (SELL YES or BUY NO) at YES
price x for q shares gives a transfer (BUY/SELL of one token: cash and shares just change hands),
a mint (BUY YES + BUY NO: x*q + (1-x)*q = q pUSD in, q YES and q NO created) or a merge
(SELL YES + SELL NO: q YES and q NO destroyed, q pUSD out). In every case
``sum(cash) + complete sets outstanding`` is unchanged. The taker fee is a leg of the fee
account: shares on a BUY (the taker's share leg shrinks by it), pUSD on a SELL (the taker's cash
leg shrinks by it), so fees are conserved too.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from polymaker.drill.ledger import FEE_ADDRESS, Ledger
from polymaker.drill.views import MakerFill, Outcome, Side, TradeStatus, TradeView

_ZERO = Decimal(0)
FEE_QUANTUM = Decimal("0.00001")  # the venue rounds fees to 5 dp (polymarket_api.md 7)


def taker_fee(size: Decimal, price: Decimal, rate: Decimal, exponent: Decimal) -> Decimal:
    """``size * rate * (p * (1 - p)) ** exponent`` rounded half-up to 5 dp, capped at ``size``.

    The cap keeps a degenerate schedule (rate > 1) from charging more than the fill itself; the
    caller caps a pUSD fee at the proceeds the same way.
    """
    if rate == 0 or size == 0:
        return _ZERO
    fee = size * rate * (price * (1 - price)) ** exponent
    return min(fee.quantize(FEE_QUANTUM, rounding=ROUND_HALF_UP), size)


@dataclass(frozen=True, slots=True)
class Leg:
    """One participant's movement in a trade (see the module docstring)."""

    address: str
    token: str
    side: Side
    shares: Decimal
    cash: Decimal


def apply_legs(ledger: Ledger, legs: list[Leg]) -> None:
    """Move cash and shares at match time (bought shares arrive unsettled)."""
    for leg in legs:
        account = ledger.ensure(leg.address)
        if leg.side == "BUY":
            account.cash -= leg.cash
            account.receive_unsettled(leg.token, leg.shares)
        else:
            account.adjust_settled(leg.token, -leg.shares)
            account.cash += leg.cash


def confirm_legs(ledger: Ledger, legs: list[Leg]) -> None:
    """Make bought shares sellable (the trade reached CONFIRMED)."""
    for leg in legs:
        if leg.side == "BUY" and leg.shares:
            ledger.ensure(leg.address).confirm(leg.token, leg.shares)


def reverse_legs(ledger: Ledger, legs: list[Leg]) -> None:
    """Undo ``apply_legs`` for a trade that FAILED before it was CONFIRMED."""
    for leg in legs:
        account = ledger.ensure(leg.address)
        if leg.side == "BUY":
            account.cash += leg.cash
            account.receive_unsettled(leg.token, -leg.shares)
        else:
            account.adjust_settled(leg.token, leg.shares)
            account.cash -= leg.cash


def fee_leg(token: str, taker_side: Side, fee: Decimal) -> Leg:
    """The fee account's leg: it receives ``fee`` shares on a taker BUY, ``fee`` pUSD on a SELL."""
    if taker_side == "BUY":
        return Leg(FEE_ADDRESS, token, "BUY", fee, _ZERO)
    return Leg(FEE_ADDRESS, token, "SELL", _ZERO, fee)


def trade_id_for(serial: int) -> str:
    """A deterministic UUID-shaped trade id (no global random: the engine counts trades)."""
    digest = hashlib.sha256(f"drill-trade-{serial}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def tx_hash_for(trade_id: str) -> str:
    """A deterministic fake transaction hash, attached when the trade is MINED."""
    return "0x" + hashlib.sha256(f"drill-tx-{trade_id}".encode()).hexdigest()


@dataclass(slots=True, eq=False)
class TradeRecord:
    """Mutable engine state of one trade (one taker order against one price level)."""

    trade_id: str
    taker_order_id: str
    condition_id: str
    asset_id: str
    side: Side
    size: Decimal
    price: Decimal
    outcome: Outcome
    owner: str
    taker_address: str
    makers: tuple[MakerFill, ...]
    fee_rate_bps: Decimal
    fee: Decimal
    match_ms: int
    legs: list[Leg]
    status: TradeStatus = "MATCHED"
    last_update_ms: int = 0
    transaction_hash: str = ""
    owners: tuple[str, ...] = field(default=())
    addresses: tuple[str, ...] = field(default=())

    def view(self) -> TradeView:
        """The public, taker-side view of this trade."""
        return TradeView(
            id=self.trade_id,
            taker_order_id=self.taker_order_id,
            market=self.condition_id,
            asset_id=self.asset_id,
            side=self.side,
            size=self.size,
            price=self.price,
            status=self.status,
            match_time=self.match_ms // 1000,
            last_update=self.last_update_ms // 1000,
            outcome=self.outcome,
            owner=self.owner,
            maker_address=self.taker_address,
            trader_side="TAKER",
            maker_orders=self.makers,
            fee_rate_bps=self.fee_rate_bps,
            transaction_hash=self.transaction_hash,
            fee=self.fee,
        )
