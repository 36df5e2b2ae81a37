"""Roofline projection of a profile onto a target accelerator at a precision.

Per layer, at batch b (the profile was taken at batch b0; FLOPs and activations scale by b/b0,
weights do not):

    bytes   = weight elements × bytes(precision) + activation elements × bytes(precision)
    compute = FLOPs ÷ (peak(precision) × compute efficiency)
    memory  = bytes ÷ (bandwidth × memory efficiency)
    time    = max(compute, memory) + per-kernel overhead        (0 for a layer with no work)

The layer is compute-bound when compute ≥ memory; its arithmetic intensity is FLOPs ÷ bytes,
and the accelerator's ridge point is peak ÷ bandwidth. With `gpus > 1` a replica is split
across that many accelerators by ideal tensor parallelism (compute and bytes divide; the
kernel overhead does not; communication is not modelled).

Mixed precision: a target with `float_precision` projects exactly what the measured variant
changed: the workload's int8 layers (`Workload.int8_rows`) at `precision` (int8, or the
accelerator's fallback for it) and every other layer at `float_precision`, FLOPs at that
precision's peak and bytes at its element size. `serving_precisions` says when that applies.

Efficiency defaults depend on the work: per model class × accelerator class in
planner/efficiency_defaults.py (fitted to MLPerf Inference Offline results, with an uncertainty
band each; `default_efficiency(accelerator, model_class)`). Where no class row is fitted, the
per-accelerator-class `DEFAULT_EFFICIENCY` applies — the planner's round figures, not
measurements: well-shaped dense GEMMs and convolutions reach roughly 60–70 % of tensor-core
peak, streaming kernels roughly 80 % of peak bandwidth, and an eager framework spends a few
microseconds launching each kernel. `Efficiency.activation_traffic` scales the activation bytes
(a fused CNN's conv + BN + ReLU write one output, not three). Override them, or switch on `calibrate()`:
the local measurement ÷ the ideal roofline on the local device, per layer type (or per op class,
planner/op_classes.py), multiplies the ideal target time of layers of that type (their
compute/memory times are then shown at the ideal roofline, efficiencies 1; the kernel overhead is
added as for any layer, and every activation byte counts). Measurements stored per device
(planner/calibration_store.py) calibrate the targets on that same device. Every number here is
*projected*.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

from planner.catalog import Accelerator
from planner.op_classes import op_class
from planner.records import FlatRecord
from planner.vocab import (
    ELEMENT_BYTES,
    FALLBACK,
    PROJECTED,
    PROJECTED_CALIBRATED,
    AcceleratorClass,
    AcceleratorKind,
    Bound,
    PeakPrecision,
)
from planner.workload import Workload
from profiler.result import Profile

#: Fraction of accelerator memory the planner lets a model use (the rest: framework context,
#: allocator fragmentation, workspace).
MEMORY_USABLE_FRACTION = 0.9


@dataclass(frozen=True)
class Efficiency(FlatRecord):
    """Fractions of peak compute and bandwidth reached, the fixed cost of one kernel, and the
    share of the per-layer activation bytes that reach accelerator memory (`activation_traffic`:
    1 = every layer reads its input and writes its output there; below 1 where a serving engine
    fuses layers — convolution + BatchNorm + ReLU in one kernel — and keeps activations on chip).
    Defaults per model class × accelerator class: planner/efficiency_defaults.py."""

    compute: float
    memory: float
    kernel_overhead_us: float
    activation_traffic: float = 1.0


DEFAULT_EFFICIENCY: dict[AcceleratorClass, Efficiency] = {
    AcceleratorClass.DATACENTER: Efficiency(compute=0.70, memory=0.80, kernel_overhead_us=5.0),
    AcceleratorClass.INFERENCE: Efficiency(compute=0.60, memory=0.80, kernel_overhead_us=5.0),
    AcceleratorClass.CPU: Efficiency(compute=0.50, memory=0.60, kernel_overhead_us=2.0),
}


def default_efficiency(accelerator: Accelerator, model_class: str | None = None) -> Efficiency:
    """The serving efficiency for `model_class` (planner.model_class.ModelClass) on the
    accelerator's class (planner/efficiency_defaults.py); without a model class, the accelerator
    class's row of `DEFAULT_EFFICIENCY` (the `other` class)."""
    if model_class is None:
        return DEFAULT_EFFICIENCY[accelerator.accelerator_class]
    from planner.efficiency_defaults import serving_efficiency

    return serving_efficiency(model_class, accelerator.accelerator_class)


