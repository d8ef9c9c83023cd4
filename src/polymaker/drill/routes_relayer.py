"""The relayer (``relayer-v2.polymarket.com``) as far as the official client uses it for wallets.

``polymarket-client`` asks the relayer, when it opens a client for a proxy, Safe or deposit
wallet, whether the wallet is deployed (``GET /deployed?address=&type=PROXY|SAFE|WALLET``), and
deploys an undeployed deposit wallet with a ``WALLET-CREATE`` transaction (``POST /submit``),
which it then polls (``GET /v1/account/transactions/{id}``). For the wallet's own calls
(``redeem_positions``) it fetches a nonce (``GET /relay-payload`` for a proxy wallet,
``GET /v1/account/transactions/params`` for a Safe or deposit wallet), then submits a signed
``PROXY``/``SAFE``/``WALLET`` envelope (``relayer_tx`` checks it) whose calls run on the drill
chain (``chain``) at once; the job reports ``STATE_CONFIRMED``, or ``STATE_FAILED`` with the
revert reason. Submitting needs a relayer or builder API key in the headers; the drill accepts
any non-empty one (it has no key registry), but refuses a submission without one, as the
relayer does.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from polymarket._internal.environment import PRODUCTION_CONFIG

from polymaker.drill import chain
from polymaker.drill.relayer_tx import RELAY_ADDRESS, EnvelopeError, check_envelope
from polymaker.drill.routes_common import ApiError, fmt, json_response, query_str, read_json
from polymaker.drill.wallets import wallets_of
from polymaker.exchange.wallet import WalletKind

log = logging.getLogger("polymaker.drill")

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


def _nonce_answer(request: web.Request, kinds: tuple[str, ...]) -> web.Response:
    address, kind = query_str(request, "address"), query_str(request, "type")
    if kind not in kinds or len(address) != 42 or not address.startswith("0x"):
        raise ApiError(400, f"address must be a 0x address and type one of {', '.join(kinds)}")
    nonce = _venue(request).chain.relayer_nonce(address, kind)
    relay = RELAY_ADDRESS if kind == "PROXY" else address.lower()
    return json_response({"address": relay, "nonce": str(nonce)})


async def relay_payload(request: web.Request) -> web.Response:
    """GET /relay-payload?address=&type=PROXY -> {address: the relay, nonce} (proxy wallets)."""
    return _nonce_answer(request, ("PROXY",))


async def transaction_params(request: web.Request) -> web.Response:
    """GET /v1/account/transactions/params?address=&type=SAFE|WALLET -> {address, nonce}."""
    return _nonce_answer(request, ("SAFE", "WALLET"))


async def submit(request: web.Request) -> web.Response:
    """POST /submit: deploy a deposit wallet, or run a wallet's signed call batch."""
    if not _has_relayer_key(request):
        raise ApiError(401, "invalid authorization: a relayer or builder API key is required")
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ApiError(400, "invalid request body")
    if body.get("type") != "WALLET-CREATE":
        return _submit_calls(_venue(request), body)
    return _deploy(_venue(request), body)


def _submitted(job: Any) -> web.Response:
    return json_response(
        {"transactionID": job.transaction_id, "transactionHash": "", "state": "STATE_NEW"}
    )


def _submit_calls(venue: Any, body: dict[str, Any]) -> web.Response:
    """A PROXY/SAFE/WALLET envelope: checked, then its calls run (all or nothing)."""
    try:
        envelope = check_envelope(
            body,
            nonce=venue.chain.relayer_nonce,
            wallets_of=wallets_of,
            now_s=venue.now_s(),
        )
    except EnvelopeError as error:
        raise ApiError(400, str(error)) from None
    if not venue.wallets.is_deployed(envelope.wallet):
        raise ApiError(400, f"wallet {envelope.wallet} is not deployed")
    venue.chain.use_relayer_nonce(envelope.signer, envelope.kind)
    failure: str | None = None
    if venue.wallets.fail_next > 0:
        venue.wallets.fail_next -= 1
        failure = "execution reverted: failure injected by /_sim/relayer"
    else:
        try:
            redemptions = chain.plan(venue.universe, venue.ledger, envelope.wallet, envelope.calls)
        except chain.Revert as revert:
            failure = f"execution reverted: {revert}"
        else:
            chain.apply(venue.ledger, redemptions)
            for done in redemptions:
                log.info(
                    "relayed redemption for %s: %s burned, %s pUSD paid",
                    done.wallet,
                    {t[:12]: fmt(s) for t, s in done.burned.items()},
                    fmt(done.paid),
                )
    job = venue.wallets.submit(envelope.kind, envelope.wallet, venue.now_ms(), failure)
    if failure is not None:
        log.info("relayed transaction %s of %s fails: %s", job.transaction_id, job.wallet, failure)
    return _submitted(job)


def _deploy(venue: Any, body: dict[str, Any]) -> web.Response:
    """``WALLET-CREATE``: deploy the ``from`` key's (current, beacon) deposit wallet."""
    kind, owner, target = body.get("type"), body.get("from"), body.get("to")
    if not isinstance(owner, str) or len(owner) != 42 or not isinstance(target, str):
        raise ApiError(400, "invalid request body: 'from' and 'to' must be addresses")
    if target.lower() != _DEPOSIT_FACTORY:
        raise ApiError(400, "'to' is not the deposit wallet factory")
    venue.wallets.see_owner(owner)
    # The current (beacon) factory's wallet: listed before the earlier UUPS one.
    wallet = next(a for a, k in wallets_of(owner.lower()).items() if k is WalletKind.DEPOSIT)
    job = venue.wallets.submit(str(kind), wallet, venue.now_ms())
    venue.account(wallet)
    return _submitted(job)


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
    app.router.add_get("/relay-payload", relay_payload)
    # Before the {transaction_id} route, which would otherwise take "params" for an id.
    app.router.add_get("/v1/account/transactions/params", transaction_params)
    app.router.add_get("/v1/account/transactions/{transaction_id}", transaction)


__all__ = ["add_routes"]
