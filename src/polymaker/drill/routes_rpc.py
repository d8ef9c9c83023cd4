"""A Polygon JSON-RPC node, as far as the official client needs one to redeem (``rpc_url``).

The client (``polymarket-client`` 0.14, ``_internal/eoa/``) reads Protocol V2 balances with
``eth_call`` (``balanceOf``/``balanceOfBatch`` on the PositionManager) before it builds a V2
redemption, reads the latest block's time for a deposit wallet's batch deadline, may estimate
gas for a proxy call, and, for a plain EOA, broadcasts the redemption itself: ``eth_chainId``,
``eth_getTransactionCount``, ``eth_gasPrice``, ``eth_estimateGas``, ``eth_sendRawTransaction``
(a legacy EIP-155 transaction), then ``eth_getTransactionReceipt`` until it is mined.
``eth_getBalance`` answers ``polymaker doctor``'s gas check.

A sent transaction is mined at once: it pays ``gas * gasPrice`` POL, runs its call on the
drill chain (``chain``), and gets a receipt with ``status`` 1, or 0 when the call reverted.
Served on its own port at ``/`` (JSON-RPC posts to the node's root), single or batch requests.
"""

from __future__ import annotations

import logging
from typing import Any

import rlp
from aiohttp import web
from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_hash.auto import keccak

from polymaker.drill import chain
from polymaker.drill.routes_common import json_response, read_json

log = logging.getLogger("polymaker.drill")
_BALANCE_LEDGERS = (chain.POSITION_MANAGER, chain.CONDITIONAL_TOKENS, chain.NEG_RISK_ADAPTER)


class RpcError(Exception):
    """A JSON-RPC error object: ``code`` and ``message`` (3 = execution reverted)."""

    def __init__(self, code: int, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)


def _venue(request: web.Request) -> Any:
    from polymaker.drill.server import VENUE_KEY

    return request.app[VENUE_KEY]


def _param(params: list[Any], index: int) -> Any:
    if len(params) <= index:
        raise RpcError(-32602, f"missing value for required argument {index}")
    return params[index]


def _address(value: Any) -> str:
    if not isinstance(value, str) or len(value) != 42 or not value.startswith("0x"):
        raise RpcError(-32602, "invalid argument: not a 0x address")
    return value.lower()


def _data(value: Any) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise RpcError(-32602, "invalid argument: not 0x hex data")
    try:
        return bytes.fromhex(value[2:])
    except ValueError:
        raise RpcError(-32602, "invalid argument: not 0x hex data") from None


def _balance(venue: Any, owner: str, token_id: int) -> int:
    shares = chain.shares_of(venue.ledger, owner, str(token_id))
    return int(shares * chain.BASE_UNITS)


def eth_call(venue: Any, params: list[Any]) -> str:
    """ERC-1155 ``balanceOf``/``balanceOfBatch`` of the three position ledgers."""
    call = _param(params, 0)
    if not isinstance(call, dict):
        raise RpcError(-32602, "invalid argument 0: a call object")
    to, data = _address(call.get("to")), _data(call.get("data"))
    try:
        if to in _BALANCE_LEDGERS and data[:4] == chain.BALANCE_OF:
            owner, token_id = abi_decode(["address", "uint256"], data[4:])
            return "0x" + abi_encode(["uint256"], [_balance(venue, owner, token_id)]).hex()
        if to in _BALANCE_LEDGERS and data[:4] == chain.BALANCE_OF_BATCH:
            owners, ids = abi_decode(["address[]", "uint256[]"], data[4:])
            values = [_balance(venue, o, t) for o, t in zip(owners, ids, strict=True)]
            return "0x" + abi_encode(["uint256[]"], [values]).hex()
    except (ValueError, TypeError) as error:
        raise RpcError(3, f"execution reverted: bad calldata ({error})") from None
    raise RpcError(3, f"execution reverted: the drill node does not answer this call on {to}")


def eth_estimate_gas(venue: Any, params: list[Any]) -> str:
    """The gas of a call: ``CALL_GAS``, or a revert error when the call would fail."""
    tx = _param(params, 0)
    if not isinstance(tx, dict):
        raise RpcError(-32602, "invalid argument 0: a transaction object")
    sender, to = _address(tx.get("from")), _address(tx.get("to"))
    if to in (chain.COLLATERAL_ADAPTER, chain.NEG_RISK_COLLATERAL_ADAPTER, chain.ROUTER):
        try:
            chain.plan(venue.universe, venue.ledger, sender, [chain.Call(to, _data(tx["data"]))])
        except chain.Revert as revert:
            raise RpcError(3, f"execution reverted: {revert}") from None
    return hex(chain.CALL_GAS)