def resolve_precision(accelerator: Accelerator, asked: PeakPrecision) -> PeakPrecision | None:
    """`asked` when the accelerator has a peak for it, else the first fallback it has."""
    for p in (asked, *FALLBACK[asked]):
        if accelerator.peak_tflops(p):
            return p
    return None


@dataclass(frozen=True)
class Calibration:
    """measured ÷ ideal roofline time per layer type or per op class (planner/op_classes.py),
    from profiles measured on `device` at `precision`.

    `runs`: how many measured profiles the factors come from (1 for `calibrate()`; the median
    over the stored runs for planner/calibration_store.py); `spread_fraction`: the relative
    half-width of the factors' spread over those runs (p10–p90), at least the timing's own
    spread; None when unknown."""

    device: str
    precision: PeakPrecision
    factors: tuple[tuple[str, float], ...]
    runs: int = 1
    spread_fraction: float | None = None

    @functools.cached_property
    def _by_key(self) -> dict[str, float]:
        return dict(self.factors)

    def factor(self, layer_type: str) -> float | None:
        """The factor of `layer_type`, else of its op class, else None (not calibrated)."""
        by_key = self._by_key
        f = by_key.get(layer_type)
        if f is None:
            f = by_key.get(op_class(layer_type))
        return f

    def describe(self) -> str:
        """'calibrated on 5 runs (±8 %)' — what the projection's uncertainty band rests on."""
        runs = f"{self.runs} run{'' if self.runs == 1 else 's'}"
        if self.spread_fraction is None:
            return f"calibrated on {runs}"
        pct = 100 * self.spread_fraction
        band = "<1" if pct < 1 else f"{pct:.0f}"
        return f"calibrated on {runs} (±{band} %)"

    def to_dict(self) -> dict[str, Any]:
        return {
            "device": self.device, "precision": str(self.precision), "factors": dict(self.factors),
            "runs": self.runs, "spread_fraction": self.spread_fraction,
        }  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Calibration:
        spread = d.get("spread_fraction")
        return cls(
            str(d["device"]), PeakPrecision(d["precision"]), tuple((str(k), float(v)) for k, v in d["factors"].items()),
            runs=int(d.get("runs", 1)), spread_fraction=None if spread is None else float(spread),
        )  # fmt: skip


@dataclass(frozen=True)
class Target:
    """Where and how a replica runs: accelerator, precision it has a peak for, efficiencies,
    optional calibration, and how many accelerators one replica spans. With `float_precision`
    set, only the workload's int8 layers run at `precision`; the others at `float_precision`."""

    accelerator: Accelerator
    precision: PeakPrecision
    efficiency: Efficiency
    calibration: Calibration | None = None
    gpus: int = 1
    float_precision: PeakPrecision | None = None

    @property
    def mixed(self) -> bool:
        return self.float_precision is not None

    @property
    def float_flops_per_s(self) -> float:
        """Peak FLOP/s of the layers not in int8 (`flops_per_s` when not mixed)."""
        if self.float_precision is None:
            return self.flops_per_s
        peak = self.accelerator.peak_flops_per_s(self.float_precision)
        if not peak:
            raise ValueError(f"{self.accelerator.name} has no {self.float_precision} peak")
        return peak

    @property
    def float_element_bytes(self) -> float:
        """Bytes per element of the layers not in int8 and of activations between layers."""
        return ELEMENT_BYTES[self.float_precision or self.precision]

    @property
    def flops_per_s(self) -> float:
        peak = self.accelerator.peak_flops_per_s(self.precision)
        if not peak:
            raise ValueError(f"{self.accelerator.name} has no {self.precision} peak")
        return peak

    @property
    def bytes_per_s(self) -> float:
        bw = self.accelerator.bandwidth_bytes_per_s
        if not bw:
            raise ValueError(f"{self.accelerator.name} has no memory bandwidth")
        return bw

    @property
    def element_bytes(self) -> float:
        return ELEMENT_BYTES[self.precision]

    @property
    def ridge_flops_per_byte(self) -> float:
        return self.flops_per_s / self.bytes_per_s


