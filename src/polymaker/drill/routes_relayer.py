"""The relayer (``relayer-v2.polymarket.com``) as far as the official client uses it for wallets.

``polymarket-client`` asks the relayer, when it opens a client for a proxy, Safe or deposit
wallet, whether the wallet is deployed (``GET /deployed?address=&type=PROXY|SAFE|WALLET``), and
deploys an undeployed deposit wallet with a ``WALLET-CREATE`` transaction (``POST /submit``),
which it then polls (``GET /v1/account/transactions/{id}``). Submitting needs a relayer or
builder API key in the headers; the drill accepts any non-empty one (it has no key registry),
but refuses a submission without one, as the relayer does.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from polymarket._internal.environment import PRODUCTION_CONFIG

from polymaker.drill.routes_common import ApiError, json_response, read_json
from polymaker.drill.wallets import wallets_of
from polymaker.exchange.wallet import WalletKind

_TYPES = {"PROXY": WalletKind.PROXY, "SAFE": WalletKind.SAFE, "WALLET": WalletKind.DEPOSIT}
_DEPOSIT_FACTORY = PRODUCTION_CONFIG.wallet_derivation.deposit_wallet_factory.lower()


def _venue(request: web.Request) -> Any:
    from polymaker.drill.server import VENUE_KEY

    return request.app[VENUE_KEY]


async def deployed(request: web.Request) -> web.Response:
    """GET /deployed?address=&type= -> {"deployed": bool}."""
    address = request.query.get("address", "")
    wanted = request.query.get("type")
    if len(address) != 42 or not address.startswith("0x"):
        raise ApiError(400, "invalid address")
    wallets = _venue(request).wallets
    kind = wallets.kind_of(address)
    if wanted is not None and (wanted not in _TYPES or _TYPES[wanted] is not kind):
        return json_response({"deployed": False})
    return json_response({"deployed": wallets.is_deployed(address)})


def _has_relayer_key(request: web.Request) -> bool:
    headers = request.headers
    relayer = headers.get("RELAYER_API_KEY", "") and headers.get("RELAYER_API_KEY_ADDRESS", "")
    return bool(relayer or headers.get("POLY_BUILDER_API_KEY", ""))


async def submit(request: web.Request) -> web.Response:
    """POST /submit: a ``WALLET-CREATE`` deploys the ``from`` key's deposit wallet."""
    if not _has_relayer_key(request):
        raise ApiError(401, "invalid authorization: a relayer or builder API key is required")
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ApiError(400, "invalid request body")
    kind, owner, target = body.get("type"), body.get("from"), body.get("to")
    if kind != "WALLET-CREATE":
        raise ApiError(400, f"the drill relayer does not run {kind!r} transactions")
    if not isinstance(owner, str) or len(owner) != 42 or not isinstance(target, str):
        raise ApiError(400, "invalid request body: 'from' and 'to' must be addresses")
    if target.lower() != _DEPOSIT_FACTORY:
        raise ApiError(400, "'to' is not the deposit wallet factory")
    venue = _venue(request)
    venue.wallets.see_owner(owner)
    # The current (beacon) factory's wallet: listed before the earlier UUPS one.
    wallet = next(a for a, k in wallets_of(owner.lower()).items() if k is WalletKind.DEPOSIT)
    job = venue.wallets.submit(kind, wallet, venue.now_ms())
    venue.account(wallet)
    return json_response(
        {"transactionID": job.transaction_id, "transactionHash": "", "state": "STATE_NEW"}
    )


async def transaction(request: web.Request) -> web.Response:
    """GET /v1/account/transactions/{id}: the job's state and, once mined, its hash."""
    venue = _venue(request)
    job = venue.wallets.jobs.get(request.match_info["transaction_id"])
    if job is None:
        raise ApiError(404, "transaction not found")
    state = job.state(venue.now_ms())
    return json_response(
        {
            "transaction_id": job.transaction_id,
            "transaction_hash": "" if state == "STATE_NEW" else job.transaction_hash,
            "state": state,
            "error_msg": job.error,
        }
    )


def add_routes(app: web.Application) -> None:
    """Register the relayer routes on their own site's app."""
    app.router.add_get("/deployed", deployed)
    app.router.add_post("/submit", submit)
    app.router.add_get("/v1/account/transactions/{transaction_id}", transaction)


__all__ = ["add_routes"]
