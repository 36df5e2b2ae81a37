"""Number formats with units, one place for every view: "1.82 G", "44.6 MiB", "41.7 ms". Qt-free
(gui/state uses them); gui/theme.py re-exports them next to the colours."""

from __future__ import annotations

from profiler.table import human_bytes, human_count


def fmt_count(n: float | None, unit: str = "") -> str:
    return human_count(n, unit)


def fmt_bytes(n: float | None) -> str:
    return human_bytes(n)


def fmt_ms(ms: float | None) -> str:
    """Milliseconds with 3 significant figures and a sensible unit (µs below 1 ms, s above 10 s)."""
    if ms is None:
        return "—"
    if ms < 1.0:
        return f"{ms * 1000:.3g} µs"
    if ms >= 10_000:
        return f"{ms / 1000:.3g} s"
    return f"{ms:.3g} ms"


def fmt_usd(usd: float | None) -> str:
    if usd is None:
        return "—"
    if abs(usd) >= 1000:
        return f"${usd:,.0f}"
    if abs(usd) >= 1:
        return f"${usd:,.2f}"
    return f"${usd:.3g}"


def fmt_ratio(r: float | None) -> str:
    """A variant ÷ baseline ratio as a signed change: 0.27 → '−73 %', 2.0 → '+100 %'."""
    if r is None:
        return "—"
    change = (r - 1.0) * 100
    if abs(change) < 0.05:
        return "±0 %"
    sign = "+" if change > 0 else "−"
    return f"{sign}{abs(change):.3g} %"


def fmt_share(s: float | None) -> str:
    return "—" if s is None else f"{100 * s:.1f} %"
