"""Shared test fixtures: paths to the recorded Polymarket payloads."""

from __future__ import annotations

import json
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
