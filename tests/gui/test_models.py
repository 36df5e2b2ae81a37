"""Every item model passes qtmodeltester; the layer models stay fast on thousands of layers."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from gui.models.catalog_table import CatalogTableModel
from gui.models.layer_table import LayerFilterProxy, LayerTableModel
from gui.models.layer_tree import LayerTreeModel
from gui.models.plan_table import SERVING_COLUMNS, TRAINING_COLUMNS, PlanTableModel
from gui.models.roles import HEAT_ROLE, RAW_ROLE, SHARE_ROLE
from gui.state.layer_data import COL_LAT, COL_MACS, COL_NAME, COL_SHARE, LayerData
from planner.catalog import load_catalog
from planner.options import PlanOptions
from planner.plan import plan
from profiler.result import LayerRow, ModelInfo, Profile, RunConfig, Totals
from profiler.whatif import VariantResult


def _data(result: dict[str, Any]) -> LayerData:
    d = LayerData()
    d.set_profile(VariantResult.from_dict(result).profile)  # type: ignore[arg-type]
    return d


def test_layer_table_model(qtmodeltester: Any, resnet_result: dict[str, Any]) -> None:
    data = _data(resnet_result)
    model = LayerTableModel(data)
    qtmodeltester.check(model)
    proxy = LayerFilterProxy()
    proxy.setSourceModel(model)
    qtmodeltester.check(proxy)
    proxy.set_filter_text("layer1.0")
    assert 0 < proxy.rowCount() < model.rowCount()
    assert all("layer1.0" in proxy.index(r, COL_NAME).data(RAW_ROLE) for r in range(proxy.rowCount()))
    proxy.set_filter_text("")
    proxy.sort(COL_MACS, Qt.SortOrder.DescendingOrder)
    macs = [proxy.index(r, COL_MACS).data(RAW_ROLE) for r in range(proxy.rowCount())]
    assert macs == sorted(macs, reverse=True)
    shares = [model.index(r, COL_SHARE).data(RAW_ROLE) for r in range(model.rowCount())]
    assert abs(sum(shares) - 1.0) < 1e-6  # the share column sums to the whole
    assert all(0 <= model.index(r, COL_LAT).data(HEAT_ROLE) <= 1 for r in range(model.rowCount()))
    tip = model.index(0, COL_LAT).data(Qt.ItemDataRole.ToolTipRole)
    assert "measured" in tip


def test_layer_tree_model_groups_by_module_path(qtmodeltester: Any, resnet_result: dict[str, Any]) -> None:
    data = _data(resnet_result)
    model = LayerTreeModel(data)
    model.reset()
    qtmodeltester.check(model)
    tops = [model.index(r, COL_NAME).data(RAW_ROLE) for r in range(model.rowCount())]
    assert "layer1" in tops and "conv1" in tops
    layer1 = model.index(tops.index("layer1"), COL_NAME)
    assert model.rowCount(layer1) == 2  # layer1.0, layer1.1
    total = sum(r.macs for r in data.rows if r.name.startswith("layer1."))
    assert model.index(layer1.row(), COL_MACS).data(RAW_ROLE) == total
    assert 0 < model.index(layer1.row(), COL_MACS).data(SHARE_ROLE) < 1
    leaf = model.index_of_layer("layer1.0.conv1")
    assert leaf.isValid() and leaf.parent().parent() == layer1


def test_plan_and_catalog_models(qtmodeltester: Any, resnet_result: dict[str, Any]) -> None:
    profile = VariantResult.from_dict(resnet_result).profile
    catalog = load_catalog()
    p = plan(profile, PlanOptions(train_samples=1e6, serve_qps=100), catalog)  # type: ignore[arg-type]
    serving = PlanTableModel(SERVING_COLUMNS)
    serving.set_rows(list(p.inference.options), discount=0.25)
    qtmodeltester.check(serving)
    col = [c[1] for c in SERVING_COLUMNS].index("usd_per_million")
    assert serving.index(0, col).data(RAW_ROLE) == p.inference.options[0].usd_per_million * 0.75  # type: ignore[operator]
    training = PlanTableModel(TRAINING_COLUMNS)
    training.set_rows(list(p.training.options))  # type: ignore[union-attr]
    qtmodeltester.check(training)
    cat = CatalogTableModel(catalog.instances)
    qtmodeltester.check(cat)


def _big_profile(n: int) -> Profile:
    rows = tuple(
        LayerRow(
            name=f"blocks.{i // 10}.mod{i % 10}",
            type="Linear",
            params=1000 + i,
            macs=10_000 + i,
            flops=20_000 + 2 * i,
            weight_bytes=4000,
            activation_bytes=512,
            latency_ms=None,
            counted=True,
            scope=f"blocks.{i // 10}",
        )
        for i in range(n)
    )
    return Profile(
        model=ModelInfo("big", "demo:big", "demo"),
        inputs=(),
        config=RunConfig(),
        environment=None,
        totals=Totals(
            params=sum(r.params for r in rows),
            macs=sum(r.macs for r in rows),
            flops=sum(r.flops for r in rows),
            weight_bytes=4000 * n,
            activation_bytes=512 * n,
        ),
        layers=rows,
    )


def test_thousands_of_layers_stay_responsive(qtbot: Any) -> None:
    from gui.widgets.layer_views import LayerHeatmapView

    data = LayerData()
    t0 = time.perf_counter()
    data.set_profile(_big_profile(5000))
    view = LayerHeatmapView(data)
    qtbot.addWidget(view)
    view.reset()
    view.resize(900, 500)
    view.show()
    qtbot.waitExposed(view)
    build_s = time.perf_counter() - t0
    changed: list[Any] = []
    view.model.dataChanged.connect(lambda *a: changed.append(a))
    t1 = time.perf_counter()
    for i in range(0, 5000, 10):
        data.set_latency(data.rows[i].name, 0.1)
    data.recompute()
    view.model.refresh_columns(COL_LAT, COL_SHARE)
    update_s = time.perf_counter() - t1
    assert build_s < 2.0, build_s
    assert update_s < 0.3, update_s
    assert changed and view.model.index(0, COL_LAT).data(RAW_ROLE) is not None


def test_state_is_plain_data_without_qt() -> None:
    """gui/state/ holds the app's state as plain data: importing it loads no Qt (gui/models/ has the item models)."""
    import subprocess
    import sys

    code = (
        "import sys, gui.state.workspace, gui.state.layer_data, gui.fmt; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'PySide6', 'shiboken6', 'pyqtgraph', 'torch'}))"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    ).stdout.strip()
    assert out == "[]"
