"""Venue payloads parsed at the edge into frozen typed objects (Decimal money, UTC times).

One module per payload family: ``book`` (REST/WS order books), ``market_events`` (market
channel), ``user_events`` (user channel), ``orders``/``trades`` (REST account listings and our
fills), ``markets`` (CLOB market metadata). Code past this package never sees a ``dict``.
"""

from polymaker.exchange.wire._decode import UnparsedEvent
from polymaker.exchange.wire._fields import Side, WireError
from polymaker.exchange.wire.book import OrderBookSnapshot, PriceLevel, parse_book, parse_books
from polymaker.exchange.wire.market_events import (
    BestBidAsk,
    LastTradePrice,
    LevelChange,
    MarketEvent,
    MarketResolved,
    NewMarket,
    PriceChange,
    TickSizeChange,
    decode_market_event,
    decode_market_frame,
)
from polymaker.exchange.wire.markets import ClobMarket, MarketToken, parse_clob_market
from polymaker.exchange.wire.orders import (
    Order,
    OrdersPage,
    OrderStatus,
    TradesPage,
    parse_order,
    parse_orders_page,
    parse_trades_page,
)
from polymaker.exchange.wire.trades import (
    AccountIdentity,
    Fill,
    MakerOrderMatch,
    Role,
    Trade,
    TradeStatus,
    parse_trade,
)
from polymaker.exchange.wire.user_events import (
    OrderEvent,
    OrderEventKind,
    TradeEvent,
    UserDecoder,
    UserEvent,
)

__all__ = [
    "AccountIdentity",
    "BestBidAsk",
    "ClobMarket",
    "Fill",
    "LastTradePrice",
    "LevelChange",
    "MakerOrderMatch",
    "MarketEvent",
    "MarketResolved",
    "MarketToken",
    "NewMarket",
    "Order",
    "OrderBookSnapshot",
    "OrderEvent",
    "OrderEventKind",
    "OrderStatus",
    "OrdersPage",
    "PriceChange",
    "PriceLevel",
    "Role",
    "Side",
    "TickSizeChange",
    "Trade",
    "TradeEvent",
    "TradeStatus",
    "TradesPage",
    "UnparsedEvent",
    "UserDecoder",
    "UserEvent",
    "WireError",
    "decode_market_event",
    "decode_market_frame",
    "parse_book",
    "parse_books",
    "parse_clob_market",
    "parse_order",
    "parse_orders_page",
    "parse_trade",
    "parse_trades_page",
]
