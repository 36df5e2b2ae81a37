"""Training compute, memory, time, cost, energy and CO2 on every catalog GPU instance.

Compute: FLOPs = 3 × forward FLOPs per sample (or per token) × dataset × epochs — the backward
pass costs twice the forward (Transformer Math 101). Attention is counted as the profiler
counts it, in full: causal attention is *not* halved, which is the convention of PaLM's MFU
(Appendix B: 6N + 12·L·H·Q·T per token) and Megatron-LM. 6·N·D (N = unique parameters,
D = tokens) is shown beside it for token models.

Time: hours = FLOPs ÷ (GPUs × dense peak(precision) × MFU × scaling) ÷ 3600, where scaling =
`scaling_per_doubling` ^ log2(instances) (1 on one instance). MFU defaults per accelerator
class (`DEFAULT_MFU`): 0.40 for data-centre parts, the Llama 3 405B range of 38–43 % BF16 MFU
on H100s (arXiv:2407.21783, Table 4; Megatron-LM reports 52–56 % for tuned runs); 0.30 for
inference-class GDDR parts, a planner default (no published training MFU was collected for
them; their lower bandwidth per FLOP costs utilisation). Mixed-precision training runs at bf16,
or fp16 where the part has no bf16 (T4, V100).

Memory per GPU (ZeRO, arXiv:1910.02054): weights 2 + gradients 2 + Adam states 12 = 16 bytes
per parameter, plus the activations of one micro-batch: every layer's output at 2 bytes (the
profile's activation elements, scaled to the micro-batch). DDP keeps all 16 B/param on each GPU;
FSDP (ZeRO-3) divides them by the data-parallel GPUs. The minimum GPU count is 1 under DDP when
it fits, else the smallest FSDP count that does; the plan rounds up to whole instances.

Energy (kWh) = GPUs × TDP × power fraction × hours × PUE ÷ 1000; CO2 (kg) = kWh × grid
gCO2e/kWh ÷ 1000 (region, else country, else world; see `Catalog.grid_intensity`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from planner.catalog import Accelerator, Catalog, Instance
from planner.options import PlanOptions
from planner.records import FlatRecord
from planner.roofline import resolve_precision, usable_memory_bytes
from planner.vocab import ELEMENT_BYTES, PROJECTED, AcceleratorClass, AcceleratorKind, Parallelism, PeakPrecision
from planner.workload import Workload
from profiler.errors import InputError

ADAM_BYTES_PER_PARAM = 16
TRAIN_FLOPS_PER_FORWARD = 3
CAUSAL_ATTENTION_HALVED = False
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

    def check(self) -> None:
        assert self.flops >= 0, "negative training flops"
        for o in self.options:
            assert o.gpus == o.instances * o.gpus_per_instance, f"{o.instance}: gpus != instances × per instance"
            assert math.isclose(o.gpu_hours, o.hours * o.gpus, rel_tol=1e-9), f"{o.instance}: gpu_hours"
            assert math.isclose(o.usd_on_demand, o.hours * o.instances * o.usd_per_hour, rel_tol=1e-9), (
                f"{o.instance}: cost"
            )
            assert o.hours_source == PROJECTED, "training hours must be labelled projected"


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


def training_compute(wl: Workload, options: PlanOptions) -> TrainingCompute:
    """Training FLOPs for the options' dataset: 3 × forward × (tokens or samples) × epochs."""
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
        flops = TRAIN_FLOPS_PER_FORWARD * per_token * options.train_tokens * epochs
    elif options.train_samples is not None:
        samples = options.train_samples
        tokens = options.train_samples * epochs * wl.seq_len if wl.seq_len else None
        flops = TRAIN_FLOPS_PER_FORWARD * per_sample * options.train_samples * epochs
    else:
        raise InputError("--train-tokens", "no training set size: give --train-tokens or --train-samples")
    return TrainingCompute(
        flops=flops, flops_6nd=6.0 * wl.params * tokens if tokens is not None else None, tokens=tokens,
        samples=samples, epochs=epochs, forward_flops_per_sample=per_sample, forward_flops_per_token=per_token,
    )  # fmt: skip


def min_gpus(
    wl: Workload, usable_bytes: float, micro_batch: int, act_bytes: float
) -> tuple[int | None, Parallelism, float]:
    """(fewest GPUs that hold training, how, bytes per GPU at that count); None when even the
    activations of one micro-batch exceed a GPU."""
    states = ADAM_BYTES_PER_PARAM * wl.params
    acts = wl.stored_act_elems * micro_batch / wl.batch * act_bytes
    if states + acts <= usable_bytes:
        return 1, Parallelism.DDP, states + acts
    if acts >= usable_bytes:
        return None, Parallelism.FSDP, states + acts
    n = max(2, math.ceil(states / (usable_bytes - acts)))
    return n, Parallelism.FSDP, states / n + acts