def make_target(
    accelerator: Accelerator,
    precision: PeakPrecision,
    *,
    efficiency: Efficiency | None = None,
    calibration: Calibration | None = None,
    gpus: int = 1,
    float_precision: PeakPrecision | None = None,
) -> Target | None:
    """A target at `precision` or its fallback; None when the accelerator cannot be projected.
    `float_precision` (resolved the same way) makes it mixed: see `Target`."""
    resolved = resolve_precision(accelerator, precision)
    if resolved is None or not accelerator.bandwidth_gb_s:
        return None
    rest = None
    if float_precision is not None:
        rest = resolve_precision(accelerator, float_precision)
        if rest is None:
            return None
    return Target(accelerator, resolved, efficiency or default_efficiency(accelerator), calibration, gpus, rest)


def serving_precisions(
    workload: Workload, asked: PeakPrecision | None = None
) -> tuple[PeakPrecision, PeakPrecision | None]:
    """(precision, float_precision) to project `workload` at, for `make_target`.

    The measured variant as it ran, unless another precision is asked: a variant with int8
    layers (an int8 variant, or an already quantized model) projects its int8 layers at int8 and
    the rest at the float precision they ran at; a float variant projects every layer at its own
    precision. An explicitly asked precision other than the variant's is a what-if over the whole
    model (every layer at it)."""
    own = workload.profiled_precision
    if asked is not None and asked is not own and not (asked is PeakPrecision.INT8 and workload.has_int8):
        return asked, None
    if workload.has_int8:
        return PeakPrecision.INT8, workload.float_precision
    return own, None


def weight_bytes(workload: Workload, target: Target) -> float:
    """Bytes of the unique weights at the target's precisions (int8 layers' weights in 8 bits)."""
    if not target.mixed:
        return workload.params * target.element_bytes
    q = workload.int8_weight_elems
    return q * target.element_bytes + (workload.params - q) * target.float_element_bytes


def _rates(target: Target) -> tuple[tuple[float, float], tuple[float, float]]:
    """((s per FLOP, s per element) of int8 layers, (the same) of the others), efficiencies and
    tensor parallelism applied; both pairs are the same for a target that is not mixed."""
    compute = target.efficiency.compute * target.gpus
    memory = target.bytes_per_s * target.efficiency.memory * target.gpus
    main = (1.0 / (target.flops_per_s * compute), target.element_bytes / memory)
    if not target.mixed:
        return main, main
    return main, (1.0 / (target.float_flops_per_s * compute), target.float_element_bytes / memory)


def _row_is_int8(workload: Workload, target: Target) -> tuple[bool, ...]:
    """Per layer: projected at `target.precision` (True) or at its float precision (False)."""
    if not target.mixed:
        return (True,) * len(workload.flops)
    return workload.int8_rows or (False,) * len(workload.flops)


# ----------------------------------------------------------------------------- per layer


