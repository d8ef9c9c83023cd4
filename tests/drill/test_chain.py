"""The drill chain's redemption calls, pure: what pays, what burns, what reverts (atomically)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from polymarket._internal.actions.relayer.calls import (
    ctf_redeem_positions_call,
    router_redeem_call,
)
from polymarket._internal.environment import PRODUCTION_CONFIG as CONFIG
from polymarket.types import EvmAddress

from polymaker.drill import chain
from polymaker.drill.ledger import Ledger
from polymaker.drill.universe import SimMarket, Universe

WALLET = "0x00000000000000000000000000000000000000aa"
D = Decimal


def _world(version: str, neg_risk: bool = False) -> tuple[Universe, Ledger, SimMarket]:
    universe = Universe.generate(80, 3, datetime(2026, 12, 1, tzinfo=UTC))
    market = next(
        m for m in universe.markets if m.version == version and m.neg_risk == neg_risk and m.active
    )
    ledger = Ledger()
    ledger.ensure(WALLET).adjust_settled(market.yes_token, D(5))
    ledger.ensure(WALLET).adjust_settled(market.no_token, D(2))
    return universe, ledger, market


def _resolve(market: SimMarket, winner: str) -> None:
    market.set_state(now_ms=1, accepting_orders=False, closed=True, winner=winner)


def _ctf(market: SimMarket, adapter: str = CONFIG.collateral_adapter) -> chain.Call:
    call = ctf_redeem_positions_call(
        ctf=EvmAddress(adapter),
        collateral=EvmAddress(CONFIG.collateral_token),
        condition_id=market.condition_id,
    )
    return chain.Call(str(call.to).lower(), bytes.fromhex(call.data[2:]))


def _router(token: str, index: int, shares: int) -> chain.Call:
    condition = "0x%062x" % (int(token) >> 8)
    call = router_redeem_call(
        router=EvmAddress(CONFIG.protocol_v2_router),
        condition_id=condition,
        outcome_index=index,
        amount=shares * 10**6,
    )
    return chain.Call(str(call.to).lower(), bytes.fromhex(call.data[2:]))


def test_ctf_redemption_burns_both_outcomes_and_pays_the_winner() -> None:
    universe, ledger, market = _world("v1")
    _resolve(market, "No")
    cash = ledger.balance(WALLET)
    chain.apply(ledger, chain.plan(universe, ledger, WALLET, [_ctf(market)]))
    assert ledger.balance(WALLET) - cash == D(2)
    assert ledger.positions(WALLET) == {}


def test_unresolved_market_and_wrong_adapter_revert() -> None:
    universe, ledger, market = _world("v1")
    with pytest.raises(chain.Revert, match="not received yet"):
        chain.plan(universe, ledger, WALLET, [_ctf(market)])
    _resolve(market, "Yes")
    with pytest.raises(chain.Revert, match="wrong collateral adapter"):
        chain.plan(universe, ledger, WALLET, [_ctf(market, CONFIG.neg_risk_collateral_adapter)])


def test_router_redeem_pays_a_winning_position_and_nothing_for_a_loser() -> None:
    universe, ledger, market = _world("v2")
    _resolve(market, "Yes")
    calls = [_router(market.yes_token, 0, 5), _router(market.no_token, 1, 2)]
    redemptions = chain.plan(universe, ledger, WALLET, calls)
    assert [r.paid for r in redemptions] == [D(5), D(0)]
    chain.apply(ledger, redemptions)
    assert ledger.positions(WALLET) == {}


def test_a_batch_is_all_or_nothing() -> None:
    universe, ledger, market = _world("v2")
    _resolve(market, "Yes")
    calls = [_router(market.yes_token, 0, 5), _router(market.yes_token, 0, 1)]  # 6 > 5 held
    with pytest.raises(chain.Revert, match="exceeds balance"):
        chain.plan(universe, ledger, WALLET, calls)
    assert ledger.positions(WALLET) == {market.yes_token: D(5), market.no_token: D(2)}


def test_unknown_calls_revert() -> None:
    universe, ledger, _market = _world("v1")
    call = chain.Call(CONFIG.collateral_token.lower(), bytes.fromhex("a9059cbb") + bytes(64))
    with pytest.raises(chain.Revert, match="does not run selector 0xa9059cbb"):
        chain.plan(universe, ledger, WALLET, [call])
