"""Honest speedup prediction per layer: does this device have a fast kernel for the variant?

Before a variant is timed, each layer of the baseline gets a `KernelPath`: a verdict ("faster",
"about the same", "slower", "unknown") and the reason in words, from the device's facts (CPU
feature flags from /proc/cpuinfo, the CUDA compute capability) and the layer's kind. After
timing, `check_against_measurement` compares each layer's measured change with the prediction
and flags "smaller but slower" layers. Rule-based, Qt-free and torch-free (the CUDA capability
comes from NVML, like profiler/environment.py).

Layer kinds (from `LayerRow.type`, params and MACs): *linear* (nn.Linear, HF Conv1D, ONNX
Gemm/MatMul with weights), *conv* (Conv1d/2d/3d, ConvTranspose, ONNX Conv), *matmul*
(attention and activation × activation products: MACs without weights), *memory*
(normalisation, activations, elementwise, embedding lookups, anything without MACs) and *other*.

Where each rule comes from:

- int8 on CPU, torch runtime: torch dynamic quantization swaps `nn.Linear` only
  (profiler/torch_backend/precision.py; PyTorch "Quantization" docs: dynamic quantization
  supports Linear and RNN layers), so convolutions, attention matmuls and memory-bound layers
  keep their fp32 kernels. The quantized Linear runs on the x86 quantized engine (FBGEMM /
  oneDNN, `torch.backends.quantized.engine`): with VNNI (`avx512_vnni`, `avx_vnni`) or AMX
  (`amx_int8`) 8-bit dot products accumulate in int32 in one instruction; on AVX2 without VNNI
  FBGEMM multiplies 8-bit values with `vpmaddubsw` + `vpmaddwd` (modest gain); without AVX2
  there is no vectorised int8 kernel. Activations are quantized on every call (dynamic), so a
  small layer's overhead eats the gain.
- int8, ONNX Runtime: MLAS int8 GEMM uses the same VNNI/AMX/AVX2 instructions for
  MatMulInteger / DynamicQuantizeMatMul; the speed of int8 convolutions depends on the
  quantization mode (ConvInteger from dynamic quantization vs QLinearConv from static), so it
  is "unknown".
- fp16 on CPU: PyTorch routes half matmuls and convolutions to oneDNN only when the CPU
  supports it (aten/src/ATen/native/mkldnn/Utils.h, `mkldnn_fp16_device_check`: "fp16 path
  needs the cpu support avx_ne_convert or avx512_fp16"); `avx512_fp16` / `amx_fp16` compute in
  fp16, `avx_ne_convert` only converts (math in fp32: bytes halved only); elsewhere the
  reference kernels convert per element: slower than fp32.
- bf16 on CPU: oneDNN has native bf16 kernels with `avx512_bf16` (AVX512-BF16 dot products) or
  `amx_bf16`; with `avx_ne_convert` or plain AVX-512 (`mkldnn_bf16_device_check`: "bf16 path
  needs the cpu support avx_ne_convert or avx512bw, avx512vl and avx512dq") it converts to fp32
  to compute (bytes halved, math not); without either there is no oneDNN bf16 path.
- Small 16-bit GEMMs on CPU (under `SMALL_HALF_MACS` per call): in eager mode oneDNN pays a
  per-call primitive lookup and weight reorder/conversion (oneDNN "Memory format propagation"
  and primitive-cache docs), which costs about what the 16-bit math saves: "about the same".
- Memory-bound layers (norms, activations, elementwise): a precision change halves or quarters
  the bytes moved but not the work; CPU kernels for half types convert to fp32 to compute.
- CUDA: fp16 tensor cores from compute capability 7.0 (Volta), bf16 and TF32 from 8.0
  (Ampere). NVIDIA's "Deep Learning Performance" guide (Matrix multiplication background,
  tensor core requirements): tensor cores are used most efficiently when the GEMM/conv
  dimensions are multiples of 8 for fp16/bf16, 16 for int8, 4 for TF32; before sm_80 dimensions
  that are not such multiples fall back to CUDA cores. int8 on CUDA here is torchao weight-only
  int8: weights read in 8 bits, math in floating point, a gain only where weight reads dominate.
- Unstructured pruning zeroes weights inside dense tensors: dense kernels still multiply the
  zeros, no speedup (PyTorch `torch.nn.utils.prune` docs: masks, dense storage).
- Structured pruning removes channels: fewer MACs, but oneDNN blocks channels by the vector
  width (16 fp32 lanes with AVX-512, `nChw16c`; 8 with AVX2, `nChw8c`), so a channel count that
  is not a multiple of the width runs a padded block or a SIMD tail. When the padded count is
  not below the baseline's, no gain is expected.

A verdict is a prediction, never a measurement; `check_against_measurement` reports only
changes beyond both rows' p10–p90 spreads (and at least `MIN_EFFECT`), so noise is never shown
as a finding.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .comparison import MIN_EFFECT
from .precision_share import is_int8_row
from .result import LayerRow, Profile

__all__ = [
    "FASTER",
    "SAME",
    "SLOWER",
    "UNKNOWN",
    "VERDICTS",
    "DeviceFacts",
    "Finding",
    "KernelPath",
    "check_against_measurement",
    "classify",
    "findings_lines",
    "kernel_paths_record",
    "layer_measurement",
    "minimum_effect",
    "record_for_result",
    "summary_text",
    "predict_layer",
    "predict_variant",
]

FASTER = "faster"
SAME = "about the same"
SLOWER = "slower"
UNKNOWN = "unknown"
VERDICTS = (FASTER, SAME, SLOWER, UNKNOWN)

#: int8 dynamic quantization quantizes activations on every call: below this many MACs per call
#: the overhead is about what the int8 math saves.
SMALL_INT8_MACS = 65_536
#: a memory-bound CUDA kernel smaller than this is bound by launch overhead, not by bytes
SMALL_CUDA_BYTES = 1 << 20
#: an fp16/bf16 CPU GEMM or convolution below this many MACs per call is dominated by oneDNN's
#: per-call costs in eager mode (primitive lookup, weight reorder/conversion), not by the math
SMALL_HALF_MACS = 262_144

_LINEAR_TYPES = frozenset({
    "Linear", "LazyLinear", "NonDynamicallyQuantizableLinear", "Conv1D", "Gemm", "QGemm",
    "MatMulInteger", "MatMulIntegerToFloat", "DynamicQuantizeMatMul", "QLinearMatMul", "FusedMatMul",
})  # fmt: skip
_MATMUL_TYPES = frozenset({"MatMul", "bmm", "matmul", "Einsum", "einsum", "baddbmm", "ScaledDotProductAttention"})
_MEMORY_WORDS = (
    "Norm", "ReLU", "GELU", "SiLU", "Sigmoid", "Tanh", "Softmax", "Dropout", "Embedding", "Add", "Mul",
    "Pool", "Identity", "Flatten", "Reshape", "Transpose", "Concat", "Gather", "Hardswish", "Mish",
)  # fmt: skip

_VNNI = ("amx_int8", "avx512_vnni", "avx_vnni")


@dataclass(frozen=True)
class DeviceFacts:
    """What the rules read about the device: CPU flags (as in /proc/cpuinfo) and, on CUDA, the
    compute capability. Tests pass fake facts; `detect` reads this machine."""

    device: str = "cpu"
    cpu_flags: frozenset[str] = frozenset()
    cuda_capability: tuple[int, int] | None = None

    @classmethod
    def detect(cls, device: str = "cpu") -> DeviceFacts:
        from .environment import cpu_flags

        capability = _nvml_capability() if str(device) == "cuda" else None
        return cls(device=str(device), cpu_flags=frozenset(cpu_flags()), cuda_capability=capability)

    def has(self, *flags: str) -> str | None:
        """The first of `flags` this CPU has, or None."""
        return next((f for f in flags if f in self.cpu_flags), None)

    @property
    def simd_lanes_fp32(self) -> int:
        """fp32 lanes of the widest vector unit (oneDNN's channel block): 16, 8 or 4."""
        if "avx512f" in self.cpu_flags:
            return 16
        if "avx2" in self.cpu_flags or "avx" in self.cpu_flags:
            return 8
        return 4


def _nvml_capability() -> tuple[int, int] | None:
    """The first NVIDIA GPU's compute capability, through the one NVML reader the project has."""
    from .environment import nvidia_gpu

    gpu = nvidia_gpu()
    return None if gpu is None else gpu.capability


@dataclass(frozen=True)
class KernelPath:
    """The predicted effect of a variant on one layer, before timing."""

    layer: str
    kind: str
    verdict: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"layer": self.layer, "kind": self.kind, "verdict": self.verdict, "reason": self.reason}


