"""Book validation, the own-order view, and the one-order slot protocol."""

from __future__ import annotations

from decimal import Decimal

import pytest

from polymaker.strategy.book import BookView, book_problem
from polymaker.strategy.commands import CancelAll, CancelOrder, OrderIntent, ReconcileFills
from polymaker.strategy.events import BookUpdate, Level, Side
from polymaker.strategy.orders import OrderSlot, SlotStatus

D = Decimal


def _book(bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> BookUpdate:
    return BookUpdate(
        0, tuple(Level(D(p), D(s)) for p, s in bids), tuple(Level(D(p), D(s)) for p, s in asks)
    )


@pytest.mark.parametrize(
    ("bids", "asks", "problem"),
    [
        ([("0.5", "1")], [("0.5", "1")], "book_crossed"),
        ([("0.5", "1"), ("0.6", "1")], [], "book_unsorted"),
        ([], [("0.6", "1"), ("0.55", "1")], "book_unsorted"),
        ([("0", "1")], [], "book_price_out_of_range"),
        ([], [("1", "1")], "book_price_out_of_range"),
        ([("0.5", "0")], [], "book_size_not_positive"),
        ([("0.5", "1")], [("0.51", "1")], None),
        ([], [], None),
    ],
)
def test_book_problems(bids: list, asks: list, problem: str | None) -> None:
    assert book_problem(_book(bids, asks)) == problem


def test_without_own_removes_our_size_and_a_lone_level() -> None:
    view = BookView.from_update(_book([("0.50", "10"), ("0.48", "5")], [("0.55", "7")]))
    assert view.without_own(Side.BUY, D("0.50"), D("10")).best_bid == D("0.48")
    shared = view.without_own(Side.BUY, D("0.50"), D("4"))
    assert shared.bids[0] == Level(D("0.50"), D("6"))
    assert view.without_own(Side.SELL, D("0.55"), D("7")).best_ask is None


def test_slot_place_accept_cancel_confirm() -> None:
    slot = OrderSlot()
    ref = slot.place(0, Side.BUY, D("0.5"), D("10"), OrderIntent.BUY_DIP)
    assert not slot.idle and slot.status == SlotStatus.PLACING
    with pytest.raises(RuntimeError):
        slot.place(0, Side.BUY, D("0.5"), D("10"), OrderIntent.BUY_DIP)
    slot.accepted(1, ref, "0xa")
    assert slot.cancel(2) == CancelOrder("0xa")
    assert slot.cancel(2) is None  # only once
    assert slot.gone("0xa") and slot.idle


def test_slot_escalates_unanswered_requests_to_a_sweep() -> None:
    slot = OrderSlot()
    ref = slot.place(0, Side.SELL, D("0.5"), D("10"), OrderIntent.TAKE_PROFIT)
    assert slot.timeouts(29_999, 30_000, 15_000) == []
    assert slot.timeouts(30_000, 30_000, 15_000) == [CancelAll(), ReconcileFills()]
    assert not slot.all_canceled(1)
    assert slot.all_canceled(0) and slot.idle
    late = slot.accepted(40_000, ref, "0xlate")
    assert late is not None and late.order_id == "0xlate"
    assert not slot.idle  # the stray must be cancelled first
    slot.gone("0xlate")
    assert slot.idle
