"""Our orders and fills as they happen: the authenticated user-channel WebSocket -> typed events.

Usage (the worker)::

    async with UserFeed(urls.ws_user_url, creds, account, [condition_id]) as feed:
        async for event in feed:
            match event:
                case Reconnected(): ...      # re-read /data/orders and /data/trades NOW
                case OrderEvent(): ...       # placement / update (size_matched) / cancellation
                case TradeEvent(): ...       # event.trade.fills are ours; dedupe on Fill.key
                case UnparsedEvent(): ...    # something unreadable: reconcile over REST
                case FeedStatus(): ...       # disconnected: the stream has a gap from here

The channel does not replay what happened while disconnected, hence ``Reconnected`` on every
successful (re)subscription, the first one included: the worker's REST read after it closes
the gap. Keepalive and reconnect are the same as the market feed's (``_ws.py``).
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from polymaker.exchange._ws import (
    Clock,
    EventStream,
    FeedState,
    FeedStatus,
    KeepaliveSettings,
    Send,
    run_keepalive_loop,
)
from polymaker.exchange.wire import (
    AccountIdentity,
    OrderEvent,
    TradeEvent,
    UnparsedEvent,
    UserDecoder,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApiCredentials:
    """L2 API credentials of the account; ``repr`` never shows the secret or the passphrase."""

    api_key: str
    secret: str
    passphrase: str

    @classmethod
    def from_sdk(cls, creds: Any) -> ApiCredentials:
        """From the SDK's ``ApiKeyCreds`` (``key``, ``secret``, ``passphrase``)."""
        return cls(creds.key, creds.secret, creds.passphrase)

    def __repr__(self) -> str:
        return f"ApiCredentials(api_key={self.api_key!r}, secret=<redacted>, passphrase=<redacted>)"

    __str__ = __repr__


@dataclass(frozen=True, slots=True)
class Reconnected:
    """The feed (re)subscribed; events before this may be missing: re-read orders and trades."""

    connection: int


UserUpdate = OrderEvent | TradeEvent | UnparsedEvent | Reconnected | FeedStatus


class UserFeed(EventStream[UserUpdate]):
    """Order and trade events of one account, optionally limited to some markets."""

    def __init__(
        self,
        ws_url: str,
        credentials: ApiCredentials,
        account: AccountIdentity,
        condition_ids: Sequence[str] | None = None,
        *,
        settings: KeepaliveSettings | None = None,
        rng: random.Random | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        super().__init__()
        self._ws_url = ws_url
        self._credentials = credentials
        self._condition_ids = None if condition_ids is None else list(condition_ids)
        self._decoder = UserDecoder(account)
        self._settings = settings or KeepaliveSettings()
        self._rng = rng or random.Random()
        self._clock = clock
        self._connection = 0
        self._down_reported = False
        self._unparsed: Counter[str] = Counter()

    @property
    def unparsed_by_tag(self) -> dict[str, int]:
        """How many events could not be parsed, by ``event_type`` (``<none>``: no tag)."""
        return dict(self._unparsed)

    async def _run(self) -> None:
        await run_keepalive_loop(self._ws_url, self._settings, self, self._rng, self._clock)

    async def on_open(self, send: Send, connection: int) -> None:
        """Authenticate and subscribe; omitting ``markets`` means every market of the key."""
        creds = self._credentials
        frame: dict[str, object] = {
            "type": "user",
            "auth": {
                "apiKey": creds.api_key,
                "secret": creds.secret,
                "passphrase": creds.passphrase,
            },
        }
        if self._condition_ids is not None:
            frame["markets"] = self._condition_ids
        await send(orjson.dumps(frame).decode())
        self._connection = connection
        self._down_reported = False
        self._emit(FeedStatus(FeedState.CONNECTED, "subscribed", connection))
        self._emit(Reconnected(connection))

    def on_close(self, reason: str) -> None:
        """Report the gap once per outage."""
        if not self._down_reported:
            self._emit(FeedStatus(FeedState.DISCONNECTED, reason, self._connection))
        self._down_reported = True

    def on_frame(self, data: str | bytes) -> None:
        """Forward every event of the frame, unparsed ones included (counted and logged)."""
        for event in self._decoder.decode_frame(data):
            if isinstance(event, UnparsedEvent):
                tag = event.tag or "<none>"
                self._unparsed[tag] += 1
                log.warning("unparsed user event %s: %s", tag, event.reason)
            self._emit(event)


__all__ = [
    "AccountIdentity",
    "ApiCredentials",
    "FeedState",
    "FeedStatus",
    "KeepaliveSettings",
    "Reconnected",
    "UserFeed",
    "UserUpdate",
]
