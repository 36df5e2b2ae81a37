"""The profile result: frozen dataclasses of primitives that round-trip to `tradeoff.profile/1`.

Every consumer (CLI table, app models, PDF, exporters) reads these objects; none recomputes
what the core computed. `check()` asserts the invariants the tests rely on after every
transform.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from .codec import Record, SchemaError, decode_document, encode_document
from .vocab import Device, ModelFormat, Precision, PruneMethod, Runtime, parse

PROFILE_SCHEMA = "tradeoff.profile/1"

__all__ = [
    "PROFILE_SCHEMA",
    "Environment",
    "InputSpec",
    "LatencyStats",
    "LayerRow",
    "ModelInfo",
    "Profile",
    "RunConfig",
    "SchemaError",
    "Totals",
]


def _set(record: object, **values: Any) -> None:
    """Field assignment in the explicit `__init__` of a frozen record."""
    for name, value in values.items():
        object.__setattr__(record, name, value)


class _Record(Record):
    __document__ = PROFILE_SCHEMA


@dataclass(frozen=True, init=False)
class ModelInfo(_Record):
    name: str
    source: str
    format: ModelFormat

    def __init__(self, name: str, source: str, format: ModelFormat | str) -> None:  # noqa: A002
        _set(self, name=name, source=source, format=parse(ModelFormat, format, "format"))


@dataclass(frozen=True)
class InputSpec(_Record):
    """One model input: its name, concrete shape and dtype name (`float32`, `int64`, …)."""

    name: str
    shape: tuple[int, ...]
    dtype: str

    @property
    def numel(self) -> int:
        return math.prod(self.shape)


@dataclass(frozen=True, init=False)
class RunConfig(_Record):
    """The knobs one profile was taken with (strings are parsed into the vocabularies)."""

    device: Device = Device.CPU
    runtime: Runtime = Runtime.TORCH
    precision: Precision = Precision.FP32
    batch: int = 1
    prune: float = 0.0
    prune_method: PruneMethod | None = None
    threads: int | None = None
    seq_len: int | None = None

    def __init__(
        self,
        device: Device | str = Device.CPU,
        runtime: Runtime | str = Runtime.TORCH,
        precision: Precision | str = Precision.FP32,
        batch: int = 1,
        prune: float = 0.0,
        prune_method: PruneMethod | str | None = None,
        threads: int | None = None,
        seq_len: int | None = None,
    ) -> None:
        _set(
            self, device=parse(Device, device, "device"), runtime=parse(Runtime, runtime, "runtime"),
            precision=parse(Precision, precision, "precision"), batch=batch, prune=prune,
            prune_method=None if prune_method is None else parse(PruneMethod, prune_method, "prune_method"),
            threads=threads, seq_len=seq_len,
        )  # fmt: skip


@dataclass(frozen=True)
class Environment(_Record):
    """Where the measurement ran. `gpu` is None when there is no NVIDIA GPU."""

    cpu: str
    cores: int
    threads: int
    gpu: str | None
    torch: str | None
    onnxruntime: str | None
    python: str
    os: str
    gpu_memory_bytes: int | None = None
    gpu_driver: str | None = None
    #: Conditions during the timing (profiler/conditions.py): other processes' CPU use as a
    #: percentage of the whole machine, and the CPU clock where the OS exposes it.
    foreign_cpu_percent: float | None = None
    cpu_mhz: float | None = None


@dataclass(frozen=True)
class LatencyStats(_Record):
    """Statistics of raw wall-clock samples, in milliseconds."""

    median: float
    p10: float
    p90: float
    samples: int
    #: coefficient of variation (standard deviation ÷ mean) of the samples
    cv: float | None = None
    #: the spread or the machine's other load was too high to trust small differences
    noisy: bool = False


@dataclass(frozen=True)
class LayerRow(_Record):
    """One layer: a leaf module (torch), a module's own code outside its children, or an ONNX node.

    `name` is the dotted module path (torch) or the node name (ONNX); `scope` is the group the
    app folds it under. `latency_ms` is measured (None when not measured). `inputs_from` names
    the rows that produce this row's inputs (ONNX: the nodes behind `node.input`; torch: the
    modules whose outputs this module's ops read), in first-use order.
    """

    name: str
    type: str
    params: int
    macs: int
    flops: int
    weight_bytes: int
    activation_bytes: int
    latency_ms: float | None
    counted: bool
    scope: str = ""
    input_shapes: tuple[tuple[int, ...], ...] = ()
    output_shapes: tuple[tuple[int, ...], ...] = ()
    unsupported_ops: tuple[str, ...] = ()
    #: the per-layer profiler's own figure before reconciliation with end to end (None: same)
    latency_raw_ms: float | None = None
    #: spread of this row's time over the per-layer runs
    latency_p10_ms: float | None = None
    latency_p90_ms: float | None = None
    #: names of the rows whose outputs this row reads (its producers in the model's data flow);
    #: empty when unknown — graph inputs and weights are not producers
    inputs_from: tuple[str, ...] = ()


@dataclass(frozen=True)
class Totals(_Record):
    """Whole-model figures. `params` counts shared weights once; the rest sum the layers.

    `latency_ms` and `peak_memory_bytes` are measured, and None when nothing was measured.
    `activation_peak_bytes` is the peak of live intermediate tensors during one forward,
    tracked allocation by allocation (works on the meta device too, so it is counted, not
    measured); `rss_growth_bytes` is the process's resident-set high-water growth while
    timing (psutil/getrusage).
    """

    params: int
    macs: int
    flops: int
    weight_bytes: int
    activation_bytes: int
    latency_ms: LatencyStats | None = None
    peak_memory_bytes: int | None = None
    activation_peak_bytes: int | None = None
    rss_growth_bytes: int | None = None


@dataclass(frozen=True)
class Profile:
    """One configuration of one model: static counts per layer, and what was measured."""

    model: ModelInfo
    inputs: tuple[InputSpec, ...]
    config: RunConfig
    environment: Environment | None
    totals: Totals
    layers: tuple[LayerRow, ...]
    unsupported_ops: dict[str, int] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    #: "measured" when latency came from running the model here, "none" otherwise.
    latency_source: str = "none"
    #: per-layer latency method: "hooks", "onnxruntime-profiling" or None.
    layer_latency_method: str | None = None
    #: what end-to-end latency was timed on, as users run it ("ep.module()", "scripted module",
    #: "onnxruntime session (CPUExecutionProvider)", "nn.Module"); None when nothing was timed.
    timed_as: str | None = None
    #: how per-layer times relate to end to end (e.g. "rows scaled ×0.93 to the end-to-end median;
    #: raw profiler times kept in latency_raw_ms"); None when they are used as measured.
    layer_latency_note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return encode_document(self, PROFILE_SCHEMA)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Profile:
        """Raises SchemaError (a ValueError) naming the path of the first value that does not fit."""
        return decode_document(cls, d, PROFILE_SCHEMA)

    def with_latency(self, **changes: Any) -> Profile:
        return replace(self, **changes)

    def check(self) -> None:
        """Assert the invariants every profile keeps; raises AssertionError naming the broken one."""
        layers = self.layers
        t = self.totals
        assert t.macs == sum(r.macs for r in layers), "totals.macs != sum of layer macs"
        assert t.flops == sum(r.flops for r in layers), "totals.flops != sum of layer flops"
        assert t.flops == 2 * t.macs or any(r.flops != 2 * r.macs for r in layers), "flops != 2*macs"
        assert t.activation_bytes == sum(r.activation_bytes for r in layers), "activation bytes"
        # Tied weights appear in several rows but count once in totals.
        assert t.params <= sum(r.params for r in layers), "totals.params exceeds the layers' sum"
        assert all(r.params >= 0 and r.macs >= 0 and r.flops >= 0 for r in layers), "negative count"
        uncounted = {op for r in layers for op in r.unsupported_ops}
        assert uncounted <= set(self.unsupported_ops), "layer unsupported op missing from totals"
        assert all(r.counted == (not r.unsupported_ops) for r in layers), "counted flag"
        if t.latency_ms is not None:
            lat = t.latency_ms
            assert 0 <= lat.p10 <= lat.median <= lat.p90, "latency percentiles out of order"
            assert lat.samples > 0, "latency without samples"
        names = [r.name for r in layers]
        assert len(names) == len(set(names)), "duplicate layer names"
        known = set(names)
        assert all(set(r.inputs_from) <= known for r in layers), "inputs_from names a missing row"