def classify(row: LayerRow) -> str:
    """linear, conv, matmul, memory or other (see the module docstring)."""
    t = row.type
    if row.macs <= 0:
        return "memory"
    if t in _LINEAR_TYPES:
        return "linear"
    if t in ("Conv", "ConvInteger", "QLinearConv", "QLinearConvTranspose") or (t.startswith("Conv") and t != "Conv1D"):
        return "conv"
    if t in _MATMUL_TYPES or "Attention" in t or "attention" in t:
        return "matmul"
    if any(w in t for w in _MEMORY_WORDS):
        return "memory"
    if t in ("MatMul",) or row.params == 0:
        return "matmul"
    return "other"


def _dims(row: LayerRow | None, kind: str) -> tuple[int | None, int | None]:
    """(input channels / features, output channels / features) from the row's shapes."""
    if row is None:
        return None, None

    def pick(shapes: tuple[tuple[int, ...], ...]) -> int | None:
        if not shapes or not shapes[0]:
            return None
        s = shapes[0]
        if kind == "conv":
            return s[1] if len(s) >= 3 else None
        return s[-1]

    return pick(row.input_shapes), pick(row.output_shapes)


def _verb(v: Any) -> str:
    return str(getattr(v, "value", v))


def _precision_rule(
    row: LayerRow, kind: str, variant: Any, facts: DeviceFacts, variant_row: LayerRow | None
) -> tuple[str, str] | None:
    precision = _verb(variant.precision)
    if precision == "fp32":
        return None
    device = _verb(variant.device)
    if device == "cuda":
        return _cuda_precision(row, kind, precision, facts, variant_row)
    if not facts.cpu_flags:
        return UNKNOWN, f"{precision}: this CPU's feature flags are unknown"
    compute = kind in ("linear", "conv", "matmul", "other")
    if precision == "tf32":
        return UNKNOWN, "tf32 exists on CUDA only"
    if precision == "int8":
        return _cpu_int8(row, kind, variant, facts, variant_row)
    if not compute:
        return SAME, f"memory-bound ({row.type}): {precision} changes bytes only; CPU kernels compute in fp32"
    if precision == "fp16":
        flag = facts.has("amx_fp16", "avx512_fp16")
        if flag:
            return _small_half(row) or (FASTER, f"fp16 {row.type} with {flag}: oneDNN fp16 fast path")
        if "avx_ne_convert" in facts.cpu_flags:
            return SAME, "fp16 with avx_ne_convert only: oneDNN converts to fp32, bytes halved only"
        return SLOWER, "fp16 on this CPU (no avx512_fp16/amx_fp16): no fast path, expect slower"
    if precision == "bf16":
        flag = facts.has("amx_bf16", "avx512_bf16")
        if flag:
            return _small_half(row) or (FASTER, f"bf16 {row.type} with {flag}: oneDNN bf16 fast path")
        if {"avx512bw", "avx512vl", "avx512dq"} <= facts.cpu_flags or "avx_ne_convert" in facts.cpu_flags:
            return SAME, "bf16 without avx512_bf16/amx_bf16: oneDNN converts to fp32, bytes halved only"
        return SLOWER, "bf16 without AVX-512 (no avx512_bf16/amx_bf16): no oneDNN bf16 path, expect slower"
    return UNKNOWN, f"{precision}: no rule for this precision"


