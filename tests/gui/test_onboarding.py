"""Onboarding: the Getting started page on a fresh user's first start, its buttons, and the Help
menu (keyboard shortcuts read from the actions, local documentation)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QAction, QKeySequence

from gui.controller import InProcessRunner


class Recording(InProcessRunner):
    """Records what the window asks to run; runs nothing (no worker, no torch)."""

    def submit(self, task: str, payload: Any = None, **kw: Any) -> int:
        self.submitted.append((task, dict(payload or {})))
        self._next_id += 1
        return self._next_id


def _sources(w: Any) -> list[str]:
    return [p.get("source") for _, p in w.controller.runner.submitted]


def test_fresh_user_gets_the_getting_started_page_beside_the_trained_demo(qtbot: Any, make_window: Any) -> None:
    from gui.app import DEMO_SOURCE

    w = make_window(Recording)
    w.start(DEMO_SOURCE)
    page = w.menus.welcome
    assert page is not None and page.isVisible()
    assert _sources(w)[0] == "demo:digits-cnn"  # the trained demo opens behind the page
    forms = [page.forms.item(r, 0).text() for r in range(page.forms.rowCount())]
    examples = " ".join(page.forms.item(r, 1).text() for r in range(page.forms.rowCount()))
    assert forms == ["ONNX", "torch.export", "TorchScript", "Python factory", "Hugging Face config", "Built-in demo"]
    for example in (".onnx", ".pt2", ".ts", ".py:build", "config.json", "demo:"):
        assert example in examples
    steps = [b.text() for b in page.step_buttons]
    assert steps == ["Show the heatmap", "Show the variants", "Show the planner"]


def test_not_shown_when_there_is_a_recent_file(qtbot: Any, make_window: Any, settings: Any) -> None:
    settings.add_recent("/data/models/net.onnx")
    w = make_window(Recording)
    w.start("demo:digits-cnn")
    assert w.menus.welcome is None


def test_shown_once_then_from_help(qtbot: Any, make_window: Any) -> None:
    w = make_window(Recording)
    w.start("demo:digits-cnn")
    w.menus.welcome.close()
    w2 = make_window(Recording)
    w2.start("demo:digits-cnn")
    assert w2.menus.welcome is None  # the flag in the settings: a fresh user sees it once
    w2.menus.getting_started_action.trigger()
    assert w2.menus.welcome is not None and w2.menus.welcome.isVisible()
    help_menu = w2.menuBar().actions()[-1].menu()
    names = [a.text().replace("&", "") for a in help_menu.actions() if not a.isSeparator()]
    assert names[:3] == ["Getting started", "Keyboard shortcuts", "Documentation (README)"]
    assert "About Tradeoff Studio" in names


def test_its_buttons_open_things(qtbot: Any, make_window: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    w = make_window(Recording)
    page = w.menus.show_getting_started()
    page.trained_demo_button.click()
    assert _sources(w)[-1] == "demo:digits-cnn"
    page.demo_combo.setCurrentIndex(page.demo_combo.findData("demo:mlp"))
    page.open_demo_button.click()
    assert _sources(w)[-1] == "demo:mlp"

    model = tmp_path / "net.onnx"
    model.write_bytes(b"not really onnx")
    opened: list[str] = []
    monkeypatch.setattr(w.opening, "open_path", opened.append)
    import gui.window.menus as menus
    import gui.window.opening as opening

    monkeypatch.setattr(opening.QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(model), "")))
    page.open_file_button.click()
    assert opened == [str(model)]
    monkeypatch.setattr(menus.QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: str(tmp_path)))
    page.open_folder_button.click()
    assert opened[-1] == str(tmp_path)

    page.step_buttons[2].click()
    assert w.tabs.currentWidget() is w.planner
    page.step_buttons[0].click()
    assert w.tabs.currentIndex() == 0


def test_shortcuts_dialog_lists_every_action_shortcut(qtbot: Any, make_window: Any) -> None:
    w = make_window(Recording)
    dialog = w.menus.show_shortcuts()
    shown = {(dialog.table.item(r, 1).text(), dialog.table.item(r, 0).text()) for r in range(dialog.table.rowCount())}
    native = QKeySequence.SequenceFormat.NativeText
    expected = set()
    for act in w.findChildren(QAction):
        for key in act.shortcuts():
            if not key.isEmpty():
                name = act.text().replace("&", "").rstrip(".…").strip()
                expected.add((name, key.toString(native)))
    assert expected and expected <= shown
    assert ("Open model", QKeySequence(QKeySequence.StandardKey.Open).toString(native)) in shown
    assert ("Optimize", "Ctrl+Shift+O") in shown
    # one key, one action: a key bound twice fires neither
    keys = [dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())]
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)
    # it follows the actions: a new one shows up the next time
    extra = QAction("Something new", w, shortcut=QKeySequence("Ctrl+Alt+N"))
    w.addAction(extra)
    rows = w.menus.show_shortcuts().rows
    assert ("Window", "Something new", QKeySequence("Ctrl+Alt+N").toString(native)) in rows


def test_documentation_opens_local_files_only(qtbot: Any, make_window: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import gui.widgets.help_dialogs as help_dialogs

    urls: list[Any] = []
    monkeypatch.setattr(help_dialogs.QDesktopServices, "openUrl", staticmethod(lambda url: urls.append(url) or True))
    w = make_window(Recording)
    w.menus.docs_action.trigger()
    w.menus.docs_folder_action.trigger()
    assert [u.isLocalFile() for u in urls] == [True, True]
    assert Path(urls[0].toLocalFile()).name == "README.md"
    assert Path(urls[1].toLocalFile()).name == "docs"

    monkeypatch.setattr(help_dialogs, "SOURCE_ROOT", Path("/nonexistent"))
    assert not w.menus.open_documentation("README.md")  # an install without the sources says so
    assert "README.md" in w.prompts.notices[-1]


def test_not_shown_when_an_autosave_is_there(qtbot: Any, make_window: Any, tmp_path: Path) -> None:
    w = make_window(Recording)
    folder = w.autosave_path.parent
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "autosave-1.tradeoff").write_text("{}")  # a past session (another instance's)
    w.start("demo:digits-cnn")
    assert w.menus.welcome is None
