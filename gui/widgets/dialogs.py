"""Small dialogs: trust a pickle, give an input shape, restore the previous session.

`Prompts` gathers every question the window asks the user, so tests replace it with answers.
"""

from __future__ import annotations

from PySide6.QtWidgets import QInputDialog, QMessageBox, QWidget


class Prompts:
    """The questions the main window asks; each returns the user's answer."""

    def __init__(self, parent: QWidget) -> None:
        self.parent = parent

    def confirm_trust(self, source: str) -> bool:
        box = QMessageBox(self.parent)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Run code from this file?")
        box.setText(f"<b>{source}</b> holds a pickled Python object.")
        box.setInformativeText(
            "Loading a pickle runs code stored in the file, with your permissions: it can read, change or "
            "delete your files. Open it only if you trust where it came from.")
        trust = box.addButton("Trust and open", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is trust

    def ask_shape(self, input_name: str | None, message: str) -> str | None:
        label = (f"{message}\n\nShape of input “{input_name}” (e.g. 1x3x224x224):" if input_name
                 else f"{message}\n\nInput shape (e.g. 1x3x224x224):")
        text, ok = QInputDialog.getText(self.parent, "Input shape needed", label)
        return text.strip() if ok and text.strip() else None

    def ask_restore(self, when: str) -> bool:
        answer = QMessageBox.question(
            self.parent, "Restore previous session?",
            f"Tradeoff Studio did not close normally last time. Restore the session autosaved {when}?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes)
        return answer == QMessageBox.StandardButton.Yes

    def error(self, title: str, message: str) -> None:
        QMessageBox.warning(self.parent, title, message)
