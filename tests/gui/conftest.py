"""GUI test fixtures: isolated settings and autosave, an in-process runner, answered prompts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from answered_prompts import AnsweredPrompts
from window_factory import make_windows

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
def make_window(
    qtbot: Any, tmp_path: Path, settings: Any, prompts: AnsweredPrompts, monkeypatch: pytest.MonkeyPatch
) -> Any:
    """A MainWindow with an in-process runner (or a given factory), isolated settings and autosave."""
    yield from make_windows(qtbot, tmp_path, monkeypatch, settings, prompts)


@pytest.fixture
def mlp_result() -> dict[str, Any]:
    return json.loads((DATA / "data_mlp_baseline.json").read_text())


@pytest.fixture
def resnet_result() -> dict[str, Any]:
    return json.loads((DATA / "data_resnet18_baseline.json").read_text())


@pytest.fixture
def doc(qapp: Any, tmp_path: Path) -> Any:
    """An empty report layout (gui/report/layout.py `Doc`) on an A4 writer in tmp_path."""
    from gui.report.layout import Doc, make_writer

    writer = make_writer(str(tmp_path / "layout.pdf"), "a4", title="t", creator="test")
    d = Doc(writer, header="h", footer_left="f")
    yield d
    d.pages.clear()


def fill_to(doc: Any, room_pt: float) -> None:
    """Move a layout's cursor down until `room_pt` points are left on the page."""
    doc.y = doc.bottom - doc.pt(room_pt)
    doc.add(lambda p: None)
