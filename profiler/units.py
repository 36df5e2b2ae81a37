"""Numbers for people: the one place that turns a measured, counted or projected number into text.

Used by the terminal tables (profiler/table.py, profiler/sweep.py, planner/render.py), the app
(gui/fmt.py, gui/models, gui/widgets, gui/charts) and the PDF (gui/report/fmt.py), so the same
number reads the same everywhere. Qt-free and import-light (only `math`). JSON and CSV never go
through here: documents keep exact numbers.

Rules (docs/CONTRACT.md: units are in field names, sizes in bytes):

- 3 significant digits, trailing zeros kept (`2.60 s`, `1.00 ms`), plain decimal notation with
  thousands separators — never scientific notation for ordinary sizes.
- durations pick ns / µs / ms / s after rounding (999.96 µs reads `1.00 ms`, not `1,000 µs`);
  beyond 1,000 s they stay in seconds with separators (`2,600 s`), see `hours` for long jobs.
- counts (params, MACs, FLOPs, tokens) use decimal SI prefixes k M G T P E (`11.7 M`, `1.81 G`);
  whole numbers under 1,000 are shown as they are (`512`).
- sizes use binary prefixes KiB MiB GiB TiB (`44.6 MiB`); under 1 KiB whole bytes (`512 B`).
- percentages `12.3%`; changes against a baseline `−73%`, `+100%`, `±0%`; ratios `0.440×`.
- money: `$1,234` (≥ $1,000), `$12.30` (≥ $1), `$0.119` and `$0.0000381` below (3 significant
  digits, plain decimals), and `< $0.000001` below one millionth of a dollar: a non-zero cost
  never reads as `$0`. `usd(1028, per="/month")` → `$1,028/month`.
- the minus sign is U+2212 (`−`); a missing value is an em dash (`—`).
"""

from __future__ import annotations

import math
from typing import Any

__all__ = [
    "DASH",
    "MINUS",
    "sig",
    "number",
    "duration_ms",
    "duration_s",
    "hours",
    "count",
    "size_bytes",
    "percent",
    "change",
    "times",
    "speed_change",
    "noise_note",
    "spread_ms",
    "usd",
    "throughput",
    "fidelity",
    "axis_tick",
]

DASH = "—"
MINUS = "−"

#: money below this reads "< $0.000001"
USD_FLOOR = 1e-6

