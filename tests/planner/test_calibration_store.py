"""Calibration from measurements: op classes, device matching, the store, aggregation, use in plans."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from plan_fixtures import layer, linear, make_profile, resnet50

from planner.calibration_store import (
    CalibrationRun,
    CalibrationStore,
    StoredCalibrations,
    aggregate,
    calibration_path,
    load_stored_calibrations,
    match_gpu,
    record_profile,
    resolve_calibration,
    run_from_profile,
    uncertainty_of,
)
from planner.catalog import Accelerator, Catalog
from planner.op_classes import ATTENTION, CONV, ELEMENTWISE, GATHER, MATMUL, OTHER, op_class
from planner.options import PlanOptions
from planner.plan import plan
from planner.roofline import IDEAL_EFFICIENCY, Calibration, default_efficiency, make_target, project
from planner.vocab import PROJECTED, PROJECTED_CALIBRATED, PeakPrecision
from profiler.result import Environment, LatencyStats, Profile, Totals
from profiler.vocab import Device

H100_NAME = "NVIDIA H100 80GB HBM3"
CPU_NAME = "Test CPU Model 9000 @ 2.00GHz"  # not this machine's: its spec does not read /proc


def env(gpu: str | None = None, cpu: str = CPU_NAME) -> Environment:
    return Environment(
        cpu=cpu, cores=4, threads=4, gpu=gpu, torch="2.5", onnxruntime=None, python="3.11", os="Linux",
        gpu_memory_bytes=80 * 2**30 if gpu else None,
    )  # fmt: skip


def measured(
    prof: Profile, acc: Accelerator, ratio: dict[str, float], *, gpu: str | None = None, spread: float = 0.02
) -> Profile:
    """`prof` as if measured on `acc`: each layer's latency = its ideal roofline × ratio[op class]
    + the device class's kernel overhead."""
    t = make_target(acc, PeakPrecision(str(prof.config.precision)), efficiency=IDEAL_EFFICIENCY)
    assert t is not None
    ideal = project(prof, t).layers
    launch_ms = default_efficiency(acc).kernel_overhead_us * 1e-3
    layers = tuple(
        replace(r, latency_ms=lp.time_ms * ratio.get(op_class(r.type), 1.0) + launch_ms if lp.time_ms > 0 else 0.0)
        for r, lp in zip(prof.layers, ideal, strict=True)
    )
    total = sum(r.latency_ms or 0.0 for r in layers)
    lat = LatencyStats(median=total, p10=total * (1 - spread), p90=total * (1 + spread), samples=20)
    config = replace(prof.config, device=Device.CUDA if gpu else Device.CPU, threads=4)
    totals: Totals = replace(prof.totals, latency_ms=lat)
    return replace(
        prof, layers=layers, totals=totals, config=config, environment=env(gpu), latency_source="measured",
        layer_latency_method="hooks",
    )  # fmt: skip


def small_cnn() -> Profile:
    return make_profile(
        [layer("conv", "Conv2d", params=64 * 3 * 9, macs=64 * 3 * 9 * 32 * 32 * 8,
               inputs=[(8, 3, 32, 32)], outputs=[(8, 64, 32, 32)]),
         layer("bn", "BatchNorm2d", params=128, inputs=[(8, 64, 32, 32)], outputs=[(8, 64, 32, 32)]),
         layer("relu", "ReLU", inputs=[(8, 64, 32, 32)], outputs=[(8, 64, 32, 32)]),
         linear("fc", 64 * 32 * 32, 10, (8,))],
        name="small-cnn", batch=8,
    )  # fmt: skip


@pytest.fixture
def h100(catalog: Catalog) -> Accelerator:
    acc = catalog.accelerator("H100-SXM")
    assert acc is not None
    return acc


def test_op_classes() -> None:
    assert [op_class(t) for t in ("Conv2d", "ConvTranspose2d", "QLinearConv")] == [CONV] * 3
    assert [op_class(t) for t in ("Linear", "MatMul", "Gemm", "MatMulInteger", "Conv1D", "LSTM")] == [MATMUL] * 6
    assert [op_class(t) for t in ("MultiheadAttention", "LlamaAttention", "Attention")] == [ATTENTION] * 3
    assert [op_class(t) for t in ("BatchNorm2d", "LayerNorm", "ReLU", "GELU", "Softmax", "MaxPool2d", "Add")] == [
        ELEMENTWISE
    ] * 7
    assert [op_class(t) for t in ("Embedding", "Gather")] == [GATHER] * 2
    assert [op_class(t) for t in ("Flatten", "Reshape", "Concat")] == [OTHER] * 3