def _small_half(row: LayerRow) -> tuple[str, str] | None:
    if 0 < row.macs < SMALL_HALF_MACS:
        return (
            SAME,
            f"small {row.type} ({row.macs:,} MACs): oneDNN's per-call reorder and setup cost about what 16-bit math saves",
        )
    return None


def _cpu_int8(
    row: LayerRow, kind: str, variant: Any, facts: DeviceFacts, variant_row: LayerRow | None
) -> tuple[str, str]:
    onnxruntime = _verb(variant.runtime) == "onnxruntime" if variant.runtime else False
    if kind == "conv" and onnxruntime:
        return UNKNOWN, "int8 convolution in ONNX Runtime: ConvInteger (dynamic) vs QLinearConv (static) kernels differ"
    if kind != "linear":
        what = "ONNX Runtime quantizes" if onnxruntime else "torch dynamic quantization converts"
        return SAME, f"int8: {what} Linear/MatMul only; {row.type} stays fp32"
    if variant_row is not None and not onnxruntime and not is_int8_row(variant_row, "int8"):
        return SAME, f"int8: {row.type} was left in fp32 (e.g. tied to the embedding)"
    engine = "MLAS" if onnxruntime else "FBGEMM/oneDNN"
    flag = facts.has(*_VNNI)
    if flag:
        verdict, reason = FASTER, f"int8 Linear: fast path via {engine} VNNI ({flag})"
    elif "avx2" in facts.cpu_flags:
        verdict, reason = FASTER, "int8 Linear on AVX2 without VNNI: 8-bit multiply via vpmaddubsw, modest speedup"
    else:
        return SLOWER, "int8 Linear without AVX2: no vectorised int8 kernel, expect slower"
    if not onnxruntime and 0 < row.macs < SMALL_INT8_MACS:
        return (
            SAME,
            f"small int8 Linear ({row.macs:,} MACs): per-call activation quantization costs about what int8 saves",
        )
    return verdict, reason


