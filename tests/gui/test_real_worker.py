"""One test drives the real measurement worker (a spawned process) on demo:mlp."""

from __future__ import annotations

from typing import Any

import pytest

from gui.controller import RunController


@pytest.mark.slow
def test_real_worker_measures_demo_mlp(qtbot: Any, make_window: Any) -> None:
    w = make_window(runner_factory=None)  # the default: profiler.worker.Runner
    assert isinstance(w.controller, RunController)
    with qtbot.waitSignal(w.result_shown, timeout=120_000) as blocker:
        w.open_model("demo:mlp")
    result = blocker.args[0]
    assert result.profile.totals.latency_ms is not None
    assert w.controller.worker_pid() is not None
    with qtbot.waitSignal(w.result_shown, timeout=60_000) as blocker:
        w.knobs.batch_slider.setValue(2)
    assert blocker.args[0].variant.batch == 4
    assert w.deltas.values["ratio_macs"] == 4.0