@dataclass(frozen=True)
class LayerProjection:
    name: str
    type: str
    flops: float
    bytes: float
    intensity_flops_per_byte: float | None
    bound: Bound
    compute_ms: float
    memory_ms: float
    time_ms: float

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["bound"] = str(self.bound)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LayerProjection:
        return cls(
            name=str(d["name"]), type=str(d["type"]), flops=float(d["flops"]), bytes=float(d["bytes"]),
            intensity_flops_per_byte=None if d["intensity_flops_per_byte"] is None else float(d["intensity_flops_per_byte"]),
            bound=Bound(d["bound"]), compute_ms=float(d["compute_ms"]), memory_ms=float(d["memory_ms"]),
            time_ms=float(d["time_ms"]),
        )  # fmt: skip


@dataclass(frozen=True)
class Projection:
    """A whole forward pass at `batch` on one target; every time in it is projected."""

    accelerator: str
    precision: PeakPrecision
    batch: int
    gpus: int
    layers: tuple[LayerProjection, ...]
    latency_ms: float
    flops: float
    bytes: float
    compute_bound_time_share: float
    ridge_flops_per_byte: float
    efficiency: Efficiency
    calibrated: bool
    latency_source: str = PROJECTED
    #: the precision of the layers not in int8, for a mixed target (None: every layer at `precision`)
    float_precision: PeakPrecision | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "accelerator": self.accelerator, "precision": str(self.precision),
            "float_precision": None if self.float_precision is None else str(self.float_precision), "batch": self.batch,
            "gpus": self.gpus, "latency_ms": self.latency_ms, "flops": self.flops, "bytes": self.bytes,
            "compute_bound_time_share": self.compute_bound_time_share,
            "ridge_flops_per_byte": self.ridge_flops_per_byte, "efficiency": self.efficiency.to_dict(),
            "calibrated": self.calibrated, "latency_source": self.latency_source,
            "layers": [lp.to_dict() for lp in self.layers],
        }  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Projection:
        return cls(
            accelerator=str(d["accelerator"]), precision=PeakPrecision(d["precision"]), batch=int(d["batch"]),
            gpus=int(d["gpus"]), layers=tuple(LayerProjection.from_dict(x) for x in d["layers"]),
            latency_ms=float(d["latency_ms"]), flops=float(d["flops"]), bytes=float(d["bytes"]),
            compute_bound_time_share=float(d["compute_bound_time_share"]),
            ridge_flops_per_byte=float(d["ridge_flops_per_byte"]),
            efficiency=Efficiency.from_dict(d["efficiency"]), calibrated=bool(d["calibrated"]),
            latency_source=str(d.get("latency_source", PROJECTED)),
            float_precision=None if d.get("float_precision") is None else PeakPrecision(d["float_precision"]),
        )  # fmt: skip

    def check(self) -> None:
        assert self.latency_source in (PROJECTED, PROJECTED_CALIBRATED), "projection not labelled projected"
        assert math.isclose(self.latency_ms, sum(lp.time_ms for lp in self.layers), rel_tol=1e-9, abs_tol=1e-12), (
            "latency != sum of layers"
        )
        assert 0.0 <= self.compute_bound_time_share <= 1.0 + 1e-12, "compute-bound share out of [0, 1]"
        for lp in self.layers:
            assert lp.time_ms >= max(lp.compute_ms, lp.memory_ms) - 1e-12, f"{lp.name}: time below its roofline"
            if lp.bound is Bound.COMPUTE:
                assert lp.compute_ms >= lp.memory_ms, f"{lp.name}: compute-bound but memory is slower"
            elif lp.bound is Bound.MEMORY:
                assert lp.memory_ms > lp.compute_ms, f"{lp.name}: memory-bound but compute is slower"


