"""Strategy parameters of one market worker (PARAMS ``strategy``, strategy_defaults.json).

Every key, its unit, default and meaning is documented in ``docs/strategy.md``; the defaults are
named constants here so the doc, the model and the tests agree.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import Field, Strict, ValidationInfo, field_validator

from polymaker.config._loading import ConfigModel

Seconds = Annotated[float, Strict(), Field(allow_inf_nan=False)]
Minutes = Annotated[float, Strict(), Field(allow_inf_nan=False)]

DEFAULT_ORDER_SIZE = Decimal("10")
DEFAULT_MAX_POSITION_SHARES = Decimal("20")
DEFAULT_DROP_PCT = Decimal("0.01")
DEFAULT_DROP_WINDOW_MINUTES = 10.0
DEFAULT_SIGNAL_SAMPLE_S = 5.0
DEFAULT_PROFIT_PCT = Decimal("0.01")
DEFAULT_MIN_PROFIT_TICKS = 1
DEFAULT_AGGRESSIVE_STEP_TIMEOUT_S = 300.0
DEFAULT_SELL_ONLY_MINUTES_BEFORE_END = 120.0
DEFAULT_COOLDOWN_S = 60.0
DEFAULT_MIN_REQUOTE_INTERVAL_S = 5.0
DEFAULT_BUY_TIMEOUT_S = 600.0
DEFAULT_STALE_BOOK_S = 30.0
DEFAULT_STOP_TIMEOUT_S = 10.0
DEFAULT_ORDER_ACK_TIMEOUT_S = 30.0
DEFAULT_CANCEL_TIMEOUT_S = 15.0
DEFAULT_SETTLE_POLL_S = 10.0
DEFAULT_MAX_RETRY_BACKOFF_S = 300.0

# Ranges a trader could mean (docs/configuration.md): sizes from a cent's worth of shares to a
# million, durations from a sample every 0.1 s to a year. Beyond them the arithmetic of the
# strategy (milliseconds as int, Decimal contexts, datetimes) would overflow or round to zero.
MIN_SHARES = Decimal("0.01")
MAX_SHARES = Decimal(1_000_000)
MIN_USDC = Decimal("0.01")
MAX_USDC = Decimal(1_000_000)
HOUR_S = 3600.0
DAY_S = 86_400.0
WEEK_S = 7 * DAY_S
WEEK_MIN = 7 * 24 * 60.0
YEAR_MIN = 366 * 24 * 60.0


class SellMode(StrEnum):
    """How the take-profit sell behaves when it does not fill."""

    CONSERVATIVE = "conservative"  # rest at max(best ask, floor); never step down on its own
    AGGRESSIVE = "aggressive"  # after aggressive_step_timeout_s without a fill, one tick lower


class StrategyParams(ConfigModel):
    """Validated strategy parameters; sizes in shares, prices in USDC per share, fractions in 0..1.

    order_size: shares per buy episode. order_size_usdc: if set, an episode spends at most this
    much USDC (shares = usdc / the episode's price cap, rounded down, at most order_size).
    max_position_shares: cap on the shares held in this market, including the open buy.
    drop_pct / drop_window_minutes: buy when the best bid falls drop_pct below its rolling high
    over the window (sampled every signal_sample_s). buy_price_threshold: also buy when the best
    bid is at or below this price. profit_pct / min_profit_ticks: sell floor =
    max(entry*(1+profit_pct), entry + min_profit_ticks*tick) rounded up to the tick.
    sell_mode / aggressive_step_timeout_s: see SellMode. stop_loss_pct: exit below the floor
    when the bid <= entry*(1-stop_loss_pct). max_hold_minutes: the same exit after holding this
    long. sell_only_minutes_before_end: stop buying this long before the market's end.
    cooldown_s: pause after a round trip. min_requote_interval_s: minimum age of an order before
    it is repriced. buy_timeout_s: a buy episode not completed by then is cancelled.
    stale_book_s: a book older than this is not traded on. stop_timeout_s: how long a stop
    waits for cancel confirmations. order_ack_timeout_s / cancel_timeout_s: how long a place /
    cancel may stay unanswered before the market's orders are swept with a cancel-all.
    settle_poll_s: balance refresh period while bought shares wait to settle.
    max_retry_backoff_s: cap of the backoff after rejections.
    """

    order_size: Decimal = Field(
        default=DEFAULT_ORDER_SIZE, ge=MIN_SHARES, le=MAX_SHARES, allow_inf_nan=False
    )
    order_size_usdc: Decimal | None = Field(
        default=None, ge=MIN_USDC, le=MAX_USDC, allow_inf_nan=False
    )
    max_position_shares: Decimal = Field(
        default=DEFAULT_MAX_POSITION_SHARES, ge=MIN_SHARES, le=MAX_SHARES, allow_inf_nan=False
    )
    drop_pct: Decimal = Field(default=DEFAULT_DROP_PCT, gt=0, lt=1, allow_inf_nan=False)
    drop_window_minutes: Minutes = Field(default=DEFAULT_DROP_WINDOW_MINUTES, ge=0.01, le=WEEK_MIN)
    signal_sample_s: Seconds = Field(default=DEFAULT_SIGNAL_SAMPLE_S, ge=0.1, le=HOUR_S)
    buy_price_threshold: Decimal | None = Field(default=None, gt=0, lt=1, allow_inf_nan=False)
    profit_pct: Decimal = Field(default=DEFAULT_PROFIT_PCT, gt=0, lt=1, allow_inf_nan=False)
    min_profit_ticks: Annotated[int, Strict()] = Field(
        default=DEFAULT_MIN_PROFIT_TICKS, ge=1, le=1000
    )
    sell_mode: SellMode = SellMode.AGGRESSIVE
    aggressive_step_timeout_s: Seconds = Field(
        default=DEFAULT_AGGRESSIVE_STEP_TIMEOUT_S, ge=1, le=DAY_S
    )
    stop_loss_pct: Decimal | None = Field(default=None, gt=0, lt=1, allow_inf_nan=False)
    max_hold_minutes: Minutes | None = Field(default=None, ge=0.01, le=YEAR_MIN)
    sell_only_minutes_before_end: Minutes = Field(
        default=DEFAULT_SELL_ONLY_MINUTES_BEFORE_END, ge=0, le=YEAR_MIN
    )
    cooldown_s: Seconds = Field(default=DEFAULT_COOLDOWN_S, ge=0, le=DAY_S)
    min_requote_interval_s: Seconds = Field(default=DEFAULT_MIN_REQUOTE_INTERVAL_S, ge=0, le=HOUR_S)
    buy_timeout_s: Seconds = Field(default=DEFAULT_BUY_TIMEOUT_S, ge=1, le=WEEK_S)
    stale_book_s: Seconds = Field(default=DEFAULT_STALE_BOOK_S, ge=1, le=HOUR_S)
    stop_timeout_s: Seconds = Field(default=DEFAULT_STOP_TIMEOUT_S, ge=1, le=600)
    order_ack_timeout_s: Seconds = Field(default=DEFAULT_ORDER_ACK_TIMEOUT_S, ge=1, le=HOUR_S)
    cancel_timeout_s: Seconds = Field(default=DEFAULT_CANCEL_TIMEOUT_S, ge=1, le=HOUR_S)
    settle_poll_s: Seconds = Field(default=DEFAULT_SETTLE_POLL_S, ge=0.1, le=HOUR_S)
    max_retry_backoff_s: Seconds = Field(default=DEFAULT_MAX_RETRY_BACKOFF_S, ge=1, le=DAY_S)

    @field_validator("max_position_shares")
    @classmethod
    def _cap_holds_one_order(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        """A cap below one order would make every buy impossible; say so at load time."""
        order_size = info.data.get("order_size")
        if order_size is not None and value < order_size:
            raise ValueError(f"must be >= order_size ({order_size})")
        return value

    @field_validator("signal_sample_s")
    @classmethod
    def _window_holds_samples(cls, value: float, info: ValidationInfo) -> float:
        """The rolling high needs at least two samples inside its window to mean anything."""
        window = info.data.get("drop_window_minutes")
        if window is not None and value * 2 > window * 60:
            raise ValueError(f"must be at most half of drop_window_minutes ({window} min)")
        return value
