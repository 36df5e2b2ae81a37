"""Start the desktop app: `run_app(source, trust)` (called by `tradeoff gui MODEL` and bare `tradeoff`).

Import-light on purpose: the window must appear fast, and the GUI process never imports torch
(the measurement worker does).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Sequence
from types import TracebackType

APP_NAME = "Tradeoff Studio"
ORG_NAME = "Tradeoff Studio"
DEMO_SOURCE = "demo:digits-cnn"  # trained, with labelled held-out samples: real accuracy


def make_application(argv: Sequence[str] | None = None) -> object:
    """The QApplication (created once), with names for QSettings and the theme from the settings."""
    os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication

    QCoreApplication.setOrganizationName(ORG_NAME)
    QCoreApplication.setApplicationName(APP_NAME)
    app = QApplication.instance() or QApplication(list(argv or [sys.argv[0]]))
    from gui.report.qt_compat import protect_none_refcount

    protect_none_refcount()  # no-op on a sound PySide6; guards against 6.12.0's None leak
    from gui.session import AppSettings
    from gui.theme import apply_theme

    apply_theme(app, AppSettings().theme)  # type: ignore[arg-type]
    return app


def run_app(source: str | None = None, trust: bool = False) -> int:
    """Show the main window on `source` (default: the demo model) and run the event loop."""
    multiprocessing.freeze_support()
    from gui.qt_system_check import platform_problem

    problem = platform_problem()
    if problem is not None:  # Qt would abort the process; say what to install instead
        print(f"error: {problem}", file=sys.stderr)
        return 2
    from profiler.tensorboard import install_stop_handlers

    install_stop_handlers()  # SIGTERM/SIGHUP stop a TensorBoard the app started (SECURITY.md)
    app = make_application()
    from PySide6.QtCore import QTimer

    from gui.main_window import MainWindow

    window = MainWindow()
    window.show()
    # after the first paint: the window appears before the model's first question or error
    QTimer.singleShot(0, lambda: window.start(source or DEMO_SOURCE, trust))
    _install_excepthook(window)
    return int(app.exec())  # type: ignore[attr-defined]


def _install_excepthook(window: object) -> None:
    """A bug in a slot becomes a status message and a log line, never a traceback window or exit."""
    import traceback

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        traceback.print_exception(kind, exc, tb)
        try:
            window.statusBar().showMessage(f"Internal error: {kind.__name__}: {exc}", 15000)  # type: ignore[attr-defined]
        except Exception:
            pass

    sys.excepthook = hook


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m gui [MODEL] [--trust]`."""
    args = list(sys.argv[1:] if argv is None else argv)
    trust = "--trust" in args
    rest = [a for a in args if a != "--trust"]
    return run_app(rest[0] if rest else DEMO_SOURCE, trust=trust)
