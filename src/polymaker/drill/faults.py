"""Fault injection for the drill exchange: the ``--faults SPEC`` grammar and pure decisions.

A bot that only ever meets a perfect exchange learns nothing about retries, backoff, resync
and reconnects. The spec is parsed once into frozen, validated rule objects; the server then
asks pure functions (explicit ``random.Random``, explicit ``now_ms``) whether a given request
fails, how long it waits, whether a WebSocket drops or goes silent, and whether an order is
rejected. Grammar and examples: docs/drill-simulation.md ("Faults").

    SPEC  := ITEM ("," ITEM)*
    ITEM  := KEY "=" VALUE ["@" SCOPE]
    KEY   := http500 | http429 | http425 | http503 | latency | ws_disconnect | ws_silence
             | reject | retry_after
    VALUE := probability ("0.05", "5%") | "schedule:" WINDOW (";" WINDOW)* | "after:" DUR
             | "every:" DUR ["/" DUR]        (time values are offsets from the plan's start)
    SCOPE := [METHOD " "] PATH_GLOB          (fnmatch glob on the request path, e.g. /book*)
"""

from __future__ import annotations

import dataclasses
import fnmatch
import random
import re
from dataclasses import dataclass, field

from polymaker.errors import ConfigError

_HTTP_KEYS = {"http500": 500, "http429": 429, "http425": 425, "http503": 503}
_TIME_ONLY_KEYS = {"ws_disconnect", "ws_silence"}
_KNOWN_KEYS = (*_HTTP_KEYS, "latency", "ws_disconnect", "ws_silence", "reject", "retry_after")

# Bodies in the venue's style ({"error": ...}); see polymarket_api.md 3.7.
HTTP_FAULT_MESSAGES: dict[int, str] = {
    500: "Internal Server Error",
    429: "Too Many Requests",
    425: "Too Early: the matching engine is restarting",
    503: "Trading is currently cancel-only. Please try again later.",
}
# Venue messages a bot must branch on; `reject` draws one of them per rejected order.
ORDER_REJECT_MESSAGES: tuple[str, ...] = (
    "not enough balance / allowance",
    "the market is not yet ready to process new orders",
    "Invalid order payload",
)
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)$")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000}


def _fail(item: str, problem: str) -> ConfigError:
    return ConfigError(f"fault item {item!r}: {problem}", key="faults")


def parse_duration_ms(text: str, item: str) -> int:
    """'20ms', '1.5s', '2m', '1h' -> milliseconds; negative or unitless values are refused."""
    text = text.strip()
    if text.startswith("-"):
        raise _fail(item, f"negative duration {text!r}")
    match = _DURATION.match(text)
    if not match:
        raise _fail(item, f"bad duration {text!r} (use e.g. 20ms, 1.5s, 2m, 1h)")
    return round(float(match.group(1)) * _UNIT_MS[match.group(2)])


@dataclass(frozen=True)
class Scope:
    """Which requests a rule applies to: optional HTTP method and a glob on the path."""

    method: str | None = None
    path_glob: str = "*"

    def matches(self, method: str, path: str) -> bool:
        """True when the request's method (if the scope names one) and path match."""
        if self.method is not None and self.method != method.upper():
            return False
        return fnmatch.fnmatchcase(path, self.path_glob)


@dataclass(frozen=True)
class TimePattern:
    """When a time-based rule is active, as offsets in ms from the plan's start.

    ``windows``: half-open [start, end) intervals (``end`` None = forever). ``period_ms``:
    periodic activation lasting ``duty_ms`` at every multiple of the period (after the first).
    """

    windows: tuple[tuple[int, int | None], ...] = ()
    period_ms: int | None = None
    duty_ms: int = 0

    def __post_init__(self) -> None:
        for start, end in self.windows:
            if start < 0 or (end is not None and end <= start):
                raise ValueError(f"window {start}-{end} ms is empty or negative")
        if self.period_ms is not None and self.period_ms <= 0:
            raise ValueError("period must be positive")

    def active(self, offset_ms: int) -> bool:
        """True when ``offset_ms`` (time since the plan's start) falls in an active span."""
        for start, end in self.windows:
            if offset_ms >= start and (end is None or offset_ms < end):
                return True
        if self.period_ms is not None and offset_ms >= self.period_ms:
            return offset_ms % self.period_ms < max(self.duty_ms, 1)
        return False


