"""Start-up checks of a worker: is the market tradable, and do we already hold our token?

Both run before the strategy sees its first event: a market that cannot trade exits 3 before
any order, and a position left by an earlier run (a crash, a restart) is handed over as
``PositionAdopted`` so the strategy goes straight to selling it.
"""

from __future__ import annotations

import logging

from polymaker.config.worker_params import WorkerParams
from polymaker.errors import ExchangeError, MarketNotTradable
from polymaker.exchange.gateway import OrderGateway
from polymaker.exchange.http import JsonHttp
from polymaker.exchange.market_feed import fetch_book
from polymaker.exchange.wire import ClobMarket
from polymaker.strategy.events import PositionAdopted
from polymaker.worker.reconcile import Reconciler

log = logging.getLogger(__name__)


async def check_tradable(trading: OrderGateway, params: WorkerParams) -> ClobMarket:
    """The market's CLOB record; raises MarketNotTradable (exit 3) when it cannot trade.

    Tokens that do not belong to the market are also a MarketNotTradable: the params point at
    something else, and retrying would not help.
    """
    info = await trading.market_info(params.condition_id)
    tokens = {token.token_id for token in info.tokens}
    if not {params.yes_token, params.no_token} <= tokens:
        raise MarketNotTradable(
            f"market {info.condition_id} does not list tokens {params.yes_token} and "
            f"{params.no_token}: check condition_id/yes_token/no_token in the params"
        )
    if not info.is_tradable:
        raise MarketNotTradable(
            f"market {info.condition_id} is not tradable (active={info.active}, "
            f"closed={info.closed}, accepting_orders={info.accepting_orders})"
        )
    if info.tick_size != params.tick_size:
        log.info("tick size is %s at the exchange (params: %s)", info.tick_size, params.tick_size)
    return info


async def adopted_position(
    reconciler: Reconciler, book_http: JsonHttp, params: WorkerParams, ts_ms: int
) -> PositionAdopted | None:
    """The held position of our token (balance + average entry of our trades), if any.

    Without buy trades on record (shares that came from elsewhere) the entry is taken as the
    current best bid, read over REST; without that either, nothing is adopted and the shares
    are left alone (logged).
    """
    holding = await reconciler.holding()
    if holding.size <= 0:
        return None
    entry = holding.avg_entry
    if entry is None:
        try:
            book = await fetch_book(book_http, params.exchange.clob_url, params.token_id)
        except ExchangeError as error:
            log.warning("cannot read the book for an entry price: %s", error)
        else:
            entry = book.best_bid.price if book.best_bid is not None else None
        log.warning("held %s shares without buy trades; entry taken as %s", holding.size, entry)
    if entry is None:
        log.warning("held %s shares with no known entry price: not adopted", holding.size)
        return None
    log.info("adopting a position of %s shares at an average entry of %s", holding.size, entry)
    return PositionAdopted(ts_ms, size=holding.size, avg_entry=entry)


__all__ = ["adopted_position", "check_tradable"]
