"""Logging of one worker: one line per meaningful event, unbuffered, rotated, secrets redacted.

Every line carries the UTC time, the mode and the topic, so ``grep`` over many topic logs still
tells drill from live. The file (``log_file`` in params, else stderr) is flushed after every
record (the stdlib handlers do), and rotated by size so a long run cannot fill the disk.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
import time
from pathlib import Path

from polymaker.exchange.secrets import RedactingFilter

LOG_MAX_BYTES = 10 * 1024 * 1024
LOG_BACKUPS = 3
_FORMAT = "%(asctime)s.%(msecs)03dZ %(levelname)s [{mode}] {topic} %(name)s: %(message)s"
_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"


class UtcFormatter(logging.Formatter):
    """Log times in UTC (the ``Z`` of the formats), for the supervisor's and workers' logs."""

    converter = staticmethod(time.gmtime)


def configure_logging(
    *,
    topic_id: str,
    mode: str,
    log_file: Path | None,
    redactor: RedactingFilter,
    level: int = logging.INFO,
) -> logging.Handler:
    """Route the root logger to one handler with the redaction filter; returns the handler.

    Replaces any handler installed before (a worker is one process with one log). The SDK's
    and httpx's per-request INFO lines are turned down to WARNING: one line per request is
    noise, not an event.
    """
    handler: logging.Handler
    if log_file is None:
        handler = logging.StreamHandler(sys.stderr)
    else:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            log_file, maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
        )
    fmt = _FORMAT.format(mode=mode, topic=topic_id.replace("%", "%%"))
    handler.setFormatter(UtcFormatter(fmt, datefmt=_DATE_FORMAT))
    handler.addFilter(redactor)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "polymarket", "websockets", "hpack", "h2"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.captureWarnings(True)
    return handler


__all__ = ["LOG_BACKUPS", "LOG_MAX_BYTES", "UtcFormatter", "configure_logging"]
