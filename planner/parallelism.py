"""How a training job is laid out over GPUs so that it fits, and what its communication costs.

Memory per GPU (ZeRO, Rajbhandari et al. 2019, arXiv:1910.02054): mixed-precision Adam keeps
16 bytes per parameter (bf16 weights 2 + gradients 2 + fp32 master, momentum, variance 12), plus
the activations of one micro-batch (every layer's output at 2 bytes, what the backward needs).

- DDP: every GPU holds all 16 B/param; chosen whenever states + activations fit one GPU.
- FSDP (ZeRO-3): the 16 B/param are divided by the GPUs; activations are not.
- Tensor parallel t (Megatron-LM, Shoeybi et al. 2019, arXiv:1909.08053; with sequence
  parallelism, Korthikanti et al. 2022, arXiv:2205.05198 §4: activations ÷ t): weights, their
  states and the activations are divided by t. Used only when one micro-batch's activations do
  not fit a GPU even with the states sharded, and only inside one instance (t ≤ GPUs per
  instance, t a power of two dividing it), since its all-reduces sit on the critical path.

The layout is the smallest GPU count that fits: DDP on 1 GPU, else FSDP on n, else FSDP × TP t
with the TP degree that needs the fewest GPUs (ties: the smaller degree). An instance with fewer GPUs than the TP degree needed cannot
train the model: the option is excluded with the reason in words.

Communication model (per GPU, ring collectives, bytes at 2 B per element):

- DDP: one gradient all-reduce per optimizer step, 2 · (n−1)/n · 2 · N bytes (NCCL ring);
  overlapped with the backward pass (PyTorch DDP buckets, Li et al. 2020, arXiv:2006.15704):
  only the part longer than the backward (2/3 of the step's compute) is exposed.
- FSDP: per micro-batch, all-gather of the weights in forward and in backward and a
  reduce-scatter of the gradients, 3 · (n−1)/n · 2 · N/t bytes (ZeRO-3: 1.5 × DDP's volume,
  arXiv:1910.02054 §7.2.2); prefetched under the whole micro-batch's compute (FSDP, Zhao et al.
  2023, arXiv:2304.11277): only the excess is exposed.
- TP: 4 all-reduces of a layer's output per layer and micro-batch (2 forward, 2 backward;
  Shoeybi et al. 2019 §3), estimated as 4/17 of the stored activation elements (Korthikanti et
  al. 2022: 34·s·b·h bytes = 17·s·b·h 16-bit elements stored per layer), each 2 · (t−1)/t of
  the bytes on the wire; not overlapped (on the critical path).

Link bandwidth: the catalog has no interconnect column, so `LINK_GB_S` states planner defaults
per accelerator (NVLink per direction, from the vendors' datasheets; PCIe x16 per direction for
parts without NVLink), times `BUS_EFFICIENCY`. The comm model prices the traffic inside an
instance only; traffic between instances crosses the provider's network, which the catalog
does not describe, and stays modelled by `scaling_per_doubling` (throughput kept per doubling
of instances; Llama 3 kept 0.93 from 8K to 16K H100s, COST-MODELS.md §3).

Published MFUs come from runs whose communication is already inside the figure, so the model
only *adds* what cannot be hidden: `comm_efficiency` = compute ÷ (compute + exposed comm). On
NVLink with the default steps it is ≈ 1 for DDP/FSDP; PCIe parts and TP pay.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from planner.vocab import Parallelism

ADAM_BYTES_PER_PARAM = 16
GRAD_BYTES = 2  # bf16/fp16 gradients and weights on the wire
#: Share of the link rate NCCL collectives reach as bus bandwidth: planner choice.
BUS_EFFICIENCY = 0.8
#: Samples (non-token models) or tokens (token models) per GPU per optimizer step, reached by
#: gradient accumulation when the micro-batch is smaller — sets how often DDP synchronises.
#: Planner choices: 256 images (MLPerf ResNet-50 on 8 GPUs uses ≈ 408 per GPU at batch 3,264);
#: 16,384 tokens (Llama 2's 4M-token batch, arXiv:2307.09288 §2.2, spread over its GPUs is
#: smaller per GPU, but those runs also shard; a 1-node fine-tune typically accumulates more).
STEP_SAMPLES_PER_GPU = 256
STEP_TOKENS_PER_GPU = 16_384
#: Stored activation elements per TP all-reduce element per layer (4 all-reduces of s·b·h ÷ 17·s·b·h).
TP_ALLREDUCE_PER_STORED = 4.0 / 17.0

#: Intra-instance link bandwidth per GPU per direction, GB/s (planner defaults from datasheets).
LINK_GB_S: dict[str, tuple[float, str]] = {
    "H100-SXM": (450.0, "NVLink 4, 900 GB/s bidirectional (NVIDIA H100 datasheet)"),
    "H200-SXM": (450.0, "NVLink 4, 900 GB/s bidirectional (NVIDIA H200 datasheet)"),
    "B200": (900.0, "NVLink 5, 1.8 TB/s bidirectional (NVIDIA B200/HGX datasheet)"),
    "A100-SXM4-40GB": (300.0, "NVLink 3, 600 GB/s bidirectional (NVIDIA A100 datasheet)"),
    "A100-SXM4-80GB": (300.0, "NVLink 3, 600 GB/s bidirectional (NVIDIA A100 datasheet)"),
    "V100-SXM2-16GB": (150.0, "NVLink 2, 300 GB/s bidirectional (NVIDIA V100 datasheet)"),
    "V100-SXM2-32GB": (150.0, "NVLink 2, 300 GB/s bidirectional (NVIDIA V100 datasheet)"),
    "MI300X": (448.0, "Infinity Fabric, 7 links × 64 GB/s per direction (AMD MI300X datasheet: 896 GB/s)"),
    "H100-PCIe": (64.0, "PCIe Gen5 x16, 128 GB/s bidirectional (no NVLink bridge assumed)"),
}
_PCIE_GEN4 = (32.0, "PCIe Gen4 x16, 64 GB/s bidirectional (no NVLink assumed)")
_PCIE_GEN3 = (16.0, "PCIe Gen3 x16, 32 GB/s bidirectional")
_GEN3_PARTS = frozenset({"T4", "V100-PCIe-16GB"})


#: The communication model in words, for the plan's assumptions.
COMM_MODEL = {
    "ddp": "gradient all-reduce 2(n-1)/n x 2 B x params per optimizer step, overlapped with the backward",
    "fsdp": "all-gather x2 + reduce-scatter, 3(n-1)/n x 2 B x params/tp per micro-batch, overlapped with compute",
    "tp": "4 all-reduces of a layer's output per layer per micro-batch (4/17 of stored activations), 2(t-1)/t, "
    "not overlapped; inside one instance only",
    "links": "intra-instance NVLink/PCIe per direction per accelerator (planner.parallelism.LINK_GB_S) x "
    f"{BUS_EFFICIENCY} bus efficiency",
    "between_instances": "not priced by link (the catalog has no network column): scaling_per_doubling",
    "step": f"{STEP_TOKENS_PER_GPU} tokens or {STEP_SAMPLES_PER_GPU} samples per GPU per optimizer step",
}


def link_gb_s(accelerator: str) -> tuple[float, str]:
    """(GB/s per direction between GPUs of one instance, basis)."""
    if accelerator in LINK_GB_S:
        return LINK_GB_S[accelerator]
    return _PCIE_GEN3 if accelerator in _GEN3_PARTS else _PCIE_GEN4


@dataclass(frozen=True)
class Layout:
    """Fewest GPUs that hold training and how; `need` None when no layout fits."""

    need: int | None
    parallelism: Parallelism
    tp: int
    reason: str | None = None


def tp_degrees(gpus_per_instance: int) -> list[int]:
    """Powers of two that divide the instance's GPU count (TP stays inside an instance)."""
    out, t = [], 1
    while t <= gpus_per_instance:
        if gpus_per_instance % t == 0:
            out.append(t)
        t *= 2
    return out


