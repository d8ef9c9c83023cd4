"""Redeeming resolved positions through the official client (the only I/O of redemption).

What the wallet holds in resolved markets comes from the Data API (``GET /v2/positions?
status=REDEEMABLE``: a losing position is listed too, at price 0). Before and after a
redemption the shares are read from the CLOB (``/balance-allowance``, ``CONDITIONAL`` or
``CONDITIONAL-V2``), which follows the chain; what was burned is the difference, so a payout is
measured, never assumed.

The redemption itself is the client's ``redeem_positions``: by condition id for a v1 (CTF)
market (one ``redeemPositions`` call burns both outcomes and pays the winner), by position id
for a Protocol V2 position (the client reads its balance over RPC and calls
``Router.redeem``). The client sends a proxy wallet's, Safe's or deposit wallet's call through
the relayer and waits for ``STATE_CONFIRMED``; a plain EOA signs and broadcasts a transaction
through ``exchange.rpc_url`` and pays its gas in POL, then waits for the receipt.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from polymarket import AsyncSecureClient
from polymarket import errors as sdk_errors
from polymarket._internal.protocol import is_v2_position_id
from polymarket.models.clob import AssetType
from polymarket.models.data import Position

log = logging.getLogger("polymaker.exchange.redeem")

BASE_UNITS = Decimal(10**6)


class RedeemError(Exception):
    """A redemption did not go through; ``retryable`` False means trying again cannot help."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        self.retryable = retryable
        super().__init__(message)


@dataclass(frozen=True)
class Holding:
    """One position the wallet holds in a resolved market, as the Data API lists it.

    price: what a share pays: the venue's ``current_price`` once resolved (1 won, 0 lost; a
    market resolved 50-50 pays 0.5).
    avg_price: the wallet's average entry (None when the venue does not know it).
    """

    condition_id: str
    token_id: str
    shares: Decimal
    price: Decimal
    avg_price: Decimal | None
    title: str

    @property
    def is_v2(self) -> bool:
        """A Protocol V2 position id (redeemed by position, through the Router)."""
        return is_v2_position_id(self.token_id)


def _decimal(value: object) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


class RedeemClient:
    """The supervisor's authenticated client, seen as what redemption needs of it."""

    def __init__(self, client: AsyncSecureClient) -> None:
        self._client = client
        self.wallet = str(client.wallet)

    async def holdings(self) -> list[Holding]:
        """Positions in resolved markets (winning and losing); bad rows are logged, skipped."""
        held: list[Holding] = []
        try:
            pages = self._client.list_positions(user=self.wallet, status="REDEEMABLE")
            async for page in pages:
                for row in page.items:
                    holding = _holding(row)
                    if holding is not None:
                        held.append(holding)
        except sdk_errors.PolymarketError as error:
            raise RedeemError(f"Data API positions: {error}") from error
        return held

    async def shares(self, token_id: str) -> Decimal:
        """Shares of ``token_id`` the wallet holds now (CLOB ``/balance-allowance``)."""
        asset_type: AssetType = "CONDITIONAL-V2" if is_v2_position_id(token_id) else "CONDITIONAL"
        try:
            answer = await self._client.get_balance_allowance(
                asset_type=asset_type, token_id=token_id
            )
        except sdk_errors.PolymarketError as error:
            raise RedeemError(f"balance of {token_id}: {error}") from error
        return Decimal(answer.balance) / BASE_UNITS

    async def redeem(self, holding: Holding) -> str:
        """Redeem ``holding`` (v1: its whole condition) and wait; the transaction hash.

        Raises RedeemError: retryable for a failed or timed-out transaction, a refusal or an
        unreachable service; not retryable when the client refuses the request itself.
        """
        try:
            if holding.is_v2:
                handle = await self._client.redeem_positions(position_id=holding.token_id)
            else:
                handle = await self._client.redeem_positions(condition_id=holding.condition_id)
            outcome = await handle.wait()
        except sdk_errors.UserInputError as error:
            raise RedeemError(str(error), retryable=False) from error
        except (sdk_errors.PolymarketError, ValueError) as error:
            raise RedeemError(f"{type(error).__name__}: {error}") from error
        return str(outcome.transaction_hash)


def _holding(row: Position) -> Holding | None:
    """A Data API position row as a Holding; None (logged) when it cannot be trusted."""
    token = str(row.token_id)
    shares, price = _decimal(row.current_size), _decimal(row.current_price)
    if shares is None or shares <= 0 or price is None or not row.redeemable or not 0 <= price <= 1:
        log.warning("skipped position %s: size %s, price %s, redeemable %s",
                    token, shares, price, row.redeemable)  # fmt: skip
        return None
    avg = _decimal(row.avg_price)
    return Holding(str(row.condition_id), token, shares, price, avg, row.title or "")


__all__ = ["BASE_UNITS", "Holding", "RedeemClient", "RedeemError"]
