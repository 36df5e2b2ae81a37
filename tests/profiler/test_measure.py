"""Timing with an injected clock: the statistics and stopping rules, without real time."""

from collections.abc import Callable

import pytest

from profiler.measure import latency_stats, measure, percentile


def fake_clock(durations_s: list[float]) -> tuple[Callable[[], float], Callable[[], None]]:
    """A clock that advances by the next duration each time the measured function runs."""
    state = {"now": 0.0, "i": 0}

    def clock() -> float:
        return state["now"]

    def fn() -> None:
        state["now"] += durations_s[state["i"] % len(durations_s)]
        state["i"] += 1

    return clock, fn


def test_constant_function_is_stable_and_exact() -> None:
    clock, fn = fake_clock([0.005])
    timing = measure(fn, clock=clock, warmup=2, min_samples=10, min_time_s=0.0)
    assert timing.stopped_because == "stable"
    assert len(timing.samples_ms) == 20  # stability needs twice min_samples
    stats = timing.stats()
    assert stats.median == pytest.approx(5.0)
    assert stats.p10 == pytest.approx(5.0) and stats.p90 == pytest.approx(5.0)


def test_stable_is_not_declared_before_min_time() -> None:
    clock, fn = fake_clock([0.005])
    timing = measure(fn, clock=clock, warmup=0, min_samples=10, budget_s=3.0)
    assert timing.stopped_because == "stable"
    # half the 3 s budget at 5 ms a sample: about 300 samples before a median counts as stable
    assert 295 <= len(timing.samples_ms) <= 305


def test_noisy_function_stops_on_budget() -> None:
    # A steadily drifting duration (thermal throttling, say) never settles: the budget ends it,
    # when the caller allows no extension for noise.
    clock, fn = fake_clock([0.001 * (1 + k / 10) for k in range(400)])
    timing = measure(fn, clock=clock, warmup=0, min_samples=5, budget_s=0.5, rel_tol=0.0001, noisy_cap_s=0.5)
    assert timing.stopped_because == "budget"
    total_s = sum(timing.samples_ms) / 1000
    assert 0.5 <= total_s < 0.6


def test_noisy_function_gets_a_longer_budget_up_to_the_cap() -> None:
    # The same drift spreads the samples (noisy): sampling goes on to twice the budget, no longer.
    clock, fn = fake_clock([0.001 * (1 + k / 10) for k in range(400)])
    timing = measure(fn, clock=clock, warmup=0, min_samples=5, budget_s=0.5, rel_tol=0.0001)
    assert timing.stopped_because == "noisy-cap"
    total_s = sum(timing.samples_ms) / 1000
    assert 1.0 <= total_s < 1.1
    assert timing.stats().noisy


def test_max_samples_caps_repetition() -> None:
    clock, fn = fake_clock([0.001 * (k + 1) for k in range(100)])
    timing = measure(fn, clock=clock, warmup=0, min_samples=1, max_samples=7, budget_s=1e9, rel_tol=0.0)
    assert len(timing.samples_ms) == 7


def test_should_stop_interrupts() -> None:
    clock, fn = fake_clock([0.001])
    calls = {"n": 0}

    def stop() -> bool:
        calls["n"] += 1
        return calls["n"] >= 3

    timing = measure(fn, clock=clock, warmup=0, min_samples=100, should_stop=stop)
    assert timing.stopped_because == "cancelled"
    assert len(timing.samples_ms) == 3


def test_percentiles_interpolate() -> None:
    values = [float(v) for v in range(1, 11)]
    assert percentile(values, 50) == pytest.approx(5.5)
    assert percentile(values, 10) == pytest.approx(1.9)
    stats = latency_stats([3.0, 1.0, 2.0])
    assert (stats.p10, stats.median, stats.p90, stats.samples) == (pytest.approx(1.2), 2.0, pytest.approx(2.8), 3)


def test_profile_uses_injected_clock_for_end_to_end_latency() -> None:
    from profiler.analyze import ProfileRequest, profile_model
    from profiler.loading import load_model

    ticks = {"now": 0.0}

    def clock() -> float:
        ticks["now"] += 0.0025  # every reading advances 2.5 ms: each sample is exactly 2.5 ms
        return ticks["now"]

    loaded = load_model("demo:mlp")
    profile = profile_model(loaded, ProfileRequest(layer_latency=False), clock=clock)
    assert profile.totals.latency_ms is not None
    assert profile.totals.latency_ms.median == pytest.approx(2.5)
    assert profile.latency_source == "measured"
    profile.check()
