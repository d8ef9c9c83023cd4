"""REPL / --command text parsed into control requests, with clear errors."""

from __future__ import annotations

import pytest

from polymaker.autorun.commands import COMMAND_HELP, CommandSyntaxError, parse_command
from polymaker.autorun.control import VERBS, ControlRequest


@pytest.mark.parametrize(
    ("text", "cmd", "args"),
    [
        ("list", "status", {}),
        ("  STATUS ", "status", {}),
        ("stop will-it-rain", "stop", {"topic": "will-it-rain", "force": False}),
        ("stop will-it-rain --force", "stop", {"topic": "will-it-rain", "force": True}),
        ("stop -f will-it-rain", "stop", {"topic": "will-it-rain", "force": True}),
        ("stop 'odd topic id'", "stop", {"topic": "odd topic id", "force": False}),
        ("retry will-it-rain", "retry", {"topic": "will-it-rain"}),
        ("flatten", "flatten", {}),
        ("flatten will-it-rain", "flatten", {"topic": "will-it-rain"}),
        ("refresh", "refresh", {}),
        ("pause", "pause", {}),
        ("resume", "resume", {}),
        ("set concurrency 5", "set_concurrency", {"value": 5}),
        ("set Poll 30", "set_poll", {"seconds": 30.0}),
        ("set poll 2.5", "set_poll", {"seconds": 2.5}),
        ("reset-history", "reset_history", {}),
        ("reset history", "reset_history", {}),
        ("exit", "exit", {}),
        ("quit", "exit", {}),
        ("panic", "panic", {}),
    ],
)
def test_commands_parse_into_requests(text, cmd, args):
    request = parse_command(text)
    assert request == ControlRequest(cmd, args)
    assert request.cmd in VERBS and set(request.args) <= set(VERBS[request.cmd])


def test_blank_line_is_no_request():
    assert parse_command("   ") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("dance", "unknown command 'dance'"),
        ("stop", "usage: stop TOPIC"),
        ("stop a b", "usage: stop TOPIC"),
        ("stop a --hard", "usage: stop TOPIC"),
        ("retry", "usage: retry TOPIC"),
        ("flatten a b", r"usage: flatten \[TOPIC\]"),
        ("list all", "takes no arguments"),
        ("set speed 3", "usage: set concurrency"),
        ("set concurrency", "usage: set concurrency"),
        ("set concurrency 0", "whole number >= 1"),
        ("set concurrency two", "whole number >= 1"),
        ("set poll -1", "number > 0"),
        ("set poll nan", "number > 0"),
        ("stop 'unclosed", "cannot split"),
    ],
)
def test_mistakes_say_what_was_expected(text, message):
    with pytest.raises(CommandSyntaxError, match=message) as info:
        parse_command(text)
    assert info.value.exit_code == 2


def test_unknown_command_lists_the_commands():
    with pytest.raises(CommandSyntaxError) as info:
        parse_command("lsit")
    assert COMMAND_HELP in str(info.value)


def test_request_wire_form_is_one_json_line():
    line = ControlRequest("stop", {"topic": "a", "force": True}).to_line()
    assert line == b'{"cmd": "stop", "args": {"topic": "a", "force": true}}\n'
