"""Doctor checks as pure functions: facts in, one :class:`CheckResult` out, remedy included.

The I/O that gathers the facts lives in ``probes.py``; the order and what each mode needs in
``runner.py``. Every failure carries a remedy that says what to do, in the words of the tool
the operator will use (a shell command, a config key, a drill ``/_sim/`` call).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal
from enum import StrEnum

from polymaker.config.global_config import Mode
from polymaker.errors import ConfigError
from polymaker.exchange.secrets import ENV_RELAYER_API_KEY, ENV_RELAYER_API_KEY_ADDRESS
from polymaker.exchange.wallet import ENV_WALLET_ADDRESS, Wallet, WalletKind

CLOCK_WARN_S = 2.0
CLOCK_FAIL_S = 10.0
_UNITS = Decimal(1_000_000)


class Status(StrEnum):
    """Outcome of one check; only ``fail`` of a check the mode needs makes doctor exit 1."""

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True)
class CheckResult:
    """One row of the doctor table: what was checked, how it went, and the fix on failure."""

    name: str
    status: Status
    detail: str
    remedy: str = ""

    def as_json(self) -> dict[str, str]:
        """The row as a JSON object (``status`` as its string value)."""
        return {**asdict(self), "status": str(self.status)}


def ok(name: str, detail: str) -> CheckResult:
    """A passed check."""
    return CheckResult(name, Status.OK, detail)


def fail(name: str, detail: str, remedy: str) -> CheckResult:
    """A failed check; ``remedy`` must say what to change."""
    return CheckResult(name, Status.FAIL, detail, remedy)


def skip(name: str, detail: str) -> CheckResult:
    """A check that does not apply (to this mode, or because an earlier one failed)."""
    return CheckResult(name, Status.SKIP, detail)


def check_clock_skew(server_s: float, local_s: float) -> CheckResult:
    """Local clock vs the exchange's ``GET /time`` (seconds; /time has 1 s resolution).

    Signed requests carry a timestamp the venue compares with its clock; a skewed host gets
    401s that look like bad credentials (polymarket_api.md 3.2).
    """
    skew = server_s - local_s
    detail = f"exchange clock is {abs(skew):.1f} s {'ahead of' if skew >= 0 else 'behind'} ours"
    if abs(skew) >= CLOCK_FAIL_S:
        return fail(
            "clock skew",
            detail,
            "synchronise this host's clock (e.g. `timedatectl set-ntp true` or chrony); signed "
            "requests are refused when the clocks differ",
        )
    if abs(skew) >= CLOCK_WARN_S:
        return CheckResult("clock skew", Status.WARN, detail, "enable NTP on this host")
    return ok("clock skew", detail)


def check_wallet_type(account: Wallet | ConfigError) -> CheckResult:
    """The account the key trades for (``wallet_address``, classified from the key)."""
    if isinstance(account, ConfigError):
        return fail(
            "wallet type",
            account.problem,
            f"set wallet_address (or {ENV_WALLET_ADDRESS}) to the address polymarket.com shows "
            "for this key's account, or to null for the key's own address (docs/accounts.md)",
        )
    return ok("wallet type", account.describe())


def check_wallet_deployed(
    wallet: Wallet, deployed: bool | str, *, mode: Mode, clob_url: str
) -> CheckResult:
    """Whether the wallet contract exists (the relayer's ``/deployed``); an EOA always does.

    ``deployed`` is the relayer's answer or the error text of asking it.
    """
    name = "wallet deployed"
    if wallet.is_eoa:
        return ok(name, "a plain EOA needs no wallet contract")
    if isinstance(deployed, str):
        return fail(name, f"cannot ask the relayer: {deployed}", "set exchange.relayer_url")
    if deployed:
        return ok(name, f"{wallet.kind.value} {wallet.address} is deployed")
    detail = f"{wallet.kind.value} {wallet.address} is not deployed"
    if mode is Mode.DRILL:
        remedy = f'POST {clob_url}/_sim/accounts/{wallet.address} {{"deployed": true}}'
    elif wallet.kind is WalletKind.DEPOSIT:
        remedy = (
            f"set {ENV_RELAYER_API_KEY} and {ENV_RELAYER_API_KEY_ADDRESS} (a relayer API key "
            "and the address that owns it): `polymaker run` then deploys it once at start"
        )
    else:
        remedy = (
            "log in to polymarket.com once with this account (it deploys the wallet), or check "
            "that wallet_address is your polymarket.com address"
        )
    return fail(name, detail, remedy)


def check_balance(
    base_units: int, address: str, *, mode: Mode, clob_url: str, wanted: Decimal | None
) -> CheckResult:
    """Collateral (pUSD, 6 decimals) of the funding address; none is a failure.

    wanted: the configured exposure cap; a balance below it is a warning (launches would be
    refused for lack of funds before the cap is reached).
    """
    balance = Decimal(base_units) / _UNITS
    detail = f"{balance} pUSD at {address}"
    if balance <= 0:
        if mode is Mode.DRILL:
            remedy = (
                f"give the drill account cash: POST {clob_url}/_sim/accounts/{address} "
                '{"balance": "1000"} (or set drill.balance_usdc)'
            )
        else:
            remedy = (
                f"deposit pUSD to {address} (wrap USDC through the CollateralOnramp), then "
                "call GET /balance-allowance/update so the exchange re-reads the chain"
            )
        return fail("collateral balance", detail, remedy)
    if wanted is not None and balance < wanted:
        return CheckResult(
            "collateral balance",
            Status.WARN,
            f"{detail}, below max_total_exposure_usdc {wanted}",
            "add funds or lower max_total_exposure_usdc",
        )
    return ok("collateral balance", detail)


def check_allowances(
    allowances: Mapping[str, int],
    spenders: Mapping[str, str],
    *,
    needed: set[str],
    mode: Mode,
    clob_url: str,
    address: str,
) -> CheckResult:
    """pUSD approvals per exchange contract (``spenders``: label -> address).

    needed: labels the markets to be traded require (``standard``, ``neg-risk``); a missing
    approval there fails, elsewhere it is a warning.
    """
    by_address = {spender.lower(): amount for spender, amount in allowances.items()}
    missing = [
        label for label, spender in spenders.items() if by_address.get(spender.lower(), 0) <= 0
    ]
    detail = "approved for " + (
        ", ".join(label for label in spenders if label not in missing) or "nothing"
    )
    if not missing:
        return ok("allowances", detail)
    if mode is Mode.DRILL:
        remedy = f'POST {clob_url}/_sim/accounts/{address} {{"allowance": true}}'
    else:
        remedy = (
            "approve pUSD for "
            + ", ".join(f"{label} ({spenders[label]})" for label in missing)
            + " (Polymarket's 'enable trading' does it), then GET /balance-allowance/update"
        )
    status = Status.FAIL if needed & set(missing) else Status.WARN
    return CheckResult("allowances", status, f"{detail}; missing: {', '.join(missing)}", remedy)


def check_closed_only(closed_only: bool, address: str) -> CheckResult:
    """The venue's closed-only flag: the account may only reduce positions."""
    if closed_only:
        return fail(
            "closed-only",
            f"{address} is in closed-only mode: new buys are refused",
            "nothing in polymaker can lift it: close positions and contact Polymarket support "
            "about the account; trade from another address",
        )
    return ok("closed-only", f"{address} may open positions")


def check_geoblock(answer: Mapping[str, object]) -> CheckResult:
    """Polymarket's geoblock answer (``{"blocked": bool, "country", "region", "ip"}``)."""
    where = "/".join(str(answer[k]) for k in ("country", "region") if answer.get(k))
    if answer.get("blocked") is True:
        return fail(
            "geoblock",
            f"trading is blocked from this location ({where or 'unknown'})",
            "Polymarket refuses orders from this jurisdiction; do not run live from here",
        )
    if answer.get("blocked") is not False:
        return CheckResult(
            "geoblock", Status.WARN, f"unexpected answer {dict(answer)!r}", "check again later"
        )
    return ok("geoblock", f"not blocked ({where or 'location unknown'})")


__all__ = [
    "CLOCK_FAIL_S",
    "CLOCK_WARN_S",
    "CheckResult",
    "Status",
    "check_allowances",
    "check_balance",
    "check_clock_skew",
    "check_closed_only",
    "check_geoblock",
    "check_wallet_deployed",
    "check_wallet_type",
    "fail",
    "ok",
    "skip",
]
