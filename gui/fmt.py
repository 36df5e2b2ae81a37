"""The app's names for the number formats of `profiler.units` (the one place shared with the
terminal and the PDF): "1.82 G", "44.6 MiB", "41.7 ms". Qt-free (gui/state uses them);
gui/theme.py re-exports them next to the colours."""

from __future__ import annotations

from profiler import units


def fmt_count(n: float | None, unit: str = "") -> str:
    """Params, MACs, FLOPs: '11.7 M' (`profiler.units.count`)."""
    return units.count(n, unit)


def fmt_bytes(n: float | None) -> str:
    """'44.6 MiB' (`profiler.units.size_bytes`)."""
    return units.size_bytes(n)


def fmt_ms(ms: float | None) -> str:
    """A time in milliseconds in the unit that reads best: '47.4 µs', '1.93 ms', '2.60 s'."""
    return units.duration_ms(ms)


def fmt_usd(usd: float | None) -> str:
    """'$1,234', '$12.30', '$0.119', '$0.0000381' (`profiler.units.usd`)."""
    return units.usd(usd)


def fmt_ratio(r: float | None) -> str:
    """A variant ÷ baseline ratio as a signed change: 0.27 → '−73.0%', 2.0 → '+100%'."""
    return units.change(r)


def fmt_share(s: float | None, digits: int = 1) -> str:
    """A fraction as a percentage: '12.3%'."""
    return units.percent(s, digits)


def fmt_fidelity(cosine: float | None) -> str:
    """Output cosine vs baseline: '0.9987' (`profiler.units.fidelity`)."""
    return units.fidelity(cosine)
