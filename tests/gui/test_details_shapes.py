"""The details pane shows long shape lists compactly — repeats counted, the middle of a long list
and of a very long shape cut — with the whole list in the tooltip of the cut text (issue 16)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QPoint
from PySide6.QtGui import QHelpEvent, QTextCursor
from PySide6.QtWidgets import QToolTip
from test_heatmap_readable import _data, _profile, _row

from gui.widgets.details import SHAPES_CHARS, LayerDetailsWidget, compact_shapes

CONCAT_IN = tuple((1, 32, 7 + i, 128) for i in range(24))  # a Concat of 24 different inputs


def _shown(shapes: Any) -> str:
    return ", ".join("×".join(map(str, s)) for s in shapes)


def test_compact_shapes_counts_repeats_and_cuts_the_middle() -> None:
    assert compact_shapes(((1, 64, 56, 56),) * 3) == "1×64×56×56 (×3)"
    assert compact_shapes(((1, 8), (2, 8))) == "1×8, 2×8"  # short lists stay whole
    assert compact_shapes(()) == "—"
    text = compact_shapes(CONCAT_IN)
    assert len(text) <= SHAPES_CHARS < len(_shown(CONCAT_IN))
    assert text.startswith("1×32×7×128, ") and text.endswith(", 1×32×30×128")  # both ends kept
    shown = text.count("×128")
    assert f"… {len(CONCAT_IN) - shown} more …" in text  # says how many are hidden
    rank18 = tuple(range(1, 17)) + (1024, 2048)
    assert compact_shapes((rank18,)) == "×".join(map(str, rank18))  # fits: whole
    cut = compact_shapes((rank18,), limit=30)
    assert len(cut) <= 30 and cut.startswith("1×2×") and cut.endswith("×1024×2048") and "…" in cut


def _details(qtbot: Any, row_shapes: tuple[Any, ...]) -> tuple[LayerDetailsWidget, str]:
    rows = (_row("/cat/Concat", "cat", "Concat", input_shapes=row_shapes, output_shapes=((1, 32, 748, 128),)),)
    d = _data(_profile(rows, fmt="onnx"))
    w = LayerDetailsWidget()
    qtbot.addWidget(w)
    w.resize(300, 500)  # the pane beside the heatmap (290 px by default)
    w.show()
    qtbot.waitExposed(w)
    details = d.details("/cat/Concat")
    assert details is not None
    w.show_layer(details, "CPU", [])
    return w, w.text.toPlainText()


def _tooltip_over(qtbot: Any, w: LayerDetailsWidget, needle: str) -> str:
    doc = w.text.document()
    cursor = doc.find(needle)
    assert not cursor.isNull()
    at = QTextCursor(doc)
    at.setPosition(cursor.selectionStart() + 2)
    pos = w.text.cursorRect(at).center() + QPoint(0, 0)
    event = QHelpEvent(QEvent.Type.ToolTip, pos, w.text.viewport().mapToGlobal(pos))
    w.eventFilter(w.text.viewport(), event)
    qtbot.waitUntil(QToolTip.isVisible, timeout=2000)
    return QToolTip.text()


def _shapes_line(text: str) -> str:
    lines = text.splitlines()
    return lines[lines.index("Input shapes · 24, hover for all") + 1]


def test_details_pane_shows_long_shapes_on_a_line_with_all_in_the_tooltip(qtbot: Any) -> None:
    w, text = _details(qtbot, CONCAT_IN)
    line = _shapes_line(text)
    assert line.startswith("1×32×7×128, ") and "more" in line and _shown(CONCAT_IN) not in text
    assert len(line) < len(_shown(CONCAT_IN)) // 4
    assert w.text.horizontalScrollBar().maximum() == 0  # fits the pane: no sideways scrolling
    block = w.text.document().find(line).block()
    assert block.layout().lineCount() == 1  # one line, not a dozen
    tip = _tooltip_over(qtbot, w, "1×32×7×128")
    for i, shape in enumerate(CONCAT_IN):
        assert f"input {i + 1}: {'×'.join(map(str, shape))}" in tip
    assert w.shape_tips and all(k.startswith("shapes:") for k in w.shape_tips)
    # a wider pane shows more of the list, cut again to its width
    w.resize(700, 500)
    qtbot.waitUntil(lambda: len(_shapes_line(w.text.toPlainText())) > len(line), timeout=2000)
    wide = _shapes_line(w.text.toPlainText())
    assert wide.endswith("1×32×30×128") and w.text.horizontalScrollBar().maximum() == 0


def test_short_shapes_stay_plain_and_whole(qtbot: Any) -> None:
    w, text = _details(qtbot, ((1, 3, 32, 32), (1, 3, 32, 32)))
    assert "1×3×32×32 (×2)" in text and "hover for all" not in text
    assert "1×32×748×128" in text  # the output: short, whole
    assert w.shape_tips == {}
