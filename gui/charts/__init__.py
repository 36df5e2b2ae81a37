"""pyqtgraph charts. pyqtgraph prefers PyQt6 when both are installed: pin it to PySide6 first."""

import os

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
import PySide6.QtCore  # noqa: E402,F401  (imported before pyqtgraph on purpose)
