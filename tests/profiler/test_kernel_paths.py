"""Kernel-path prediction per layer and its check against measurement (issue 15, item 5).

Synthetic rows and fake CPU flags for every rule; the measurement check on hand-built profiles
(noise never flagged, smaller-but-slower found beyond the spread); the sweep table's block; one
real check: demo:mlp counted on this machine, fp16 predicted from this CPU's flags.
"""

from __future__ import annotations

from typing import Any

import pytest

from profiler.kernel_paths import (
    FASTER,
    SAME,
    SLOWER,
    UNKNOWN,
    DeviceFacts,
    KernelPath,
    check_against_measurement,
    classify,
    findings_lines,
    predict_layer,
    predict_variant,
)
from profiler.result import LatencyStats, LayerRow, ModelInfo, Profile, RunConfig, Totals
from profiler.sweep import build_sweep, render_sweep
from profiler.variant import Variant
from profiler.whatif import VariantResult

AVX512_VNNI = frozenset({"avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_vnni"})
AVX2_ONLY = frozenset({"avx", "avx2", "fma", "f16c"})
SPR = AVX512_VNNI | {"avx512_bf16", "avx512_fp16", "amx_bf16", "amx_int8", "amx_tile"}
CPU = DeviceFacts("cpu", AVX512_VNNI)


def row(
    name: str = "fc1",
    type: str = "Linear",  # noqa: A002
    *,
    params: int = 512 * 784 + 512,
    macs: int = 512 * 784,
    weight_bytes: int | None = None,
    latency: float | None = None,
    spread: float = 0.0,
    shapes: tuple[tuple[int, ...], tuple[int, ...]] | None = None,
    activation_bytes: int = 4096,
) -> LayerRow:
    if shapes is None:
        shapes = ((1, 784), (1, 512)) if type == "Linear" else ((1, 64, 56, 56), (1, 64, 56, 56))
    return LayerRow(
        name=name,
        type=type,
        params=params,
        macs=macs,
        flops=2 * macs,
        weight_bytes=4 * params if weight_bytes is None else weight_bytes,
        activation_bytes=activation_bytes,
        latency_ms=latency,
        counted=True,
        input_shapes=(shapes[0],),
        output_shapes=(shapes[1],),
        latency_p10_ms=None if latency is None else latency - spread,
        latency_p90_ms=None if latency is None else latency + spread,
    )


def conv(name: str = "layer1.0.conv1", cin: int = 64, cout: int = 64, **kw: Any) -> LayerRow:
    macs = cin * cout * 9 * 56 * 56
    return row(name, "Conv2d", params=cin * cout * 9, macs=macs, shapes=((1, cin, 56, 56), (1, cout, 56, 56)), **kw)


def profile(*layers: LayerRow, precision: str = "fp32", noisy: bool = False, spread: float = 0.02) -> Profile:
    lat = sum(r.latency_ms or 0 for r in layers) or None
    return Profile(
        model=ModelInfo("m", "demo:m", "demo"),
        inputs=(),
        config=RunConfig(precision=precision),
        environment=None,
        totals=Totals(
            params=sum(r.params for r in layers),
            macs=sum(r.macs for r in layers),
            flops=sum(r.flops for r in layers),
            weight_bytes=sum(r.weight_bytes for r in layers),
            activation_bytes=sum(r.activation_bytes for r in layers),
            latency_ms=None
            if lat is None
            else LatencyStats(lat, lat * (1 - spread), lat * (1 + spread), 20, noisy=noisy),
        ),
        layers=tuple(layers),
    )


def predict(r: LayerRow, facts: DeviceFacts = CPU, variant_row: LayerRow | None = None, **knobs: Any) -> KernelPath:
    return predict_layer(r, Variant(**knobs), facts, variant_row)


# --- classification --------------------------------------------------------------------------------


def test_classify_layers() -> None:
    assert classify(row()) == "linear"
    assert classify(row(type="Gemm")) == "linear"
    assert classify(conv()) == "conv"
    assert classify(row(type="Conv")) == "conv"
    assert classify(row(type="Conv1D")) == "linear"  # Hugging Face's transposed Linear
    assert classify(row(type="MatMul", params=0)) == "matmul"
    assert classify(row(type="MultiheadAttention")) == "matmul"
    assert classify(row(type="LayerNorm", params=1024, macs=0)) == "memory"
    assert classify(row(type="ReLU", params=0, macs=0)) == "memory"
    assert classify(row(type="BatchNorm2d", params=128, macs=200_000)) == "memory"


# --- precision rules on the CPU ------------------------------------------------------------------


def test_int8_linear_with_vnni_is_fast() -> None:
    k = predict(row(), precision="int8")
    assert (k.verdict, k.kind) == (FASTER, "linear")
    assert "VNNI (avx512_vnni)" in k.reason
    assert "amx_int8" in predict(row(), DeviceFacts("cpu", SPR), precision="int8").reason