def _layer_times(workload: Workload, target: Target, batch: int) -> Iterable[tuple[int, float, float, float, float]]:
    """(index, flops, bytes, compute_s, memory_s) per layer, before overhead and calibration."""
    scale = batch / workload.batch
    # a calibrated target counts every activation byte, as the measurement its factors come from did
    act_scale = scale if target.calibration is not None else scale * target.efficiency.activation_traffic
    q_rates, f_rates = _rates(target)
    q_bytes, f_bytes = target.element_bytes, target.float_element_bytes
    rows = zip(workload.flops, workload.weight_elems, workload.act_elems, _row_is_int8(workload, target), strict=True)
    for i, (f, w, a, q) in enumerate(rows):
        per_flop, per_elem = q_rates if q else f_rates
        fl = f * scale
        elems = w + a * act_scale
        yield i, fl, elems * (q_bytes if q else f_bytes), fl * per_flop, elems * per_elem


def _calibrated(target: Target, layer_type: str, compute_s: float, memory_s: float) -> float | None:
    """Ideal roofline time × the type's calibration factor, or None when not calibrated."""
    if target.calibration is None:
        return None
    factor = target.calibration.factor(layer_type)
    if factor is None:
        return None
    eff = target.efficiency
    return max(compute_s * eff.compute, memory_s * eff.memory) * factor


def latency_s(workload: Workload, target: Target, batch: int) -> float:
    """Projected seconds for one forward of `batch` samples on one replica."""
    if target.calibration is not None:
        return _calibrated_latency_s(workload, target, batch)
    # the planner's hot loop: a few hundred calls per re-plan, so no per-layer calls here
    scale = batch / workload.batch
    act_scale = scale * target.efficiency.activation_traffic  # activation bytes that reach memory
    (per_flop, per_elem), (f_per_flop, f_per_elem) = _rates(target)
    total = 0.0
    if not target.mixed:
        for f, w, a in zip(workload.flops, workload.weight_elems, workload.act_elems, strict=True):
            c = f * scale * per_flop
            m = (w + a * act_scale) * per_elem
            total += c if c > m else m
    else:
        rows = zip(
            workload.flops, workload.weight_elems, workload.act_elems, _row_is_int8(workload, target), strict=True
        )
        for f, w, a, q in rows:
            c = f * scale * (per_flop if q else f_per_flop)
            m = (w + a * act_scale) * (per_elem if q else f_per_elem)
            total += c if c > m else m
    return total + workload.kernels * target.efficiency.kernel_overhead_us * 1e-6


def _calibrated_latency_s(workload: Workload, target: Target, batch: int) -> float:
    overhead = target.efficiency.kernel_overhead_us * 1e-6
    total = 0.0
    types = workload.types
    for i, fl, by, cs, ms in _layer_times(workload, target, batch):
        if not (fl or by):
            continue
        cal = _calibrated(target, types[i], cs, ms)
        total += (cal if cal is not None else max(cs, ms)) + overhead
    return total


def project(workload: Workload | Profile, target: Target, batch: int | None = None) -> Projection:
    """Per-layer projection of a forward pass of `batch` samples (default: the profiled batch)."""
    wl = workload if isinstance(workload, Workload) else Workload.from_profile(workload)
    b = wl.batch if batch is None else batch
    overhead = target.efficiency.kernel_overhead_us * 1e-6
    rows = []
    compute_time = 0.0
    for i, fl, by, cs, ms in _layer_times(wl, target, b):
        work = bool(fl or by)
        cal = _calibrated(target, wl.types[i], cs, ms) if work else None
        if cal is not None:
            # a calibrated layer replaces the default efficiencies: show its ideal roofline
            cs, ms = cs * target.efficiency.compute, ms * target.efficiency.memory
        t = ((cal if cal is not None else max(cs, ms)) + overhead) if work else 0.0
        bound = Bound.NONE if not work else (Bound.COMPUTE if cs >= ms else Bound.MEMORY)
        if bound is Bound.COMPUTE:
            compute_time += t
        rows.append(LayerProjection(
            name=wl.names[i], type=wl.types[i], flops=fl, bytes=by,
            intensity_flops_per_byte=fl / by if by else None, bound=bound,
            compute_ms=cs * 1e3, memory_ms=ms * 1e3, time_ms=t * 1e3,
        ))  # fmt: skip
    total_ms = sum(r.time_ms for r in rows)
    calibrated = target.calibration is not None
    return Projection(
        accelerator=target.accelerator.name, precision=target.precision, batch=b, gpus=target.gpus,
        layers=tuple(rows), latency_ms=total_ms, flops=sum(r.flops for r in rows),
        bytes=sum(r.bytes for r in rows),
        compute_bound_time_share=(compute_time * 1e3 / total_ms) if total_ms else 0.0,
        ridge_flops_per_byte=target.ridge_flops_per_byte, efficiency=target.efficiency,
        calibrated=calibrated, latency_source=PROJECTED_CALIBRATED if calibrated else PROJECTED,
        float_precision=target.float_precision,
    )  # fmt: skip