def plan_training(
    wl: Workload,
    compute: TrainingCompute,
    instances: tuple[tuple[Instance, Accelerator], ...],
    options: PlanOptions,
    catalog: Catalog,
) -> TrainingPlan:
    """One option per GPU instance, cheapest on-demand first (those that cannot fit last)."""
    micro = options.micro_batch or wl.batch
    rows = []
    for inst, acc in instances:
        if acc.kind is not AcceleratorKind.GPU:
            continue
        row = _option(wl, compute, inst, acc, options, catalog, micro)
        if row is not None:
            rows.append(row)
    rows.sort(key=lambda o: (not o.fits_memory, o.usd_on_demand))
    return TrainingPlan(
        flops=compute.flops, flops_6nd=compute.flops_6nd, tokens=compute.tokens, samples=compute.samples,
        epochs=compute.epochs, forward_flops_per_sample=compute.forward_flops_per_sample,
        forward_flops_per_token=compute.forward_flops_per_token, micro_batch=micro,
        causal_attention_halved=CAUSAL_ATTENTION_HALVED, options=tuple(rows),
    )  # fmt: skip


def _option(
    wl: Workload,
    compute: TrainingCompute,
    inst: Instance,
    acc: Accelerator,
    options: PlanOptions,
    catalog: Catalog,
    micro: int,
) -> TrainingOption | None:
    prec = resolve_precision(acc, options.train_precision)
    if prec is None:
        return None
    peak = acc.peak_flops_per_s(prec) or 0.0
    act_bytes = ELEMENT_BYTES[prec] if prec in (PeakPrecision.BF16, PeakPrecision.FP16) else 4.0
    usable = usable_memory_bytes(acc, inst.gpu_memory_gb)
    need, parallelism, per_gpu = min_gpus(wl, usable, micro, act_bytes)
    wanted = max(options.train_gpus or inst.count, need or 1)
    n_inst = math.ceil(wanted / inst.count)
    gpus = n_inst * inst.count
    if need is not None and parallelism is Parallelism.FSDP:
        per_gpu = ADAM_BYTES_PER_PARAM * wl.params / gpus + wl.stored_act_elems * micro / wl.batch * act_bytes
    mfu = options.mfu or DEFAULT_MFU[acc.accelerator_class]
    scaling = options.scaling_per_doubling ** math.log2(n_inst) if n_inst > 1 else 1.0
    hours = compute.flops / (gpus * peak * mfu * scaling) / 3600
    tdp = acc.tdp_w
    energy = gpus * tdp * options.power_fraction * hours * options.pue / 1000 if tdp else None
    carbon = catalog.grid_intensity(inst.provider, inst.region)
    notes = []
    if prec != options.train_precision:
        notes.append(f"{acc.name} has no {options.train_precision} peak: projected at {prec}")
    if need is None:
        notes.append("the activations of one micro-batch exceed a GPU: lower --micro-batch or recompute activations")
    if inst.quality != "ok":
        notes.append(f"price quality {inst.quality}: see the catalog row's notes")
    return TrainingOption(
        instance=inst.instance, provider=inst.provider, region=inst.region, accelerator=acc.name,
        gpus_per_instance=inst.count, instances=n_inst, gpus=gpus, hours=hours, gpu_hours=hours * gpus,
        usd_on_demand=hours * n_inst * inst.usd_per_hour,
        usd_spot=hours * n_inst * inst.usd_per_hour_spot if inst.usd_per_hour_spot else None,
        energy_kwh=energy, co2_kg=energy * carbon.gco2_per_kwh / 1000 if energy is not None else None,
        fits_memory=need is not None and gpus >= need, precision=str(prec), peak_tflops=peak / 1e12,
        mfu=mfu, scaling_efficiency=scaling, parallelism=str(parallelism), min_gpus=need,
        memory_per_gpu_gb=per_gpu / 1024**3, memory_usable_gb=usable / 1024**3,
        usd_per_hour=inst.usd_per_hour, usd_per_hour_spot=inst.usd_per_hour_spot, tdp_w=tdp,
        gco2_per_kwh=carbon.gco2_per_kwh, carbon_basis=carbon.basis, price_quality=inst.quality,
        notes=tuple(notes),
    )  # fmt: skip