def test_int8_linear_on_avx2_and_without_simd() -> None:
    k = predict(row(), DeviceFacts("cpu", AVX2_ONLY), precision="int8")
    assert k.verdict == FASTER and "vpmaddubsw" in k.reason and "modest" in k.reason
    k = predict(row(), DeviceFacts("cpu", frozenset({"sse4_2"})), precision="int8")
    assert k.verdict == SLOWER


def test_int8_small_linear_and_unconverted_layers() -> None:
    small = row("head", params=2570, macs=2560, shapes=((1, 256), (1, 10)))
    assert predict(small, precision="int8").verdict == SAME  # quantizing the input costs what int8 saves
    k = predict(conv(), precision="int8")
    assert k.verdict == SAME and "stays fp32" in k.reason
    assert predict(row("ln", "LayerNorm", params=1024, macs=0), precision="int8").verdict == SAME
    # a Linear the quantizer left in fp32 (tied to the embedding): its counted row has fp32 weights
    tied = row("lm_head")
    assert predict(tied, variant_row=tied, precision="int8").verdict == SAME
    quantized = row("fc1", weight_bytes=512 * 784 + 4 * 512)
    assert predict(row(), variant_row=quantized, precision="int8").verdict == FASTER
    # ONNX Runtime int8 convolutions depend on the quantization mode
    assert predict(conv(), precision="int8", runtime="onnxruntime").verdict == UNKNOWN


def test_fp16_on_cpu() -> None:
    k = predict(row(), precision="fp16")
    assert k.verdict == SLOWER
    assert k.reason == "fp16 on this CPU (no avx512_fp16/amx_fp16): no fast path, expect slower"
    k = predict(row(), DeviceFacts("cpu", SPR), precision="fp16")
    assert k.verdict == FASTER and "avx512_fp16" in k.reason
    small = row("fc2", params=512 * 256, macs=512 * 256, shapes=((1, 512), (1, 256)))
    k = predict(small, DeviceFacts("cpu", SPR), precision="bf16")
    assert k.verdict == SAME and "per-call" in k.reason  # a fast path, but setup costs what it saves
    k = predict(row("ln", "LayerNorm", params=1024, macs=0), precision="fp16")
    assert k.verdict == SAME and "memory-bound" in k.reason and "bytes only" in k.reason


def test_bf16_on_cpu() -> None:
    k = predict(conv(), DeviceFacts("cpu", SPR), precision="bf16")
    assert k.verdict == FASTER and "amx_bf16" in k.reason
    assert predict(conv(), precision="bf16").verdict == SAME  # AVX-512 without bf16: converted to fp32
    assert predict(conv(), DeviceFacts("cpu", AVX2_ONLY), precision="bf16").verdict == SLOWER
    ne_convert = DeviceFacts("cpu", AVX2_ONLY | {"avx_ne_convert", "avx_vnni"})
    assert predict(conv(), ne_convert, precision="bf16").verdict == SAME
    assert predict(conv(), ne_convert, precision="fp16").verdict == SAME  # converts, computes in fp32


def test_unknown_flags_fp32_and_tf32() -> None:
    assert predict(row(), DeviceFacts("cpu"), precision="fp16").verdict == UNKNOWN
    k = predict(row())
    assert (k.verdict, k.reason) == (SAME, "same kernel as the baseline")
    assert predict(row(), runtime="onnxruntime").verdict == UNKNOWN
    assert predict(row(), precision="tf32").verdict == UNKNOWN


# --- pruning ---------------------------------------------------------------------------------------


def test_unstructured_sparsity_runs_dense_kernels() -> None:
    k = predict(conv(), prune=0.5, prune_method="unstructured")
    assert k.verdict == SAME and k.reason == "unstructured sparsity: dense kernels, no speedup"


def test_structured_pruning_and_channel_multiples() -> None:
    ragged = predict(conv(), variant_row=conv(cout=45), prune=0.3)
    assert ragged.verdict == FASTER
    assert "structured pruning to 45 channels: not a multiple of 16" in ragged.reason and "SIMD tail" in ragged.reason
    aligned = predict(conv(), variant_row=conv(cout=48), prune=0.3)
    assert aligned.verdict == FASTER and "multiple of 16" in aligned.reason and "not a" not in aligned.reason
    padded = predict(conv(), variant_row=conv(cout=60), prune=0.1)
    assert padded.verdict == SAME and "padded back to 64" in padded.reason
    assert "multiple of 8" in predict(conv(), DeviceFacts("cpu", AVX2_ONLY), conv(cout=44), prune=0.3).reason
    # before counting: estimated from the ratio
    est = predict(conv(), prune=0.5)
    assert est.verdict == FASTER and "about 32 channels" in est.reason
    # the next layer: its input side shrank
    head = row("head", params=2570, macs=2560, shapes=((1, 256), (1, 10)))
    k = predict(head, variant_row=row("head", params=1800, macs=1790, shapes=((1, 179), (1, 10))), prune=0.3)
    assert k.verdict == FASTER and "to 179 input channels: not a multiple of 16" in k.reason
    # a layer the pruner left alone
    assert predict(conv(), variant_row=conv(), prune=0.5).verdict == SAME


