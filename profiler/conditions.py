"""The machine's state while something is timed: other processes' CPU use and the CPU clock.

A measurement taken while other programs compete for the cores is slower and more spread out
than one taken on a quiet machine. `ConditionsProbe` reads the machine's and this process's CPU
times (psutil) at the start and the end of a timing; the difference is what everything else on
the machine used meanwhile, as a percentage of all cores' capacity.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

#: Other processes using more than this share of the machine make a timing "busy" (a desktop at
#: rest uses a few percent; one other busy thread on a 2-core machine is 50 %).
BUSY_FOREIGN_CPU_PERCENT = 20.0
#: Samples whose coefficient of variation exceeds this are too spread to resolve small changes.
NOISY_CV = 0.10
#: … and the same for the p10–p90 range relative to the median.
NOISY_SPREAD = 0.25


@dataclass(frozen=True)
class Conditions:
    """What the machine did during one timing."""

    foreign_cpu_percent: float | None  # other processes, % of all cores; None when unreadable
    cpu_mhz: float | None  # current clock where the OS exposes it (often not on VMs)
    wall_s: float


class ConditionsProbe:
    """Start before timing, `stop()` after: the machine's other load in between (`peek()` meanwhile)."""

    def __init__(self) -> None:
        self._t0 = time.monotonic()
        self._busy0, self._own0 = _cpu_seconds()

    def peek(self) -> Conditions:
        """The conditions from the start until now (the probe keeps running)."""
        wall = time.monotonic() - self._t0
        busy1, own1 = _cpu_seconds()
        foreign: float | None = None
        if self._busy0 is not None and busy1 is not None and wall > 0:
            cores = os.cpu_count() or 1
            other_s = (busy1 - self._busy0) - (own1 - self._own0)
            foreign = round(max(0.0, min(100.0, 100.0 * other_s / (wall * cores))), 1)
        return Conditions(foreign_cpu_percent=foreign, cpu_mhz=cpu_mhz(), wall_s=wall)

    stop = peek  # reading twice is harmless: the probe holds only its starting point


def _cpu_seconds() -> tuple[float | None, float]:
    """(busy CPU seconds of the whole machine, CPU seconds of this process and its children)."""
    own = sum(os.times()[:4])
    try:
        import psutil

        t = psutil.cpu_times()
        idle = t.idle + getattr(t, "iowait", 0.0)
        # guest time is already inside user time on Linux; steal is another VM's use of our cores
        total = sum(getattr(t, f) for f in t._fields if f not in ("guest", "guest_nice"))
        return total - idle, own
    except Exception:  # psutil missing or /proc unreadable: the load stays unknown, not zero
        return None, own


def cpu_mhz() -> float | None:
    """The CPU's current clock in MHz, or None when the OS does not say (containers, some VMs)."""
    try:
        import psutil

        freq = psutil.cpu_freq()
    except Exception:
        return None
    if freq is None or not freq.current:
        return None
    return round(float(freq.current), 0)


def is_busy(foreign_cpu_percent: float | None) -> bool:
    return foreign_cpu_percent is not None and foreign_cpu_percent > BUSY_FOREIGN_CPU_PERCENT


def spread_is_noisy(median: float, p10: float, p90: float, cv: float | None) -> bool:
    """True when the samples are too spread out for a few-percent difference to show."""
    if median <= 0:
        return False
    return (cv is not None and cv > NOISY_CV) or (p90 - p10) / median > NOISY_SPREAD


def noise_warning(median: float, p10: float, p90: float, foreign_cpu_percent: float | None) -> str:
    """One line for the app and the report: "machine busy: figures ±35 %" or "noisy: …"."""
    half_range = 50.0 * (p90 - p10) / median if median > 0 else 0.0
    # Beyond ±100 % a percentage reads oddly; the p90 as a multiple of the median says it plainly.
    spread = f"figures ±{half_range:.0f} %" if half_range <= 100 else f"p90 is {p90 / median:.0f}× the median"
    if is_busy(foreign_cpu_percent):
        return f"machine busy (other programs used {foreign_cpu_percent:.0f} % of the CPU): {spread}"
    return f"noisy timing: {spread}"
