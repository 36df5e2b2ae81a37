"""A variant's latency against the baseline's, measured as an experiment.

Timing the baseline now and the variant later compares two machines: turbo, other programs and
caches change in between. So both are timed in the same run, in alternating rounds (A B, then
B A, so a drift in time hits both equally), on the same inputs and threads, after warming both.
Each round gives one ratio, the variant's median call ÷ the baseline's; the estimate is the
median of the rounds' ratios and its interval is the distribution-free confidence interval of
a median from order statistics (the sign test's interval), which needs no assumption about the
shape of the noise. A change is called significant only when that interval excludes 1 and the
estimate is at least MIN_EFFECT (3 %) away from 1: smaller changes are below what wall-clock
timing on a CPU can attribute to the variant, and showing them would show noise as a gain or a loss.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass

from .codec import Record
from .conditions import Conditions, ConditionsProbe, is_busy
from .measure import NOISY_BUDGET_FACTOR, latency_stats
from .result import LatencyStats, Profile

#: Changes smaller than this (3 %) are reported as "no measurable change" even when consistent:
#: two copies of one model, timed alternately, differ by that much on a CPU just from where
#: their weights sit in memory (tests/bench/bench_measurement.py: up to 3 %, once 6 %, for a
#: 40 µs MLP; under 1.5 % for ResNet-18), so a smaller change cannot be put on the variant.
MIN_EFFECT = 0.03
CONFIDENCE = 0.95
MIN_ROUNDS = 10  # rounds before stopping on time; the interval needs at least 6 for 95 %
MIN_ROUNDS_SLOW = 6  # for a model whose 10 rounds would overrun the budget (a call of seconds)
MAX_ROUNDS = 400
ROUND_TARGET_S = 0.02  # each side's block of calls in one round lasts about this long


@dataclass(frozen=True)
class RatioEstimate(Record):
    """variant ÷ baseline, with its confidence interval; `significant` as defined above."""

    __document__ = "ratio"

    value: float
    ci_low: float
    ci_high: float
    significant: bool
    confidence: float = CONFIDENCE
    rounds: int = 0

    def inverse(self) -> RatioEstimate:
        """baseline ÷ variant (throughput from latency): the interval's ends swap."""
        return RatioEstimate(
            value=round(1 / self.value, 6),
            ci_low=round(1 / self.ci_high, 6),
            ci_high=round(1 / self.ci_low, 6),
            significant=self.significant,
            confidence=self.confidence,
            rounds=self.rounds,
        )

    @classmethod
    def identity(cls) -> RatioEstimate:
        """The baseline against itself: exactly 1, nothing measured."""
        return cls(1.0, 1.0, 1.0, False, CONFIDENCE, 0)


@dataclass(frozen=True)
class Comparison(Record):
    """One interleaved experiment: both sides' latency in it, and the machine's state."""

    __document__ = "comparison"

    baseline_ms: LatencyStats
    variant_ms: LatencyStats
    rounds: int
    calls_per_round: int
    foreign_cpu_percent: float | None
    cpu_mhz: float | None
    noisy: bool
    method: str = "interleaved rounds (A B / B A), order-statistic interval of the per-round median ratios"


@dataclass(frozen=True)
class Interleaved:
    """Raw result of `interleave`: per-call samples of each side and one ratio per round."""

    baseline_samples_ms: tuple[float, ...]
    variant_samples_ms: tuple[float, ...]
    round_ratios: tuple[float, ...]
    calls_per_round: int
    conditions: Conditions  # the machine's other load and clock over the rounds
    cancelled: bool = False


