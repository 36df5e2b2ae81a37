"""The `kernel_paths` record of a sweep row (issue 15, item 5): per layer the prediction, the
measured change with both rows' spreads and whether it is beyond them, the flags; a summary and
counts. Hand-built profiles with fake CPU flags (as tests/profiler/test_kernel_paths.py), the
JSON read back through the sweep's schema check, and the identity / failed rows."""

from __future__ import annotations

import copy
import json

import pytest
from test_kernel_paths import CPU, _entry, conv, profile, row

from profiler.codec import SchemaError
from profiler.kernel_paths import (
    SLOWER,
    VERDICTS,
    DeviceFacts,
    kernel_paths_record,
    layer_measurement,
    record_for_result,
)
from profiler.result import ModelInfo, Profile
from profiler.sweep import SweepDocument, build_sweep
from profiler.variant import Variant
from profiler.whatif import VariantResult

MODEL = ModelInfo("m", "demo:m", "demo")


def _pruned() -> tuple[Profile, Profile]:
    base = profile(conv(latency=1.0, spread=0.05), conv("layer1.0.conv2", latency=1.0, spread=0.05))
    var = profile(conv(cout=35, latency=1.2, spread=0.05), conv("layer1.0.conv2", cin=35, latency=0.6, spread=0.05))
    return base, var


def test_record_has_prediction_measurement_and_flags_per_layer() -> None:
    base, var = _pruned()
    rec = kernel_paths_record(base, Variant(prune=0.45), CPU, var)
    assert rec["device"] == "cpu" and "avx512_vnni" in rec["cpu_flags"] and rec["cuda_capability"] is None
    assert set(rec["counts"]) == set(VERDICTS) and sum(rec["counts"].values()) == 2
    assert rec["findings"] == 1
    first, second = rec["layers"]
    assert first["layer"] == "layer1.0.conv1" and first["verdict"] == "faster"
    assert first["flags"] == ["predicted faster, measured slower", "smaller but slower"]
    m = first["measured"]
    assert m["ratio"] == pytest.approx(1.2) and m["beyond_noise"] is True
    assert (m["baseline_p10_ms"], m["baseline_p90_ms"]) == pytest.approx((0.95, 1.05))
    assert (m["variant_p10_ms"], m["variant_p90_ms"]) == pytest.approx((1.15, 1.25))
    # faster as predicted: measured beyond noise but no surprise, so no flag
    assert second["measured"]["beyond_noise"] is True and second["flags"] == []
    assert "smaller but slower: layer1.0.conv1" in rec["summary"]
    assert json.loads(json.dumps(rec)) == rec  # plain JSON values


def test_noise_is_measured_but_never_flagged() -> None:
    base = profile(conv(latency=1.0, spread=0.05))
    var = profile(conv(cout=35, latency=1.04, spread=0.05))  # inside both spreads
    rec = kernel_paths_record(base, Variant(prune=0.45), CPU, var)
    (entry,) = rec["layers"]
    assert entry["measured"]["beyond_noise"] is False and entry["flags"] == []
    assert rec["findings"] == 0 and "no layer beyond its noise" in rec["summary"]


def test_before_timing_the_record_is_the_prediction_alone() -> None:
    base = profile(row(latency=1.0, spread=0.05), row("act", "ReLU", params=0, macs=0))
    rec = kernel_paths_record(base, Variant(precision="fp16"), DeviceFacts("cpu", frozenset({"avx", "avx2"})))
    assert [e["measured"] for e in rec["layers"]] == [None, None]
    assert rec["layers"][0]["verdict"] == SLOWER
    assert rec["summary"].startswith("1 layer predicted slower: fp16 on this CPU") and "measured" not in rec["summary"]
    assert layer_measurement(base.layers[0], None) is None


def test_sweep_rows_carry_the_record_and_read_back() -> None:
    base, var = _pruned()
    results = [
        _entry(Variant(), base, base),
        _entry(Variant(prune=0.45), base, var),
        VariantResult(Variant(precision="int8"), None, None, None, {}, error="boom"),
    ]
    sweep = build_sweep(MODEL, base, results, CPU)
    doc = json.loads(json.dumps(sweep.to_dict()))
    rows = doc["variants"]
    assert rows[1]["kernel_paths"]["findings"] == 1 and rows[2]["kernel_paths"] is None
    assert rows[0]["kernel_paths"]["counts"]["about the same"] == 2  # the identity: same kernels
    again = SweepDocument.from_dict(copy.deepcopy(doc)).to_dict()
    assert again == doc
    broken = copy.deepcopy(doc)
    broken["variants"][1]["kernel_paths"]["layers"][0]["flags"] = "smaller"
    with pytest.raises(SchemaError) as info:
        SweepDocument.from_dict(broken)
    assert info.value.path == "$.variants[1].kernel_paths.layers[0].flags"


def test_old_sweep_documents_without_the_field_still_read() -> None:
    base, var = _pruned()
    doc = build_sweep(MODEL, base, [_entry(Variant(prune=0.45), base, var)], CPU).to_dict()
    del doc["variants"][0]["kernel_paths"]
    assert "kernel_paths" not in SweepDocument.from_dict(doc).to_dict()["variants"][0]


def test_record_for_a_result_uses_its_baseline_and_profile() -> None:
    base, var = _pruned()
    result = _entry(Variant(prune=0.45), base, var)
    rec = record_for_result(result, CPU)
    assert rec is not None and rec == kernel_paths_record(base, Variant(prune=0.45), CPU, var)
    failed = VariantResult(Variant(prune=0.45), None, None, None, {}, error="x")
    assert record_for_result(failed, CPU) is None
