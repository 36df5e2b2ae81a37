"""Cost per instance as horizontal bars: $ per million inferences of the cheapest serving options.

Horizontal, so the instance names read on the left axis without overlapping. The left axis is as
wide as its longest name, up to 45 % of the chart; a longer name is cut in the middle (the whole
name in the chart's tooltip). pyqtgraph silently drops a tick label wider than its axis, so every
label is fitted to the axis before it is set.
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetricsF, QResizeEvent
from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget

from gui import plain_text
from gui.charts.base import brush, make_plot, style_plot
from gui.theme import current, fmt_usd

MAX_BARS = 7
AXIS_SHARE = 0.45  # the names never take more than this share of the chart's width
MIN_AXIS_PX = 90
AXIS_PAD_PX = 18  # tick length, text offset and a little air


class CostChart(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = make_plot(
            "Serving cost per instance type (projected, cheapest region)", "$ per million inferences", ""
        )
        self.plot.getPlotItem().showGrid(x=True, y=False, alpha=0.25)
        self.axis = self.plot.getPlotItem().getAxis("left")
        self.axis.setWidth(MIN_AXIS_PX)
        self.plot.getPlotItem().getAxis("bottom").enableAutoSIPrefix(False)  # "$0.04", not "40 (x0.001)"
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.plot)
        self.bars = pg.BarGraphItem(x0=[], y=[], width=[], height=0.6, brush=brush(current().accent, 200))
        self.plot.addItem(self.bars)
        self.labels: list[str] = []  # the full names, cheapest first
        self.shown_labels: list[str] = []  # as drawn on the axis (cut to fit)
        self.values: list[float] = []
        self._ys: list[int] = []

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
        self._ys = list(range(len(values)))[::-1]  # cheapest on top
        self.bars.setOpts(x0=[0.0] * len(values), y=self._ys, width=values, height=0.6)
        self._fit_labels()
        self.setToolTip(
            plain_text.tip(
                "\n".join(f"{name}: {fmt_usd(v)} per million" for name, v in zip(labels, values, strict=True))
            )
        )
        if values:
            self.plot.getPlotItem().setYRange(-0.6, len(values) - 0.4, padding=0)
            self.plot.getPlotItem().setXRange(0, max(values) * 1.08, padding=0)

    def _font(self) -> QFont:
        font = self.axis.style.get("tickFont")
        return QFont(font) if isinstance(font, QFont) else QFont(QApplication.font())

    def _fit_labels(self) -> None:
        """Size the axis to the longest name (within AXIS_SHARE of the width) and cut the rest."""
        metrics = QFontMetricsF(self._font())
        widest = max((metrics.horizontalAdvance(s) for s in self.labels), default=0.0)
        room = max(float(MIN_AXIS_PX), AXIS_SHARE * max(self.width(), 300)) - AXIS_PAD_PX
        text_px = min(widest, room)
        # a little spare: pyqtgraph measures the text with its own painter, ~1 px wider
        self.axis.setWidth(int(max(MIN_AXIS_PX, text_px + AXIS_PAD_PX + 6)))
        self.shown_labels = [
            s
            if metrics.horizontalAdvance(s) <= text_px
            else metrics.elidedText(s, Qt.TextElideMode.ElideMiddle, text_px)
            for s in self.labels
        ]
        self.axis.setTicks([[(y, s) for y, s in zip(self._ys, self.shown_labels, strict=True)]])
        self.plot.set_title(self.plot.full_title)  # the title's room is what the names leave

    def drawn_labels(self) -> list[str]:
        """The tick labels pyqtgraph will really draw now (a label that does not fit is dropped)."""
        from PySide6.QtGui import QImage, QPainter

        image = QImage(4, 4, QImage.Format.Format_ARGB32)
        painter = QPainter(image)
        try:
            painter.setFont(self._font())
            specs = self.axis.generateDrawSpecs(painter)
        finally:
            painter.end()
        return [] if specs is None else [text for _, _, text in specs[2]]

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 — Qt's name
        super().resizeEvent(event)
        if self.labels:
            self._fit_labels()

    def restyle(self) -> None:
        style_plot(self.plot, current())
        self.bars.setOpts(brush=brush(current().accent, 200))
