"""``config/global_config.json``: the supervisor's scheduling, limits, paths and exchange.

One frozen model per section; every field typed, defaulted and described. Relative paths are
resolved by exactly one function, ``resolve_paths`` (the reference ignored configured paths).
Live trading needs two explicit choices: ``"mode": "live"`` in the file and ``--mode live`` on
the command line (``choose_mode``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    Field,
    Strict,
    StrictBool,
    StrictInt,
    ValidationInfo,
    field_validator,
    model_validator,
)

from polymaker.config._loading import ConfigModel, load_config_file
from polymaker.config._types import ConfigPath, expand_user
from polymaker.errors import ConfigError
from polymaker.exchange.ratelimit import DEFAULT_FRACTION
from polymaker.exchange.urls import HTTP_SCHEMES, WS_SCHEMES, ExchangeUrls, checked_url
from polymaker.exchange.wallet import checksummed_address

DEFAULT_GLOBAL_CONFIG = Path("config/global_config.json")
MAX_USDC = Decimal("1e9")
MIN_POLL_S, MAX_POLL_S = 1.0, 86_400.0
"""``topics_poll_sec``'s range, also enforced by the run-time ``set poll`` command."""


class Mode(StrEnum):
    """drill: the local drill exchange; paper: real market data, simulated fills; live: real."""

    DRILL = "drill"
    PAPER = "paper"
    LIVE = "live"


def _number_not_bool(value: Any) -> Any:
    """JSON ``true`` is not a number; pydantic would otherwise read it as 1."""
    if isinstance(value, bool):
        raise ValueError("must be a number, not a boolean")
    return value


# Strict: a JSON number only (an int is fine), never a string or a boolean; finite. Each key
# adds the range a trader could mean (docs/configuration.md lists them).
Seconds = Annotated[float, Strict(), Field(allow_inf_nan=False)]
# Money: a JSON number or a decimal string, read as Decimal; never a boolean; finite.
Usdc = Annotated[
    Decimal, BeforeValidator(_number_not_bool), Field(gt=0, le=MAX_USDC, allow_inf_nan=False)
]


