"""polymaker: unattended maker-only swing trading on Polymarket prediction markets.

The package is split by process role: ``screener`` (find markets), ``worker`` (trade one market),
``autorun`` (the supervisor), ``drill`` (the local exchange); ``strategy`` holds the pure decision
logic, ``exchange`` the only code that talks to a venue, ``config`` the validated config models.
"""

from polymaker.errors import (
    ConfigError,
    ControlError,
    ExchangeError,
    MarketNotTradable,
    PolymakerError,
    RateLimitError,
    RequestRejectedError,
    StateFileError,
    TransportError,
    UnexpectedResponseError,
)

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "ControlError",
    "ExchangeError",
    "MarketNotTradable",
    "PolymakerError",
    "RateLimitError",
    "RequestRejectedError",
    "StateFileError",
    "TransportError",
    "UnexpectedResponseError",
    "__version__",
]
