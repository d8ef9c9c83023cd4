"""Hold back news about an order until the strategy knows the order exists (pure).

The user channel can report a new order, even its fill, before the ``POST /order`` answer has
reached the strategy; passed on at once, the strategy would ignore it as an unknown order and
the fill would only be counted at the next REST reconciliation. While a placement is
unanswered, order/fill events about unknown order ids wait here and follow the answer.
"""

from __future__ import annotations

from polymaker.strategy.events import Event, Fill, OrderAccepted, OrderRejected, OrderUpdate


class PlacementGate:
    """Orders events around unanswered placements; call from the strategy's task only."""

    def __init__(self) -> None:
        self._placing = 0
        self._known: set[str] = set()
        self._held: list[Event] = []

    def placing(self) -> None:
        """A PlaceOrder was sent to the executor."""
        self._placing += 1

    def admit(self, event: Event) -> list[Event]:
        """The events to hand to the strategy now, in order (possibly none)."""
        if isinstance(event, OrderAccepted | OrderRejected):
            if isinstance(event, OrderAccepted):
                self._known.add(event.order_id)
            self._placing = max(0, self._placing - 1)
            if self._placing == 0 and self._held:
                released, self._held = self._held, []
                return [event, *released]
            return [event]
        if (
            isinstance(event, Fill | OrderUpdate)
            and self._placing > 0
            and event.order_id not in self._known
        ):
            self._held.append(event)
            return []
        return [event]


__all__ = ["PlacementGate"]
