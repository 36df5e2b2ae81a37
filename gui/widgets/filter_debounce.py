"""A filter box that refilters when typing rests, not on every keystroke.

Refiltering a Llama-sized heatmap (thousands of rows, a tree to expand) takes long enough that
doing it per keystroke makes typing stutter. `FilterDebounce` watches a QLineEdit and emits
`applied(text)`:

- while the user types, once the keys rest for `DEBOUNCE_MS` (each key restarts the wait);
- at once on Enter, when the box is emptied (the clear button: nothing to wait for), and when
  the text is set by the program (`setText`: a linked box or a double-click in another view
  filters now, as callers expect);
- never twice for the same text (Enter after the wait has run changes nothing).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QLineEdit

#: how long typing must rest before the filter runs (ms): below a typist's pause between words,
#: above the gap between keys
DEBOUNCE_MS = 150


class FilterDebounce(QObject):
    """See the module docstring. `pending()` is True while typed text waits to be applied."""

    applied = Signal(str)

    def __init__(self, edit: QLineEdit, interval_ms: int = DEBOUNCE_MS) -> None:
        super().__init__(edit)
        self._edit = edit
        self._applied = edit.text()
        self._timer = QTimer(self, singleShot=True, interval=interval_ms)
        self._timer.timeout.connect(self.apply_now)
        edit.textChanged.connect(self._on_edit_text_changed)
        edit.returnPressed.connect(self.apply_now)

    def pending(self) -> bool:
        return self._timer.isActive()

    def apply_now(self) -> None:
        """Apply the box's text now (Enter; the wait ran out)."""
        self._timer.stop()
        text = self._edit.text()
        if text == self._applied:
            return
        self._applied = text
        self.applied.emit(text)

    def _on_edit_text_changed(self, text: str) -> None:
        # isModified: True after a user edit, reset by setText — typing waits, the program does not
        if self._edit.isModified() and text.strip():
            self._timer.start()
        else:
            self.apply_now()
