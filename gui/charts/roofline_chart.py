"""The target's roofline (log-log) with the model's layers as points (all projected)."""

from __future__ import annotations

import math
from typing import Any

import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from gui.charts.base import brush, make_plot, pen, style_plot
from gui.theme import current


class RooflineChart(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = make_plot(
            "Roofline", "arithmetic intensity (FLOP / byte)", "attained (TFLOP/s)", log_x=True, log_y=True
        )
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.plot)
        t = current()
        self.roof = self.plot.plot([], [], pen=pen(t.text, 2))
        self.compute_points = pg.ScatterPlotItem(size=8, brush=brush(t.heat, 200), pen=None, name="compute-bound")
        self.memory_points = pg.ScatterPlotItem(size=8, brush=brush(t.accent, 200), pen=None, name="memory-bound")
        self.plot.addItem(self.compute_points)
        self.plot.addItem(self.memory_points)
        self.legend = self.plot.getPlotItem().addLegend(offset=(-10, 10))
        self.legend.addItem(self.compute_points, "compute-bound")
        self.legend.addItem(self.memory_points, "memory-bound")
        self.n_points = 0

    def set_projection(
        self, title: str, peak_flops_per_s: float | None, bytes_per_s: float | None, layers: list[Any]
    ) -> None:
        """Roof from peak × efficiency and bandwidth × efficiency; layers are LayerProjection objects."""
        # pyqtgraph titles are HTML: set_title escapes the accelerator's name (a catalog row)
        self.plot.set_title(f"Roofline: {title}" if title else "Roofline")
        pts_c: list[dict[str, Any]] = []
        pts_m: list[dict[str, Any]] = []
        for lp in layers:
            if not lp.intensity_flops_per_byte or lp.time_ms <= 0 or lp.flops <= 0:
                continue
            # scatter items are not transformed by the plot's log mode: give them log10 positions
            attained = lp.flops / (lp.time_ms / 1000.0) / 1e12
            spot = {"pos": (math.log10(lp.intensity_flops_per_byte), math.log10(attained)), "data": lp.name}
            (pts_c if str(lp.bound) == "compute" else pts_m).append(spot)
        self.compute_points.setData(pts_c)
        self.memory_points.setData(pts_m)
        for item in (self.compute_points, self.memory_points):
            item.setToolTip(None)
        self.n_points = len(pts_c) + len(pts_m)
        if peak_flops_per_s and bytes_per_s:
            xs = [10 ** (k / 10) for k in range(-20, 51)]  # 0.01 … 100k FLOP/byte
            ys = [min(peak_flops_per_s, bytes_per_s * x) / 1e12 for x in xs]
            self.roof.setData(xs, ys)
        else:
            self.roof.setData([], [])

    def restyle(self) -> None:
        t = current()
        style_plot(self.plot, t)
        self.roof.setPen(pen(t.text, 2))
        self.compute_points.setBrush(brush(t.heat, 200))
        self.memory_points.setBrush(brush(t.accent, 200))


__all__ = ["RooflineChart", "math"]
