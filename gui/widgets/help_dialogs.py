"""Help → Keyboard shortcuts and Help → Documentation.

The shortcuts dialog reads the shortcuts from the window's own QActions (`shortcut_rows`), so it
lists what the window really does and never goes stale; two actions sharing a key are marked.
Documentation opens local files only (README.md, docs/) through QDesktopServices — never a web
address.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QMenu,
    QMenuBar,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui import plain_text

#: the source tree's root when the app runs from a checkout or an editable install
SOURCE_ROOT = Path(__file__).resolve().parents[2]


def _action_text(action: QAction) -> str:
    return action.text().replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip(".…").strip()


def shortcut_rows(window: QWidget) -> list[tuple[str, str, str]]:
    """(where, action, shortcut) for every QAction of `window` that has a shortcut: the menu path
    for actions in the menu bar ("File", "Run"), "Window" for the others; in menu order."""
    rows: list[tuple[str, str, str]] = []
    seen: set[int] = set()

    def walk(menu: QMenu, path: str) -> None:
        for act in menu.actions():
            sub = act.menu()
            if isinstance(sub, QMenu):
                walk(sub, f"{path} → {_action_text(act)}")
                continue
            if act.isSeparator():
                continue
            seen.add(id(act))
            for key in act.shortcuts():
                if not key.isEmpty():
                    rows.append((path, _action_text(act), key.toString(QKeySequence.SequenceFormat.NativeText)))

    bar = window.findChild(QMenuBar)
    if bar is not None:
        for top in bar.actions():
            menu = top.menu()
            if isinstance(menu, QMenu):
                walk(menu, _action_text(top))
    for act in window.findChildren(QAction):
        if id(act) in seen or act.menu() is not None:
            continue
        for key in act.shortcuts():
            if not key.isEmpty():
                rows.append(("Window", _action_text(act), key.toString(QKeySequence.SequenceFormat.NativeText)))
    return rows


class ShortcutsDialog(QDialog):
    """A table of `shortcut_rows(window)`; a key bound twice is marked in red with a tooltip."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setWindowTitle("Keyboard shortcuts — Tradeoff Studio")
        self.rows = shortcut_rows(window)
        counts = Counter(key for _, _, key in self.rows)
        self.table = QTableWidget(len(self.rows), 3)
        self.table.setHorizontalHeaderLabels(["Shortcut", "Action", "Menu"])
        for r, (where, name, key) in enumerate(self.rows):
            for c, text in enumerate((key, name, where)):
                item = QTableWidgetItem(text)
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                if c == 0 and counts[key] > 1:
                    item.setForeground(Qt.GlobalColor.red)
                    item.setToolTip(plain_text.tip(f"{key} is bound to more than one action"))
                self.table.setItem(r, c, item)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().setDefaultSectionSize(22)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.table, 1)
        lay.addWidget(buttons)
        self.resize(560, min(620, 90 + 22 * len(self.rows)))


def documentation_path(name: str = "README.md") -> Path | None:
    """A local document (README.md, SECURITY.md, docs/…) of the source tree, or None when this
    install has none (a wheel without the sources)."""
    path = SOURCE_ROOT / name
    return path if path.exists() else None


def open_local(path: Path) -> bool:
    """Open a local file or folder in the desktop's viewer; never a network address."""
    url = QUrl.fromLocalFile(str(path.resolve()))
    if not url.isLocalFile():  # pragma: no cover - fromLocalFile always gives a file: URL
        return False
    return bool(QDesktopServices.openUrl(url))
