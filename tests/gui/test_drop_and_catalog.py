"""Drag-and-drop of a model file onto the window, and catalog edits persisting to overrides."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent

TIMEOUT_MS = 30_000


_MIME_KEEPALIVE: list[Any] = []  # an event does not own its QMimeData: keep it alive


def _drop_event(cls: Any, path: Path) -> Any:
    mime = QMimeData()
    _MIME_KEEPALIVE.append(mime)
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    pos = QPointF(10, 10)
    if cls is QDragEnterEvent:
        return QDragEnterEvent(
            pos.toPoint(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
        )
    return QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)


def test_dropping_a_model_file_opens_it(qtbot: Any, make_window: Any, tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 3))
    path = tmp_path / "dropped.onnx"
    torch.onnx.export(model, (torch.randn(1, 12),), str(path), input_names=["x"], dynamo=False)
    w = make_window()
    w.show()
    enter = _drop_event(QDragEnterEvent, path)
    w.dragEnterEvent(enter)
    assert enter.isAccepted()
    with qtbot.waitSignal(w.result_shown, timeout=TIMEOUT_MS) as blocker:
        w.dropEvent(_drop_event(QDropEvent, path))
    result = blocker.args[0]
    assert result.profile.model.source == str(path)
    assert result.profile.totals.macs == 12 * 3
    assert w.workspace.source == str(path)


def test_catalog_edit_persists_to_the_user_overrides(
    qapp: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    from gui.models.catalog_table import COLUMNS, OVERRIDES_FILE, CatalogTableModel
    from planner.catalog import load_catalog, user_catalog_dir

    catalog = load_catalog(include_user=False)
    model = CatalogTableModel(catalog.instances)
    price_col = next(i for i, c in enumerate(COLUMNS) if c[1] == "usd_per_hour")
    first = catalog.instances[0]
    assert model.setData(model.index(0, price_col), "1.2345", Qt.ItemDataRole.EditRole)
    folder = user_catalog_dir()
    path = model.save_overrides(folder)
    assert path == folder / OVERRIDES_FILE and path.is_file()
    # the next load merges the override over the shipped row
    reloaded = load_catalog()
    match = [
        i
        for i in reloaded.instances
        if (i.provider, i.instance, i.region) == (first.provider, first.instance, first.region)
    ]
    assert len(match) == 1 and match[0].usd_per_hour == pytest.approx(1.2345)
    assert not [w for w in reloaded.warnings if OVERRIDES_FILE in w]
