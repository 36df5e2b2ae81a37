"""Latency and throughput against batch size, from the variants measured at each batch."""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QWidget

from gui.charts.base import brush, make_plot, pen, style_plot
from gui.theme import current


class BatchChart(QWidget):
    """Two plots side by side; log₂ batch on x. Points appear as batches are measured."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.latency_plot = make_plot("Latency vs batch (measured)", "batch", "latency (ms)", log_x=True)
        self.throughput_plot = make_plot("Throughput vs batch (measured)", "batch", "samples / s", log_x=True)
        lay.addWidget(self.latency_plot)
        lay.addWidget(self.throughput_plot)
        t = current()
        self.latency_curve = self.latency_plot.plot(
            [], [], pen=pen(t.accent), symbol="o", symbolSize=8, symbolBrush=brush(t.accent)
        )
        self.throughput_curve = self.throughput_plot.plot(
            [], [], pen=pen(t.good), symbol="o", symbolSize=8, symbolBrush=brush(t.good)
        )
        self.points: list[tuple[int, float]] = []

    def set_points(self, points: list[tuple[int, float]]) -> None:
        """(batch, median latency in ms) pairs."""
        self.points = sorted(points)
        xs = [float(b) for b, _ in self.points]
        lat = [ms for _, ms in self.points]
        thr = [b * 1000.0 / ms if ms > 0 else math.nan for b, ms in self.points]
        self.latency_curve.setData(xs, lat)
        self.throughput_curve.setData(xs, thr)

    def restyle(self) -> None:
        t = current()
        for plot in (self.latency_plot, self.throughput_plot):
            style_plot(plot, t)
        self.latency_curve.setPen(pen(t.accent))
        self.latency_curve.setSymbolBrush(brush(t.accent))
        self.throughput_curve.setPen(pen(t.good))
        self.throughput_curve.setSymbolBrush(brush(t.good))


__all__ = ["BatchChart", "pg"]
