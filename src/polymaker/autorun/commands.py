"""Text commands (REPL lines and ``polymaker run --command CMD``) turned into control requests.

``list``/``status``, ``stop TOPIC [--force]``, ``retry TOPIC``, ``flatten [TOPIC]``,
``refresh``, ``pause``, ``resume``, ``set concurrency N``, ``set poll SECONDS``,
``reset-history``, ``exit``/``quit``, ``panic``, ``redeem [--dry-run]``. Words are split like
a shell (quote a topic id with spaces). A mistake raises ``CommandSyntaxError`` saying what
was expected; the supervisor is never asked.
"""

from __future__ import annotations

import math
import shlex

from polymaker.autorun.control import ControlRequest
from polymaker.errors import PolymakerError

COMMAND_HELP = """\
commands:
  list | status            show every topic and its state
  stop TOPIC [--force]     stop one topic (--force: SIGKILL at once, orders still cancelled)
  retry TOPIC              queue a failed or stopped topic again
  flatten [TOPIC]          sell out (no more buys, exit price) of one or every market
  refresh                  screen now
  pause | resume           stop / restart launching new workers
  set concurrency N        change max_concurrent_workers
  set poll SECONDS         change topics_poll_sec
  reset-history            forget finished/failed/stopped topics (a backup is kept)
  panic                    stop every worker, cancel every order, pause launching
  redeem [--dry-run]       redeem resolved markets' payouts now (--dry-run: only show them)
  exit | quit              stop every worker and the supervisor
  help                     this text"""

HELP_WORDS = frozenset({"help", "?"})

_NO_ARGUMENT = {
    "list": "status",
    "status": "status",
    "refresh": "refresh",
    "pause": "pause",
    "resume": "resume",
    "reset-history": "reset_history",
    "exit": "exit",
    "quit": "exit",
    "panic": "panic",
}


class CommandSyntaxError(PolymakerError):
    """A command line that does not parse; says what was expected."""

    exit_code = 2


def parse_command(text: str) -> ControlRequest | None:
    """The request for one command line, or None for a blank line.

    ``help`` is not a request (the REPL prints ``COMMAND_HELP`` itself): check ``HELP_WORDS``.
    """
    try:
        words = shlex.split(text)
    except ValueError as error:
        raise CommandSyntaxError(f"cannot split {text!r}: {error}") from None
    if not words:
        return None
    verb, rest = words[0].lower(), words[1:]
    if verb == "reset" and [word.lower() for word in rest] == ["history"]:
        verb, rest = "reset-history", []
    if verb in _NO_ARGUMENT:
        if rest:
            raise CommandSyntaxError(f"{verb} takes no arguments (got {' '.join(rest)!r})")
        return ControlRequest(_NO_ARGUMENT[verb])
    if verb == "stop":
        return _parse_stop(rest)
    if verb == "retry":
        if len(rest) != 1:
            raise CommandSyntaxError("usage: retry TOPIC")
        return ControlRequest("retry", {"topic": rest[0]})
    if verb == "flatten":
        if len(rest) > 1:
            raise CommandSyntaxError("usage: flatten [TOPIC]")
        return ControlRequest("flatten", {"topic": rest[0]} if rest else {})
    if verb == "set":
        return _parse_set(rest)
    if verb == "redeem":
        if rest not in ([], ["--dry-run"]):
            raise CommandSyntaxError("usage: redeem [--dry-run]")
        return ControlRequest("redeem", {"dry_run": bool(rest)})
    raise CommandSyntaxError(f"unknown command {words[0]!r}\n{COMMAND_HELP}")


def _parse_stop(rest: list[str]) -> ControlRequest:
    flags = [word for word in rest if word.startswith("-")]
    topics = [word for word in rest if not word.startswith("-")]
    unknown = [flag for flag in flags if flag not in ("--force", "-f")]
    if unknown or len(topics) != 1:
        raise CommandSyntaxError("usage: stop TOPIC [--force]")
    return ControlRequest("stop", {"topic": topics[0], "force": bool(flags)})


def _parse_set(rest: list[str]) -> ControlRequest:
    if len(rest) != 2 or rest[0].lower() not in ("concurrency", "poll"):
        raise CommandSyntaxError("usage: set concurrency N | set poll SECONDS")
    name, raw = rest[0].lower(), rest[1]
    if name == "concurrency":
        if not raw.isdigit() or int(raw) < 1:
            raise CommandSyntaxError(f"set concurrency: N must be a whole number >= 1, not {raw!r}")
        return ControlRequest("set_concurrency", {"value": int(raw)})
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds <= 0:
        raise CommandSyntaxError(f"set poll: SECONDS must be a number > 0, not {raw!r}")
    return ControlRequest("set_poll", {"seconds": seconds})


__all__ = ["COMMAND_HELP", "HELP_WORDS", "CommandSyntaxError", "parse_command"]
