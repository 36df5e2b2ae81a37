"""Training compute, memory, time, cost, energy and CO2 on every catalog GPU instance.

Compute: two FLOP counts, the plan's `flop_convention` choosing which one is `flops` and in
which one an MFU is read (`--flop-convention`):
- `6n_attention` (default): 3 × forward FLOPs per sample (or per token) × dataset × epochs — the
  backward pass costs twice the forward (Transformer Math 101). Attention is counted as the
  profiler counts it, in full: causal attention is *not* halved, which is PaLM's MFU convention
  (arXiv:2204.02311, Appendix B: 6N + 12·L·H·Q·T per token) and Megatron-LM's;
- `6nd`: 6 · N · D (N = unique parameters, D = tokens; Kaplan et al. 2020), token models only
  (a model without tokens falls back to 3 × forward, with a note).
Both GPU-hour figures are in every option (`gpu_hours_6n_attention`, `gpu_hours_6nd`): the same
MFU number applied to each count, so a user's `--mfu` quoted in either convention can be read.

MFU: `--mfu`, else `planner.training_defaults.mfu_default(model class, accelerator class)`, each
default from a published run in its source's FLOP convention; it is converted to the plan's
convention so that the projected time is the source's (MFU × FLOPs_selected ÷ FLOPs_source). The
default's published low/high give `hours_low`/`hours_high` and `uncertainty_fraction`.

Time: hours = FLOPs ÷ (GPUs × dense peak(precision) × MFU × scaling × comm efficiency) ÷ 3600,
scaling = `scaling_per_doubling` ^ log2(instances) (the network between instances, which the
catalog does not describe), comm efficiency from `planner.parallelism.comm_model` (what the
links inside an instance cannot hide). Mixed-precision training runs at bf16, or fp16 where the
part has no bf16 (T4, V100).

Memory and layout: `planner.parallelism` — DDP when one GPU holds everything, else FSDP
(ZeRO-3), else FSDP × tensor parallel inside an instance; an instance that cannot hold the model
at any GPU count is excluded (`excluded_reason`) and ranked after every option that fits.

Energy (kWh) = GPUs × TDP × power fraction × hours × PUE ÷ 1000; CO2 (kg) = kWh × grid
gCO2e/kWh ÷ 1000 (region, else country, else world; see `Catalog.grid_intensity`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

from planner.catalog import Accelerator, Catalog, Instance
from planner.model_class import ModelKind
from planner.options import PlanOptions
from planner.parallelism import (
    ADAM_BYTES_PER_PARAM,
    STEP_SAMPLES_PER_GPU,
    STEP_TOKENS_PER_GPU,
    comm_model,
    fewest_gpus,
    label,
    link_gb_s,
    per_gpu_bytes,
    states_bytes,
)
from planner.records import FlatRecord
from planner.roofline import resolve_precision, usable_memory_bytes
from planner.training_defaults import FLOP_6N_ATTENTION, FLOP_6ND, mfu_default
from planner.vocab import ELEMENT_BYTES, PROJECTED, AcceleratorClass, AcceleratorKind, PeakPrecision
from planner.workload import Workload
from profiler.errors import InputError

__all__ = ["ADAM_BYTES_PER_PARAM", "DEFAULT_MFU", "TrainingOption", "TrainingPlan", "plan_training"]

TRAIN_FLOPS_PER_FORWARD = 3
CAUSAL_ATTENTION_HALVED = False
#: Kept for compatibility: the decoder-LLM (≥ 1e9 params) default per accelerator class, the
#: figure used before defaults depended on the model class (see `planner.training_defaults`).
DEFAULT_MFU: dict[AcceleratorClass, float] = {
    AcceleratorClass.DATACENTER: 0.40,
    AcceleratorClass.INFERENCE: 0.30,
    AcceleratorClass.CPU: 0.20,
}


@dataclass(frozen=True)
class TrainingOption(FlatRecord):
    """One instance type training the model; hours and everything derived are projected."""

    instance: str
    provider: str
    region: str
    accelerator: str
    gpus_per_instance: int
    instances: int
    gpus: int
    hours: float
    gpu_hours: float
    usd_on_demand: float
    usd_spot: float | None
    energy_kwh: float | None
    co2_kg: float | None
    fits_memory: bool
    # extensions
    precision: str = ""
    peak_tflops: float = 0.0
    mfu: float = 0.0
    scaling_efficiency: float = 1.0
    parallelism: str = ""
    min_gpus: int | None = None
    memory_per_gpu_gb: float = 0.0
    memory_usable_gb: float = 0.0
    usd_per_hour: float = 0.0
    usd_per_hour_spot: float | None = None
    tdp_w: float | None = None
    gco2_per_kwh: float | None = None
    carbon_basis: str = ""
    price_quality: str = "ok"
    hours_source: str = PROJECTED
    notes: tuple[str, ...] = ()
    #: where the MFU comes from (a paper and table, a planner choice, or --mfu) and its convention
    mfu_source: str = ""
    mfu_convention: str = ""
    #: tensor-parallel degree inside an instance (1: none)
    tp_degree: int = 1
    #: communication time per step ÷ step time (overlapped or not), and the throughput kept
    #: after the part that cannot be overlapped (planner.parallelism.comm_model)
    comm_share: float | None = None
    comm_efficiency: float = 1.0
    interconnect_gb_s: float | None = None
    interconnect_basis: str = ""
    #: the same MFU applied to each FLOP convention's count (6·N·D: None without tokens)
    hours_6n_attention: float | None = None
    gpu_hours_6n_attention: float | None = None
    hours_6nd: float | None = None
    gpu_hours_6nd: float | None = None
    #: hours at the published high and low MFU around a default (None when --mfu is set)
    hours_low: float | None = None
    hours_high: float | None = None
    #: relative half-width of the time band (0.33 = ±33 %) and its basis
    uncertainty_fraction: float | None = None
    uncertainty_basis: str = ""
    #: why this option is not an answer (it cannot hold the model); None when it is one
    excluded_reason: str | None = None


@dataclass(frozen=True)
class TrainingPlan(FlatRecord):
    flops: float
    flops_6nd: float | None
    tokens: float | None
    samples: float | None
    epochs: float
    forward_flops_per_sample: float
    forward_flops_per_token: float | None
    micro_batch: int
    causal_attention_halved: bool
    options: tuple[TrainingOption, ...]
    #: which count `flops` is ("6n_attention" or "6nd") and the 3 × forward count beside it
    flop_convention: str = FLOP_6N_ATTENTION
    flops_6n_attention: float | None = None
    model_class: str = ""
    model_class_evidence: str = ""

    def check(self) -> None:
        assert self.flops >= 0, "negative training flops"
        seen_excluded = False
        for o in self.options:
            assert o.gpus == o.instances * o.gpus_per_instance, f"{o.instance}: gpus != instances × per instance"
            assert math.isclose(o.gpu_hours, o.hours * o.gpus, rel_tol=1e-9), f"{o.instance}: gpu_hours"
            assert math.isclose(o.usd_on_demand, o.hours * o.instances * o.usd_per_hour, rel_tol=1e-9), (
                f"{o.instance}: cost"
            )
            assert o.hours_source == PROJECTED, "training hours must be labelled projected"
            answer = o.fits_memory and o.excluded_reason is None
            assert not (seen_excluded and answer), f"{o.instance}: an answer ranked after an excluded option"
            seen_excluded = seen_excluded or not answer


@dataclass(frozen=True)
class TrainingCompute:
    """Dataset size and the FLOPs it takes, independent of hardware."""

    flops: float
    flops_6nd: float | None
    tokens: float | None
    samples: float | None
    epochs: float
    forward_flops_per_sample: float
    forward_flops_per_token: float | None
    #: 3 × forward (attention in full) and the convention `flops` is in
    flops_6n_attention: float = 0.0
    convention: str = FLOP_6N_ATTENTION
    #: samples through the model, epochs included (tokens ÷ sequence for token models)
    sample_passes: float = 0.0

    def flops_in(self, convention: str | None) -> float:
        """The count in `convention` (6·N·D falls back to 3 × forward without tokens)."""
        if convention == FLOP_6ND and self.flops_6nd is not None:
            return self.flops_6nd
        return self.flops_6n_attention


def training_compute(wl: Workload, options: PlanOptions) -> TrainingCompute:
    """Training FLOPs for the options' dataset in both conventions; `flops` is the selected one."""
    per_sample = wl.total_flops / wl.batch
    per_token = per_sample / wl.seq_len if wl.seq_len else None
    epochs = options.epochs
    if options.train_tokens is not None:
        if per_token is None:
            raise InputError(
                "--train-tokens", "the profile has no token input (no sequence length): use --train-samples"
            )
        tokens: float | None = options.train_tokens * epochs
        samples: float | None = None
        attn = TRAIN_FLOPS_PER_FORWARD * per_token * options.train_tokens * epochs
        passes = options.train_tokens * epochs / (wl.seq_len or 1)
    elif options.train_samples is not None:
        samples = options.train_samples
        tokens = options.train_samples * epochs * wl.seq_len if wl.seq_len else None
        attn = TRAIN_FLOPS_PER_FORWARD * per_sample * options.train_samples * epochs
        passes = options.train_samples * epochs
    else:
        raise InputError("--train-tokens", "no training set size: give --train-tokens or --train-samples")
    f6nd = 6.0 * wl.params * tokens if tokens is not None else None
    convention = options.flop_convention
    if convention == FLOP_6ND and f6nd is None:
        convention = FLOP_6N_ATTENTION  # no tokens: 6·N·D is not defined
    return TrainingCompute(
        flops=f6nd if convention == FLOP_6ND and f6nd is not None else attn, flops_6nd=f6nd, tokens=tokens,
        samples=samples, epochs=epochs, forward_flops_per_sample=per_sample, forward_flops_per_token=per_token,
        flops_6n_attention=attn, convention=convention, sample_passes=passes,
    )  # fmt: skip