def eth_send_raw_transaction(venue: Any, params: list[Any]) -> str:
    """Mine a signed legacy transaction at once (see the module docstring)."""
    raw = _data(_param(params, 0))
    try:
        nonce, gas_price, gas, to, value, data, v, _r, _s = rlp.decode(raw)
        sender = str(Account.recover_transaction(raw)).lower()
    except (ValueError, rlp.exceptions.DecodingError) as error:
        raise RpcError(-32000, f"invalid transaction: {error}") from None
    if int.from_bytes(v, "big") not in (chain.CHAIN_ID * 2 + 35, chain.CHAIN_ID * 2 + 36):
        raise RpcError(-32000, "invalid chain id for signer")
    state = venue.chain
    expected = state.tx_counts.get(sender, 0)
    if int.from_bytes(nonce, "big") != expected:
        raise RpcError(-32000, f"nonce too low: next nonce {expected}")
    fee = int.from_bytes(gas, "big") * int.from_bytes(gas_price, "big")
    amount = int.from_bytes(value, "big")
    if fee + amount > state.pol(sender):
        raise RpcError(-32000, "insufficient funds for gas * price + value")
    call = chain.Call("0x" + bytes(to).hex(), bytes(data), amount)
    tx_hash = "0x" + keccak(raw).hex()
    status, used = _run(venue, sender, call, tx_hash)
    state.tx_counts[sender] = expected + 1
    state.set_pol(sender, state.pol(sender) - used * int.from_bytes(gas_price, "big"))
    state.receipts[tx_hash] = {
        "transactionHash": tx_hash,
        "blockNumber": hex(state.next_block()),
        "from": sender,
        "to": call.to,
        "gasUsed": hex(used),
        "status": hex(status),
        "logs": [],
    }
    return tx_hash


def _run(venue: Any, sender: str, call: chain.Call, tx_hash: str) -> tuple[int, int]:
    """(status, gas used) of the transaction's call, applied when it does not revert."""
    try:
        redemptions = chain.plan(venue.universe, venue.ledger, sender, [call])
    except chain.Revert as revert:
        log.info("transaction %s of %s reverted: %s", tx_hash, sender, revert)
        return 0, chain.CALL_GAS
    chain.apply(venue.ledger, redemptions)
    for done in redemptions:
        log.info("redemption by %s in %s: %s pUSD paid", sender, tx_hash, done.paid)
    return 1, chain.CALL_GAS


def _dispatch(venue: Any, method: Any, params: list[Any]) -> Any:
    state = venue.chain
    match method:
        case "eth_chainId":
            return hex(chain.CHAIN_ID)
        case "eth_blockNumber":
            return hex(state.block)
        case "eth_getBlockByNumber":
            return {"number": hex(state.block), "timestamp": hex(venue.now_s())}
        case "eth_gasPrice":
            return hex(chain.GAS_PRICE_WEI)
        case "eth_getBalance":
            return hex(state.pol(_address(_param(params, 0))))
        case "eth_getTransactionCount":
            return hex(state.tx_counts.get(_address(_param(params, 0)), 0))
        case "eth_call":
            return eth_call(venue, params)
        case "eth_estimateGas":
            return eth_estimate_gas(venue, params)
        case "eth_sendRawTransaction":
            return eth_send_raw_transaction(venue, params)
        case "eth_getTransactionReceipt":
            return state.receipts.get(str(_param(params, 0)).lower())
    raise RpcError(-32601, f"the method {method} does not exist/is not available")


def _answer(venue: Any, envelope: Any) -> dict[str, Any]:
    """One JSON-RPC response object (errors are values, never HTTP errors)."""
    if not isinstance(envelope, dict):
        return {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "invalid"}}
    request_id = envelope.get("id")
    params = envelope.get("params", [])
    try:
        if not isinstance(params, list):
            raise RpcError(-32602, "params must be an array")
        result = _dispatch(venue, envelope.get("method"), params)
    except RpcError as error:
        return {
            "jsonrpc": "2.0",
            "id": request_id,
            "error": {"code": error.code, "message": error.message},
        }
    return {"jsonrpc": "2.0", "id": request_id, "result": result}


async def rpc(request: web.Request) -> web.Response:
    """POST / with one JSON-RPC request or a batch (array) of them."""
    venue = _venue(request)
    body = await read_json(request)
    if isinstance(body, list):
        return json_response([_answer(venue, item) for item in body])
    return json_response(_answer(venue, body))


def add_routes(app: web.Application) -> None:
    """Register the node on its own site's app."""
    app.router.add_post("/", rpc)


__all__ = ["RpcError", "add_routes"]