@dataclass(frozen=True)
class Trigger:
    """Either a probability per request in [0, 1] or a time pattern."""

    probability: float | None = None
    pattern: TimePattern | None = None

    def __post_init__(self) -> None:
        if (self.probability is None) == (self.pattern is None):
            raise ValueError("a trigger is a probability or a time pattern")
        if self.probability is not None and not 0.0 <= self.probability <= 1.0:
            raise ValueError(f"probability {self.probability} is outside [0, 1]")

    def fires(self, rng: random.Random, offset_ms: int) -> bool:
        """Draw (probability) or look up (pattern); consumes one draw only for probabilities."""
        if self.probability is not None:
            return rng.random() < self.probability
        assert self.pattern is not None
        return self.pattern.active(offset_ms)


@dataclass(frozen=True)
class HttpFaultRule:
    """Answer matching requests with ``status`` when the trigger fires."""

    status: int
    trigger: Trigger
    scope: Scope = Scope()


@dataclass(frozen=True)
class LatencyRule:
    """Delay matching requests by a uniform draw in [low_ms, high_ms]."""

    low_ms: int
    high_ms: int
    scope: Scope = Scope()

    def __post_init__(self) -> None:
        if self.low_ms < 0 or self.high_ms < self.low_ms:
            raise ValueError(f"latency range {self.low_ms}-{self.high_ms} ms is invalid")


@dataclass(frozen=True)
class HttpFault:
    """What the server answers instead of the real response."""

    status: int
    message: str
    retry_after_s: int | None = None  # sent as the Retry-After header (429 only)

    def body(self) -> dict[str, str]:
        """The JSON body in the venue's error shape."""
        return {"error": self.message}


@dataclass(frozen=True)
class FaultPlan:
    """Every injected fault of one drill run; times are relative to ``start_ms``."""

    http: tuple[HttpFaultRule, ...] = ()
    latency: tuple[LatencyRule, ...] = ()
    ws_disconnect: TimePattern | None = None
    ws_silence: TimePattern | None = None
    reject: Trigger | None = None
    reject_scope: Scope = field(default_factory=lambda: Scope("POST", "/order*"))
    retry_after_s: int = 1
    start_ms: int = 0

    def starting_at(self, start_ms: int) -> FaultPlan:
        """The same plan with its schedules counted from ``start_ms`` (the server's start)."""
        return dataclasses.replace(self, start_ms=start_ms)

    def http_fault(
        self, method: str, path: str, rng: random.Random, now_ms: int
    ) -> HttpFault | None:
        """The fault for this request, if any (first matching rule that fires wins)."""
        offset = now_ms - self.start_ms
        for rule in self.http:
            if rule.scope.matches(method, path) and rule.trigger.fires(rng, offset):
                retry = self.retry_after_s if rule.status == 429 else None
                return HttpFault(rule.status, HTTP_FAULT_MESSAGES[rule.status], retry)
        return None

    def latency_ms(self, method: str, path: str, rng: random.Random) -> int:
        """Extra delay for this request in ms (sum of the matching latency rules)."""
        total = 0
        for rule in self.latency:
            if rule.scope.matches(method, path):
                total += rng.randint(rule.low_ms, rule.high_ms)
        return total

    def ws_should_disconnect(self, conn_age_ms: int, now_ms: int) -> bool:
        """True when a WebSocket connection must be dropped now.

        ``every:P`` drops each connection once it is P old; schedules/``after:`` drop every
        connection (and refuse new ones) while the window is active.
        """
        pattern = self.ws_disconnect
        if pattern is None:
            return False
        if pattern.period_ms is not None:
            return conn_age_ms >= pattern.period_ms
        return pattern.active(now_ms - self.start_ms)

    def ws_silent(self, now_ms: int) -> bool:
        """True while the market feed must send nothing (PONGs still answered)."""
        return self.ws_silence is not None and self.ws_silence.active(now_ms - self.start_ms)

    def order_reject(
        self, rng: random.Random, *, path: str = "/order", now_ms: int | None = None
    ) -> str | None:
        """A venue rejection message for an order that would otherwise be accepted, or None."""
        if self.reject is None or not self.reject_scope.matches("POST", path):
            return None
        offset = (now_ms if now_ms is not None else self.start_ms) - self.start_ms
        if not self.reject.fires(rng, offset):
            return None
        return rng.choice(ORDER_REJECT_MESSAGES)


