"""Latency and throughput against batch size, from the variants measured at each batch.

"Sweep batch" asks the window (`sweep_requested`) to measure the variant shown at every batch
of SWEEP_BATCHES (gui/window/batch_sweep.py); a single point gets an axis around it (half to
twice its batch) instead of the auto range's 0.4–3."""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from gui.charts.base import brush, make_plot, pen, style_plot
from gui.theme import current

#: the batches "Sweep batch" measures (the knob's own steps up to 64)
SWEEP_BATCHES = (1, 2, 4, 8, 16, 32, 64)


class BatchChart(QWidget):
    """Two plots side by side; log₂ batch on x. Points appear as batches are measured."""

    sweep_requested = Signal()
    stop_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        self.sweep_button = QPushButton("Sweep batch")
        self.sweep_button.setToolTip(
            "Measure the variant shown at batch " + ", ".join(map(str, SWEEP_BATCHES)) + " (each beside its baseline)"
        )
        self.sweep_button.clicked.connect(self._on_button)
        self.status = QLabel("")
        self.status.setObjectName("Muted")
        bar.addWidget(self.sweep_button)
        bar.addWidget(self.status, 1)
        outer.addLayout(bar)
        lay = QHBoxLayout()
        outer.addLayout(lay, 1)
        self.sweeping = False
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
        ticks = _power_of_two_ticks(xs)
        for plot, ys in ((self.latency_plot, lat), (self.throughput_plot, thr)):
            plot.getAxis("bottom").setTicks([ticks] if ticks else None)
            if len(xs) == 1:  # one point: half to twice its batch, ±25 % of its value (log x: log10 units)
                b = math.log10(xs[0])
                plot.setXRange(b - math.log10(2), b + math.log10(2), padding=0)
                y = ys[0] if math.isfinite(ys[0]) else 1.0
                plot.setYRange(0.75 * y, 1.25 * y, padding=0)
            else:
                plot.enableAutoRange()

    def set_sweeping(self, sweeping: bool, status: str = "") -> None:
        """The button reads "Stop sweep" while a sweep runs; `status` says how far it is."""
        self.sweeping = sweeping
        self.sweep_button.setText("Stop sweep" if sweeping else "Sweep batch")
        self.status.setText(status)

    def _on_button(self) -> None:
        (self.stop_requested if self.sweeping else self.sweep_requested).emit()

    def restyle(self) -> None:
        t = current()
        for plot in (self.latency_plot, self.throughput_plot):
            style_plot(plot, t)
        self.latency_curve.setPen(pen(t.accent))
        self.latency_curve.setSymbolBrush(brush(t.accent))
        self.throughput_curve.setPen(pen(t.good))
        self.throughput_curve.setSymbolBrush(brush(t.good))


def _power_of_two_ticks(batches: list[float]) -> list[tuple[float, str]]:
    """Ticks at every power of two the points span (one beyond each end), labelled as batches;
    on a log axis the positions are log10 values. pyqtgraph's own log ticks read "3·10¹"."""
    if not batches:
        return []
    lo = max(0, math.floor(math.log2(min(batches))) - 1)
    hi = math.ceil(math.log2(max(batches))) + 1
    return [(math.log10(2**k), str(2**k)) for k in range(lo, hi + 1)]


__all__ = ["BatchChart", "pg"]
