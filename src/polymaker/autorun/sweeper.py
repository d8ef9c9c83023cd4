"""Cancel what a dead worker left at the exchange, and read the position it left.

A worker killed by a signal (or crashed) cannot cancel its own resting orders; supervisord
would forget about them, we do not (style "what we do differently" 4). The supervisor trades
with the same key as its workers, so ``cancel_market`` plus a re-read of ``/data/orders``
through the exchange trading module clears exactly that market's orders of this account. The
position (token balance) is read so the ledger can say what the market still holds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal

from polymaker.errors import PolymakerError
from polymaker.exchange.secrets import ApiCredentials, PrivateKey
from polymaker.exchange.trading import Trading, open_trading
from polymaker.exchange.urls import ExchangeUrls
from polymaker.exchange.wallet import Wallet
from polymaker.exchange.wire.orders import Order

log = logging.getLogger("polymaker.autorun.sweeper")

SWEEP_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class SweepResult:
    """What a sweep did: orders cancelled, orders still open, the position, or the error."""

    condition_id: str
    cancelled: int = 0
    remaining: int = 0
    position: Decimal | None = None
    error: str | None = None
    elapsed_s: float = 0.0

    @property
    def clean(self) -> bool:
        """True when the exchange confirmed that no order of ours is left in the market."""
        return self.error is None and self.remaining == 0

    def describe(self) -> str:
        """One phrase for the ledger's reason and the log."""
        if self.error is not None:
            return f"sweep failed: {self.error}"
        held = "unknown" if self.position is None else f"{self.position.normalize():f} shares"
        left = f", {self.remaining} still open" if self.remaining else ""
        return f"swept {self.cancelled} open orders{left}; position left {held}"


Opener = Callable[[], Awaitable[Trading]]


class Sweeper:
    """Holds one authenticated trading client (opened on first use) and sweeps markets."""

    def __init__(self, opener: Opener, *, timeout_s: float = SWEEP_TIMEOUT_S) -> None:
        self._opener = opener
        self._timeout_s = timeout_s
        self._trading: Trading | None = None
        self._lock = asyncio.Lock()

    @classmethod
    def for_key(
        cls,
        key: PrivateKey,
        urls: ExchangeUrls,
        credentials: ApiCredentials | None,
        *,
        wallet: Wallet | None = None,
    ) -> Sweeper:
        """A sweeper trading as ``key`` for ``wallet`` on ``urls`` (the workers' own account)."""

        async def opener() -> Trading:
            sdk_creds = None if credentials is None else credentials.to_sdk()
            return await open_trading(key.reveal(), urls, wallet=wallet, credentials=sdk_creds)

        return cls(opener)

    async def _client(self) -> Trading:
        async with self._lock:
            if self._trading is None:
                self._trading = await self._opener()
            return self._trading

    async def connect(self) -> None:
        """Open the client now (so the first sweep is fast); failures are retried later."""
        try:
            await self._client()
        except PolymakerError as error:
            log.warning("sweeper cannot reach the exchange yet: %s", error)

    async def all_open_orders(self) -> list[Order]:
        """Every open order of the account (the account limits count them)."""
        trading = await self._client()
        return await trading.all_open_orders()

    async def sweep(self, condition_id: str, token_id: str | None) -> SweepResult:
        """Cancel every order of ours in ``condition_id`` and confirm; never raises."""
        started = time.monotonic()
        try:
            return await asyncio.wait_for(
                self._sweep(condition_id, token_id, started), self._timeout_s + 3.0
            )
        except (PolymakerError, TimeoutError) as error:
            problem = str(error) or type(error).__name__
            log.error("sweep of %s failed: %s", condition_id, problem)
            return SweepResult(condition_id, error=problem, elapsed_s=time.monotonic() - started)

    async def _sweep(self, condition_id: str, token_id: str | None, started: float) -> SweepResult:
        trading = await self._client()
        outcome = await trading.cancel_market(condition_id)
        remaining = await trading.confirm_no_open_orders(condition_id, timeout_s=self._timeout_s)
        position = None if token_id is None else await trading.token_balance(token_id)
        return SweepResult(
            condition_id,
            cancelled=len(outcome.canceled),
            remaining=len(remaining),
            position=position,
            elapsed_s=time.monotonic() - started,
        )

    async def aclose(self) -> None:
        """Close the trading client."""
        if self._trading is not None:
            trading, self._trading = self._trading, None
            await trading.aclose()


__all__ = ["SWEEP_TIMEOUT_S", "SweepResult", "Sweeper"]
