"""``polymaker sim``: run the drill exchange on loopback until SIGTERM/SIGINT.

Writes the endpoint URLs (the five and ``relayer_url``) as JSON to ``--url-file``
(atomically) once every port listens; a reader that sees the file can connect. Bad arguments
exit 2 with a message naming the flag.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path

from polymaker.drill.faults import FaultPlan, parse_faults
from polymaker.drill.server import DrillServer, SimOptions
from polymaker.errors import ConfigError, PolymakerError
from polymaker.files import atomic_write_json

log = logging.getLogger("polymaker.drill")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``polymaker sim`` flags (see docs/drill-exchange.md)."""
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="bind address (default 127.0.0.1; loopback only)")
    add(
        "--port",
        type=int,
        default=0,
        help="CLOB port; Gamma gets port+1, Data API +2, relayer +3 (default 0: free ports)",
    )
    add("--markets", type=int, default=200, help="number of synthetic markets (default 200)")
    add("--seed", type=int, default=1, help="seed of the universe and simulator (default 1)")
    add("--url-file", type=Path, help="write the endpoint URLs as JSON here once ready")
    add(
        "--state-file",
        type=Path,
        help="keep the drill world (markets, accounts, orders, trades) here across restarts",
    )
    add(
        "--replay",
        type=Path,
        help="JSON-lines market-channel log to replay (see docs/drill-simulation.md)",
    )
    add("--faults", default="", help="fault spec, e.g. 'http500=2%%@/book,latency=20ms-80ms'")
    add("--speed", type=float, default=1.0, help="simulated time per real second (default 1)")
    add(
        "--volatility",
        type=float,
        default=0.8,
        help="fair-price volatility in logit units per sqrt(simulated day) (default 0.8)",
    )
    add(
        "--takers-per-minute",
        type=float,
        default=3.0,
        help="background taker orders per simulated minute in a watched market (default 3)",
    )
    add("--balance", default="10000", help="pUSD given to every new account (default 10000)")
    add(
        "--new-markets-per-hour",
        type=float,
        default=0.0,
        help="simulated-time rate of new markets (default 0)",
    )
    add(
        "--resolve-delay-s",
        type=float,
        default=1800.0,
        help="mean simulated seconds from a market's end to its resolution (default 1800)",
    )
    add(
        "--settle-ms",
        default="1000,2000",
        help="trade MINED,CONFIRMED delays after the match in ms (default 1000,2000)",
    )
    add("--tick-ms", type=int, default=50, help="background step period in ms (default 50)")
    add(
        "--max-skew-s",
        type=int,
        default=30,
        help="accepted |client - server| clock difference for L1/L2 auth (default 30)",
    )
    add("--log-level", default="INFO", help="DEBUG, INFO, WARNING (default INFO)")


def _options(args: argparse.Namespace) -> SimOptions:
    """Validate every flag; the first problem raises ConfigError(key=<flag>)."""
    checks = (
        (args.markets < 1 or args.markets > 100_000, "markets", "must be 1..100000"),
        (not 0 <= args.port <= 65533, "port", "must be 0..65533"),
        (not args.speed > 0, "speed", "must be positive"),
        (not 0 <= args.volatility <= 50, "volatility", "must be 0..50"),
        (not 0 <= args.takers_per_minute <= 600, "takers-per-minute", "must be 0..600"),
        (args.new_markets_per_hour < 0, "new-markets-per-hour", "must not be negative"),
        (args.resolve_delay_s < 0, "resolve-delay-s", "must not be negative"),
        (not 10 <= args.tick_ms <= 5000, "tick-ms", "must be 10..5000"),
        (args.max_skew_s < 0, "max-skew-s", "must not be negative"),
    )
    for bad, key, problem in checks:
        if bad:
            raise ConfigError(problem, key=f"--{key}")
    try:
        balance = Decimal(args.balance)
    except InvalidOperation:
        raise ConfigError(f"not a number: {args.balance!r}", key="--balance") from None
    if not balance.is_finite() or balance < 0:
        raise ConfigError("must be a non-negative number", key="--balance")
    try:
        settle = tuple(int(part) for part in args.settle_ms.split(","))
    except ValueError:
        settle = ()
    if len(settle) != 2 or min(settle) < 0 or settle[0] > settle[1]:
        raise ConfigError(
            "must be MINED,CONFIRMED ms with 0 <= MINED <= CONFIRMED", key="--settle-ms"
        )
    if args.replay is not None and not args.replay.is_file():
        raise ConfigError("file not found", file=args.replay, key="--replay")
    if args.replay is not None and args.state_file is not None:
        raise ConfigError("a replayed log cannot be continued: drop --state-file", key="--replay")
    faults: FaultPlan = parse_faults(args.faults) if args.faults else FaultPlan()
    return SimOptions(
        host=args.host,
        port=args.port,
        markets=args.markets,
        seed=args.seed,
        balance=balance,
        speed=args.speed,
        volatility=args.volatility,
        takers_per_minute=args.takers_per_minute,
        replay=args.replay,
        faults=faults,
        tick_ms=args.tick_ms,
        max_skew_s=args.max_skew_s,
        settle_delays_ms=(settle[0], settle[1]),
        new_markets_per_hour=args.new_markets_per_hour,
        resolve_delay_s=args.resolve_delay_s,
        state_file=args.state_file,
    )


async def _serve(options: SimOptions, url_file: Path | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    server = DrillServer(options)
    try:
        try:
            urls = await server.start()
        except OSError as error:
            raise PolymakerError(
                f"cannot listen on {options.host}: {error.strerror or error}"
            ) from None
        if url_file is not None:
            atomic_write_json(url_file, urls.model_dump())
        log.info("drill exchange ready: %s", urls.model_dump_json())
        await stop.wait()
        log.info("drill exchange stopping")
    finally:
        await server.stop()
        if url_file is not None:
            with contextlib.suppress(FileNotFoundError):
                url_file.unlink()


def run(args: argparse.Namespace) -> int:
    """Run until a signal; 0 on a clean stop."""
    options = _options(args)
    level = getattr(logging, str(args.log_level).upper(), None)
    if not isinstance(level, int):
        raise ConfigError(f"unknown level {args.log_level!r}", key="--log-level")
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if options.host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("binding %s: the drill exchange has no access control", options.host)
    asyncio.run(_serve(options, args.url_file))
    return 0