def states_bytes(params: float) -> float:
    return ADAM_BYTES_PER_PARAM * params


def fewest_gpus(states: float, acts: float, usable: float, gpus_per_instance: int) -> Layout:
    """The smallest layout that fits: DDP, else FSDP, else FSDP × TP (the degree needing fewest GPUs)."""
    if states + acts <= usable:
        return Layout(1, Parallelism.DDP, 1)
    degrees = tp_degrees(gpus_per_instance)
    if acts < usable:  # FSDP alone: TP only when it is needed to fit at all
        return Layout(max(2, math.ceil(states / (usable - acts))), Parallelism.FSDP, 1)
    best: Layout | None = None
    for t in degrees[1:]:
        per_acts = acts / t
        if per_acts >= usable:
            continue
        n = t * math.ceil(states / (usable - per_acts) / t)
        if best is None or best.need is None or n < best.need:  # fewest GPUs; ties keep the smaller TP
            best = Layout(n, Parallelism.FSDP, t)
    if best is not None:
        return best
    gib = 1024**3
    biggest = degrees[-1]
    why = (
        f"one micro-batch's activations ({acts / gib:,.1f} GiB) exceed a GPU's usable {usable / gib:,.1f} GiB"
        + (f" even split {biggest} ways by tensor parallelism" if biggest > 1 else "")
        + (
            " (tensor parallelism stays inside one instance; this one has a single GPU)"
            if gpus_per_instance == 1
            else ""
        )
        + ": lower --micro-batch, recompute activations, or pick an instance with more GPUs"
    )
    return Layout(None, Parallelism.FSDP, biggest, why)


