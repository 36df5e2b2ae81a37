"""Closed vocabularies of the planner.

`Precision` (profiler.vocab) is what a profile is taken at; the planner also projects onto fp8,
which the profiler cannot run on a CPU, so `PeakPrecision` extends it with the same string
values: `PeakPrecision(Precision.BF16)` is `PeakPrecision.BF16`.
"""

from __future__ import annotations

from enum import StrEnum

from profiler.vocab import BYTES_PER_ELEMENT, Precision


class PeakPrecision(StrEnum):
    """A precision with its own peak in the hardware catalog (dense figures only)."""

    FP32 = "fp32"
    TF32 = "tf32"
    FP16 = "fp16"
    BF16 = "bf16"
    FP8 = "fp8"
    INT8 = "int8"


#: Bytes per element of weights and activations stored at each precision. tf32 is an fp32
#: storage format computed on tensor cores; int8 and fp8 keep activations in 8 bits too.
ELEMENT_BYTES: dict[PeakPrecision, float] = {
    **{PeakPrecision(str(p)): float(b) for p, b in BYTES_PER_ELEMENT.items()},
    PeakPrecision.FP8: 1.0,
}

#: When an accelerator has no peak at the asked precision, the planner runs the projection at
#: the first precision of this chain that it has (and says so in the option row).
FALLBACK: dict[PeakPrecision, tuple[PeakPrecision, ...]] = {
    PeakPrecision.FP32: (),
    PeakPrecision.TF32: (PeakPrecision.FP32,),
    PeakPrecision.BF16: (PeakPrecision.FP16, PeakPrecision.FP32),
    PeakPrecision.FP16: (PeakPrecision.BF16, PeakPrecision.FP32),
    PeakPrecision.FP8: (PeakPrecision.BF16, PeakPrecision.FP16, PeakPrecision.FP32),
    PeakPrecision.INT8: (PeakPrecision.FP8, PeakPrecision.FP16, PeakPrecision.BF16, PeakPrecision.FP32),
}


def as_peak_precision(value: Precision | PeakPrecision | str) -> PeakPrecision:
    """The planner precision for a profiler precision or its name; ValueError when unknown."""
    return PeakPrecision(str(value).lower())


class AcceleratorKind(StrEnum):
    GPU = "gpu"
    CPU = "cpu"


class AcceleratorClass(StrEnum):
    """Groups accelerators that share the planner's default efficiencies and MFU."""

    DATACENTER = "datacenter"  # HBM training parts: A100, H100, H200, B200, MI300X, V100
    INFERENCE = "inference"  # GDDR inference/graphics parts: T4, A10, A10G, L4, L40S
    CPU = "cpu"


class Bound(StrEnum):
    """What limits a layer under the roofline model."""

    COMPUTE = "compute"
    MEMORY = "memory"
    NONE = "none"  # no FLOPs and no bytes: only kernel overhead, if any


class Parallelism(StrEnum):
    """How training replicates model states across data-parallel GPUs."""

    DDP = "ddp"  # every GPU holds all weights, gradients and optimizer states
    FSDP = "fsdp"  # ZeRO stage 3: all three sharded across the data-parallel GPUs


class CarbonScope(StrEnum):
    CLOUD_REGION = "cloud_region"
    COUNTRY = "country"
    WORLD = "world"
    CLOUD_REGION_HISTORICAL = "cloud_region_historical"


#: The label every projected number carries (never confused with a measurement).
PROJECTED = "projected"
PROJECTED_CALIBRATED = "projected-calibrated"
