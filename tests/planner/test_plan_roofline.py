from __future__ import annotations

import json
from dataclasses import replace

import pytest
from plan_fixtures import layer, linear, make_profile, mlp

from planner.catalog import Accelerator, Catalog
from planner.roofline import (
    Efficiency,
    Projection,
    calibrate,
    cpu_spec,
    largest_serving_batch,
    latency_s,
    make_target,
    project,
    serving_memory_bytes,
    throughput_curve,
)
from planner.vocab import PROJECTED, PROJECTED_CALIBRATED, AcceleratorClass, AcceleratorKind, Bound, PeakPrecision
from planner.workload import Workload
from profiler.result import InputSpec

IDEAL = Efficiency(1.0, 1.0, 0.0)


def toy_gpu(peak_fp16: float = 100.0, peak_fp32: float = 10.0, bw: float = 1000.0, memory: float = 16.0) -> Accelerator:
    return Accelerator(
        name="TOY", vendor="t", kind=AcceleratorKind.GPU, accelerator_class=AcceleratorClass.DATACENTER,
        memory_gb=memory, bandwidth_gb_s=bw, fp32_tflops=peak_fp32, tf32_tflops=None, fp16_tflops=peak_fp16,
        bf16_tflops=peak_fp16, fp8_tflops=None, int8_tops=None, tdp_w=100, source="t", as_of="2026",
    )  # fmt: skip


def two_layer_profile():  # type: ignore[no-untyped-def]
    # a big square matmul (compute-bound) and an elementwise op (memory-bound), batch 8
    big = linear("mm", 4096, 4096, (8, 512))
    act = layer("act", "GELU", inputs=[(8, 512, 4096)], outputs=[(8, 512, 4096)])
    return make_profile([big, act], batch=8, inputs=[InputSpec("x", (8, 512, 4096), "float32")])


def test_bound_intensity_and_time_by_hand() -> None:
    p = two_layer_profile()
    t = make_target(toy_gpu(), PeakPrecision.FP16, efficiency=IDEAL)
    assert t is not None
    proj = project(p, t)
    proj.check()
    mm, act = proj.layers
    flops = 2 * 8 * 512 * 4096 * 4096
    byts = (4096 * 4096 + 2 * 8 * 512 * 4096) * 2  # weights + in + out at fp16
    assert mm.flops == flops and mm.bytes == byts
    assert mm.intensity_flops_per_byte == pytest.approx(flops / byts)
    assert mm.bound is Bound.COMPUTE and mm.time_ms == pytest.approx(flops / 100e12 * 1e3)
    assert act.bound is Bound.MEMORY and act.flops == 0
    assert act.time_ms == pytest.approx(2 * 8 * 512 * 4096 * 2 / 1000e9 * 1e3)
    assert proj.ridge_flops_per_byte == pytest.approx(100e12 / 1000e9)
    assert proj.latency_source == PROJECTED
    assert proj.latency_ms == pytest.approx(mm.time_ms + act.time_ms)


def test_precision_rescales_bytes_and_peak() -> None:
    p = two_layer_profile()
    gpu = toy_gpu()
    fp32 = project(p, make_target(gpu, PeakPrecision.FP32, efficiency=IDEAL))  # type: ignore[arg-type]
    fp16 = project(p, make_target(gpu, PeakPrecision.FP16, efficiency=IDEAL))  # type: ignore[arg-type]
    assert fp32.layers[0].bytes == pytest.approx(2 * fp16.layers[0].bytes)
    assert fp32.layers[0].compute_ms == pytest.approx(10 * fp16.layers[0].compute_ms)


def test_efficiency_and_overhead_apply() -> None:
    p = two_layer_profile()
    ideal = project(p, make_target(toy_gpu(), PeakPrecision.FP16, efficiency=IDEAL))  # type: ignore[arg-type]
    real = project(p, make_target(toy_gpu(), PeakPrecision.FP16, efficiency=Efficiency(0.5, 0.5, 10.0)))  # type: ignore[arg-type]
    assert real.latency_ms == pytest.approx(2 * ideal.latency_ms + 2 * 0.010)


def test_batch_scales_activations_and_flops_not_weights() -> None:
    wl = Workload.from_profile(two_layer_profile())
    t = make_target(toy_gpu(), PeakPrecision.FP16, efficiency=IDEAL)
    assert t is not None
    one = project(wl, t, batch=1).layers[0]
    eight = project(wl, t, batch=8).layers[0]
    assert eight.flops == pytest.approx(8 * one.flops)
    weights = 4096 * 4096 * 2
    assert eight.bytes - weights == pytest.approx(8 * (one.bytes - weights))


def test_embedding_reads_rows_not_the_table() -> None:
    emb = layer("emb", "Embedding", params=50_000 * 512, inputs=[(1, 16)], outputs=[(1, 16, 512)])
    p = make_profile([emb], inputs=[InputSpec("ids", (1, 16), "int64")], seq_len=16)
    t = make_target(toy_gpu(), PeakPrecision.FP16, efficiency=IDEAL)
    assert t is not None
    b = project(p, t).layers[0].bytes
    assert b < 50_000 * 512  # far below the table
    assert b == pytest.approx((16 + 2 * 16 * 512) * 2)


