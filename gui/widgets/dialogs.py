"""Small dialogs: trust a file that runs code, give an input shape, restore the previous session.

`Prompts` gathers every question the window asks the user, so tests replace it with answers.
Every text here names a file or repeats an error message, so every dialog shows plain text
(gui/plain_text.py): a file name is never markup.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

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

    def ask_shape(self, input_name: str | None, message: str, missing: dict[str, Any] | None = None) -> str | None:
        """The full shape of the input whose size the model does not say, pre-filled from what
        it does say (`missing`: the core's missing_dim fields), in the window's words."""
        label, guess = shape_question(input_name, missing)
        text, ok = plain_text.ask_text(self.parent, "Input size needed", label, guess)
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


#: what a size the model leaves open usually is, by its symbol's name (a guess to edit, never used unasked)
_GUESSES = (("batch", 1), ("seq", 128), ("len", 128), ("token", 128), ("time", 128), ("height", 224),
            ("width", 224), ("channel", 3))  # fmt: skip


def shape_question(input_name: str | None, missing: dict[str, Any] | None) -> tuple[str, str]:
    """(the question, a pre-filled shape) for an input whose size the model leaves open.

    The question names the input, the dimension and its symbol in the window's words (no
    command-line flags); the answer is pre-filled with the sizes the model declares and a guess
    for the open ones (1 for a batch, 128 for a sequence, 224 for an image side), so the user
    edits rather than types. Token (integer) inputs are never offered an image's shape."""
    missing = missing or {}
    declared = list(missing.get("declared") or [])
    symbols = list(missing.get("symbols") or [None] * len(declared))
    dtype = str(missing.get("dtype") or "")
    tokens = dtype.startswith("int")
    rank = len(declared)
    if tokens:
        example = "1x128 (batch × sequence length)"
    elif rank in (0, 4):
        example = "1x3x224x224 (batch × channels × height × width)"
    else:  # another rank: as many sizes as the model has dimensions
        example = "x".join(["1"] + ["64"] * (rank - 1)) + f" ({rank} sizes, batch first)"
    if not declared:
        who = f"input “{input_name}”" if input_name else "its input"
        text = f"The model does not say what shape {who} has. Enter it with x between sizes, e.g. {example}."
        return text, ("1x128" if tokens else "")
    sizes = []
    for k, d in enumerate(declared):
        if isinstance(d, int) and d > 0:
            sizes.append(str(d))
            continue
        sym = str(symbols[k] if k < len(symbols) and symbols[k] else "").lower()
        guess = next((v for key, v in _GUESSES if key in sym), 1 if k == 0 else (128 if tokens else None))
        sizes.append(str(guess) if guess is not None else "")
    dim = missing.get("dim")
    symbol = missing.get("symbol")
    open_part = f"dimension {dim}" + (f" (“{symbol}”)" if symbol else "") if dim is not None else "a dimension"
    text = (
        f"The model leaves the size of {open_part} of input “{input_name}” open. Check the pre-filled shape "
        f"(sizes the model declares are kept; open ones are a guess) and change it if needed, e.g. {example}."
    )
    return text, "x".join(sizes) if all(sizes) else "x".join(s or "?" for s in sizes)