def per_gpu_bytes(layout: Layout, states: float, acts: float, gpus: int) -> float:
    """Bytes per GPU at `gpus` GPUs under the layout (DDP: all states ÷ TP; FSDP: ÷ all GPUs)."""
    if layout.parallelism is Parallelism.DDP:
        return (states + acts) / layout.tp
    return states / gpus + acts / layout.tp


def label(parallelism: Parallelism, tp: int) -> str:
    """'ddp', 'fsdp', 'fsdp × tp8'."""
    return str(parallelism) if tp == 1 else f"{parallelism} × tp{tp}"


@dataclass(frozen=True)
class Comm:
    """Per-step communication inside an instance, the share of step time it takes, and the
    throughput kept after the part that cannot be overlapped."""

    seconds: float
    exposed_seconds: float
    compute_seconds: float
    share: float
    efficiency: float


def comm_model(
    *,
    parallelism: Parallelism,
    tp: int,
    gpus: int,
    gpus_per_instance: int,
    params: float,
    stored_act_elems_micro: float,
    compute_s_per_micro: float,
    micros_per_step: int,
    link_gb_s: float,
) -> Comm:
    """Communication per optimizer step on one GPU (see the module doc for the volumes).

    `compute_s_per_micro` is one micro-batch's compute time on one GPU at the MFU. Only the
    data-parallel ranks inside one instance (its GPUs ÷ TP) are priced, at the instance's link
    rate; the traffic between instances is `scaling_per_doubling`'s."""
    bw = link_gb_s * 1e9 * BUS_EFFICIENCY
    dp = max(1, min(gpus, gpus_per_instance) // tp)  # the data-parallel ranks inside one instance
    ring = (dp - 1) / dp
    compute = compute_s_per_micro * micros_per_step
    if dp == 1:
        dp_s = 0.0
        dp_exposed = 0.0
    elif parallelism is Parallelism.DDP:
        dp_s = 2 * ring * GRAD_BYTES * params / tp / bw
        dp_exposed = max(0.0, dp_s - compute * 2 / 3)
    else:
        per_micro = 3 * ring * GRAD_BYTES * params / tp / bw
        dp_s = per_micro * micros_per_step
        dp_exposed = max(0.0, per_micro - compute_s_per_micro) * micros_per_step
    if tp > 1 and gpus_per_instance >= tp:
        tp_bytes = TP_ALLREDUCE_PER_STORED * stored_act_elems_micro * GRAD_BYTES * 2 * (tp - 1) / tp
        tp_s = tp_bytes / bw * micros_per_step
    else:
        tp_s = 0.0
    seconds = dp_s + tp_s
    exposed = dp_exposed + tp_s
    step = compute + exposed
    return Comm(
        seconds=seconds, exposed_seconds=exposed, compute_seconds=compute,
        share=seconds / step if step > 0 else 0.0, efficiency=compute / step if step > 0 else 1.0,
    )  # fmt: skip
