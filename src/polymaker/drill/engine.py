"""The drill exchange's matching engine: pure, deterministic, time passed in as ``now_ms``.

One YES-denominated book per market (condition id) holds both tokens' orders: BUY NO at p is a
YES ask at 1-p, SELL NO at p a YES bid at 1-p; ``book(token)`` presents each token's view.
Matching is price-time priority with partial fills at the maker's price; GTC rests, GTD rests
until ``expiration`` (unix s), FOK is all-or-nothing, FAK fills what it can; post-only orders
that would cross are refused. Refusals use the venue's messages (polymarket_api.md 3.7).

Ledger choices (documented because the venue settles on chain and we do not):
- A BUY reserves ``price * size`` pUSD, a SELL reserves ``size`` settled shares, until filled or
  cancelled. Pay-in of a BUY and the proceeds of a SELL move at match time, so sale proceeds are
  spendable immediately; bought shares are unsettled until the trade is CONFIRMED.
- Trades go MATCHED at match, MINED at ``match + settle_delays_ms[0]`` and CONFIRMED at
  ``match + max(settle_delays_ms)`` (both delays count from the match).
- ``fail_trade`` (fault injection) marks a MATCHED or MINED trade FAILED and reverses its cash
  and share movements, fees included. Orders keep their ``size_matched`` (the liquidity was
  consumed, as on the venue). If a seller already spent the proceeds, its open BUYs are
  cancelled (CANCELED_NOT_ENOUGH_BALANCE) to cover the shortfall, and if that is not enough its
  balance goes negative: a debt that blocks new BUYs until funded.
- Taker fees (``MarketSpec.fee_rate``/``fee_exponent``) go to ``ledger.FEE_ADDRESS``: shares on
  a BUY, pUSD on a SELL. Makers pay nothing.

Events: every event any call causes is queued for ``drain_events()`` (the server's fan-out
source). ``advance``, ``set_tick_size``, ``close_market`` and ``fail_trade`` also return the
events they caused; those are the same objects as in the queue, so fan out from one source only.
``place`` and ``cancel*`` also settle trades and expire GTD orders that are due at ``now_ms``
before acting, so the book never trades an expired order.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from polymaker.drill import _rules
from polymaker.drill._core import MARKET_RESOLVED, EngineCore, order_view, refused
from polymaker.drill._market import Market
from polymaker.drill._trades import reverse_legs
from polymaker.drill.events import (
    BookChanged,
    Event,
    LevelChange,
    MarketClosed,
    OrderUpdate,
    TickSizeChanged,
    TradePrinted,
    TradeUpdate,
)
from polymaker.drill.ledger import FEE_ADDRESS, Ledger
from polymaker.drill.views import (
    BookView,
    CancelResult,
    MakerFill,
    MarketSpec,
    OrderRequest,
    OrderView,
    PlaceResult,
    TradeView,
)

__all__ = [
    "FEE_ADDRESS",
    "BookChanged",
    "BookView",
    "CancelResult",
    "Event",
    "Ledger",
    "LevelChange",
    "MakerFill",
    "MarketClosed",
    "MarketSpec",
    "MatchingEngine",
    "OrderRequest",
    "OrderUpdate",
    "OrderView",
    "PlaceResult",
    "TickSizeChanged",
    "TradePrinted",
    "TradeUpdate",
    "TradeView",
]


class MatchingEngine(EngineCore):
    """All drill markets' books, orders and trades over one ``Ledger`` (see module docstring).

    ``MatchingEngine(ledger, *, settle_delays_ms=(1000, 2000))``.
    """

    # ----- markets -------------------------------------------------------------------------
    def add_market(self, spec: MarketSpec) -> None:
        """Register a market; ValueError if its condition id or a token is already known."""
        if spec.condition_id in self._markets:
            raise ValueError(f"market {spec.condition_id} already exists")
        if spec.yes_token in self._by_token or spec.no_token in self._by_token:
            raise ValueError(f"a token of market {spec.condition_id} is already listed")
        if spec.yes_token == spec.no_token or spec.tick_size <= 0:
            raise ValueError(f"invalid market spec {spec}")
        market = Market(spec)
        self._markets[spec.condition_id] = market
        self._by_token[spec.yes_token] = market
        self._by_token[spec.no_token] = market

    def market(self, condition_id: str) -> MarketSpec:
        """The current spec of a market (with its current tick size); KeyError if unknown."""
        return self._markets[condition_id].spec

    def market_of_token(self, token_id: str) -> MarketSpec:
        """The current spec of the market that lists ``token_id``; KeyError if unknown."""
        return self._by_token[token_id].spec

    def set_tick_size(self, condition_id: str, tick: Decimal, now_ms: int) -> list[Event]:
        """Change a market's tick; resting orders stay, new orders must be on the new grid."""
        if tick <= 0 or tick >= 1:
            raise ValueError(f"invalid tick size {tick}")
        market = self._markets[condition_id]
        old = market.spec.tick_size
        market.spec = dataclasses.replace(market.spec, tick_size=tick)
        start = len(self._events)
        for token in (market.spec.yes_token, market.spec.no_token):
            self._events.append(TickSizeChanged(condition_id, token, old, tick, now_ms))
        return self._events[start:]

    def close_market(self, condition_id: str, now_ms: int) -> list[Event]:
        """Close a market: cancel its orders (CANCELED_MARKET_RESOLVED), refuse new ones."""
        market = self._markets[condition_id]
        start = len(self._events)
        self._catch_up(now_ms)
        for order in sorted(market.book.orders(), key=lambda o: o.seq):
            self._cancel_order(order, MARKET_RESOLVED, now_ms)
        self._flush_book(market, now_ms)
        market.closed = True
        self._events.append(MarketClosed(condition_id, now_ms))
        return self._events[start:]

    # ----- orders --------------------------------------------------------------------------
    def place(self, req: OrderRequest, now_ms: int) -> PlaceResult:
        """Admit, match and (GTC/GTD) rest one order; refusals come back as values."""
        self._catch_up(now_ms)
        market = self._by_token.get(req.token_id)
        if market is None:
            return refused(req.order_id, _rules.token_not_found(req.token_id))
        if req.order_id in self._orders:
            return refused(req.order_id, _rules.duplicated(req.order_id))
        account = self.ledger.ensure(req.maker_address)
        error = _rules.static_refusal(req, market.spec, market.closed, account, now_ms)
        if error:
            return refused(req.order_id, error)
        order = self._new_order(req, market, now_ms)
        if not self._reserve(account, order):
            return refused(req.order_id, _rules.NOT_ENOUGH_BALANCE)
        if req.post_only and market.crosses(order):
            self._release_all(order)
            return refused(req.order_id, _rules.POST_ONLY_CROSSES)
        if req.order_type == "FOK" and not market.fillable(order):
            return self._kill(order, _rules.FOK_KILLED, now_ms)
        trades, makers = market.match(order, self.ledger, self._next_trade_id, now_ms)
        if not trades and req.order_type == "FAK":
            return self._kill(order, _rules.FAK_KILLED, now_ms)
        self._orders[order.order_id] = order
        if order.remaining == 0 or req.order_type in ("FOK", "FAK"):
            self._release_all(order)
            order.status = "MATCHED"
        else:
            self._rest(market, order)
        self._emit_placement(market, order, trades, makers, now_ms)
        return self._accepted(order, trades)

    def cancel(self, order_id: str, maker_address: str, now_ms: int) -> CancelResult:
        """Cancel one open order of ``maker_address`` (someone else's order counts as unknown)."""
        self._catch_up(now_ms)
        order = self._open.get(order_id)
        if order is None or order.address != maker_address.lower():
            return CancelResult([], {order_id: _rules.CANCEL_NOT_FOUND})
        self._cancel_order(order, "CANCELED", now_ms)
        self._flush_book(self._markets[order.condition_id], now_ms)
        return CancelResult([order_id], {})

    def cancel_where(
        self,
        maker_address: str,
        now_ms: int,
        *,
        condition_id: str | None = None,
        token_id: str | None = None,
    ) -> CancelResult:
        """Cancel every open order of ``maker_address``, optionally only one market or token."""
        self._catch_up(now_ms)
        victims = self._filter_open(maker_address.lower(), condition_id, token_id, None)
        markets: dict[str, Market] = {}
        for order in victims:
            self._cancel_order(order, "CANCELED", now_ms)
            markets[order.condition_id] = self._markets[order.condition_id]
        for market in markets.values():
            self._flush_book(market, now_ms)
        return CancelResult([o.order_id for o in victims], {})

    def fail_trade(self, trade_id: str, now_ms: int) -> list[Event]:
        """Mark a MATCHED/MINED trade FAILED and reverse its movements (see module docstring).

        KeyError if unknown; ValueError if it is already CONFIRMED or FAILED.
        """
        record = self._trades[trade_id]
        if record.status not in ("MATCHED", "MINED"):
            raise ValueError(f"trade {trade_id} is {record.status}, it can no longer fail")
        start = len(self._events)
        reverse_legs(self.ledger, record.legs)
        record.status = "FAILED"
        record.last_update_ms = now_ms
        self._events.append(TradeUpdate(record.owners, record.view(), now_ms))
        for address in dict.fromkeys(leg.address for leg in record.legs):
            self._cover_shortfall(self.ledger.ensure(address), now_ms)
        return self._events[start:]

    # ----- queries -------------------------------------------------------------------------
    def open_orders(
        self,
        *,
        maker_address: str | None = None,
        condition_id: str | None = None,
        token_id: str | None = None,
        order_id: str | None = None,
    ) -> list[OrderView]:
        """Open (LIVE) orders matching every given filter, oldest first."""
        address = None if maker_address is None else maker_address.lower()
        orders = self._filter_open(address, condition_id, token_id, order_id)
        return [order_view(o) for o in orders]

    def order(self, order_id: str) -> OrderView | None:
        """Any accepted order by id, whatever its status (None if never accepted)."""
        order = self._orders.get(order_id)
        return None if order is None else order_view(order)

    def book(self, token_id: str) -> BookView:
        """One token's book: bids ascending, asks descending (best LAST); KeyError if unknown."""
        return self._by_token[token_id].book_view(token_id)

    def trades(
        self,
        *,
        address: str | None = None,
        condition_id: str | None = None,
        trade_id: str | None = None,
    ) -> list[TradeView]:
        """Trades matching every given filter, in match order.

        With ``address`` the trades it took part in, each with ``trader_side`` as it sees it.
        """
        if trade_id is not None:
            found = self._trades.get(trade_id)
            records = [] if found is None else [found]
        elif address is not None:
            records = [self._trades[t] for t in self._trades_by_address.get(address.lower(), [])]
        else:
            records = list(self._trades.values())
        if address is not None:
            key = address.lower()
            records = [r for r in records if key in r.addresses]
        if condition_id is not None:
            records = [r for r in records if r.condition_id == condition_id]
        views = [r.view() for r in records]
        if address is not None:
            views = [v.for_viewer(address=address) for v in views]
        return views

    def advance(self, now_ms: int) -> list[Event]:
        """Move settlement and GTD expiry up to ``now_ms``; returns the events that caused."""
        start = len(self._events)
        self._catch_up(now_ms)
        return self._events[start:]

    def drain_events(self) -> list[Event]:
        """Every event since the last drain, in order; the queue is cleared."""
        events, self._events = self._events, []
        return events
