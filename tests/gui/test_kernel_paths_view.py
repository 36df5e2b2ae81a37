"""Kernel paths in the app (issue 15, item 5): as soon as the knobs change, the prediction from
the baseline's layers shows in the deltas strip, the layer views (mark and tooltip) and the
details pane; once measured, layers that got smaller but slower beyond their p10–p90 spread are
flagged with the measured change, and a change within the spread is never worded as one."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "profiler"))
from test_kernel_paths import _entry, conv, profile  # noqa: E402

from gui import measured_change  # noqa: E402
from gui.models.roles import LAYER_ROLE  # noqa: E402
from gui.state.layer_data import COL_NAME, LayerData  # noqa: E402
from gui.widgets.deltas_strip import DeltasStrip  # noqa: E402
from gui.widgets.details import LayerDetailsWidget  # noqa: E402
from gui.widgets.layer_views import LayerTableView  # noqa: E402
from profiler.kernel_paths import DeviceFacts  # noqa: E402
from profiler.variant import Variant  # noqa: E402

TIMEOUT_MS = 30_000
AVX2 = DeviceFacts("cpu", frozenset({"avx", "avx2", "fma"}))


@pytest.fixture(autouse=True)
def _avx2_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app reads this machine's flags once per device: an AVX2 CPU without fp16/VNNI here."""
    monkeypatch.setattr(measured_change, "_FACTS", {"cpu": AVX2})


def _mark_of(view: LayerTableView, name: str) -> str:
    """The mark the name column's delegate paints beside the layer."""
    proxy = view.proxy
    for r in range(proxy.rowCount()):
        index = proxy.index(r, COL_NAME)
        if index.data(LAYER_ROLE) == name:
            return str(view.view.itemDelegateForColumn(COL_NAME).mark(index))  # type: ignore[attr-defined]
    raise AssertionError(name)


def test_prediction_shows_before_the_variant_is_measured(qtbot: Any, make_window: Any) -> None:
    w = make_window()
    with qtbot.waitSignal(w.result_shown, timeout=TIMEOUT_MS):
        w.open_model("demo:mlp")
    assert not w.deltas.kernel_text and w.deltas.kernel_line.isHidden()  # the baseline: nothing to predict
    w._on_layer_selected("fc1")
    runner = w.controller.runner
    submitted = len(runner.submitted)
    w.knobs.precision.setCurrentIndex(w.knobs.precision.findData("fp16"))
    # synchronously, before any run: the worker has not even been asked yet (debounce)
    assert len(runner.submitted) == submitted
    assert w.deltas.kernel_text.startswith("Kernel paths (predicted, before timing): ")
    assert "fp16 on this CPU (no avx512_fp16/amx_fp16): no fast path, expect slower" in w.deltas.kernel_text
    assert w.deltas.kernel_warns and not w.deltas.kernel_line.isHidden()
    assert w.table.kernel_marks.get("fc1") == "▾ predicted slower"
    assert _mark_of(w.table, "fc1") == "▾ predicted slower"
    details = w.details.text.toPlainText()
    assert "Kernel path · fp16" in details and "Kernel path (predicted): slower — fp16 on this CPU" in details
    # after the measurement, the record is checked against it (and the marks follow the result)
    with qtbot.waitSignal(w.result_shown, timeout=TIMEOUT_MS) as blocker:
        pass
    assert blocker.args[0].variant.precision == "fp16"
    assert w.deltas.kernel_text.startswith(("Kernel paths: ", "⚠ Kernel paths, measured: "))
    # back to the baseline: nothing to predict, the line goes
    w.knobs.precision.setCurrentIndex(w.knobs.precision.findData("fp32"))
    assert not w.deltas.kernel_text and w.table.kernel_marks == {}


def _pruned_result(spread: float, variant_latency: float) -> Any:
    base = profile(conv(latency=1.0, spread=spread), conv("layer1.0.conv2", latency=1.0, spread=spread))
    var = profile(
        conv(cout=35, latency=variant_latency, spread=spread),
        conv("layer1.0.conv2", cin=35, latency=0.6, spread=spread),
    )
    return base, var, _entry(Variant(prune=0.45), base, var)


