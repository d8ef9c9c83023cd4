"""Build, check and write one worker's ``PARAMS.json``, and spawn the worker with it.

The market fields come from the screener's topic entry (``data/topics_filtered.json``), the
strategy from ``strategy_for`` (default <- patterns <- topic overrides), the exchange from the
supervisor. The document is validated with ``WorkerParams`` *before* the worker starts, so a
bad market or override fails here with a reason instead of in a child (the reference launched
workers without a side, 4.14). No secret is ever put in PARAMS: the key travels as the path in
``POLYMAKER_KEY_FILE`` (or the inherited ``POLYMAKER_PRIVATE_KEY``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from polymaker.autorun.processes import WorkerProcess, spawn_worker, worker_title
from polymaker.autorun.template import WorkerTemplate
from polymaker.config.global_config import Mode, ResolvedPaths
from polymaker.config.strategy_defaults import StrategyDefaults, strategy_for, validate_params
from polymaker.config.worker_params import WorkerParams, parse_worker_params
from polymaker.exchange.ratelimit import DEFAULT_FRACTION
from polymaker.exchange.urls import ExchangeUrls
from polymaker.files import atomic_write_json
from polymaker.worker.template import ForkRequest

RAW_OUTPUT_SUFFIX = ".stdout.log"

_REQUIRED = ("topic_id", "condition_id", "yes_token", "no_token", "preferred_side", "end_time")


@dataclass(frozen=True)
class MarketDetails:
    """What the supervisor keeps about a market to (re)launch its worker without a new screen."""

    topic_id: str
    condition_id: str
    yes_token: str
    no_token: str
    side: str
    tick_size: str | None
    min_order_size: str | None
    neg_risk: bool | None
    end_time: str
    question: str = ""
    event_title: str = ""
    event_slug: str | None = None
    ask: str | None = None  # the chosen side's best ask at the screen (the likely entry)

    @property
    def token_id(self) -> str:
        """The outcome token the worker trades."""
        return self.yes_token if self.side == "YES" else self.no_token

    def to_json(self) -> dict[str, Any]:
        """A plain dict for ``run_state.json``."""
        return asdict(self)


def details_from_topic(topic: Mapping[str, Any]) -> MarketDetails:
    """Read a screener topic entry; ``ValueError`` naming the missing field if incomplete."""
    missing = [name for name in _REQUIRED if not topic.get(name)]
    if missing:
        raise ValueError(f"screener topic lacks {', '.join(missing)}")

    def text(name: str) -> str | None:
        value = topic.get(name)
        return None if value is None else str(value)

    neg_risk = topic.get("neg_risk")
    return MarketDetails(
        topic_id=str(topic["topic_id"]),
        condition_id=str(topic["condition_id"]),
        yes_token=str(topic["yes_token"]),
        no_token=str(topic["no_token"]),
        side=str(topic["preferred_side"]),
        tick_size=text("tick_size"),
        min_order_size=text("min_order_size"),
        neg_risk=neg_risk if isinstance(neg_risk, bool) else None,
        end_time=str(topic["end_time"]),
        question=str(topic.get("question") or ""),
        event_title=str(topic.get("event_title") or ""),
        event_slug=text("event_slug"),
        ask=text("ask"),
    )


def details_from_json(document: Mapping[str, Any]) -> MarketDetails:
    """The inverse of ``MarketDetails.to_json`` (``TypeError``/``KeyError`` if malformed)."""
    return MarketDetails(**dict(document))


def build_params(
    details: MarketDetails,
    *,
    defaults: StrategyDefaults,
    strategy_file: Path | str,
    mode: Mode,
    urls: ExchangeUrls,
    paths: ResolvedPaths,
    ratelimit_fraction: float = DEFAULT_FRACTION,
    wallet_address: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    overrides_file: Path | str | None = None,
) -> WorkerParams:
    """The validated PARAMS of one launch; ``ConfigError`` names the key that is wrong.

    ``overrides`` (the global config's ``drill.strategy_overrides``, given only for the embedded
    drill exchange) are applied last, on top of default <- patterns <- topic overrides.
    """
    strategy = strategy_for(
        defaults,
        topic_id=details.topic_id,
        question=details.question,
        event_title=details.event_title,
        event_slug=details.event_slug,
        file=strategy_file,
    )
    if overrides:
        merged = {**strategy.model_dump(mode="json", exclude_none=True), **overrides}
        strategy = validate_params(merged, file=overrides_file, section="drill.strategy_overrides")
    document: dict[str, Any] = {
        "topic_id": details.topic_id,
        "condition_id": details.condition_id,
        "yes_token": details.yes_token,
        "no_token": details.no_token,
        "side": details.side,
        "tick_size": details.tick_size,
        "min_order_size": details.min_order_size,
        "neg_risk": details.neg_risk,
        "end_time": details.end_time,
        "mode": str(mode),
        "exchange": urls.model_dump(),
        "status_file": str(paths.status_file(details.topic_id)),
        "log_file": str(paths.topic_log(details.topic_id)),
        "ratelimit_dir": str(ratelimit_dir(paths)),
        "ratelimit_fraction": ratelimit_fraction,
        "wallet_address": wallet_address,
        "strategy": strategy.model_dump(mode="json", exclude_none=True),
    }
    return parse_worker_params(document, file=paths.params_file(details.topic_id))


def ratelimit_dir(paths: ResolvedPaths) -> Path:
    """``data/ratelimit``: the account's request budget, shared by all its workers."""
    return paths.data_dir / "ratelimit"


def write_params(params: WorkerParams, path: Path) -> Path:
    """Write PARAMS atomically (the worker may be read by a person at any time)."""
    atomic_write_json(path, params.model_dump(mode="json"))
    return path


def raw_output_file(paths: ResolvedPaths, topic_id: str) -> Path:
    """``logs/topics/<topic>.stdout.log``: what the worker prints outside its own log."""
    log = paths.topic_log(topic_id)
    return log.with_name(log.stem + RAW_OUTPUT_SUFFIX)


def rotate_if_large(path: Path, max_bytes: int) -> None:
    """Keep one previous copy (``.1``) of a raw output file once it passes ``max_bytes``."""
    try:
        if path.stat().st_size > max_bytes:
            path.replace(path.with_name(path.name + ".1"))
    except FileNotFoundError:
        return


def launch(
    params: WorkerParams,
    *,
    paths: ResolvedPaths,
    extra_env: Mapping[str, str],
    log_max_bytes: int,
    template: WorkerTemplate | None = None,
) -> WorkerProcess:
    """Write PARAMS and fork the worker from the template, else start ``polymaker worker`` cold.

    The worker rotates its own log (``log_file`` in PARAMS); pointing the child's stdout at
    that same file would keep writing to the rotated-away inode, so raw output (tracebacks
    before logging is set up) goes to ``<topic>.stdout.log``, kept small here.
    """
    params_path = write_params(params, paths.params_file(params.topic_id))
    raw = raw_output_file(paths, params.topic_id)
    raw.parent.mkdir(parents=True, exist_ok=True)
    rotate_if_large(raw, log_max_bytes)
    if template is not None:
        pid = template.fork(ForkRequest(params_path, raw, worker_title(params_path)))
        if pid is not None:
            return WorkerProcess(pid, params.topic_id, raw, forked=True)
    return spawn_worker(params_path, topic_id=params.topic_id, log_file=raw, extra_env=extra_env)


__all__ = [
    "MarketDetails",
    "build_params",
    "details_from_json",
    "details_from_topic",
    "launch",
    "ratelimit_dir",
    "raw_output_file",
    "rotate_if_large",
    "write_params",
]
