"""Number formatting for the report: units always, aligned digits, no scientific notation a
manager has to decode (except for truly extreme values). Qt-free."""

from __future__ import annotations

import math

from profiler.table import human_bytes, human_count

__all__ = ["human_bytes", "human_count", "usd", "ms", "pct", "ratio", "num", "value", "saved_pct", "hours"]

DASH = "—"


def _sig(value: float, digits: int = 3) -> str:
    """`value` to `digits` significant digits, plain decimal notation."""
    if value == 0:
        return "0"
    exp = math.floor(math.log10(abs(value)))
    decimals = max(0, digits - 1 - exp)
    return f"{value:,.{decimals}f}"


def usd(value: float | None, *, per: str = "") -> str:
    """$1,234 · $12.30 · $0.123 · $0.000180 · $1.2e-08 (tiny values keep 3 significant digits)."""
    if value is None:
        return DASH
    sign = "−" if value < 0 else ""
    v = abs(value)
    if v >= 1000:
        text = f"{v:,.0f}"
    elif v >= 1:
        text = f"{v:,.2f}"
    elif v == 0:
        text = "0"
    elif v >= 1e-6:
        text = _sig(v, 3)
    else:
        text = f"{v:.2e}"
    return f"{sign}${text}" + (f" {per}" if per else "")


def ms(value: float | None, digits: int = 3) -> str:
    """Milliseconds with 3 significant digits: `41.7 ms`, `0.0474 ms`."""
    if value is None:
        return DASH
    return f"{_sig(value, digits)} ms" if value < 1e6 else f"{value:.3g} ms"


def num(value: float | None, digits: int = 3) -> str:
    """3 significant digits; whole numbers as integers with thousands separators (50, 1,000,000)."""
    if value is None:
        return DASH
    if value != 0 and (abs(value) >= 1e9 or abs(value) < 1e-6):
        return f"{value:.{digits - 1}e}"
    if float(value).is_integer():
        return f"{int(value):,}"
    return _sig(value, digits)


def value(v: object) -> str:
    """Any assumption value as text: numbers by `num`, booleans yes/no, dicts as k v pairs."""
    if v is None:
        return DASH
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return num(v) if v.is_integer() or abs(v) >= 1e6 or abs(v) < 1e-4 else f"{v:.4g}"
    if isinstance(v, dict):
        return ", ".join(f"{k} {value(x)}" for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return ", ".join(value(x) for x in v) or DASH
    return str(v)


def hours(value: float | None) -> str:
    """Hours, switching to days past 72 h and to seconds under a minute."""
    if value is None:
        return DASH
    if value >= 72:
        return f"{_sig(value / 24)} days"
    if value >= 1 / 60:
        return f"{_sig(value)} h"
    return f"{_sig(value * 3600)} s"


def pct(fraction: float | None, digits: int = 1) -> str:
    if fraction is None:
        return DASH
    return f"{100 * fraction:.{digits}f}%"


def saved_pct(fraction: float | None) -> str:
    """A saving as a signed percentage: `−42.0%` (cheaper) or `+8.0%` (dearer)."""
    if fraction is None:
        return DASH
    change = -fraction
    sign = "+" if change > 0 else ("−" if change < 0 else "±")
    return f"{sign}{abs(100 * change):.1f}%"


def ratio(value: float | None) -> str:
    """A variant ÷ baseline ratio: `0.44×`."""
    if value is None:
        return DASH
    return f"{value:.3g}×"
