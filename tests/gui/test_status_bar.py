"""At 1280×720 a long status-bar message is cut with "…" before the telemetry instead of running
into it, the telemetry keeps its whole text, and the message stays whole in the tooltip and in
`currentMessage()` (issue 16)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QRect

LONG = (
    "Measured prune 0.3 structured · int8 · batch 8: latency 0.83× (0.41–1.92×, noisy), MACs 0.49×, "
    "fidelity cos 0.998 on /a/very/long/path/to/the/model/file/that/goes/on/and/on/model.onnx <b>x</b>"
)


def _in_bar(w: Any, widget: Any) -> QRect:
    sb = w.statusBar()
    return QRect(widget.mapTo(sb, widget.rect().topLeft()), widget.size())


def _window(make_window: Any, qtbot: Any) -> Any:
    w = make_window()
    w.resize(1280, 720)
    w.show()
    qtbot.waitExposed(w)
    w.telemetry.timer.stop()  # fixed texts: the widest the strip shows, on a GPU machine
    w.telemetry.mem.setText("Memory 1.23 GiB (worker 845.1 MiB)")
    w.telemetry.gpu.setText("NVIDIA H200: 100% · 131.2 GiB / 139.8 GiB · 675 W")
    return w


def _check_no_overlap(w: Any, qtbot: Any) -> None:
    sb = w.statusBar()
    qtbot.waitUntil(lambda: sb.message.text() != "", timeout=1000)
    qtbot.wait(50)  # let the bar lay out
    message = _in_bar(w, sb.message)
    permanent = [x for x in (w.progress, w.cancel_button, w.telemetry) if x.isVisible()]
    first = min(_in_bar(w, x).left() for x in permanent)
    text_right = message.left() + sb.message.fontMetrics().horizontalAdvance(sb.message.text())
    assert message.right() < first and text_right < first, (message, first)
    assert not any(message.intersects(_in_bar(w, x)) for x in permanent)
    assert sb.message.text().endswith("…") and sb.message.text() != LONG
    for label in (w.telemetry.cpu, w.telemetry.mem, w.telemetry.gpu):  # the telemetry is never cut
        assert label.width() >= label.fontMetrics().horizontalAdvance(label.text())
    assert _in_bar(w, w.telemetry).right() <= sb.width()


def test_long_message_is_cut_before_the_telemetry_at_1280(make_window: Any, qtbot: Any) -> None:
    w = _window(make_window, qtbot)
    sb = w.statusBar()
    sb.showMessage(LONG)
    _check_no_overlap(w, qtbot)
    assert sb.currentMessage() == LONG  # callers read the whole message
    assert "&lt;b&gt;x&lt;/b&gt;" in sb.message.toolTip()  # whole, and as plain text
    w.progress.show()  # a run: progress and Cancel take room too
    w.cancel_button.show()
    qtbot.wait(50)
    _check_no_overlap(w, qtbot)
    w.progress.hide()
    w.cancel_button.hide()
    w.resize(1600, 1000)  # more room: more of the message, re-cut to the new width
    qtbot.waitUntil(lambda: sb.message.width() > 500, timeout=1000)
    qtbot.wait(50)
    assert len(sb.message.text()) > 60


def test_short_message_is_whole_and_timeouts_still_clear(make_window: Any, qtbot: Any) -> None:
    w = _window(make_window, qtbot)
    sb = w.statusBar()
    sb.showMessage("Saved /tmp/x.tradeoff", 100)
    assert sb.message.text() == "Saved /tmp/x.tradeoff" and sb.currentMessage() == "Saved /tmp/x.tradeoff"
    qtbot.waitUntil(lambda: sb.currentMessage() == "", timeout=2000)
    assert sb.message.text() == "" and sb.message.toolTip() == ""
    sb.showMessage("Opening x…")
    sb.clearMessage()
    assert sb.currentMessage() == ""
