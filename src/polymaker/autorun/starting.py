"""Starting one topic's worker: validated PARAMS, the ledger's STARTING, a fork or a cold start.

The counterpart of ``exits`` (what happens when a worker ends). A topic whose PARAMS cannot be
made valid fails here, before any process exists; a process that cannot be started counts as a
failed start and is retried by the restart policy. Either way the supervisor's loop goes on.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from polymaker.autorun.exits import record_exit
from polymaker.autorun.launch import build_params, launch
from polymaker.autorun.monitor import Task
from polymaker.autorun.states import TopicState
from polymaker.errors import ConfigError

if TYPE_CHECKING:
    from polymaker.autorun.supervisor import Supervisor

log = logging.getLogger("polymaker.autorun")


def drill_overrides(supervisor: Supervisor) -> dict[str, Any]:
    """``drill.strategy_overrides`` for workers on the embedded drill exchange, else none."""
    if supervisor.mode != "drill" or not supervisor.config.exchange.is_embedded:
        return {}
    return {
        "overrides": supervisor.config.drill.strategy_overrides,
        "overrides_file": supervisor.options.config_file,
    }


def start_topic(supervisor: Supervisor, topic: str) -> None:
    """Launch (or restart) ``topic``'s worker and register its task."""
    ledger = supervisor.ledger
    details = supervisor.details[topic]
    assert ledger is not None and supervisor.urls is not None and supervisor.key is not None
    entry = ledger.get(topic)
    attempt = f"restart {entry.attempts}" if entry and entry.attempts else "launch"
    paths = supervisor.paths
    try:
        params = build_params(
            details,
            defaults=supervisor.strategy,
            strategy_file=paths.strategy_config,
            mode=supervisor.mode,
            urls=supervisor.urls,
            paths=paths,
            ratelimit_fraction=supervisor.config.ratelimit_fraction,
            wallet_address=supervisor.key.wallet_address,
            **drill_overrides(supervisor),
        )
    except ConfigError as error:
        ledger.transition(topic, TopicState.STARTING, reason=attempt)
        ledger.transition(topic, TopicState.FAILED, reason=f"invalid worker params: {error}")
        log.error("%s: not launched: %s", topic, error)
        return
    ledger.transition(topic, TopicState.STARTING, reason=attempt)
    try:
        process = launch(
            params,
            paths=paths,
            extra_env=supervisor.key.extra_env,
            log_max_bytes=supervisor.config.log_max_bytes,
            template=supervisor.template,
        )
    except Exception as error:  # no process: counted as a failed start, retried by policy
        log.error("%s: cannot start the worker: %s", topic, error)
        record_exit(supervisor, topic, 1, f"cannot start the worker: {error}", stop=False)
        return
    supervisor.tasks[topic] = Task(
        topic_id=topic,
        process=process,
        details=details,
        params_file=paths.params_file(topic),
        status_file=paths.status_file(topic),
        log_file=paths.topic_log(topic),
    )
    how = "forked" if process.forked else "cold start"
    log.info(
        "%s: %s, pid %d (%s), log %s", topic, attempt, process.pid, how, paths.topic_log(topic)
    )
    supervisor.write_run_state()  # the new pid is on disk before the next tick (recovery reads it)


__all__ = ["drill_overrides", "start_topic"]
