"""Text from a model, a file name or an error message is shown as text, never as markup.

Qt guesses whether a string is rich text (`Qt::mightBeRichText`) for tooltips, labels, message
boxes and input dialogs. A layer, ONNX node or folder named `<img src="/dev/zero">` would then be
rendered as HTML, and Qt reads the image source until memory runs out. Everything the app shows
that is built from a name, a path or an error goes through this module:

- widgets that only show text (labels, message boxes, input dialogs) get `Qt.TextFormat.PlainText`;
- tooltips, which Qt always guesses about, are escaped inside a paragraph that keeps line breaks;
- menu entries double `&` (else the next letter becomes a shortcut), window titles double `[*]`.

The status bar and QPainter.drawText (charts' axes, the PDF report) draw plain text by design.
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog, QLabel, QMessageBox, QProgressDialog, QWidget

PLAIN = Qt.TextFormat.PlainText
_TIP_WRAP_AT = 100  # longer lines wrap in the tooltip; shorter ones keep the text's own breaks


def escape(text: object) -> str:
    """`text` as HTML that shows exactly those characters (quotes included)."""
    return html.escape(str(text), quote=True)


def tip(text: object) -> str:
    """A tooltip that shows `text` exactly ("" for no tooltip: None or "").

    Always rich text (a paragraph), so Qt never guesses; the text inside is escaped, so a name
    holding `<img …>` or `<b>` is shown as those characters."""
    if text is None:
        return ""
    s = str(text)
    if not s:
        return ""
    longest = max((len(line) for line in s.splitlines()), default=0)
    mode = "pre" if longest <= _TIP_WRAP_AT else "pre-wrap"
    return f"<p style='white-space:{mode}'>{escape(s)}</p>"


def plain(label: QLabel) -> QLabel:
    """Make `label` show its text as plain text; returns it."""
    label.setTextFormat(PLAIN)
    return label


def label(text: str = "", parent: QWidget | None = None, **kwargs: Any) -> QLabel:
    """A QLabel that shows plain text (`kwargs` as for QLabel: objectName=…)."""
    lab = QLabel(parent, **kwargs)
    lab.setTextFormat(PLAIN)
    lab.setText(text)
    return lab


def menu_text(text: object) -> str:
    """Text for a menu entry or button: `&` shown as itself, not as a shortcut marker."""
    return str(text).replace("&", "&&")


def window_title(text: object) -> str:
    """Text for setWindowTitle: a literal `[*]` (Qt's modified-marker placeholder) stays visible."""
    return str(text).replace("[*]", "[*][*]")


def plain_labels(widget: QWidget) -> QWidget:
    """Every QLabel inside `widget` (a dialog) shows plain text; returns `widget`."""
    for lab in widget.findChildren(QLabel):
        if lab.pixmap() is None or lab.pixmap().isNull():  # leave icon labels alone
            lab.setTextFormat(PLAIN)
    return widget


def message_box(
    parent: QWidget | None, icon: QMessageBox.Icon, title: str, text: str, informative: str = ""
) -> QMessageBox:
    """A QMessageBox whose texts are plain text and wrap (a long path must not widen it past the screen)."""
    box = QMessageBox(parent)
    box.setIcon(icon)
    box.setWindowTitle(window_title(title))
    box.setTextFormat(PLAIN)
    box.setText(text)
    if informative:
        box.setInformativeText(informative)
        box.setTextFormat(PLAIN)  # the informative label takes the format too
    main = box.findChild(QLabel, "qt_msgbox_label")
    if main is not None:
        main.setWordWrap(True)
    return box


def warning(parent: QWidget | None, title: str, text: str) -> None:
    """QMessageBox.warning with plain text."""
    box = message_box(parent, QMessageBox.Icon.Warning, title, text)
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.exec()


def information(parent: QWidget | None, title: str, text: str, informative: str = "") -> None:
    """QMessageBox.information with plain text."""
    box = message_box(parent, QMessageBox.Icon.Information, title, text, informative)
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.exec()


def question(parent: QWidget | None, title: str, text: str, *, default_yes: bool = True) -> bool:
    """A Yes/No question with plain text; True for Yes."""
    box = message_box(parent, QMessageBox.Icon.Question, title, text)
    box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    box.setDefaultButton(QMessageBox.StandardButton.Yes if default_yes else QMessageBox.StandardButton.No)
    return box.exec() == QMessageBox.StandardButton.Yes


def _input_dialog(parent: QWidget | None, title: str, label_text: str) -> QInputDialog:
    dialog = QInputDialog(parent)
    dialog.setWindowTitle(window_title(title))
    dialog.setLabelText(label_text)
    plain_labels(dialog)
    for lab in dialog.findChildren(QLabel):
        lab.setWordWrap(True)  # a long path must not widen the dialog past the screen
    return dialog


def ask_text(parent: QWidget | None, title: str, label_text: str, text: str = "") -> tuple[str, bool]:
    """QInputDialog.getText with a plain-text label."""
    dialog = _input_dialog(parent, title, label_text)
    dialog.setTextValue(text)
    ok = dialog.exec() == QInputDialog.DialogCode.Accepted
    return dialog.textValue(), ok


def ask_int(
    parent: QWidget | None, title: str, label_text: str, value: int, lo: int, hi: int, step: int = 1
) -> tuple[int, bool]:
    """QInputDialog.getInt with a plain-text label."""
    dialog = _input_dialog(parent, title, label_text)
    dialog.setInputMode(QInputDialog.InputMode.IntInput)
    dialog.setIntRange(lo, hi)
    dialog.setIntStep(step)
    dialog.setIntValue(value)
    ok = dialog.exec() == QInputDialog.DialogCode.Accepted
    return dialog.intValue(), ok


def progress_dialog(text: str, cancel: str, lo: int, hi: int, parent: QWidget | None) -> QProgressDialog:
    """A QProgressDialog whose label (set later with setLabelText) shows plain text."""
    dialog = QProgressDialog(parent)
    dialog.setLabel(label(text))
    dialog.setCancelButtonText(cancel)
    dialog.setRange(lo, hi)
    return dialog