def _parse_pattern(value: str, item: str) -> TimePattern:
    kind, _, rest = value.partition(":")
    try:
        if kind == "schedule":
            windows = []
            for part in rest.split(";"):
                low, sep, high = part.partition("-")
                if not sep:
                    raise _fail(item, f"window {part!r} needs START-END, e.g. 10s-20s")
                windows.append((parse_duration_ms(low, item), parse_duration_ms(high, item)))
            return TimePattern(windows=tuple(windows))
        if kind == "after":
            return TimePattern(windows=((parse_duration_ms(rest, item), None),))
        if kind == "every":
            period, _, duty = rest.partition("/")
            duty_ms = parse_duration_ms(duty, item) if duty else 0
            return TimePattern(period_ms=parse_duration_ms(period, item), duty_ms=duty_ms)
    except ValueError as error:
        raise _fail(item, str(error)) from None
    raise _fail(item, f"unknown value {value!r} (use a probability, schedule:, after: or every:)")


def _parse_trigger(value: str, item: str) -> Trigger:
    if ":" in value:
        return Trigger(pattern=_parse_pattern(value, item))
    text = value.strip()
    try:
        probability = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise _fail(item, f"bad probability {value!r} (use e.g. 0.05 or 5%)") from None
    try:
        return Trigger(probability=probability)
    except ValueError as error:
        raise _fail(item, str(error)) from None


def _parse_scope(text: str, item: str) -> Scope:
    method, sep, path = text.strip().partition(" ")
    if not sep:
        method, path = "", method
    if not path.startswith("/"):
        raise _fail(item, f"scope {text!r} must be a path glob starting with '/'")
    return Scope(method.upper() or None, path.strip())


def _parse_latency(value: str, scope: Scope, item: str) -> LatencyRule:
    if value.startswith("-"):
        raise _fail(item, f"negative duration {value!r}")
    low, sep, high = value.partition("-")
    low_ms = parse_duration_ms(low, item)
    high_ms = parse_duration_ms(high, item) if sep else low_ms
    try:
        return LatencyRule(low_ms, high_ms, scope)
    except ValueError as error:
        raise _fail(item, str(error)) from None


def parse_faults(spec: str, *, start_ms: int = 0) -> FaultPlan:
    """Parse a ``--faults`` SPEC; any bad item raises ConfigError naming that item."""
    http: list[HttpFaultRule] = []
    latency: list[LatencyRule] = []
    patterns: dict[str, TimePattern] = {}
    reject: Trigger | None = None
    reject_scope = FaultPlan().reject_scope
    retry_after_s = 1
    for raw in (part.strip() for part in spec.split(",")):
        if not raw:
            continue
        key, sep, rest = raw.partition("=")
        key = key.strip()
        if not sep:
            raise _fail(raw, "expected KEY=VALUE")
        if key not in _KNOWN_KEYS:
            raise _fail(raw, f"unknown key {key!r} (known: {', '.join(_KNOWN_KEYS)})")
        value, at, scope_text = rest.partition("@")
        value = value.strip()
        scope = _parse_scope(scope_text, raw) if at else None
        if scope is not None and (key in _TIME_ONLY_KEYS or key == "retry_after"):
            raise _fail(raw, f"{key} takes no @scope")
        if key in _HTTP_KEYS:
            trigger = _parse_trigger(value, raw)
            http.append(HttpFaultRule(_HTTP_KEYS[key], trigger, scope or Scope()))
        elif key == "latency":
            latency.append(_parse_latency(value, scope or Scope(), raw))
        elif key in _TIME_ONLY_KEYS:
            if key in patterns:
                raise _fail(raw, f"{key} given twice")
            patterns[key] = _parse_pattern(value, raw)
        elif key == "reject":
            reject = _parse_trigger(value, raw)
            reject_scope = scope or reject_scope
        else:
            retry_after_s = max(1, round(parse_duration_ms(value, raw) / 1000))
    return FaultPlan(
        http=tuple(http),
        latency=tuple(latency),
        ws_disconnect=patterns.get("ws_disconnect"),
        ws_silence=patterns.get("ws_silence"),
        reject=reject,
        reject_scope=reject_scope,
        retry_after_s=retry_after_s,
        start_ms=start_ms,
    )
