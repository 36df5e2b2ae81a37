"""Shared pieces of the report's figures: point sizes, text, axis ticks and the plot frame (gui.report.figures)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen

from profiler import units

from .layout import INK, MUTED, RULE, font


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
        fl = font(7.5, bold=True)
        if QFontMetricsF(fl, p.device()).horizontalAdvance(ylabel) <= plot.height():
            band = QRectF(-plot.height() / 2, -fm.height(), plot.height(), fm.height() * 1.2)
            flags = Qt.AlignmentFlag.AlignHCenter
        else:  # a short plot (a figure squeezed to keep its page): the label on two lines, not cut
            band = QRectF(-plot.height() / 2, -fm.height() * 1.3, plot.height(), fm.height() * 2.6)
            flags = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextWordWrap
        _text(p, band, ylabel, flags, fl, INK)
        p.restore()
