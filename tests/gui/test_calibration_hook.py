"""The app's calibration hook (gui/calibration_hook.py): Qt-free; records a measured profile once."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

import gui.calibration_hook as hook
from planner.calibration_store import CalibrationStore
from profiler.result import Profile


def test_record_profile_once_and_only_when_measured(
    mlp_result: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hook, "_seen", set())
    # measured elsewhere (the saved profile's CPU is named, not "this CPU"), whatever this machine is
    monkeypatch.setattr("profiler.environment.cpu_model", lambda: "Some other CPU")
    profile = Profile.from_dict(mlp_result["profile"])
    assert hook.record_profile(None) is None
    assert hook.record_profile(dataclasses.replace(profile, latency_source="none")) is None
    assert hook.record_profile(profile) == "Calibrated AMD EPYC (fp32): 1 run (±28 %)"
    assert hook.record_profile(profile) is None  # the same result shown again is not a new run
    runs, _ = CalibrationStore().load()
    assert [len(v) for v in runs.values()] == [1]
