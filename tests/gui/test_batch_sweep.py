"""Batch tab: one point gets an axis around it; Sweep batch fills the chart from a worker of its
own, keeps what it measured as explored variants, and can be stopped."""

from __future__ import annotations

import math
from typing import Any

import pytest

from gui.charts.batch_chart import SWEEP_BATCHES


def test_one_point_gets_an_axis_around_it(qtbot: Any) -> None:
    from gui.charts.batch_chart import BatchChart

    chart = BatchChart()
    qtbot.addWidget(chart)
    chart.set_points([(8, 4.0)])
    (x0, x1), (y0, y1) = chart.latency_plot.getViewBox().viewRange()
    assert math.isclose(10**x0, 4, rel_tol=1e-6) and math.isclose(10**x1, 16, rel_tol=1e-6)
    assert math.isclose(y0, 3.0) and math.isclose(y1, 5.0)
    (_, _), (t0, t1) = chart.throughput_plot.getViewBox().viewRange()
    assert t0 < 2000 < t1  # 8 samples in 4 ms


@pytest.mark.slow
def test_sweep_batch_fills_the_chart(qtbot: Any, make_window: Any) -> None:
    w = make_window()
    with qtbot.waitSignal(w.result_shown, timeout=120_000):
        w.open_model("demo:mlp")
    assert len(w.batch_chart.points) == 1
    w.batch_chart.sweep_button.click()
    assert w.batch_chart.sweeping and w.batch_chart.sweep_button.text() == "Stop sweep"
    qtbot.waitUntil(lambda: not w.batch_chart.sweeping, timeout=300_000)
    assert w.batch_chart.status.text() == "Sweep done."
    batches = [b for b, _ in w.batch_chart.points]
    assert batches == sorted(set(batches)) and set(SWEEP_BATCHES) <= set(batches)
    assert all(ms > 0 for _, ms in w.batch_chart.points)
    # the measured batches are explored variants now: the workspace keeps them
    assert {r.profile.config.batch for r in w.workspace.results.values() if r.profile} >= set(SWEEP_BATCHES)
    # a second sweep has nothing left to measure
    w.batch_chart.sweep_button.click()
    assert not w.batch_chart.sweeping and "Every batch" in w.batch_chart.status.text()


@pytest.mark.slow
def test_stop_ends_the_sweep_keeping_what_was_measured(qtbot: Any, make_window: Any) -> None:
    w = make_window()
    with qtbot.waitSignal(w.result_shown, timeout=120_000):
        w.open_model("demo:mlp")
    w.batch_chart.sweep_button.click()
    qtbot.waitUntil(lambda: len(w.batch_chart.points) >= 2, timeout=300_000)
    w.batch_chart.sweep_button.click()  # Stop sweep
    qtbot.waitUntil(lambda: not w.batch_chart.sweeping, timeout=120_000)
    assert "stopped" in w.batch_chart.status.text() or w.batch_chart.status.text() == "Sweep done."
    assert len(w.batch_chart.points) >= 2
