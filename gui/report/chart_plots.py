"""The report's Pareto scatter and bar charts (ranked horizontal bars, summary small multiples) (gui.report.figures)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPen

from profiler import units

from .chart_axes import Axis, _frame, _pt, _text, axis_for, nice_ticks
from .layout import ACCENT, ACCENT2, HEAD, INK, MUTED, font

# ------------------------------------------------------------------------------ Pareto


@dataclass(frozen=True)
class ScatterPoint:
    x: float
    y: float
    label: str
    pareto: bool
    baseline: bool = False
    chosen: bool = False
    #: the x value's measured spread (p10–p90), drawn as a whisker: points whose whiskers overlap
    #: are not told apart by this measurement
    x_lo: float | None = None
    x_hi: float | None = None


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
    """Scatter of variants: Pareto-optimal filled, dominated hollow, baseline square, chosen ringed;
    each x spread (p10–p90) as a whisker; labels placed clear of the markers and of each other."""
    plot = QRectF(
        rect.left() + _pt(p, 58), rect.top() + _pt(p, 8), rect.width() - _pt(p, 70), rect.height() - _pt(p, 40)
    )
    if not points:
        _text(p, plot, "no measured variant to plot", Qt.AlignmentFlag.AlignCenter, font(8, italic=True), MUTED)
        return
    xa = axis_for([v for q in points for v in (q.x, q.x_lo, q.x_hi) if v is not None])
    ya = axis_for([q.y for q in points], allow_log=False)
    _frame(p, plot, xa, ya, xfmt, yfmt, xlabel, ylabel)

    def at(q: ScatterPoint) -> QPointF:
        return QPointF(plot.left() + xa.frac(q.x) * plot.width(), plot.bottom() - ya.frac(q.y) * plot.height())

    fs = font(6.5)
    fm = QFontMetricsF(fs, p.device())
    r = _pt(p, 3.2)
    ordered = sorted(points, key=lambda q: (q.pareto, q.chosen))
    for q in ordered:  # whiskers under every marker
        if q.x_lo is None or q.x_hi is None:
            continue
        c = at(q)
        lo = plot.left() + xa.frac(q.x_lo) * plot.width()
        hi = plot.left() + xa.frac(q.x_hi) * plot.width()
        p.setPen(QPen(QColor("#8a94a6"), _pt(p, 0.7)))
        p.drawLine(QPointF(lo, c.y()), QPointF(hi, c.y()))
        for x in (lo, hi):
            p.drawLine(QPointF(x, c.y() - r * 0.8), QPointF(x, c.y() + r * 0.8))
    # every marker's box is taken before any label is placed, so no label lands on a marker
    placed: list[QRectF] = [QRectF(at(q).x() - r * 2, at(q).y() - r * 2, r * 4, r * 4) for q in points]
    for q in ordered:
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
        # above the marker first: a label beside it would sit on its whisker
        for dx, dy in ((r * 1.5, -fm.height() - r * 1.2), (-w / 2, -fm.height() - r * 2.3), (r * 1.5, r * 1.2),
                       (-w / 2, r * 2.3), (r * 2.3, -fm.height() / 2), (-w - r * 2.3, -fm.height() / 2)):  # fmt: skip
            box = QRectF(c.x() + dx, c.y() + dy, w, fm.height())
            if box.right() <= rect.right() and box.left() >= plot.left() and not any(box.intersects(b) for b in placed):
                break
        placed.append(box)
        p.fillRect(box, QColor(255, 255, 255, 210))  # the label stays legible over a whisker or grid line
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


def draw_summary_bars(p: QPainter, rect: QRectF, items: Sequence[tuple[Any, ...]]) -> None:
    """Small multiples for the summary: per metric, baseline vs chosen as two bars scaled to the
    larger, each with its formatted value. items: (metric, baseline, chosen, unit text[, note]);
    a note (e.g. "≈ no measurable change" for a latency change inside the noise) replaces the
    "0.83× baseline" label, so a change the measurement cannot resolve never reads as one."""
    fs = font(7)
    fm = QFontMetricsF(fs, p.device())
    n = max(1, len(items))
    cell_w = rect.width() / n
    for i, item in enumerate(items):
        name, b, c = item[0], item[1], item[2]
        note = item[4] if len(item) > 4 else None
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
                note or f"{units.times(c / b)} baseline",
                Qt.AlignmentFlag.AlignHCenter,
                fs,
                INK,
            )
