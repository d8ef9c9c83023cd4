"""Account-wide limits: total exposure, markets held, daily realized loss (pure, no I/O).

Each worker only knows its own market (``max_position_shares``); these rules look at the whole
account, from the workers' status files (``limits_files.read_exposures`` turns them into
:class:`TopicExposure` values). They decide *launching*: a running worker is never stopped by
an exposure or held-markets limit, only the next launch is refused. The daily loss limit also
pauses launching and, when configured, asks the supervisor to flatten (:class:`LossAction`).

Exposure of a topic = shares held at cost (``position * avg_entry``) + the notional of its
resting buy orders (``price * (size - size_matched)``), because a resting buy can fill at any
moment. A position with no known entry is priced at 1 USDC a share (the most a share can cost).

Today's realized PnL (:class:`DailyPnl`): ``realized_pnl`` in a status file counts from the
start of that worker *process* (a restarted worker starts again at 0), so PnL is kept per run,
keyed by ``(topic_id, pid)``. A run's part of today = its last value - its baseline, where the
baseline is 0 for a run started today (UTC) and, for a run started earlier, its value when first
observed today. Finished runs keep counting until the day ends (their status file may be
overwritten by the next run, the tracker remembers the last value). At 00:00 UTC the tracker
starts over; PnL realized between the last observation before midnight and the first after it
is counted on neither day (one supervisor tick). The supervisor persists the tracker
(``to_document``/``from_document``) so a restart on the same day keeps the day's losses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from polymaker.config.global_config import GlobalConfig

ZERO = Decimal(0)
ONE = Decimal(1)


@dataclass(frozen=True)
class AccountLimits:
    """The configured limits; None = that limit is off.

    flatten_on_daily_loss: when the daily loss limit is reached, also stop every worker
    gracefully (``GlobalConfig.flatten_on_daily_loss``); their positions are then held.
    """

    max_total_exposure_usdc: Decimal | None = None
    max_markets_held: int | None = None
    daily_loss_limit_usdc: Decimal | None = None
    flatten_on_daily_loss: bool = False

    @classmethod
    def from_config(cls, config: GlobalConfig) -> AccountLimits:
        """The limits of ``config/global_config.json``."""
        return cls(
            max_total_exposure_usdc=config.max_total_exposure_usdc,
            max_markets_held=config.max_markets_held,
            daily_loss_limit_usdc=config.daily_loss_limit_usdc,
            flatten_on_daily_loss=config.flatten_on_daily_loss,
        )


@dataclass(frozen=True)
class OpenBuy:
    """One resting buy order of a topic (price and remaining shares)."""

    price: Decimal
    remaining: Decimal


@dataclass(frozen=True)
class TopicExposure:
    """What one topic's status file says about money at risk and realized PnL.

    pid/started_at identify the worker run (for :class:`DailyPnl`); None when not reported.
    """

    topic_id: str
    position: Decimal = ZERO
    avg_entry: Decimal | None = None
    open_buys: tuple[OpenBuy, ...] = ()
    realized_pnl: Decimal = ZERO
    pid: int | None = None
    started_at: datetime | None = None

    @property
    def position_cost(self) -> Decimal:
        """Shares held at cost; 1 USDC a share when the entry is unknown."""
        if self.position <= 0:
            return ZERO
        return self.position * (ONE if self.avg_entry is None else self.avg_entry)

    @property
    def open_buy_notional(self) -> Decimal:
        """USDC the resting buys would spend if they filled completely."""
        return sum((buy.price * buy.remaining for buy in self.open_buys), ZERO)

    @property
    def exposure(self) -> Decimal:
        """Position at cost plus resting buys, in USDC."""
        return self.position_cost + self.open_buy_notional

    @property
    def is_held(self) -> bool:
        """True when the topic holds shares or has a resting buy (a claim to hold some)."""
        return self.position > 0 or any(buy.remaining > 0 for buy in self.open_buys)


@dataclass(frozen=True)
class Decision:
    """Whether a launch may go ahead; ``reason`` says why not (or what was checked)."""

    allowed: bool
    reason: str


class LossAction(StrEnum):
    """What the daily loss rule asks the supervisor to do."""

    NONE = "none"  # under the limit (or no limit)
    PAUSE = "pause"  # pause launching until 00:00 UTC; running workers keep running
    FLATTEN = "flatten"  # pause, and stop every worker gracefully (positions are held)


def worst_case_exposure(max_position_shares: Decimal, price: Decimal) -> Decimal:
    """A new topic's worst case: its whole ``max_position_shares`` bought at ``price``.

    ``price`` is the chosen side's best ask at launch (the likely entry); pass 1 for a bound
    that holds whatever the price does later.
    """
    return max_position_shares * price


def total_exposure(exposures: Iterable[TopicExposure]) -> Decimal:
    """Sum of the topics' exposures in USDC."""
    return sum((item.exposure for item in exposures), ZERO)


