"""Serving cost of a profile on every catalog instance.

Per instance: a replica spans the fewest accelerators (1, 2, 4, … up to the instance's count)
whose memory holds it (ideal tensor parallelism); the batch is the largest ≤ max_batch that
fits memory and meets the latency objective (batch 1, flagged `meets_slo: false`, when none
does); the latency is the projected time of that batch (queueing is not modelled).

    throughput per instance  = replicas × batch ÷ latency
    $ per million            = $/h ÷ (throughput × utilisation × 3600) × 10^6
    instances for Q req/s    = ceil(Q ÷ (throughput × utilisation))
    $ per month              = instances × $/h × 730 h

Decoder LMs: prefill is the profile's forward (prompt = the profiled sequence) projected per
layer; each decode step reads all weights and the KV cache of the batch,
    step = max(batch × FLOPs/token ÷ compute, (weights + batch × context × KV bytes/token) ÷ bandwidth)
         + kernels × overhead,
with FLOPs/token = forward FLOPs ÷ (batch × sequence) and context = prompt + output/2 (the
mean over the generation). A request takes prefill + output tokens × step.

Mixed precision (`ServeSettings.float_precision`, see planner/roofline.py): the measured
variant's int8 layers run at the int8 peak, the rest at the float precision it kept; the option
says which share (`quantized_mac_share`, `float_precision`, a note). A decode step splits its
FLOPs by the int8 layers' share of FLOPs, and its weight bytes by their share of weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from planner.catalog import Accelerator, Instance
from planner.lm import LMShape
from planner.records import FlatRecord
from planner.roofline import (
    Calibration,
    Efficiency,
    Target,
    largest_batch,
    latency_s,
    make_target,
    serving_memory_bytes,
    usable_memory_bytes,
    weight_bytes,
)
from planner.vocab import PROJECTED, PROJECTED_CALIBRATED, Bound, PeakPrecision
from planner.workload import Workload
from profiler.precision_share import PrecisionShare

HOURS_PER_MONTH = 730.0  # 8760 h ÷ 12


@dataclass(frozen=True)
class InferenceOption(FlatRecord):
    """One instance serving the model. Every time and rate here is projected."""

    instance: str
    provider: str
    region: str
    accelerator: str
    precision: str
    batch: int
    latency_ms: float | None
    throughput_per_s: float | None  # per accelerator
    usd_per_million: float | None
    instances_needed: int | None
    usd_per_month: float | None
    meets_slo: bool
    fits_memory: bool
    # extensions
    gpu_model: str = ""
    gpus_per_instance: int = 1
    gpus_per_replica: int = 1
    replicas_per_instance: int = 1
    throughput_per_instance_per_s: float | None = None
    usd_per_hour: float = 0.0
    usd_per_hour_spot: float | None = None
    usd_per_million_spot: float | None = None
    usd_per_month_spot: float | None = None
    memory_gb: float | None = None  # per accelerator, at this batch
    ttft_ms: float | None = None
    tpot_ms: float | None = None
    output_tokens_per_s: float | None = None  # per instance
    usd_per_million_tokens: float | None = None
    usd_per_million_tokens_spot: float | None = None
    decode_bound: str | None = None
    price_quality: str = "ok"
    latency_source: str = PROJECTED
    notes: tuple[str, ...] = ()
    #: the precision of the layers not quantized (None: every layer at `precision`)
    float_precision: str | None = None
    #: share of the forward's MACs projected at `precision` when the rest run at
    #: `float_precision` (the measured variant's int8 layers); None when every layer is
    quantized_mac_share: float | None = None
    #: share of the fleet's capacity the stated load uses (None without a load)
    utilization_at_load: float | None = None
    #: why this option is not an answer (does not fit, misses the objective); None when it is one
    excluded_reason: str | None = None
    #: relative half-width of the projection's uncertainty band (0.25 = ±25 %) and its basis
    uncertainty_fraction: float | None = None
    uncertainty_basis: str = ""


@dataclass(frozen=True)
class ServeSettings:
    precision: PeakPrecision
    slo_ms: float | None
    qps: float | None
    utilization: float
    max_batch: int
    efficiency: Efficiency | None  # None: the accelerator class default
    calibration: Calibration | None
    lm: LMShape | None  # set for decoder LMs (n_layers may be 0 when unknown)
    decoder_lm: bool
    output_tokens: int
    #: set when only the workload's int8 layers run at `precision` (planner.roofline.serving_precisions)
    float_precision: PeakPrecision | None = None
    #: what the option rows say about the split, e.g. the share of MACs in int8
    share: PrecisionShare | None = None


@dataclass(frozen=True)
class _Replica:
    target: Target
    batch: int
    latency_s: float
    fits_memory: bool
    meets_slo: bool
    memory_bytes: float
    requests_per_s: float
    ttft_s: float | None = None
    tpot_s: float | None = None
    output_tokens_per_s: float | None = None
    decode_bound: str | None = None


class _LM:
    """Decode-step and memory arithmetic of one decoder LM workload."""

    def __init__(self, wl: Workload, shape: LMShape | None, output_tokens: int) -> None:
        seq = wl.seq_len or 1
        tokens = wl.batch * seq
        self.wl = wl
        self.prompt = seq
        self.output = output_tokens
        self.flops_per_token = wl.total_flops / tokens
        self.act_elems_per_token = sum(wl.act_elems) / tokens
        self.kv_elems_per_token = 0 if shape is None else shape.kv_elems_per_token()
        self.kernels = wl.kernels

    def step_s(self, t: Target, batch: int) -> tuple[float, Bound]:
        eb = t.float_element_bytes  # KV cache and activations stay at the float precision
        context = self.prompt + self.output / 2
        flops = batch * self.flops_per_token
        by = weight_bytes(self.wl, t) + batch * (context * self.kv_elems_per_token + self.act_elems_per_token) * eb
        q = self.wl.int8_flops_fraction if t.mixed else 1.0
        compute = t.efficiency.compute * t.gpus
        cs = flops * q / (t.flops_per_s * compute)
        if q < 1.0:
            cs += flops * (1.0 - q) / (t.float_flops_per_s * compute)
        ms = by / (t.bytes_per_s * t.efficiency.memory * t.gpus)
        return max(cs, ms) + self.kernels * t.efficiency.kernel_overhead_us * 1e-6, (
            Bound.COMPUTE if cs >= ms else Bound.MEMORY
        )

    def memory_bytes(self, t: Target, batch: int) -> float:
        kv = batch * (self.prompt + self.output) * self.kv_elems_per_token * t.float_element_bytes
        return serving_memory_bytes(self.wl, t, batch) + kv / t.gpus

    def request_s(self, t: Target, batch: int) -> float:
        return latency_s(self.wl, t, batch) + self.output * self.step_s(t, batch)[0]


def _replica(wl: Workload, lm: _LM | None, t: Target, usable: float, s: ServeSettings) -> _Replica:
    def memory(b: int) -> float:
        return lm.memory_bytes(t, b) if lm else serving_memory_bytes(wl, t, b)

    def latency(b: int) -> float:
        return lm.request_s(t, b) if lm else latency_s(wl, t, b)

    def ok(b: int) -> bool:
        return memory(b) <= usable and (s.slo_ms is None or latency(b) * 1e3 <= s.slo_ms)

    best = largest_batch(ok, s.max_batch)
    b = best or 1
    lat = latency(b)
    fits = memory(b) <= usable
    meets = s.slo_ms is None or lat * 1e3 <= s.slo_ms
    if lm is None:
        return _Replica(t, b, lat, fits, meets, memory(b), b / lat)
    step, bound = lm.step_s(t, b)
    return _Replica(
        t, b, lat, fits, meets, memory(b), b / lat, ttft_s=latency_s(wl, t, b) + step, tpot_s=step,
        output_tokens_per_s=b * lm.output / lat, decode_bound=str(bound),
    )  # fmt: skip


_ReplicaCache = dict[tuple[str, float | None, int], "_Replica | None"]


def _best_replica(
    wl: Workload, lm: _LM | None, acc: Accelerator, inst: Instance, s: ServeSettings, cache: _ReplicaCache
) -> _Replica | None:
    """The replica on the fewest accelerators (1, 2, 4, … ≤ the instance's count) that fits and
    meets the latency objective; else the fewest that fit (flagged `meets_slo: false`). Splitting
    a model over more accelerators also shortens its latency, so more memory never turns an
    option that met the objective into one that misses it."""
    usable = usable_memory_bytes(acc, inst.gpu_memory_gb)
    k = 1
    last: _Replica | None = None
    first_fit: _Replica | None = None
    while k <= inst.count:
        key = (acc.name, inst.gpu_memory_gb, k)
        if key not in cache:
            t = make_target(
                acc, s.precision, efficiency=s.efficiency, calibration=s.calibration, gpus=k,
                float_precision=s.float_precision,
            )  # fmt: skip
            cache[key] = None if t is None else _replica(wl, lm, t, usable, s)
        last = cache[key]
        if last is None:
            return first_fit
        if last.fits_memory and last.meets_slo:
            return last
        if last.fits_memory and first_fit is None:
            first_fit = last
        k *= 2
    return first_fit or last


def plan_inference(
    wl: Workload, instances: tuple[tuple[Instance, Accelerator], ...], s: ServeSettings
) -> tuple[InferenceOption, ...]:
    """One option per instance, cheapest $ per million inferences first (options that do not
    fit in memory have no price and come last)."""
    lm = _LM(wl, s.lm, s.output_tokens) if s.decoder_lm else None
    cache: _ReplicaCache = {}
    options = []
    for inst, acc in instances:
        rep = _best_replica(wl, lm, acc, inst, s, cache)
        if rep is not None:
            options.append(_option(inst, acc, rep, s))
    return tuple(sorted(options, key=_price_key))


def _price_key(o: InferenceOption) -> tuple[bool, float]:
    return (o.usd_per_million is None, o.usd_per_million if o.usd_per_million is not None else math.inf)


def _option(inst: Instance, acc: Accelerator, rep: _Replica, s: ServeSettings) -> InferenceOption:
    t = rep.target
    replicas = inst.count // t.gpus
    notes = []
    if t.precision != s.precision:
        notes.append(f"{acc.name} has no {s.precision} peak: projected at {t.precision}")
    if s.float_precision is not None and t.float_precision != s.float_precision:
        notes.append(
            f"{acc.name} has no {s.float_precision} peak: the layers not in int8 projected at {t.float_precision}"
        )
    share_text = None if s.share is None or not t.mixed else s.share.describe(str(t.precision), str(t.float_precision))
    if share_text:
        notes.append(share_text)
    if inst.quality != "ok":
        notes.append(f"price quality {inst.quality}: see the catalog row's notes")
    if s.decoder_lm and (s.lm is None or s.lm.kv_elems_per_token() == 0):
        notes.append("KV cache size unknown (pass --kv-layers, --kv-heads, --head-dim): decode ignores it")
    fits = rep.fits_memory
    per_instance = rep.requests_per_s * replicas if fits else None

    def per_million(usd_h: float | None, rate: float | None) -> float | None:
        if usd_h is None or not rate:
            return None
        return usd_h / (rate * s.utilization * 3600) * 1e6

    needed = math.ceil(s.qps / (per_instance * s.utilization)) if (s.qps and per_instance) else None
    tokens = rep.output_tokens_per_s * replicas if (fits and rep.output_tokens_per_s) else None
    return InferenceOption(
        instance=inst.instance, provider=inst.provider, region=inst.region, accelerator=acc.name,
        precision=str(t.precision), batch=rep.batch,
        latency_ms=rep.latency_s * 1e3 if fits else None,
        throughput_per_s=per_instance / inst.count if per_instance else None,
        usd_per_million=per_million(inst.usd_per_hour, per_instance),
        instances_needed=needed,
        usd_per_month=needed * inst.usd_per_hour * HOURS_PER_MONTH if needed else None,
        meets_slo=rep.meets_slo and fits, fits_memory=fits,
        gpu_model=inst.gpu_model, gpus_per_instance=inst.count, gpus_per_replica=t.gpus,
        replicas_per_instance=replicas, throughput_per_instance_per_s=per_instance,
        usd_per_hour=inst.usd_per_hour, usd_per_hour_spot=inst.usd_per_hour_spot,
        usd_per_million_spot=per_million(inst.usd_per_hour_spot, per_instance),
        usd_per_month_spot=(needed * inst.usd_per_hour_spot * HOURS_PER_MONTH) if (needed and inst.usd_per_hour_spot) else None,
        memory_gb=rep.memory_bytes / 1024**3,
        ttft_ms=rep.ttft_s * 1e3 if (fits and rep.ttft_s is not None) else None,
        tpot_ms=rep.tpot_s * 1e3 if (fits and rep.tpot_s is not None) else None,
        output_tokens_per_s=tokens,
        usd_per_million_tokens=per_million(inst.usd_per_hour, tokens),
        usd_per_million_tokens_spot=per_million(inst.usd_per_hour_spot, tokens),
        decode_bound=rep.decode_bound, price_quality=inst.quality,
        latency_source=PROJECTED_CALIBRATED if t.calibration is not None else PROJECTED,
        notes=tuple(notes),
        float_precision=None if t.float_precision is None else str(t.float_precision),
        quantized_mac_share=None if (s.share is None or not t.mixed) else s.share.int8_fraction,
    )  # fmt: skip
