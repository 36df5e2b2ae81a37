"""Small dialogs: trust a file that runs code, give an input shape, restore the previous session.

`Prompts` gathers every question the window asks the user, so tests replace it with answers.
Every text here names a file or repeats an error message, so every dialog shows plain text
(gui/plain_text.py): a file name is never markup.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QMessageBox, QWidget

from gui import plain_text

#: What trusting means, for every format that runs code (pickles, torch.export, TorchScript,
#: Hugging Face custom code, Python factories).
TRUST_MEANING = (
    "Trusting it lets code from the file run on this computer with your permissions: it can read, "
    "change or delete your files and use your network. Only trust files from people you trust.\n\n"
    "Your answer is not remembered: Tradeoff Studio asks again each time the file is opened."
)


def what_runs(source: str) -> str:
    """One sentence: what opening `source` runs (its format decides)."""
    path_text = source
    if ".py:" in source:
        path_text = source.rsplit(":", 1)[0]
    p = Path(path_text)
    suffix = p.suffix.lower()
    if p.is_dir() or suffix == ".json":
        return "This Hugging Face model comes with its own Python code (auto_map): loading it runs that code."
    if suffix == ".py":
        return "This is a Python file: opening it runs its code (the function that builds the model)."
    if suffix == ".pt2":
        return (
            "This is a torch.export archive: it can carry code (shape expressions, pickled objects, native "
            "libraries) that runs when it is loaded."
        )
    if suffix in (".pt", ".pth", ".ts", ".ckpt", ".bin"):
        return "This file holds a pickled Python object or TorchScript code: loading it runs code from the file."
    return "Opening this file runs code from it."


class Prompts:
    """The questions the main window asks; each returns the user's answer."""

    def __init__(self, parent: QWidget) -> None:
        self.parent = parent

    def confirm_trust(self, source: str, why: str = "") -> bool:
        """Ask before a file's code runs. `why`: the context (a project or the autosave named
        the file), one plain sentence or ""."""
        informative = TRUST_MEANING if not why else f"{why}\n\n{TRUST_MEANING}"
        box = plain_text.message_box(
            self.parent,
            QMessageBox.Icon.Warning,
            "Run code from this file?",
            f"{source}\n\n{what_runs(source)}",
            informative,
        )
        trust = box.addButton("Trust and open", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is trust

    def notice(self, title: str, message: str) -> None:
        """Information the user acknowledges (OK)."""
        plain_text.information(self.parent, title, message)

    def ask_shape(self, input_name: str | None, message: str) -> str | None:
        label = (
            f"{message}\n\nShape of input “{input_name}” (e.g. 1x3x224x224):"
            if input_name
            else f"{message}\n\nInput shape (e.g. 1x3x224x224):"
        )
        text, ok = plain_text.ask_text(self.parent, "Input shape needed", label)
        return text.strip() if ok and text.strip() else None

    def ask_restore(self, when: str) -> bool:
        return plain_text.question(
            self.parent,
            "Restore previous session?",
            f"Tradeoff Studio did not close normally last time. Restore the session autosaved {when}?\n\n"
            "Files that run code are not trusted again on their own: you will be asked.",
        )

    def error(self, title: str, message: str) -> None:
        plain_text.warning(self.parent, title, message)
