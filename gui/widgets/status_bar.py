"""The main window's status bar: messages cut with "…" to the room the telemetry leaves.

QStatusBar paints a temporary message itself, clipped at the first permanent widget without an
ellipsis, so a long message ("Measured prune 0.3 … fidelity cos 0") ran into the telemetry at
1280 px and read as one line. Here the message is a label in the bar's stretching slot: it
takes only the width left of the permanent widgets (progress, Cancel, telemetry), a message that
does not fit ends in "…", and the whole message is its tooltip. `showMessage`, `clearMessage`
and `currentMessage` keep QStatusBar's meaning (timeouts in ms; `currentMessage` is the whole
text), so callers do not change. Messages can quote file and model names: plain text.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel, QSizePolicy, QStatusBar, QWidget

from gui import plain_text


class ElidedLabel(QLabel):
    """A one-line plain-text label that never asks for more width than it gets: its text is cut
    with "…" to the width it has (`full_text` keeps the whole)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(0)
        self.full_text = ""

    def set_full_text(self, text: str) -> None:
        self.full_text = text
        self.setToolTip(plain_text.tip(text))
        self._elide()

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        one_line = " ".join(self.full_text.split())
        self.setText(self.fontMetrics().elidedText(one_line, Qt.TextElideMode.ElideRight, max(0, self.width())))


class StatusBar(QStatusBar):
    """See the module docstring."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message = ElidedLabel()
        self.message.setObjectName("StatusMessage")
        self.addWidget(self.message, 1)
        self._timer = QTimer(self, singleShot=True)
        self._timer.timeout.connect(self.clearMessage)

    def showMessage(self, text: str, timeout: int | None = 0) -> None:  # noqa: N802 (Qt's name)
        self.message.set_full_text(text)
        if timeout:
            self._timer.start(timeout)
        else:
            self._timer.stop()

    def clearMessage(self) -> None:  # noqa: N802 (Qt's name)
        self._timer.stop()
        self.message.set_full_text("")
        super().clearMessage()

    def currentMessage(self) -> str:  # noqa: N802 (Qt's name)
        # a status tip that Qt showed itself (a menu item under the mouse) comes first, as in Qt
        return super().currentMessage() or self.message.full_text
