"""The drill's wallets: which addresses a key trades for, which wallets exist, relayer jobs.

A key (the API key's owner) trades for its own address and for its proxy wallet, Safe and
deposit wallet (``exchange.wallet.key_wallets``: the same CREATE2 derivations as the venue's
factories). What exists on chain is modelled as polymarket.com leaves it:

- proxy wallets and Safes exist for every key the drill has seen (polymarket.com deploys them
  at sign-up), unless ``POST /_sim/accounts/{address}`` says ``"deployed": false``;
- a deposit wallet exists once its ``WALLET-CREATE`` went through the relayer (or the same
  inspection route deployed it), as the official client deploys it for a new API account.

Relayer transactions are jobs that confirm ``CONFIRM_AFTER_MS`` after submission.
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from dataclasses import dataclass

from polymaker.exchange.wallet import WalletKind, key_wallets

CONFIRM_AFTER_MS = 300


@functools.lru_cache(maxsize=4096)
def wallets_of(owner: str) -> dict[str, WalletKind]:
    """The lower-case addresses key ``owner`` trades for, by kind (CREATE2, cached)."""
    return {address.lower(): kind for address, kind in key_wallets(owner).items()}


@dataclass
class RelayerJob:
    """One submitted relayer transaction (the drill runs only deployments so far)."""

    transaction_id: str
    kind: str
    wallet: str
    submitted_ms: int
    error: str | None = None

    def state(self, now_ms: int) -> str:
        """The relayer's state name: new, then confirmed (or failed) after a short delay."""
        if now_ms - self.submitted_ms < CONFIRM_AFTER_MS:
            return "STATE_NEW"
        return "STATE_FAILED" if self.error else "STATE_CONFIRMED"

    @property
    def transaction_hash(self) -> str:
        """A stable fake chain hash for the job."""
        return "0x" + hashlib.sha256(self.transaction_id.encode()).hexdigest()


class WalletRegistry:
    """Owners seen, deposit wallets deployed, proxy/Safe wallets switched off, relayer jobs."""

    def __init__(self) -> None:
        self._owners: dict[str, str] = {}  # wallet address -> owner, for every owner seen
        self._deployed_deposit: set[str] = set()
        self._undeployed: set[str] = set()
        self.jobs: dict[str, RelayerJob] = {}

    def see_owner(self, owner: str) -> None:
        """Remember a key's owner (at L1 authentication) so its wallets are recognised."""
        for address in wallets_of(owner.lower()):
            self._owners.setdefault(address, owner.lower())

    def addresses_of(self, owner: str) -> list[str]:
        """Every address key ``owner`` trades for (lower case), its own first."""
        return list(wallets_of(owner.lower()))

    def owner_of(self, wallet: str) -> str | None:
        """The key owner a known wallet belongs to (None for addresses never seen)."""
        return self._owners.get(wallet.lower())

    def kind_of(self, wallet: str) -> WalletKind | None:
        """The kind of a known wallet address."""
        owner = self.owner_of(wallet)
        return None if owner is None else wallets_of(owner)[wallet.lower()]

    def is_deployed(self, wallet: str) -> bool:
        """Does this wallet exist on chain (the answer to the relayer's ``/deployed``)?"""
        address = wallet.lower()
        kind = self.kind_of(address)
        if kind is None or address in self._undeployed:
            return False
        if kind is WalletKind.DEPOSIT:
            return address in self._deployed_deposit
        return True

    def deployed_deposit_wallets(self) -> frozenset[str]:
        """Deposit wallets that can check signatures (ERC-1271 needs the contract)."""
        return frozenset(self._deployed_deposit - self._undeployed)

    def set_deployed(self, wallet: str, deployed: bool) -> None:
        """Deploy or remove a wallet (the relayer's deployment or ``/_sim/accounts``)."""
        address = wallet.lower()
        if deployed:
            self._undeployed.discard(address)
            if self.kind_of(address) is WalletKind.DEPOSIT:
                self._deployed_deposit.add(address)
        else:
            self._undeployed.add(address)

    def wallet_for(self, owner: str, signature_type: int) -> str:
        """The wallet of ``owner`` that balances with ``signature_type`` are about.

        A deposit wallet has two derivations; the deployed one wins (the current beacon one
        when neither is deployed), as the official client picks it.
        """
        kinds = {0: WalletKind.EOA, 1: WalletKind.PROXY, 2: WalletKind.SAFE, 3: WalletKind.DEPOSIT}
        kind = kinds.get(signature_type)
        if kind is None:
            raise ValueError(f"invalid signature_type {signature_type}: use 0, 1, 2 or 3")
        candidates = [a for a, k in wallets_of(owner.lower()).items() if k is kind]
        deployed = [a for a in candidates if a in self._deployed_deposit]
        return (deployed or candidates)[0]

    def submit(self, kind: str, wallet: str, now_ms: int) -> RelayerJob:
        """Queue a relayer job; a deployment takes effect at once (the job reports it later)."""
        job = RelayerJob(str(uuid.uuid4()), kind, wallet.lower(), now_ms)
        self.jobs[job.transaction_id] = job
        if kind == "WALLET-CREATE":
            self.set_deployed(wallet, True)
        return job


__all__ = ["CONFIRM_AFTER_MS", "RelayerJob", "WalletRegistry", "wallets_of"]
