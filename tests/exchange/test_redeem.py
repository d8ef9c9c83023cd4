"""Data API position rows as redemption holdings: only resolved, held rows, values exact."""

from __future__ import annotations

import json
from decimal import Decimal

from polymarket.models.data import Position

from polymaker.exchange.redeem import _holding
from tests.conftest import REPO_ROOT

FIXTURE = (
    REPO_ROOT / "tests" / "fixtures" / "polymarket" / "data_api_v2_positions_items_2026-09.json"
)


def _rows() -> list[dict]:
    return json.loads(FIXTURE.read_text())


def test_open_positions_of_the_recorded_payload_are_not_holdings() -> None:
    assert [_holding(Position.model_validate(row)) for row in _rows()] == [None, None]


def test_a_resolved_row_is_a_holding_with_its_payout_per_share() -> None:
    row = {**_rows()[0], "status": "REDEEMABLE", "redeemable": True, "current_price": 1}
    holding = _holding(Position.model_validate(row))
    assert holding is not None
    assert (holding.shares, holding.price, holding.avg_price) == (
        Decimal(400000),
        Decimal(1),
        Decimal("0.5"),
    )
    assert holding.condition_id == row["condition_id"] and holding.token_id == row["token_id"]
    assert not holding.is_v2
    half = _holding(Position.model_validate({**row, "current_price": 0.5}))  # a 50-50 result
    assert half is not None and half.price == Decimal("0.5")
    assert _holding(Position.model_validate({**row, "current_size": 0})) is None
