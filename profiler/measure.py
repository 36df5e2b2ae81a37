"""Wall-clock timing with warm-up and adaptive repetition. Time is a dependency: pass `clock`.

Raw samples are kept; statistics are derived from them. Repetition stops when the median of
the samples is stable (the median of the last half is within `rel_tol` of the median of all)
or when the time budget is spent, whichever comes first, but never before `min_samples`.
When the budget is spent on a noisy or busy machine, sampling goes on up to `noisy_cap_s`
(more samples narrow the median's uncertainty); the conditions are recorded either way.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from .conditions import Conditions, ConditionsProbe, is_busy, spread_is_noisy
from .result import LatencyStats

#: A noisy measurement may run this many times its budget before it stops on time.
NOISY_BUDGET_FACTOR = 2.0


@dataclass(frozen=True)
class Timing:
    """Raw samples in milliseconds, why repetition stopped, and the machine's state meanwhile."""

    samples_ms: tuple[float, ...]
    warmup: int
    stopped_because: str  # "stable", "budget", "noisy-cap", "max_samples", "cancelled" or "interleaved"
    conditions: Conditions | None = None

    def stats(self) -> LatencyStats:
        stats = latency_stats(self.samples_ms)
        foreign = self.conditions.foreign_cpu_percent if self.conditions else None
        noisy = stats.noisy or is_busy(foreign)
        return LatencyStats(stats.median, stats.p10, stats.p90, stats.samples, cv=stats.cv, noisy=noisy)


def percentile(sorted_values: list[float], q: float) -> float:
    """Linear-interpolated percentile, q in [0, 100], of an already sorted list."""
    if not sorted_values:
        raise ValueError("no samples")
    if len(sorted_values) == 1:
        return sorted_values[0]
    pos = (len(sorted_values) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def coefficient_of_variation(samples: tuple[float, ...] | list[float]) -> float | None:
    """Standard deviation ÷ mean, or None for fewer than two samples."""
    if len(samples) < 2:
        return None
    mean = statistics.fmean(samples)
    return statistics.stdev(samples) / mean if mean > 0 else None


def latency_stats(samples_ms: tuple[float, ...] | list[float]) -> LatencyStats:
    """Median, p10, p90, count and spread of samples in milliseconds (noisy: too spread out)."""
    ordered = sorted(samples_ms)
    median, p10, p90 = (percentile(ordered, q) for q in (50, 10, 90))
    cv = coefficient_of_variation(ordered)
    return LatencyStats(
        median=round(median, 4),
        p10=round(p10, 4),
        p90=round(p90, 4),
        samples=len(ordered),
        cv=None if cv is None else round(cv, 4),
        noisy=len(ordered) >= 3 and spread_is_noisy(median, p10, p90, cv),
    )


def measure(
    fn: Callable[[], object],
    *,
    clock: Callable[[], float] = time.perf_counter,
    warmup: int = 3,
    min_samples: int = 10,
    max_samples: int = 500,
    budget_s: float = 3.0,
    rel_tol: float = 0.02,
    sync: Callable[[], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    min_time_s: float | None = None,
    noisy_cap_s: float | None = None,
) -> Timing:
    """Time `fn()` repeatedly; `clock` returns seconds, samples are kept in milliseconds.

    `sync` runs after each call before the clock is read (e.g. `torch.cuda.synchronize`).
    `should_stop` is polled between samples so a superseded run can stop early.
    Warm-up calls are not timed against the budget's sample count but do spend its time.
    A median is not called stable before `min_time_s` of samples (default: half the budget),
    so a noisy machine is sampled long enough, as torch.utils.benchmark's min_run_time does.
    A budget spent while the samples are noisy or the machine busy is extended up to
    `noisy_cap_s` (default NOISY_BUDGET_FACTOR × budget).
    """
    min_time = budget_s / 2 if min_time_s is None else min_time_s
    cap_s = NOISY_BUDGET_FACTOR * budget_s if noisy_cap_s is None else max(noisy_cap_s, budget_s)
    probe = ConditionsProbe()
    start = clock()
    for i in range(warmup):
        fn()
        if sync is not None:
            sync()
        if i >= 1 and clock() - start > budget_s / 3:
            break  # a slow model: two warm-up calls, or more would spend the budget before timing
    # Slow models (seconds per call) stop on the budget after a few samples, not min_samples.
    floor_samples = min(min_samples, 3)
    samples: list[float] = []
    reason = "max_samples"
    while len(samples) < max_samples:
        t0 = clock()
        fn()
        if sync is not None:
            sync()
        t1 = clock()
        samples.append((t1 - t0) * 1000.0)
        if should_stop is not None and should_stop():
            reason = "cancelled"
            break
        if len(samples) >= min_samples and t1 - start >= min_time and _stable(samples, rel_tol, min_samples):
            reason = "stable"
            break
        if len(samples) >= floor_samples and t1 - start >= budget_s:
            if t1 - start >= cap_s or not _noisy_so_far(samples, probe):
                reason = "budget" if t1 - start < cap_s or cap_s == budget_s else "noisy-cap"
                break
    if reason == "max_samples" and len(samples) >= min_samples and _stable(samples, rel_tol, min_samples):
        reason = "stable"  # the cap came first, but the median had settled
    return Timing(samples_ms=tuple(samples), warmup=warmup, stopped_because=reason, conditions=probe.stop())


def _noisy_so_far(samples: list[float], probe: ConditionsProbe) -> bool:
    """Whether more samples are worth their time: the spread is high or others load the machine."""
    if latency_stats(samples).noisy:
        return True
    return is_busy(probe.peek().foreign_cpu_percent)


def _stable(samples: list[float], rel_tol: float, min_samples: int) -> bool:
    # Compare the later half with the whole: a drifting median (warm caches, turbo) is not stable.
    half = samples[len(samples) // 2 :]
    whole = statistics.median(samples)
    if whole <= 0:
        return True
    return abs(statistics.median(half) - whole) / whole <= rel_tol and len(samples) >= 2 * min_samples
