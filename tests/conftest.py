"""Shared test fixtures: the recorded Polymarket payloads, a child-subreaper test process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


# A verbatim copy of ../shared/fixtures/polymarket (provenance in its SOURCES.md).
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "polymarket"


def load_fixture(name: str) -> Any:
    """Parse one recorded payload from tests/fixtures/polymarket."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture
def fixture_payload():
    return load_fixture


@pytest.fixture
def subreaper() -> Iterator[None]:
    """Make the test process a child subreaper (as the supervisor is) for the test's duration."""
    from polymaker.autorun.reaping import set_child_subreaper

    if not set_child_subreaper(True):
        pytest.skip("PR_SET_CHILD_SUBREAPER is not available here")
    try:
        yield
    finally:
        set_child_subreaper(False)
