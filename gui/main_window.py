"""The main window lives in gui/window/ (main_window.py: layout; menus.py, opening.py,
results.py, exporting.py: what it does). `gui.main_window.MainWindow` stays importable."""

from gui.window.main_window import APP_TITLE, MainWindow

__all__ = ["APP_TITLE", "MainWindow"]
