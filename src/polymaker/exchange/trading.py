"""Orders, cancels, open orders, fills and balances of one account: THE module that trades.

Built on the official SDK's ``AsyncSecureClient`` (signing, L2 headers, order metadata cache).
The SDK's ``place_limit_order`` is not used: on a balance refusal it tries an on-chain approval,
which is never what a maker wants mid-run; we sign with ``create_limit_order`` and post once.

Expected refusals are values (``exchange.gateway``: ``Rejected`` with a closed ``RejectCode``).
Failures are ``polymaker.errors``
exceptions, translated from the SDK's in :meth:`Trading._call` and nowhere else. Reads and
cancels (idempotent) are retried with capped backoff on transport errors, 429 and 5xx. A
``POST /order`` whose answer was lost is never re-sent: the open orders are searched for it.
With an :class:`AccountRateLimiter`, every request first takes from the account's shared
budget (``order``, ``cancel`` or ``public``) and a 429 puts that budget in debt for every
process of the account. :class:`Trading` is an ``exchange.gateway.OrderGateway``, as the paper
gateway (``paper.gateway.PaperGateway``) is.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TypeVar

from polymarket import AsyncSecureClient
from polymarket import errors as sdk_errors
from polymarket._internal.protocol import is_v2_position_id
from polymarket.models.clob import AcceptedOrder, ApiKeyCreds, AssetType, CancelOrdersResponse

from polymaker.errors import (
    ConfigError,
    ExchangeError,
    RateLimitError,
    RequestRejectedError,
    TransportError,
    UnexpectedResponseError,
)
from polymaker.exchange.gateway import (
    Accepted,
    CancelOutcome,
    PlaceOutcome,
    RejectCode,
    Rejected,
    Side,
    classify_rejection,
)
from polymaker.exchange.ratelimit import CANCEL, ORDER, PUBLIC, AccountRateLimiter
from polymaker.exchange.retry import RetryPolicy, retry_delay, should_retry
from polymaker.exchange.sdk import create_async_secure_client, signer_address
from polymaker.exchange.secrets import (
    ENV_API_KEY,
    ENV_API_PASSPHRASE,
    ENV_API_SECRET,
    ENV_CREDS_FILE,
)
from polymaker.exchange.urls import ExchangeUrls
from polymaker.exchange.wallet import Wallet
from polymaker.exchange.wire._fields import WireError
from polymaker.exchange.wire.markets import ClobMarket, parse_clob_market
from polymaker.exchange.wire.orders import Order, parse_order
from polymaker.exchange.wire.trades import AccountIdentity, Fill, parse_trade

log = logging.getLogger(__name__)

T = TypeVar("T")
_BASE_UNITS = Decimal(1_000_000)  # pUSD and outcome shares both have 6 decimals on chain
_END_CURSOR = "LTE="
_MAX_PAGES = 50
_CREDENTIAL_VARIABLES = f"{ENV_API_KEY}/{ENV_API_SECRET}/{ENV_API_PASSPHRASE} and {ENV_CREDS_FILE}"
_PENALTY_S = 1.0  # how long a 429 without Retry-After pauses the account's bucket


def cancel_outcome(response: CancelOrdersResponse) -> CancelOutcome:
    """The SDK's cancel answer as our ``CancelOutcome`` (order ids as plain strings)."""
    refused = {str(order_id): reason for order_id, reason in response.not_canceled.items()}
    return CancelOutcome(tuple(str(order_id) for order_id in response.canceled), refused)


def translate_sdk_error(error: Exception, where: str) -> ExchangeError:
    """The project's exception for an SDK failure (the one place they are translated)."""
    if isinstance(error, sdk_errors.RateLimitError):
        return RateLimitError(where, 429, str(error), retry_after=error.retry_after)
    if isinstance(error, sdk_errors.RequestRejectedError):
        return RequestRejectedError(where, error.status, str(error), retry_after=error.retry_after)
    if isinstance(error, sdk_errors.TransportError):
        return TransportError(where, str(error) or type(error).__name__)
    return UnexpectedResponseError(f"{where}: {error}")


