"""The single order slot: at most one order of ours is working at any time.

A new order may only be placed when the slot is EMPTY and no stray order (an acknowledgement
that arrived after we gave up on it) is waiting for its cancel: a requote is cancel, wait for
the confirmation (with the final size_matched), then place. Anything unanswered for too long is
swept with a cancel-all of the market, and the slot stays blocked until the sweep is confirmed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum

from polymaker.strategy.commands import (
    CancelAll,
    CancelOrder,
    Command,
    OrderIntent,
    ReconcileFills,
)
from polymaker.strategy.events import Side


class SlotStatus(StrEnum):
    """Lifecycle of the one order slot."""

    EMPTY = "empty"
    PLACING = "placing"  # PlaceOrder sent, no answer yet
    WORKING = "working"  # accepted and resting
    CANCELING = "canceling"  # CancelOrder sent, waiting for the confirmation
    CLEARING = "clearing"  # CancelAll sent, waiting for AllOrdersCanceled(open_orders=0)


@dataclass(frozen=True, slots=True)
class SlotOrder:
    """Our order in the slot; ``order_id`` is None until the exchange accepted it."""

    client_ref: str
    side: Side
    price: Decimal
    size: Decimal
    intent: OrderIntent
    order_id: str | None = None


class OrderSlot:
    """Tracks the one order and emits the cancel commands the protocol needs."""

    def __init__(self) -> None:
        self.status = SlotStatus.EMPTY
        self.order: SlotOrder | None = None
        self.since_ms = 0
        self.strays: dict[str, int] = {}  # order id -> when its cancel was sent
        self._lost: dict[str, SlotOrder] = {}  # refs given up on (may still be accepted late)
        self._seq = 0

    @property
    def idle(self) -> bool:
        """True when a new order may be placed (nothing of ours is or may be working)."""
        return self.status == SlotStatus.EMPTY and not self.strays

    def working(self) -> SlotOrder | None:
        """The order that may be resting in the book (working or being cancelled)."""
        if self.status in (SlotStatus.WORKING, SlotStatus.CANCELING):
            return self.order
        return None

    def place(
        self, now_ms: int, side: Side, price: Decimal, size: Decimal, intent: OrderIntent
    ) -> str:
        """Reserve the slot for a new order and return its client reference."""
        if not self.idle:
            raise RuntimeError(f"order slot busy ({self.status}); this is a strategy bug")
        self._seq += 1
        ref = f"o{self._seq}"
        self.order = SlotOrder(ref, side, price, size, intent)
        self.status = SlotStatus.PLACING
        self.since_ms = now_ms
        return ref

    def accepted(self, now_ms: int, client_ref: str, order_id: str) -> SlotOrder | None:
        """Record an acceptance; returns the order if it is ours (current or late)."""
        if self.status == SlotStatus.PLACING and self.order and self.order.client_ref == client_ref:
            self.order = replace(self.order, order_id=order_id)
            self.status = SlotStatus.WORKING
            self.since_ms = now_ms
            return self.order
        late = self._lost.pop(client_ref, None)
        if late is None:
            return None
        self.strays[order_id] = now_ms
        return replace(late, order_id=order_id)

    def rejected(self, client_ref: str) -> SlotOrder | None:
        """Record a rejection of the current placement; returns it (None if not current)."""
        self._lost.pop(client_ref, None)
        if self.status != SlotStatus.PLACING or not self.order:
            return None
        if self.order.client_ref != client_ref:
            return None
        order = self.order
        self._clear()
        return order

    def gone(self, order_id: str) -> bool:
        """An order of ours is no longer open; True if it was the slot's order."""
        self.strays.pop(order_id, None)
        if self.order and self.order.order_id == order_id and self.working():
            self._clear()
            return True
        return False

    def cancel(self, now_ms: int) -> CancelOrder | None:
        """Start cancelling the working order (once)."""
        if self.status != SlotStatus.WORKING or not self.order or not self.order.order_id:
            return None
        self.status = SlotStatus.CANCELING
        self.since_ms = now_ms
        return CancelOrder(self.order.order_id)

    def sweep(self, now_ms: int) -> list[Command]:
        """Give up on the slot's exchange state: cancel the whole market and re-read fills."""
        if self.status == SlotStatus.PLACING and self.order:
            self._lost[self.order.client_ref] = self.order
        self.status = SlotStatus.CLEARING
        self.order = None
        self.since_ms = now_ms
        return [CancelAll(), ReconcileFills()]

    def all_canceled(self, open_orders: int) -> bool:
        """Answer to a sweep; True when it confirmed that nothing of ours is open."""
        if self.status != SlotStatus.CLEARING or open_orders != 0:
            return False
        self.strays.clear()
        self._clear()
        return True

    def timeouts(self, now_ms: int, ack_ms: int, cancel_ms: int) -> list[Command]:
        """Escalate a placement, cancel or sweep that stayed unanswered too long."""
        age = now_ms - self.since_ms
        if self.status == SlotStatus.PLACING and age >= ack_ms:
            return self.sweep(now_ms)
        if self.status in (SlotStatus.CANCELING, SlotStatus.CLEARING) and age >= cancel_ms:
            return self.sweep(now_ms)
        stale = [oid for oid, sent in self.strays.items() if now_ms - sent >= cancel_ms]
        if stale and self.status == SlotStatus.EMPTY:
            return self.sweep(now_ms)
        return []

    def _clear(self) -> None:
        self.status = SlotStatus.EMPTY
        self.order = None