def _aligned(dims: Iterable[int | None], multiple: int) -> bool:
    return all(d is None or d % multiple == 0 for d in dims)


def _cuda_precision(
    row: LayerRow, kind: str, precision: str, facts: DeviceFacts, variant_row: LayerRow | None
) -> tuple[str, str]:
    cap = facts.cuda_capability
    if cap is None:
        return UNKNOWN, "CUDA compute capability unknown"
    sm = f"sm_{cap[0]}{cap[1]}"
    compute = kind in ("linear", "conv", "matmul", "other")
    if not compute:
        if precision in ("fp16", "bf16"):
            if row.activation_bytes >= SMALL_CUDA_BYTES:
                return FASTER, f"memory-bound ({row.type}): {precision} moves half the bytes"
            return SAME, f"small memory-bound kernel ({row.type}): launch overhead, not bytes"
        return SAME, f"memory-bound ({row.type}): {precision} does not change its kernel"
    if precision == "int8":
        if kind == "linear":
            return (
                UNKNOWN,
                "CUDA int8 (torchao weight-only): int8 weights, float math; faster only when weight reads dominate",
            )
        return SAME, f"CUDA int8 (torchao weight-only) converts Linear only; {row.type} unchanged"
    need = (8, 0) if precision in ("bf16", "tf32") else (7, 0)
    multiple = 4 if precision == "tf32" else 8
    if cap < need:
        if precision == "bf16":
            return SLOWER, f"bf16 on {sm}: tensor cores need sm_80, emulated, expect slower"
        return SAME, f"{precision} on {sm}: no tensor cores for it before sm_{need[0]}{need[1]}"
    dims = _dims(variant_row or row, kind)
    label = "tf32" if precision == "tf32" else "fp16/bf16"
    if _aligned(dims, multiple):
        return FASTER, f"CUDA {label}: tensor cores (dims multiples of {multiple})"
    shown = "×".join(str(d) for d in dims if d is not None)
    if cap >= (8, 0):
        return (
            FASTER,
            f"CUDA {label}: dims {shown} not multiples of {multiple}, tensor cores with padding, part of the gain lost",
        )
    return SAME, f"CUDA {label} on {sm}: dims {shown} not multiples of {multiple}, no tensor cores"