def test_slower_precision_and_faster_pruning_combine_to_unknown() -> None:
    k = predict(conv(), variant_row=conv(cout=32), prune=0.5, precision="fp16")
    assert k.verdict == UNKNOWN and "structured pruning" in k.reason and "fp16" in k.reason


# --- CUDA ------------------------------------------------------------------------------------------


def test_cuda_tensor_core_rules() -> None:
    ampere, turing = DeviceFacts("cuda", cuda_capability=(8, 0)), DeviceFacts("cuda", cuda_capability=(7, 5))
    k = predict(row(), ampere, precision="fp16", device="cuda")
    assert k.verdict == FASTER and "tensor cores" in k.reason and "multiples of 8" in k.reason
    odd = row(shapes=((1, 785), (1, 511)))
    assert predict(odd, turing, precision="fp16", device="cuda").verdict == SAME
    assert "padding" in predict(odd, ampere, precision="fp16", device="cuda").reason
    assert predict(row(), turing, precision="bf16", device="cuda").verdict == SLOWER
    assert predict(row(), ampere, precision="tf32", device="cuda").verdict == FASTER
    assert predict(row(), DeviceFacts("cuda"), precision="fp16", device="cuda").verdict == UNKNOWN
    big_norm = row("ln", "LayerNorm", params=0, macs=0, activation_bytes=8 << 20)
    assert predict(big_norm, ampere, precision="fp16", device="cuda").verdict == FASTER
    assert predict(row(), ampere, precision="int8", device="cuda").verdict == UNKNOWN


def test_predict_variant_covers_every_baseline_layer() -> None:
    base = profile(row(), row("act1", "ReLU", params=0, macs=0), row("fc2", params=512 * 256, macs=512 * 256))
    ks = predict_variant(base, Variant(precision="int8"), CPU)
    assert [k.layer for k in ks] == ["fc1", "act1", "fc2"]
    assert [k.verdict for k in ks] == [FASTER, SAME, FASTER]


# --- the measurement check ------------------------------------------------------------------------


def test_noise_is_never_a_finding() -> None:
    base = profile(conv(latency=1.0, spread=0.3))
    # 25 % slower and 45 % fewer MACs, but inside the spreads
    var = profile(conv(cout=35, latency=1.25, spread=0.3))
    assert check_against_measurement(base, var, predict_variant(base, Variant(prune=0.45), CPU)) == []
    # beyond the spreads but under the minimum effect
    assert check_against_measurement(profile(conv(latency=1.0)), profile(conv(cout=35, latency=1.02))) == []
    # no spread recorded: nothing to tell noise from signal
    no_spread = profile(conv(cout=35, latency=2.0))
    no_spread = no_spread.with_latency(layers=(row_without_spread(no_spread.layers[0]),))
    assert check_against_measurement(profile(conv(latency=1.0)), no_spread) == []
    # a noisy end-to-end timing (±25 %): the bar rises to its relative spread (50 %)
    noisy = profile(conv(cout=35, latency=1.4, spread=0.05), noisy=True, spread=0.25)
    assert check_against_measurement(profile(conv(latency=1.0)), noisy) == []
    noisy = profile(conv(cout=35, latency=1.6, spread=0.05), noisy=True, spread=0.25)
    assert [f.layer for f in check_against_measurement(profile(conv(latency=1.0)), noisy)] == ["layer1.0.conv1"]


def row_without_spread(r: LayerRow) -> LayerRow:
    from dataclasses import replace

    return replace(r, latency_p10_ms=None, latency_p90_ms=None)


def test_smaller_but_slower_beyond_the_spread() -> None:
    base = profile(conv(latency=1.0, spread=0.05), conv("layer1.0.conv2", latency=1.0, spread=0.05))
    var = profile(conv(cout=35, latency=1.2, spread=0.05), conv("layer1.0.conv2", cin=35, latency=0.6, spread=0.05))
    variant = Variant(prune=0.45)
    ks = predict_variant(base, variant, CPU, var)
    found = check_against_measurement(base, var, ks)
    assert [f.layer for f in found] == ["layer1.0.conv1"]
    f = found[0]
    assert "smaller but slower" in f.flags and "predicted faster, measured slower" in f.flags
    assert f.ratio == pytest.approx(1.2) and f.macs_change == pytest.approx(35 / 64)
    assert "measured 1.2× slower" in f.text() and "−45 % MACs" in f.text()


