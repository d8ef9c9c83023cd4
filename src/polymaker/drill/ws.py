"""WebSocket market and user channels, with one-encode fan-out.

Each engine event becomes at most one frame per channel audience: the frame is encoded once
(orjson) and framed once (a server-to-client WebSocket text frame is unmasked, and
permessage-deflate is off), and the same bytes are written to every subscriber's transport.
Writes are synchronous, so frame order per connection is the publish order; a subscriber whose
unsent buffer passes ``_MAX_BUFFER`` bytes is disconnected as a slow consumer.

Market channel (``/ws/market``): ``{"type": "market", "assets_ids": [...]}`` then
``{"operation": "subscribe"|"unsubscribe", "assets_ids": [...]}``; a subscribe answers with a
JSON array of ``book`` snapshots; then batched ``price_change``, ``last_trade_price`` and
``tick_size_change`` frames. User channel (``/ws/user``): ``{"type": "user", "auth": {apiKey,
secret, passphrase}, "markets": [...]}`` (no markets = all); ``order`` and ``trade`` events of
that API key. Both answer the text ``PING`` with ``PONG``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import WSMsgType, web

from polymaker.drill.events import (
    BookChanged,
    Event,
    OrderUpdate,
    TickSizeChanged,
    TradePrinted,
    TradeUpdate,
)
from polymaker.drill.routes_common import (
    book_payload,
    fmt,
    new_market_event,
    order_event,
    trade_event,
)

log = logging.getLogger("polymaker.drill.ws")
_MAX_BUFFER = 8 * 1024 * 1024


@dataclass(eq=False)
class _Conn:
    ws: web.WebSocketResponse
    channel: str
    opened_ms: int
    transport: asyncio.Transport | None = None
    assets: set[str] = field(default_factory=set)
    owner: str | None = None
    markets: set[str] | None = None  # user channel: None = all markets
    custom_features: bool = False  # market channel: asked for new_market (and the like)

    def push(self, text: str) -> None:
        """Send one text message (framed here; see :func:`text_frame`)."""
        self.send(text_frame(text.encode()))

    def send(self, frame: bytes) -> None:
        """Write an already framed message; drop the connection if it cannot keep up."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if transport.get_write_buffer_size() > _MAX_BUFFER:
            log.warning(
                "dropping a slow WebSocket subscriber (%d bytes unsent)",
                transport.get_write_buffer_size(),
            )
            transport.abort()
            return
        transport.write(frame)


