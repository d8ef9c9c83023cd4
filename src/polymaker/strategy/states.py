"""States of the per-market strategy, their named groups and the allowed transitions.

No dependencies on purpose: the worker runtime, the status file and the docs read these names.
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    """Where one market's round trip stands (lowercase: this is what the status file shows)."""

    STARTING = "starting"  # sweeping leftover orders of this market before trading
    IDLE = "idle"  # flat (or dust): watching for a dip
    BUYING = "buying"  # a buy episode: a post-only bid follows the best bid
    HOLDING = "holding"  # shares held but nothing sellable yet (unsettled, or floor unsellable)
    SELLING = "selling"  # a post-only ask at or above the floor (or a stop-loss exit)
    COOLDOWN = "cooldown"  # pause after a round trip
    EXITING = "exiting"  # stop / end: cancelling this market's orders and confirming none remain
    DONE = "done"  # finished; every later event is ignored


class ExitReason(StrEnum):
    """Why the run finished (the worker exits 0 for every reason with ``clean=True``)."""

    STOPPED = "stopped"  # stop requested (SIGTERM / supervisor)
    SELL_ONLY_DONE = "sell_only_done"  # inside the sell-only window and nothing (sellable) left
    FLATTENED = "flattened"  # a flatten was requested and nothing (sellable) is left
    MARKET_ENDED = "market_ended"  # end_time reached
    MARKET_CLOSED = "market_closed"  # the exchange says closed / resolved / not accepting orders


TRADING_STATES = frozenset({State.IDLE, State.BUYING, State.HOLDING, State.SELLING, State.COOLDOWN})
HOLDING_STATES = frozenset({State.HOLDING, State.SELLING})
TERMINAL_STATES = frozenset({State.DONE})

# For each target state, the states it may be entered from (one table; Strategy checks it).
ALLOWED_FROM: dict[State, frozenset[State]] = {
    State.STARTING: frozenset(),
    State.IDLE: frozenset({State.STARTING, State.BUYING, State.HOLDING, State.COOLDOWN}),
    State.BUYING: frozenset({State.IDLE}),
    State.HOLDING: frozenset(
        {State.STARTING, State.IDLE, State.BUYING, State.SELLING, State.COOLDOWN}
    ),
    State.SELLING: frozenset({State.HOLDING}),
    State.COOLDOWN: frozenset({State.SELLING}),
    State.EXITING: frozenset(
        {
            State.STARTING,
            State.IDLE,
            State.BUYING,
            State.HOLDING,
            State.SELLING,
            State.COOLDOWN,
        }
    ),
    State.DONE: frozenset({State.EXITING}),
}


def is_allowed(source: State, target: State) -> bool:
    """Whether ``source -> target`` is a declared edge."""
    return source in ALLOWED_FROM[target]
