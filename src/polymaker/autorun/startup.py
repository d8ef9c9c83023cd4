"""Start-up of a supervisor run: the exchange, and recovery from a predecessor that died.

Recovery (docs/operations.md "After a crash"): topics the ledger shows as active were left by a
supervisor that died. Their workers, found by command line or (forked ones) process title and
verified before any signal, are stopped; their markets are swept; they are queued again, at
the front of the queue, so they resume before new topics (each worker takes over the position
it finds). A drill exchange it left is killed after the same check.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from polymaker.autorun import recovery
from polymaker.autorun.account import open_account
from polymaker.autorun.embedded import EmbeddedExchange, kill_stale_sim
from polymaker.autorun.exits import sweep_note
from polymaker.autorun.holdings import open_holdings
from polymaker.autorun.launch import details_from_topic
from polymaker.autorun.states import ACTIVE_STATES, TopicState
from polymaker.autorun.sweeper import Sweeper
from polymaker.config.global_config import Mode
from polymaker.errors import ConfigError, StateFileError
from polymaker.exchange.secrets import ENV_CREDS_FILE
from polymaker.files import read_json_file

if TYPE_CHECKING:
    from polymaker.autorun.supervisor import Supervisor

log = logging.getLogger("polymaker.autorun")


async def start_exchange(supervisor: Supervisor, previous: dict[str, Any]) -> None:
    """Kill a drill exchange a dead predecessor left; start ours or use the configured one.

    With a key (drill, live): authenticate once (``account.open_account``: credentials to
    ``data/api_creds.json`` for the workers, the order heartbeat), then open the sweeper.
    """
    embedded = previous.get("embedded_exchange")
    if isinstance(embedded, dict) and isinstance(embedded.get("pid"), int):
        await kill_stale_sim(embedded["pid"], Path(str(embedded.get("url_file"))))
    configured = supervisor.config.exchange.urls()
    if configured is None:
        if supervisor.mode is not Mode.DRILL:
            raise ConfigError("only drill mode can run an embedded exchange", key="exchange")
        supervisor.embedded = EmbeddedExchange(
            supervisor.config.drill, supervisor.paths.data_dir, supervisor.paths.log_dir
        )
        configured = await supervisor.embedded.start()
    supervisor.urls = configured
    key = supervisor.key
    assert key is not None
    if key.key is not None:
        account = await open_account(
            key.key,
            key.credentials,
            configured,
            wallet=key.wallet,
            relayer_key=key.relayer_key,
            data_dir=supervisor.paths.data_dir,
            heartbeat=supervisor.config.order_heartbeat,
            redactor=supervisor.options.redactor,
        )
        supervisor.account = account
        supervisor.key = replace(
            key,
            credentials=account.credentials,
            extra_env={**key.extra_env, ENV_CREDS_FILE: str(account.creds_file)},
        )
        supervisor.sweeper = Sweeper.for_key(
            key.key, configured, account.credentials, wallet=key.wallet
        )
        await supervisor.sweeper.connect()
        wallet = key.wallet.address if key.wallet is not None else None
        if wallet is not None:
            supervisor.holdings = await open_holdings(
                supervisor.sweeper.all_open_orders, configured.data_url, wallet
            )
    log.info("exchange: %s", configured.clob_url)


async def recover(supervisor: Supervisor, previous: dict[str, Any]) -> None:
    """Kill workers a dead predecessor left, sweep their markets, queue them again."""
    ledger = supervisor.ledger
    assert ledger is not None
    supervisor.details.update(recovery.details_in_run_state(previous))
    load_last_screen(supervisor)
    active = ledger.in_state(ACTIVE_STATES)
    files = {entry.topic_id: supervisor.paths.params_file(entry.topic_id) for entry in active}
    found = recovery.find_workers(files.values())
    for entry in reversed(active):  # each goes to the front: they keep their ledger order
        pids = found.get(files[entry.topic_id], [])
        await recovery.kill_leftover_workers(pids, supervisor.config.stop_timeout_s)
        note = await sweep_note(supervisor, entry.topic_id)
        ledger.transition(
            entry.topic_id,
            TopicState.QUEUED,
            reason=f"resumed: the previous supervisor left it {entry.state}{note}",
            front=True,
        )
    if active:
        log.warning("recovered %d topics left active by the previous supervisor", len(active))


def load_last_screen(supervisor: Supervisor) -> None:
    """Market details from the last screen file (to launch topics queued by an earlier run)."""
    try:
        document = read_json_file(supervisor.paths.topics_filtered)
    except StateFileError:
        return
    for topic in document.get("topics", []) if isinstance(document, dict) else []:
        with contextlib.suppress(ValueError, AttributeError):
            details = details_from_topic(topic)
            supervisor.details.setdefault(details.topic_id, details)


__all__ = ["load_last_screen", "recover", "start_exchange"]
