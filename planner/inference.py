"""Serving cost of a profile on every catalog instance.

Per instance: a replica spans the fewest accelerators (1, 2, 4, … up to the instance's count)
whose memory holds it (ideal tensor parallelism); the batch is the largest ≤ max_batch that
fits memory and meets the latency objective (batch 1, flagged `meets_slo: false`, when none
does); the latency is the projected time of that batch (queueing is not modelled).

    throughput per instance  = replicas × batch ÷ latency
    $ per million            = $/h ÷ (throughput × utilisation × 3600) × 10^6
    instances for Q req/s    = ceil(Q ÷ (throughput × utilisation))
    $ per month              = instances × $/h × 730 h

Decoder LMs (planner.llm_serving, `_LM`): prefill of the prompt (the profiled sequence) and
decode iterations apart; the KV cache left beside the weights caps the concurrent sequences;
continuous batching with chunked prefill at the stated rate sets the decode batch, TTFT, TPOT
and the instances a load needs; the replica size is the one with the largest capacity.
`lm_option_fields` gives the option fields a decoder LM sets itself.

Mixed precision (`ServeSettings.float_precision`, see planner/roofline.py): the measured
variant's int8 layers run at the int8 peak, the rest at the float precision it kept; the option
says which share (`quantized_mac_share`, `float_precision`, a note). A decode step splits its
FLOPs by the int8 layers' share of FLOPs, and its weight bytes by their share of weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from planner.calibration_store import StoredCalibrations, resolve_calibration, uncertainty_of
from planner.catalog import Accelerator, Instance
from planner.efficiency_defaults import default_uncertainty
from planner.llm_serving import LMServing, serve_decoder_lm
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
)
from planner.serving_load import FleetAtLoad, size_fleet
from planner.vocab import PROJECTED, PROJECTED_CALIBRATED, PeakPrecision
from planner.workload import Workload
from profiler.precision_share import PrecisionShare

HOURS_PER_MONTH = 730.0  # 8760 h ÷ 12
_SIXTEEN_BIT = (PeakPrecision.BF16, PeakPrecision.FP16)


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
    #: p90 latency of a request at the stated load (batch fill + queueing + the batch), projected
    latency_p90_at_load_ms: float | None = None
    #: $ per month at the load with every batch time at the band's low and high end (fewer or
    #: more instances); None without a load
    usd_per_month_low: float | None = None
    usd_per_month_high: float | None = None
    # decoder-LM serving (planner.llm_serving; None for other models)
    #: mean sequences holding KV cache per replica at the operating point (Little's law)
    concurrency: float | None = None
    #: mean sequences per decode iteration per replica
    decode_batch: float | None = None
    #: sequences of prompt + output tokens the KV cache of one replica holds
    kv_capacity_seqs: int | None = None
    kv_bytes_per_token: float | None = None
    #: one prompt's prefill alone on one replica
    prefill_ms: float | None = None
    #: what limits a replica's capacity: kv, max_batch, tpot, ttft, request, saturated
    capacity_limited_by: str | None = None


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
    #: the precision is the planner's auto default: a fallback (bf16 → fp16) is expected, not noted
    auto_precision: bool = False
    #: planner.model_class.ModelClass value: which published checks bound the projection's error
    model_class: str = "other"
    # decoder-LM serving (planner.llm_serving): objectives on time to first token and per output token
    ttft_slo_ms: float | None = None
    tpot_slo_ms: float | None = None
    #: calibrations measured per device (planner.calibration_store); None: not used
    stored_calibrations: StoredCalibrations | None = None


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
    #: decoder LMs: replica size, KV capacity, operating point, instances (planner.llm_serving)
    lm: LMServing | None = None


class _LM:
    """A decoder LM workload served with continuous batching (planner.llm_serving)."""

    def __init__(self, wl: Workload, shape: LMShape | None, output_tokens: int) -> None:
        self.wl = wl
        self.shape = shape
        self.output = output_tokens
        self.cache: dict[tuple[str, float | None, int], Any] = {}

    def best_replica(self, acc: Accelerator, inst: Instance, s: ServeSettings) -> _Replica | None:
        """The replica size with the largest capacity on `inst`, at its operating point."""
        lm = serve_decoder_lm(self.wl, self.shape, acc, inst, s, self.cache)
        if lm is None:
            return None
        p = lm.point
        return _Replica(
            lm.target, lm.batch, p.request_s, lm.fits_memory, lm.meets_objectives, lm.memory_bytes_per_gpu,
            lm.rate_per_s, ttft_s=p.ttft_s, tpot_s=p.tpot_s, output_tokens_per_s=lm.output_tokens_per_s,
            decode_bound=str(p.bound), lm=lm,
        )  # fmt: skip


def lm_option_fields(rep: _Replica, inst: Instance, s: ServeSettings, notes: tuple[str, ...]) -> dict[str, Any]:
    """The InferenceOption fields a decoder LM sets itself, from `rep.lm` (planner.llm_serving):
    apply them last, `dataclasses.replace(option, **lm_option_fields(rep, inst, s, option.notes))`.
    Capacity and prices: at a load, what the fleet costs per million requests (and output tokens)
    it serves; without one, per replica at capacity and at the plan's utilisation. An option that
    is not an answer (`excluded_reason`) has no price."""
    lm = rep.lm
    assert lm is not None
    p = lm.point
    fits = lm.fits_memory
    excluded = lm.excluded_reason
    per_instance = lm.rate_per_s * lm.replicas if fits else None
    tokens = lm.output_tokens_per_s * lm.replicas if fits else None
    needed = lm.instances_needed if excluded is None else None
    month = needed * inst.usd_per_hour * HOURS_PER_MONTH if needed else None
    month_spot = needed * inst.usd_per_hour_spot * HOURS_PER_MONTH if (needed and inst.usd_per_hour_spot) else None

    def million(usd_h: float | None, usd_month: float | None, per_request: int, rate: float | None) -> float | None:
        if excluded is not None or usd_h is None:
            return None
        if s.qps and needed:
            return None if usd_month is None else usd_month / (s.qps * per_request * HOURS_PER_MONTH * 3600) * 1e6
        return usd_h / (rate * s.utilization * 3600) * 1e6 if rate else None

    out = lm.model.output
    return {
        "batch": lm.batch, "latency_ms": p.request_s * 1e3 if fits else None,
        "ttft_ms": p.ttft_s * 1e3 if fits else None, "tpot_ms": p.tpot_s * 1e3 if fits else None,
        "decode_bound": str(p.bound), "fits_memory": fits, "meets_slo": fits and excluded is None,
        "throughput_per_instance_per_s": per_instance,
        "throughput_per_s": per_instance / inst.count if per_instance else None,
        "output_tokens_per_s": tokens, "instances_needed": needed, "usd_per_month": month,
        "usd_per_month_spot": month_spot,
        "usd_per_million": million(inst.usd_per_hour, month, 1, per_instance),
        "usd_per_million_spot": million(inst.usd_per_hour_spot, month_spot, 1, per_instance),
        "usd_per_million_tokens": million(inst.usd_per_hour, month, out, tokens),
        "usd_per_million_tokens_spot": million(inst.usd_per_hour_spot, month_spot, out, tokens),
        "memory_gb": lm.memory_bytes_per_gpu / 1024**3, "utilization_at_load": lm.utilization_at_load,
        "excluded_reason": excluded, "notes": tuple(dict.fromkeys((*notes, *lm.notes))),
        "concurrency": p.concurrency if fits else None, "decode_batch": p.decode_batch if fits else None,
        "kv_capacity_seqs": lm.kv_capacity_seqs, "kv_bytes_per_token": lm.model.kv_bytes_per_token or None,
        "prefill_ms": lm.prefill_ms if fits else None, "capacity_limited_by": lm.binding if fits else None,
    }  # fmt: skip


def _replica(wl: Workload, t: Target, usable: float, s: ServeSettings) -> _Replica:
    def ok(b: int) -> bool:
        return serving_memory_bytes(wl, t, b) <= usable and (s.slo_ms is None or latency_s(wl, t, b) * 1e3 <= s.slo_ms)

    b = largest_batch(ok, s.max_batch) or 1
    lat = latency_s(wl, t, b)
    memory = serving_memory_bytes(wl, t, b)
    meets = s.slo_ms is None or lat * 1e3 <= s.slo_ms
    return _Replica(t, b, lat, memory <= usable, meets, memory, b / lat)


_ReplicaCache = dict[tuple[str, float | None, int], "_Replica | None"]


def _best_replica(
    wl: Workload, lm: _LM | None, acc: Accelerator, inst: Instance, s: ServeSettings, cache: _ReplicaCache
) -> _Replica | None:
    """The replica on the fewest accelerators (1, 2, 4, … ≤ the instance's count) that fits and
    meets the latency objective; else the fewest that fit (flagged `meets_slo: false`). Splitting
    a model over more accelerators also shortens its latency, so more memory never turns an
    option that met the objective into one that misses it. Decoder LMs: `_LM.best_replica`."""
    if lm is not None:
        return lm.best_replica(acc, inst, s)
    usable = usable_memory_bytes(acc, inst.gpu_memory_gb)
    k = 1
    last: _Replica | None = None
    first_fit: _Replica | None = None
    while k <= inst.count:
        key = (acc.name, inst.gpu_memory_gb, k)
        if key not in cache:
            t = make_target(
                acc, s.precision, efficiency=s.efficiency,
                calibration=resolve_calibration(s.calibration, s.stored_calibrations, acc, s.precision),
                gpus=k, float_precision=s.float_precision,
            )  # fmt: skip
            cache[key] = None if t is None else _replica(wl, t, usable, s)
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
    """One option per instance, in catalog order: `plan()` ranks them for the question asked
    (planner.answer.rank_key)."""
    lm = _LM(wl, s.lm, s.output_tokens) if s.decoder_lm else None
    cache: _ReplicaCache = {}
    times: _TimeCache = {}  # batch times per replica target: instances of one accelerator share them
    options = []
    for inst, acc in instances:
        rep = _best_replica(wl, lm, acc, inst, s, cache)
        if rep is not None:
            options.append(_option(inst, acc, rep, s, wl, times))
    return tuple(options)


def _option(
    inst: Instance, acc: Accelerator, rep: _Replica, s: ServeSettings, wl: Workload, times: _TimeCache | None = None
) -> InferenceOption:
    t = rep.target
    replicas = inst.count // t.gpus
    notes = []
    if t.precision != s.precision and not (s.auto_precision and t.precision in _SIXTEEN_BIT):
        notes.append(f"{acc.name} has no {s.precision} peak: projected at {t.precision}")
    if (
        s.float_precision is not None
        and t.float_precision != s.float_precision
        and not (s.auto_precision and t.float_precision in _SIXTEEN_BIT)
    ):
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
    at_load = None
    batch, latency = rep.batch, rep.latency_s
    excluded = _why_not(rep, s, acc)
    if s.qps and fits and not s.decoder_lm:
        at_load = _fleet_at_load(wl, rep, s, replicas, usable_memory_bytes(acc, inst.gpu_memory_gb), times=times)
        if at_load is None:
            needed = None
            excluded = excluded or (
                f"cannot carry {s.qps:g} req/s within {s.slo_ms:g} ms p90 on any number of instances"
                if s.slo_ms
                else f"cannot carry {s.qps:g} req/s"
            )
        else:
            needed, batch, latency = at_load.instances, at_load.batch, at_load.batch_s
            per_instance = replicas * batch / latency
            excluded = None
    month = needed * inst.usd_per_hour * HOURS_PER_MONTH if needed else None
    month_spot = needed * inst.usd_per_hour_spot * HOURS_PER_MONTH if (needed and inst.usd_per_hour_spot) else None

    def million(usd_h: float | None, usd_month: float | None) -> float | None:
        """At a load: what the fleet costs per million requests it serves; else at the utilisation.
        An option that is not an answer has no price (its reason says why)."""
        if excluded is not None:
            return None
        if at_load is not None and s.qps:
            return None if usd_month is None else usd_month / (s.qps * HOURS_PER_MONTH * 3600) * 1e6
        return per_million(usd_h, per_instance)

    band, band_basis = _uncertainty(t, s, acc)
    month_range: tuple[float | None, float | None] = (month, month)
    if at_load is not None and band:
        # the band is on time: a faster or slower accelerator may need fewer or more instances
        usable = usable_memory_bytes(acc, inst.gpu_memory_gb)
        low, high = (_fleet_at_load(wl, rep, s, replicas, usable, k, times) for k in (1 - band, 1 + band))
        month_range = tuple(  # type: ignore[assignment]
            None if f is None else f.instances * inst.usd_per_hour * HOURS_PER_MONTH for f in (low, high)
        )
    tokens = rep.output_tokens_per_s * replicas if (fits and rep.output_tokens_per_s) else None
    option = InferenceOption(
        instance=inst.instance, provider=inst.provider, region=inst.region, accelerator=acc.name,
        precision=str(t.precision), batch=batch,
        latency_ms=latency * 1e3 if fits else None,
        throughput_per_s=per_instance / inst.count if per_instance else None,
        usd_per_million=million(inst.usd_per_hour, month),
        instances_needed=needed,
        usd_per_month=month,
        meets_slo=(rep.meets_slo if at_load is None else True) and fits and excluded is None, fits_memory=fits,
        gpu_model=inst.gpu_model, gpus_per_instance=inst.count, gpus_per_replica=t.gpus,
        replicas_per_instance=replicas, throughput_per_instance_per_s=per_instance,
        usd_per_hour=inst.usd_per_hour, usd_per_hour_spot=inst.usd_per_hour_spot,
        usd_per_million_spot=million(inst.usd_per_hour_spot, month_spot),
        usd_per_month_spot=month_spot,
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
        utilization_at_load=None if at_load is None else at_load.utilization,
        latency_p90_at_load_ms=None if at_load is None else at_load.latency_p90_s * 1e3,
        excluded_reason=excluded,
        uncertainty_fraction=band, uncertainty_basis=band_basis,
        usd_per_month_low=None if at_load is None else month_range[0],
        usd_per_month_high=None if at_load is None else month_range[1],
    )  # fmt: skip
    if rep.lm is not None:  # a decoder LM sets its own sizing, prices and reasons (planner.llm_serving)
        option = replace(option, **lm_option_fields(rep, inst, s, option.notes))
    return option


def _uncertainty(t: Target, s: ServeSettings, acc: Accelerator) -> tuple[float, str]:
    """The projection's relative band: the calibration's spread when calibrated on this device,
    else how far the published checks of this model class landed (planner.efficiency_defaults)."""
    if t.calibration is not None:
        floor = default_uncertainty(s.model_class, acc.accelerator_class)[0]
        fraction, basis = uncertainty_of(t.calibration, acc.name, floor)
        if fraction is not None:
            return fraction, basis
        default, default_basis = default_uncertainty(s.model_class, acc.accelerator_class)
        return default, f"{basis}; {default_basis}"
    return default_uncertainty(s.model_class, acc.accelerator_class)


def _why_not(rep: _Replica, s: ServeSettings, acc: Accelerator) -> str | None:
    """Why the replica is not an answer, in words; None when it is one."""
    if not rep.fits_memory:
        split = f" split over {rep.target.gpus} GPUs" if rep.target.gpus > 1 else ""
        return (
            f"does not fit: needs {rep.memory_bytes / 1024**3:.3g} GiB per GPU at batch 1{split}; "
            f"{acc.name} has {acc.memory_gb:g} GiB (90 % usable)"
        )
    if not rep.meets_slo and s.slo_ms is not None:
        return f"too slow: batch 1 takes {rep.latency_s * 1e3:.3g} ms, over the {s.slo_ms:g} ms objective"
    return None


_TimeCache = dict[tuple[int, int], float]


def _fleet_at_load(
    wl: Workload,
    rep: _Replica,
    s: ServeSettings,
    replicas: int,
    usable: float,
    time_scale: float = 1.0,
    times: _TimeCache | None = None,
) -> FleetAtLoad | None:
    """The fewest instances of this type carrying `s.qps` (planner.serving_load)."""
    assert s.qps is not None
    t = rep.target
    cache: _TimeCache = {} if times is None else times

    def batch_s(b: int) -> float:
        key = (id(t), b)  # targets live in the replica cache for the whole plan_inference call
        if key not in cache:
            cache[key] = latency_s(wl, t, b)
        return cache[key] * time_scale

    return size_fleet(
        s.qps, replicas, batch_s,
        lambda b: serving_memory_bytes(wl, t, b) <= usable,
        max_batch=s.max_batch, utilization_ceiling=s.utilization,
        slo_s=None if s.slo_ms is None else s.slo_ms / 1e3,
    )  # fmt: skip
