"""Cost per instance as horizontal bars: $ per million inferences of the cheapest serving options.

Horizontal, so the instance names read on the left axis without overlapping.
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from gui.charts.base import brush, make_plot, style_plot
from gui.theme import current

MAX_BARS = 7


class CostChart(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = make_plot(
            "Serving cost per instance type (projected, cheapest region)", "$ per million inferences", ""
        )
        self.plot.getPlotItem().showGrid(x=True, y=False, alpha=0.25)
        self.plot.getPlotItem().getAxis("left").setWidth(200)
        self.plot.getPlotItem().getAxis("bottom").enableAutoSIPrefix(False)  # "$0.04", not "40 (x0.001)"
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.plot)
        self.bars = pg.BarGraphItem(x0=[], y=[], width=[], height=0.6, brush=brush(current().accent, 200))
        self.plot.addItem(self.bars)
        self.labels: list[str] = []
        self.values: list[float] = []

    def set_options(self, options: list[Any], discount: float = 0.0) -> None:
        """The planner's inference options (cheapest first); one bar per instance type."""
        seen: set[str] = set()
        labels, values = [], []
        for o in options:
            if o.usd_per_million is None or o.instance in seen:
                continue
            seen.add(o.instance)
            labels.append(f"{o.instance} ({o.provider})")
            values.append(o.usd_per_million * (1.0 - discount))
            if len(labels) >= MAX_BARS:
                break
        self.labels, self.values = labels, values
        ys = list(range(len(values)))[::-1]  # cheapest on top
        self.bars.setOpts(x0=[0.0] * len(values), y=ys, width=values, height=0.6)
        self.plot.getPlotItem().getAxis("left").setTicks([[(y, s) for y, s in zip(ys, labels, strict=True)]])
        if values:
            self.plot.getPlotItem().setYRange(-0.6, len(values) - 0.4, padding=0)
            self.plot.getPlotItem().setXRange(0, max(values) * 1.08, padding=0)

    def restyle(self) -> None:
        style_plot(self.plot, current())
        self.bars.setOpts(brush=brush(current().accent, 200))
