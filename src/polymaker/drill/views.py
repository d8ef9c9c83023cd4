"""Frozen request, result and view objects of the drill matching engine (the public API shapes).

Field names follow the venue's wire names (polymarket_api.md 3.3, 3.4, 4.2 and the fixture
``clob_data_trades_item_2024-09.json``) so the drill server can serialise them one to one; every
amount is a ``Decimal`` and every price is in the terms of the view's own token (``asset_id``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

Side = Literal["BUY", "SELL"]
OrderType = Literal["GTC", "GTD", "FOK", "FAK"]
PlaceStatus = Literal["live", "matched", "unmatched", "delayed"]
TradeStatus = Literal["MATCHED", "MINED", "CONFIRMED", "FAILED"]
Outcome = Literal["Yes", "No"]

ZERO = Decimal(0)


@dataclass(frozen=True)
class MarketSpec:
    """One binary market: its two complementary tokens and trading rules.

    ``fee_rate``/``fee_exponent`` are the venue's per-market taker fee schedule
    (``fee = shares * rate * (p * (1 - p)) ** exponent``, polymarket_api.md 7); the default rate 0
    means no fees. ``accepting_orders=False`` models a market that is listed but not yet open
    (orders are refused with the venue's "not yet ready" message).
    """

    condition_id: str
    yes_token: str
    no_token: str
    tick_size: Decimal
    min_order_size: Decimal
    neg_risk: bool
    fee_rate: Decimal = ZERO
    fee_exponent: Decimal = Decimal(1)
    accepting_orders: bool = True


@dataclass(frozen=True)
class OrderRequest:
    """A decoded, authenticated order as the engine sees it.

    ``owner`` is the API key (user-channel routing), ``maker_address`` the account that pays and
    receives; ``size`` is in shares, ``price`` in the terms of ``token_id``; ``expiration`` is unix
    seconds (0 = none, only meaningful for GTD).
    """

    order_id: str
    owner: str
    maker_address: str
    token_id: str
    side: Side
    price: Decimal
    size: Decimal
    order_type: OrderType
    post_only: bool
    expiration: int


@dataclass(frozen=True)
class PlaceResult:
    """Outcome of ``MatchingEngine.place`` in the shape of the venue's ``POST /order`` reply.

    On refusal ``success`` is False, ``error`` holds the venue message and ``status`` is
    ``"unmatched"``. Amounts cover what matched during placement, gross of the taker fee: a BUY
    makes pUSD and takes shares, a SELL makes shares and takes pUSD.
    """

    success: bool
    error: str
    order_id: str
    status: PlaceStatus
    making_amount: Decimal
    taking_amount: Decimal
    trade_ids: list[str]


@dataclass(frozen=True)
class CancelResult:
    """Outcome of a cancel call, as the venue's ``{"canceled": [...], "not_canceled": {...}}``."""

    canceled: list[str]
    not_canceled: dict[str, str]


@dataclass(frozen=True)
class OrderView:
    """An order as ``GET /data/orders`` and the user channel's ``order`` event show it.

    ``created_at`` and ``expiration`` are unix seconds; ``associate_trades`` are trade ids.
    """

    id: str
    status: str
    owner: str
    maker_address: str
    market: str
    asset_id: str
    side: Side
    original_size: Decimal
    size_matched: Decimal
    price: Decimal
    outcome: Outcome
    order_type: OrderType
    created_at: int
    expiration: int
    associate_trades: tuple[str, ...]


@dataclass(frozen=True)
class BookView:
    """One token's order book: bids ascending and asks descending, so the best level is LAST.

    ``timestamp_ms`` is the engine time of the last change to this market's book.
    """

    market: str
    asset_id: str
    bids: tuple[tuple[Decimal, Decimal], ...]
    asks: tuple[tuple[Decimal, Decimal], ...]
    tick_size: Decimal
    min_order_size: Decimal
    neg_risk: bool
    last_trade_price: Decimal | None
    timestamp_ms: int


@dataclass(frozen=True)
class MakerFill:
    """One resting order's part of a trade (an entry of the venue's ``maker_orders``).

    ``price`` is the maker's own price in its own token, which may be the complement of the
    taker's token (then ``price == 1 - trade.price``).
    """

    order_id: str
    owner: str
    maker_address: str
    matched_amount: Decimal
    price: Decimal
    asset_id: str
    outcome: Outcome
    side: Side


@dataclass(frozen=True)
class TradeView:
    """A trade as ``GET /data/trades`` and the user channel's ``trade`` event show it.

    One trade is one taker order against one price level. The top-level fields describe the
    taker (``maker_address`` is the taker's address, as on the venue); ``trader_side`` is
    "TAKER" unless the view was made for a maker (see ``for_viewer``). ``match_time`` and
    ``last_update`` are unix seconds. ``transaction_hash`` is "" until the trade is MINED.
    ``fee`` is what the taker paid (shares on a BUY, pUSD on a SELL).
    """

    id: str
    taker_order_id: str
    market: str
    asset_id: str
    side: Side
    size: Decimal
    price: Decimal
    status: TradeStatus
    match_time: int
    last_update: int
    outcome: Outcome
    owner: str
    maker_address: str
    trader_side: Literal["TAKER", "MAKER"]
    maker_orders: tuple[MakerFill, ...]
    fee_rate_bps: Decimal
    transaction_hash: str
    fee: Decimal = ZERO

    def for_viewer(self, *, owner: str | None = None, address: str | None = None) -> TradeView:
        """Return this trade with ``trader_side`` as seen by one participant (API key or address).

        The taker sees "TAKER"; anyone who appears only among the makers sees "MAKER".
        """
        is_taker = (owner is not None and owner == self.owner) or (
            address is not None and address.lower() == self.maker_address
        )
        side: Literal["TAKER", "MAKER"] = "TAKER" if is_taker else "MAKER"
        if side == self.trader_side:
            return self
        return dataclasses.replace(self, trader_side=side)
