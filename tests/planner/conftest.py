"""Fixtures for the planner tests: the shipped catalog without the user's config dir."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # plan_fixtures

from planner.catalog import Catalog, load_catalog  # noqa: E402


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    cat = load_catalog(include_user=False)
    cat.check()
    return cat


@pytest.fixture(autouse=True)
def _no_user_catalog(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep a developer's ~/.config catalog out of the tests."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg")))