class Trading:
    """Order entry and account reads for one wallet on one exchange.

    client: an authenticated ``AsyncSecureClient`` (closed by :meth:`aclose`).
    clob_url: used only to name the endpoint in error messages.
    limiter: the account's shared request budget (None: no client-side limit).
    sleep/rng: injected so tests can run retries without waiting.
    """

    def __init__(
        self,
        client: AsyncSecureClient,
        *,
        clob_url: str,
        policy: RetryPolicy | None = None,
        limiter: AccountRateLimiter | None = None,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._client = client
        self._clob_url = clob_url
        self._policy = policy or RetryPolicy()
        self._limiter = limiter
        self._rng = rng or random.Random()
        self._sleep = sleep
        self._known_order_ids: set[str] = set()
        self.address = str(client.wallet)
        self.identity = AccountIdentity.of(client.credentials.key, [self.address])
        self.skipped_items = 0

    @property
    def credentials(self) -> ApiKeyCreds:
        """The L2 credentials in use (given or derived); the user channel needs them too."""
        return self._client.credentials

    async def aclose(self) -> None:
        """Close the SDK client and its connection pool."""
        await self._client.close()

    async def _acquire(self, bucket: str | None, cost: float = 1) -> None:
        """Wait for ``cost`` requests of the account's ``bucket`` budget (no limiter: at once)."""
        if self._limiter is None or bucket is None:
            return
        waited = await self._limiter.acquire(bucket, cost)
        if waited > 0:
            log.debug("rate limit: waited %.3fs for %s", waited, bucket)

    def _penalize(self, bucket: str | None, failure: ExchangeError) -> None:
        """A 429: every process of the account waits ``Retry-After`` (capped; 1 s if absent)."""
        if self._limiter is None or bucket is None:
            return
        if not (isinstance(failure, RequestRejectedError) and failure.status == 429):
            return
        retry_after = failure.retry_after
        wait_s = _PENALTY_S if retry_after is None else retry_after
        wait_s = min(wait_s, self._policy.retry_after_max_s)
        log.warning("HTTP 429: pausing the account's %s requests for %.2fs", bucket, wait_s)
        self._limiter.penalize(bucket, wait_s)

    async def _call(
        self,
        what: str,
        make: Callable[[], Awaitable[T]],
        *,
        retry: bool,
        bucket: str | None = None,
        cost: float = 1,
    ) -> T:
        """Run one SDK call; translate its errors; retry retryable ones when ``retry``.

        bucket/cost: the request budget each attempt takes first; a 429 puts it in debt.
        """
        attempt = 0
        while True:
            attempt += 1
            await self._acquire(bucket, cost)
            try:
                return await make()
            except (sdk_errors.PolymarketError, ValueError) as error:
                if isinstance(error, sdk_errors.UserInputError):
                    raise  # our own mistake (e.g. off-grid price): the caller decides
                failure = translate_sdk_error(error, self._url(what))
            self._penalize(bucket, failure)
            if not (retry and should_retry(failure) and attempt < self._policy.attempts):
                raise failure
            retry_after = getattr(failure, "retry_after", None)
            delay = retry_delay(attempt, self._policy, self._rng, retry_after)
            log.info("retrying %s in %.2fs after: %s", what, delay, failure)
            await self._sleep(delay)

    def _url(self, what: str) -> str:
        return f"{self._clob_url} {what}"

    async def place_post_only(
        self, token_id: str, side: Side, price: Decimal, size: Decimal
    ) -> PlaceOutcome:
        """Sign and post one post-only GTC limit order; never re-sent blindly.

        When the POST gets no answer (transport error, 5xx), the open orders are searched for
        an unknown order with this token/side/price/size: found -> Accepted, else Rejected
        (OTHER). Raises only when even that search fails (the outcome is then unknown and the
        caller's periodic reconcile must find and cancel strays).
        """
        try:
            signed = await self._call(
                "sign order",
                lambda: self._client.create_limit_order(
                    token_id=token_id, price=price, size=size, side=side, post_only=True
                ),
                retry=True,
                bucket=PUBLIC,  # may read the market's tick/neg-risk/fee (the SDK caches them)
            )
        except sdk_errors.UserInputError as error:
            return Rejected(classify_rejection(str(error)), str(error))
        sent_at = time.time()
        try:
            response = await self._call(
                "POST /order", lambda: self._client.post_order(signed), retry=False, bucket=ORDER
            )
        except RateLimitError as error:
            return Rejected(RejectCode.RATE_LIMITED, error.message, error.retry_after)
        except RequestRejectedError as error:
            if error.status == 425:
                return Rejected(RejectCode.RESTARTING, error.message, error.retry_after)
            if error.status < 500:
                return Rejected(classify_rejection(error.message), error.message)
            log.warning("POST /order answered %s; looking for the order", error.status)
            return await self._find_lost_order(token_id, side, price, size, sent_at)
        except TransportError as error:
            log.warning("POST /order got no answer (%s); looking for the order", error.problem)
            return await self._find_lost_order(token_id, side, price, size, sent_at)
        if isinstance(response, AcceptedOrder):
            self._known_order_ids.add(str(response.order_id))
            return Accepted(
                str(response.order_id),
                response.status,
                response.making_amount,
                response.taking_amount,
                tuple(response.trade_ids),
            )
        return Rejected(classify_rejection(response.message), response.message)

    async def _find_lost_order(
        self, token_id: str, side: Side, price: Decimal, size: Decimal, sent_at: float
    ) -> PlaceOutcome:
        orders = await self._call(
            "GET /data/orders",
            lambda: self._list_orders(asset_id=token_id),
            retry=True,
            bucket=PUBLIC,
        )
        for order in orders:
            if (
                order.order_id not in self._known_order_ids
                and str(order.side) == side
                and order.price == price
                and order.original_size == size
            ):
                self._known_order_ids.add(order.order_id)
                log.info("lost POST /order found resting as %s", order.order_id)
                return Accepted(order.order_id, "live", Decimal(0), Decimal(0))
        waited = time.time() - sent_at
        return Rejected(
            RejectCode.OTHER, f"no answer to POST /order and no such open order after {waited:.1f}s"
        )

    async def _pages(self, path: str, query: dict[str, str]) -> list[object]:
        """Every item of a cursor-paginated CLOB listing, as raw JSON objects.

        Read through the SDK's authenticated transport (private API of the pinned SDK) and
        parsed by ``exchange.wire``: the SDK's own ``ClobTrade`` model refuses a whole page
        when one maker entry lacks ``side``, which venue trades do carry (fixture
        clob_data_trades_item_2024-09.json).
        """
        transport = self._client._ctx.secure_clob
        items: list[object] = []
        cursor: str | None = None
        for _ in range(_MAX_PAGES):
            params = dict(query) if cursor is None else {**query, "next_cursor": cursor}
            if cursor is not None:  # the first page was paid for by the caller's _call
                await self._acquire(PUBLIC)
            page = await transport.get_json(path, params=params)
            if isinstance(page, list):  # a bare list is a complete answer
                items.extend(page)
                return items
            if not isinstance(page, dict) or not isinstance(page.get("data"), list):
                raise UnexpectedResponseError(f"{self._url('GET ' + path)}: not a page")
            items.extend(page["data"])
            cursor = page.get("next_cursor")
            if not cursor or cursor == _END_CURSOR:
                return items
        raise UnexpectedResponseError(f"{self._url('GET ' + path)}: more than {_MAX_PAGES} pages")

    async def _list_orders(self, **query: str) -> list[Order]:
        orders: list[Order] = []
        for item in await self._pages("/data/orders", query):
            try:
                orders.append(parse_order(item))
            except WireError as error:
                self.skipped_items += 1
                log.warning("skipped an unreadable open order: %s", error)
        return orders

    async def get_order(self, order_id: str) -> Order:
        """One of our orders whatever its status (``GET /data/order/{id}``), for final fills."""
        transport = self._client._ctx.secure_clob

        async def fetch() -> Order:
            return parse_order(await transport.get_json(f"/data/order/{order_id}", params={}))

        return await self._call("GET /data/order", fetch, retry=True, bucket=PUBLIC)

    async def market_info(self, condition_id: str) -> ClobMarket:
        """The market's tradability and grid (``GET /markets/{condition_id}``, public)."""
        transport = self._client._ctx.clob

        async def fetch() -> ClobMarket:
            return parse_clob_market(await transport.get_json(f"/markets/{condition_id}"))

        return await self._call("GET /markets", fetch, retry=True, bucket=PUBLIC)

    async def cancel(self, order_id: str) -> CancelOutcome:
        """Cancel one order (idempotent, so retried on transport errors)."""
        response = await self._call(
            "DELETE /order",
            lambda: self._client.cancel_order(order_id=order_id),
            retry=True,
            bucket=CANCEL,
        )
        return cancel_outcome(response)

    async def cancel_market(self, condition_id: str) -> CancelOutcome:
        """Cancel every order of ours in one market (both tokens) and no other market.

        Costs 1 + n of the ``cancel`` budget: 1 before the request, and n (the orders it
        cancelled, unknown until the answer) after it, so later requests pay for them.
        """
        response = await self._call(
            "DELETE /cancel-market-orders",
            lambda: self._client.cancel_market_orders(market=condition_id),
            retry=True,
            bucket=CANCEL,
        )
        outcome = cancel_outcome(response)
        if outcome.canceled:
            await self._acquire(CANCEL, len(outcome.canceled))
        return outcome

    async def open_orders(self, condition_id: str) -> list[Order]:
        """Our open orders in one market (all pages)."""
        return await self._call(
            "GET /data/orders",
            lambda: self._list_orders(market=condition_id),
            retry=True,
            bucket=PUBLIC,
        )

    async def all_open_orders(self) -> list[Order]:
        """Every open order of the account, in every market (the account limits' input)."""
        return await self._call(
            "GET /data/orders", lambda: self._list_orders(), retry=True, bucket=PUBLIC
        )

    async def confirm_no_open_orders(
        self, condition_id: str, *, timeout_s: float, poll_s: float = 0.2
    ) -> list[Order]:
        """Cancel and re-read ``/data/orders`` until the market has none of ours or time is up.

        Returns what is still open at the end (empty = confirmed by the exchange). Failed
        reads inside the window are retried; the last failure is raised if time runs out
        without one successful read. A read that skipped an unreadable order confirms
        nothing: that order may be open.
        """
        deadline = time.monotonic() + timeout_s
        last_error: ExchangeError | None = None
        while True:
            skipped = self.skipped_items
            try:
                remaining = await self.open_orders(condition_id)
                last_error = None
                if self.skipped_items != skipped:
                    last_error = UnexpectedResponseError(
                        f"{condition_id}: an open order could not be read; none open unconfirmed"
                    )
            except ExchangeError as error:
                remaining, last_error = [], error
            if not remaining and last_error is None:
                return []
            if time.monotonic() >= deadline:
                if last_error is not None:
                    raise last_error
                return remaining
            for order in remaining:
                try:
                    await self.cancel(order.order_id)
                except ExchangeError as error:
                    log.warning("cancel %s failed: %s", order.order_id, error)
            await self._sleep(poll_s)

    async def fills(self, condition_id: str) -> list[Fill]:
        """Our fills in one market, from ``GET /data/trades`` (all pages).

        A trade that cannot be read is logged, counted in ``skipped_items`` and skipped.
        """
        items = await self._call(
            "GET /data/trades",
            lambda: self._pages("/data/trades", {"market": condition_id}),
            retry=True,
            bucket=PUBLIC,
        )
        fills: list[Fill] = []
        for item in items:
            try:
                fills.extend(parse_trade(item, self.identity).fills)
            except WireError as error:
                self.skipped_items += 1
                log.warning("skipped an unreadable trade: %s", error)
        return fills

    async def collateral_balance(self) -> Decimal:
        """pUSD balance of the wallet (``GET /balance-allowance?asset_type=COLLATERAL``)."""
        answer = await self._call(
            "GET /balance-allowance",
            lambda: self._client.get_balance_allowance(asset_type="COLLATERAL"),
            retry=True,
            bucket=PUBLIC,
        )
        return Decimal(answer.balance) / _BASE_UNITS

    async def token_balance(self, token_id: str) -> Decimal:
        """Shares of ``token_id`` held at the wallet.

        ``asset_type`` is ``CONDITIONAL`` for a CTF token, ``CONDITIONAL-V2`` for a Protocol V2
        position id (the venue answers each only for its own kind).
        """
        asset_type: AssetType = "CONDITIONAL-V2" if is_v2_position_id(token_id) else "CONDITIONAL"
        answer = await self._call(
            "GET /balance-allowance",
            lambda: self._client.get_balance_allowance(asset_type=asset_type, token_id=token_id),
            retry=True,
            bucket=PUBLIC,
        )
        return Decimal(answer.balance) / _BASE_UNITS


async def open_trading(
    private_key: str,
    urls: ExchangeUrls,
    *,
    wallet: Wallet | None = None,
    credentials: ApiKeyCreds | None = None,
    policy: RetryPolicy | None = None,
    limiter: AccountRateLimiter | None = None,
) -> Trading:
    """Build the authenticated SDK client (deriving API credentials unless given) and wrap it.

    Raises the project's errors (never the SDK's): ``TransportError`` when the exchange is
    unreachable, ``RequestRejectedError`` when it refuses the key or credentials, and
    ``ConfigError`` (exit 2) when the given credentials are not active for the key's address:
    the SDK then quietly derives new ones, which would trade with credentials nobody chose.
    """
    try:
        client = await create_async_secure_client(
            private_key, urls, wallet=wallet, credentials=credentials
        )
    except sdk_errors.UserInputError as error:  # e.g. a wallet that is not deployed
        raise wallet_not_ready(error, wallet) from error
    except sdk_errors.PolymarketError as error:
        raise translate_sdk_error(error, f"{urls.clob_url} authenticate") from error
    if credentials is not None and client.credentials.key != credentials.key:
        await client.close()
        raise ConfigError(_foreign_credentials_problem(signer_address(private_key), urls))
    return Trading(client, clob_url=urls.clob_url, policy=policy, limiter=limiter)


def wallet_not_ready(error: Exception, wallet: Wallet | None) -> ConfigError:
    """What to do when the official client refuses to act for the wallet (exit 2)."""
    what = "the key's own address" if wallet is None else wallet.describe()
    return ConfigError(
        f"cannot trade for {what}: {error}. A proxy wallet or Safe exists once you have logged "
        "in to polymarket.com with this account; a deposit wallet is deployed by the "
        "supervisor when POLYMAKER_RELAYER_API_KEY and POLYMAKER_RELAYER_API_KEY_ADDRESS are "
        "set (docs/accounts.md)",
        key="wallet_address",
    )


def _foreign_credentials_problem(address: str, urls: ExchangeUrls) -> str:
    """What to fix when given credentials belong to another address (names no secret)."""
    return (
        f"the given API credentials are not active for the wallet {address} at "
        f"{urls.clob_url} (they belong to another address or were revoked): unset "
        f"{_CREDENTIAL_VARIABLES} to derive credentials from the key, or set the ones made "
        f"for {address}"
    )


__all__ = ["Trading", "open_trading", "translate_sdk_error", "wallet_not_ready"]
