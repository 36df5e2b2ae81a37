"""Every variant explored: latency against fidelity, marker size by weight bytes.

Clicking a point restores that variant (`variant_clicked`). Points on the Pareto front
(no other variant both faster and more faithful) are outlined.
"""

from __future__ import annotations

import math
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from gui.charts.base import brush, make_plot, pen, style_plot
from gui.plain_text import tip
from gui.theme import current


def pareto_front(points: list[tuple[float, float]]) -> set[int]:
    """Indices of points not dominated (lower latency and higher fidelity are better)."""
    front = set()
    for i, (lat, fid) in enumerate(points):
        if not any((l2 <= lat and f2 >= fid) and (l2 < lat or f2 > fid) for j, (l2, f2) in enumerate(points) if j != i):
            front.add(i)
    return front


class ParetoChart(QWidget):
    variant_clicked = Signal(object)  # Variant

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = make_plot("Variants explored (click to restore)", "latency (ms)", "fidelity (cosine to baseline)")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.plot)
        self.scatter = pg.ScatterPlotItem(hoverable=True, tip=self._tip)
        self.front_line = self.plot.plot([], [], pen=pen(current().muted, 1))
        self.plot.addItem(self.scatter)
        self.scatter.sigClicked.connect(self._on_scatter_clicked)
        self.entries: list[dict[str, Any]] = []

    @staticmethod
    def _tip(x: float, y: float, data: Any) -> str:
        label = data.get("label", "") if isinstance(data, dict) else ""
        weights = data.get("weights", "") if isinstance(data, dict) else ""
        # a variant's label names layers (per-layer pruning): never markup
        return tip(f"{label}\nlatency {x:.3g} ms · fidelity {y:.5f}\nweights {weights}")

    def set_results(self, entries: list[dict[str, Any]], current_key: str | None) -> None:
        """entries: {"key", "variant", "label", "latency_ms", "fidelity", "weight_bytes", "weights"}."""
        t = current()
        usable = [e for e in entries if e.get("latency_ms") and e.get("fidelity") is not None and math.isfinite(e["fidelity"])]
        self.entries = usable
        if not usable:
            self.scatter.setData([])
            self.front_line.setData([], [])
            return
        largest = max(e["weight_bytes"] for e in usable) or 1
        front = pareto_front([(e["latency_ms"], e["fidelity"]) for e in usable])
        spots = []
        for i, e in enumerate(usable):
            size = 8 + 22 * math.sqrt(e["weight_bytes"] / largest)
            color = t.heat if e["key"] == current_key else t.accent
            spots.append({"pos": (e["latency_ms"], e["fidelity"]), "size": size, "data": e,
                          "brush": brush(color, 170), "pen": pen(t.text, 1.5) if i in front else pen(color, 0.5)})
        self.scatter.setData(spots)
        fr = sorted((usable[i]["latency_ms"], usable[i]["fidelity"]) for i in front)
        self.front_line.setData([p[0] for p in fr], [p[1] for p in fr])

    def _on_scatter_clicked(self, _item: Any, points: Any, *_: Any) -> None:
        if len(points):
            data = points[0].data()
            if isinstance(data, dict) and "variant" in data:
                self.variant_clicked.emit(data["variant"])

    def restyle(self) -> None:
        style_plot(self.plot, current())
        self.front_line.setPen(pen(current().muted, 1))
