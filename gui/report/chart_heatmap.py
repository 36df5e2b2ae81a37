"""The report's layer heatmap: metrics × layers, each cell the layer's share of the row's total (gui.report.figures)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFontMetricsF, QPainter, QPen

from .chart_axes import _pt, _text
from .layout import MUTED, RULE, font

HEAT_LOW = QColor("#f7fbff")
HEAT_HIGH = QColor("#08306b")


def heat_color(t: float) -> QColor:
    """0 → pale, 1 → deep blue, through a perceptually even-ish ramp (Blues)."""
    stops = [(0.0, "#f7fbff"), (0.15, "#deebf7"), (0.3, "#c6dbef"), (0.45, "#9ecae1"), (0.6, "#6baed6"),
             (0.75, "#4292c6"), (0.88, "#2171b5"), (1.0, "#08306b")]  # fmt: skip
    t = min(1.0, max(0.0, t))
    for (t0, c0), (t1, c1) in zip(stops, stops[1:], strict=False):
        if t <= t1:
            a, b = QColor(c0), QColor(c1)
            u = 0 if t1 == t0 else (t - t0) / (t1 - t0)
            return QColor(round(a.red() + (b.red() - a.red()) * u), round(a.green() + (b.green() - a.green()) * u),
                          round(a.blue() + (b.blue() - a.blue()) * u))  # fmt: skip
    return QColor(stops[-1][1])


# ------------------------------------------------------------------------------ heatmap


@dataclass(frozen=True)
class HeatRow:
    """One metric across the layers: its label, the values (None = not measured), and a note."""

    label: str
    values: Sequence[float | None]
    note: str = ""


def draw_heatmap(
    p: QPainter,
    rect: QRectF,
    layer_names: Sequence[str],
    rows: Sequence[HeatRow],
    groups: Sequence[tuple[str, int, int]],
) -> None:
    """Metrics (rows) × layers in model order (columns); colour = the layer's share of the
    metric's total, scaled to the row's largest share so every row uses the whole ramp.
    `groups` are (label, first, last) runs of columns labelled under the axis."""
    fs = font(7)
    fm = QFontMetricsF(fs, p.device())
    label_w = max(fm.horizontalAdvance(r.label) for r in rows) + _pt(p, 8)
    legend_h = _pt(p, 22)
    axis_h = _pt(p, 40)
    grid = QRectF(rect.left() + label_w, rect.top(), rect.width() - label_w, rect.height() - axis_h - legend_h)
    n = max(1, len(layer_names))
    cw = grid.width() / n
    rh = grid.height() / max(1, len(rows))
    p.setPen(Qt.PenStyle.NoPen)
    for ri, row in enumerate(rows):
        y = grid.top() + ri * rh
        _text(
            p,
            QRectF(rect.left(), y, label_w - _pt(p, 4), rh),
            row.label,
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            fs,
        )
        vals = [v for v in row.values if v is not None]
        total = sum(vals)
        top = max(vals) / total if vals and total > 0 else 0.0
        if not vals:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QBrush(QColor("#f4f4f4"), Qt.BrushStyle.BDiagPattern))
            p.drawRect(QRectF(grid.left(), y + _pt(p, 0.5), grid.width(), rh - _pt(p, 1)))
            _text(
                p,
                QRectF(grid.left(), y, grid.width(), rh),
                row.note or "not measured",
                Qt.AlignmentFlag.AlignCenter,
                font(7, italic=True),
                MUTED,
            )
            continue
        for ci, v in enumerate(row.values):
            share = (v or 0.0) / total if total > 0 else 0.0
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(heat_color(share / top if top > 0 else 0.0))
            # cells overlap by a hair so no white seams show between them at any zoom
            p.drawRect(QRectF(grid.left() + ci * cw, y + _pt(p, 0.5), cw + (0.5 if ci < n - 1 else 0), rh - _pt(p, 1)))
    # separators between groups, and the frame
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.setPen(QPen(QColor(255, 255, 255), _pt(p, 0.8)))
    for _, first, _last in groups[1:]:
        x = grid.left() + first * cw
        p.drawLine(QPointF(x, grid.top()), QPointF(x, grid.bottom()))
    p.setPen(QPen(RULE, _pt(p, 0.5)))
    p.drawRect(grid)
    # axis labels: each layer when there is room, else each group
    if n <= 40 and cw >= fm.height() * 1.1:
        p.save()
        for ci, name in enumerate(layer_names):
            x = grid.left() + (ci + 0.5) * cw
            p.save()
            p.translate(x, grid.bottom() + _pt(p, 2))
            p.rotate(-45)
            shown = fm.elidedText(name, Qt.TextElideMode.ElideLeft, axis_h * 1.3)
            _text(
                p,
                QRectF(
                    -fm.horizontalAdvance(shown) - _pt(p, 1),
                    -fm.height() / 2,
                    fm.horizontalAdvance(shown) + _pt(p, 1),
                    fm.height(),
                ),
                shown,
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                fs,
                MUTED,
            )
            p.restore()
        p.restore()
    else:
        right_edge = [grid.left() - 1e9, grid.left() - 1e9]  # per label row: where the last label ended
        gap = _pt(p, 4)
        for label, first, last in groups:
            x0, x1 = grid.left() + first * cw, grid.left() + (last + 1) * cw
            yb = grid.bottom() + _pt(p, 3)
            p.setPen(QPen(MUTED, _pt(p, 0.5)))
            p.drawLine(QPointF(x0 + _pt(p, 0.5), yb), QPointF(x1 - _pt(p, 0.5), yb))
            w = fm.horizontalAdvance(label) + _pt(p, 1)
            left = max(grid.left(), min((x0 + x1) / 2 - w / 2, grid.right() - w))
            # a label goes on the first row where it does not touch its neighbour; else it is left
            # out (the table below names every layer)
            for line in (0, 1):
                if left >= right_edge[line] + gap:
                    _text(
                        p,
                        QRectF(left, yb + _pt(p, 1) + line * fm.height(), w, fm.height()),
                        label,
                        Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                        fs,
                        MUTED,
                    )
                    right_edge[line] = left + w
                    break
        _text(
            p,
            QRectF(grid.left(), grid.bottom() + _pt(p, 3) + 2.2 * fm.height(), grid.width(), fm.height()),
            f"{n} layers in execution order, grouped by top-level module",
            Qt.AlignmentFlag.AlignHCenter,
            font(7, italic=True),
            MUTED,
        )
    # colour legend
    ly = rect.bottom() - legend_h + _pt(p, 6)
    lw = min(_pt(p, 180), grid.width() * 0.5)
    lx = grid.left()
    steps = 60
    for i in range(steps):
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(heat_color(i / (steps - 1)))
        p.drawRect(QRectF(lx + i * lw / steps, ly, lw / steps + 0.5, _pt(p, 7)))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.setPen(QPen(RULE, _pt(p, 0.4)))
    p.drawRect(QRectF(lx, ly, lw, _pt(p, 7)))
    _text(
        p,
        QRectF(lx + lw + _pt(p, 6), ly - _pt(p, 2), grid.width() - lw, _pt(p, 11)),
        "share of the row's total, relative to the row's largest layer (0 → max)",
        Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
        fs,
        MUTED,
    )
