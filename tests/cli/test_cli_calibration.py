"""`tradeoff profile` records a measured profile as calibration for its device; `--no-calibration-record`
and `--no-latency` do not (the root conftest points XDG_CONFIG_HOME at a temporary folder)."""

from __future__ import annotations

import json

import pytest

from planner import calibration_store
from planner.calibration_store import CalibrationStore, calibration_path
from tradeoff.main import main


def test_profile_records_calibration_for_this_cpu(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # a busy test machine marks its timings noisy, and a noisy one is not recorded: let it count here
    real = calibration_store.why_not_recorded
    monkeypatch.setattr(
        calibration_store, "why_not_recorded", lambda p: None if "noisy" in (real(p) or "") else real(p)
    )
    assert main(["profile", "demo:mlp", "--threads", "1", "--json", "-"]) == 0
    out, err = capsys.readouterr()
    doc = json.loads(out)  # the status line goes to stderr, never into the JSON
    assert "Calibrated this CPU (fp32): 1 run" in err
    runs, warnings = CalibrationStore().load()
    assert warnings == []
    (device,) = runs
    assert device == doc["environment"]["cpu"]
    (run,) = runs[device]
    assert run.kind == "cpu" and run.model == doc["model"]["name"] and run.measured_ms


def test_opt_out_and_static_runs_record_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profile", "demo:mlp", "--threads", "1", "--no-calibration-record", "--json", "-"]) == 0
    assert main(["profile", "demo:mlp", "--no-latency", "--json", "-"]) == 0
    _, err = capsys.readouterr()
    assert "Calibrated" not in err
    assert not calibration_path().exists()