# ----------------------------------------------------------------------------- memory, batch


def serving_memory_bytes(workload: Workload, target: Target, batch: int) -> float:
    """Bytes one accelerator of a replica holds: weights + the forward's activation working set
    (activations at the float precision of a mixed target)."""
    act = workload.working_set_elems * batch / workload.batch
    return (weight_bytes(workload, target) + act * target.float_element_bytes) / target.gpus


def usable_memory_bytes(accelerator: Accelerator, memory_gb: float | None = None) -> float:
    """What a model may use of one accelerator (`memory_gb` overrides the spec, e.g. the
    provider-reported figure of an instance)."""
    gb = memory_gb if memory_gb is not None else accelerator.memory_gb
    return 0.0 if gb is None else gb * 1024**3 * MEMORY_USABLE_FRACTION


def largest_batch(fits: Callable[[int], bool], max_batch: int) -> int | None:
    """The largest b in [1, max_batch] with fits(b), for a predicate true up to some b and
    false after (latency and memory grow with the batch); None when not even 1 fits."""
    if max_batch < 1 or not fits(1):
        return None
    lo, hi = 1, max_batch
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


@dataclass(frozen=True)
class BatchPoint:
    batch: int
    latency_ms: float
    throughput_per_s: float
    memory_bytes: float
    fits_memory: bool
    latency_source: str = PROJECTED

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def throughput_curve(
    workload: Workload, target: Target, batches: Iterable[int], memory_gb: float | None = None
) -> tuple[BatchPoint, ...]:
    """Projected latency, samples/s per replica and memory at each batch size."""
    usable = usable_memory_bytes(target.accelerator, memory_gb)
    points = []
    for b in batches:
        lat = latency_s(workload, target, b)
        mem = serving_memory_bytes(workload, target, b)
        points.append(BatchPoint(b, lat * 1e3, b / lat if lat else math.inf, mem, mem <= usable))
    return tuple(points)


def largest_serving_batch(
    workload: Workload, target: Target, *, slo_ms: float | None, max_batch: int, memory_gb: float | None = None
) -> int | None:
    """Largest batch ≤ max_batch that fits memory and (if given) meets the latency objective."""
    usable = usable_memory_bytes(target.accelerator, memory_gb)

    def ok(b: int) -> bool:
        if serving_memory_bytes(workload, target, b) > usable:
            return False
        return slo_ms is None or latency_s(workload, target, b) * 1e3 <= slo_ms

    return largest_batch(ok, max_batch)


# ----------------------------------------------------------------------------- calibration


#: Efficiencies of the ideal roofline a measurement is divided by.
IDEAL_EFFICIENCY = Efficiency(1.0, 1.0, 0.0)


