"""Number formatting for the report: the report's names for `profiler.units` (the one place the
terminal, the app and the PDF share), so a number reads the same in all three. Qt-free."""

from __future__ import annotations

from typing import Any

from gui import measured_change
from profiler import units
from profiler.table import human_bytes, human_count

__all__ = [
    "human_bytes",
    "human_count",
    "usd",
    "ms",
    "pct",
    "ratio",
    "num",
    "value",
    "saved_pct",
    "hours",
    "fidelity",
    "spread",
    "speed_change",
    "noise",
    "DASH",
]

DASH = units.DASH


def usd(value: float | None, *, per: str = "") -> str:
    """$1,234 · $12.30 · $0.123 · $0.0000381 · < $0.000001; `per` follows after a space
    ('per month' → '$1,028 per month')."""
    return units.usd(value, per=f" {per}" if per else "")


def ms(value: float | None, digits: int = 3) -> str:
    """A time given in milliseconds, in the unit that reads best: `41.7 ms`, `47.4 µs`, `2.60 s`."""
    return units.duration_ms(value, digits)


def num(value: float | None, digits: int = 3) -> str:
    """3 significant digits in plain decimals; whole numbers exactly with separators (50, 1,000,000)."""
    return units.number(value, digits)


def value(v: object) -> str:
    """Any assumption value as text: numbers by `num`, booleans yes/no, dicts as k v pairs."""
    if v is None:
        return DASH
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        # assumptions are inputs: up to 4 significant digits, read as typed (0.6, not 0.6000)
        text = units.number(v, 4)
        return text.rstrip("0").rstrip(".") if "." in text else text
    if isinstance(v, dict):
        return ", ".join(f"{k} {value(x)}" for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return ", ".join(value(x) for x in v) or DASH
    return str(v)


def hours(value: float | None) -> str:
    """Hours, switching to days past 72 h and to seconds under a minute."""
    return units.hours(value)


def pct(fraction: float | None, digits: int = 1) -> str:
    return units.percent(fraction, digits)


def saved_pct(fraction: float | None) -> str:
    """A saving as a signed percentage: `−42.0%` (cheaper) or `+8.0%` (dearer)."""
    if fraction is None:
        return DASH
    change = -fraction
    sign = "+" if change > 0 else ("−" if change < 0 else "±")
    return f"{sign}{abs(100 * change):.1f}%"


def ratio(value: float | None) -> str:
    """A variant ÷ baseline ratio: `0.440×`."""
    return units.times(value)


def fidelity(cosine: float | None) -> str:
    """Output cosine vs baseline: `0.9987`."""
    return units.fidelity(cosine)


def spread(stats: Any) -> str:
    """p10–p90 of a LatencyStats: `40.9–43.8 ms` (`—` when not timed)."""
    return units.spread_ms(stats)


def speed_change(result: Any, reference_batch: int | None = None) -> str:
    """A variant's measured latency change against the baseline at its batch: `1.8× faster
    (1.6–2.0×)`, `≈ no measurable change`, `baseline` (`gui.measured_change.latency_change`)."""
    return measured_change.latency_change(result, reference_batch)


def noise(result: Any) -> str:
    """`machine busy (other programs used 48 % of the CPU): figures ±35 %`, or '' when quiet."""
    return measured_change.noise_warning(result)
