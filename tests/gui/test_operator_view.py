"""The Operators tab (issue 16, item 1): layers aggregated by op type, slowest first, self vs
total time, call counts, shares; sortable; a double-click filters the heatmap to the type."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from test_heatmap_readable import _gpt_like

from gui.models.roles import RAW_ROLE
from gui.state.layer_data import LayerData
from gui.widgets.operator_view import (
    OP_CALLS,
    OP_MACS,
    OP_SELF,
    OP_SHARE,
    OP_TOTAL,
    OP_TYPE,
    OperatorTableModel,
    OperatorView,
    aggregate,
)
from profiler.whatif import VariantResult


def _data(profile: Any) -> LayerData:
    d = LayerData()
    d.set_profile(profile)
    return d


def test_aggregate_counts_self_and_total_time(qapp: Any) -> None:
    d = _data(_gpt_like(3))
    ops = {o.type: o for o in aggregate(d)}
    linear = ops["Linear"]
    assert linear.calls == 6 and linear.macs == 3 * (300 + 400)
    assert abs(linear.self_ms - 3 * 2.5) < 1e-9 and linear.total_ms == linear.self_ms  # type: ignore[operator]
    block = ops["GPTBlock (own ops)"]
    assert block.calls == 3 and abs(block.self_ms - 0.3) < 1e-9  # type: ignore[operator]
    # total: the blocks' own ops plus every layer inside the blocks
    assert abs(block.total_ms - 3 * (0.1 + 0.1 + 0.3 + 1.0 + 0.01 + 1.5)) < 1e-9  # type: ignore[operator]
    selfs = [o.self_ms or 0.0 for o in aggregate(d)]
    assert selfs == sorted(selfs, reverse=True)  # slowest first


def test_model_shares_and_sorting(qtbot: Any, qtmodeltester: Any, resnet_result: dict[str, Any]) -> None:
    d = _data(VariantResult.from_dict(resnet_result).profile)
    model = OperatorTableModel(d)
    model.refresh()
    qtmodeltester.check(model)
    shares = [model.index(r, OP_SHARE).data(RAW_ROLE) for r in range(model.rowCount())]
    assert abs(sum(shares) - 1.0) < 1e-9
    assert sum(model.index(r, OP_CALLS).data(RAW_ROLE) for r in range(model.rowCount())) == len(d)
    conv = next(r for r in range(model.rowCount()) if model.index(r, OP_TYPE).data(RAW_ROLE) == "Conv2d")
    assert model.index(conv, OP_MACS).data(RAW_ROLE) == sum(r.macs for r in d.rows if r.type == "Conv2d")
    view = OperatorView(d)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    proxy = view.proxy
    selfs = [proxy.index(r, OP_SELF).data(RAW_ROLE) for r in range(proxy.rowCount())]
    assert selfs == sorted(selfs, reverse=True)  # slowest first on screen
    view.view.sortByColumn(OP_CALLS, Qt.SortOrder.AscendingOrder)
    calls = [proxy.index(r, OP_CALLS).data(RAW_ROLE) for r in range(proxy.rowCount())]
    assert calls == sorted(calls)
    header = model.headerData(OP_TOTAL, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole)
    assert "(ms)" in header
    view.set_filter_text("conv")
    assert proxy.rowCount() == 1
    with qtbot.waitSignal(view.type_activated, timeout=1000) as blocker:
        view.view.doubleClicked.emit(proxy.index(0, OP_SELF))
    assert blocker.args == ["Conv2d"]