_SI = ((1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))
_BINARY = ((2**50, "PiB"), (2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB"))


def _round_sig(value: float, digits: int) -> float:
    """`value` rounded to `digits` significant digits (so the unit can be chosen after rounding)."""
    if value == 0 or not math.isfinite(value):
        return value
    exp = math.floor(math.log10(abs(value)))
    return round(value, digits - 1 - exp)


def sig(value: float, digits: int = 3) -> str:
    """`value` to `digits` significant digits in plain decimal notation with thousands separators
    and trailing zeros kept: 0.0474 → '0.0474', 2.6 → '2.60', 1234.5 → '1,235'; negative numbers
    use '−'. NaN and infinities are spelled out ('nan', '∞')."""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return ("" if value > 0 else MINUS) + "∞"
    if value == 0:
        return "0"
    v = _round_sig(abs(value), digits)
    exp = math.floor(math.log10(v))
    decimals = max(0, digits - 1 - exp)
    return ("" if value > 0 else MINUS) + f"{v:,.{decimals}f}"


def number(value: float | None, digits: int = 3) -> str:
    """A plain number: whole numbers exactly with separators (50, 1,000,000), others to `digits`
    significant digits ('0.125', '3.14'). Huge non-integral values also stay plain."""
    if value is None:
        return DASH
    if isinstance(value, int) or (math.isfinite(value) and float(value).is_integer() and abs(value) < 1e15):
        text = f"{abs(int(value)):,}"
        return text if value >= 0 else MINUS + text
    return sig(value, digits)


def _scaled(value: float, steps: tuple[tuple[float, str], ...], digits: int) -> tuple[float, str] | None:
    """The (value in unit, prefix) of the largest step that the rounded value reaches."""
    mag = abs(value)
    for factor, prefix in steps:
        if _round_sig(mag / factor, digits) >= 1 and mag >= factor * 0.9995:
            return value / factor, prefix
    return None


def count(n: float | None, unit: str = "", digits: int = 3) -> str:
    """Params, MACs, FLOPs, tokens with decimal SI prefixes: 11_689_512 → '11.7 M',
    1.814e9 with unit 'MAC' → '1.81 GMAC', 512 → '512'."""
    if n is None:
        return DASH
    scaled = _scaled(float(n), _SI, digits)
    if scaled is None:
        text = number(n, digits)
        return f"{text} {unit}" if unit else text
    v, prefix = scaled
    return f"{sig(v, digits)} {prefix}{unit}"


def size_bytes(n: float | None, digits: int = 3) -> str:
    """Bytes with binary prefixes: 46_758_048 → '44.6 MiB', 512 → '512 B'."""
    if n is None:
        return DASH
    scaled = _scaled(float(n), _BINARY, digits)
    if scaled is None:
        return f"{number(round(n))} B"
    v, prefix = scaled
    return f"{sig(v, digits)} {prefix}"


def duration_ms(ms: float | None, digits: int = 3) -> str:
    """A time given in milliseconds, in the unit that reads best: 0.0474 → '47.4 µs',
    1.93 → '1.93 ms', 2600 → '2.60 s', 0.00052 → '520 ns'."""
    if ms is None:
        return DASH
    if not math.isfinite(ms):
        return f"{sig(ms)} ms"
    if ms == 0:
        return "0 ms"
    r = _round_sig(abs(ms), digits)
    if r >= 1000:
        return f"{sig(ms / 1000, digits)} s"
    if r >= 1:
        return f"{sig(ms, digits)} ms"
    if r >= 1e-3:
        return f"{sig(ms * 1e3, digits)} µs"
    return f"{sig(ms * 1e6, digits)} ns"


def duration_s(seconds: float | None, digits: int = 3) -> str:
    """A time given in seconds (see `duration_ms`)."""
    return DASH if seconds is None else duration_ms(seconds * 1000, digits)


def hours(h: float | None) -> str:
    """A long projected time given in hours: '31.0 h', '12.5 days' past 72 h, seconds under a minute."""
    if h is None:
        return DASH
    if h >= 72:
        return f"{sig(h / 24)} days"
    if h >= 1 / 60:
        return f"{sig(h)} h"
    return duration_s(h * 3600)


def percent(fraction: float | None, digits: int = 1) -> str:
    """A share given as a fraction: 0.123 → '12.3%' (`digits` decimals)."""
    if fraction is None:
        return DASH
    text = f"{100 * abs(fraction):.{digits}f}%"
    return MINUS + text if fraction < 0 and float(text[:-1]) != 0 else text


def change(ratio: float | None) -> str:
    """A variant ÷ baseline ratio as a signed change: 0.27 → '−73%', 2.0 → '+100%', 1.0 → '±0%'."""
    if ratio is None:
        return DASH
    pct = (ratio - 1.0) * 100
    if abs(pct) < 0.05:
        return "±0%"
    return ("+" if pct > 0 else MINUS) + f"{sig(abs(pct))}%"


def times(ratio: float | None, digits: int = 3) -> str:
    """A ratio: 0.44 → '0.440×', 12.0 → '12.0×'."""
    return DASH if ratio is None else f"{sig(ratio, digits)}×"


NO_CHANGE = "≈ no measurable change"


def _factor(x: float) -> str:
    # 2 decimals near 1 (1.03×), 2 significant digits above (1.8×, 12×): the interval shows the rest
    return f"{x:.2f}" if x < 1.1 else sig(x, 2)


def speed_change(ratio: Any, *, kind: str = "latency") -> str:
    """A measured ratio (a `comparison.RatioEstimate`, variant ÷ baseline) as a user reads it:
    '1.8× faster (1.6–2.0×)', '1.3× slower (1.2–1.4×)', '1.8× more throughput (1.6–2.0×)', or
    '≈ no measurable change' when the interval spans 1 (or the change is below MIN_EFFECT, 3 %).
    `kind` is "latency" (lower is better) or "throughput" (higher is better)."""
    if ratio is None:
        return DASH
    if not ratio.significant:
        return NO_CHANGE
    value, low, high = ratio.value, ratio.ci_low, ratio.ci_high
    gain = value < 1.0 if kind == "latency" else value > 1.0
    if value < 1.0:  # express as a factor above 1 and swap the interval's ends
        value, low, high = 1 / value, 1 / high, 1 / low
    words = {
        ("latency", True): "faster",
        ("latency", False): "slower",
        ("throughput", True): "more throughput",
        ("throughput", False): "less throughput",
    }[(kind, gain)]
    return f"{_factor(value)}× {words} ({_factor(low)}–{_factor(high)}×)"


def noise_note(stats: Any, foreign_cpu_percent: float | None = None) -> str:
    """'' for a quiet measurement; else the warning shown beside its numbers, e.g. 'machine busy
    (other programs used 48 % of the CPU): figures ±35 %'. `stats` is a LatencyStats."""
    if stats is None or not stats.noisy:
        return ""
    from .conditions import noise_warning

    return noise_warning(stats.median, stats.p10, stats.p90, foreign_cpu_percent)


def spread_ms(stats: Any) -> str:
    """p10–p90 of a LatencyStats: '40.9–43.8 ms'."""
    if stats is None:
        return DASH
    low, high = duration_ms(stats.p10), duration_ms(stats.p90)
    unit_low, unit_high = low.split(" ")[-1], high.split(" ")[-1]
    if unit_low == unit_high:
        low = low.rsplit(" ", 1)[0]
    return f"{low}–{high}"


def usd(value: float | None, *, per: str = "") -> str:
    """US dollars: '$1,234', '$12.30', '$0.119', '$0.0000381', '< $0.000001', '−$5.00';
    `per` is appended ('/month' → '$1,028/month'; ' per hour' → '$2.10 per hour')."""
    if value is None:
        return DASH
    sign = MINUS if value < 0 else ""
    v = abs(value)
    if not math.isfinite(v):
        text = "$" + sig(v)
    elif v == 0:
        text = "$0"
    elif v < USD_FLOOR:
        text = "< $0.000001"
    elif _round_sig(v, 3) >= 1000:
        text = f"${v:,.0f}"
    elif _round_sig(v, 3) >= 1:
        text = f"${v:,.2f}"
    else:
        text = "$" + sig(v, 3)
    return sign + text + per


def throughput(per_s: float | None, unit: str = "/s") -> str:
    """A rate: 1234.5 inferences/s → '1.23 k/s'; 12.5 → '12.5/s'."""
    if per_s is None:
        return DASH
    return f"{count(per_s)}{unit}"


def fidelity(cosine: float | None) -> str:
    """Output cosine against the baseline with 4 decimals ('0.9987'): 3 significant digits would
    round 0.9987 to 1.00 and hide the loss. Never reads '1.0000' unless it is exactly 1."""
    if cosine is None:
        return DASH
    text = f"{cosine:.4f}"
    if text == "1.0000" and cosine < 1.0:
        return "> 0.9999"
    return text


def axis_tick(value: float, spacing: float) -> str:
    """A chart's axis number, as many decimals as the tick spacing needs and never scientific
    notation: (0.00015, 0.00005) → '0.00015', (1500, 500) → '1,500', (0.25, 0.05) → '0.25'."""
    if spacing <= 0 or not math.isfinite(spacing) or not math.isfinite(value):
        return sig(value)
    places = max(0, math.ceil(-math.log10(spacing) - 1e-9))
    text = f"{abs(value):,.{places}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if value < 0 and text.strip("0.,") != "":
        text = MINUS + text
    return text
