"""The planner's "This machine's CPU" target: the heatmap's projection on the CPU the model was
measured on, calibrated by the user's own runs once there are any, and labelled with its band."""

from __future__ import annotations

from typing import Any

import pytest

import gui.calibration_hook as hook
from planner.catalog import load_catalog
from profiler.result import Profile


def test_local_cpu_projection_is_calibrated_by_the_users_runs(
    qapp: Any, mlp_result: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from gui.planner_panel import LOCAL_CPU, PlannerPanel

    monkeypatch.setattr(hook, "_seen", set())
    profile = Profile.from_dict(mlp_result["profile"])
    panel = PlannerPanel(load_catalog(include_user=False))
    panel.target.setCurrentIndex(panel.target.findData(LOCAL_CPU))
    panel.set_profile(profile)
    before = panel.projection(profile)
    assert before is not None and not before.calibrated
    assert panel.projection_label.startswith("this CPU") and "not calibrated yet" in panel.projection_label
    assert panel.plan is not None  # ranking the catalog is unaffected by the local target

    assert hook.record_profile(profile) is not None  # what the window does after a run
    after = panel.projection(profile)
    assert after is not None and after.calibrated and after.latency_source == "projected-calibrated"
    assert "calibrated on 1 run" in panel.projection_label
    # one run says nothing about how the factors transfer to other models: the default band stands
    assert panel.projection_label.startswith("this CPU ±50 %") and "under 3 runs" in panel.projection_label
    # calibrated on the same measurement, the projection lands near what was measured (the
    # factors are per op class, with the launch cost subtracted: not an exact replay)
    measured = profile.totals.latency_ms
    assert measured is not None
    assert 0.3 * measured.median < after.latency_ms < 3 * measured.median
    # a GPU target keeps the published-check band
    panel.target.setCurrentIndex(panel.target.findData("H100-SXM"))
    assert panel.projection(profile) is not None and panel.projection_label.startswith("H100-SXM ±")