def test_predicted_faster_measured_slower_and_order() -> None:
    base = profile(
        row(latency=0.2, spread=0.01), row("fc2", params=512 * 256, macs=512 * 256, latency=0.1, spread=0.01)
    )
    q = 512 * 784 + 4 * 512
    var = profile(
        row(weight_bytes=q, latency=0.26, spread=0.01),
        row("fc2", params=512 * 256, macs=512 * 256, weight_bytes=512 * 260, latency=0.2, spread=0.01),
        precision="int8",
    )
    ks = predict_variant(base, Variant(precision="int8"), CPU, var)
    found = check_against_measurement(base, var, ks)
    assert [f.layer for f in found] == ["fc2", "fc1"]  # the most added time first
    assert found[0].text().startswith("fc2: predicted faster (int8 Linear: fast path via FBGEMM/oneDNN VNNI")
    assert "measured 2× slower" in found[0].text()
    assert "−75 % weight bytes" in found[1].text()
    lines = findings_lines("int8", ks, found, limit=1)
    assert lines[0].startswith("int8 · fc2: predicted faster") and "1 more" in lines[1]


def test_predicted_slower_measured_faster() -> None:
    base = profile(row(latency=1.0, spread=0.05))
    var = profile(row(latency=0.5, spread=0.05), precision="fp16")
    ks = predict_variant(base, Variant(precision="fp16"), CPU, var)
    (f,) = check_against_measurement(base, var, ks)
    assert f.flags == ("predicted slower, measured faster",) and "2× faster" in f.text()


# --- the sweep table -------------------------------------------------------------------------------


def _entry(variant: Variant, base: Profile, var: Profile) -> VariantResult:
    return VariantResult(variant, var, base, None, {"latency": 1.0, "params": 1.0, "macs": 1.0})


def test_render_sweep_adds_a_block_only_when_there_is_something_to_say() -> None:
    base = profile(conv(latency=1.0, spread=0.05), conv("layer1.0.conv2", latency=1.0, spread=0.05))
    pruned = profile(conv(cout=35, latency=1.2, spread=0.05), conv("layer1.0.conv2", cin=35, latency=0.6, spread=0.05))
    fp16 = profile(conv(latency=1.5, spread=0.05), conv("layer1.0.conv2", latency=1.5, spread=0.05), precision="fp16")
    quiet = profile(conv(latency=1.01, spread=0.05), conv("layer1.0.conv2", latency=0.99, spread=0.05))
    model = ModelInfo("m", "demo:m", "demo")
    results = [
        _entry(Variant(), base, quiet),
        _entry(Variant(prune=0.45), base, pruned),
        _entry(Variant(precision="fp16"), base, fp16),
    ]
    text = render_sweep(build_sweep(model, base, results), CPU)
    block = text.split("per layer: kernel path")[1].splitlines()[1:]
    assert block[0].startswith("! prune 0.45 structured · fp32 · layer1.0.conv1: predicted faster (structured")
    assert "smaller (−45 % MACs)" in block[0]
    assert block[1] == (
        "! fp16 · predicted slower before timing: layer1.0.conv1, layer1.0.conv2 "
        "(fp16 on this CPU (no avx512_fp16/amx_fp16): no fast path, expect slower)"
    )
    assert len(block) == 2  # the baseline-like variant inside its spread says nothing
    # nothing beyond noise and nothing predicted slower: the table as before
    plain = render_sweep(build_sweep(model, base, [_entry(Variant(), base, quiet)]), CPU)
    assert "per layer" not in plain and not plain.splitlines()[-1].startswith("!")


# --- a real model on this machine ------------------------------------------------------------------


def test_demo_mlp_fp16_prediction_follows_this_cpu() -> None:
    from profiler.analyze import ProfileRequest, profile_model
    from profiler.environment import cpu_flags
    from profiler.loading import load_model

    counted = profile_model(load_model("demo:mlp"), ProfileRequest(latency=False, layer_latency=False))
    facts = DeviceFacts.detect("cpu")
    ks = {k.layer: k for k in predict_variant(counted, Variant(precision="fp16"), facts)}
    assert ks["fc1"].kind == "linear" and ks["act1"].kind == "memory"
    flags = cpu_flags()
    if not flags:
        expected = UNKNOWN
    elif {"avx512_fp16", "amx_fp16"} & flags:
        expected = FASTER
    else:
        expected = SLOWER
    assert ks["fc1"].verdict == expected
    assert ks["act1"].verdict == (UNKNOWN if not flags else SAME)
