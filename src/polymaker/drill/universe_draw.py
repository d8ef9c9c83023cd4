"""Random draws behind the synthetic universe (private to drill.universe).

Every function takes the market's own ``random.Random``; nothing here touches global state.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from decimal import Decimal

from polymaker.drill.universe_text import PLAIN_CATEGORIES

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
TICKS = (Decimal("0.01"), Decimal("0.001"))
_CATEGORY_WEIGHTS = (("sports", 0.12), ("crypto", 0.10), *((c, 0.13) for c in PLAIN_CATEGORIES))


def random_hex(rng: random.Random, bits: int = 256) -> str:
    return "0x" + format(rng.getrandbits(bits), f"0{bits // 4}x")


_TOKEN_LOW = 10**76


def random_token(rng: random.Random) -> str:
    """A decimal token id of 77 digits, like the CTF position ids (10^76 + 255 random bits)."""
    return str(_TOKEN_LOW + rng.getrandbits(255))


V2_SHARE = 0.25  # of synthetic markets listed under Protocol V2 (Gamma ``version: "v2"``)
_V2_MODULE = {False: 1, True: 2}  # binary and neg-risk modules of Protocol V2
_LOW_128 = (1 << 128) - 1


def draw_version(condition_id: str) -> str:
    """``"v2"`` for about a quarter of the markets, else ``"v1"``.

    Drawn from the (already random) condition id's last 16 bits: deterministic per market, and
    free, where a seeded ``random.Random`` per market would cost 13 % of generating a universe.
    """
    return "v2" if int(condition_id[-4:], 16) < V2_SHARE * 0x10000 else "v1"


def position_ids(condition_id: str, neg_risk: bool) -> tuple[str, str]:
    """A market's Protocol V2 YES and NO position ids, laid out as Gamma's ``positionIds``.

    Module id in the top byte, the condition's low 128 bits below it, zeros (the reserved bits
    the official client tests with ``is_v2_position_id``) and the outcome index in the low byte,
    as in the recorded fixture ``gamma_market_v1_with_positionIds_and_feeSchedule_2026-08.json``.
    """
    base = (_V2_MODULE[neg_risk] << 248) | ((int(condition_id, 16) & _LOW_128) << 120)
    return str(base), str(base | 1)


def snap_quotes(fair: float, tick: Decimal, spread_ticks: int) -> tuple[Decimal, Decimal]:
    """The inside bid/ask a ladder of makers around ``fair`` shows (on the tick grid)."""
    t = float(tick)
    steps = round(1 / t)
    bid_steps = math.floor((fair - spread_ticks * t / 2) / t + 1e-9)
    bid_steps = min(max(bid_steps, 1), steps - 1 - spread_ticks)
    return tick * bid_steps, tick * (bid_steps + spread_ticks)


def tick_for(fair: float, rng: random.Random) -> Decimal:
    """0.001 outside [0.04, 0.96] (as the venue switches), else 0.01 or 0.001."""
    if fair > 0.96 or fair < 0.04:
        return TICKS[1]
    return TICKS[0] if rng.random() < 0.6 else TICKS[1]


@dataclass(frozen=True)
class Role:
    """What kind of market to build: where its end date and price sit."""

    favourite: bool = False
    ended_ms_ago: int | None = None  # not None: the end date is in the past
    resolved: bool = False


def draw_role(rng: random.Random) -> Role:
    roll = rng.random()
    if roll < 0.17:
        return Role(favourite=True)
    if roll < 0.22:
        return Role(ended_ms_ago=rng.randint(HOUR_MS, 60 * DAY_MS), resolved=True)
    if roll < 0.25:
        return Role(ended_ms_ago=rng.randint(60_000, 6 * HOUR_MS))
    return Role()


def draw_category(rng: random.Random) -> str:
    roll, acc = rng.random() * sum(w for _, w in _CATEGORY_WEIGHTS), 0.0
    for name, weight in _CATEGORY_WEIGHTS:
        acc += weight
        if roll < acc:
            return name
    return _CATEGORY_WEIGHTS[-1][0]


def draw_end(rng: random.Random, now_ms: int, role: Role) -> int:
    if role.ended_ms_ago is not None:
        end = now_ms - role.ended_ms_ago
    elif role.favourite:
        end = now_ms + rng.randint(6 * HOUR_MS, 48 * HOUR_MS)
    else:  # log-uniform between one hour and six months
        end = now_ms + round(HOUR_MS * math.exp(rng.uniform(0, math.log(180 * 24))))
    return end - end % 60_000


def draw_fair(rng: random.Random, role: Role) -> float:
    if role.favourite:
        high = rng.uniform(0.94, 0.985) if rng.random() < 0.7 else rng.uniform(0.90, 0.94)
        return high if rng.random() < 0.5 else 1 - high
    return min(max(rng.betavariate(0.8, 0.8), 0.02), 0.98)


def draw_volume(rng: random.Random, role: Role) -> Decimal:
    if role.favourite:
        return Decimal(f"{rng.uniform(15_000, 800_000):.6f}")
    return Decimal(f"{math.exp(rng.uniform(math.log(50), math.log(5_000_000))):.6f}")
