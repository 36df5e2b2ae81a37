"""Shared chart set-up: themed PlotWidgets whose items are created once and fed with setData."""

from __future__ import annotations

# isort: off
import gui.charts  # noqa: F401  (pins pyqtgraph to PySide6 before pyqtgraph is imported)
import pyqtgraph as pg

# isort: on
from PySide6.QtGui import QColor

from gui.theme import Theme, current
from profiler import units


class PlainAxis(pg.AxisItem):  # type: ignore[misc]  # pyqtgraph is untyped
    """An axis whose numbers read like the rest of the app (`profiler.units.axis_tick`): plain
    decimals in the axis' own unit, never '5e-05' nor a '(x0.001)' prefix on the label."""

    def __init__(self, orientation: str) -> None:
        super().__init__(orientation)
        self.enableAutoSIPrefix(False)

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        if self.logMode:
            return list(super().tickStrings(values, scale, spacing))
        return [units.axis_tick(v * scale, spacing * scale) for v in values]


def make_plot(title: str, x_label: str, y_label: str, *, log_x: bool = False, log_y: bool = False) -> pg.PlotWidget:
    w = pg.PlotWidget(axisItems={"bottom": PlainAxis("bottom"), "left": PlainAxis("left")})
    item = w.getPlotItem()
    item.setTitle(title)
    item.setLabel("bottom", x_label)
    item.setLabel("left", y_label)
    item.setLogMode(x=log_x, y=log_y)
    item.showGrid(x=True, y=True, alpha=0.25)
    item.setMenuEnabled(False)
    style_plot(w, current())
    return w


def style_plot(w: pg.PlotWidget, t: Theme) -> None:
    w.setBackground(QColor(t.base))
    item = w.getPlotItem()
    for axis in ("left", "bottom", "right", "top"):
        ax = item.getAxis(axis)
        ax.setPen(pg.mkPen(t.muted))
        ax.setTextPen(pg.mkPen(t.text))
    item.titleLabel.setText(item.titleLabel.text, color=t.text)
    for axis in ("left", "bottom"):
        label = item.getAxis(axis).label
        label.setDefaultTextColor(QColor(t.text))


def pen(color: str, width: float = 2.0) -> pg.QtGui.QPen:
    return pg.mkPen(QColor(color), width=width)


def brush(color: str, alpha: int = 255) -> pg.QtGui.QBrush:
    c = QColor(color)
    c.setAlpha(alpha)
    return pg.mkBrush(c)
