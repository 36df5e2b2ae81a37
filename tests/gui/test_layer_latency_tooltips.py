"""Latency cells show p10–p90 and the raw profiler figure; the details pane shows the note."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, Qt

from gui.models.layer_table import LayerTableModel
from gui.models.layer_tree import LayerTreeModel
from gui.models.roles import RAW_ROLE
from gui.state.layer_data import COL_LAT, COL_NAME, LayerData
from profiler.layer_reconcile import SHAPE_OPS_LABEL
from profiler.result import LayerRow, ModelInfo, Profile, RunConfig, Totals

TIP = Qt.ItemDataRole.ToolTipRole
NOTE = "rows scaled ×0.5 to the 1.00 ms end-to-end median; <b>raw</b> in latency_raw_ms."


def _row(name: str, scope: str, ms: float, raw: float | None, p10: float, p90: float, op: str = "MatMul") -> LayerRow:
    return LayerRow(
        name=name,
        type=op,
        params=0,
        macs=0,
        flops=0,
        weight_bytes=0,
        activation_bytes=0,
        latency_ms=ms,
        counted=True,
        scope=scope,
        latency_raw_ms=raw,
        latency_p10_ms=p10,
        latency_p90_ms=p90,
    )


def _data() -> LayerData:
    rows = (
        _row("/enc/dense/MatMul", "enc/dense", 0.9, 1.8, 0.8, 1.25),
        _row("/enc/Shape", f"enc/{SHAPE_OPS_LABEL}", 0.002, 0.04, 0.001, 0.003, op="Shape"),
        _row("<img src=x>", "enc", 0.098, None, 0.09, 0.11, op="Relu"),
    )
    profile = Profile(
        model=ModelInfo("m", "m.onnx", "onnx"),
        inputs=(),
        config=RunConfig(runtime="onnxruntime"),
        environment=None,
        totals=Totals(params=0, macs=0, flops=0, weight_bytes=0, activation_bytes=0),
        layers=rows,
        layer_latency_method="onnxruntime-profiling",
        layer_latency_note=NOTE,
    )
    d = LayerData()
    d.set_profile(profile)
    return d


def test_table_latency_tooltips_show_spread_and_raw(qapp: Any) -> None:
    d = _data()
    model = LayerTableModel(d)
    tip = model.index(0, COL_LAT).data(TIP)
    assert "p10–p90 over the profiled runs: 800 µs – 1.25 ms" in tip
    assert "raw profiler figure: 1.800 ms" in tip and "reconciled" in tip
    plain = model.index(2, COL_LAT).data(TIP)
    assert "p10–p90 over the profiled runs: 90.0 µs – 110 µs" in plain
    assert "raw profiler figure" not in plain  # the figure was used as measured
    assert "&lt;img src=x&gt;" in model.index(2, COL_NAME).data(TIP)  # names stay plain text
    assert "zero-cost" in model.index(1, COL_NAME).data(TIP)


def test_tree_folds_shape_ops_and_groups_show_summed_spread(qapp: Any, qtmodeltester: Any) -> None:
    d = _data()
    model = LayerTreeModel(d)
    model.reset()
    qtmodeltester.check(model)
    enc = model.index(0, COL_NAME)
    assert enc.data(RAW_ROLE) == "enc"
    children = {model.index(r, COL_NAME, enc).data(RAW_ROLE) for r in range(model.rowCount(enc))}
    assert {"enc/dense", f"enc/{SHAPE_OPS_LABEL}", "<img src=x>"} == children
    shape_group = next(
        model.index(r, COL_NAME, enc)
        for r in range(model.rowCount(enc))
        if model.index(r, COL_NAME, enc).data(RAW_ROLE).endswith(SHAPE_OPS_LABEL)
    )
    leaf = model.index(0, COL_NAME, shape_group)
    assert leaf.data(Qt.ItemDataRole.DisplayRole) == "Shape"  # the scope is not repeated in the label
    group_tip = model.index(enc.row(), COL_LAT, QModelIndex()).data(TIP)
    assert "sum of 3 layers" in group_tip and "p10s – p90s add up to" in group_tip
    assert "raw profiler figure: 1.938 ms" in group_tip  # 1.8 + 0.04 + 0.098 (used as measured)
    leaf_tip = model.index_of_layer("/enc/Shape", COL_LAT).data(TIP)
    assert "p10–p90 over the profiled runs" in leaf_tip and "raw profiler figure: 40.00 µs" in leaf_tip


def test_details_show_raw_reconciled_spread_and_note(qtbot: Any) -> None:
    from gui.widgets.details import LayerDetailsWidget

    d = _data()
    w = LayerDetailsWidget()
    qtbot.addWidget(w)
    details = d.details("/enc/dense/MatMul")
    assert details is not None
    w.show_layer(details, "", [])
    text = w.text.toPlainText()
    assert "reconciled with end to end" in text and "Raw profiler" in text and "1.80 ms" in text
    assert "800 µs – 1.25 ms" in text
    assert "rows scaled ×0.5" in text and "<b>raw</b>" in text  # the note, as plain text
    details = d.details("<img src=x>")
    assert details is not None
    w.show_layer(details, "", [])
    assert "Raw profiler" not in w.text.toPlainText() and "<img src=x>" in w.text.toPlainText()
