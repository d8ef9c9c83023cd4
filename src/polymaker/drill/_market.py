"""One market's book, matching pass and per-token views (internal).

Matching walks the opposite side of the YES book from the best price while it crosses the
taker's limit, FIFO inside each level, and executes every fill at the resting (maker) order's
price. Each price level the taker reaches becomes one trade (``_trades.TradeRecord``) whose
ledger legs are applied immediately; the engine owns indexing, settlement scheduling and events.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Literal

from polymaker.drill._book import RestingOrder, YesBook
from polymaker.drill._trades import Leg, TradeRecord, apply_legs, fee_leg, taker_fee
from polymaker.drill.events import BookChanged, LevelChange
from polymaker.drill.ledger import Ledger
from polymaker.drill.views import BookView, MakerFill, MarketSpec

_ZERO = Decimal(0)
_BPS = Decimal(10000)


class Market:
    """The engine's state of one market: spec, YES book, closed flag, last trade price."""

    def __init__(self, spec: MarketSpec) -> None:
        self.spec = spec
        self.book = YesBook()
        self.closed = False
        self.last_yes_price: Decimal | None = None
        self.updated_ms = 0

    def crosses(self, order: RestingOrder) -> bool:
        """True if ``order`` would trade on arrival (post-only check)."""
        best = self.book.best_ask() if order.is_bid else self.book.best_bid()
        if best is None:
            return False
        return best <= order.yes_price if order.is_bid else best >= order.yes_price

    def fillable(self, order: RestingOrder) -> bool:
        """True if the crossing liquidity covers all of ``order`` (FOK check)."""
        needed = order.remaining
        opposite = not order.is_bid
        for price in self.book.crossing_prices(order.is_bid, order.yes_price):
            needed -= self.book.depth(opposite, price)
            if needed <= 0:
                return True
        return False

    def match(
        self, order: RestingOrder, ledger: Ledger, new_trade_id: Callable[[], str], now_ms: int
    ) -> tuple[list[TradeRecord], list[RestingOrder]]:
        """Trade ``order`` against the book; returns its trades and the makers it touched.

        Fully filled makers leave the book with status MATCHED; the caller removes them from
        its indexes. ``order`` itself is not in the book.
        """
        book = self.book
        opposite = not order.is_bid
        trades: list[TradeRecord] = []
        makers: dict[str, RestingOrder] = {}
        for price in book.crossing_prices(order.is_bid, order.yes_price):
            fills: list[tuple[RestingOrder, Decimal]] = []
            while order.remaining > 0 and book.depth(opposite, price) > 0:
                qty = min(order.remaining, book.front(opposite, price).remaining)
                maker = book.reduce_front(opposite, price, qty)
                order.matched += qty
                if maker.remaining == 0:
                    maker.status = "MATCHED"
                fills.append((maker, qty))
                makers[maker.order_id] = maker
            trades.append(self._trade(order, price, fills, ledger, new_trade_id(), now_ms))
            self.last_yes_price = price
            if order.remaining == 0:
                break
        return trades, list(makers.values())

    def _trade(
        self,
        taker: RestingOrder,
        yes_price: Decimal,
        fills: list[tuple[RestingOrder, Decimal]],
        ledger: Ledger,
        trade_id: str,
        now_ms: int,
    ) -> TradeRecord:
        """Book one price level's fills as one trade: release reservations, apply legs."""
        spec = self.spec
        size = sum((qty for _, qty in fills), _ZERO)
        price = yes_price if taker.outcome == "Yes" else 1 - yes_price
        fee = taker_fee(size, price, spec.fee_rate, spec.fee_exponent)
        legs: list[Leg] = []
        if taker.side == "BUY":
            _release(ledger, taker, taker.price * size)
            legs.append(Leg(taker.address, taker.token_id, "BUY", size - fee, price * size))
        else:
            fee = min(fee, price * size)
            _release(ledger, taker, size)
            legs.append(Leg(taker.address, taker.token_id, "SELL", size, price * size - fee))
        if fee:
            legs.append(fee_leg(taker.token_id, taker.side, fee))
        maker_fills = []
        for maker, qty in fills:
            _release(ledger, maker, maker.price * qty if maker.side == "BUY" else qty)
            legs.append(Leg(maker.address, maker.token_id, maker.side, qty, maker.price * qty))
            maker_fills.append(_maker_fill(maker, qty))
            maker.trade_ids.append(trade_id)
        taker.trade_ids.append(trade_id)
        apply_legs(ledger, legs)
        owners = dict.fromkeys([taker.owner, *(m.owner for m, _ in fills)])
        addresses = dict.fromkeys([taker.address, *(m.address for m, _ in fills)])
        return TradeRecord(
            trade_id=trade_id,
            taker_order_id=taker.order_id,
            condition_id=spec.condition_id,
            asset_id=taker.token_id,
            side=taker.side,
            size=size,
            price=price,
            outcome=taker.outcome,
            owner=taker.owner,
            taker_address=taker.address,
            makers=tuple(maker_fills),
            fee_rate_bps=spec.fee_rate * _BPS,
            fee=fee,
            match_ms=now_ms,
            legs=legs,
            last_update_ms=now_ms,
            owners=tuple(owners),
            addresses=tuple(addresses),
        )

    def book_view(self, token_id: str) -> BookView:
        """The per-token book; the NO book mirrors the YES book (NO bid p == YES ask 1-p)."""
        spec = self.spec
        bids = self.book.levels(True)
        asks = self.book.levels(False)
        if token_id == spec.yes_token:
            token_bids = tuple(bids)
            token_asks = tuple(reversed(asks))
            last = self.last_yes_price
        else:
            token_bids = tuple((1 - p, s) for p, s in reversed(asks))
            token_asks = tuple((1 - p, s) for p, s in bids)
            last = None if self.last_yes_price is None else 1 - self.last_yes_price
        return BookView(
            market=spec.condition_id,
            asset_id=token_id,
            bids=token_bids,
            asks=token_asks,
            tick_size=spec.tick_size,
            min_order_size=spec.min_order_size,
            neg_risk=spec.neg_risk,
            last_trade_price=last,
            timestamp_ms=self.updated_ms,
        )

    def best_prices(self) -> tuple[Decimal | None, Decimal | None, Decimal | None, Decimal | None]:
        """``(yes_bid, yes_ask, no_bid, no_ask)`` right now."""
        bid, ask = self.book.best_bid(), self.book.best_ask()
        no_bid = None if ask is None else 1 - ask
        no_ask = None if bid is None else 1 - bid
        return bid, ask, no_bid, no_ask

    def take_book_changed(self, now_ms: int, *, with_books: bool) -> BookChanged | None:
        """One ``BookChanged`` for every level touched since the last call, both tokens.

        with_books: also capture both books as they are now (for the operation's hash).
        """
        touched = self.book.take_touched()
        if not touched:
            return None
        self.updated_ms = now_ms
        spec = self.spec
        yes_bid, yes_ask, no_bid, no_ask = self.best_prices()
        changes = []
        for is_bid, price, size in touched:
            yes_side: Literal["BUY", "SELL"] = "BUY" if is_bid else "SELL"
            no_side: Literal["BUY", "SELL"] = "SELL" if is_bid else "BUY"
            changes.append(LevelChange(spec.yes_token, price, size, yes_side, yes_bid, yes_ask))
            changes.append(LevelChange(spec.no_token, 1 - price, size, no_side, no_bid, no_ask))
        books = (
            (self.book_view(spec.yes_token), self.book_view(spec.no_token)) if with_books else ()
        )
        return BookChanged(spec.condition_id, tuple(changes), now_ms, books)


def _release(ledger: Ledger, order: RestingOrder, amount: Decimal) -> None:
    """Free ``amount`` of what ``order`` holds: pUSD for a BUY, shares for a SELL."""
    account = ledger.ensure(order.address)
    if order.side == "BUY":
        account.release_cash(amount)
    else:
        account.release_shares(order.token_id, amount)
    order.reserved -= amount


def _maker_fill(maker: RestingOrder, qty: Decimal) -> MakerFill:
    return MakerFill(
        order_id=maker.order_id,
        owner=maker.owner,
        maker_address=maker.address,
        matched_amount=qty,
        price=maker.price,
        asset_id=maker.token_id,
        outcome=maker.outcome,
        side=maker.side,
    )
