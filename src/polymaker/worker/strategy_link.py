"""The worker's handle on the pure strategy: construction, one call per event, status fields.

Kept separate from the runtime so the runtime never reaches into the strategy's internals: it
only passes events in, gets commands out, and copies the snapshot into the status file.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from polymaker.config.worker_params import WorkerParams
from polymaker.exchange.market_feed import MarketFeed
from polymaker.strategy.commands import Command
from polymaker.strategy.events import Event
from polymaker.strategy.machine import Strategy
from polymaker.strategy.market import MarketInfo
from polymaker.strategy.snapshot import Snapshot
from polymaker.worker.status import StatusSnapshot

log = logging.getLogger(__name__)


class StrategyLink:
    """Owns the one ``Strategy`` of this worker; call it from one task only."""

    def __init__(self, params: WorkerParams) -> None:
        self._params = params
        self._strategy: Strategy | None = None
        self._tick_size = params.tick_size
        self._last_state = ""
        self._changed = False
        self._ignored: dict[str, int] = {}

    def set_tick_size(self, tick: Decimal) -> None:
        """The exchange's tick at start (before the first event), when it differs from params."""
        self._tick_size = tick

    def _ensure(self, now_ms: int) -> Strategy:
        if self._strategy is None:
            market = MarketInfo(
                tick_size=self._tick_size,
                min_order_size=self._params.min_order_size,
                end_time_ms=int(self._params.end_time.timestamp() * 1000),
            )
            self._strategy = Strategy(self._params.strategy, market, now_ms)
        return self._strategy

    def handle(self, event: Event) -> list[Command]:
        """Feed one event; log state changes; return the commands in order."""
        strategy = self._ensure(event.ts_ms)
        commands = list(strategy.handle(event))
        snap = strategy.snapshot()
        self._log_ignored(snap)
        state = f"{snap.state}/{snap.position}/{snap.open_orders}"
        if state != self._last_state:
            self._changed = True
            if str(snap.state) != self._last_state.partition("/")[0]:
                log.info(
                    "strategy %s -> %s", self._last_state.partition("/")[0] or "(new)", snap.state
                )
            self._last_state = state
        return commands

    def _log_ignored(self, snap: Snapshot) -> None:
        """Log input the strategy refused: every time for bad exchange data (a fill beyond its
        order), otherwise the first time per reason (later ones only count in the status)."""
        if snap.ignored == self._ignored:
            return
        for reason, count in snap.ignored.items():
            if count == self._ignored.get(reason, 0):
                continue
            bad_data = reason.endswith("_oversized")
            if bad_data or reason not in self._ignored:
                detail = f": {snap.last_error}" if bad_data else ""
                log.warning("strategy ignored %s (%d so far)%s", reason, count, detail)
        self._ignored = dict(snap.ignored)

    def changed(self) -> bool:
        """True once after the state, position or order count changed (for a prompt status)."""
        changed, self._changed = self._changed, False
        return changed

    def snapshot(self) -> Snapshot | None:
        """The strategy's read-only view (None before the first event)."""
        return None if self._strategy is None else self._strategy.snapshot()

    def phase(self) -> str:
        """The strategy state name for the status file."""
        snap = self.snapshot()
        return "starting" if snap is None else str(snap.state)

    def fill_status(self, status: StatusSnapshot, feed: MarketFeed | None, tracked: int) -> None:
        """Copy the strategy's and the feed's view into the status snapshot."""
        snap = self.snapshot()
        if feed is not None:
            stats = feed.stats
            status.counters["market_unparsed"] = stats.unparsed
            status.counters["market_connections"] = stats.connections
            status.counters["book_crossed"] = stats.crossed
            status.counters["book_resyncs"] = stats.resyncs
        status.counters["tracked_orders"] = tracked
        if snap is None:
            return
        status.phase = str(snap.state)
        status.position = snap.position
        status.settled_position = snap.sellable
        status.avg_entry = snap.avg_entry
        status.realized_pnl = snap.realized_pnl
        status.tick_size = snap.tick_size
        status.rolling_high = snap.rolling_high
        status.sell_only = snap.sell_only
        if snap.last_error:
            status.last_error = snap.last_error
        order = snap.open_order
        status.open_orders = (
            []
            if order is None
            else [
                {
                    "order_id": order.order_id or "",
                    "side": str(order.side),
                    "price": str(order.price),
                    "size": str(order.size),
                    "size_matched": str(order.size_matched),
                    "intent": str(order.intent),
                }
            ]
        )
        for name, count in snap.ignored.items():
            status.counters[f"ignored_{name}"] = count


__all__ = ["StrategyLink"]
