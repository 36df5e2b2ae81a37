"""Vector figures for the report, painted with QPainter into a rectangle (PDF paths, no images).

Every figure takes the numbers the core computed; shares are each value over the column total,
as the app's heat colours are.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPen

from profiler import units

from .layout import ACCENT, ACCENT2, HEAD, INK, MUTED, RULE, font

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


def _pt(p: QPainter, points: float) -> float:
    return points * p.device().logicalDpiY() / 72.0


def _text(p: QPainter, rect: QRectF, text: str, align: Qt.AlignmentFlag, f: QFont, color: QColor = INK) -> None:
    p.setFont(f)
    p.setPen(color)
    p.drawText(rect, int(align), text)


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """Round tick values covering [lo, hi]."""
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    raw = (hi - lo) / max(1, n)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step + 1e-9) * step
    end = math.ceil(hi / step - 1e-9) * step
    count = int(round((end - start) / step))
    return [round(start + i * step, 12) for i in range(count + 1)]


def tick_label(v: float) -> str:
    """Axis numbers: 0.05, 0.25, 500, 1,000, 1.5k is avoided in favour of 1,500."""
    if float(v).is_integer():
        return f"{int(v):,}"
    if abs(v) >= 1e4:
        return f"{v:,.0f}"
    # plain decimals, never '1e-05'; trailing zeros dropped on an axis (0.25, not 0.250)
    text = units.sig(v, 3)
    return text.rstrip("0").rstrip(".") if "." in text else text


def log_ticks(lo: float, hi: float) -> list[float]:
    a, b = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    return [10.0**e for e in range(a, b + 1)]


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


# ------------------------------------------------------------------------------ axes


@dataclass(frozen=True)
class Axis:
    lo: float
    hi: float
    log: bool = False

    def frac(self, v: float) -> float:
        if self.log:
            lo, hi = math.log10(self.lo), math.log10(self.hi)
            return (math.log10(max(v, 1e-300)) - lo) / ((hi - lo) or 1.0)
        return (v - self.lo) / ((self.hi - self.lo) or 1.0)

    def ticks(self) -> list[float]:
        if self.log:
            return [t for t in log_ticks(self.lo, self.hi) if self.lo * 0.999 <= t <= self.hi * 1.001]
        return [t for t in nice_ticks(self.lo, self.hi) if self.lo - 1e-12 <= t <= self.hi + 1e-12]


def axis_for(values: Sequence[float], *, zero: bool = False, allow_log: bool = True, pad: float = 0.08) -> Axis:
    vals = [v for v in values if v is not None and math.isfinite(v)]
    if not vals:
        return Axis(0.0, 1.0)
    lo, hi = min(vals), max(vals)
    if allow_log and lo > 0 and hi / lo > 30:
        return Axis(10 ** math.floor(math.log10(lo)), 10 ** math.ceil(math.log10(hi)), log=True)
    if zero:
        lo = min(0.0, lo)
    span = (hi - lo) or (abs(hi) or 1.0)
    lo2, hi2 = (lo if zero else lo - pad * span), hi + pad * span
    if lo >= 0 > lo2:  # a positive quantity's axis does not go below zero
        lo2 = 0.0
    t = nice_ticks(lo2, hi2)
    return Axis(t[0], t[-1])


def _frame(
    p: QPainter,
    plot: QRectF,
    xa: Axis,
    ya: Axis | None,
    xfmt: Callable[[float], str],
    yfmt: Callable[[float], str] | None,
    xlabel: str,
    ylabel: str,
) -> None:
    fs = font(7)
    fm = QFontMetricsF(fs, p.device())
    p.setPen(QPen(RULE, _pt(p, 0.4)))
    for t in xa.ticks():
        x = plot.left() + xa.frac(t) * plot.width()
        p.setPen(QPen(QColor("#e5e9f0"), _pt(p, 0.4)))
        p.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()))
        _text(
            p,
            QRectF(x - _pt(p, 30), plot.bottom() + _pt(p, 2), _pt(p, 60), fm.height()),
            xfmt(t),
            Qt.AlignmentFlag.AlignHCenter,
            fs,
            MUTED,
        )
    if ya is not None and yfmt is not None:
        for t in ya.ticks():
            y = plot.bottom() - ya.frac(t) * plot.height()
            p.setPen(QPen(QColor("#e5e9f0"), _pt(p, 0.4)))
            p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            _text(
                p,
                QRectF(plot.left() - _pt(p, 44), y - fm.height() / 2, _pt(p, 41), fm.height()),
                yfmt(t),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                fs,
                MUTED,
            )
    p.setPen(QPen(MUTED, _pt(p, 0.6)))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawLine(plot.bottomLeft(), plot.bottomRight())
    p.drawLine(plot.bottomLeft(), plot.topLeft())
    _text(
        p,
        QRectF(plot.left(), plot.bottom() + fm.height() + _pt(p, 4), plot.width(), fm.height()),
        xlabel,
        Qt.AlignmentFlag.AlignHCenter,
        font(7.5, bold=True),
        INK,
    )
    if ylabel:
        p.save()
        p.translate(plot.left() - _pt(p, 50), plot.center().y())
        p.rotate(-90)
        _text(
            p,
            QRectF(-plot.height() / 2, -fm.height(), plot.height(), fm.height() * 1.2),
            ylabel,
            Qt.AlignmentFlag.AlignHCenter,
            font(7.5, bold=True),
            INK,
        )
        p.restore()


# ------------------------------------------------------------------------------ Pareto


@dataclass(frozen=True)
class ScatterPoint:
    x: float
    y: float
    label: str
    pareto: bool
    baseline: bool = False
    chosen: bool = False


def draw_pareto(
    p: QPainter,
    rect: QRectF,
    points: Sequence[ScatterPoint],
    *,
    xlabel: str,
    ylabel: str,
    xfmt: Callable[[float], str],
    yfmt: Callable[[float], str],
) -> None:
    """Scatter of variants: Pareto-optimal filled, dominated hollow, baseline square, chosen ringed."""
    plot = QRectF(
        rect.left() + _pt(p, 58), rect.top() + _pt(p, 8), rect.width() - _pt(p, 70), rect.height() - _pt(p, 40)
    )
    if not points:
        _text(p, plot, "no measured variant to plot", Qt.AlignmentFlag.AlignCenter, font(8, italic=True), MUTED)
        return
    xa = axis_for([q.x for q in points])
    ya = axis_for([q.y for q in points], allow_log=False)
    _frame(p, plot, xa, ya, xfmt, yfmt, xlabel, ylabel)

    def at(q: ScatterPoint) -> QPointF:
        return QPointF(plot.left() + xa.frac(q.x) * plot.width(), plot.bottom() - ya.frac(q.y) * plot.height())

    fs = font(6.5)
    fm = QFontMetricsF(fs, p.device())
    r = _pt(p, 3.2)
    placed: list[QRectF] = []
    for q in sorted(points, key=lambda q: (q.pareto, q.chosen)):
        c = at(q)
        color = ACCENT2 if q.pareto else QColor("#8a94a6")
        p.setPen(QPen(color.darker(130), _pt(p, 0.6)))
        p.setBrush(color if q.pareto else QColor("#ffffff"))
        if q.baseline:
            p.setBrush(ACCENT)
            p.setPen(QPen(ACCENT.darker(140), _pt(p, 0.6)))
            p.drawRect(QRectF(c.x() - r, c.y() - r, 2 * r, 2 * r))
        else:
            p.drawEllipse(c, r, r)
        if q.chosen:
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(QPen(INK, _pt(p, 0.9)))
            p.drawEllipse(c, r * 2.0, r * 2.0)
        w = fm.horizontalAdvance(q.label) + _pt(p, 2)
        for dx, dy in ((r * 2.3, -fm.height() / 2), (r * 2.3, -fm.height() * 1.4), (r * 2.3, fm.height() * 0.4),
                       (-w - r * 2.3, -fm.height() / 2), (-w / 2, -fm.height() - r * 2.3), (-w / 2, r * 2.3)):  # fmt: skip
            box = QRectF(c.x() + dx, c.y() + dy, w, fm.height())
            if box.right() <= rect.right() and box.left() >= plot.left() and not any(box.intersects(b) for b in placed):
                break
        placed.append(box)
        _text(
            p, box, q.label, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, fs, INK if q.pareto else MUTED
        )


# ------------------------------------------------------------------------------ bars


@dataclass(frozen=True)
class BarSeries:
    name: str
    color: QColor
    values: Sequence[float | None]


def draw_hbars(
    p: QPainter,
    rect: QRectF,
    categories: Sequence[str],
    series: Sequence[BarSeries],
    *,
    fmt: Callable[[float], str],
    xlabel: str,
    log: bool | None = None,
) -> None:
    """Horizontal grouped bars, one group per category, values written at the bar ends.
    A legend names the series. Missing values are marked "n/a"."""
    fs = font(7)
    fm = QFontMetricsF(fs, p.device())
    label_w = min(max((fm.horizontalAdvance(c) for c in categories), default=0) + _pt(p, 8), rect.width() * 0.36)
    legend_h = fm.height() + _pt(p, 6) if len(series) > 1 else 0.0
    plot = QRectF(
        rect.left() + label_w,
        rect.top() + legend_h,
        rect.width() - label_w - _pt(p, 56),
        rect.height() - legend_h - _pt(p, 26),
    )
    vals = [v for s in series for v in s.values if v is not None and v > 0]
    if not vals:
        _text(p, plot, "no priced option", Qt.AlignmentFlag.AlignCenter, font(8, italic=True), MUTED)
        return
    hi = max(vals)
    lo = min(vals)
    use_log = (hi / lo > 50) if log is None else log
    xa = (
        Axis(10 ** math.floor(math.log10(lo)), 10 ** math.ceil(math.log10(hi)), log=True)
        if use_log
        else Axis(0.0, nice_ticks(0, hi)[-1])
    )
    _frame(p, plot, xa, None, fmt, None, xlabel + (" (log scale)" if use_log else ""), "")
    group_h = plot.height() / max(1, len(categories))
    bar_h = min(group_h * 0.8 / len(series), _pt(p, 9))
    for ci, cat in enumerate(categories):
        gy = plot.top() + ci * group_h
        _text(
            p,
            QRectF(rect.left(), gy, label_w - _pt(p, 5), group_h),
            fm.elidedText(cat, Qt.TextElideMode.ElideMiddle, label_w - _pt(p, 6)),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            fs,
        )
        y = gy + (group_h - bar_h * len(series)) / 2
        for s in series:
            v = s.values[ci]
            if v is None or v <= 0:
                _text(
                    p,
                    QRectF(plot.left() + _pt(p, 3), y, _pt(p, 60), bar_h),
                    "n/a",
                    Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                    font(6.5, italic=True),
                    MUTED,
                )
            else:
                x1 = plot.left() + max(0.0, xa.frac(v)) * plot.width()
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(s.color)
                p.drawRect(QRectF(plot.left(), y + bar_h * 0.1, max(x1 - plot.left(), _pt(p, 0.8)), bar_h * 0.8))
                _text(
                    p,
                    QRectF(x1 + _pt(p, 2), y, _pt(p, 56), bar_h),
                    fmt(v),
                    Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                    font(6.5),
                    INK,
                )
            y += bar_h
    if legend_h:
        x = plot.left()
        for s in series:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(s.color)
            p.drawRect(QRectF(x, rect.top() + _pt(p, 1.5), _pt(p, 8), _pt(p, 6)))
            _text(
                p,
                QRectF(x + _pt(p, 11), rect.top(), _pt(p, 200), fm.height() + _pt(p, 2)),
                s.name,
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                fs,
            )
            x += _pt(p, 11) + fm.horizontalAdvance(s.name) + _pt(p, 14)


def draw_summary_bars(p: QPainter, rect: QRectF, items: Sequence[tuple[str, float | None, float | None, str]]) -> None:
    """Small multiples for the summary: per metric, baseline vs chosen as two bars scaled to the
    larger, each with its formatted value. items: (metric, baseline, chosen, unit text)."""
    fs = font(7)
    fm = QFontMetricsF(fs, p.device())
    n = max(1, len(items))
    cell_w = rect.width() / n
    for i, (name, b, c, _unit) in enumerate(items):
        cell = QRectF(rect.left() + i * cell_w + _pt(p, 4), rect.top(), cell_w - _pt(p, 8), rect.height())
        _text(
            p,
            QRectF(cell.left(), cell.top(), cell.width(), fm.height()),
            name,
            Qt.AlignmentFlag.AlignHCenter,
            font(7, bold=True),
            HEAD,
        )
        top = cell.top() + fm.height() + _pt(p, 3)
        base_y = cell.bottom() - fm.height() - _pt(p, 2)
        vals = [v for v in (b, c) if v is not None]
        hi = max(vals) if vals else 1.0
        bw = cell.width() * 0.28
        for j, (v, color) in enumerate(((b, ACCENT), (c, ACCENT2))):
            x = cell.center().x() + (-bw - _pt(p, 3) if j == 0 else _pt(p, 3))
            if v is None:
                _text(
                    p,
                    QRectF(x, base_y - fm.height(), bw, fm.height()),
                    "n/a",
                    Qt.AlignmentFlag.AlignHCenter,
                    font(6.5, italic=True),
                    MUTED,
                )
                continue
            h = (base_y - top - fm.height()) * (v / hi if hi > 0 else 0)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(color)
            p.drawRect(QRectF(x, base_y - h, bw, max(h, _pt(p, 0.6))))
        p.setPen(QPen(MUTED, _pt(p, 0.5)))
        p.drawLine(
            QPointF(cell.left() + cell.width() * 0.12, base_y), QPointF(cell.right() - cell.width() * 0.12, base_y)
        )
        if b and c is not None:
            _text(
                p,
                QRectF(cell.left(), base_y + _pt(p, 1), cell.width(), fm.height()),
                f"{units.times(c / b)} baseline",
                Qt.AlignmentFlag.AlignHCenter,
                fs,
                INK,
            )
