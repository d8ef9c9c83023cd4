"""The redeemer's passes against a fake venue: what it pays, records, skips and retries."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from polymaker.autorun.redeemer import Redeemer, Timing
from polymaker.autorun.redemptions import Redemption, RedemptionState, RedemptionStore
from polymaker.errors import StateFileError
from polymaker.exchange.redeem import Holding, RedeemError

D = Decimal
WALLET = "0xAbC0000000000000000000000000000000000001"
COND = "0x" + "11" * 32
YES, NO = "101", "102"  # v1 CTF token ids (not in the V2 position-id space)


@dataclass
class FakeVenue:
    """Holds shares; a redemption burns every share of the condition and pays the winners."""

    held: dict[str, Decimal]
    listed: list[Holding]
    wallet: str = WALLET
    failures: list[str] = field(default_factory=list)
    redeemed: list[str] = field(default_factory=list)

    async def holdings(self) -> list[Holding]:
        return list(self.listed)  # the Data API lags: it keeps listing after a redemption

    async def shares(self, token_id: str) -> Decimal:
        return self.held.get(token_id, D(0))

    async def redeem(self, holding: Holding) -> str:
        if self.failures:
            raise RedeemError(self.failures.pop(0))
        self.redeemed.append(holding.condition_id)
        for token in (YES, NO):
            self.held[token] = D(0)
        return "0xfeed"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 3, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def _holding(token: str, shares: str, price: int, avg: str | None = "0.4") -> Holding:
    return Holding(COND, token, D(shares), D(price), None if avg is None else D(avg), "Will it?")


def _redeemer(tmp_path: Path, venue: FakeVenue, clock: Clock, settled: list) -> Redeemer:
    return Redeemer(
        venue,
        RedemptionStore.load(tmp_path / "redemptions.json"),
        timing=Timing(scan_interval_s=15, backoff_base_s=5, backoff_max_s=60),
        clock=clock,
        topic_of=lambda condition: "will-it" if condition == COND else None,
        on_record=settled.append,
        rng=random.Random(1),
    )


def test_a_winning_position_is_redeemed_and_recorded_once(tmp_path: Path) -> None:
    venue = FakeVenue({YES: D(5)}, [_holding(YES, "5", 1)])
    settled: list[Redemption] = []
    redeemer = _redeemer(tmp_path, venue, Clock(), settled)
    [record] = asyncio.run(redeemer.run())
    assert (record.state, record.shares, record.payout_pusd, record.pnl, record.tx) == (
        RedemptionState.REDEEMED, D(5), D(5), D(3), "0xfeed"
    )  # fmt: skip
    assert record.topic_id == "will-it" and settled == [record]
    assert asyncio.run(redeemer.run()) == []  # still listed, nothing left on chain
    assert venue.redeemed == [COND]
    reloaded = RedemptionStore.load(tmp_path / "redemptions.json")
    assert reloaded.get(WALLET, COND) == record


def test_a_losing_position_is_cleared_without_a_transaction(tmp_path: Path) -> None:
    venue = FakeVenue({NO: D(5)}, [_holding(NO, "5", 0, avg="0.3")])
    settled: list[Redemption] = []
    [record] = asyncio.run(_redeemer(tmp_path, venue, Clock(), settled).run())
    assert (record.state, record.payout_pusd, record.pnl, record.tx) == (
        RedemptionState.LOST, D(0), D("-1.5"), None
    )  # fmt: skip
    assert venue.redeemed == [] and settled == [record]


def test_a_failure_is_recorded_and_retried_after_the_backoff(tmp_path: Path) -> None:
    clock = Clock()
    venue = FakeVenue({YES: D(5)}, [_holding(YES, "5", 1)], failures=["relayer: STATE_FAILED"])
    settled: list[Redemption] = []
    redeemer = _redeemer(tmp_path, venue, clock, settled)
    [failed] = asyncio.run(redeemer.run())
    assert failed.state is RedemptionState.RETRYING and failed.attempts == 1
    assert failed.last_error == "relayer: STATE_FAILED" and settled == [failed]
    assert failed.next_attempt_at is not None
    clock.now = failed.next_attempt_at - timedelta(seconds=0.5)
    assert not redeemer.due(clock.now) and asyncio.run(redeemer.run()) == []
    clock.now = failed.next_attempt_at
    assert redeemer.due(clock.now)
    [done] = asyncio.run(redeemer.run())
    assert done.state is RedemptionState.REDEEMED and done.attempts == 1
    assert done.last_error is None and settled == [failed, done]


def test_a_dry_run_changes_nothing(tmp_path: Path) -> None:
    venue = FakeVenue({YES: D(5)}, [_holding(YES, "5", 1)])
    [planned] = asyncio.run(_redeemer(tmp_path, venue, Clock(), []).run(dry_run=True))
    assert planned.state is RedemptionState.PENDING and planned.shares == D(5)
    assert venue.redeemed == [] and not (tmp_path / "redemptions.json").exists()


def test_an_unknown_entry_price_leaves_the_pnl_unknown(tmp_path: Path) -> None:
    venue = FakeVenue({YES: D(5)}, [_holding(YES, "5", 1, avg=None)])
    [record] = asyncio.run(_redeemer(tmp_path, venue, Clock(), []).run())
    assert record.payout_pusd == D(5) and record.pnl is None


def test_watch_makes_a_pass_due_at_once(tmp_path: Path) -> None:
    clock = Clock()
    redeemer = _redeemer(tmp_path, FakeVenue({}, []), clock, [])
    asyncio.run(redeemer.run())
    assert not redeemer.due(clock.now + timedelta(seconds=14))
    redeemer.watch(COND)
    assert redeemer.due(clock.now)
    starting = redeemer.start_if_due(clock.now)
    assert starting is not None and redeemer.start_if_due(clock.now) is None  # one at a time
    assert asyncio.run(starting) == [] and not redeemer.running


def test_passes_start_by_themselves_only_when_enabled(tmp_path: Path) -> None:
    clock = Clock()
    manual = Redeemer(
        FakeVenue({YES: D(5)}, [_holding(YES, "5", 1)]),
        RedemptionStore.load(tmp_path / "redemptions.json"),
        timing=Timing(automatic=False),
        clock=clock,
    )
    assert manual.due(clock.now) and manual.start_if_due(clock.now) is None
    [record] = asyncio.run(manual.run_now())  # the redeem command still works
    assert record.state is RedemptionState.REDEEMED


def test_a_corrupt_file_is_an_error_and_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "redemptions.json"
    path.write_text('{"version": 1, "redemptions": {"x": {"state": "maybe"}}}')
    with pytest.raises(StateFileError, match=r"redemptions\.json"):
        RedemptionStore.load(path)
    assert "maybe" in path.read_text()