@pytest.mark.parametrize(
    ("name", "memory_gib", "expected"),
    [
        ("NVIDIA H100 80GB HBM3", None, "H100-SXM"),
        ("NVIDIA H100 PCIe", None, "H100-PCIe"),
        ("NVIDIA H200", 140, "H200-SXM"),
        ("NVIDIA A100-SXM4-40GB", None, "A100-SXM4-40GB"),
        ("NVIDIA A100 80GB PCIe", None, "A100-PCIe-80GB"),
        ("NVIDIA A100-PCIE-40GB", 39.4, "A100-PCIe-40GB"),
        ("NVIDIA A10G", 22, "A10G"),
        ("NVIDIA A10", None, "A10"),
        ("NVIDIA L4", None, "L4"),
        ("Tesla T4", 15, "T4"),
        ("Tesla V100-SXM2-32GB", None, "V100-SXM2-32GB"),
        ("NVIDIA H100 NVL", None, None),
        ("NVIDIA GeForce RTX 4090", None, None),
    ],
)
def test_gpu_names_match_catalog_rows(catalog: Catalog, name: str, memory_gib: float | None, expected: str) -> None:
    acc = match_gpu(name, catalog, None if memory_gib is None else int(memory_gib * 2**30))
    assert (acc.name if acc else None) == expected