def plan_training(
    wl: Workload,
    compute: TrainingCompute,
    instances: tuple[tuple[Instance, Accelerator], ...],
    options: PlanOptions,
    catalog: Catalog,
    kind: ModelKind | None = None,
) -> TrainingPlan:
    """One option per GPU instance: those that fit cheapest on-demand first, then the excluded
    ones (each with its `excluded_reason`), cheapest first."""
    micro = options.micro_batch or wl.batch
    rows = []
    for inst, acc in instances:
        if acc.kind is not AcceleratorKind.GPU:
            continue

        def at(gpus: int, inst: Instance = inst, acc: Accelerator = acc) -> TrainingOption | None:
            return _option(wl, compute, inst, acc, options, catalog, micro, kind, at_least_gpus=gpus)

        row = at(0)
        if row is not None and options.train_days is not None and row.excluded_reason is None:
            row = _within_deadline(row, at, options.train_days, inst.count)
        if row is not None:
            rows.append(row)
    rows.sort(key=lambda o: (o.excluded_reason is not None, not o.fits_memory, o.usd_on_demand))
    return TrainingPlan(
        flops=compute.flops, flops_6nd=compute.flops_6nd, tokens=compute.tokens, samples=compute.samples,
        epochs=compute.epochs, forward_flops_per_sample=compute.forward_flops_per_sample,
        forward_flops_per_token=compute.forward_flops_per_token, micro_batch=micro,
        causal_attention_halved=CAUSAL_ATTENTION_HALVED, options=tuple(rows), flop_convention=compute.convention,
        flops_6n_attention=compute.flops_6n_attention,
        model_class="" if kind is None else str(kind.model_class) + (" (large)" if kind.large else ""),
        model_class_evidence="" if kind is None else kind.evidence,
    )  # fmt: skip