def _views(qtbot: Any, var: Any) -> tuple[DeltasStrip, LayerTableView, LayerDetailsWidget, LayerData]:
    data = LayerData()
    data.set_profile(var)
    strip, table, details = DeltasStrip(), LayerTableView(data), LayerDetailsWidget()
    for widget in (strip, table, details):
        qtbot.addWidget(widget)
    table.reset()
    return strip, table, details, data


def test_smaller_but_slower_is_flagged_with_its_measured_change(qtbot: Any) -> None:
    base, var, result = _pruned_result(spread=0.05, variant_latency=1.3)
    record = measured_change.kernel_paths_for(base, result.variant, result)
    assert record is not None and record["findings"] == 1
    strip, table, details, data = _views(qtbot, var)
    strip.show_kernel_paths(record, measured=True)
    table.set_kernel_paths(record)
    details.set_kernel_paths(record, result.variant.label())
    assert strip.kernel_warns
    assert strip.kernel_text == (
        "⚠ Kernel paths, measured: layer1.0.conv1 predicted faster, measured slower (1.3× slower, beyond its p10–p90)"
    )
    assert table.kernel_marks == {"layer1.0.conv1": "⚠ smaller but slower"}
    assert _mark_of(table, "layer1.0.conv1") == "⚠ smaller but slower"
    assert _mark_of(table, "layer1.0.conv2") == ""  # faster as predicted: no mark
    table.resize(700, 200)
    table.show()
    assert not table.view.grab().isNull()  # the delegate paints
    d = data.details("layer1.0.conv1")
    assert d is not None
    details.show_layer(d, "CPU", [])
    text = details.text.toPlainText()
    assert "Measured: 1.3× slower, beyond both p10–p90 spreads" in text
    assert "⚠ smaller but slower" in text and "p10–p90 950 µs–1.05 ms" in text


def test_a_change_inside_the_spread_is_never_a_gain_or_a_loss(qtbot: Any) -> None:
    base, var, result = _pruned_result(spread=0.2, variant_latency=1.1)
    record = measured_change.kernel_paths_for(base, result.variant, result)
    assert record is not None and record["findings"] == 0
    entry = next(e for e in record["layers"] if e["layer"] == "layer1.0.conv1")
    lines = measured_change.layer_kernel_path(entry)
    assert lines[1].startswith("Measured: ≈ no measurable change (within the p10–p90 spreads")
    assert not any("slower" in line for line in lines[1:]) and not any("faster" in line for line in lines[1:])
    strip, table, _, _ = _views(qtbot, var)
    strip.show_kernel_paths(record, measured=True)
    table.set_kernel_paths(record)
    assert not strip.kernel_warns and "no layer beyond its noise" in strip.kernel_text
    assert table.kernel_marks == {}


def test_layer_names_stay_plain_text(qtbot: Any) -> None:
    evil = "<b>bold</b><img src='/dev/zero'>"
    base = profile(conv(evil, latency=1.0, spread=0.05))
    var = profile(conv(evil, cout=35, latency=1.3, spread=0.05))
    result = _entry(Variant(prune=0.45), base, var)
    record = measured_change.kernel_paths_for(base, result.variant, result)
    strip, table, details, data = _views(qtbot, var)
    strip.show_kernel_paths(record, measured=True)
    details.set_kernel_paths(record, result.variant.label())
    assert evil in strip.kernel_line.full_text() and strip.kernel_line.textFormat().name == "PlainText"
    d = data.details(evil)
    assert d is not None
    details.show_layer(d, "CPU", [])
    assert evil in details.text.toPlainText()  # shown as those characters, not as markup
    assert "<b>bold" not in strip.kernel_line.toolTip()  # the tooltip escapes it


def test_tooltip_adds_the_kernel_path(qtbot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QToolTip

    base, var, result = _pruned_result(spread=0.05, variant_latency=1.3)
    record = measured_change.kernel_paths_for(base, result.variant, result)
    _, table, _, _ = _views(qtbot, var)
    table.resize(600, 300)
    table.show()
    table.set_kernel_paths(record)
    shown: list[str] = []
    monkeypatch.setattr(QToolTip, "showText", lambda _pos, text, *a: shown.append(text))
    index: QModelIndex = table.proxy.index(0, COL_NAME)
    pos = table.view.visualRect(index).center()
    event = QHelpEvent(QEvent.Type.ToolTip, pos, table.view.viewport().mapToGlobal(pos))
    assert table.eventFilter(table.view.viewport(), event)
    assert shown and "Kernel path (predicted): faster" in shown[0]