def _prune_rule(
    row: LayerRow, kind: str, variant: Any, facts: DeviceFacts, variant_row: LayerRow | None
) -> tuple[str, str] | None:
    ratio = dict(variant.layer_prune).get(row.name, variant.prune)
    if not variant.pruned or (ratio <= 0 and variant_row is None):
        return None
    if _verb(variant.method) == "unstructured":
        if kind == "memory":
            return None
        return SAME, "unstructured sparsity: dense kernels, no speedup"
    if variant_row is not None and variant_row.macs >= row.macs and variant_row.params >= row.params:
        if kind == "memory" and variant_row.activation_bytes < row.activation_bytes:
            return FASTER, f"memory-bound ({row.type}): fewer channels, fewer bytes"
        return None  # this layer was not pruned
    if kind == "memory":
        return FASTER, f"memory-bound ({row.type}): fewer channels, fewer bytes"
    if kind not in ("linear", "conv"):
        return FASTER, f"structured pruning: fewer MACs in {row.type}"
    base_in, base_out = _dims(row, kind)
    if variant_row is not None:
        new_in, new_out = _dims(variant_row, kind)
        estimated = ""
    else:
        # before counting: the output channels shrink by the ratio (the input side follows the
        # previous layer, not known from this row)
        new_in, new_out = base_in, None if base_out is None else _shrink(base_out, ratio, variant.round_to)
        estimated = "about "
    precision = _verb(variant.precision)
    if _verb(variant.device) == "cuda":
        multiple = {"fp16": 8, "bf16": 8, "int8": 16, "tf32": 4}.get(precision)
        unit = f"CUDA {precision} tensor-core tiles"
    else:
        multiple = facts.simd_lanes_fp32 if facts.cpu_flags else None
        unit = {16: "AVX-512", 8: "AVX2", 4: "SSE"}.get(multiple or 0, "SIMD") + " fp32 lanes"
    channels = new_out if new_out is not None else new_in
    if multiple is None or channels is None:
        return FASTER, f"structured pruning to {estimated}{channels or '?'} channels: fewer MACs"
    pairs = [
        (side, b, n)
        for side, b, n in (("output ", base_out, new_out), ("input ", base_in, new_in))
        if b is not None and n is not None and n < b
    ]
    if not pairs:
        return FASTER, f"structured pruning: fewer MACs in {row.type}"
    padded_gain = any(_pad(n, multiple) < _pad(b, multiple) for _, b, n in pairs)
    ragged = [(side, n) for side, _, n in pairs if n % multiple]
    if not ragged:
        side, _, n = pairs[0]
        what = f"{estimated}{n} {side.strip()} channels" if side == "input " else f"{estimated}{n} channels"
        return FASTER, f"structured pruning to {what}: multiple of {multiple}, full {unit}"
    side, n = ragged[0]
    what = f"{estimated}{n} input channels" if side == "input " else f"{estimated}{n} channels"
    if not padded_gain:
        return SAME, f"structured pruning to {what}: padded back to {_pad(n, multiple)} ({unit}), no gain expected"
    return FASTER, (
        f"structured pruning to {what}: not a multiple of {multiple} ({unit}), SIMD tail, less gain than the MACs suggest"
    )


def _pad(n: int, multiple: int) -> int:
    return math.ceil(n / multiple) * multiple


def _shrink(channels: int, ratio: float, round_to: int | None) -> int:
    kept = max(1, channels - int(channels * ratio))
    if round_to:
        kept = min(channels, _pad(kept, round_to))
    return kept


def _combine(parts: Sequence[tuple[str, str]]) -> tuple[str, str]:
    verdicts = {v for v, _ in parts}
    reason = "; ".join(r for _, r in parts)
    if UNKNOWN in verdicts or {FASTER, SLOWER} <= verdicts:
        return UNKNOWN, reason
    for v in (SLOWER, FASTER):
        if v in verdicts:
            return v, reason
    return SAME, reason


def predict_layer(
    row: LayerRow, variant: Any, device_facts: DeviceFacts, variant_row: LayerRow | None = None
) -> KernelPath:
    """The predicted effect of `variant` on the baseline layer `row` on this device.

    `variant_row` is the same layer in the variant's counted profile when known (counting comes
    before timing): it gives the pruned channel counts and which Linear int8 really converted."""
    kind = classify(row)
    parts = [p for p in (_prune_rule(row, kind, variant, device_facts, variant_row),
                         _precision_rule(row, kind, variant, device_facts, variant_row)) if p]  # fmt: skip
    if not parts:
        if variant.runtime is not None and _verb(variant.runtime) == "onnxruntime":
            return KernelPath(row.name, kind, UNKNOWN, "another runtime: different kernels")
        return KernelPath(row.name, kind, SAME, "same kernel as the baseline")
    verdict, reason = _combine(parts)
    return KernelPath(row.name, kind, verdict, reason)


