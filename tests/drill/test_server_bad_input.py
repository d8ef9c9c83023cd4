"""Bad input gets a 4xx JSON error (never a 500, a hang or a crash); bad CLI flags exit 2."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import orjson
import pytest
from eth_account import Account
from polymarket._internal.hmac import build_hmac_signature

from polymaker.cli import main
from polymaker.drill.server import SimOptions
from polymaker.drill.testing import InProcessSim, in_process_sim, running_sim
from polymaker.exchange.sdk import create_secure_client

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sim() -> Iterator[InProcessSim]:
    with in_process_sim(SimOptions(markets=30, seed=11)) as running:
        yield running


@pytest.fixture(scope="module")
def client(sim: InProcessSim):
    return create_secure_client(Account.create().key.hex(), sim.urls)


def _signed(client, method: str, path: str, body: bytes | None) -> dict[str, str]:
    creds = client.credentials
    ts = int(time.time())
    signature = build_hmac_signature(
        secret=creds.secret,
        timestamp=ts,
        method=method,
        path=path,
        body=None if body is None else body.decode(),
    )
    return {
        "POLY_ADDRESS": client.signer,
        "POLY_API_KEY": creds.key,
        "POLY_PASSPHRASE": creds.passphrase,
        "POLY_SIGNATURE": signature,
        "POLY_TIMESTAMP": str(ts),
        "Content-Type": "application/json",
    }


def _send(sim, client, method: str, path: str, body: bytes | None) -> httpx.Response:
    headers = _signed(client, method, path, body)
    return httpx.request(method, sim.urls.clob_url + path, content=body, headers=headers)


def _assert_json_error(response: httpx.Response, status: int, text: str = "") -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert text in response.json()["error"]


def _valid_order(client, sim) -> dict[str, object]:
    market = next(m for m in sim.venue.universe.markets if m.tradable)
    signed = client.create_limit_order(
        asset_id=market.yes_token, price="0.01", size="5", side="BUY", post_only=True
    )
    from polymarket._internal.actions.orders.post import build_post_order_request

    return build_post_order_request(signed, owner_api_key=client.credentials.key)[1]


@pytest.mark.parametrize(
    ("body", "status", "text"),
    [
        (b"{not json", 400, "malformed JSON"),
        (b"", 400, "empty body"),
        (b"[1, 2]", 400, "Invalid order payload"),
        (b'{"order": {}, "owner": "x", "orderType": "GTC"}', 400, "owner"),
    ],
)
def test_post_order_rejects_malformed_bodies(sim, client, body, status, text) -> None:
    _assert_json_error(_send(sim, client, "POST", "/order", body), status, text)


@pytest.mark.parametrize(
    ("field", "value", "status", "text"),
    [
        ("makerAmount", 5, 400, "makerAmount"),
        ("side", "HOLD", 400, "side"),
        ("tokenId", "12345", 404, "not found"),
        ("signature", "0x" + "11" * 65, 400, "invalid order signature"),
        ("salt", 1, 400, "invalid order signature"),  # signed fields changed after signing
        ("signer", "0x" + "ab" * 20, 400, "signer address has to be the address of the API KEY"),
    ],
)
def test_post_order_rejects_bad_fields(sim, client, field, value, status, text) -> None:
    payload = _valid_order(client, sim)
    payload["order"] = {**payload["order"], field: value}
    _assert_json_error(_send(sim, client, "POST", "/order", orjson.dumps(payload)), status, text)


def test_missing_or_bad_l2_signature_is_401(sim, client) -> None:
    body = orjson.dumps(_valid_order(client, sim))
    bare = httpx.post(sim.urls.clob_url + "/order", content=body)
    _assert_json_error(bare, 401, "Unauthorized/Invalid api key")
    headers = {**_signed(client, "POST", "/order", body), "POLY_SIGNATURE": "AAAA"}
    forged = httpx.post(sim.urls.clob_url + "/order", content=body, headers=headers)
    _assert_json_error(forged, 401, "Unauthorized/Invalid api key")
    l1 = httpx.get(sim.urls.clob_url + "/auth/derive-api-key", headers={"POLY_ADDRESS": "0x1"})
    _assert_json_error(l1, 401, "Invalid L1 Request headers")


def test_batch_limit_and_cancel_bodies(sim, client) -> None:
    order = _valid_order(client, sim)
    too_many = _send(sim, client, "POST", "/orders", orjson.dumps([order] * 16))
    _assert_json_error(too_many, 400, "Too many orders in payload: 16, max allowed: 15")
    _assert_json_error(_send(sim, client, "DELETE", "/order", b"{}"), 400, "orderID")
    _assert_json_error(_send(sim, client, "DELETE", "/orders", b"[1]"), 400, "order id")
    _assert_json_error(_send(sim, client, "DELETE", "/cancel-market-orders", b"{}"), 400, "market")
    unknown = _send(sim, client, "DELETE", "/order", b'{"orderID": "0xdead"}')
    assert unknown.status_code == 200 and unknown.json()["not_canceled"] == {
        "0xdead": "order can't be found - already canceled or matched"
    }


def test_public_routes_reject_missing_and_unknown_tokens(sim) -> None:
    clob = sim.urls.clob_url
    _assert_json_error(httpx.get(f"{clob}/book"), 400, "token_id")
    _assert_json_error(httpx.get(f"{clob}/book", params={"token_id": "1"}), 404, "not found")
    _assert_json_error(httpx.post(f"{clob}/books", content=b'{"a":1}'), 400, "array")
    _assert_json_error(httpx.get(f"{clob}/price", params={"token_id": "1", "side": "UP"}), 404)
    _assert_json_error(httpx.get(f"{clob}/clob-markets/0xabc"), 404, "not found")
    gamma = sim.urls.gamma_url
    _assert_json_error(httpx.get(f"{gamma}/markets", params={"limit": "x"}), 400, "limit")
    _assert_json_error(httpx.get(f"{gamma}/markets/keyset", params={"offset": 5}), 400, "offset")
    _assert_json_error(httpx.get(f"{gamma}/markets", params={"end_date_min": "soon"}), 400)
    _assert_json_error(httpx.get(f"{gamma}/markets/999999999"), 404)
    _assert_json_error(httpx.get(f"{sim.urls.data_url}/v2/positions"), 400, "user")
    _assert_json_error(httpx.post(f"{clob}/_sim/markets", content=b'{"question": 1}'), 400)


@pytest.mark.parametrize(
    "flags",
    [
        ["--markets", "0"],
        ["--speed", "-1"],
        ["--volatility", "-1"],
        ["--takers-per-minute", "1000"],
        ["--faults", "http999=1"],
        ["--balance", "lots"],
        ["--settle-ms", "5"],
        ["--replay", "/nonexistent/file.jsonl"],
        ["--port", "x"],
    ],
)
def test_bad_cli_arguments_exit_2(flags: list[str], capsys) -> None:
    assert main(["sim", *flags]) == 2
    assert "polymaker sim" in capsys.readouterr().err


def test_sim_command_writes_url_file_and_stops_on_sigterm(tmp_path) -> None:
    with running_sim(tmp_path, markets=20, seed=2) as urls:
        assert httpx.get(urls.clob_url + "/ok").json() == "OK"
        assert len(httpx.get(urls.gamma_url + "/markets", params={"limit": 50}).json()) == 20
        assert set(orjson.loads((tmp_path / "sim_urls.json").read_bytes())) == {
            "gamma_url",
            "clob_url",
            "data_url",
            "ws_market_url",
            "ws_user_url",
            "relayer_url",
        }
        assert httpx.get(
            urls.relayer + "/deployed", params={"address": "0x" + "1" * 40}
        ).json() == {"deployed": False}
    assert not (tmp_path / "sim_urls.json").exists()
    assert "drill exchange stopping" in (tmp_path / "sim.log").read_text()
