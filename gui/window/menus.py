"""The menu bar: File (open, demos, recent, projects, exports), Run (… Measure on: this machine or
a Ray cluster), View, Help (getting started, shortcuts, documentation, about).

`Menus` builds the actions and keeps the ones the window changes later (enabled while a
measurement runs, the recent list, the theme check box); what each action does lives in the
window's parts (gui/window/opening.py, exporting.py, results.py).
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QWidget

from gui import plain_text
from gui.session import is_project_path
from gui.widgets.help_dialogs import ShortcutsDialog, documentation_path, open_local
from gui.widgets.welcome import WelcomePage
from gui.window.cluster_runs import MeasureOn
from gui.window.opening import RECENT

if TYPE_CHECKING:
    from gui.window.main_window import MainWindow

VIEW_NAMES = ("Heatmap", "Layers", "Batch", "Roofline", "Variants", "Planner", "Graph", "Operators")


class Menus:
    """The window's menus and the actions it keeps a hand on."""

    def __init__(self, w: MainWindow) -> None:
        self._w = w
        bar = w.menuBar()
        file = bar.addMenu("&File")
        self.open_action = QAction("&Open model…", w)
        self.open_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Open))
        self.open_action.triggered.connect(w.opening.on_open_action)
        file.addAction(self.open_action)
        demos = file.addMenu("Open &demo model")
        from profiler.demos import DEMO_NAMES, demo_spec

        for name in DEMO_NAMES:
            act = demos.addAction(f"{name} — {demo_spec(name).description}")
            act.triggered.connect(lambda _=False, n=name: w.open_model(f"demo:{n}"))
        self.recent_menu = QMenu("Open &recent", w)
        file.addMenu(self.recent_menu)
        self.fill_recent()
        file.addSeparator()
        # Ctrl+Shift+O is Run → Optimize (README); a key bound twice would fire neither
        act = QAction("Open &project…", w, shortcut=QKeySequence("Ctrl+Shift+P"))
        act.triggered.connect(w.opening.on_open_project_action)
        file.addAction(act)
        self.save_action = QAction("&Save project", w)
        self.save_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Save))
        self.save_action.triggered.connect(w.opening.on_save_action)
        file.addAction(self.save_action)
        act = QAction("Save project &as…", w, shortcut=QKeySequence("Ctrl+Shift+S"))
        act.triggered.connect(w.opening.on_save_as_action)
        file.addAction(act)
        file.addSeparator()
        self.export_action = QAction("&Export report…", w, shortcut=QKeySequence("Ctrl+E"))
        if (
            importlib.util.find_spec("gui.report") is not None
            and importlib.util.find_spec("gui.report.export") is not None
        ):
            self.export_action.triggered.connect(w.exporting.export_report)
        else:
            self.export_action.setEnabled(False)
            self.export_action.setToolTip("The PDF report is not part of this build yet")
        file.addAction(self.export_action)
        act = QAction("Export &data (CSV, JSON)…", w)
        act.triggered.connect(w.exporting.export_data)
        file.addAction(act)
        file.addSeparator()
        act = QAction("&Record trace…", w, shortcut=QKeySequence("Ctrl+T"))
        act.setToolTip("Record a torch.profiler trace of the current variant for TensorBoard and Perfetto")
        act.triggered.connect(w.exporting.record_trace)
        file.addAction(act)
        self.tensorboard_action = QAction("Open in &TensorBoard…", w)
        self.tensorboard_action.triggered.connect(w.exporting.open_tensorboard)
        file.addAction(self.tensorboard_action)
        file.setToolTipsVisible(True)
        file.addSeparator()
        act = QAction("&Quit", w)
        act.setShortcut(QKeySequence(QKeySequence.StandardKey.Quit))
        act.triggered.connect(w.close)
        file.addAction(act)

        run = bar.addMenu("&Run")
        act = QAction("&Re-measure", w, shortcut=QKeySequence("F5"))
        act.triggered.connect(w.results_view.remeasure)
        run.addAction(act)
        self.cancel_action = QAction("&Cancel measurement", w, shortcut=QKeySequence("Esc"))
        self.cancel_action.triggered.connect(w.controller.cancel)
        self.cancel_action.setEnabled(False)
        run.addAction(self.cancel_action)
        act = QAction("Back to &baseline", w, shortcut=QKeySequence("Ctrl+B"))
        act.triggered.connect(w.knobs.reset_button.click)
        run.addAction(act)
        run.addSeparator()
        self.compare_action = QAction("Compare &with…", w, shortcut=QKeySequence("Ctrl+Shift+C"))
        self.compare_action.setToolTip("Measure the open model (A) and a second model (B) side by side")
        self.compare_action.triggered.connect(w.comparing.on_compare_action)
        self.optimize_action = QAction("&Optimize…", w, shortcut=QKeySequence("Ctrl+Shift+O"))
        self.optimize_action.setToolTip(
            "Search pruning × precision × runtime for the cheapest variant at the Planner tab's load that keeps a quality floor"
        )
        self.optimize_action.triggered.connect(w.optimizing.on_optimize_action)
        run.addAction(self.optimize_action)
        run.addAction(self.compare_action)
        run.addSeparator()
        self.measure_on = MeasureOn(w)
        self.measure_on_action = QAction("Measure &on…", w)
        self.measure_on_action.setToolTip(
            "Where batch sweeps and Optimize… measure: this machine, or a Ray cluster (knob changes stay here)"
        )
        self.measure_on_action.triggered.connect(self.measure_on.show)
        run.addAction(self.measure_on_action)
        run.setToolTipsVisible(True)

        view = bar.addMenu("&View")
        self.dark_action = QAction("&Dark theme", w, checkable=True, shortcut=QKeySequence("Ctrl+Shift+D"))
        self.dark_action.setChecked(w.settings.theme == "dark")
        self.dark_action.toggled.connect(lambda dark: w.set_theme("dark" if dark else "light"))
        view.addAction(self.dark_action)
        for i, name in enumerate(VIEW_NAMES):
            act = QAction(name, w, shortcut=QKeySequence(f"Ctrl+{i + 1}"))
            act.triggered.connect(lambda _=False, k=i: w.tabs.setCurrentIndex(k))
            view.addAction(act)

        help_menu = bar.addMenu("&Help")
        self.getting_started_action = QAction("&Getting started", w, shortcut=QKeySequence("F1"))
        self.getting_started_action.triggered.connect(self.show_getting_started)
        help_menu.addAction(self.getting_started_action)
        self.shortcuts_action = QAction("&Keyboard shortcuts", w, shortcut=QKeySequence("Ctrl+/"))
        self.shortcuts_action.triggered.connect(self.show_shortcuts)
        help_menu.addAction(self.shortcuts_action)
        self.docs_action = QAction("&Documentation (README)", w)
        self.docs_action.setToolTip("Opens the README on this computer in your viewer (no network)")
        self.docs_action.triggered.connect(lambda: self.open_documentation("README.md"))
        help_menu.addAction(self.docs_action)
        self.docs_folder_action = QAction("Documentation &folder (docs/)", w)
        self.docs_folder_action.setToolTip("Architecture, the JSON contract and the security notes, on this computer")
        self.docs_folder_action.triggered.connect(lambda: self.open_documentation("docs"))
        help_menu.addAction(self.docs_folder_action)
        help_menu.setToolTipsVisible(True)
        help_menu.addSeparator()
        act = help_menu.addAction("&About Tradeoff Studio")
        act.triggered.connect(lambda: show_about(w))
        self.welcome: WelcomePage | None = None
        self.shortcuts_dialog: ShortcutsDialog | None = None

    # == Help ======================================================================================

    def show_getting_started(self) -> WelcomePage:
        """The first-start page (non-modal; made once, raised when asked again)."""
        w = self._w
        if self.welcome is None:
            from profiler.demos import DEMO_NAMES, demo_spec

            page = WelcomePage([(f"demo:{n}", demo_spec(n).description) for n in DEMO_NAMES], w)
            page.open_file_requested.connect(w.opening.on_open_action)
            page.open_folder_requested.connect(self._on_welcome_open_folder)
            page.open_demo_requested.connect(lambda source: w.open_model(source))
            page.show_tab_requested.connect(w.tabs.setCurrentIndex)
            self.welcome = page
            page.fit_to(w)
        self.welcome.show()
        self.welcome.raise_()
        self.welcome.activateWindow()
        return self.welcome

    def _on_welcome_open_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self._w, "Open a Hugging Face folder (holding config.json)")
        if path:
            self._w.opening.open_path(path)

    def show_shortcuts(self) -> ShortcutsDialog:
        """Every shortcut the window's actions have, read from the actions themselves."""
        if self.shortcuts_dialog is not None:
            self.shortcuts_dialog.close()
            self.shortcuts_dialog.deleteLater()
        self.shortcuts_dialog = ShortcutsDialog(self._w)
        self.shortcuts_dialog.show()
        return self.shortcuts_dialog

    def open_documentation(self, name: str) -> bool:
        """Open a local document of the source tree; say where to find it when this install has none."""
        path = documentation_path(name)
        if path is None:
            self._w.prompts.notice(
                "Documentation",
                f"This installation does not include {name}. It is part of Tradeoff Studio's source "
                "(README.md and the docs/ folder).",
            )
            return False
        if not open_local(path):
            self._w.statusBar().showMessage(f"No viewer could open {path}", 10000)
            return False
        self._w.statusBar().showMessage(f"Opened {path}", 5000)
        return True

    def fill_recent(self) -> None:
        """The recent files, newest first; a project opens as a project, anything else as a model."""
        w = self._w
        self.recent_menu.clear()
        recent = w.settings.recent_files()
        for path in recent:
            act = self.recent_menu.addAction(plain_text.menu_text(path))
            if is_project_path(path):
                act.triggered.connect(lambda _=False, p=path: w.open_project(p))
            else:  # a list entry is not the user's choice of a file that runs code: a .py asks again
                act.triggered.connect(lambda _=False, p=path: w.open_model(p, origin=RECENT))
        if recent:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list", self._clear_recent)
        self.recent_menu.setEnabled(bool(recent))

    def _clear_recent(self) -> None:
        self._w.settings.clear_recent()
        self.fill_recent()


def show_about(parent: QWidget) -> None:
    from profiler import __version__

    QMessageBox.about(
        parent,
        "About Tradeoff Studio",
        f"<b>Tradeoff Studio</b> {__version__}<br>Profiler and what-if cost planner for neural networks."
        "<br><br>Measured figures come from this machine; GPU times and prices are projected.",
    )