def markets_held(
    exposures: Iterable[TopicExposure], reserved: Mapping[str, Decimal] | None = None
) -> int:
    """How many topics hold shares, rest a buy, or have a reservation (see ``may_launch``)."""
    held = {item.topic_id for item in exposures if item.is_held}
    held |= {topic for topic, amount in (reserved or {}).items() if amount > 0}
    return len(held)


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):f}"


def loss_action(limits: AccountLimits, realized_today: Decimal) -> LossAction:
    """PAUSE/FLATTEN once today's realized PnL is at or below ``-daily_loss_limit_usdc``."""
    limit = limits.daily_loss_limit_usdc
    if limit is None or realized_today > -limit:
        return LossAction.NONE
    return LossAction.FLATTEN if limits.flatten_on_daily_loss else LossAction.PAUSE


def may_launch(
    limits: AccountLimits,
    exposures: Iterable[TopicExposure],
    topic: str,
    candidate_exposure: Decimal,
    realized_today: Decimal,
    reserved: Mapping[str, Decimal] | None = None,
) -> Decision:
    """May ``topic`` start (or restart), with a worst case of ``candidate_exposure`` USDC?

    Refused when the daily loss limit is reached, when ``max_markets_held`` *other* topics are
    held, or when the other topics' exposure + this topic's (the larger of what it already
    holds and ``candidate_exposure``) would exceed ``max_total_exposure_usdc`` (reaching it
    exactly is allowed). A restart of a topic that already holds shares is thus judged by what
    it adds, not refused for the shares it must still sell. ``exposures``: every topic whose
    shares or orders are still at the exchange (finished topics that hold shares count too).
    ``reserved`` (topic -> USDC) counts a topic at ``max(its exposure, its reservation)`` and
    as held: pass the worst case of running workers that have not bought yet, so they cannot
    all buy past the caps later.
    """
    items = list(exposures)
    if loss_action(limits, realized_today) is not LossAction.NONE:
        assert limits.daily_loss_limit_usdc is not None
        return Decision(
            False,
            f"daily loss limit reached: realized {_money(realized_today)} USDC today "
            f"(limit -{_money(limits.daily_loss_limit_usdc)}); launching paused until 00:00 UTC",
        )
    booked = dict(reserved or {})
    own_booked = booked.pop(topic, ZERO)
    others = [item for item in items if item.topic_id != topic]
    held = markets_held(others, booked)
    if limits.max_markets_held is not None and held >= limits.max_markets_held:
        return Decision(
            False, f"{held} other markets held, max_markets_held is {limits.max_markets_held}"
        )
    current = _reserved_total(others, booked)
    own = max(total_exposure(i for i in items if i.topic_id == topic), own_booked)
    adding = max(own, candidate_exposure)
    cap = limits.max_total_exposure_usdc
    if cap is not None and current + adding > cap:
        return Decision(
            False,
            f"exposure {_money(current)} + {_money(adding)} USDC for this topic "
            f"would exceed max_total_exposure_usdc {_money(cap)}",
        )
    return Decision(
        True, f"exposure up to {_money(current + adding)} USDC, up to {held + 1} markets held"
    )


def _reserved_total(items: list[TopicExposure], reserved: Mapping[str, Decimal]) -> Decimal:
    actual: dict[str, Decimal] = {}
    for item in items:
        actual[item.topic_id] = actual.get(item.topic_id, ZERO) + item.exposure
    topics = set(actual) | set(reserved)
    return sum((max(actual.get(name, ZERO), reserved.get(name, ZERO)) for name in topics), ZERO)


