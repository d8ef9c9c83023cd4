"""The redeemer: turns the wallet's shares in resolved markets into pUSD, unattended.

A pass (:meth:`Redeemer.run`) asks the venue which positions sit in resolved markets (Data API
``REDEEMABLE``), reads what the wallet really holds of each (CLOB balances, which follow the
chain; the Data API can lag a redemption by a minute), then per market:

- winning shares held: redeem through the official client (``exchange.redeem``), read the
  balances again, and record what was burned and paid (1 pUSD a winning share, measured);
- only losing shares: record the market ``lost`` without a transaction;
- a failure: record it, and try again after a capped exponential backoff, forever.

Passes run every ``redeem.scan_interval_s``, sooner when the supervisor learns that a worker
ended holding shares (:meth:`watch`), and whenever a retry is due; the supervisor runs each as
a background job, so the loop never waits for the chain. Records live in
``data/redemptions.json`` (``redemptions``); each new or changed one is handed to
``on_record`` (the supervisor writes it into the topic's ledger entry and, once settled, into
the day's realized PnL).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from polymarket import AsyncSecureClient

from polymaker.autorun.ledger import utc_now
from polymaker.autorun.redemptions import (
    FILE_NAME,
    SETTLED_STATES,
    Redemption,
    RedemptionState,
    RedemptionStore,
    entry_cost,
    payout,
    retry_at,
)
from polymaker.config.global_config import RedeemSection
from polymaker.exchange.redeem import Holding, RedeemClient, RedeemError

log = logging.getLogger("polymaker.autorun.redeem")
ZERO = Decimal(0)


class Venue(Protocol):
    """What a pass needs of the exchange (``exchange.redeem.RedeemClient``)."""

    wallet: str

    async def holdings(self) -> list[Holding]: ...

    async def shares(self, token_id: str) -> Decimal: ...

    async def redeem(self, holding: Holding) -> str: ...


@dataclass(frozen=True)
class Timing:
    """scan_interval_s: between passes; backoff_*: the retry delay of a failed redemption;
    automatic: passes start by themselves (``redeem.enabled``), else only when asked."""

    scan_interval_s: float = 15.0
    backoff_base_s: float = 5.0
    backoff_max_s: float = 300.0
    automatic: bool = True


class Redeemer:
    """Redemption passes over one wallet, with their records (see the module docstring)."""

    def __init__(
        self,
        venue: Venue,
        store: RedemptionStore,
        *,
        timing: Timing,
        clock: Callable[[], datetime],
        topic_of: Callable[[str], str | None] = lambda _condition: None,
        on_record: Callable[[Redemption], None] = lambda _record: None,
        rng: random.Random | None = None,
    ) -> None:
        self._venue = venue
        self.store = store
        self._timing = timing
        self._clock = clock
        self._topic_of = topic_of
        self._on_record = on_record
        self._rng = rng or random.Random()
        self._next_scan = clock()
        self.running = False

    def watch(self, condition_id: str) -> None:
        """A worker ended holding shares of this market: look again at the next tick."""
        log.info("watching %s for its resolution", condition_id)
        self._next_scan = self._clock()

    def due(self, now: datetime) -> bool:
        """Is a pass due (the scan period passed, or a retry is due) and none running?"""
        if self.running:
            return False
        retries = (
            r.next_attempt_at
            for r in self.store.records()
            if r.state is RedemptionState.RETRYING and r.next_attempt_at is not None
        )
        return now >= min([self._next_scan, *retries])

    def start_if_due(self, now: datetime) -> Coroutine[Any, Any, list[Redemption]] | None:
        """The pass to run when one is due (marked running at once, so no second one starts
        before it does), else None."""
        if not self._timing.automatic or not self.due(now):
            return None
        self.running = True
        return self.run()

    async def run(self, *, dry_run: bool = False, now: bool = False) -> list[Redemption]:
        """One pass; the records it made or changed (with ``dry_run``: what it would do).

        ``now``: also retry failed redemptions whose backoff has not ended (a user asked).
        """
        self.running = True
        try:
            return await self._pass(dry_run, now)
        finally:
            self.running = False
            self._next_scan = self._clock() + timedelta(seconds=self._timing.scan_interval_s)

    async def run_now(self, *, dry_run: bool = False, wait_s: float = 60.0) -> list[Redemption]:
        """A pass now (the ``redeem`` command), after the one running, if any, has ended;
        failed redemptions are tried again at once."""
        deadline = asyncio.get_running_loop().time() + wait_s
        while self.running:
            if asyncio.get_running_loop().time() > deadline:
                raise RedeemError("a redemption pass is still running; try again", retryable=True)
            await asyncio.sleep(0.1)
        return await self.run(dry_run=dry_run, now=True)

    async def _pass(self, dry_run: bool, now: bool) -> list[Redemption]:
        try:
            holdings = await self._venue.holdings()
        except RedeemError as error:
            log.warning("redeem: cannot list the wallet's resolved positions: %s", error)
            return []
        markets: dict[str, list[Holding]] = {}
        for holding in holdings:
            markets.setdefault(holding.condition_id.lower(), []).append(holding)
        done = []
        for condition, held in markets.items():
            try:
                record = await self._market(condition, held, dry_run, now)
            except RedeemError as error:
                log.warning("redeem %s: cannot read balances: %s", condition, error)
                continue
            if record is not None:
                done.append(record)
        return done

    async def _market(
        self, condition: str, held: list[Holding], dry_run: bool, at_once: bool
    ) -> Redemption | None:
        """Settle one market if it is due; the new record (None: nothing to do)."""
        now = self._clock()
        record = self.store.get(self._venue.wallet, condition)
        if _waiting(record, now) and not at_once:
            return None
        before = {h.token_id: await self._venue.shares(h.token_id) for h in held}
        winners = [h for h in held if h.price > 0 and before[h.token_id] > 0]
        losers = [h for h in held if h.price == 0 and before[h.token_id] > 0]
        settled = record is not None and record.state in SETTLED_STATES
        if not winners and (settled or not losers):
            return None  # already settled (the Data API still lists it), or nothing on chain
        base = record or self._new(condition, held, now)
        if dry_run:
            return base.model_copy(update={"shares": sum(before.values(), ZERO)})
        if not winners:
            return self._settle(base, held, before, {}, None, now)
        try:
            tx = await self._redeem(winners)
        except RedeemError as error:
            return self._failed(base, error, now)
        after = {token: await self._venue.shares(token) for token in before}
        burned = {token: before[token] - after[token] for token in before}
        if not any(burned[h.token_id] > 0 for h in winners):
            return self._failed(base, RedeemError(f"{tx} confirmed but burned no shares"), now)
        return self._settle(base, held, before, burned, tx, now)

    async def _redeem(self, winners: list[Holding]) -> str:
        """v1: one call for the whole condition; v2: one per winning position."""
        if not winners[0].is_v2:
            return await self._venue.redeem(winners[0])
        hashes = [await self._venue.redeem(h) for h in winners]
        return ",".join(hashes)

    def _new(self, condition: str, held: list[Holding], now: datetime) -> Redemption:
        return Redemption(
            wallet=self._venue.wallet.lower(),
            condition_id=condition,
            topic_id=self._topic_of(condition),
            title=held[0].title,
            tokens=tuple(h.token_id for h in held),
            state=RedemptionState.PENDING,
            shares=ZERO,
            first_seen=now,
        )

    def _settle(
        self,
        base: Redemption,
        held: list[Holding],
        before: dict[str, Decimal],
        burned: dict[str, Decimal],
        tx: str | None,
        now: datetime,
    ) -> Redemption:
        """Record a payout (tx) or a loss (no tx); losing shares left on chain are cleared."""
        cleared = {h.token_id: before[h.token_id] - burned.get(h.token_id, ZERO) for h in held}
        gone = {t: burned.get(t, ZERO) + (cleared[t] if _lost(held, t) else ZERO) for t in before}
        paid = payout(held, burned)
        cost = entry_cost(held, gone)
        pnl = None if cost is None else paid - cost
        if base.state in SETTLED_STATES:  # more shares of a market settled before: add up
            paid_total = paid + (base.payout_pusd or ZERO)
            pnl = None if pnl is None or base.pnl is None else pnl + base.pnl
            shares = sum(gone.values(), ZERO) + base.shares
        else:
            paid_total, shares = paid, sum(gone.values(), ZERO)
        record = base.model_copy(
            update={
                "state": RedemptionState.REDEEMED if tx else RedemptionState.LOST,
                "shares": shares,
                "payout_pusd": paid_total,
                "pnl": pnl,
                "tx": tx or base.tx,
                "last_error": None,
                "next_attempt_at": None,
                "settled_at": now,
                "topic_id": base.topic_id or self._topic_of(base.condition_id),
            }
        )
        self.store.put(record)
        log.info(
            "%s %s: %s shares, %s pUSD paid%s",
            record.state,
            record.title or record.condition_id,
            f"{record.shares.normalize():f}",
            f"{paid.normalize():f}",
            f" (tx {tx})" if tx else " (no transaction: nothing to collect)",
        )
        self._on_record(record)
        return record

    def _failed(self, base: Redemption, error: RedeemError, now: datetime) -> Redemption:
        attempts = base.attempts + 1
        timing = self._timing
        delay_attempts = attempts if error.retryable else 30  # refused: retry at the cap
        record = base.model_copy(
            update={
                "state": RedemptionState.RETRYING,
                "attempts": attempts,
                "last_error": str(error),
                "next_attempt_at": retry_at(
                    delay_attempts,
                    now,
                    base_s=timing.backoff_base_s,
                    max_s=timing.backoff_max_s,
                    rng=self._rng,
                ),
            }
        )
        self.store.put(record)
        log.warning(
            "redeem %s failed (attempt %d): %s; retrying at %s",
            record.title or record.condition_id,
            attempts,
            error,
            record.next_attempt_at,
        )
        self._on_record(record)
        return record


def _waiting(record: Redemption | None, now: datetime) -> bool:
    """A failed redemption whose retry is not due yet."""
    return (
        record is not None
        and record.state is RedemptionState.RETRYING
        and record.next_attempt_at is not None
        and now < record.next_attempt_at
    )


def _lost(held: list[Holding], token: str) -> bool:
    return any(h.token_id == token and h.price == 0 for h in held)


def open_redeemer(
    client: AsyncSecureClient,
    data_dir: Path,
    section: RedeemSection,
    *,
    topic_of: Callable[[str], str | None],
    on_record: Callable[[Redemption], None],
) -> Redeemer:
    """The supervisor's (or ``polymaker redeem``'s) redeemer for the account's client.

    Raises StateFileError when ``data/redemptions.json`` cannot be read (it is kept).
    """
    return Redeemer(
        RedeemClient(client),
        RedemptionStore.load(data_dir / FILE_NAME),
        timing=Timing(
            section.scan_interval_s, section.backoff_base_s, section.backoff_max_s, section.enabled
        ),
        clock=utc_now,
        topic_of=topic_of,
        on_record=on_record,
    )


__all__ = ["Redeemer", "Timing", "Venue", "open_redeemer"]
