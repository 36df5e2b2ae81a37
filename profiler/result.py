"""The profile result: frozen dataclasses of primitives that round-trip to `tradeoff.profile/1`.

Every consumer (CLI table, app models, PDF, exporters) reads these objects; none recomputes
what the core computed. `check()` asserts the invariants the tests rely on after every
transform.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

PROFILE_SCHEMA = "tradeoff.profile/1"


class SchemaError(ValueError):
    """A JSON document that does not match the schema it names."""


@dataclass(frozen=True)
class ModelInfo:
    name: str
    source: str
    format: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelInfo:
        return cls(name=str(d["name"]), source=str(d["source"]), format=str(d["format"]))


@dataclass(frozen=True)
class InputSpec:
    """One model input: its name, concrete shape and dtype name (`float32`, `int64`, …)."""

    name: str
    shape: tuple[int, ...]
    dtype: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "shape": list(self.shape), "dtype": self.dtype}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> InputSpec:
        return cls(name=str(d["name"]), shape=tuple(int(x) for x in d["shape"]), dtype=str(d["dtype"]))

    @property
    def numel(self) -> int:
        return math.prod(self.shape)


@dataclass(frozen=True)
class RunConfig:
    """The knobs one profile was taken with."""

    device: str = "cpu"
    runtime: str = "torch"
    precision: str = "fp32"
    batch: int = 1
    prune: float = 0.0
    prune_method: str | None = None
    threads: int | None = None
    seq_len: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclass(frozen=True)
class Environment:
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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Environment:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclass(frozen=True)
class LatencyStats:
    """Statistics of raw wall-clock samples, in milliseconds."""

    median: float
    p10: float
    p90: float
    samples: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LatencyStats:
        return cls(median=float(d["median"]), p10=float(d["p10"]), p90=float(d["p90"]), samples=int(d["samples"]))


@dataclass(frozen=True)
class LayerRow:
    """One layer: a leaf module (torch), a module's own code outside its children, or an ONNX node.

    `name` is the dotted module path (torch) or the node name (ONNX); `scope` is the group the
    app folds it under. `latency_ms` is measured (None when not measured).
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

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["input_shapes"] = [list(s) for s in self.input_shapes]
        d["output_shapes"] = [list(s) for s in self.output_shapes]
        d["unsupported_ops"] = list(self.unsupported_ops)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LayerRow:
        lat = d.get("latency_ms")
        return cls(
            name=str(d["name"]),
            type=str(d["type"]),
            params=int(d["params"]),
            macs=int(d["macs"]),
            flops=int(d["flops"]),
            weight_bytes=int(d["weight_bytes"]),
            activation_bytes=int(d["activation_bytes"]),
            latency_ms=None if lat is None else float(lat),
            counted=bool(d["counted"]),
            scope=str(d.get("scope", "")),
            input_shapes=tuple(tuple(int(x) for x in s) for s in d.get("input_shapes", ())),
            output_shapes=tuple(tuple(int(x) for x in s) for s in d.get("output_shapes", ())),
            unsupported_ops=tuple(str(x) for x in d.get("unsupported_ops", ())),
        )


@dataclass(frozen=True)
class Totals:
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

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["latency_ms"] = None if self.latency_ms is None else self.latency_ms.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Totals:
        lat = d.get("latency_ms")

        def opt_int(key: str) -> int | None:
            v = d.get(key)
            return None if v is None else int(v)

        return cls(
            params=int(d["params"]),
            macs=int(d["macs"]),
            flops=int(d["flops"]),
            weight_bytes=int(d["weight_bytes"]),
            activation_bytes=int(d["activation_bytes"]),
            latency_ms=None if lat is None else LatencyStats.from_dict(lat),
            peak_memory_bytes=opt_int("peak_memory_bytes"),
            activation_peak_bytes=opt_int("activation_peak_bytes"),
            rss_growth_bytes=opt_int("rss_growth_bytes"),
        )


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": PROFILE_SCHEMA,
            "model": self.model.to_dict(),
            "inputs": [i.to_dict() for i in self.inputs],
            "config": self.config.to_dict(),
            "environment": None if self.environment is None else self.environment.to_dict(),
            "totals": self.totals.to_dict(),
            "layers": [row.to_dict() for row in self.layers],
            "unsupported_ops": dict(self.unsupported_ops),
            "warnings": list(self.warnings),
            "latency_source": self.latency_source,
            "layer_latency_method": self.layer_latency_method,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Profile:
        if d.get("schema") != PROFILE_SCHEMA:
            raise SchemaError(f"expected schema {PROFILE_SCHEMA!r}, found {d.get('schema')!r}")
        try:
            env = d.get("environment")
            return cls(
                model=ModelInfo.from_dict(d["model"]),
                inputs=tuple(InputSpec.from_dict(i) for i in d["inputs"]),
                config=RunConfig.from_dict(d["config"]),
                environment=None if env is None else Environment.from_dict(env),
                totals=Totals.from_dict(d["totals"]),
                layers=tuple(LayerRow.from_dict(r) for r in d["layers"]),
                unsupported_ops={str(k): int(v) for k, v in d.get("unsupported_ops", {}).items()},
                warnings=tuple(str(w) for w in d.get("warnings", ())),
                latency_source=str(d.get("latency_source", "none")),
                layer_latency_method=d.get("layer_latency_method"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise SchemaError(f"malformed {PROFILE_SCHEMA} document: {exc}") from exc

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