def measured_vs_ideal(
    profile: Profile,
    local: Accelerator,
    precision: PeakPrecision | None = None,
    *,
    key: Callable[[str], str] | None = None,
    overhead_s: float = 0.0,
) -> tuple[PeakPrecision, dict[str, float], dict[str, float]]:
    """(the precision projected at, measured seconds per key, ideal roofline seconds per key)
    over the layers that do work and have a measured latency, on the device `local` describes
    (efficiencies 1, no overhead). `key` groups layer types (default: the type itself; e.g.
    `planner.op_classes.op_class`). Without `precision` the profile is projected as it ran
    (`serving_precisions`: an int8 variant's int8 layers at int8, the rest at their float
    precision). `overhead_s` per layer is taken off its measured time (never below 0): the
    launch cost a projection adds back as the kernel overhead, so that the factor scales with
    the work alone. Raises ValueError when `local` cannot be projected or no layer qualifies."""
    wl = Workload.from_profile(profile)
    if precision is None:
        prec, float_prec = serving_precisions(wl)
    else:
        prec, float_prec = precision, None
    target = make_target(local, prec, efficiency=IDEAL_EFFICIENCY, float_precision=float_prec)
    if target is None:
        raise ValueError(f"{local.name}: needs a peak and a memory bandwidth to calibrate against")
    measured: dict[str, float] = {}
    ideal: dict[str, float] = {}
    for i, _fl, _by, cs, ms in _layer_times(wl, target, wl.batch):
        lat = profile.layers[i].latency_ms
        t = max(cs, ms)
        if lat is None or t <= 0 or not math.isfinite(lat) or lat < 0:
            continue
        k = wl.types[i] if key is None else key(wl.types[i])
        measured[k] = measured.get(k, 0.0) + max(0.0, lat * 1e-3 - overhead_s)
        ideal[k] = ideal.get(k, 0.0) + t
    if not measured:
        raise ValueError("the profile has no per-layer latency to calibrate from")
    return target.precision, measured, ideal


def timing_spread(profile: Profile) -> float | None:
    """Relative half-width of the end-to-end p10–p90 of a measured profile (None: not timed)."""
    lat = profile.totals.latency_ms
    if lat is None or not lat.median > 0:
        return None
    return max(0.0, (lat.p90 - lat.p10) / 2 / lat.median)


def calibrate(
    profile: Profile, local: Accelerator, precision: PeakPrecision | None = None, *, by_class: bool = False
) -> Calibration:
    """measured ÷ ideal roofline per layer type (per op class with `by_class`), from the
    per-layer latencies of a profile measured on the device `local` describes (peak and
    bandwidth needed; efficiencies 1, no overhead). Factors below 1 (the spec understates the
    device) are clamped to 1. One run: its spread is the timing's own. Raises ValueError when the
    profile has no per-layer measurement or `local` cannot be projected."""
    prec, measured, ideal = measured_vs_ideal(profile, local, precision, key=op_class if by_class else None)
    factors = tuple(sorted((k, max(1.0, measured[k] / ideal[k])) for k in measured))
    return Calibration(
        device=local.name, precision=prec, factors=factors, runs=1, spread_fraction=timing_spread(profile)
    )


def cpu_spec(
    name: str, *, cores: int, ghz: float, simd_bits: int = 256, fma_units: int = 2, bandwidth_gb_s: float
) -> Accelerator:
    """A local CPU described for calibration. Peak FP32 = GHz × cores × (SIMD bits ÷ 32) × 2
    (FMA) × FMA units — the rule gpu_specs.csv uses for its Xeon reference row."""
    tflops = ghz * cores * (simd_bits / 32) * 2 * fma_units / 1e3
    return Accelerator(
        name=name, vendor="", kind=AcceleratorKind.CPU, accelerator_class=AcceleratorClass.CPU, memory_gb=None,
        bandwidth_gb_s=bandwidth_gb_s, fp32_tflops=tflops, tf32_tflops=None, fp16_tflops=None,
        bf16_tflops=None, fp8_tflops=None, int8_tops=None, tdp_w=None, source="local (cpu_spec)",
        as_of="", notes="peak = GHz × cores × SIMD lanes × 2 × FMA units",
    )  # fmt: skip
