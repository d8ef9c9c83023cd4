"""One exception tree for the whole project; every class carries the exit code it maps to.

Expected venue refusals (a post-only order that would cross, not enough balance) are values,
not exceptions; these classes are for bad input, transport failures, wrong shapes and bugs.
The CLI maps any ``PolymakerError`` to its ``exit_code`` in one place (``polymaker.cli``).
"""

from __future__ import annotations

from pathlib import Path


class PolymakerError(Exception):
    """Root of every error polymaker raises on purpose."""

    exit_code = 1


def _one_line(text: str) -> str:
    """``text`` with newlines and other control characters escaped, so a message stays one line."""
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")


class ConfigError(PolymakerError):
    """A config, params or argument value is invalid: names the file, the key and the problem.

    The message is always one line: a key or a file name may hold any character a JSON string
    can (``"a\nb"``), and each is escaped where it is not printable.
    """

    exit_code = 2

    def __init__(self, problem: str, *, file: Path | str | None = None, key: str | None = None):
        self.problem = problem
        self.file = None if file is None else str(file)
        self.key = key
        where = []
        if self.file:
            where.append(_one_line(self.file))
        if key:
            where.append(f"key '{_one_line(key)}'")
        prefix = ": ".join(where)
        problem = _one_line(problem)
        super().__init__(f"{prefix}: {problem}" if prefix else problem)


class StateFileError(PolymakerError):
    """A state file (ledger, run state, result) exists but cannot be read; it is left untouched."""

    exit_code = 1

    def __init__(self, path: Path | str, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem} (the file was left untouched; fix or move it)")


class ExchangeError(PolymakerError):
    """Something went wrong talking to the exchange."""


class TransportError(ExchangeError):
    """The request did not get an HTTP answer (connection refused, timeout, reset)."""

    def __init__(self, url: str, problem: str):
        self.url = url
        self.problem = problem
        super().__init__(f"{url}: {problem}")


class RequestRejectedError(ExchangeError):
    """The exchange answered with a non-success status."""

    def __init__(
        self, url: str, status: int, message: str, *, retry_after: float | None = None
    ) -> None:
        self.url = url
        self.status = status
        self.message = message
        self.retry_after = retry_after
        super().__init__(f"{url}: HTTP {status}: {message}")


class RateLimitError(RequestRejectedError):
    """HTTP 429; ``retry_after`` holds the server's ``Retry-After`` in seconds when it sent one."""


class UnexpectedResponseError(ExchangeError):
    """The exchange answered, but not with the shape the venue documents."""


class MarketNotTradable(ExchangeError):
    """The market is closed, resolved or not accepting orders: the supervisor must not retry."""

    exit_code = 3


class ControlError(PolymakerError):
    """A control command could not be delivered or was refused by the supervisor."""

    def __init__(self, message: str, *, fault: str = "error"):
        self.fault = fault
        super().__init__(message)