def median_interval(values: list[float], confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """(low, high, achieved confidence) of the median of `values`, from order statistics.

    The interval [x_(k), x_(n-k+1)] covers the median with probability 1 - 2·P(Bin(n, ½) < k);
    k is the largest that keeps that at or above `confidence` (with too few values the widest
    interval, min to max, and the confidence it has)."""
    xs = sorted(values)
    n = len(xs)
    if n == 0:
        raise ValueError("no values")
    cdf = [0.0] * (n + 1)  # cdf[k] = P(Bin(n, 1/2) < k)
    acc = 0.0
    for i in range(n + 1):
        cdf[i] = acc
        acc += math.comb(n, i) / 2**n
    k = 1
    while k + 1 <= (n + 1) // 2 and 1 - 2 * cdf[k + 1] >= confidence:
        k += 1
    return xs[k - 1], xs[n - k], 1 - 2 * cdf[k]


def estimate(round_ratios: list[float] | tuple[float, ...]) -> RatioEstimate:
    """The ratio and its interval from the rounds' ratios (variant ÷ baseline)."""
    ratios = list(round_ratios)
    value = statistics.median(ratios)
    low, high, achieved = median_interval(ratios)
    excludes_one = high < 1.0 or low > 1.0
    return RatioEstimate(
        value=round(value, 6),
        ci_low=round(low, 6),
        ci_high=round(high, 6),
        significant=excludes_one and abs(value - 1.0) >= MIN_EFFECT,
        confidence=round(achieved, 4),
        rounds=len(ratios),
    )


def interleave(
    run_baseline: Callable[[], object],
    run_variant: Callable[[], object],
    *,
    budget_s: float = 3.0,
    clock: Callable[[], float] = time.perf_counter,
    sync: Callable[[], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> Generator[tuple[float, str], None, Interleaved]:
    """Alternate the two in rounds until `budget_s` is spent (longer, up to NOISY_BUDGET_FACTOR
    times, when the machine is busy or the ratios spread); yields (fraction, message) per round."""

    def timed(fn: Callable[[], object]) -> float:
        t0 = clock()
        fn()
        if sync is not None:
            sync()
        return clock() - t0

    start = clock()
    # Warm both (allocations, kernel choice, caches); the last warm call sizes the rounds.
    warm = [0.0, 0.0]
    for _ in range(2):
        warm = [timed(run_baseline), timed(run_variant)]
    slowest = max(warm[0], warm[1], 1e-6)
    calls = max(1, min(50, int(ROUND_TARGET_S / slowest)))
    min_rounds = MIN_ROUNDS if 2 * MIN_ROUNDS * calls * slowest <= budget_s else MIN_ROUNDS_SLOW
    probe = ConditionsProbe()
    base_all: list[float] = []
    var_all: list[float] = []
    ratios: list[float] = []
    cap_s = NOISY_BUDGET_FACTOR * budget_s
    cancelled = False
    while len(ratios) < MAX_ROUNDS:
        order = (0, 1) if len(ratios) % 2 == 0 else (1, 0)  # A B, then B A: drift hits both
        block: list[list[float]] = [[], []]
        for side in order:
            fn = run_baseline if side == 0 else run_variant
            block[side] = [timed(fn) * 1000.0 for _ in range(calls)]
        b, v = statistics.median(block[0]), statistics.median(block[1])
        base_all += block[0]
        var_all += block[1]
        ratios.append(v / b if b > 0 else 1.0)
        elapsed = clock() - start
        # done when both the time and the fewest rounds are spent: the slower of the two paces it
        done = min(1.0, elapsed / budget_s, len(ratios) / min_rounds)
        more = " (more rounds: the timing is noisy)" if done >= 1.0 else ""
        yield done, f"comparing with the baseline: round {len(ratios)}{more}"
        if should_stop():
            cancelled = True
            break
        if len(ratios) < min_rounds or elapsed < budget_s:
            continue
        if elapsed >= cap_s or not _worth_more(ratios, probe):
            break
    conditions = probe.stop()
    return Interleaved(
        baseline_samples_ms=tuple(base_all),
        variant_samples_ms=tuple(var_all),
        round_ratios=tuple(ratios),
        calls_per_round=calls,
        conditions=conditions,
        cancelled=cancelled,
    )


def _worth_more(ratios: list[float], probe: ConditionsProbe) -> bool:
    """More rounds narrow the interval when the machine is busy or the rounds disagree widely."""
    low, high, _ = median_interval(ratios)
    return is_busy(probe.peek().foreign_cpu_percent) or (high - low) > 0.1 * statistics.median(ratios)


def summarize(run: Interleaved) -> tuple[RatioEstimate, Comparison]:
    """The latency ratio and the comparison record of one interleaved run."""
    ratio = estimate(run.round_ratios)
    base = latency_stats(run.baseline_samples_ms)
    var = latency_stats(run.variant_samples_ms)
    noisy = base.noisy or var.noisy or is_busy(run.conditions.foreign_cpu_percent)
    comparison = Comparison(
        baseline_ms=LatencyStats(base.median, base.p10, base.p90, base.samples, base.cv, noisy),
        variant_ms=LatencyStats(var.median, var.p10, var.p90, var.samples, var.cv, noisy),
        rounds=len(run.round_ratios),
        calls_per_round=run.calls_per_round,
        foreign_cpu_percent=run.conditions.foreign_cpu_percent,
        cpu_mhz=run.conditions.cpu_mhz,
        noisy=noisy,
    )
    return ratio, comparison


def baseline_stale(base: Profile, comparison: Comparison) -> str | None:
    """Why the cached baseline no longer describes the machine, or None when it still does."""
    lat = base.totals.latency_ms
    env = base.environment
    before = env.foreign_cpu_percent if env else None
    if is_busy(before) != is_busy(comparison.foreign_cpu_percent):
        return f"other programs' CPU use went from {_pct(before)} to {_pct(comparison.foreign_cpu_percent)}"
    mhz = env.cpu_mhz if env else None
    if mhz and comparison.cpu_mhz and abs(comparison.cpu_mhz - mhz) / mhz > 0.1:
        return f"the CPU clock went from {mhz:.0f} to {comparison.cpu_mhz:.0f} MHz"
    now = comparison.baseline_ms.median
    if lat is not None and not 0.9 * lat.p10 <= now <= 1.1 * lat.p90:
        return f"its median moved from {lat.median:.4g} to {now:.4g} ms, outside its earlier p10–p90"
    return None


def _pct(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.0f} %"
