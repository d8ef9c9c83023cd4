"""Ledger: funding on first sight, cash and share reservations, flags, external funding."""

from __future__ import annotations

from decimal import Decimal

from polymaker.drill.ledger import FEE_ADDRESS, Ledger

D = Decimal
A = "0x" + "a" * 40
TOKEN = "1111"


def test_new_address_is_funded_once_with_the_drill_balance() -> None:
    ledger = Ledger()
    assert ledger.balance(A.upper().replace("0X", "0x")) == D("10000")
    assert ledger.available(A) == D("10000")
    assert ledger.accounts() == [FEE_ADDRESS, A]
    assert ledger.funded() == D("10000")
    assert ledger.balance(FEE_ADDRESS) == 0


def test_configurable_initial_balance_and_set_balance_count_as_funding() -> None:
    ledger = Ledger(D("250"))
    ledger.set_balance(A, D("400"))
    assert ledger.balance(A) == D("400") and ledger.funded() == D("400")
    ledger.set_balance(A, D("100"))
    assert ledger.funded() == D("100")


def test_cash_reservation_limits_available_not_balance() -> None:
    ledger = Ledger(D("10"))
    account = ledger.ensure(A)
    assert account.reserve_cash(D("6"))
    assert not account.reserve_cash(D("4.01"))
    assert (ledger.balance(A), ledger.available(A)) == (D("10"), D("4"))
    account.release_cash(D("6"))
    assert ledger.available(A) == D("10")


def test_only_settled_unreserved_shares_are_sellable() -> None:
    ledger = Ledger()
    account = ledger.ensure(A)
    account.receive_unsettled(TOKEN, D("8"))
    assert ledger.shares(A, TOKEN) == D("8") and ledger.sellable(A, TOKEN) == 0
    assert not account.reserve_shares(TOKEN, D("1"))
    account.confirm(TOKEN, D("5"))
    assert ledger.sellable(A, TOKEN) == D("5")
    assert account.reserve_shares(TOKEN, D("3"))
    assert ledger.sellable(A, TOKEN) == D("2") and ledger.shares(A, TOKEN) == D("8")
    account.release_shares(TOKEN, D("3"))
    assert ledger.sellable(A, TOKEN) == D("5")


def test_positions_list_only_non_zero_holdings() -> None:
    ledger = Ledger()
    account = ledger.ensure(A)
    account.adjust_settled("2222", D("3"))
    account.receive_unsettled(TOKEN, D("1.5"))
    account.adjust_settled("3333", D("1"))
    account.adjust_settled("3333", D("-1"))
    assert ledger.positions(A) == {TOKEN: D("1.5"), "2222": D("3")}


def test_flags_default_to_tradable() -> None:
    ledger = Ledger()
    account = ledger.ensure(A)
    assert account.allowance and not account.closed_only
    ledger.set_allowance(A, False)
    ledger.set_closed_only(A, True)
    assert not ledger.account(A).allowance and ledger.account(A).closed_only