class ExchangeSection(ConfigModel):
    """The exchange endpoints; all null in drill mode = start an embedded drill exchange.

    gamma_url, clob_url, data_url: http(s) base URLs. ws_market_url, ws_user_url: complete
    ws(s) URLs (``.../ws/market``, ``.../ws/user``). Either all five are set or none.
    relayer_url: the relayer for proxy, Safe and deposit wallets (optional: null = Polymarket's
    relayer when the five are Polymarket's, else none, which only a plain EOA account can use).
    rpc_url: a Polygon JSON-RPC node (optional: null = the official client's public node when
    the five are Polymarket's). Redemptions read Protocol V2 balances there, and a plain EOA
    sends its redemptions through it and pays their gas.
    """

    gamma_url: str | None = None
    clob_url: str | None = None
    data_url: str | None = None
    ws_market_url: str | None = None
    ws_user_url: str | None = None
    relayer_url: str | None = None
    rpc_url: str | None = None

    @field_validator("gamma_url", "clob_url", "data_url", "relayer_url", "rpc_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        return None if value is None else checked_url(value, HTTP_SCHEMES).rstrip("/")

    @field_validator("ws_market_url", "ws_user_url")
    @classmethod
    def _ws_url(cls, value: str | None) -> str | None:
        return None if value is None else checked_url(value, WS_SCHEMES)

    @model_validator(mode="after")
    def _all_or_none(self) -> ExchangeSection:
        five = self.model_dump(exclude={"relayer_url", "rpc_url"})
        missing = [name for name, value in five.items() if value is None]
        if missing and len(missing) < 5:
            raise ValueError(f"set all five URLs or none; missing: {', '.join(missing)}")
        for optional in ("relayer_url", "rpc_url"):
            if len(missing) == 5 and getattr(self, optional) is not None:
                raise ValueError(f"{optional} is set but the five URLs are null; set them too")
        return self

    @property
    def is_embedded(self) -> bool:
        """True when no URL is set: ``polymaker run`` starts its own drill exchange."""
        return self.gamma_url is None

    def urls(self) -> ExchangeUrls | None:
        """The configured endpoints, or None when an embedded drill exchange is to be used."""
        return None if self.is_embedded else ExchangeUrls(**self.model_dump())


class RestartSection(ConfigModel):
    """Restart policy for workers that exit abnormally (codes other than 0, 2, 3).

    max_retries: restarts before the topic is ``failed`` (0 = never restart).
    backoff_base_s: delay before the first restart; doubles per restart (with jitter).
    backoff_max_s: cap of that delay.
    reset_after_s: a worker that stayed up this long has its retry count reset to 0.
    """

    max_retries: StrictInt = Field(default=3, ge=0, le=100)
    backoff_base_s: Seconds = Field(default=5.0, ge=0.1, le=3600)
    backoff_max_s: Seconds = Field(default=300.0, ge=0.1, le=86_400)
    reset_after_s: Seconds = Field(default=600.0, ge=1, le=604_800)

    @model_validator(mode="after")
    def _cap_above_base(self) -> RestartSection:
        if self.backoff_max_s < self.backoff_base_s:
            raise ValueError("backoff_max_s must be >= backoff_base_s")
        return self


class ScreenerSection(ConfigModel):
    """Bounds of one screening run (a killable subprocess).

    timeout_s: wall-clock limit of one attempt; the screener is killed past it.
    retries: extra attempts after a failed or timed-out one (0 = one attempt).
    """

    timeout_s: Seconds = Field(default=120.0, ge=1, le=3600)
    retries: StrictInt = Field(default=2, ge=0, le=10)


class PathsSection(ConfigModel):
    """Files and directories; relative paths resolve against the project root (``resolve_paths``).

    data_dir: state files (ledger, status files, control socket, lock, worker params).
    log_dir: ``autorun.log`` and ``topics/<topic>.log``.
    handled_topics, topics_filtered, run_state: null = that file name inside ``data_dir``.
    filter_config, strategy_config: the screener and strategy config files
    (``--filter-config`` / ``--strategy-config`` on the command line win).
    """

    data_dir: ConfigPath = Path("data")
    log_dir: ConfigPath = Path("logs")
    handled_topics: ConfigPath | None = None
    topics_filtered: ConfigPath | None = None
    run_state: ConfigPath | None = None
    filter_config: ConfigPath = Path("config/filter_params.json")
    strategy_config: ConfigPath = Path("config/strategy_defaults.json")


class DrillSection(ConfigModel):
    """The embedded drill exchange (used when mode is drill and no exchange URL is set).

    markets: simulated markets created at start. seed: RNG seed (same seed, same run).
    speed: simulated-time multiplier (1.0 = real time). balance_usdc: the drill account's cash.
    volatility: fair-price volatility in logit units per sqrt(simulated day) (the exchange's
    default 0.8 moves a favourite about a tick an hour; 10 about a tick a minute).
    takers_per_minute: background taker orders per simulated minute in a watched market.
    resolve_delay_s: mean simulated time from a market's end to its resolution (when its
    winning shares can be redeemed).
    strategy_overrides: strategy keys applied on top of config/strategy_defaults.json for
    workers on the embedded exchange only (never in paper or live mode), so a rehearsal can
    trade quickly without changing the parameters used with real money.
    """

    markets: StrictInt = Field(default=300, ge=1, le=20_000)
    seed: StrictInt = Field(default=42, ge=0, le=2**63 - 1)
    speed: Annotated[float, Strict(), Field(ge=0.01, le=100_000, allow_inf_nan=False)] = 1.0
    balance_usdc: Usdc = Decimal("1000")
    volatility: Annotated[float, Strict(), Field(ge=0, le=50, allow_inf_nan=False)] = 0.8
    takers_per_minute: Annotated[float, Strict(), Field(ge=0, le=600, allow_inf_nan=False)] = 3.0
    resolve_delay_s: Annotated[float, Strict(), Field(ge=0, le=86_400, allow_inf_nan=False)] = (
        1800.0
    )
    strategy_overrides: dict[str, Any] = Field(default_factory=dict)

    @field_validator("strategy_overrides")
    @classmethod
    def _known_strategy_keys(cls, overrides: dict[str, Any]) -> dict[str, Any]:
        # Checked at load so a typo fails at start-up, not at the first launch.
        from polymaker.config.strategy import StrategyParams

        unknown = sorted(set(overrides) - set(StrategyParams.model_fields))
        if unknown:
            raise ValueError(f"unknown strategy key '{unknown[0]}' (see docs/strategy.md)")
        StrategyParams.model_validate(overrides)
        return overrides


class OrderHeartbeatSection(ConfigModel):
    """The venue's dead-man switch, sent by the supervisor alone (never by a worker).

    enabled: in drill and live mode the supervisor sends ``POST /v1/heartbeats`` for the
    account's API key from start-up to exit; once armed, the exchange cancels every open order
    of the key ~10 s after the last accepted heartbeat (a dead host or supervisor leaves no
    resting order behind). Ignored in paper mode (no order rests at the exchange).
    interval_s: period between heartbeats, 1..8 s (the venue's timeout is ~10 s).
    """

    enabled: StrictBool = False
    interval_s: Annotated[float, Strict(), Field(ge=1, le=8, allow_inf_nan=False)] = 5.0


class RedeemSection(ConfigModel):
    """Redeeming what resolved markets pay out (the supervisor's redeemer, docs/operations.md).

    enabled: in drill and live mode the supervisor redeems the wallet's positions in resolved
    markets by itself (``polymaker redeem`` does the same by hand).
    scan_interval_s: period between looks at the wallet's resolved positions (a worker that
    ends holding shares brings the next look forward).
    backoff_base_s, backoff_max_s: delay before retrying a failed redemption, doubling per
    attempt up to the cap (with jitter); a failed redemption is retried until it succeeds.
    """

    enabled: StrictBool = True
    scan_interval_s: Annotated[float, Strict(), Field(ge=1, le=3600, allow_inf_nan=False)] = 15.0
    backoff_base_s: Annotated[float, Strict(), Field(ge=0.1, le=3600, allow_inf_nan=False)] = 5.0
    backoff_max_s: Annotated[float, Strict(), Field(ge=1, le=86_400, allow_inf_nan=False)] = 300.0

    @model_validator(mode="after")
    def _base_below_max(self) -> RedeemSection:
        if self.backoff_base_s > self.backoff_max_s:
            raise ValueError("backoff_base_s must not exceed backoff_max_s")
        return self


class GlobalConfig(ConfigModel):
    """The whole of ``config/global_config.json`` (documented key by key in docs/configuration.md).

    mode: drill | paper | live (live also needs ``--mode live``). exchange: endpoints (above).
    wallet_address: the wallet that holds the funds and positions: null = the key's own
    address (a plain EOA); else the key's proxy wallet, Safe or deposit wallet, classified from
    the key at start (``exchange.wallet``; ``POLYMAKER_WALLET_ADDRESS`` overrides it).
    max_concurrent_workers: cap on worker processes alive at once.
    worker_template: fork workers from one pre-imported template process (false: every
    worker is a fresh Python, as before). spare_workers: deprecated and ignored (a warning at
    start-up); the template replaced the spare workers.
    topics_poll_sec: screening period. stop_timeout_s: SIGTERM -> SIGKILL delay.
    heartbeat_stale_s: a worker whose status file is older than this is restarted (workers
    write it at least every 2 s). ignore_history: start topics even if the ledger has them from
    an earlier run (a topic stopped by the user still stays stopped).
    max_total_exposure_usdc: cap on the sum of all positions at cost (null = off).
    max_markets_held: cap on markets holding a position at once (null = off).
    daily_loss_limit_usdc: realized loss per UTC day that pauses launching (null = off).
    flatten_on_daily_loss: on reaching the daily loss limit also stop every worker gracefully
    (their positions are then held, not sold). order_heartbeat: the dead-man switch (above).
    ratelimit_fraction: share of the venue's documented request limits that all workers of the
    account together may use (``exchange.ratelimit``). redeem: redeeming resolved positions
    (above).
    log_max_bytes, log_backups: size-based rotation of every log file.
    status_interval_s: period of the status table / ``run_state.json`` snapshot.
    """

    mode: Mode = Mode.DRILL
    wallet_address: str | None = None
    exchange: ExchangeSection = ExchangeSection()
    max_concurrent_workers: StrictInt = Field(default=3, ge=1, le=200)
    worker_template: StrictBool = True
    spare_workers: StrictInt | None = None
    topics_poll_sec: Seconds = Field(default=300.0, ge=MIN_POLL_S, le=MAX_POLL_S)
    stop_timeout_s: Seconds = Field(default=10.0, ge=1, le=600)
    heartbeat_stale_s: Seconds = Field(default=30.0, ge=5, le=3600)
    restart: RestartSection = RestartSection()
    screener: ScreenerSection = ScreenerSection()
    ignore_history: StrictBool = False
    paths: PathsSection = PathsSection()
    max_total_exposure_usdc: Usdc | None = None
    max_markets_held: StrictInt | None = Field(default=None, ge=1, le=10_000)
    daily_loss_limit_usdc: Usdc | None = None
    flatten_on_daily_loss: StrictBool = False
    order_heartbeat: OrderHeartbeatSection = OrderHeartbeatSection()
    redeem: RedeemSection = RedeemSection()
    ratelimit_fraction: Annotated[float, Strict(), Field(gt=0, le=1, allow_inf_nan=False)] = (
        DEFAULT_FRACTION
    )
    log_max_bytes: StrictInt = Field(default=10_000_000, ge=10_000, le=10**11)
    log_backups: StrictInt = Field(default=5, ge=0, le=100)
    drill: DrillSection = DrillSection()
    status_interval_s: Seconds = Field(default=5.0, ge=0.5, le=3600)

    @field_validator("wallet_address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return None if value is None else checksummed_address(value)

    @field_validator("exchange")
    @classmethod
    def _exchange_fits_mode(cls, value: ExchangeSection, info: ValidationInfo) -> ExchangeSection:
        mode = info.data.get("mode")
        problem = None if mode is None else exchange_problem(mode, value)
        if problem:
            raise ValueError(problem)
        return value


def exchange_problem(mode: Mode, exchange: ExchangeSection) -> str | None:
    """Why ``exchange`` cannot serve ``mode``, or None when it can.

    paper and live need real endpoints; drill must never point at Polymarket production, not
    even with one URL among local ones (``is_production_host``: any case, port or path).
    """
    urls = exchange.urls()
    if mode is not Mode.DRILL and urls is None:
        return f"mode {mode} needs the five exchange URLs (exchange.gamma_url ...); they are null"
    if mode is Mode.DRILL and urls is not None and urls.production_urls:
        return (
            f"mode drill must not use Polymarket's production hosts ({urls.production_urls[0]}); "
            "use paper or live"
        )
    return None


def load_global_config(path: Path | str) -> GlobalConfig:
    """Read and validate a global config file (ConfigError naming file/key/problem)."""
    return load_config_file(GlobalConfig, path)


def choose_mode(config: GlobalConfig, cli_mode: Mode | str | None, *, file: Path | str) -> Mode:
    """The mode of this run: ``--mode`` wins over the file, but live must be asked for twice.

    ``mode: live`` in the file with no (or another) ``--mode``, or ``--mode live`` with a file
    that does not say live, is a ConfigError: real money needs both explicit choices. The
    exchange URLs are checked against the chosen mode; the run's config is then
    ``config.model_copy(update={"mode": mode})``.
    """
    chosen = config.mode if cli_mode is None else Mode(cli_mode)
    if (chosen is Mode.LIVE or config.mode is Mode.LIVE) and not (
        cli_mode is not None and chosen is Mode.LIVE and config.mode is Mode.LIVE
    ):
        raise ConfigError(
            'live trading needs "mode": "live" in the file AND --mode live on the command line '
            f"(file says {config.mode}, command line says {cli_mode or 'nothing'})",
            file=file,
            key="mode",
        )
    problem = exchange_problem(chosen, config.exchange)
    if problem:
        raise ConfigError(problem, file=file, key="exchange")
    return chosen


@dataclass(frozen=True)
class ResolvedPaths:
    """Every file and directory of a run, absolute. Derived names are fixed, not configurable."""

    root: Path
    data_dir: Path
    log_dir: Path
    handled_topics: Path
    topics_filtered: Path
    run_state: Path
    filter_config: Path
    strategy_config: Path

    @property
    def status_dir(self) -> Path:
        """``data/status``: one ``<topic>.json`` heartbeat file per worker."""
        return self.data_dir / "status"

    @property
    def params_dir(self) -> Path:
        """``data/params``: one ``<topic>.json`` PARAMS file per worker launch."""
        return self.data_dir / "params"

    @property
    def topic_log_dir(self) -> Path:
        """``logs/topics``: one ``<topic>.log`` per worker."""
        return self.log_dir / "topics"

    @property
    def supervisor_log(self) -> Path:
        """``logs/autorun.log``."""
        return self.log_dir / "autorun.log"

    @property
    def control_socket(self) -> Path:
        """The supervisor's control socket (``data/control.sock``)."""
        return self.data_dir / "control.sock"

    @property
    def lock_file(self) -> Path:
        """The single-supervisor lock (``data/.supervisor.lock``)."""
        return self.data_dir / ".supervisor.lock"

    def status_file(self, topic_id: str) -> Path:
        """``data/status/<topic>.json``."""
        return self.status_dir / f"{topic_file_name(topic_id)}.json"

    def params_file(self, topic_id: str) -> Path:
        """``data/params/<topic>.json``."""
        return self.params_dir / f"{topic_file_name(topic_id)}.json"

    def topic_log(self, topic_id: str) -> Path:
        """``logs/topics/<topic>.log``."""
        return self.topic_log_dir / f"{topic_file_name(topic_id)}.log"


_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9._-]")


def topic_file_name(topic_id: str) -> str:
    """A file name for a topic id: market slugs stay as they are; ``/``, spaces... become ``_``.

    A leading dot is replaced too, so no topic can name a hidden file or ``..``.
    """
    name = _UNSAFE_FILE_CHARS.sub("_", topic_id)
    return "_" + name[1:] if name.startswith(".") else name or "_"


def project_root(config_file: Path | str) -> Path:
    """The directory relative paths resolve against: the parent of the config file's directory."""
    return expand_user(Path(config_file)).resolve().parent.parent


def resolve_paths(
    paths: PathsSection,
    config_file: Path | str,
    *,
    filter_config: Path | str | None = None,
    strategy_config: Path | str | None = None,
) -> ResolvedPaths:
    """Resolve every configured path; the one place that does it (reference bug 4.29).

    Relative configured paths resolve against ``project_root(config_file)``; ``~`` expands.
    ``filter_config`` / ``strategy_config`` are command-line overrides and win over the file;
    being typed by the user, relative ones resolve against the current directory.
    """
    root = project_root(config_file)

    def under_root(value: Path) -> Path:
        value = expand_user(value)
        return value if value.is_absolute() else (root / value).resolve()

    data_dir = under_root(paths.data_dir)

    def data_file(value: Path | None, default_name: str) -> Path:
        return data_dir / default_name if value is None else under_root(value)

    def cli_or_file(override: Path | str | None, configured: Path) -> Path:
        if override is None:
            return under_root(configured)
        return expand_user(Path(override)).resolve()

    return ResolvedPaths(
        root=root,
        data_dir=data_dir,
        log_dir=under_root(paths.log_dir),
        handled_topics=data_file(paths.handled_topics, "handled_topics.json"),
        topics_filtered=data_file(paths.topics_filtered, "topics_filtered.json"),
        run_state=data_file(paths.run_state, "run_state.json"),
        filter_config=cli_or_file(filter_config, paths.filter_config),
        strategy_config=cli_or_file(strategy_config, paths.strategy_config),
    )


__all__ = [
    "DEFAULT_GLOBAL_CONFIG",
    "MAX_POLL_S",
    "MIN_POLL_S",
    "DrillSection",
    "ExchangeSection",
    "GlobalConfig",
    "Mode",
    "OrderHeartbeatSection",
    "PathsSection",
    "ResolvedPaths",
    "RestartSection",
    "ScreenerSection",
    "choose_mode",
    "exchange_problem",
    "load_global_config",
    "project_root",
    "resolve_paths",
    "topic_file_name",
]