#: The most GPUs the deadline search will scale a run to (Llama 3 405B trained on 16K H100s).
MAX_TRAIN_GPUS = 16384


def _within_deadline(
    row: TrainingOption, at: Callable[[int], TrainingOption | None], days: float, gpus_per_instance: int
) -> TrainingOption:
    """The fewest whole instances of this type that finish within `days` (`at(n)`: the option on
    at least n GPUs; more GPUs lose throughput to scaling, so the count is raised until the
    projected hours fit); the row, excluded with why, when even MAX_TRAIN_GPUS cannot."""
    limit_h = days * 24
    current: TrainingOption | None = row
    while current is not None and current.hours > limit_h and current.gpus < MAX_TRAIN_GPUS:
        more = max(current.gpus + gpus_per_instance, math.ceil(current.gpus * current.hours / limit_h))
        current = at(min(MAX_TRAIN_GPUS, more))
    if current is None or current.hours > limit_h:
        last = current or row
        why = f"takes {last.hours / 24:,.0f} days on {last.gpus} GPUs, over the {days:g}-day limit"
        return replace(last, excluded_reason=why)
    return current


def _mfu(
    compute: TrainingCompute, options: PlanOptions, kind: ModelKind | None, acc: Accelerator
) -> tuple[float, str, float | None, float | None, float | None, str]:
    """(MFU in the plan's convention, source, hours factor at the high and low MFU, uncertainty, basis)."""
    if options.mfu is not None:
        return options.mfu, "--mfu", None, None, None, "MFU set by --mfu: no band"
    d = mfu_default(kind, acc.accelerator_class)
    # the source's seconds of work, counted in the plan's FLOPs (planner choices: as selected)
    factor = compute.flops / compute.flops_in(d.convention) if d.convention is not None else 1.0
    mfu = d.mfu * factor
    source = d.source
    if abs(factor - 1.0) > 1e-9:
        source += f"; {d.mfu:.3g} in {d.convention} terms = {mfu:.3g} in {compute.convention} terms"
    basis = f"MFU {d.low:.2g}–{d.high:.2g} around {d.mfu:.2g} (the default's band; see mfu_source)"
    return mfu, source, d.mfu / d.high, d.mfu / d.low, d.uncertainty_fraction, basis