def predict_variant(
    profile_baseline: Profile, variant: Any, facts: DeviceFacts, variant_profile: Profile | None = None
) -> tuple[KernelPath, ...]:
    """One `KernelPath` per baseline layer (same order); `variant_profile` (its counted rows)
    sharpens the prediction where given."""
    rows = {r.name: r for r in variant_profile.layers} if variant_profile is not None else {}
    return tuple(predict_layer(r, variant, facts, rows.get(r.name)) for r in profile_baseline.layers)


@dataclass(frozen=True)
class Finding:
    """A measured per-layer change beyond noise that deserves a line."""

    layer: str
    #: "smaller but slower" and/or "predicted faster, measured slower", "predicted slower, measured faster"
    flags: tuple[str, ...]
    #: variant ÷ baseline latency of the layer
    ratio: float
    baseline_ms: float
    variant_ms: float
    macs_change: float | None = None
    params_change: float | None = None
    weight_bytes_change: float | None = None
    prediction: KernelPath | None = field(default=None, compare=False)

    @property
    def added_ms(self) -> float:
        return self.variant_ms - self.baseline_ms

    def text(self) -> str:
        """'fc1: predicted faster (int8 Linear: …) but measured 1.3× slower' and the like."""
        from . import units

        change = _speed_words(self.ratio)
        size = _size_words(self)
        if "predicted faster, measured slower" in self.flags and self.prediction is not None:
            extra = f"; smaller ({size})" if "smaller but slower" in self.flags and size else ""
            return f"{self.layer}: predicted faster ({self.prediction.reason}) but measured {change}{extra}"
        if "smaller but slower" in self.flags:
            why = f"; {self.prediction.reason}" if self.prediction is not None and self.prediction.reason else ""
            return f"smaller but slower: {self.layer} ({size}, {change}){why}"
        if "predicted slower, measured faster" in self.flags and self.prediction is not None:
            return f"{self.layer}: predicted slower ({self.prediction.reason}) but measured {change}"
        return f"{self.layer}: {change} ({units.duration_ms(self.baseline_ms)} → {units.duration_ms(self.variant_ms)})"


def _speed_words(ratio: float) -> str:
    if ratio >= 1:
        return f"{ratio:.2g}× slower" if ratio < 10 else f"{ratio:.0f}× slower"
    return f"{1 / ratio:.2g}× faster"


def _size_words(f: Finding) -> str:
    for name, change in (("MACs", f.macs_change), ("params", f.params_change), ("weight bytes", f.weight_bytes_change)):
        if change is not None and change < 1:
            return f"−{round(100 * (1 - change))} % {name}"
    return ""


def _change(new: int, old: int) -> float | None:
    return new / old if old > 0 else None


def check_against_measurement(
    baseline_profile: Profile, variant_profile: Profile, predictions: Sequence[KernelPath] = ()
) -> list[Finding]:
    """Per layer present in both profiles with per-layer latency and spreads: a finding when the
    change is beyond both rows' p10–p90 spreads and at least MIN_EFFECT, and it is a surprise —
    the layer got smaller (params, MACs or weight bytes) but slower, or the prediction said the
    opposite. When either profile's end-to-end timing is marked noisy, the minimum effect rises
    to that timing's relative p10–p90 spread. Largest added time first."""
    min_effect = minimum_effect(baseline_profile, variant_profile)
    base = {r.name: r for r in baseline_profile.layers}
    predicted = {k.layer: k for k in predictions}
    out: list[Finding] = []
    for v in variant_profile.layers:
        b = base.get(v.name)
        if b is None or not _timed(b) or not _timed(v):
            continue
        assert b.latency_ms is not None and v.latency_ms is not None
        assert b.latency_p10_ms is not None and b.latency_p90_ms is not None
        assert v.latency_p10_ms is not None and v.latency_p90_ms is not None
        if b.latency_ms <= 0:
            continue
        ratio = v.latency_ms / b.latency_ms
        slower, faster = _beyond_noise(b, v, min_effect)
        if not (slower or faster):
            continue
        macs, params = _change(v.macs, b.macs), _change(v.params, b.params)
        wbytes = _change(v.weight_bytes, b.weight_bytes)
        smaller = any(c is not None and c < 1 for c in (macs, params, wbytes))
        k = predicted.get(v.name)
        flags: list[str] = []
        if slower and k is not None and k.verdict == FASTER:
            flags.append("predicted faster, measured slower")
        if slower and smaller:
            flags.append("smaller but slower")
        if faster and k is not None and k.verdict == SLOWER:
            flags.append("predicted slower, measured faster")
        if flags:
            out.append(
                Finding(v.name, tuple(flags), round(ratio, 4), b.latency_ms, v.latency_ms, macs, params, wbytes, k)
            )
    out.sort(key=lambda f: -abs(f.added_ms))
    return out


