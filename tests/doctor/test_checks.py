"""Pure doctor checks and the per-mode judgement, one test per outcome."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path

import pytest

from polymaker.config.global_config import Mode, PathsSection, resolve_paths
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
)
from polymaker.doctor.cli import _print_table, report
from polymaker.doctor.probes import server_seconds
from polymaker.doctor.runner import SPENDERS, exit_code, needed_result, spenders_needed
from polymaker.errors import ConfigError
from polymaker.exchange.wallet import Wallet, WalletKind

SIGNER = "0x1111111111111111111111111111111111111111"
FUNDER = "0x2222222222222222222222222222222222222222"
CLOB = "http://127.0.0.1:1"


@pytest.mark.parametrize(
    ("server", "status"),
    [(1000.5, Status.OK), (1003.0, Status.WARN), (990.0, Status.FAIL), (1010.0, Status.FAIL)],
)
def test_clock_skew_thresholds(server, status):
    result = check_clock_skew(server, 1000.0)
    assert result.status is status
    assert ("synchronise" in result.remedy) is (status is Status.FAIL)


def test_clock_skew_says_which_clock_is_ahead():
    assert "behind" in check_clock_skew(900.0, 1000.0).detail
    assert "ahead" in check_clock_skew(1100.0, 1000.0).detail


def test_wallet_type_shows_the_account_or_says_how_to_fix_the_address():
    proxy = Wallet(FUNDER, SIGNER, WalletKind.PROXY)
    assert check_wallet_type(proxy).status is Status.OK
    assert check_wallet_type(proxy).detail == (
        f"wallet {FUNDER} (proxy, signature type 1), signer {SIGNER}"
    )
    wrong = check_wallet_type(ConfigError("0x22 is none of the wallets", key="wallet_address"))
    assert wrong.status is Status.FAIL and "polymarket.com" in wrong.remedy


@pytest.mark.parametrize(
    ("kind", "mode", "remedy"),
    [
        (WalletKind.PROXY, Mode.LIVE, "log in to polymarket.com"),
        (WalletKind.SAFE, Mode.LIVE, "log in to polymarket.com"),
        (WalletKind.DEPOSIT, Mode.LIVE, "POLYMAKER_RELAYER_API_KEY"),
        (WalletKind.DEPOSIT, Mode.DRILL, '{"deployed": true}'),
    ],
)
def test_an_undeployed_wallet_fails_with_a_remedy_for_its_kind(kind, mode, remedy):
    wallet = Wallet(FUNDER, SIGNER, kind)
    result = check_wallet_deployed(wallet, False, mode=mode, clob_url=CLOB)
    assert result.status is Status.FAIL and remedy in result.remedy
    assert check_wallet_deployed(wallet, True, mode=mode, clob_url=CLOB).status is Status.OK


def test_an_eoa_needs_no_deployment_and_a_relayer_error_is_a_failure():
    eoa = Wallet(SIGNER, SIGNER, WalletKind.EOA)
    assert check_wallet_deployed(eoa, "unreachable", mode=Mode.LIVE, clob_url=CLOB).status is (
        Status.OK
    )
    safe = Wallet(FUNDER, SIGNER, WalletKind.SAFE)
    failed = check_wallet_deployed(safe, "ConnectError", mode=Mode.LIVE, clob_url=CLOB)
    assert failed.status is Status.FAIL and "relayer_url" in failed.remedy


def test_balance_zero_fails_with_a_mode_specific_remedy():
    drill = check_balance(0, SIGNER, mode=Mode.DRILL, clob_url=CLOB, wanted=None)
    live = check_balance(0, SIGNER, mode=Mode.LIVE, clob_url=CLOB, wanted=None)
    assert drill.status is live.status is Status.FAIL
    assert f"{CLOB}/_sim/accounts/{SIGNER}" in drill.remedy
    assert "balance-allowance/update" in live.remedy


def test_balance_below_the_exposure_cap_warns():
    result = check_balance(250_000_000, SIGNER, mode=Mode.LIVE, clob_url=CLOB, wanted=Decimal(500))
    assert result.status is Status.WARN and "250 pUSD" in result.detail
    assert check_balance(2_000_000, SIGNER, mode=Mode.LIVE, clob_url=CLOB, wanted=None).status is (
        Status.OK
    )


def test_allowances_missing_where_needed_fail_elsewhere_warn():
    only_standard = {SPENDERS["standard"]: 10**30}
    kwargs = {"mode": Mode.LIVE, "clob_url": CLOB, "address": SIGNER}
    result = check_allowances(only_standard, SPENDERS, needed={"standard"}, **kwargs)
    assert result.status is Status.WARN and "neg-risk" in result.detail
    result = check_allowances(
        only_standard, SPENDERS, needed={"standard", "neg-risk", "neg-risk adapter"}, **kwargs
    )
    assert result.status is Status.FAIL and SPENDERS["neg-risk"] in result.remedy
    everything = {spender.lower(): 1 for spender in SPENDERS.values()}
    assert check_allowances(everything, SPENDERS, needed={"standard"}, **kwargs).status is (
        Status.OK
    )


def test_closed_only_and_geoblock():
    assert check_closed_only(True, SIGNER).status is Status.FAIL
    assert check_closed_only(False, SIGNER).status is Status.OK
    blocked = check_geoblock({"blocked": True, "country": "US", "region": "NY"})
    assert blocked.status is Status.FAIL and "US/NY" in blocked.detail
    assert check_geoblock({"blocked": False, "country": "DE"}).status is Status.OK
    assert check_geoblock({"error": "x"}).status is Status.WARN


def test_a_failure_the_mode_does_not_need_becomes_a_warning():
    failed = CheckResult("credentials", Status.FAIL, "refused", "fix")
    assert needed_result(failed, Mode.PAPER).status is Status.WARN
    assert needed_result(failed, Mode.LIVE).status is Status.FAIL
    assert exit_code([needed_result(failed, Mode.PAPER)]) == 0
    assert exit_code([needed_result(failed, Mode.DRILL)]) == 1


def test_neg_risk_approvals_are_needed_when_a_screened_market_is_neg_risk(tmp_path: Path):
    config_file = tmp_path / "config" / "global_config.json"
    paths = resolve_paths(PathsSection(), config_file)
    assert spenders_needed(paths) == {"standard"}
    paths.topics_filtered.parent.mkdir(parents=True)
    topics = {"topics": [{"topic_id": "a", "neg_risk": False}, {"topic_id": "b", "neg_risk": True}]}
    paths.topics_filtered.write_text(json.dumps(topics))
    assert spenders_needed(paths) == {"standard", "neg-risk", "neg-risk adapter"}


def test_exchange_v3_approval_is_needed_when_a_screened_market_is_protocol_v2(tmp_path: Path):
    paths = resolve_paths(PathsSection(), tmp_path / "config" / "global_config.json")
    paths.topics_filtered.parent.mkdir(parents=True)
    ctf_token = str(10**76 + 12345 * 2**60)  # CTF ids use the bits a position id keeps clear
    position_id = str((1 << 248) | (7 << 120))
    topics = [
        {"topic_id": "a", "yes_token": ctf_token},
        {"topic_id": "b", "yes_token": position_id},
    ]
    paths.topics_filtered.write_text(json.dumps({"topics": topics[:1]}))
    assert spenders_needed(paths) == {"standard"}
    paths.topics_filtered.write_text(json.dumps({"topics": topics}))
    assert spenders_needed(paths) == {"standard", "exchange v3"}


def test_report_plain_lines_carry_the_fix_and_the_table_every_row():
    results = [
        CheckResult("clock skew", Status.FAIL, "exchange clock is 120.0 s ahead of ours", "sync"),
        CheckResult("geoblock", Status.SKIP, "not production"),
    ]
    plain = io.StringIO()
    report(results, "drill", 1, as_json=False, out=plain)
    assert plain.getvalue().splitlines() == [
        "FAIL  clock skew          exchange clock is 120.0 s ahead of ours",
        "      fix: sync",
        "SKIP  geoblock            not production",
    ]
    table = io.StringIO()
    _print_table(results, "drill", table)
    assert "clock skew" in table.getvalue() and "geoblock" in table.getvalue()
    document = io.StringIO()
    report(results, "drill", 1, as_json=True, out=document)
    assert json.loads(document.getvalue())["checks"][0] == {
        "name": "clock skew",
        "status": "fail",
        "detail": "exchange clock is 120.0 s ahead of ours",
        "remedy": "sync",
    }


def test_server_seconds_reads_the_time_answer():
    assert server_seconds(1_790_000_000) == 1_790_000_000.5  # truncated: middle of the second
    assert server_seconds(1_790_000_000.25) == 1_790_000_000.25
    assert server_seconds(True) is None and server_seconds({"t": 1}) is None