def _option(
    wl: Workload,
    compute: TrainingCompute,
    inst: Instance,
    acc: Accelerator,
    options: PlanOptions,
    catalog: Catalog,
    micro: int,
    kind: ModelKind | None,
    at_least_gpus: int = 0,
) -> TrainingOption | None:
    prec = resolve_precision(acc, options.train_precision)
    if prec is None:
        return None
    peak = acc.peak_flops_per_s(prec) or 0.0
    act_bytes = ELEMENT_BYTES[prec] if prec in (PeakPrecision.BF16, PeakPrecision.FP16) else 4.0
    usable = usable_memory_bytes(acc, inst.gpu_memory_gb)
    states = states_bytes(wl.params)
    act_elems = wl.stored_act_elems * micro / wl.batch
    acts = act_elems * act_bytes
    layout = fewest_gpus(states, acts, usable, inst.count)
    need = layout.need
    wanted = max(options.train_gpus or inst.count, need or 1, at_least_gpus)
    n_inst = math.ceil(wanted / inst.count)
    gpus = n_inst * inst.count
    per_gpu = per_gpu_bytes(layout, states, acts, gpus) if need is not None else states + acts

    mfu, mfu_source, fast, slow, uncertainty, basis = _mfu(compute, options, kind, acc)
    scaling = options.scaling_per_doubling ** math.log2(n_inst) if n_inst > 1 else 1.0
    link, link_basis = link_gb_s(acc.name)
    comm = None
    if peak > 0 and compute.sample_passes > 0:
        per_sample = compute.flops / compute.sample_passes
        if wl.seq_len:
            micros = max(1, math.ceil(STEP_TOKENS_PER_GPU / (micro * wl.seq_len)))
        else:
            micros = max(1, math.ceil(STEP_SAMPLES_PER_GPU / micro))
        comm = comm_model(
            parallelism=layout.parallelism, tp=layout.tp if need is not None else 1, gpus=gpus,
            gpus_per_instance=inst.count, params=wl.params, stored_act_elems_micro=act_elems,
            compute_s_per_micro=per_sample * micro / (layout.tp if need is not None else 1) / (peak * mfu),
            micros_per_step=micros, link_gb_s=link,
        )  # fmt: skip
    comm_eff = comm.efficiency if comm is not None else 1.0
    rate = gpus * peak * mfu * scaling * comm_eff * 3600 if peak > 0 else 0.0

    def hours_of(flops: float | None) -> float | None:
        return None if flops is None else (flops / rate if rate > 0 else math.inf)

    hours = hours_of(compute.flops) or 0.0
    h_attn = hours_of(compute.flops_6n_attention)
    h_6nd = hours_of(compute.flops_6nd)
    tdp = acc.tdp_w
    energy = gpus * tdp * options.power_fraction * hours * options.pue / 1000 if tdp else None
    carbon = catalog.grid_intensity(inst.provider, inst.region)
    notes = []
    if prec != options.train_precision:
        notes.append(f"{acc.name} has no {options.train_precision} peak: projected at {prec}")
    if options.train_gpus is not None and need is not None and options.train_gpus < need:
        notes.append(f"--train-gpus {options.train_gpus} cannot hold the model: raised to {gpus} GPUs")
    if options.flop_convention == FLOP_6ND and compute.flops_6nd is None:
        notes.append("6·N·D needs tokens: the plan counts 3 × forward FLOPs")
    if inst.quality != "ok":
        notes.append(f"price quality {inst.quality}: see the catalog row's notes")
    return TrainingOption(
        instance=inst.instance, provider=inst.provider, region=inst.region, accelerator=acc.name,
        gpus_per_instance=inst.count, instances=n_inst, gpus=gpus, hours=hours, gpu_hours=hours * gpus,
        usd_on_demand=hours * n_inst * inst.usd_per_hour,
        usd_spot=hours * n_inst * inst.usd_per_hour_spot if inst.usd_per_hour_spot else None,
        energy_kwh=energy, co2_kg=energy * carbon.gco2_per_kwh / 1000 if energy is not None else None,
        fits_memory=need is not None and gpus >= need, precision=str(prec), peak_tflops=peak / 1e12,
        mfu=mfu, scaling_efficiency=scaling, parallelism=label(layout.parallelism, layout.tp if need else 1),
        min_gpus=need, memory_per_gpu_gb=per_gpu / 1024**3, memory_usable_gb=usable / 1024**3,
        usd_per_hour=inst.usd_per_hour, usd_per_hour_spot=inst.usd_per_hour_spot, tdp_w=tdp,
        gco2_per_kwh=carbon.gco2_per_kwh, carbon_basis=carbon.basis, price_quality=inst.quality,
        notes=tuple(notes), mfu_source=mfu_source, mfu_convention=compute.convention,
        tp_degree=layout.tp if need is not None else 1,
        comm_share=None if comm is None else comm.share, comm_efficiency=comm_eff,
        interconnect_gb_s=link, interconnect_basis=link_basis,
        hours_6n_attention=h_attn, gpu_hours_6n_attention=None if h_attn is None else h_attn * gpus,
        hours_6nd=h_6nd, gpu_hours_6nd=None if h_6nd is None else h_6nd * gpus,
        hours_low=None if fast is None else hours * fast, hours_high=None if slow is None else hours * slow,
        uncertainty_fraction=uncertainty, uncertainty_basis=basis,
        excluded_reason=None if need is not None else layout.reason,
    )  # fmt: skip