def admit_launches(
    limits: AccountLimits,
    exposures: Iterable[TopicExposure],
    candidates: Iterable[tuple[str, Decimal]],
    realized_today: Decimal,
    reserved: Mapping[str, Decimal] | None = None,
) -> dict[str, Decision]:
    """Decide a tick's launches in order; each admitted topic reserves its worst case.

    ``candidates``: (topic, worst-case exposure) in launch order. Without the reservation,
    several launches in one tick would each be judged against the same current exposure
    and the same number of held markets.
    """
    items = list(exposures)
    booked = dict(reserved or {})
    decisions: dict[str, Decision] = {}
    for topic, worst_case in candidates:
        decision = may_launch(limits, items, topic, worst_case, realized_today, booked)
        decisions[topic] = decision
        if decision.allowed:
            booked[topic] = max(booked.get(topic, ZERO), worst_case)
    return decisions


def utc_day(moment: datetime) -> date:
    """The UTC calendar day of an aware datetime."""
    return moment.astimezone(UTC).date()


@dataclass
class _Run:
    baseline: Decimal
    last: Decimal


@dataclass
class DailyPnl:
    """Today's realized PnL of the account, from repeated observations of the status files."""

    day: date
    runs: dict[str, _Run] = field(default_factory=dict)

    @classmethod
    def starting(cls, now: datetime) -> DailyPnl:
        """An empty tracker for the UTC day of ``now``."""
        return cls(utc_day(now))

    def observe(self, exposures: Iterable[TopicExposure], now: datetime) -> None:
        """Record the current ``realized_pnl`` of each run (call every supervisor tick)."""
        today = utc_day(now)
        if today != self.day:
            self.day, self.runs = today, {}
        day_start = datetime.combine(today, time(0), tzinfo=UTC)
        for item in exposures:
            key = f"{item.topic_id}:{item.pid}"
            run = self.runs.get(key)
            if run is None:
                began_today = item.started_at is not None and item.started_at >= day_start
                baseline = ZERO if began_today else item.realized_pnl
                self.runs[key] = _Run(baseline, item.realized_pnl)
            else:
                run.last = item.realized_pnl

    def record_settlement(self, key: str, pnl: Decimal, settled_at: datetime) -> None:
        """Count a redemption's PnL (payout minus cost) today if it settled today.

        Keyed (``redeem:<condition>``) so recording it again, e.g. after a restart, changes
        nothing; one settled on an earlier day is not today's.
        """
        if utc_day(settled_at) == self.day:
            self.runs[key] = _Run(ZERO, pnl)

    @property
    def realized_today(self) -> Decimal:
        """Realized PnL since 00:00 UTC (negative = loss), as of the last observation."""
        return sum((run.last - run.baseline for run in self.runs.values()), ZERO)

    def to_document(self) -> dict[str, Any]:
        """JSON form for the supervisor's state file (money as decimal strings)."""
        return {
            "day": self.day.isoformat(),
            "runs": {
                key: {"baseline": str(run.baseline), "last": str(run.last)}
                for key, run in self.runs.items()
            },
        }

    @classmethod
    def from_document(cls, document: Any, now: datetime) -> DailyPnl:
        """The tracker saved by ``to_document``; a fresh one if it is from another day.

        Raises ValueError when the document is not a tracker document.
        """
        if not isinstance(document, Mapping) or not isinstance(document.get("runs"), Mapping):
            raise ValueError("not a daily PnL document")
        day = date.fromisoformat(str(document.get("day")))
        if day != utc_day(now):
            return cls.starting(now)
        runs: dict[str, _Run] = {}
        try:
            for key, run in document["runs"].items():
                runs[str(key)] = _Run(Decimal(str(run["baseline"])), Decimal(str(run["last"])))
        except (KeyError, TypeError, InvalidOperation) as error:
            raise ValueError(f"bad run entry in daily PnL document: {error}") from None
        return cls(day, runs)


__all__ = [
    "AccountLimits",
    "DailyPnl",
    "Decision",
    "LossAction",
    "OpenBuy",
    "TopicExposure",
    "admit_launches",
    "loss_action",
    "markets_held",
    "may_launch",
    "total_exposure",
    "utc_day",
    "worst_case_exposure",
]
