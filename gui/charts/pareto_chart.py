"""Every variant explored: latency against fidelity, marker size by weight bytes.

Clicking a point restores that variant (`variant_clicked`). Points on the Pareto front are
outlined; the front is the core's (`profiler.sweep.pareto_flags`: latency per sample, output
cosine and weight bytes, the same flags the PDF stars), read from each entry's `pareto`, never
recomputed here. A front over three objectives is not a line in this 2-D view, so none is drawn.
A point's tooltip gives its p10–p90 and its measured change against the baseline in the words
the deltas strip and the PDF use (`gui.measured_change`): "≈ no measurable change" is not a gain.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from gui import measured_change
from gui.charts.base import brush, make_plot, pen, style_plot
from gui.plain_text import tip
from gui.theme import current, fmt_bytes, fmt_fidelity, fmt_ms
from profiler import units
from profiler.sweep import pareto_flags
from profiler.variant import Variant
from profiler.whatif import VariantResult


def chart_entries(results: Mapping[str, VariantResult]) -> list[dict[str, Any]]:
    """`set_results` entries for every result explored (by `Variant.key()`), each with the
    core's Pareto flag (`profiler.sweep.pareto_flags`, computed over all of them, as the sweep
    and the PDF do). Results without a measured latency are left out of the chart."""
    flags = dict(zip(results, pareto_flags(list(results.values())), strict=True))
    base = results.get(Variant().key())  # the identity at another batch reads "baseline at batch 8"
    ref_batch = None if base is None or base.profile is None else base.profile.config.batch
    entries: list[dict[str, Any]] = []
    for key, r in results.items():
        p = r.profile
        if p is None or p.totals.latency_ms is None:
            continue
        entries.append(
            {
                "key": key,
                "variant": r.variant,
                "label": r.variant.label(),
                "latency_ms": p.totals.latency_ms.median,
                "fidelity": r.fidelity.cosine if r.fidelity is not None else None,
                "weight_bytes": p.totals.weight_bytes,
                "weights": fmt_bytes(p.totals.weight_bytes),
                "pareto": flags[key],
                "spread": units.spread_ms(p.totals.latency_ms),
                "change": measured_change.latency_change(r, ref_batch),
                "warning": measured_change.noise_warning(r),
            }
        )
    return entries


class ParetoChart(QWidget):
    variant_clicked = Signal(object)  # Variant

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = make_plot("Variants explored (click to restore)", "latency (ms)", "fidelity (cosine to baseline)")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.plot)
        self.scatter = pg.ScatterPlotItem(hoverable=True, tip=self._tip)
        self.plot.addItem(self.scatter)
        self.scatter.sigClicked.connect(self._on_scatter_clicked)
        self.entries: list[dict[str, Any]] = []
        self.labels: list[pg.TextItem] = []
        # the legend: marker kinds only (sample items, no data), so the scatter stays one item
        # bottom right: the slow-and-unfaithful corner, where the front never is (top right held
        # the baseline's bubble and label under the legend)
        self.legend = self.plot.addLegend(offset=(-10, -10))
        t = current()
        self._legend_items = {
            "Pareto-optimal (outlined)": pg.ScatterPlotItem(
                symbol="o", size=11, brush=brush(t.accent, 170), pen=pen(t.text, 1.5)
            ),
            "other variant": pg.ScatterPlotItem(
                symbol="o", size=11, brush=brush(t.accent, 170), pen=pen(t.accent, 0.5)
            ),
            "shown now": pg.ScatterPlotItem(symbol="o", size=11, brush=brush(t.heat, 170), pen=pen(t.heat, 0.5)),
        }
        for name, item in self._legend_items.items():
            self.legend.addItem(item, name)

    @staticmethod
    def _tip(x: float, y: float, data: Any) -> str:
        d = data if isinstance(data, dict) else {}
        front = "\nPareto-optimal (latency per sample, fidelity, weights)" if d.get("pareto") else ""
        spread = f" (p10–p90 {d['spread']})" if d.get("spread") else ""
        change = f"\nvs baseline (measured): {d['change']}" if d.get("change") else ""
        warning = f"\n⚠ {d['warning']}" if d.get("warning") else ""
        # a variant's label names layers (per-layer pruning): never markup
        return tip(
            f"{d.get('label', '')}\nlatency {fmt_ms(x)}{spread} (measured) · fidelity {fmt_fidelity(y)}{change}\n"
            f"weights {d.get('weights', '')}{front}{warning}"
        )

    def show_results(self, results: Mapping[str, VariantResult], current_key: str | None) -> None:
        """Plot every result explored with the core's Pareto flags (see `chart_entries`)."""
        self.set_results(chart_entries(results), current_key)

    def set_results(self, entries: list[dict[str, Any]], current_key: str | None) -> None:
        """entries: {"key", "variant", "label", "latency_ms", "fidelity", "weight_bytes", "weights",
        "pareto"}, optionally "spread", "change", "warning" (tooltip text); `pareto` is the core's
        flag (`profiler.sweep.pareto_flags` over every result explored, `chart_entries` adds it);
        an entry without it is drawn as not on the front."""
        t = current()
        usable = [
            e for e in entries if e.get("latency_ms") and e.get("fidelity") is not None and math.isfinite(e["fidelity"])
        ]
        self.entries = usable
        for label in self.labels:
            self.plot.removeItem(label)
        self.labels.clear()
        if not usable:
            self.scatter.setData([])
            return
        largest = max(e["weight_bytes"] for e in usable) or 1
        spots = []
        for e in usable:
            size = 8 + 22 * math.sqrt(e["weight_bytes"] / largest)
            color = t.heat if e["key"] == current_key else t.accent
            spots.append(
                {
                    "pos": (e["latency_ms"], e["fidelity"]),
                    "size": size,
                    "data": e,
                    "brush": brush(color, 170),
                    "pen": pen(t.text, 1.5) if e.get("pareto") else pen(color, 0.5),
                }
            )
        self.scatter.setData(spots)
        self._fit_range(usable)
        # the front's points named (a variant label is plain text: TextItem never reads markup)
        front = sorted((e for e in usable if e.get("pareto")), key=lambda e: e["latency_ms"])
        for k, e in enumerate(front[:MAX_LABELS]):
            label = pg.TextItem(_short(e["label"]), anchor=(0, 1) if k % 2 == 0 else (0, 0), color=t.muted)
            label.setPos(e["latency_ms"], e["fidelity"])
            self.plot.addItem(label)
            self.labels.append(label)

    def _fit_range(self, usable: list[dict[str, Any]]) -> None:
        """Room around the points for the biggest bubble and the labels (else an edge bubble is cut)."""
        xs = [e["latency_ms"] for e in usable]
        ys = [e["fidelity"] for e in usable]
        x_span = (max(xs) - min(xs)) or max(abs(max(xs)) * 0.5, 1e-3)
        y_span = (max(ys) - min(ys)) or max(abs(max(ys)) * 0.05, 1e-3)
        item = self.plot.getPlotItem()
        # not clamped at 0: a bubble at 1 ms would hide half behind the axis
        item.setXRange(min(xs) - 0.06 * x_span, max(xs) + 0.12 * x_span, padding=0)
        item.setYRange(min(ys) - 0.1 * y_span, max(ys) + 0.12 * y_span, padding=0)

    def _on_scatter_clicked(self, _item: Any, points: Any, *_: Any) -> None:
        if len(points):
            data = points[0].data()
            if isinstance(data, dict) and "variant" in data:
                self.variant_clicked.emit(data["variant"])

    def restyle(self) -> None:
        style_plot(self.plot, current())


#: labels drawn on the front at most (more would overlap; the tooltips name every point)
MAX_LABELS = 8


def _short(label: str, limit: int = 32) -> str:
    """Cut in the middle: variants differ at the end too ("… · fp32 · batch 64")."""
    if len(label) <= limit:
        return label
    head = (limit - 1) // 2
    return label[:head] + "…" + label[len(label) - (limit - 1 - head) :]