def minimum_effect(baseline_profile: Profile, variant_profile: Profile) -> float:
    """The smallest per-layer change (relative) that may be called one: MIN_EFFECT, raised to a
    noisy end-to-end timing's relative p10–p90 spread (rows are scaled to end to end, so its
    wobble moves every row together)."""
    min_effect = MIN_EFFECT
    for p in (baseline_profile, variant_profile):
        lat = p.totals.latency_ms
        if lat is not None and lat.noisy:
            min_effect = max(min_effect, (lat.p90 - lat.p10) / lat.median if lat.median > 0 else math.inf)
    return min_effect


def _beyond_noise(b: LayerRow, v: LayerRow, min_effect: float) -> tuple[bool, bool]:
    """(measurably slower, measurably faster): beyond both rows' p10–p90 and at least min_effect."""
    assert b.latency_ms is not None and v.latency_ms is not None and b.latency_ms > 0
    assert b.latency_p10_ms is not None and b.latency_p90_ms is not None
    assert v.latency_p10_ms is not None and v.latency_p90_ms is not None
    ratio = v.latency_ms / b.latency_ms
    slower = v.latency_p10_ms > b.latency_p90_ms and ratio >= 1 + min_effect
    faster = v.latency_p90_ms < b.latency_p10_ms and ratio <= 1 / (1 + min_effect)
    return slower, faster


def _timed(r: LayerRow) -> bool:
    return r.latency_ms is not None and r.latency_p10_ms is not None and r.latency_p90_ms is not None


def findings_lines(
    label: str, predictions: Sequence[KernelPath], findings: Sequence[Finding], *, limit: int = 3
) -> list[str]:
    """At most `limit` + 1 lines for one variant: its top findings, then the layers predicted
    slower that no finding mentions (a warning that needs no measurement)."""
    lines = [f"{label} · {f.text()}" for f in findings[:limit]]
    if len(findings) > limit:
        lines.append(f"{label} · … {len(findings) - limit} more layer(s) beyond noise")
    mentioned = {f.layer for f in findings}
    slow = [k for k in predictions if k.verdict == SLOWER and k.layer not in mentioned]
    if slow:
        names = ", ".join(k.layer for k in slow[:3]) + (f" and {len(slow) - 3} more" if len(slow) > 3 else "")
        lines.append(f"{label} · predicted slower before timing: {names} ({slow[0].reason})")
    return lines


# --- the `kernel_paths` record (tradeoff.sweep/1 rows; the app) ----------------------------------

#: the CPU flags the rules read; the record lists those this machine has
RULE_FLAGS = (
    "avx", "avx2", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_vnni", "avx_vnni", "amx_int8",
    "avx512_fp16", "amx_fp16", "avx512_bf16", "amx_bf16", "avx_ne_convert",
)  # fmt: skip


def layer_measurement(b: LayerRow | None, v: LayerRow | None, min_effect: float = MIN_EFFECT) -> dict[str, Any] | None:
    """The layer's measured change, variant ÷ baseline, with both rows' p10–p90 and whether it is
    beyond them (and at least `min_effect`); None when either row lacks latency or its spread."""
    if b is None or v is None or not _timed(b) or not _timed(v) or not (b.latency_ms or 0) > 0:
        return None
    assert b.latency_ms is not None and v.latency_ms is not None
    slower, faster = _beyond_noise(b, v, min_effect)
    return {
        "ratio": round(v.latency_ms / b.latency_ms, 4),
        "baseline_ms": b.latency_ms,
        "variant_ms": v.latency_ms,
        "baseline_p10_ms": b.latency_p10_ms,
        "baseline_p90_ms": b.latency_p90_ms,
        "variant_p10_ms": v.latency_p10_ms,
        "variant_p90_ms": v.latency_p90_ms,
        "beyond_noise": slower or faster,
        "min_effect": round(min_effect, 4),
    }


