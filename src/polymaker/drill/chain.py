"""The drill's slice of Polygon: resolved markets pay out, and what a redemption changes.

The venue settles on chain: a resolved market's winning shares are worth 1 pUSD each once they
are *redeemed* through a contract call, and the losing ones nothing. The official client makes
those calls (``redeem_positions``) through the relayer for proxy wallets, Safes and deposit
wallets, and as a signed transaction an EOA broadcasts itself (paying gas in POL). Both paths
end here: :meth:`Chain.execute` runs a batch of calls for one wallet, all or nothing, against
the drill ledger. Two calls are understood, exactly as the client encodes them:

- v1 (CTF) markets: ``redeemPositions(collateral, 0x0, conditionId, [1, 2])`` sent to the
  collateral adapter (standard markets) or the neg-risk collateral adapter; it burns the
  wallet's shares of both outcomes and pays the winning ones;
- Protocol V2 markets: ``Router.redeem(bytes31 condition, outcomeIndex, amount)``; it burns
  ``amount`` (6-decimal base units) of that position and pays it if the outcome won.

Anything else reverts with a message naming the call, as an unknown selector would. A market
that has not resolved reverts (``result for condition not received yet``, the CTF's words).

State is plain and serialisable (addresses lower case, amounts int base units or wei): native
POL balances for gas, EOA transaction counts, relayer nonces per signer and wallet type, and
receipts by transaction hash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_hash.auto import keccak
from polymarket._internal.environment import PRODUCTION_CONFIG

from polymaker.drill.ledger import Ledger
from polymaker.drill.universe import SimMarket, Universe

CHAIN_ID = 137
BASE_UNITS = 10**6  # shares and pUSD on chain: 6 decimals
WEI = 10**18
GAS_PRICE_WEI = 30 * 10**9  # 30 gwei
CALL_GAS = 120_000  # gas a redemption call takes (eth_estimateGas)
DEFAULT_POL_WEI = WEI  # 1 POL for every address on first sight (about 270 redemptions)


def selector(signature: str) -> bytes:
    """The 4-byte function selector of a Solidity signature."""
    return keccak(signature.encode("ascii"))[:4]


REDEEM_POSITIONS = selector("redeemPositions(address,bytes32,bytes32,uint256[])")
ROUTER_REDEEM = selector("redeem(bytes31,uint256,uint256)")
BALANCE_OF = selector("balanceOf(address,uint256)")
BALANCE_OF_BATCH = selector("balanceOfBatch(address[],uint256[])")

_CONFIG = PRODUCTION_CONFIG
COLLATERAL = _CONFIG.collateral_token.lower()
COLLATERAL_ADAPTER = _CONFIG.collateral_adapter.lower()
NEG_RISK_COLLATERAL_ADAPTER = _CONFIG.neg_risk_collateral_adapter.lower()
ROUTER = _CONFIG.protocol_v2_router.lower()
POSITION_MANAGER = _CONFIG.position_manager.lower()
CONDITIONAL_TOKENS = _CONFIG.conditional_tokens.lower()
NEG_RISK_ADAPTER = _CONFIG.neg_risk_adapter.lower()
NOT_RESOLVED = "result for condition not received yet"


class Revert(Exception):
    """A call the chain refuses; the message is the revert reason."""


@dataclass(frozen=True)
class Call:
    """One contract call: target address (lower case), calldata, POL value in wei."""

    to: str
    data: bytes
    value: int = 0


@dataclass(frozen=True)
class Redemption:
    """What one call does to a wallet: shares burned per token, pUSD paid."""

    wallet: str
    condition_id: str
    burned: dict[str, Decimal]
    paid: Decimal


@dataclass
class Chain:
    """Gas balances, nonces and receipts (see the module docstring)."""

    pol_wei: dict[str, int] = field(default_factory=dict)
    tx_counts: dict[str, int] = field(default_factory=dict)
    relayer_nonces: dict[str, int] = field(default_factory=dict)
    receipts: dict[str, dict[str, Any]] = field(default_factory=dict)
    block: int = 1

    def pol(self, address: str) -> int:
        """POL (wei) of ``address``, ``DEFAULT_POL_WEI`` on first sight."""
        return self.pol_wei.setdefault(address.lower(), DEFAULT_POL_WEI)

    def set_pol(self, address: str, wei: int) -> None:
        """Set the POL balance of ``address`` (``/_sim/accounts``)."""
        self.pol_wei[address.lower()] = wei

    def relayer_nonce(self, signer: str, kind: str) -> int:
        """The next relayer nonce of ``signer`` for wallet type ``kind`` (PROXY/SAFE/WALLET)."""
        return self.relayer_nonces.get(f"{kind}:{signer.lower()}", 0)

    def use_relayer_nonce(self, signer: str, kind: str) -> None:
        """Count a relayed transaction of ``signer`` (its nonce is spent)."""
        key = f"{kind}:{signer.lower()}"
        self.relayer_nonces[key] = self.relayer_nonces.get(key, 0) + 1

    def next_block(self) -> int:
        """Mine a block; its number."""
        self.block += 1
        return self.block


def plan(universe: Universe, ledger: Ledger, wallet: str, calls: list[Call]) -> list[Redemption]:
    """What ``calls`` would do for ``wallet``; Revert (nothing changes) if any call fails."""
    held: dict[str, Decimal] = {}  # shares left after the earlier calls of the batch
    redemptions = []
    for call in calls:
        redemption = _plan_call(universe, ledger, wallet.lower(), call, held)
        for token, shares in redemption.burned.items():
            held[token] = _settled(ledger, wallet, token, held) - shares
        redemptions.append(redemption)
    return redemptions


def apply(ledger: Ledger, redemptions: list[Redemption]) -> None:
    """Burn the shares and pay the pUSD of planned redemptions."""
    for redemption in redemptions:
        account = ledger.ensure(redemption.wallet)
        for token, shares in redemption.burned.items():
            account.adjust_settled(token, -shares)
        account.cash += redemption.paid


def shares_of(ledger: Ledger, wallet: str, token: str) -> Decimal:
    """Settled shares of ``token`` the wallet holds on chain (0 for unknown wallets)."""
    if wallet.lower() not in ledger.accounts():
        return Decimal(0)
    return ledger.account(wallet).settled.get(token, Decimal(0))


def _settled(ledger: Ledger, wallet: str, token: str, held: dict[str, Decimal]) -> Decimal:
    return held[token] if token in held else shares_of(ledger, wallet, token)


def _plan_call(
    universe: Universe, ledger: Ledger, wallet: str, call: Call, held: dict[str, Decimal]
) -> Redemption:
    head, body = call.data[:4], call.data[4:]
    if head == REDEEM_POSITIONS and call.to in (COLLATERAL_ADAPTER, NEG_RISK_COLLATERAL_ADAPTER):
        return _redeem_ctf(universe, ledger, wallet, call.to, body, held)
    if head == ROUTER_REDEEM and call.to == ROUTER:
        return _redeem_v2(universe, ledger, wallet, body, held)
    raise Revert(f"the drill chain does not run selector 0x{head.hex()} on {call.to}")


def _resolved(market: SimMarket) -> str:
    if not market.closed or market.winner is None:
        raise Revert(NOT_RESOLVED)
    return market.yes_token if market.winner == "Yes" else market.no_token


def _decode(types: list[str], body: bytes) -> tuple[Any, ...]:
    try:
        return tuple(abi_decode(types, body))
    except Exception as error:  # eth_abi raises several types for bad calldata
        raise Revert(f"bad calldata: {error}") from None


def _redeem_ctf(
    universe: Universe,
    ledger: Ledger,
    wallet: str,
    adapter: str,
    body: bytes,
    held: dict[str, Decimal],
) -> Redemption:
    collateral, parent, condition, index_sets = _decode(
        ["address", "bytes32", "bytes32", "uint256[]"], body
    )
    if str(collateral).lower() != COLLATERAL or parent != bytes(32) or list(index_sets) != [1, 2]:
        raise Revert("redeemPositions: only pUSD, the root collection and [1, 2] are supported")
    condition_id = "0x" + condition.hex()
    try:
        market = universe.by_condition(condition_id)
    except KeyError:
        raise Revert(f"condition {condition_id} not prepared") from None
    if market.version != "v1":
        raise Revert("a Protocol V2 market redeems through the Router")
    if (adapter == NEG_RISK_COLLATERAL_ADAPTER) != market.neg_risk:
        raise Revert("wrong collateral adapter for this market's neg-risk flag")
    winner = _resolved(market)
    burned = {
        token: shares
        for token in (market.yes_token, market.no_token)
        if (shares := _settled(ledger, wallet, token, held)) > 0
    }
    return Redemption(wallet, condition_id, burned, burned.get(winner, Decimal(0)))


def _redeem_v2(
    universe: Universe, ledger: Ledger, wallet: str, body: bytes, held: dict[str, Decimal]
) -> Redemption:
    condition, outcome_index, amount = _decode(["bytes31", "uint256", "uint256"], body)
    if outcome_index not in (0, 1):
        raise Revert("outcome index must be 0 or 1")
    token = str((int.from_bytes(condition, "big") << 8) | outcome_index)
    try:
        market = universe.by_token(token)
    except KeyError:
        raise Revert(f"position {token} does not exist") from None
    winner = _resolved(market)
    shares = Decimal(amount) / BASE_UNITS
    if shares <= 0 or shares > _settled(ledger, wallet, token, held):
        raise Revert("ERC1155: burn amount exceeds balance")
    return Redemption(
        wallet, market.condition_id, {token: shares}, shares if token == winner else Decimal(0)
    )


__all__ = [
    "BALANCE_OF",
    "BALANCE_OF_BATCH",
    "BASE_UNITS",
    "CALL_GAS",
    "CHAIN_ID",
    "CONDITIONAL_TOKENS",
    "DEFAULT_POL_WEI",
    "GAS_PRICE_WEI",
    "NEG_RISK_ADAPTER",
    "POSITION_MANAGER",
    "WEI",
    "Call",
    "Chain",
    "Redemption",
    "Revert",
    "apply",
    "plan",
    "selector",
    "shares_of",
]
