"""The doctor's sequence: which checks run, in which order, and which ones a mode needs.

Checks run in dependency order (the key before credentials, credentials before account reads)
and a check whose input failed is skipped with the reason, so one root cause gives one failure.
A failed check that the chosen mode does not need is shown as a warning (paper mode does not
need credentials, drill mode has no geoblock). Doctor exits 0 only when no needed check failed.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace

import httpx
from polymarket._internal.environment import PRODUCTION_CONFIG
from polymarket._internal.protocol import is_v2_position_id

from polymaker.config.global_config import GlobalConfig, Mode, ResolvedPaths
from polymaker.doctor import probes
from polymaker.doctor.checks import (
    CheckResult,
    Status,
    check_allowances,
    check_balance,
    check_clock_skew,
    check_closed_only,
    check_geoblock,
    check_wallet_deployed,
    check_wallet_type,
    fail,
    skip,
)
from polymaker.errors import ConfigError, StateFileError
from polymaker.exchange.sdk import signer_address
from polymaker.exchange.secrets import RedactingFilter
from polymaker.exchange.urls import ExchangeUrls
from polymaker.exchange.wallet import classify_wallet, configured_wallet_address
from polymaker.files import read_json_file

GEOBLOCK_URL = "https://polymarket.com/api/geoblock"
_READS = ("collateral balance", "allowances", "closed-only")
_TRADING = frozenset({Mode.DRILL, Mode.LIVE})
_ALL = frozenset(Mode)
# Which modes need each check to pass (anything else is reported as a warning).
NEEDED: Mapping[str, frozenset[Mode]] = {
    "config": _ALL,
    "exchange": _ALL,
    "wallet key": _TRADING,
    "gamma": _ALL,
    "clob": _ALL,
    "data api": _ALL,
    "ws market": _ALL,
    "ws user": _TRADING,
    "clock skew": _TRADING,
    "wallet type": _TRADING,
    "wallet deployed": _TRADING,
    "credentials": _TRADING,
    "collateral balance": _TRADING,
    "allowances": _TRADING,
    "closed-only": _TRADING,
    "geoblock": frozenset({Mode.LIVE}),
}
SPENDERS: Mapping[str, str] = {
    "standard": PRODUCTION_CONFIG.standard_exchange,
    "neg-risk": PRODUCTION_CONFIG.neg_risk_exchange,
    "neg-risk adapter": PRODUCTION_CONFIG.neg_risk_adapter,
    "exchange v3": PRODUCTION_CONFIG.exchange_v3,
}


@dataclass(frozen=True)
class DoctorRun:
    """Everything a run of the checks needs (the config is already valid)."""

    config: GlobalConfig
    mode: Mode
    urls: ExchangeUrls
    paths: ResolvedPaths
    environ: Mapping[str, str]


def needed_result(result: CheckResult, mode: Mode) -> CheckResult:
    """``result`` with a failure of a check ``mode`` does not need turned into a warning."""
    if result.status is Status.FAIL and mode not in NEEDED.get(result.name, _ALL):
        return replace(result, status=Status.WARN, detail=f"{result.detail} (not needed in {mode})")
    return result


def exit_code(results: list[CheckResult]) -> int:
    """0 when nothing needed failed, else 1 (config failures are exit 2, decided by the CLI)."""
    return 1 if any(result.status is Status.FAIL for result in results) else 0


def spenders_needed(paths: ResolvedPaths) -> set[str]:
    """Approvals the screened markets need: standard always, neg-risk if any market is, and
    ExchangeV3 if any is a Protocol V2 market (its tokens are position ids)."""
    needed = {"standard"}
    try:
        document = read_json_file(paths.topics_filtered) if paths.topics_filtered.exists() else {}
    except StateFileError:
        return needed
    topics = document.get("topics", []) if isinstance(document, dict) else []
    topics = [t for t in topics if isinstance(t, dict)]
    if any(t.get("neg_risk") is True for t in topics):
        needed |= {"neg-risk", "neg-risk adapter"}
    if any(is_v2_position_id(str(t.get("yes_token", ""))) for t in topics):
        needed.add("exchange v3")
    return needed


async def _endpoints(run: DoctorRun, client: httpx.AsyncClient) -> list[CheckResult]:
    urls, mode = run.urls, run.mode
    results: list[CheckResult] = []
    gamma, _ = await probes.probe_http(
        client, "gamma", f"{urls.gamma_url}/markets?limit=1", "gamma_url", mode
    )
    results.append(gamma)
    before = time.time()
    clob, body = await probes.probe_http(client, "clob", f"{urls.clob_url}/time", "clob_url", mode)
    local = (before + time.time()) / 2
    results.append(clob)
    data, _ = await probes.probe_http(
        client,
        "data api",
        f"{urls.data_url}/positions?user=0x0000000000000000000000000000000000000000&limit=1",
        "data_url",
        mode,
    )
    results.append(data)
    results.append(await probes.probe_ws("ws market", urls.ws_market_url, "ws_market_url", mode))
    results.append(await probes.probe_ws("ws user", urls.ws_user_url, "ws_user_url", mode))
    server_s = probes.server_seconds(body)
    if server_s is None:
        results.append(skip("clock skew", "no usable answer from the CLOB's /time"))
    else:
        results.append(check_clock_skew(server_s, local))
    return results


async def _account(
    run: DoctorRun, key: probes.KeyFacts, client: httpx.AsyncClient
) -> list[CheckResult]:
    """Wallet type, credentials (the key's), deployment, then the wallet's own reads.

    Credentials come before the deployment question: they belong to the key whatever the
    wallet, and the relayer is asked about a wallet only once its key is known.
    """
    names = ("wallet type", "credentials", "wallet deployed", *_READS)
    if run.mode is Mode.PAPER:
        return [skip(name, "paper mode places no real orders") for name in names]
    if key.key is None:
        return [skip(name, "needs a usable wallet key") for name in names]
    address, source = configured_wallet_address(run.config.wallet_address, run.environ)
    try:
        wallet = classify_wallet(signer_address(key.key.reveal()), address, source=source)
    except ConfigError as error:
        return [
            check_wallet_type(error),
            *(skip(n, "needs a wallet of the key") for n in names[1:]),
        ]
    results = [check_wallet_type(wallet)]
    credentials, account = await probes.open_account(key.key, key.credentials, run.urls, None)
    results.append(credentials)
    if account is None:
        return [*results, *(skip(name, "needs credentials") for name in names[2:])]
    deployed = await probes.read_deployed(client, run.urls.relayer, wallet)
    results.append(
        check_wallet_deployed(wallet, deployed, mode=run.mode, clob_url=run.urls.clob_url)
    )
    if deployed is not True:
        await account.client.close()
        return [*results, *(skip(name, "needs a deployed wallet") for name in _READS)]
    if not wallet.is_eoa:
        await account.client.close()
        opened = await probes.open_wallet(key.key, account, run.urls, wallet)
        if isinstance(opened, str):
            return [*results, *(fail(name, opened, "see docs/accounts.md") for name in _READS)]
        account = opened
    try:
        return [*results, *(await _account_reads(run, account))]
    finally:
        await account.client.close()


async def _account_reads(run: DoctorRun, account: probes.Account) -> list[CheckResult]:
    """Funds, approvals and the closed-only flag, all at the wallet."""
    results: list[CheckResult] = []
    collateral = await probes.read_collateral(account)
    if isinstance(collateral, str):
        error = fail("collateral balance", collateral, "check the CLOB reachability row")
        results += [error, skip("allowances", "needs the balance-allowance answer")]
    else:
        balance, allowances = collateral
        cap = run.config.max_total_exposure_usdc
        results.append(
            check_balance(
                balance, account.address, mode=run.mode, clob_url=run.urls.clob_url, wanted=cap
            )
        )
        results.append(
            check_allowances(
                allowances,
                SPENDERS,
                needed=spenders_needed(run.paths),
                mode=run.mode,
                clob_url=run.urls.clob_url,
                address=account.address,
            )
        )
    closed_only = await probes.read_closed_only(account)
    if isinstance(closed_only, str):
        results.append(fail("closed-only", closed_only, "check the CLOB reachability row"))
    else:
        results.append(check_closed_only(closed_only, account.address))
    return results


async def _geoblock(run: DoctorRun, client: httpx.AsyncClient) -> CheckResult:
    if not run.urls.is_production:
        return skip("geoblock", "the exchange is not Polymarket production")
    if run.mode is not Mode.LIVE:
        return skip("geoblock", f"{run.mode} mode places no real orders")
    result, body = await probes.probe_http(client, "geoblock", GEOBLOCK_URL, "clob_url", run.mode)
    if not isinstance(body, dict):
        return result
    return check_geoblock(body)


async def run_checks(
    run: DoctorRun, *, transport: httpx.AsyncBaseTransport | None = None
) -> list[CheckResult]:
    """Every check after the config one, in order, each already judged for ``run.mode``."""
    key = probes.load_key(run.mode, run.environ, run.paths.data_dir)
    redactor = RedactingFilter()
    if key.key is not None:
        redactor.register(key.key.reveal())
    if key.credentials is not None:
        redactor.register(*key.credentials.values())
    results = [key.result]
    async with httpx.AsyncClient(transport=transport, follow_redirects=True) as client:
        results += await _endpoints(run, client)
        results += await _account(run, key, client)
        results.append(await _geoblock(run, client))
    return [
        replace(r, detail=redactor.redact(r.detail), remedy=redactor.redact(r.remedy))
        for r in (needed_result(result, run.mode) for result in results)
    ]


__all__ = [
    "GEOBLOCK_URL",
    "NEEDED",
    "SPENDERS",
    "DoctorRun",
    "exit_code",
    "needed_result",
    "run_checks",
    "spenders_needed",
]
