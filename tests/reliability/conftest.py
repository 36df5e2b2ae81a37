"""Fixtures for the reliability tests (issue 8): hypothesis profiles, and a main window with an
in-process runner, isolated settings and autosave, and prompts with canned answers (the same
set-up as tests/gui/conftest.py, whose fixtures are not visible from this folder).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from answered_prompts import AnsweredPrompts
from window_factory import make_windows

# The same profiles as tests/test_fuzz.py: a fixed budget in CI, `HYPOTHESIS_PROFILE=long` for the
# longer run (tests/bench/fuzz_long.py). Registered here too, since this folder is collected first.


@pytest.fixture(autouse=True)
def _run_in_an_empty_folder(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs in an empty current folder, so that nothing a test provokes (onnxruntime's symbolic
    shape inference saves temporary files into the current folder, for one) lands in the checkout."""
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))


@pytest.fixture
def settings_store(tmp_path: Path, qapp: Any) -> Any:
    from PySide6.QtCore import QSettings

    from gui.session import AppSettings

    return AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


@pytest.fixture
def prompts() -> AnsweredPrompts:
    return AnsweredPrompts()


@pytest.fixture
def make_window(
    qtbot: Any, tmp_path: Path, settings_store: Any, prompts: AnsweredPrompts, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    """A MainWindow with an in-process runner (or a given factory), isolated settings and autosave."""
    yield from make_windows(qtbot, tmp_path, monkeypatch, settings_store, prompts)
