"""Fixtures for the reliability tests (issue 8): hypothesis profiles, and a main window with an
in-process runner, isolated settings and autosave, and prompts with canned answers (the same
set-up as tests/gui/conftest.py, whose fixtures are not visible from this folder).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

# The same profiles as tests/test_fuzz.py: a fixed budget in CI, `HYPOTHESIS_PROFILE=long` for the
# longer run (tests/bench/fuzz_long.py). Registered here too, since this folder is collected first.
settings.register_profile("ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
settings.register_profile("long", max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _run_in_an_empty_folder(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs in an empty current folder, so that nothing a test provokes (onnxruntime's symbolic
    shape inference saves temporary files into the current folder, for one) lands in the checkout."""
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))


class AnsweredPrompts:
    """Prompts with canned answers; records what was asked (kind, detail)."""

    def __init__(self) -> None:
        self.trust = False
        self.shape: str | None = None
        self.restore = True
        self.asked: list[tuple[str, Any]] = []

    def confirm_trust(self, source: str) -> bool:
        self.asked.append(("trust", source))
        return self.trust

    def ask_shape(self, name: str | None, message: str) -> str | None:
        self.asked.append(("shape", name))
        return self.shape

    def ask_restore(self, when: str) -> bool:
        self.asked.append(("restore", when))
        return self.restore

    def error(self, title: str, message: str) -> None:
        self.asked.append(("error", message))

    def errors(self) -> list[str]:
        return [m for kind, m in self.asked if kind == "error"]


@pytest.fixture
def settings_store(tmp_path: Path, qapp: Any) -> Any:
    from PySide6.QtCore import QSettings

    from gui.session import AppSettings

    return AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


@pytest.fixture
def prompts() -> AnsweredPrompts:
    return AnsweredPrompts()


@pytest.fixture
def make_window(qtbot: Any, tmp_path: Path, settings_store: Any, prompts: AnsweredPrompts,
                monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A MainWindow with an in-process runner (or a given factory), isolated settings and autosave."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    from gui.controller import InProcessRunner, RunController
    from gui.main_window import MainWindow

    windows = []

    def make(runner_factory: Any = InProcessRunner, debounce_ms: int = 20) -> Any:
        controller = RunController(runner_factory, debounce_ms=debounce_ms)
        w = MainWindow(controller, settings=settings_store, prompts=prompts, autosave_dir=tmp_path / "data")  # type: ignore[arg-type]
        qtbot.addWidget(w)
        windows.append(w)
        return w

    yield make
    for w in windows:
        w.controller.close()
