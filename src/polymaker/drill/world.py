"""The drill world on disk: a rehearsal continues where the last run stopped.

In production the venue keeps your positions, balances and resting orders while your bot is
down. A drill has to rehearse that, so ``polymaker sim --state-file F`` (the supervisor's
embedded exchange uses ``data/drill_world.pickle``) keeps everything the venue knows in ``F``:
the universe (markets, events, resolutions), the ledger (accounts, balances, positions,
allowances), the matching engine (books, open orders, trades and their settlement), the
simulator (fair prices and their RNGs), API keys, wallets (deployed deposit wallets, relayer
jobs), armed order heartbeats and the clock offset. It is written atomically every
``SAVE_EVERY_S`` and at a clean stop, and read at start; a restart continues the same world,
and the time that passed meanwhile is simulated as it is for any market the simulator wakes
(armed heartbeats whose deadline passed cancel their orders, as the venue's would).

The file is a pickle of the venue's own objects, with a version header: a snapshot of a
simulation, private to this machine (mode 0600), never a file a user edits or shares. Like
any venue's database it holds the API credentials the drill issued (they own its orders);
those are drill credentials derived from the drill's own secret, and no private key is ever
in it. A file that cannot be read, or was written by another layout version, stops the start with a
``StateFileError`` naming it and what to do; it is never silently replaced by a fresh world
(that is what ``polymaker reset-history --drill-world`` is for).
"""

from __future__ import annotations

import pickle
import random
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from polymaker.errors import StateFileError
from polymaker.files import atomic_write_bytes

if TYPE_CHECKING:
    from polymaker.drill.server import Venue

WORLD_FILE_NAME = "drill_world.pickle"
WORLD_VERSION = 1
SAVE_EVERY_S = 5.0
_MAGIC = b"polymaker-drill-world\n"


@dataclass
class World:
    """Everything a venue knows, without sockets (see the module docstring)."""

    version: int
    saved_ms: int
    universe: Any
    ledger: Any
    engine: Any
    simulator: Any
    keys: dict[str, Any]
    heartbeats: dict[str, Any]
    wallets: Any
    clock_offset_ms: int
    rng_state: Any
    server_secret: bytes

    @classmethod
    def of(cls, venue: Venue) -> World:
        """The venue's state now; pending engine events must have been flushed."""
        return cls(
            version=WORLD_VERSION,
            saved_ms=venue.now_ms(),
            universe=venue.universe,
            ledger=venue.ledger,
            engine=venue.engine,
            simulator=venue.simulator,
            keys=venue.keys,
            heartbeats=venue.heartbeats,
            wallets=venue.wallets,
            clock_offset_ms=venue.clock_offset_ms,
            rng_state=venue.rng.getstate(),
            server_secret=venue.server_secret,
        )

    def restore_into(self, venue: Venue) -> None:
        """Give a freshly built venue (no sockets yet) this world's state."""
        venue.universe, venue.ledger, venue.engine = self.universe, self.ledger, self.engine
        venue.engine.watched = venue.hub.watches  # the new hub says who watches now
        venue.simulator = self.simulator
        venue.keys, venue.heartbeats, venue.wallets = self.keys, self.heartbeats, self.wallets
        venue.clock_offset_ms = self.clock_offset_ms
        venue.rng = random.Random()
        venue.rng.setstate(self.rng_state)
        venue.server_secret = self.server_secret  # API keys derive as they did


def save_world(venue: Venue, path: Path) -> None:
    """Write the venue's world to ``path`` atomically (mode 0600)."""
    payload = pickle.dumps(World.of(venue), protocol=pickle.HIGHEST_PROTOCOL)
    atomic_write_bytes(path, _MAGIC + payload, mode=0o600)


def load_world(path: Path) -> World | None:
    """The world saved in ``path``; None when there is no file. StateFileError when unusable."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise StateFileError(path, f"cannot read the drill world: {error.strerror}") from None
    remedy = "`polymaker reset-history --drill-world` starts a fresh drill world (with a backup)"
    if not raw.startswith(_MAGIC):
        raise StateFileError(path, f"not a drill world file; {remedy}")
    try:
        world = pickle.loads(raw[len(_MAGIC) :])
    except Exception as error:  # a truncated or foreign pickle raises anything
        problem = f"the drill world cannot be read ({type(error).__name__}); {remedy}"
        raise StateFileError(path, problem) from None
    if not isinstance(world, World) or world.version != WORLD_VERSION:
        version = getattr(world, "version", "?")
        raise StateFileError(
            path, f"drill world layout {version}, this build reads {WORLD_VERSION}; {remedy}"
        )
    return world


__all__ = ["SAVE_EVERY_S", "WORLD_FILE_NAME", "World", "load_world", "save_world"]
