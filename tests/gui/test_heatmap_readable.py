"""A heatmap readable at a glance (issue 16, item 1): one colour scale per column (the share of
the model total) for layers and groups alike, own-ops rows inside their module, the hottest
layers called out, headers with units and the projection's accelerator, numbers through
profiler/units.py, zero-cost ONNX nodes folded per module without doubled scopes, full names on
hover, one filter box for the heatmap and the Layers tab, Δ-vs-baseline columns for a variant."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from PySide6.QtCore import QModelIndex, Qt

from gui.models.layer_table import LayerTableModel
from gui.models.layer_tree import LayerTreeModel, module_name
from gui.models.roles import HEAT_ROLE, LAYER_ROLE, RAW_ROLE, SHARE_ROLE
from gui.state.layer_data import (
    COL_DLAT,
    COL_DMACS,
    COL_LAT,
    COL_MACS,
    COL_NAME,
    COL_PROJ,
    COL_SHARE,
    DELTA_COLUMNS,
    HEADERS,
    LayerData,
    ProjectedLayer,
    heat_level,
)
from gui.widgets.layer_filter import HeatmapPanel, hottest_text
from gui.widgets.layer_views import LayerHeatmapView, LayerTableView
from profiler.result import LayerRow, ModelInfo, Profile, RunConfig, Totals
from profiler.whatif import VariantResult

TIP = Qt.ItemDataRole.ToolTipRole
DISPLAY = Qt.ItemDataRole.DisplayRole
SCIENTIFIC = re.compile(r"\d[eE][+-]?\d")


def _resnet(result: dict[str, Any]) -> Profile:
    profile = VariantResult.from_dict(result).profile
    assert profile is not None
    return profile


def _data(profile: Profile) -> LayerData:
    d = LayerData()
    d.set_profile(profile)
    return d


def _walk(model: Any, parent: QModelIndex = QModelIndex()) -> list[QModelIndex]:
    out = []
    for r in range(model.rowCount(parent)):
        index = model.index(r, COL_NAME, parent)
        out.append(index)
        out.extend(_walk(model, index))
    return out


def _row(name: str, scope: str, kind: str, macs: int = 0, ms: float | None = None, **kw: Any) -> LayerRow:
    return LayerRow(
        name=name,
        type=kind,
        params=kw.pop("params", 0),
        macs=macs,
        flops=2 * macs,
        weight_bytes=0,
        activation_bytes=kw.pop("act", 0),
        latency_ms=ms,
        counted=True,
        scope=scope,
        **kw,
    )


def _profile(rows: tuple[LayerRow, ...], fmt: str = "demo", name: str = "m") -> Profile:
    return Profile(
        model=ModelInfo(name, f"demo:{name}" if fmt == "demo" else f"{name}.onnx", fmt),
        inputs=(),
        config=RunConfig(),
        environment=None,
        totals=Totals(
            params=sum(r.params for r in rows),
            macs=sum(r.macs for r in rows),
            flops=sum(r.flops for r in rows),
            weight_bytes=0,
            activation_bytes=sum(r.activation_bytes for r in rows),
        ),
        layers=rows,
    )


def _gpt_like(blocks: int = 3) -> Profile:
    """GPT-small's layout as the torch back-end reports it: every block and attention module has
    its own-ops row (scope == name), dropouts fold as no-op modules."""
    rows = [_row("(root)", "", "GPT (own ops)", ms=0.5), _row("wte", "", "Embedding", ms=0.2)]
    for b in range(blocks):
        h = f"h.{b}"
        rows += [
            _row(h, h, "GPTBlock (own ops)", ms=0.1),
            _row(f"{h}.ln_1", h, "LayerNorm", ms=0.1),
            _row(f"{h}.attn", f"{h}.attn", "CausalSelfAttention (own ops)", macs=10, ms=0.3),
            _row(f"{h}.attn.c_attn", f"{h}.attn", "Linear", macs=300, ms=1.0),
            _row(f"{h}.attn.resid_dropout", f"{h}.attn/(no-op modules)", "Dropout", ms=0.01),
            _row(f"{h}.mlp.c_fc", f"{h}.mlp", "Linear", macs=400, ms=1.5),
        ]
    return _profile(tuple(rows), name="gpt")


# -- one colour scale ---------------------------------------------------------------------------


def test_one_colour_scale_per_column_for_layers_and_groups(qapp: Any, resnet_result: dict[str, Any]) -> None:
    d = _data(_resnet(resnet_result))
    model = LayerTreeModel(d)
    model.reset()
    total = d.totals[COL_LAT]
    for index in _walk(model):
        cell = index.siblingAtColumn(COL_LAT)
        value = cell.data(RAW_ROLE)
        assert cell.data(HEAT_ROLE) == heat_level(value / total)  # share of the model total, layer or group
    tops = {model.index(r, 0).data(RAW_ROLE): model.index(r, 0) for r in range(model.rowCount())}
    conv1, layer3 = tops["conv1"].siblingAtColumn(COL_LAT), tops["layer3"].siblingAtColumn(COL_LAT)
    # the darker cell is the bigger share: layer3 (a group) against conv1 (a layer)
    assert (conv1.data(SHARE_ROLE) < layer3.data(SHARE_ROLE)) == (conv1.data(HEAT_ROLE) < layer3.data(HEAT_ROLE))
    # the biggest leaf is no longer painted at full strength just for being the biggest leaf
    leaf_heats = [model.index_of_layer(r.name, COL_LAT).data(HEAT_ROLE) for r in d.rows]
    assert max(leaf_heats) < 1.0
    table = LayerTableModel(d)
    for r in range(table.rowCount()):  # the flat table uses the same scale
        assert table.index(r, COL_LAT).data(HEAT_ROLE) == model.index_of_layer(d.rows[r].name, COL_LAT).data(HEAT_ROLE)


def test_share_column_heat_equals_basis_heat(qapp: Any, resnet_result: dict[str, Any]) -> None:
    d = _data(_resnet(resnet_result))
    table = LayerTableModel(d)
    for r in range(table.rowCount()):
        assert abs(table.index(r, COL_SHARE).data(HEAT_ROLE) - table.index(r, COL_LAT).data(HEAT_ROLE)) < 1e-12


# -- own ops ------------------------------------------------------------------------------------


def test_own_ops_rows_sit_inside_their_module(qapp: Any, qtmodeltester: Any) -> None:
    d = _data(_gpt_like(3))
    model = LayerTreeModel(d)
    model.reset()
    qtmodeltester.check(model)
    top_labels = [model.index(r, 0).data(DISPLAY) for r in range(model.rowCount())]
    assert not any("own ops" in t for t in top_labels if not t.startswith("(root)"))
    block = model.index_of_layer("h.1")
    assert block.data(DISPLAY) == "(own ops)"
    assert block.parent().data(RAW_ROLE) == "h.1"  # inside the block's group
    attn = model.index_of_layer("h.1.attn")
    assert attn.parent().data(RAW_ROLE) == "h.1.attn"
    # the block's group sums its own ops with its children
    group = block.parent().siblingAtColumn(COL_LAT)
    assert abs(group.data(RAW_ROLE) - (0.1 + 0.1 + 0.3 + 1.0 + 0.01 + 1.5)) < 1e-9
    # the folded dropout is labelled by its own name, not the whole path again
    assert model.index_of_layer("h.1.attn.resid_dropout").data(DISPLAY) == "resid_dropout"
    # full names on hover
    assert "h.1.attn.resid_dropout" in model.index_of_layer("h.1.attn.resid_dropout").data(TIP)


# -- the call-out -------------------------------------------------------------------------------


def test_hottest_layers_called_out_above_the_heatmap(qtbot: Any, resnet_result: dict[str, Any]) -> None:
    d = _data(_resnet(resnet_result))
    heatmap = LayerHeatmapView(d)
    panel = HeatmapPanel(heatmap, d)
    qtbot.addWidget(panel)
    heatmap.reset()
    panel.refresh()
    total = d.totals[COL_LAT]
    tops = heatmap.model.hottest(COL_LAT)
    best = max(
        (heatmap.model.index(r, COL_LAT) for r in range(heatmap.model.rowCount())), key=lambda i: i.data(RAW_ROLE)
    )
    assert tops[0] == (best.siblingAtColumn(0).data(RAW_ROLE), best.data(RAW_ROLE) / total)
    text = panel.hot_label.text()
    assert text.startswith(f"{tops[0][0]} is ") and " of latency" in text and text.count(";") == len(tops) - 1
    assert hottest_text([("layer3", 0.329), ("layer4", 0.28)], "latency") == "layer3 is 33% of latency; layer4 28%"


def test_callout_descends_into_a_dominant_group(qapp: Any) -> None:
    rows = tuple(_row(f"h.{b}.fc", f"h.{b}", "Linear", macs=100 * (b + 1), ms=float(b + 1)) for b in range(4))
    d = _data(_profile(rows))
    model = LayerTreeModel(d)
    model.reset()
    names = [n for n, _ in model.hottest(COL_LAT)]
    assert names == ["h.3", "h.2", "h.1"]  # not "h is 100 % of latency"


# -- headers and numbers ------------------------------------------------------------------------


def test_headers_carry_units_and_the_accelerator(qapp: Any, resnet_result: dict[str, Any]) -> None:
    d = _data(_resnet(resnet_result))
    model = LayerTableModel(d)
    d.set_projection("H100-SXM ±20 % (datacenter efficiencies)", {})
    header = model.headerData(COL_PROJ, Qt.Orientation.Horizontal, DISPLAY)
    assert header.replace("\n", " ") == "Projected on H100-SXM (ms)"
    assert "(ms)" in model.headerData(COL_LAT, Qt.Orientation.Horizontal, DISPLAY)
    assert "latency" in model.headerData(COL_SHARE, Qt.Orientation.Horizontal, DISPLAY)
    tree = LayerTreeModel(d)
    assert tree.headerData(COL_PROJ, Qt.Orientation.Horizontal, DISPLAY) == header


def test_cells_never_use_scientific_notation(qapp: Any) -> None:
    values = (1e-9, 3.3e-6, 0.0474, 2.55, 2550.0, 2.55e6)
    rows = tuple(
        _row(f"l{i}", "g", "Linear", macs=int(v * 1e6), ms=v, params=int(v * 1e3), act=int(v * 1e4))
        for i, v in enumerate(values)
    )
    d = _data(_profile(rows))
    d.set_projection(
        "T4", {r.name: ProjectedLayer(v, None, "memory", 0.0, 0.0) for r, v in zip(rows, values, strict=True)}
    )
    table = LayerTableModel(d)
    tree = LayerTreeModel(d)
    tree.reset()
    texts = [table.index(r, c).data(DISPLAY) for r in range(table.rowCount()) for c in range(len(HEADERS))]
    texts += [i.siblingAtColumn(c).data(DISPLAY) for i in _walk(tree) for c in range(len(HEADERS))]
    assert all(not SCIENTIFIC.search(str(t or "")) for t in texts), [t for t in texts if SCIENTIFIC.search(str(t))]
    assert table.index(4, COL_LAT).data(DISPLAY) == "2,550"  # ms, as the header says


# -- ONNX: zero-cost nodes folded, no doubled scopes ----------------------------------------------


def _onnx_profile() -> Profile:
    rows = (
        *(_row(f"Identity_{i}", "", "Identity", output_shapes=((960,),)) for i in range(6)),
        _row("/features/features.0/features.0.0/Conv", "features/features.0/features.0.0", "Conv", macs=1000),
        _row("/features/features.0/Shape", "features/features.0", "Shape", output_shapes=((4,),)),
        _row("/features/features.0/Gather", "features/features.0", "Gather", output_shapes=((1,),)),
        _row("/features/features.0/Clip", "features/features.0", "Clip", act=4096, output_shapes=((1, 32),)),
    )
    return _profile(rows, fmt="onnx", name="mbv2")


def test_onnx_zero_cost_nodes_fold_into_one_row_per_module(qapp: Any, qtmodeltester: Any) -> None:
    d = _data(_onnx_profile())
    model = LayerTreeModel(d)
    model.reset()
    qtmodeltester.check(model)
    tops = [model.index(r, 0).data(RAW_ROLE) for r in range(model.rowCount())]
    assert tops == ["(shape ops)", "features"]  # six Identity nodes: one row
    assert model.rowCount(model.index(0, 0)) == 6
    shape_ops = model.index_of_layer("/features/features.0/Shape").parent()
    assert shape_ops.data(RAW_ROLE) == "features/features.0/(shape ops)"
    assert model.index_of_layer("/features/features.0/Gather").parent() == shape_ops
    assert model.index_of_layer("/features/features.0/Clip").parent().data(RAW_ROLE) == "features/features.0"
    features0 = model.index_of_layer("/features/features.0/Clip").parent()
    assert features0.data(DISPLAY).startswith("0")  # under "features", as torch shows "0" under "layer1"
    assert "features.0: 4 layers" in features0.data(TIP)
    # names read as modules, never "features/features.0"
    assert module_name("features/features.0") == "features.0"
    assert module_name("features/features.0/(shape ops)") == "features.0 (shape ops)"
    for index in _walk(model):
        if model.hasChildren(index):
            assert "features/features" not in index.data(TIP)


def test_full_names_on_hover(qapp: Any) -> None:
    long = "model.encoder.layers.11.self_attention.query_key_value_projection_with_a_long_name"
    d = _data(_profile((_row(long, "model.encoder.layers.11.self_attention", "Linear", macs=5, ms=1.0),)))
    tree = LayerTreeModel(d)
    tree.reset()
    assert long in tree.index_of_layer(long).data(TIP)
    assert long in LayerTableModel(d).index(0, COL_NAME).data(TIP)


# -- the filter box -------------------------------------------------------------------------------


def test_filter_box_filters_heatmap_and_layers_tab(qtbot: Any, resnet_result: dict[str, Any]) -> None:
    d = _data(_resnet(resnet_result))
    heatmap = LayerHeatmapView(d)
    table = LayerTableView(d)
    panel = HeatmapPanel(heatmap, d, table)
    qtbot.addWidget(panel)
    qtbot.addWidget(table)
    heatmap.reset()
    panel.filter.setText("layer3")
    leaves = [i for i in _walk(heatmap.model) if not heatmap.model.hasChildren(i)]
    assert leaves and all(i.data(LAYER_ROLE).startswith("layer3") for i in leaves)
    assert table.filter.text() == "layer3"
    assert 0 < table.proxy.rowCount() < len(d)
    assert "of the layers shown" in panel.hot_label.text()
    panel.filter.setText("batchnorm")  # by type too
    leaves = [i for i in _walk(heatmap.model) if not heatmap.model.hasChildren(i)]
    assert leaves and all(d.rows[d.index[i.data(LAYER_ROLE)]].type == "BatchNorm2d" for i in leaves)
    table.filter.setText("")  # typing in the Layers tab's box follows back
    assert panel.filter.text() == ""
    assert sum(1 for i in _walk(heatmap.model) if not heatmap.model.hasChildren(i)) == len(d)


# -- Δ vs baseline --------------------------------------------------------------------------------


def _variant_of(base: Profile) -> Profile:
    rows = tuple(
        dataclasses.replace(r, latency_ms=None if r.latency_ms is None else r.latency_ms * 0.5, macs=r.macs // 2)
        for r in base.layers
    )
    return dataclasses.replace(base, layers=rows)


def test_delta_columns_only_for_a_variant(qtbot: Any, resnet_result: dict[str, Any]) -> None:
    base = _resnet(resnet_result)
    variant = _variant_of(base)
    d = LayerData()
    d.reference_source = lambda: base
    heatmap = LayerHeatmapView(d)
    panel = HeatmapPanel(heatmap, d)
    qtbot.addWidget(panel)
    d.set_profile(base)
    heatmap.reset()
    panel.refresh()
    header = heatmap.view.header()
    assert not d.has_reference and all(header.isSectionHidden(c) for c in DELTA_COLUMNS)
    d.set_profile(variant)
    heatmap.model.refresh_columns(COL_MACS, COL_SHARE)
    panel.refresh()
    assert d.has_reference and not any(header.isSectionHidden(c) for c in DELTA_COLUMNS)
    table = LayerTableModel(d)
    i = d.index["layer3.0.conv1"]
    b = base.layers[i]
    assert abs(table.index(i, COL_DLAT).data(RAW_ROLE) - (-0.5 * b.latency_ms)) < 1e-9
    assert table.index(i, COL_DLAT).data(DISPLAY).startswith("−50")
    assert table.index(i, COL_DMACS).data(RAW_ROLE) == b.macs // 2 - b.macs
    assert table.index(i, COL_DLAT).data(HEAT_ROLE) < 0  # a saving: the "good" side of the scale
    layer3 = next(ix for ix in _walk(heatmap.model) if ix.data(RAW_ROLE) == "layer3")
    assert layer3.siblingAtColumn(COL_DLAT).data(DISPLAY).startswith("−50")  # a group: sum over sum
    assert "baseline" in layer3.siblingAtColumn(COL_DLAT).data(TIP)
    d.set_profile(base)  # back to the baseline: the columns go
    panel.refresh()
    assert all(header.isSectionHidden(c) for c in DELTA_COLUMNS)


def test_window_shows_graph_operators_and_deltas(qtbot: Any, make_window: Any) -> None:
    """The real window with an in-process run: tabs, the call-out, Δ columns after a variant."""
    w = make_window()
    w.show()
    with qtbot.waitSignal(w.result_shown, timeout=60_000):
        w.open_model("demo:mlp")
    tabs = [w.tabs.tabText(i) for i in range(w.tabs.count())]
    assert "Graph" in tabs and "Operators" in tabs
    qtbot.waitUntil(lambda: " of " in w.heatmap_panel.hot_label.text(), timeout=2000)
    header = w.heatmap.view.header()
    assert all(header.isSectionHidden(c) for c in DELTA_COLUMNS)
    with qtbot.waitSignal(w.result_shown, timeout=60_000):
        w.knobs.batch_slider.setValue(3)  # batch 8: MACs × 8
    qtbot.waitUntil(lambda: not header.isSectionHidden(COL_DMACS), timeout=2000)
    first = w.layer_data.rows[0].name
    k = next(i for i, r in enumerate(w.layer_data.rows) if r.macs)
    cell = w.table.model.index(k, COL_DMACS)
    assert cell.data(RAW_ROLE) == 7 * w.layer_data.reference.layers[k].macs
    assert cell.data(DISPLAY).startswith("+700%")
    # the graph: one node per layer, a click selects the layer as the heatmap does
    w.tabs.setCurrentWidget(w.graph_view)
    qtbot.waitUntil(lambda: len(w.graph_view.nodes) == len(w.layer_data.rows), timeout=2000)
    with qtbot.waitSignal(w.graph_view.layer_selected, timeout=2000):
        w.graph_view.select_row(0, emit=True)
    assert w.details.layer == first
    w.tabs.setCurrentWidget(w.operators)
    qtbot.waitUntil(lambda: w.operators.model.rowCount() > 0, timeout=2000)
    assert {o.type for o in w.operators.model.rows} == {r.type for r in w.layer_data.rows}


def test_zero_cost_folds_stay_closed_in_the_heatmap(qtbot: Any) -> None:
    d = _data(_onnx_profile())
    heatmap = LayerHeatmapView(d)
    panel = HeatmapPanel(heatmap, d)
    qtbot.addWidget(panel)
    panel.show()
    heatmap.reset()
    fold = heatmap.model.index(0, 0)
    assert fold.data(RAW_ROLE) == "(shape ops)"
    qtbot.waitUntil(lambda: not heatmap.view.isExpanded(fold), timeout=1000)  # one row, not six
    assert "folded" in fold.data(TIP)
    panel.filter.setText("identity")  # looking for them opens the fold
    fold = heatmap.model.index(0, 0)
    assert heatmap.view.isExpanded(fold) and heatmap.model.rowCount(fold) == 6