def text_frame(payload: bytes) -> bytes:
    """One final, unmasked text frame (RFC 6455 5.2) carrying ``payload``."""
    size = len(payload)
    if size < 126:
        header = bytes((0x81, size))
    elif size < 1 << 16:
        header = bytes((0x81, 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((0x81, 127)) + size.to_bytes(8, "big")
    return header + payload


def ws_book_frame(payload: dict[str, Any]) -> dict[str, Any]:
    """A REST book payload as the market channel's ``book`` event (fixture ws_market_book)."""
    return {
        "market": payload["market"],
        "asset_id": payload["asset_id"],
        "timestamp": payload["timestamp"],
        "hash": payload["hash"],
        "bids": payload["bids"],
        "asks": payload["asks"],
        "tick_size": payload["tick_size"],
        "event_type": "book",
        "last_trade_price": payload["last_trade_price"],
    }


class WsHub:
    """Subscriptions of both channels and the event -> frame fan-out."""

    def __init__(self, venue: Any) -> None:
        self.venue = venue
        self.conns: set[_Conn] = set()
        self.by_asset: dict[str, set[_Conn]] = defaultdict(set)
        self.by_owner: dict[str, set[_Conn]] = defaultdict(set)
        self.frames_sent = 0

    # ----- fan-out ---------------------------------------------------------------------
    def publish(self, events: list[Event]) -> None:
        """Turn engine events into frames and queue them to their subscribers."""
        silent = self.venue.faults.ws_silent(self.venue.now_ms())
        for event in events:
            if isinstance(event, OrderUpdate):
                frame = order_event(event.kind, event.order, event.timestamp_ms)
                self._to_owner(event.owner, event.order.market, frame)
            elif isinstance(event, TradeUpdate):
                for owner in event.owners:
                    frame = trade_event(event.trade, owner, event.timestamp_ms)
                    self._to_owner(owner, event.trade.market, frame)
            elif silent:
                continue
            elif isinstance(event, BookChanged):
                self._price_change(event)
            elif isinstance(event, TradePrinted):
                self._trade_prints(event)
            elif isinstance(event, TickSizeChanged):
                self._to_assets(
                    [event.asset_id],
                    {
                        "asset_id": event.asset_id,
                        "event_type": "tick_size_change",
                        "market": event.condition_id,
                        "new_tick_size": fmt(event.new),
                        "old_tick_size": fmt(event.old),
                        "timestamp": str(event.timestamp_ms),
                    },
                )

    def _trade_prints(self, event: TradePrinted) -> None:
        """One ``last_trade_price`` per token: the taker's, and its complement (1 - p)."""
        market = self.venue.universe.by_token(event.asset_id)
        other = market.no_token if event.asset_id == market.yes_token else market.yes_token
        flipped = "SELL" if event.side == "BUY" else "BUY"
        for asset, price, side in (
            (event.asset_id, event.price, event.side),
            (other, 1 - event.price, flipped),
        ):
            self._to_assets(
                [asset],
                {
                    "asset_id": asset,
                    "event_type": "last_trade_price",
                    "fee_rate_bps": "0",
                    "market": event.condition_id,
                    "price": fmt(price),
                    "side": side,
                    "size": fmt(event.size),
                    "timestamp": str(event.timestamp_ms),
                },
            )

    def watches(self, condition_id: str) -> bool:
        """True when a market connection subscribes to either token of the market.

        The engine asks at each operation; a subscriber only ever gets operations made while
        it was subscribed (``subscribe_assets`` flushes first), so the books are there.
        """
        market = self.venue.universe.by_condition(condition_id)
        return bool(self.by_asset.get(market.yes_token) or self.by_asset.get(market.no_token))

    def _price_change(self, event: BookChanged) -> None:
        """One ``price_change`` frame per operation, its entries stamped with the hash of the
        book right after that operation (the real venue's per-operation hash)."""
        assets = list(dict.fromkeys(c.asset_id for c in event.changes))
        if not any(self.by_asset.get(a) for a in assets):
            return
        books = event.books or tuple(self.venue.engine.book(a) for a in assets)  # see watches
        hashes = {book.asset_id: book_payload(book)["hash"] for book in books}
        self._to_assets(
            assets,
            {
                "market": event.condition_id,
                "price_changes": [
                    {
                        "asset_id": c.asset_id,
                        "price": fmt(c.price),
                        "size": fmt(c.size),
                        "side": c.side,
                        "hash": hashes[c.asset_id],
                        "best_bid": fmt(c.best_bid),
                        "best_ask": fmt(c.best_ask),
                    }
                    for c in event.changes
                ],
                "timestamp": str(event.timestamp_ms),
                "event_type": "price_change",
            },
        )

    def announce_market(self, market: Any, timestamp_ms: int) -> None:
        """``new_market`` to every market connection that enabled the custom features, whatever
        tokens it watches (how the venue announces listings)."""
        targets = [c for c in self.conns if c.channel == "market" and c.custom_features]
        if targets:
            framed = text_frame(orjson.dumps(new_market_event(market, timestamp_ms)))
            for conn in targets:
                conn.send(framed)
            self.frames_sent += len(targets)

    def _to_assets(self, assets: list[str], frame: dict[str, Any]) -> None:
        targets: set[_Conn] = set()
        for asset in assets:
            targets |= self.by_asset.get(asset, set())
        if targets:
            framed = text_frame(orjson.dumps(frame))
            for conn in targets:
                conn.send(framed)
            self.frames_sent += len(targets)

    def _to_owner(self, owner: str, market: str, frame: dict[str, Any]) -> None:
        targets = [
            c for c in self.by_owner.get(owner, ()) if c.markets is None or market in c.markets
        ]
        if targets:
            framed = text_frame(orjson.dumps(frame))
            for conn in targets:
                conn.send(framed)

    # ----- subscriptions ---------------------------------------------------------------
    def subscribe_assets(self, conn: _Conn, assets: list[str]) -> None:
        """Add assets to a market connection and queue their book snapshots (one array).

        Engine events not fanned out yet are flushed first (to the earlier subscribers): the
        snapshot already contains their effect, so the new connection must not get them again
        as deltas after it, as the venue never sends changes older than the snapshot.
        """
        venue = self.venue
        known: list[str] = []
        for asset in assets:
            try:
                market = venue.universe.by_token(asset)
            except KeyError:
                conn.push(orjson.dumps({"error": f"unknown asset id {asset}"}).decode())
                continue
            venue.touch(market.condition_id)
            venue.mark_hot(market.condition_id)
            known.append(asset)
        # Every catch-up above is fanned out before this connection subscribes, and nothing is
        # published between its subscription and its snapshots: no delta reaches it before
        # (or duplicates) the snapshot.
        venue.flush()
        snapshots: list[dict[str, Any]] = []
        for asset in known:
            conn.assets.add(asset)
            self.by_asset[asset].add(conn)
            snapshots.append(ws_book_frame(book_payload(venue.engine.book(asset))))
        if snapshots:
            conn.push(orjson.dumps(snapshots).decode())

    def unsubscribe_assets(self, conn: _Conn, assets: list[str]) -> None:
        """Remove assets; markets nobody watches or trades go cold again."""
        for asset in assets:
            conn.assets.discard(asset)
            subs = self.by_asset.get(asset)
            if subs is not None:
                subs.discard(conn)
                if not subs:
                    del self.by_asset[asset]
                    self._maybe_cold(asset)

    def _maybe_cold(self, asset: str) -> None:
        venue = self.venue
        market = venue.universe.by_token(asset)
        if market.yes_token in self.by_asset or market.no_token in self.by_asset:
            return
        orders = venue.engine.open_orders(condition_id=market.condition_id)
        if any(o.maker_address in venue.user_addresses for o in orders):
            return
        if venue.simulator is not None:
            venue.simulator.set_hot(market.condition_id, False)

    def add_user(self, conn: _Conn, owner: str, markets: set[str] | None) -> None:
        """Register an authenticated user-channel connection."""
        conn.owner, conn.markets = owner, markets
        self.by_owner[owner].add(conn)

    def drop(self, conn: _Conn) -> None:
        """Forget a connection (on close)."""
        self.conns.discard(conn)
        self.unsubscribe_assets(conn, list(conn.assets))
        if conn.owner is not None:
            self.by_owner[conn.owner].discard(conn)

    # ----- faults and shutdown ---------------------------------------------------------
    def apply_faults(self, now_ms: int) -> None:
        """Drop connections the fault plan says must go (``ws_disconnect``)."""
        faults = self.venue.faults
        if faults.ws_disconnect is None:
            return
        for conn in list(self.conns):
            if faults.ws_should_disconnect(now_ms - conn.opened_ms, now_ms):
                self.drop(conn)
                asyncio.get_running_loop().create_task(conn.ws.close())

    async def close_all(self) -> None:
        """Close every connection (server shutdown)."""
        for conn in list(self.conns):
            self.drop(conn)
            with contextlib.suppress(Exception):
                await conn.ws.close()


def _str_list(doc: dict[str, Any], key: str) -> list[str] | None:
    value = doc.get(key)
    if value is None:
        return []
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None


def _market_message(hub: WsHub, conn: _Conn, doc: dict[str, Any]) -> str | None:
    assets = _str_list(doc, "assets_ids")
    if assets is None:
        return "assets_ids must be an array of strings"
    if doc.get("custom_feature_enabled") is True:
        conn.custom_features = True
    operation = str(doc.get("operation", "")).lower()
    if operation == "unsubscribe":
        hub.unsubscribe_assets(conn, assets)
    elif operation == "subscribe" or str(doc.get("type", "")).lower() == "market":
        hub.subscribe_assets(conn, assets)
    else:
        return "unknown message: expected type market or operation subscribe/unsubscribe"
    return None


def _user_message(hub: WsHub, conn: _Conn, doc: dict[str, Any]) -> str | None:
    markets = _str_list(doc, "markets")
    if markets is None:
        return "markets must be an array of condition ids"
    operation = str(doc.get("operation", "")).lower()
    if conn.owner is None:
        auth = doc.get("auth")
        creds = hub.venue.keys.get(auth.get("apiKey", "")) if isinstance(auth, dict) else None
        if (
            creds is None
            or not isinstance(auth, dict)
            or not (
                hmac.compare_digest(str(auth.get("secret", "")), creds.secret)
                and hmac.compare_digest(str(auth.get("passphrase", "")), creds.passphrase)
            )
        ):
            return "Unauthorized/Invalid api key"
        hub.add_user(conn, creds.key, set(markets) or None)
    elif operation == "subscribe" and conn.markets is not None:
        conn.markets |= set(markets)
    elif operation == "unsubscribe":
        conn.markets = (conn.markets or set()) - set(markets)
    return None


async def _serve(request: web.Request, channel: str) -> web.WebSocketResponse:
    from polymaker.drill.server import VENUE_KEY

    venue = request.app[VENUE_KEY]
    hub: WsHub = venue.hub
    # No permessage-deflate: compressing each frame once per subscriber defeats the one-encode
    # fan-out (a 200-subscriber burst would deflate the same text 200 times).
    ws = web.WebSocketResponse(max_msg_size=1 << 20, compress=False)
    await ws.prepare(request)
    conn = _Conn(ws=ws, channel=channel, opened_ms=venue.now_ms(), transport=request.transport)
    hub.conns.add(conn)
    handle = _market_message if channel == "market" else _user_message
    try:
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            if msg.data.strip() == "PING":
                conn.push("PONG")
                continue
            try:
                doc = orjson.loads(msg.data)
            except orjson.JSONDecodeError:
                conn.push(orjson.dumps({"error": "invalid JSON message"}).decode())
                continue
            problem = handle(hub, conn, doc) if isinstance(doc, dict) else "expected an object"
            if problem is not None:
                conn.push(orjson.dumps({"error": problem}).decode())
                if channel == "user" and conn.owner is None:
                    break
    finally:
        hub.drop(conn)
        await ws.close()
    return ws


async def market_channel(request: web.Request) -> web.WebSocketResponse:
    """GET /ws/market (WebSocket upgrade)."""
    return await _serve(request, "market")


async def user_channel(request: web.Request) -> web.WebSocketResponse:
    """GET /ws/user (WebSocket upgrade)."""
    return await _serve(request, "user")


def add_ws_routes(app: web.Application) -> None:
    """Register both channels on the CLOB site's app."""
    app.router.add_get("/ws/market", market_channel)
    app.router.add_get("/ws/user", user_channel)