def summary_text(predictions: Sequence[KernelPath], findings: Sequence[Finding], measured: bool) -> str:
    """One or two sentences: the prediction that matters most (a layer predicted slower, else the
    largest layer predicted faster, else what the rules say about the rest), the counts, and what
    the measurement showed (findings beyond noise only)."""
    if not predictions:
        return "no layers to predict"
    counts = {v: sum(1 for k in predictions if k.verdict == v) for v in VERDICTS}
    slow = [k for k in predictions if k.verdict == SLOWER]
    fast = [k for k in predictions if k.verdict == FASTER]
    compute = [k for k in predictions if k.kind != "memory"]
    if slow:
        head = f"{_layers(len(slow))} predicted slower: {slow[0].reason}"
    elif fast:
        lead = next((k for k in fast if k.kind != "memory"), fast[0])
        head = f"{_layers(len(fast))} predicted faster: {lead.reason}"
    elif all(k.reason == "same kernel as the baseline" for k in predictions):
        head = "same kernels as the baseline"
    else:
        lead = (compute or list(predictions))[0]
        head = f"no layer predicted faster: {lead.reason}"
    tally = ", ".join(f"{n} {v}" for v, n in counts.items() if n)
    text = f"{head} ({tally})"
    if not measured:
        return text
    if not findings:
        return f"{text}; measured: no layer beyond its noise contradicts the prediction"
    smaller = [f for f in findings if "smaller but slower" in f.flags]
    parts = []
    if smaller:
        parts.append(f"smaller but slower: {', '.join(f.layer for f in smaller[:3])}" + _more(len(smaller)))
    contrary = [f for f in findings if "smaller but slower" not in f.flags]
    if contrary:
        parts.append(f"against the prediction: {', '.join(f.layer for f in contrary[:3])}" + _more(len(contrary)))
    return f"{text}; measured: {'; '.join(parts)}"


def _layers(n: int) -> str:
    return f"{n} layer" + ("" if n == 1 else "s")


def _more(n: int) -> str:
    return f" and {n - 3} more" if n > 3 else ""


def kernel_paths_record(
    baseline: Profile, variant: Any, facts: DeviceFacts, variant_profile: Profile | None = None
) -> dict[str, Any]:
    """The `kernel_paths` record of a variant (docs/CONTRACT.md): the device facts read, a short
    summary, the verdict counts, and per baseline layer its prediction, its measured change (when
    both rows were timed with a spread) and its flags ("smaller but slower", "predicted faster,
    measured slower", "predicted slower, measured faster"; only for changes beyond noise)."""
    predictions = predict_variant(baseline, variant, facts, variant_profile)
    findings = check_against_measurement(baseline, variant_profile, predictions) if variant_profile else []
    flagged = {f.layer: f for f in findings}
    rows = {r.name: r for r in variant_profile.layers} if variant_profile is not None else {}
    base = {r.name: r for r in baseline.layers}
    min_effect = minimum_effect(baseline, variant_profile) if variant_profile is not None else MIN_EFFECT
    layers = []
    any_measured = False
    for k in predictions:
        m = layer_measurement(base.get(k.layer), rows.get(k.layer), min_effect)
        any_measured = any_measured or m is not None
        f = flagged.get(k.layer)
        layers.append({**k.to_dict(), "measured": m, "flags": [] if f is None else list(f.flags)})
    return {
        "device": facts.device,
        "cpu_flags": [f for f in RULE_FLAGS if f in facts.cpu_flags],
        "cuda_capability": None if facts.cuda_capability is None else list(facts.cuda_capability),
        "summary": summary_text(predictions, findings, any_measured),
        "counts": {v: sum(1 for k in predictions if k.verdict == v) for v in VERDICTS},
        "findings": len(findings),
        "layers": layers,
    }


def record_for_result(result: Any, facts: DeviceFacts | None = None) -> dict[str, Any] | None:
    """`kernel_paths_record` of a measured VariantResult (its baseline, variant and profile), with
    `facts` (default: this machine's, for the variant's device); None for a failed result."""
    if getattr(result, "error", None) is not None or result.profile is None or result.baseline is None:
        return None
    facts = facts or DeviceFacts.detect(str(result.variant.device))
    return kernel_paths_record(result.baseline, result.variant, facts, result.profile)
