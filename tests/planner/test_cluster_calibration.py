"""A CUDA measurement that came back from a cluster node calibrates that node's accelerator
(tradeoff/cluster_runs.py `record_cuda_calibration`), and only CUDA rows do."""

from __future__ import annotations

import pytest
from test_calibration_store import measured, small_cnn

from planner.calibration_store import CalibrationStore
from planner.catalog import load_catalog
from planner.op_classes import CONV
from profiler.variant import Variant
from profiler.whatif import VariantResult
from tradeoff.cluster_runs import record_cuda_calibration

A100_NAME = "NVIDIA A100-SXM4-80GB"


def _row(gpu: str | None, ratio: float) -> VariantResult:
    catalog = load_catalog()
    acc = catalog.accelerator("A100-SXM4-80GB")
    prof = measured(small_cnn(), acc, {CONV: ratio}, gpu=gpu)
    return VariantResult(Variant(device="cuda" if gpu else "cpu"), prof, prof, None, {})


def test_cuda_rows_from_a_node_calibrate_its_accelerator(capsys: pytest.CaptureFixture[str]) -> None:
    record_cuda_calibration([_row(A100_NAME, 2.0), _row(A100_NAME, 2.5)])
    cals = CalibrationStore().calibrations()
    (name,) = [n for n in cals.summary() if n.startswith("A100-SXM4-80GB")]
    assert "calibrated on 4 runs" in cals.summary()[name]  # baseline and variant of each row
    err = capsys.readouterr().err
    assert "Calibrated A100-SXM4-80GB (fp32): 4 runs" in err and "(measured on the cluster)" in err


def test_cpu_rows_and_failed_rows_do_not(capsys: pytest.CaptureFixture[str]) -> None:
    failed = VariantResult(Variant(device="cuda"), None, None, None, {}, error="node lost")
    record_cuda_calibration([_row(None, 2.0), failed])
    assert CalibrationStore().calibrations().summary() == {}
    assert capsys.readouterr().err == ""
