"""The supervisor's side of the account-wide limits: read, track, decide, and say why once.

``limits`` holds the pure rules; this class applies them every tick. Exposure and markets held
come from what the exchange says the wallet holds (``holdings.Holdings``: positions and open
orders), so a stale status file of a stopped topic or of an earlier drill world counts nothing;
without an exchange account (paper mode) the workers' status files are used
(``limits_files.read_exposures``). Those files also feed today's realized PnL to the persisted
:class:`DailyPnl` (``data/daily_pnl.json``). Planned starts go through ``admit_launches``.
A topic's worst case is its strategy's ``max_position_shares`` times its screened ask (1 USDC
a share when the screen gave no ask). Every running worker reserves its worst case, so
workers that have not bought yet cannot later buy past the caps together.
A refusal is logged once per topic and kind (exposure, markets held, daily loss) until that
topic is admitted again, so a blocked queue does not flood the log every second.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from polymaker.autorun.holdings import Holdings
from polymaker.autorun.launch import MarketDetails
from polymaker.autorun.limits import (
    AccountLimits,
    LossAction,
    TopicExposure,
    admit_launches,
    loss_action,
    total_exposure,
    worst_case_exposure,
)
from polymaker.autorun.limits_files import (
    DAILY_PNL_FILE_NAME,
    load_daily_pnl,
    read_exposures,
    save_daily_pnl,
)
from polymaker.config.strategy_defaults import StrategyDefaults, strategy_for
from polymaker.errors import ConfigError

log = logging.getLogger("polymaker.autorun")

WorstCase = Callable[[str], Decimal]


def refusal_kind(reason: str) -> str:
    """Which limit a refusal names (the once-only logging key)."""
    if reason.startswith("daily loss"):
        return "daily_loss_limit_usdc"
    if "max_markets_held" in reason:
        return "max_markets_held"
    return "max_total_exposure_usdc"


class LimitGuard:
    """Account limits of one supervisor run (see the module docstring)."""

    def __init__(
        self, limits: AccountLimits, status_dir: Path, data_dir: Path, now: datetime
    ) -> None:
        self.limits = limits
        self._status_dir = status_dir
        self._pnl_file = data_dir / DAILY_PNL_FILE_NAME
        self.pnl = load_daily_pnl(self._pnl_file, now)
        self.exposures: tuple[TopicExposure, ...] = ()
        self._reported: tuple[TopicExposure, ...] = ()
        self.action = LossAction.NONE
        self._logged: set[tuple[str, str]] = set()
        self._skipped_logged: set[Path] = set()
        self._saved: dict[str, object] | None = None
        self._flatten_pending = False

    @property
    def enabled(self) -> bool:
        """True when any limit is configured (otherwise nothing is read or refused)."""
        limits = self.limits
        return not (
            limits.max_total_exposure_usdc is None
            and limits.max_markets_held is None
            and limits.daily_loss_limit_usdc is None
        )

    @property
    def realized_today(self) -> Decimal:
        """Today's realized PnL of the account (UTC day)."""
        return self.pnl.realized_today

    def observe(
        self,
        now: datetime,
        holdings: Holdings | None = None,
        topic_of: Mapping[str, str] | None = None,
    ) -> LossAction:
        """Take the exposures (``holdings`` when the account has them, else the status files),
        update and save today's PnL; the daily loss rule's action.

        ``topic_of`` names the topic of each known market (condition id -> topic id). A change
        of action (e.g. the limit is reached) is logged once.
        """
        read = read_exposures(self._status_dir)
        for skipped in read.skipped:
            if skipped.path not in self._skipped_logged:
                self._skipped_logged.add(skipped.path)
                log.warning("limits: status file skipped: %s", skipped.reason)
        self._reported = read.exposures
        self.exposures = read.exposures if holdings is None else holdings.exposures(topic_of or {})
        self.pnl.observe(read.exposures, now)
        document = self.pnl.to_document()
        if document != self._saved:
            try:
                save_daily_pnl(self._pnl_file, self.pnl)
                self._saved = document
            except OSError as error:
                log.error("cannot write %s: %s", self._pnl_file, error)
        action = loss_action(self.limits, self.realized_today)
        if action is not self.action:
            if action is LossAction.NONE:
                log.info("daily loss limit no longer reached (new UTC day): launching again")
            else:
                log.error(
                    "daily loss limit reached: realized %s USDC today; launching paused%s",
                    f"{self.realized_today:f}",
                    "; stopping every worker (flatten_on_daily_loss)"
                    if action is LossAction.FLATTEN
                    else "",
                )
            self._flatten_pending = action is LossAction.FLATTEN
        self.action = action
        return action

    def reported_positions(self) -> dict[str, Decimal]:
        """What the workers' status files say each topic holds (a change means a fill)."""
        return {item.topic_id: item.position for item in self._reported}

    def take_flatten(self) -> bool:
        """True once each time the daily loss rule turns to FLATTEN (stop every worker)."""
        pending, self._flatten_pending = self._flatten_pending, False
        return pending

    def admit(
        self, planned: Sequence[str], running: Iterable[str], worst_case: WorstCase
    ) -> list[str]:
        """The planned starts the limits allow, in order; refusals logged once per kind."""
        if not self.enabled or not planned:
            return list(planned)
        reserved: Mapping[str, Decimal] = {topic: worst_case(topic) for topic in running}
        candidates = [(topic, worst_case(topic)) for topic in planned]
        decisions = admit_launches(
            self.limits, self.exposures, candidates, self.realized_today, reserved
        )
        allowed = []
        for topic in planned:
            decision = decisions[topic]
            if decision.allowed:
                self._logged = {key for key in self._logged if key[0] != topic}
                allowed.append(topic)
                continue
            key = (topic, refusal_kind(decision.reason))
            if key not in self._logged:
                self._logged.add(key)
                log.warning("%s: not launched: %s", topic, decision.reason)
        return allowed

    def summary(self) -> dict[str, object]:
        """The limits part of ``polymaker status`` (money as decimal strings)."""
        limits = self.limits

        def text(value: Decimal | None) -> str | None:
            return None if value is None else f"{value:f}"

        return {
            "exposure_usdc": text(total_exposure(self.exposures)),
            "realized_today_usdc": text(self.realized_today),
            "max_total_exposure_usdc": text(limits.max_total_exposure_usdc),
            "max_markets_held": limits.max_markets_held,
            "daily_loss_limit_usdc": text(limits.daily_loss_limit_usdc),
            "daily_loss_action": str(self.action),
        }


def strategy_worst_case(
    defaults: StrategyDefaults, topic: str, details: MarketDetails | None, file: Path
) -> Decimal:
    """A topic's worst case in USDC: its ``max_position_shares`` at the screened ask (else 1).

    A strategy that does not validate gives 0: its launch fails with that reason and buys
    nothing.
    """
    try:
        strategy = strategy_for(
            defaults,
            topic_id=topic,
            question=details.question if details else "",
            event_title=details.event_title if details else "",
            event_slug=details.event_slug if details else None,
            file=file,
        )
    except ConfigError:
        return Decimal(0)
    ask = details.ask if details else None
    price = Decimal(1) if ask is None else Decimal(ask)
    return worst_case_exposure(strategy.max_position_shares, price)


__all__ = ["LimitGuard", "refusal_kind", "strategy_worst_case"]
