"""Shared chart set-up: themed PlotWidgets whose items are created once and fed with setData."""

from __future__ import annotations

# isort: off
import gui.charts  # noqa: F401  (pins pyqtgraph to PySide6 before pyqtgraph is imported)
import pyqtgraph as pg

# isort: on
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QResizeEvent
from PySide6.QtWidgets import QApplication

from gui import plain_text
from gui.theme import Theme, current
from profiler import units

TITLE_POINT_SIZE = 11.0  # pyqtgraph's PlotItem title size ("11pt")
TITLE_MARGIN_PX = 24  # the plot's own margins either side of its title


class ChartPlot(pg.PlotWidget):  # type: ignore[misc]  # pyqtgraph is untyped
    """A PlotWidget whose title fits its width: cut in the middle with "…" when the window is
    narrow (1280×720 and smaller), the whole title in the tooltip. Titles are plain text."""

    full_title = ""

    def set_title(self, text: str) -> None:
        self.full_title = text
        self._fit_title()

    def title_room(self) -> int:
        """The title sits over the plot area only (beside the left axis): its width in pixels."""
        axis = self.getPlotItem().getAxis("left")
        axis_px = axis.geometry().width() if axis.isVisible() else 0.0
        fixed = axis.style.get("tickTextWidth") if axis.fixedWidth is None else axis.fixedWidth
        return int(self.width() - max(float(axis_px), float(fixed or 0)))

    def shown_title(self) -> str:
        """The title as drawn now (plain text)."""
        return elide_title(self.full_title, self.title_room())

    def _fit_title(self) -> None:
        shown = self.shown_title()
        item = self.getPlotItem()
        item.setTitle(plain_text.escape(shown), color=current().text)
        self.setToolTip(plain_text.tip(self.full_title) if shown != self.full_title else "")

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 — Qt's name
        super().resizeEvent(event)
        if self.full_title:
            self._fit_title()


def title_font() -> QFont:
    font = QFont(QApplication.font())
    font.setPointSizeF(TITLE_POINT_SIZE)
    return font


def elide_title(text: str, width_px: int) -> str:
    """`text` cut in the middle to fit `width_px` less the plot's margins ("" stays "")."""
    if not text or width_px <= 0:
        return text
    metrics = QFontMetricsF(title_font())
    room = max(40.0, float(width_px - TITLE_MARGIN_PX))
    if metrics.horizontalAdvance(text) <= room:
        return text
    return metrics.elidedText(text, Qt.TextElideMode.ElideMiddle, room)


class PlainAxis(pg.AxisItem):  # type: ignore[misc]  # pyqtgraph is untyped
    """An axis whose numbers read like the rest of the app (`profiler.units.axis_tick`): plain
    decimals in the axis' own unit, never '5e-05' nor a '(x0.001)' prefix on the label."""

    def __init__(self, orientation: str) -> None:
        super().__init__(orientation)
        self.enableAutoSIPrefix(False)

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        if self.logMode:
            return list(super().tickStrings(values, scale, spacing))
        # a flat range (every point equal) makes pyqtgraph space ticks ~1e-13 apart: never print
        # "99.4444444444448"; six significant digits of the value are all a reader can use
        floor = max((abs(v * scale) for v in values), default=0.0) * 1e-6
        return [units.axis_tick(v * scale, max(spacing * scale, floor)) for v in values]


def make_plot(title: str, x_label: str, y_label: str, *, log_x: bool = False, log_y: bool = False) -> ChartPlot:
    """A themed plot; `title` is plain text and is cut to the plot's width (ChartPlot)."""
    w = ChartPlot(axisItems={"bottom": PlainAxis("bottom"), "left": PlainAxis("left")})
    item = w.getPlotItem()
    w.set_title(title)
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
    if isinstance(w, ChartPlot) and w.full_title:
        w.set_title(w.full_title)
    else:
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
