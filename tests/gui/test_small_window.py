"""At 1280×720 nothing is clipped: chart titles fit their plot (cut with "…" and a tooltip), the
planner's ranked tables size their columns to header and values (capped, cut with a tooltip),
and the cost chart draws every instance name, however long (pyqtgraph drops a label wider than
its axis)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics

from planner.catalog import load_catalog
from profiler.analyze import ProfileRequest, profile_model
from profiler.loading import load_model

LONG_NAMES = (
    ("1x_H100-SXM_SECURE", "runpod"),
    ("8x_H200-SXM_SECURE_COMMUNITY_CLOUD_EXTRA_LONG_NAME", "runpod"),
    ("Standard_NC24ads_A100_v4", "azure"),
    ("a2-ultragpu-8g-with-a-very-long-suffix", "gcp"),
    ("g4dn.xlarge", "aws"),
    ("2x_A100-80GB_SECURE", "runpod"),
    ("n1-standard-8 + 1x T4", "gcp"),
)


def _options() -> list[Any]:
    return [
        SimpleNamespace(instance=name, provider=provider, usd_per_million=0.5 + i * 0.3)
        for i, (name, provider) in enumerate(LONG_NAMES)
    ]


def test_cost_chart_draws_every_instance_name_at_small_sizes(qtbot: Any) -> None:
    from gui.charts.cost_chart import CostChart

    chart = CostChart()
    qtbot.addWidget(chart)
    for width, height in ((560, 260), (420, 230), (900, 320)):
        chart.resize(width, height)
        chart.show()
        chart.set_options(_options())
        qtbot.wait(20)
        drawn = chart.drawn_labels()
        assert len(drawn) == len(LONG_NAMES), (width, drawn)
        assert drawn == chart.shown_labels
        assert chart.axis.width() <= 0.45 * width + 10
        # a cut name keeps both ends; the whole one is in the tooltip
        for full, shown in zip(chart.labels, chart.shown_labels, strict=True):
            assert shown == full or ("…" in shown and shown[:3] == full[:3] and shown[-3:] == full[-3:])
            assert full in chart.toolTip()


def test_chart_titles_fit_their_plot(qtbot: Any) -> None:
    from gui.charts.base import title_font
    from gui.charts.cost_chart import CostChart

    chart = CostChart()
    qtbot.addWidget(chart)
    chart.resize(430, 260)
    chart.show()
    chart.set_options(_options())
    qtbot.wait(20)
    plot = chart.plot
    shown = plot.shown_title()
    assert shown != plot.full_title and "…" in shown
    assert QFontMetrics(title_font()).horizontalAdvance(shown) <= plot.title_room()
    assert plot.full_title in plot.toolTip()
    chart.resize(1400, 400)
    qtbot.wait(20)
    assert plot.shown_title() == plot.full_title and plot.toolTip() == ""
    # titles are plain text: a catalog name with markup shows as those characters
    plot.set_title("Roofline: <b>x</b>")
    assert "&lt;b&gt;" in plot.getPlotItem().titleLabel.text


def test_planner_tables_fit_or_cut_with_a_tooltip_at_1280x720(qtbot: Any, make_window: Any) -> None:
    w = make_window()
    w.resize(1280, 720)
    w.show()
    w.tabs.setCurrentWidget(w.planner)
    panel = w.planner
    panel.set_profile(profile_model(load_model("demo:mlp"), ProfileRequest(latency=False)))
    qtbot.wait(50)
    assert panel.serving_model.rowCount() > 0
    # the panel is not wider than its tab: nothing is cut at the window's right edge
    assert panel.width() <= w.tabs.width()
    assert panel.cost_chart.geometry().right() <= panel.width()
    for view in (panel.serving_view, panel.training_view):
        header = view.horizontalHeader()
        model = view.model()
        metrics = QFontMetrics(header.font())
        for col in range(model.columnCount() - 1):
            name = model.headerData(col, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole)
            fits = metrics.horizontalAdvance(name) + 12 <= header.sectionSize(col)
            tip = model.headerData(col, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
            assert fits or (tip and name in tip), name
    # $/hour sits beside $/month: both prices in view without scrolling
    names = [
        panel.serving_view.model().headerData(c, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole)
        for c in range(panel.serving_view.model().columnCount())
    ]
    hour = names.index("$/hour")
    assert names[hour - 1] == "$/month"
    view = panel.serving_view
    right = view.horizontalHeader().sectionViewportPosition(hour) + view.horizontalHeader().sectionSize(hour)
    assert right <= view.viewport().width()
    # a value cut by its column carries the whole text in its tooltip
    index = view.model().index(0, 0)
    assert str(index.data()) in str(index.data(Qt.ItemDataRole.ToolTipRole))
    # the cost chart under the tables names every bar
    assert panel.cost_chart.drawn_labels() == panel.cost_chart.shown_labels
    assert len(panel.cost_chart.shown_labels) == len(panel.cost_chart.labels) > 0


def test_planner_panel_cost_chart_with_the_real_catalog(qtbot: Any) -> None:
    from gui.planner_panel import PlannerPanel

    panel = PlannerPanel(load_catalog(include_user=False))
    qtbot.addWidget(panel)
    panel.resize(900, 560)
    panel.show()
    panel.only_target.setChecked(False)
    panel.set_profile(profile_model(load_model("demo:mlp"), ProfileRequest(latency=False)))
    qtbot.wait(50)
    chart = panel.cost_chart
    assert chart.labels and chart.drawn_labels() == chart.shown_labels


def test_flat_axis_reads_as_a_number_not_float_noise(qtbot: Any) -> None:
    from gui.charts.base import PlainAxis

    axis = PlainAxis("left")
    # every point equal: pyqtgraph spaces the ticks ~1e-13 apart
    values = [99.44444444444440 + k * 1e-13 for k in range(3)]
    strings = axis.tickStrings(values, 1.0, 1e-13)
    assert all(len(s) <= 9 for s in strings), strings  # "99.44444", never "99.4444444444448"


def test_pareto_labels_keep_what_tells_variants_apart() -> None:
    from gui.charts.pareto_chart import _short

    a = _short("prune 0.5 structured · fp32 · batch 64")
    b = _short("prune 0.5 structured · fp32 · batch 32")
    assert a != b and len(a) <= 32 and a.endswith("batch 64") and "…" in a
