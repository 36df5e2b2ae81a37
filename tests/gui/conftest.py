"""GUI test fixtures: isolated settings and autosave, an in-process runner, answered prompts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from answered_prompts import AnsweredPrompts

DATA = Path(__file__).parent / "data"





@pytest.fixture
def settings(tmp_path: Path, qapp: Any) -> Any:
    from PySide6.QtCore import QSettings

    from gui.session import AppSettings

    return AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


@pytest.fixture
def prompts() -> AnsweredPrompts:
    return AnsweredPrompts(trust=True, shape="1x3x32x32")


@pytest.fixture
def make_window(qtbot: Any, tmp_path: Path, settings: Any, prompts: AnsweredPrompts, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A MainWindow with an in-process runner (or a given factory), isolated settings and autosave."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    from gui.controller import InProcessRunner, RunController
    from gui.main_window import MainWindow

    windows = []

    def make(runner_factory: Any = InProcessRunner, debounce_ms: int = 20) -> Any:
        controller = RunController(runner_factory, debounce_ms=debounce_ms)
        w = MainWindow(controller, settings=settings, prompts=prompts, autosave_dir=tmp_path / "data")  # type: ignore[arg-type]
        qtbot.addWidget(w)
        windows.append(w)
        return w

    yield make
    for w in windows:
        w.controller.close()


@pytest.fixture
def mlp_result() -> dict[str, Any]:
    return json.loads((DATA / "data_mlp_baseline.json").read_text())


@pytest.fixture
def resnet_result() -> dict[str, Any]:
    return json.loads((DATA / "data_resnet18_baseline.json").read_text())