def test_store_path_follows_the_user_catalog_convention(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert calibration_path() == tmp_path / "tradeoff-studio" / "calibration.json"


def test_record_round_trip(catalog: Catalog, h100: Accelerator) -> None:
    prof = measured(small_cnn(), h100, {CONV: 2.0, ELEMENTWISE: 3.0, MATMUL: 4.0}, gpu=H100_NAME)
    done = record_profile(prof, catalog=catalog, now=datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    assert done.status == "Calibrated H100-SXM (fp32): 1 run (±2 %)"
    cal = done.calibration
    assert cal is not None and cal.device == "H100-SXM" and cal.runs == 1
    assert cal.factor("Conv2d") == pytest.approx(2.0) and cal.factor("ReLU") == pytest.approx(3.0)
    assert cal.factor("Linear") == pytest.approx(4.0) and cal.factor("Embedding") is None
    doc = json.loads(calibration_path().read_text())
    assert doc["schema"] == "tradeoff.calibration/1"
    (run_doc,) = doc["devices"]["H100-SXM"]["runs"]
    assert run_doc["model"] == "small-cnn" and run_doc["recorded_at"] == "2026-12-01T12:00:00Z"
    assert run_doc["hardware"] == H100_NAME and run_doc["precision"] == "fp32"
    runs, warnings = CalibrationStore().load()
    assert warnings == [] and runs["H100-SXM"][0] == CalibrationRun.from_dict(run_doc)
    stored = load_stored_calibrations()
    assert stored is not None and stored.for_accelerator("h100-sxm", PeakPrecision.FP32) == cal
    assert Calibration.from_dict(json.loads(json.dumps(cal.to_dict()))) == cal
    old = Calibration.from_dict({"device": "x", "precision": "fp32", "factors": {"Linear": 2.0}})
    assert old.runs == 1 and old.spread_fraction is None and old.describe() == "calibrated on 1 run"


def test_cpu_run_is_keyed_by_the_cpu_model(catalog: Catalog) -> None:
    from planner.calibration_store import describe_cpu

    spec = describe_cpu(env(), 4)
    assert spec.fp32_tflops == pytest.approx(2.0 * 4 * 8 * 2 * 2 / 1e3)  # 2 GHz from the name, 4 threads, AVX2
    prof = measured(small_cnn(), spec, {CONV: 5.0, ELEMENTWISE: 1.5, MATMUL: 2.5})
    run, why = run_from_profile(prof, catalog)
    assert why is None and run is not None and run.device == CPU_NAME and run.kind == "cpu"
    assert run.ratios()[CONV] == pytest.approx(5.0)


def test_a_profile_without_measured_latency_is_not_recorded(catalog: Catalog, h100: Accelerator) -> None:
    static = small_cnn()  # counted only: no latency, no machine
    assert record_profile(static, catalog=catalog).status is None
    prof = measured(small_cnn(), h100, {CONV: 2.0}, gpu=H100_NAME)
    no_layers = replace(prof, layers=tuple(replace(r, latency_ms=None) for r in prof.layers))
    assert record_profile(no_layers, catalog=catalog).reason == "no per-layer latency"
    meta = replace(prof, latency_source="none")
    assert record_profile(meta, catalog=catalog).reason == "latency was not measured"
    assert prof.totals.latency_ms is not None
    noisy = replace(prof, totals=replace(prof.totals, latency_ms=replace(prof.totals.latency_ms, noisy=True)))
    assert "noisy" in (record_profile(noisy, catalog=catalog).reason or "")
    unknown = replace(prof, environment=env("NVIDIA GeForce RTX 4090"))
    assert "matches no catalog accelerator" in (record_profile(unknown, catalog=catalog).reason or "")
    assert not calibration_path().exists()


def test_history_is_bounded_per_device(catalog: Catalog, h100: Accelerator, tmp_path: Path) -> None:
    store = CalibrationStore(tmp_path / "cal.json", max_runs=3)
    for k in range(5):
        run, _ = run_from_profile(measured(small_cnn(), h100, {CONV: 1.0 + k}, gpu=H100_NAME), catalog)
        assert run is not None
        cal, warnings = store.add(run)
        assert warnings == []
    runs, _ = store.load()
    assert [round(r.ratios()[CONV], 6) for r in runs["H100-SXM"]] == [3.0, 4.0, 5.0]
    assert cal.runs == 3 and cal.factor("Conv2d") == pytest.approx(4.0)


def _run(device: str, ratios: dict[str, float], weights: dict[str, float], noise: float | None) -> CalibrationRun:
    return CalibrationRun(
        device=device, kind="gpu", precision=PeakPrecision.FP16, model="m", recorded_at="2026-12-01T00:00:00Z",
        measured_ms={c: weights[c] * r for c, r in ratios.items()}, ideal_ms=dict(weights), timing_spread=noise,
    )  # fmt: skip


def test_aggregation_median_and_spread() -> None:
    same = [_run("L4", {CONV: 2.0}, {CONV: 1.0}, 0.03) for _ in range(5)]
    cal = aggregate("L4", PeakPrecision.FP16, same)
    assert cal is not None and cal.factor(CONV) == pytest.approx(2.0)
    assert cal.spread_fraction == pytest.approx(0.03)  # no spread over runs: the timing's own
    assert cal.describe() == "calibrated on 5 runs (±3 %)"
    ratios = [1.6, 1.8, 2.0, 2.2, 2.4]
    varied = [_run("L4", {CONV: r, MATMUL: 1.0}, {CONV: 3.0, MATMUL: 1.0}, 0.01) for r in ratios]
    cal = aggregate("L4", PeakPrecision.FP16, varied)
    assert cal is not None and cal.runs == 5 and cal.factor(CONV) == pytest.approx(2.0)
    # conv: p10 1.68, p90 2.32 → ±0.32 / 2.0 = 16 %; matmul: 0 %; weighted by measured time (conv 30 ms of 35)
    conv_share = 3.0 * sum(ratios) / (3.0 * sum(ratios) + 5.0)
    assert cal.spread_fraction == pytest.approx(0.16 * conv_share)
    assert cal.describe() == f"calibrated on 5 runs (±{100 * 0.16 * conv_share:.0f} %)"
    assert aggregate("L4", PeakPrecision.FP32, varied) is None  # other precision
    below = aggregate("L4", PeakPrecision.FP16, [_run("L4", {CONV: 0.5}, {CONV: 1.0}, None)])
    assert below is not None and below.factor(CONV) == 1.0 and below.spread_fraction is None  # clamped; unknown


def test_a_corrupt_store_warns_and_never_crashes(catalog: Catalog, h100: Accelerator, tmp_path: Path) -> None:
    path = tmp_path / "cal.json"
    path.write_text("{ not json")
    store = CalibrationStore(path)
    runs, warnings = store.load()
    assert runs == {} and len(warnings) == 1 and "not JSON" in warnings[0]
    stored = load_stored_calibrations(path=path)
    assert stored is not None and stored.calibrations == () and len(stored.warnings) == 1
    run, _ = run_from_profile(measured(small_cnn(), h100, {CONV: 2.0}, gpu=H100_NAME), catalog)
    assert run is not None
    cal, warnings = store.add(run)
    assert cal.runs == 1 and any("calibration.json.bad" in w or "cal.json.bad" in w for w in warnings)
    assert (tmp_path / "cal.json.bad").read_text() == "{ not json"
    # one device's broken entry is skipped and written back untouched; the others load
    doc = json.loads(path.read_text())
    doc["devices"]["MI300X"] = {"kind": "gpu", "runs": [{"device": "MI300X", "bogus": 1}]}
    doc["devices"]["B200"] = "garbage"
    path.write_text(json.dumps(doc))
    runs, warnings = store.load()
    assert set(runs) == {"H100-SXM"} and len(warnings) == 2
    store.add(run)
    again = json.loads(path.read_text())
    assert again["devices"]["B200"] == "garbage" and again["devices"]["MI300X"] == doc["devices"]["MI300X"]
    assert len(again["devices"]["H100-SXM"]["runs"]) == 2


def test_resolution_only_for_the_calibrated_device(catalog: Catalog, h100: Accelerator) -> None:
    cal = Calibration("H100-SXM", PeakPrecision.FP16, ((CONV, 2.0),), runs=4, spread_fraction=0.05)
    stored = StoredCalibrations((cal,))
    l4 = catalog.accelerator("L4")
    assert l4 is not None
    assert resolve_calibration(None, stored, h100, PeakPrecision.FP16) is cal
    assert resolve_calibration(None, stored, h100, PeakPrecision.BF16) is cal  # one tensor-core peak
    assert resolve_calibration(None, stored, h100, PeakPrecision.FP32) is None
    assert resolve_calibration(None, stored, l4, PeakPrecision.FP16) is None
    one_shot = Calibration("my-laptop", PeakPrecision.FP32, (("Conv2d", 3.0),))
    assert resolve_calibration(one_shot, stored, l4, PeakPrecision.FP16) is one_shot
    assert resolve_calibration(one_shot, stored, h100, PeakPrecision.FP16) is cal
    assert uncertainty_of(cal, "H100-SXM") == (0.05, "calibrated on 4 runs (±5 %)")
    assert uncertainty_of(one_shot, "L4")[0] is None
    # the projection: conv layers at ideal × 2 + the kernel overhead; other layers by the defaults
    prof = small_cnn()
    t = make_target(h100, PeakPrecision.FP16, calibration=cal)
    ideal = make_target(h100, PeakPrecision.FP16, efficiency=IDEAL_EFFICIENCY)
    assert t is not None and ideal is not None
    p, pi = project(prof, t), project(prof, ideal)
    p.check()
    assert p.latency_source == PROJECTED_CALIBRATED
    launch_ms = t.efficiency.kernel_overhead_us * 1e-3
    assert p.layers[0].time_ms == pytest.approx(2.0 * pi.layers[0].time_ms + launch_ms)


def test_off_switch_and_cli_flag() -> None:
    assert load_stored_calibrations(False) is None
    assert PlanOptions().use_stored_calibration is True
    import argparse

    from tradeoff.options import add_plan_arguments, plan_options_from_args

    parser = argparse.ArgumentParser()
    add_plan_arguments(parser)
    assert plan_options_from_args(parser.parse_args([])).use_stored_calibration is True
    assert plan_options_from_args(parser.parse_args(["--no-stored-calibration"])).use_stored_calibration is False


def test_plan_uses_a_stored_calibration_only_on_its_device(catalog: Catalog, h100: Accelerator) -> None:
    prof = resnet50(batch=2)
    for k in range(3):
        done = record_profile(measured(prof, h100, {CONV: 2.0 + 0.1 * k}, gpu=H100_NAME), catalog=catalog)
        assert done.calibration is not None
    options = PlanOptions(gpus=("H100-SXM", "L4"), precision=PeakPrecision.FP32)
    p = plan(prof, options, catalog)
    p.check()
    on_h100 = [o for o in p.inference.options if o.accelerator == "H100-SXM"]
    on_l4 = [o for o in p.inference.options if o.accelerator == "L4"]
    assert on_h100 and on_l4
    assert all(o.latency_source == PROJECTED_CALIBRATED for o in on_h100)
    assert all(o.uncertainty_basis.startswith("calibrated on 3 runs") for o in on_h100)
    assert all(o.latency_source == PROJECTED for o in on_l4)
    off = plan(prof, replace(options, use_stored_calibration=False), catalog)
    assert all(o.latency_source == PROJECTED for o in off.inference.options)