def test_precision_fallback_is_reported(catalog: Catalog) -> None:
    t4 = catalog.accelerator("T4")
    a100 = catalog.accelerator("A100-SXM4-80GB")
    assert t4 is not None and a100 is not None
    assert make_target(t4, PeakPrecision.BF16).precision is PeakPrecision.FP16  # type: ignore[union-attr]
    assert make_target(a100, PeakPrecision.FP8).precision is PeakPrecision.BF16  # type: ignore[union-attr]


def test_throughput_curve_and_largest_batch(catalog: Catalog) -> None:
    l4 = catalog.accelerator("L4")
    assert l4 is not None
    wl = Workload.from_profile(mlp())
    t = make_target(l4, PeakPrecision.FP16)
    assert t is not None
    curve = throughput_curve(wl, t, [1, 2, 4, 8, 16, 32, 64, 128])
    lat = [c.latency_ms for c in curve]
    thr = [c.throughput_per_s for c in curve]
    assert lat == sorted(lat) and thr == sorted(thr)
    assert all(c.latency_source == PROJECTED for c in curve)
    slo = curve[4].latency_ms * 1.0001
    b = largest_serving_batch(wl, t, slo_ms=slo, max_batch=1024)
    assert b is not None and 16 <= b < 32
    assert latency_s(wl, t, b) * 1e3 <= slo and latency_s(wl, t, b + 1) * 1e3 > slo
    assert largest_serving_batch(wl, t, slo_ms=1e-6, max_batch=64) is None
    # memory: a tiny card caps the batch
    small = make_target(toy_gpu(memory=0.012), PeakPrecision.FP16)
    assert small is not None
    capped = largest_serving_batch(wl, small, slo_ms=None, max_batch=10_000)
    assert capped is not None and 1 < capped < 10_000
    assert (
        serving_memory_bytes(wl, small, capped) <= 0.012 * 1024**3 * 0.9 < serving_memory_bytes(wl, small, capped + 1)
    )


def test_calibration_per_layer_type() -> None:
    local = cpu_spec("test-cpu", cores=2, ghz=2.0, simd_bits=256, fma_units=2, bandwidth_gb_s=20.0)
    assert local.fp32_tflops == pytest.approx(2.0 * 2 * 8 * 2 * 2 / 1e3)
    big = linear("mm", 1024, 1024, (64,))
    act = layer("act", "ReLU", inputs=[(64, 1024)], outputs=[(64, 1024)])
    wl = Workload.from_profile(make_profile([big, act], batch=64))
    ideal = make_target(local, PeakPrecision.FP32, efficiency=IDEAL)
    assert ideal is not None
    times = project(wl, ideal).layers
    measured = make_profile(
        [linear("mm", 1024, 1024, (64,), latency_ms=times[0].time_ms * 3),
         layer("act", "ReLU", inputs=[(64, 1024)], outputs=[(64, 1024)], latency_ms=times[1].time_ms * 0.5)],
        batch=64,
    )  # fmt: skip
    cal = calibrate(measured, local)
    assert cal.factor("Linear") == pytest.approx(3.0)
    assert cal.factor("ReLU") == 1.0  # faster than the spec's roofline: clamped
    gpu = toy_gpu()
    base = make_target(gpu, PeakPrecision.FP32, efficiency=Efficiency(1.0, 1.0, 0.0))
    tuned = make_target(gpu, PeakPrecision.FP32, efficiency=Efficiency(1.0, 1.0, 0.0), calibration=cal)
    assert base is not None and tuned is not None
    pb, pt = project(wl, base), project(wl, tuned)
    assert pt.latency_source == PROJECTED_CALIBRATED and pt.calibrated
    assert pt.layers[0].time_ms == pytest.approx(3 * pb.layers[0].time_ms)
    with pytest.raises(ValueError, match="no per-layer latency"):
        calibrate(make_profile([big]), local)


def test_projection_round_trips() -> None:
    t = make_target(toy_gpu(), PeakPrecision.FP16)
    assert t is not None
    proj = project(two_layer_profile(), t)
    again = Projection.from_dict(json.loads(json.dumps(proj.to_dict())))
    assert again == proj
    again.check()


@pytest.mark.parametrize("batch", [1, 3, 64])
@pytest.mark.parametrize("calibrated", [False, True])
def test_fast_latency_matches_the_per_layer_projection(catalog: Catalog, batch: int, calibrated: bool) -> None:
    from plan_fixtures import resnet50

    prof = resnet50(batch=2)
    wl = Workload.from_profile(prof)
    cal = None
    if calibrated:
        local = cpu_spec("cpu", cores=2, ghz=2.0, bandwidth_gb_s=20.0)
        measured = make_profile([replace(r, latency_ms=1.0) for r in prof.layers], batch=2, inputs=prof.inputs)
        cal = calibrate(measured, local)
    for acc in catalog.accelerators:
        t = make_target(acc, PeakPrecision.FP16, calibration=cal)
        if t is None:
            continue
        proj = project(wl, t, batch)
        proj.check()
        assert latency_s(wl, t, batch) * 1e3 == pytest.approx(proj.latency_ms, rel=1e-9)
