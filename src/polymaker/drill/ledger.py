"""Accounts of the drill exchange: pUSD cash, reservations and outcome shares per address.

Model (all amounts ``Decimal``, addresses lower-cased):
- ``cash`` is the pUSD balance; ``reserved_cash`` is held by open BUY orders (price * remaining
  size); ``available = cash - reserved_cash``.
- Shares per token are ``settled`` (sellable once not reserved) or ``unsettled`` (bought in a
  trade that is not CONFIRMED yet); ``reserved_shares`` is held by open SELL orders and never
  exceeds ``settled``; ``sellable = settled - reserved``.
- A new address is funded with ``initial_balance`` on first sight (``ensure``); ``funded()``
  counts all cash ever injected from outside (funding and ``set_balance``), which is what the
  conservation invariant is measured against.
- ``FEE_ADDRESS`` is the house account that collects taker fees; it starts at 0 and is never
  auto-funded.

The ledger itself enforces nothing about orders: the matching engine reserves before it spends
and only moves amounts it has checked. The only way a balance goes below zero is a FAILED
trade reversal (see ``polymaker.drill.engine``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

FEE_ADDRESS = "0x000000000000000000000000000000000000fee0"
DEFAULT_DRILL_BALANCE = Decimal("10000")
_ZERO = Decimal(0)


def _add(book: dict[str, Decimal], token: str, delta: Decimal) -> None:
    """Add ``delta`` to ``book[token]``, dropping the entry when it reaches exactly zero."""
    value = book.get(token, _ZERO) + delta
    if value:
        book[token] = value
    else:
        book.pop(token, None)


@dataclass(slots=True)
class Account:
    """One address's cash, reservations and shares; the engine mutates it through the methods."""

    address: str
    cash: Decimal
    reserved_cash: Decimal = _ZERO
    settled: dict[str, Decimal] = field(default_factory=dict)
    unsettled: dict[str, Decimal] = field(default_factory=dict)
    reserved_shares: dict[str, Decimal] = field(default_factory=dict)
    allowance: bool = True
    closed_only: bool = False

    @property
    def available(self) -> Decimal:
        """pUSD not held by open BUY orders (may be negative only after a failed trade)."""
        return self.cash - self.reserved_cash

    def sellable(self, token: str) -> Decimal:
        """Settled shares of ``token`` not held by open SELL orders."""
        return self.settled.get(token, _ZERO) - self.reserved_shares.get(token, _ZERO)

    def shares(self, token: str) -> Decimal:
        """All shares of ``token``, settled or not."""
        return self.settled.get(token, _ZERO) + self.unsettled.get(token, _ZERO)

    def reserve_cash(self, amount: Decimal) -> bool:
        """Hold ``amount`` pUSD for an order; False (nothing held) if not available."""
        if amount > self.available:
            return False
        self.reserved_cash += amount
        return True

    def release_cash(self, amount: Decimal) -> None:
        """Give back ``amount`` pUSD held for an order."""
        self.reserved_cash -= amount

    def reserve_shares(self, token: str, amount: Decimal) -> bool:
        """Hold ``amount`` settled shares for a SELL order; False if not sellable."""
        if amount > self.sellable(token):
            return False
        _add(self.reserved_shares, token, amount)
        return True

    def release_shares(self, token: str, amount: Decimal) -> None:
        """Give back ``amount`` shares held for a SELL order."""
        _add(self.reserved_shares, token, -amount)

    def receive_unsettled(self, token: str, amount: Decimal) -> None:
        """Add shares bought in a trade that is not CONFIRMED yet (negative = take them back)."""
        _add(self.unsettled, token, amount)

    def adjust_settled(self, token: str, amount: Decimal) -> None:
        """Add (or with a negative amount remove) settled shares."""
        _add(self.settled, token, amount)

    def confirm(self, token: str, amount: Decimal) -> None:
        """Move ``amount`` shares from unsettled to settled (their trade was CONFIRMED)."""
        _add(self.unsettled, token, -amount)
        _add(self.settled, token, amount)


class Ledger:
    """All drill accounts, keyed by lower-case address; unknown addresses are funded on sight."""

    def __init__(self, initial_balance: Decimal = DEFAULT_DRILL_BALANCE) -> None:
        self.initial_balance = initial_balance
        self._accounts: dict[str, Account] = {FEE_ADDRESS: Account(FEE_ADDRESS, _ZERO)}
        self._funded = _ZERO

    def ensure(self, address: str) -> Account:
        """Return the account of ``address``, creating and funding it on first sight."""
        key = address.lower()
        account = self._accounts.get(key)
        if account is None:
            account = Account(key, self.initial_balance)
            self._accounts[key] = account
            self._funded += self.initial_balance
        return account

    def balance(self, address: str) -> Decimal:
        """Total pUSD of ``address`` (reserved included)."""
        return self.ensure(address).cash

    def available(self, address: str) -> Decimal:
        """pUSD of ``address`` not reserved by open BUY orders."""
        return self.ensure(address).available

    def shares(self, address: str, token: str) -> Decimal:
        """Total shares of ``token`` held by ``address`` (settled and unsettled)."""
        return self.ensure(address).shares(token)

    def sellable(self, address: str, token: str) -> Decimal:
        """Shares of ``token`` that ``address`` can sell now (settled and not reserved)."""
        return self.ensure(address).sellable(token)

    def positions(self, address: str) -> dict[str, Decimal]:
        """Every token with a non-zero total position of ``address``."""
        account = self.ensure(address)
        tokens = set(account.settled) | set(account.unsettled)
        return {t: account.shares(t) for t in sorted(tokens) if account.shares(t)}

    def set_allowance(self, address: str, ok: bool) -> None:
        """Model the on-chain approval: without it every order is refused as short of balance."""
        self.ensure(address).allowance = ok

    def set_closed_only(self, address: str, on: bool) -> None:
        """Put ``address`` in (or out of) closed-only mode: it may then only cancel."""
        self.ensure(address).closed_only = on

    def set_balance(self, address: str, amount: Decimal) -> None:
        """Set the pUSD balance of ``address`` (a deposit or withdrawal from outside).

        Reservations are kept: setting a balance below what open BUYs hold makes ``available``
        negative, and new BUYs are refused until funds return.
        """
        account = self.ensure(address)
        self._funded += amount - account.cash
        account.cash = amount

    def accounts(self) -> list[str]:
        """Every known address, the fee account included, in order of first sight."""
        return list(self._accounts)

    def account(self, address: str) -> Account:
        """The ``Account`` of a known address (KeyError if never seen); does not fund."""
        return self._accounts[address.lower()]

    def funded(self) -> Decimal:
        """All pUSD injected from outside so far (initial funding plus ``set_balance`` deltas)."""
        return self._funded
