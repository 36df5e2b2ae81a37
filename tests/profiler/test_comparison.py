"""Interleaved comparisons: the interval, significance, the rounds' order, noise and budget."""

from __future__ import annotations

import random

import pytest

from profiler import units
from profiler.comparison import (
    MIN_EFFECT,
    RatioEstimate,
    estimate,
    interleave,
    median_interval,
    summarize,
)
from profiler.measure import NOISY_BUDGET_FACTOR, latency_stats, measure


def drain(gen):  # type: ignore[no-untyped-def]
    """Run a generator to its end; return (yielded values, return value)."""
    seen = []
    while True:
        try:
            seen.append(next(gen))
        except StopIteration as done:
            return seen, done.value


def test_median_interval_uses_the_order_statistics_of_the_sign_test() -> None:
    values = [float(v) for v in range(1, 11)]  # n = 10: [x(2), x(9)] covers the median with 97.85 %
    low, high, confidence = median_interval(values)
    assert (low, high) == (2.0, 9.0)
    assert confidence == pytest.approx(1 - 22 / 1024)
    low, high, confidence = median_interval([3.0, 1.0, 2.0, 5.0, 4.0])  # too few for 95 %: min..max
    assert (low, high) == (1.0, 5.0)
    assert confidence == pytest.approx(1 - 2 / 32)


def test_a_clear_speedup_is_significant_and_its_interval_holds_the_value() -> None:
    rng = random.Random(1)
    ratios = [0.5 * rng.uniform(0.95, 1.05) for _ in range(20)]
    r = estimate(ratios)
    assert r.significant
    assert r.ci_low <= r.value <= r.ci_high < 1
    assert r.value == pytest.approx(0.5, rel=0.06)
    assert units.speed_change(r).endswith("×)") and "faster" in units.speed_change(r)
    assert "more throughput" in units.speed_change(r.inverse(), kind="throughput")


def test_an_interval_spanning_one_or_a_tiny_change_is_no_measurable_change() -> None:
    spanning = estimate([0.9, 1.1, 0.95, 1.05, 0.98, 1.02, 0.97, 1.04, 1.0, 0.99])
    assert spanning.ci_low < 1 < spanning.ci_high and not spanning.significant
    tiny = estimate([1.0 + MIN_EFFECT / 2 + 1e-4 * i for i in range(12)])  # consistent, but below 3 %
    assert tiny.ci_low > 1 and not tiny.significant
    assert units.speed_change(spanning) == units.NO_CHANGE == units.speed_change(tiny)


def test_identical_noise_is_rarely_called_a_change() -> None:
    # Same distribution on both sides, heavy-tailed noise: the interval must cover 1 at ~95 %.
    rng = random.Random(7)
    trials = 400
    false_positives = 0
    for _ in range(trials):
        ratios = [rng.lognormvariate(0, 0.2) / rng.lognormvariate(0, 0.2) for _ in range(12)]
        false_positives += estimate(ratios).significant
    assert false_positives / trials <= 0.05


class FakeMachine:
    """A clock that each call advances by its model's cost (ms), recording the call order."""

    def __init__(self, jitter: float = 0.0, seed: int = 3, drift_per_s: float = 0.0) -> None:
        self.now = 0.0
        self.drift_per_s = drift_per_s  # relative slow-down per second (turbo ending, a busy neighbour)
        self.order: list[str] = []
        self.rng = random.Random(seed)
        self.jitter = jitter

    def clock(self) -> float:
        return self.now

    def model(self, name: str, cost_ms: float):  # type: ignore[no-untyped-def]
        def run() -> None:
            self.order.append(name)
            scale = (1 + self.rng.uniform(-self.jitter, self.jitter)) * (1 + self.drift_per_s * self.now)
            self.now += cost_ms / 1000 * scale

        return run


def test_rounds_alternate_both_orders_and_recover_the_true_ratio() -> None:
    m = FakeMachine(jitter=0.05)
    events, run = drain(interleave(m.model("A", 10), m.model("B", 5), budget_s=1.0, clock=m.clock))
    assert events and events[-1][0] == pytest.approx(1.0, abs=0.05)
    assert "round" in events[0][1]
    ratio, comparison = summarize(run)
    assert ratio.value == pytest.approx(0.5, rel=0.05) and ratio.significant
    assert comparison.baseline_ms.median == pytest.approx(10, rel=0.06)
    assert comparison.variant_ms.median == pytest.approx(5, rel=0.06)
    assert comparison.rounds == len(run.round_ratios) >= 10
    # After the 4 warm-up calls, blocks go A…B then B…A: each side leads half the rounds.
    timed = m.order[4:]
    k = run.calls_per_round
    firsts = [timed[i * 2 * k] for i in range(comparison.rounds)]
    assert firsts.count("A") == firsts.count("B") or abs(firsts.count("A") - firsts.count("B")) == 1
    assert firsts[:2] == ["A", "B"]


def test_a_slow_model_gets_fewer_rounds_than_a_fast_one_but_enough_for_an_interval() -> None:
    m = FakeMachine()
    _, run = drain(interleave(m.model("A", 400), m.model("B", 400), budget_s=1.0, clock=m.clock))
    assert 6 <= len(run.round_ratios) < 10
    ratio, _ = summarize(run)
    assert not ratio.significant and ratio.value == pytest.approx(1.0)


def test_cancel_stops_between_rounds() -> None:
    m = FakeMachine()
    calls = {"n": 0}

    def stop() -> bool:
        calls["n"] += 1
        return calls["n"] >= 3

    _, run = drain(interleave(m.model("A", 1), m.model("B", 1), budget_s=5.0, clock=m.clock, should_stop=stop))
    assert run.cancelled and len(run.round_ratios) == 3


def test_measure_extends_its_budget_while_the_samples_are_noisy_and_not_when_quiet() -> None:
    # A median that keeps moving on widely spread samples: sampling goes on past the budget.
    noisy = FakeMachine(jitter=0.5, drift_per_s=1.0)
    t = measure(noisy.model("A", 10), clock=noisy.clock, budget_s=1.0)
    assert t.stopped_because == "noisy-cap"
    assert noisy.now >= NOISY_BUDGET_FACTOR * 1.0
    assert t.stats().noisy and t.stats().cv is not None and t.stats().cv > 0.1
    quiet = FakeMachine(jitter=0.001)
    t = measure(quiet.model("A", 10), clock=quiet.clock, budget_s=1.0)
    assert t.stopped_because in ("stable", "budget") and quiet.now < 1.2
    assert not latency_stats(t.samples_ms).noisy
    assert t.conditions is not None and t.conditions.wall_s >= 0


def test_ratio_estimates_round_trip_and_invert() -> None:
    r = RatioEstimate(0.5, 0.4, 0.625, True, 0.9785, 10)
    assert RatioEstimate.from_dict(r.to_dict()) == r
    inv = r.inverse()
    assert (inv.value, inv.ci_low, inv.ci_high) == (2.0, 1.6, 2.5)
    assert units.speed_change(RatioEstimate(1.3, 1.2, 1.42, True)) == "1.3× slower (1.2–1.4×)"
    assert units.speed_change(None) == units.DASH
