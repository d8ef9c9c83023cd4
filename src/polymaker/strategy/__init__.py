"""Pure decision logic of one market's worker: events in, commands out (no I/O, no clock).

The worker runtime builds ``Strategy(params, market, now_ms)``, feeds every market-data, order
and timer event to ``handle()`` and executes the returned commands in order; ``snapshot()``
feeds the status file. See docs/strategy.md.
"""

from polymaker.strategy import commands, events
from polymaker.strategy.machine import Strategy
from polymaker.strategy.market import MarketInfo
from polymaker.strategy.snapshot import Snapshot
from polymaker.strategy.states import ExitReason, State

__all__ = ["ExitReason", "MarketInfo", "Snapshot", "State", "Strategy", "commands", "events"]
