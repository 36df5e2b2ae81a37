"""Decoder-LM serving: prefill and decode apart, the KV cache limiting the batch, continuous
batching at a request rate, and the replicas a load needs under TTFT/TPOT objectives.

One replica spans `k` accelerators (ideal tensor parallelism, as everywhere in the planner:
compute and bytes divide by k, the per-kernel overhead does not, communication is not modelled).
With P prompt tokens (the profiled sequence), O output tokens, per replica:

    weights W          = weight_bytes(workload, target)            (all k GPUs together)
    KV bytes per token = 2 × blocks × kv width × bytes of the float serving precision
                         (planner.lm.LMShape; grouped-query attention exact when the k/v
                         projection widths are known)
    KV capacity        = k × usable − W − the prompt's activation working set
    KV sequences       = floor(KV capacity ÷ ((P + O) × KV bytes per token))
                         (a sequence is admitted with room for its whole output: no preemption)

Prefill of a prompt alone: the profile's forward at batch 1, per-layer roofline (2·N·P matmul
FLOPs + attention, compute-bound for any prompt of more than a few dozen tokens).

Decode iteration at decode batch B (every running sequence produces one token), per-layer
roofline in two parts: the weight matmuls are bound by the larger of their FLOPs and one read of
the weights; attention over the KV cache is a memory-bound read of every sequence's context:

    matmuls   = max(tokens in the iteration × FLOPs per token ÷ (peak × eff × k),
                    W ÷ (bandwidth × eff × k))
    KV reads  = B × (c × KV bytes per token + activation bytes per token) ÷ (bandwidth × eff × k)
    step      = matmuls + KV reads + kernels × overhead              c = P + O/2 (mean context)

Continuous batching with chunked prefill (Sarathi-Serve, Agrawal et al., OSDI 2024; vLLM's V1
scheduler mixes prefill and decode tokens in one step, "Inside vLLM", A. Gordić 2025; TensorRT-
LLM's in-flight batching): prompt tokens ride in the same iterations as the decode tokens, so a
long prompt does not stall the decoding sequences. At an arrival rate λ per replica
(requests/s), in steady state:

    B                 = λ × O × step                         (Little's law over the decode phase)
    prefill tokens    = λ × P × step per iteration
    compute load ρc   = λ × (P + O) × FLOPs per token ÷ (peak × eff × k)
    KV-read load ρm   = λ × O × (c × KV bytes + activation bytes) ÷ (bandwidth × eff × k)
    step = TPOT       = max(overhead ÷ (1 − ρc − ρm), (W ÷ (bandwidth × eff × k) + overhead) ÷ (1 − ρm))
    TTFT              = prefill ÷ (1 − ρc − ρm) + min(B, 1) × step ÷ 2
                        (the prompt shares the replica with the rest of the load, processor-
                        sharing; plus half an iteration already running)
    request           = TTFT + (O − 1) × TPOT
    concurrency N     = λ × request                          (Little's law: sequences holding KV)

These are mean values of a mean-value model (≈ p50 at moderate load; tails are not modelled).
The replica's capacity λmax is the largest λ with ρc + ρm < 1, N ≤ KV sequences, N ≤
max_batch (the scheduler's cap, vLLM's max_num_seqs) and TTFT, TPOT and the whole request within
their objectives. Its saturation rate λsat drops the latency objectives (KV, max_batch and
saturation only). A load Q is carried with each replica at most at min(λmax, u × λsat), u the
plan's utilisation ceiling (headroom, as for other models, planner.serving_load):
instances = ceil(Q ÷ (replicas per instance × min(λmax, u × λsat))); the option is reported at
λ = Q ÷ (instances × replicas), its utilisation λ ÷ λsat. Without a load it is reported at λmax
(peak throughput λmax × O tokens/s per replica; $ per million tokens at the utilisation u).
Per instance, the replica size (1, 2, 4, … GPUs) is the one with the largest capacity
(replicas × the per-replica rate above); within 1 % the fewest GPUs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from planner.calibration_store import resolve_calibration
from planner.catalog import Accelerator, Instance
from planner.lm import LMShape
from planner.roofline import Target, latency_s, make_target, serving_memory_bytes, usable_memory_bytes, weight_bytes
from planner.vocab import Bound
from planner.workload import Workload

if TYPE_CHECKING:
    from planner.inference import ServeSettings

#: Serving model named in the plan's assumptions.
BATCHING_MODEL = (
    "continuous batching with chunked prefill (prompt tokens share decode iterations); mean-value "
    "steady state: decode batch = rate × output × TPOT, concurrency = rate × request time (Little's law)"
)
#: Tensor parallelism is projected ideal (as everywhere in the planner). Published TP2 figures for
#: a 70B model sit 25-30 % below the projection: Llama-3.3-70B FP8 on 2 × H100, TensorRT-LLM 1.0
#: perf overview (docs/source/performance/perf-overview.md @00f37686, 2025), projected +32 % to
#: +40 % on 4 of its 5 checked rows (tests/planner/test_llm_serving.py).
TP_NOTE = (
    "tensor parallelism: compute and bytes divide by the GPUs, plus two all-reduces of the residual stream per "
    "block (link bandwidth and 8 µs each); the split matmuls' lower efficiency is not modelled"
)
#: Latency of one small all-reduce inside an NVLink/PCIe node. A planner figure: NCCL's
#: small-message all-reduce within 8 GPUs runs in roughly 5-15 µs (nccl-tests), TensorRT-LLM's
#: custom one-shot all-reduce in a few µs; 8 µs sits between them.
TP_ALLREDUCE_LATENCY_US = 8.0
#: Capacities within this fraction count as equal when choosing a replica size (fewer GPUs win).
CAPACITY_TIE = 0.01
_BISECTIONS = 64  # relative precision 2^-64 of the saturation rate
_GIB = 1024**3


@dataclass(frozen=True)
class LMPoint:
    """One replica at one arrival rate (mean values)."""

    rate_per_s: float  # requests/s arriving at the replica
    tpot_s: float  # one decode iteration
    ttft_s: float
    request_s: float
    decode_batch: float  # sequences per decode iteration
    concurrency: float  # sequences holding KV (prefill + decode)
    compute_load: float  # ρc + ρm: the share of the replica's time matmuls and KV reads take
    bound: Bound


@dataclass(frozen=True)
class LMReplicaModel:
    """The arithmetic of one replica (a target of `gpus` accelerators)."""

    target: Target
    prompt: int
    output: int
    weight_bytes: float  # all GPUs of the replica together
    working_set_bytes: float  # a prompt's forward activations, all GPUs together
    usable_bytes: float  # all GPUs of the replica together
    kv_bytes_per_token: float
    prefill_s: float
    flops_per_token: float
    s_per_flop: float  # efficiency and tensor parallelism applied
    bytes_per_s: float  # efficiency and tensor parallelism applied
    seq_bytes_per_step: float  # KV of the mean context + activations, one sequence
    overhead_s: float  # kernel launches of one iteration
    #: tensor parallelism (k > 1): all-reduce latency per iteration, and wire time per token
    tp_fixed_s: float = 0.0
    tp_s_per_token: float = 0.0
    #: max_rate's answers per Objectives (a re-plan asks each replica the same questions)
    memo: dict[Objectives, tuple[float, str]] = field(default_factory=dict, compare=False, repr=False)

    @property
    def kv_capacity_bytes(self) -> float:
        return self.usable_bytes - self.weight_bytes - self.working_set_bytes

    @cached_property
    def kv_seqs(self) -> int | None:
        """Sequences of prompt + output tokens the KV cache holds (None: KV size unknown)."""
        if self.kv_bytes_per_token <= 0:
            return None
        return max(0, math.floor(self.kv_capacity_bytes / ((self.prompt + self.output) * self.kv_bytes_per_token)))

    @property
    def fits(self) -> bool:
        seqs = self.kv_seqs
        return self.kv_capacity_bytes > 0 and (seqs is None or seqs >= 1)

    def memory_bytes_per_gpu(self, sequences: int) -> float:
        kv = sequences * (self.prompt + self.output) * self.kv_bytes_per_token
        return (self.weight_bytes + self.working_set_bytes + kv) / self.target.gpus

    def stable_rate(self) -> float:
        """Arrival rate at which matmul compute plus KV reads fill the replica's time."""
        per_request = (self.prompt + self.output) * self.flops_per_token * self.s_per_flop
        per_request += self.output * self.seq_bytes_per_step / self.bytes_per_s
        per_request += (self.prompt + self.output) * self.tp_s_per_token
        return 1.0 / per_request if per_request > 0 else math.inf

    def at(self, rate: float) -> LMPoint | None:
        """The steady state at `rate` requests/s, or None when the replica cannot keep up."""
        rho_c = rate * (self.prompt + self.output) * self.flops_per_token * self.s_per_flop
        rho_m = rate * self.output * self.seq_bytes_per_step / self.bytes_per_s
        # the all-reduces of tensor parallelism sit on the critical path of every iteration
        rho_t = rate * (self.prompt + self.output) * self.tp_s_per_token
        if rho_c + rho_m + rho_t >= 1.0:
            return None
        fixed = self.overhead_s + self.tp_fixed_s
        s_compute = fixed / (1.0 - rho_c - rho_m - rho_t)
        s_memory = (self.weight_bytes / self.bytes_per_s + fixed) / (1.0 - rho_m - rho_t)
        step = max(s_compute, s_memory)
        batch = rate * self.output * step
        ttft = self.prefill_s / (1.0 - rho_c - rho_m - rho_t) + min(batch, 1.0) * step / 2
        request = ttft + (self.output - 1) * step
        return LMPoint(
            rate_per_s=rate, tpot_s=step, ttft_s=ttft, request_s=request, decode_batch=batch,
            concurrency=rate * request, compute_load=rho_c + rho_m + rho_t,
            bound=Bound.COMPUTE if s_compute > s_memory else Bound.MEMORY,
        )  # fmt: skip


def replica_model(wl: Workload, shape: LMShape | None, output_tokens: int, t: Target, usable: float) -> LMReplicaModel:
    """The replica arithmetic of `wl` on target `t` (`usable`: bytes a model may use of one GPU)."""
    prompt = wl.seq_len or 1
    tokens = wl.batch * prompt
    eb = t.float_element_bytes  # KV cache and activations stay at the float precision
    kv = 0.0 if shape is None else shape.kv_elems_per_token() * eb
    q = wl.int8_flops_fraction if t.mixed else 1.0
    compute = t.efficiency.compute * t.gpus
    s_per_flop = q / (t.flops_per_s * compute)
    if q < 1.0:
        s_per_flop += (1.0 - q) / (t.float_flops_per_s * compute)
    w = weight_bytes(wl, t)
    act_per_token = sum(wl.act_elems) / tokens * eb
    tp_fixed, tp_per_token = tp_allreduce_s(shape, t, eb)
    return LMReplicaModel(
        target=t, prompt=prompt, output=output_tokens, weight_bytes=w,
        working_set_bytes=serving_memory_bytes(wl, t, 1) * t.gpus - w, usable_bytes=usable * t.gpus,
        kv_bytes_per_token=kv, prefill_s=latency_s(wl, t, 1) + tp_fixed + prompt * tp_per_token,
        flops_per_token=wl.total_flops / tokens,
        s_per_flop=s_per_flop, bytes_per_s=t.bytes_per_s * t.efficiency.memory * t.gpus,
        seq_bytes_per_step=(prompt + output_tokens / 2) * kv + act_per_token,
        overhead_s=wl.kernels * t.efficiency.kernel_overhead_us * 1e-6, tp_fixed_s=tp_fixed,
        tp_s_per_token=tp_per_token,
    )  # fmt: skip


def tp_allreduce_s(shape: LMShape | None, t: Target, element_bytes: float) -> tuple[float, float]:
    """(seconds per iteration, seconds per token) the tensor-parallel all-reduces add on a replica
    of k = `t.gpus` accelerators; (0, 0) for one accelerator or an unknown width.

    Megatron-style TP all-reduces the residual stream twice per transformer block (after attention
    and after the MLP; Shoeybi et al. 2019, §3). A ring all-reduce moves 2(k − 1)/k of the message
    per GPU over the instance's link (planner.parallelism.link_gb_s × its bus efficiency), plus a
    fixed latency per collective (TP_ALLREDUCE_LATENCY_US). Not overlapped with compute: each
    all-reduce's result is the next layer's input."""
    from planner.parallelism import BUS_EFFICIENCY, link_gb_s

    k = t.gpus
    if k <= 1 or shape is None or not shape.hidden or not shape.n_layers:
        return 0.0, 0.0
    link_gb, _ = link_gb_s(t.accelerator.name)
    collectives = 2 * shape.n_layers
    wire = collectives * shape.hidden * element_bytes * 2 * (k - 1) / k / (link_gb * 1e9 * BUS_EFFICIENCY)
    return collectives * TP_ALLREDUCE_LATENCY_US * 1e-6, wire


@dataclass(frozen=True)
class Objectives:
    """Limits on one replica's operating point (None: no limit)."""

    ttft_ms: float | None = None
    tpot_ms: float | None = None
    request_ms: float | None = None
    max_seqs: int | None = None  # the scheduler's cap on concurrent sequences

    def violation(self, m: LMReplicaModel, p: LMPoint | None) -> str | None:
        """The first limit `p` breaks (kv, max_batch, tpot, ttft, request; saturated: no steady state), or None."""
        if p is None:
            return "saturated"
        seqs = m.kv_seqs
        if seqs is not None and p.concurrency > seqs:
            return "kv"
        if self.max_seqs is not None and p.concurrency > self.max_seqs:
            return "max_batch"
        if self.tpot_ms is not None and p.tpot_s * 1e3 > self.tpot_ms:
            return "tpot"
        if self.ttft_ms is not None and p.ttft_s * 1e3 > self.ttft_ms:
            return "ttft"
        if self.request_ms is not None and p.request_s * 1e3 > self.request_ms:
            return "request"
        return None


def max_rate(m: LMReplicaModel, obj: Objectives) -> tuple[float, str]:
    """(largest arrival rate per replica within `obj`, what binds there); (0.0, reason) when even
    an idle replica misses an objective. Every limit grows with the rate, so bisection."""
    if obj not in m.memo:
        m.memo[obj] = _max_rate(m, obj)
    return m.memo[obj]


def _max_rate(m: LMReplicaModel, obj: Objectives) -> tuple[float, str]:
    idle = m.at(0.0)
    assert idle is not None
    first = obj.violation(m, idle)
    if first is not None:
        return 0.0, first
    lo, hi = 0.0, m.stable_rate()
    if math.isinf(hi):
        hi = 1e12
    for _ in range(_BISECTIONS):
        mid = (lo + hi) / 2
        if obj.violation(m, m.at(mid)) is None:
            lo = mid
        else:
            hi = mid
    return lo, obj.violation(m, m.at(hi)) or "saturated"


@dataclass(frozen=True)
class LMServing:
    """A decoder LM served on one instance: the chosen replica size and its operating point."""

    model: LMReplicaModel
    replicas: int  # per instance
    fits_memory: bool
    meets_objectives: bool
    #: capacity of one replica within the objectives (requests/s); batch-1 rate when they cannot be met
    rate_per_s: float
    binding: str  # what limits the capacity: kv, max_batch, tpot, ttft, request, saturated
    #: the rate at which KV capacity, max_batch or saturation stop the replica (objectives dropped)
    saturation_rate_per_s: float
    point: LMPoint  # at the load when one is given, else at capacity
    instances_needed: int | None
    utilization_at_load: float | None
    excluded_reason: str | None
    notes: tuple[str, ...]

    @property
    def target(self) -> Target:
        return self.model.target

    @property
    def batch(self) -> int:
        """Concurrent sequences at the operating point, rounded up (≥ 1)."""
        return max(1, math.ceil(self.point.concurrency - 1e-9))

    @property
    def memory_bytes_per_gpu(self) -> float:
        return self.model.memory_bytes_per_gpu(self.batch)

    @property
    def output_tokens_per_s(self) -> float:
        """Per replica, at capacity."""
        return self.rate_per_s * self.model.output

    @property
    def kv_capacity_seqs(self) -> int | None:
        return self.model.kv_seqs

    @property
    def prefill_ms(self) -> float:
        return self.model.prefill_s * 1e3


def objectives_of(s: ServeSettings) -> Objectives:
    return Objectives(ttft_ms=s.ttft_slo_ms, tpot_ms=s.tpot_slo_ms, request_ms=s.slo_ms, max_seqs=s.max_batch)


def _gib(b: float) -> str:
    return f"{b / _GIB:.1f} GiB"


def _unmet_reason(kind: str, m: LMReplicaModel, obj: Objectives, acc: Accelerator) -> str:
    idle = m.at(0.0)
    assert idle is not None
    where = f"on {m.target.gpus} × {acc.name}"
    if kind == "tpot":
        return f"TPOT {idle.tpot_s * 1e3:.1f} ms > {obj.tpot_ms:g} ms objective even at batch 1 {where}"
    if kind == "ttft":
        return (
            f"TTFT {idle.ttft_s * 1e3:.1f} ms > {obj.ttft_ms:g} ms objective even at batch 1 "
            f"(prefill of {m.prompt} tokens) {where}"
        )
    if kind == "request":
        return (
            f"request {idle.request_s * 1e3:.0f} ms > {obj.request_ms:g} ms objective even at batch 1 "
            f"({m.prompt} + {m.output} tokens) {where}"
        )
    return f"cannot serve one request {where} ({kind})"


def _no_fit_reason(m: LMReplicaModel, acc: Accelerator) -> str:
    where = f"{m.target.gpus} × {acc.name}"
    left = m.usable_bytes - m.weight_bytes
    if left <= 0:
        return f"does not fit: weights {_gib(m.weight_bytes)} > {_gib(m.usable_bytes)} usable on {where}"
    seq = (m.prompt + m.output) * m.kv_bytes_per_token
    return (
        f"KV cache holds 0 sequences of {m.prompt + m.output} tokens on {where}: weights leave "
        f"{_gib(max(m.kv_capacity_bytes, 0.0))}, one sequence needs {_gib(seq)}"
    )


def _binding_note(kind: str, m: LMReplicaModel, obj: Objectives) -> str:
    if kind == "kv":
        return f"the KV cache ({m.kv_seqs} sequences of {m.prompt + m.output} tokens) limits the batch"
    if kind == "max_batch":
        return f"max_batch ({obj.max_seqs} concurrent sequences) limits the batch"
    if kind == "tpot":
        return f"the TPOT objective ({obj.tpot_ms} ms) limits the batch"
    if kind == "ttft":
        return f"the TTFT objective ({obj.ttft_ms} ms) limits the rate"
    if kind == "request":
        return f"the request objective ({obj.request_ms} ms) limits the rate"
    return "compute and memory bandwidth saturate before any other limit"


def serve_decoder_lm(
    wl: Workload,
    shape: LMShape | None,
    acc: Accelerator,
    inst: Instance,
    s: ServeSettings,
    cache: dict[tuple[str, float | None, int], LMReplicaModel | None] | None = None,
) -> LMServing | None:
    """The decoder LM `wl` on instance `inst`: replica size, capacity within the objectives, the
    operating point (at `s.qps` when given, else at capacity), instances for the load, and why
    the option is excluded when it is. None when the accelerator cannot be projected at all."""
    usable = usable_memory_bytes(acc, inst.gpu_memory_gb)
    obj = objectives_of(s)
    models: list[LMReplicaModel] = []
    k = 1
    while k <= inst.count:
        key = (acc.name, inst.gpu_memory_gb, k)
        if cache is None or key not in cache:
            t = make_target(
                acc, s.precision, efficiency=s.efficiency, calibration=resolve_calibration(s.calibration, s.stored_calibrations, acc, s.precision), gpus=k,
                float_precision=s.float_precision,
            )  # fmt: skip
            m = None if t is None else replica_model(wl, shape, s.output_tokens, t, usable)
            if cache is not None:
                cache[key] = m
        else:
            m = cache[key]
        if m is None:
            break
        models.append(m)
        k *= 2
    if not models:
        return None
    fitting = [m for m in models if m.fits]
    if not fitting:
        m = models[-1]
        idle = m.at(0.0)
        assert idle is not None
        return LMServing(
            model=m, replicas=inst.count // m.target.gpus, fits_memory=False, meets_objectives=False, rate_per_s=0.0,
            binding="kv", saturation_rate_per_s=0.0, point=idle, instances_needed=None, utilization_at_load=None,
            excluded_reason=_no_fit_reason(m, acc), notes=(),
        )  # fmt: skip

    def per_replica(rate: float, sat: float) -> float:
        """What one replica may carry: within the objectives and, under a load, the headroom."""
        return min(rate, s.utilization * sat) if s.qps else rate

    best: tuple[LMReplicaModel, float, str, float] | None = None
    best_capacity = 0.0
    for m in fitting:
        rate, kind = max_rate(m, obj)
        if rate <= 0:
            continue
        sat, _ = max_rate(m, Objectives(max_seqs=obj.max_seqs))
        capacity = per_replica(rate, sat) * (inst.count // m.target.gpus)
        if best is None or capacity > best_capacity * (1 + CAPACITY_TIE):
            best, best_capacity = (m, rate, kind, sat), capacity
    notes: list[str] = []
    if shape is None or shape.kv_elems_per_token() == 0:
        notes.append("KV cache size unknown (pass --kv-layers, --kv-heads, --head-dim): decode ignores it")
    if best is None:
        # no replica size meets the objectives: the fastest one that fits, one sequence at a time
        m = fitting[-1]
        _, kind = max_rate(m, obj)
        rate, _ = max_rate(m, Objectives(max_seqs=1))
        point = m.at(rate) or m.at(0.0)
        assert point is not None
        return LMServing(
            model=m, replicas=inst.count // m.target.gpus, fits_memory=True, meets_objectives=False,
            rate_per_s=rate, binding=kind, saturation_rate_per_s=rate, point=point, instances_needed=None,
            utilization_at_load=None, excluded_reason=_unmet_reason(kind, m, obj, acc), notes=tuple(notes),
        )  # fmt: skip
    m, rate, kind, sat = best
    replicas = inst.count // m.target.gpus
    notes.append(_binding_note(kind, m, obj))
    if m.target.gpus > 1:
        notes.append(TP_NOTE)
    needed = utilization = None
    point = m.at(rate)
    if s.qps:
        needed = max(1, math.ceil(s.qps / (replicas * per_replica(rate, sat)) - 1e-9))
        at_load = s.qps / (needed * replicas)
        utilization = at_load / sat
        point = m.at(at_load)
    assert point is not None
    return LMServing(
        model=m, replicas=replicas, fits_memory=True, meets_objectives=True, rate_per_s=rate, binding=kind,
        saturation_rate_per_s=sat, point=point, instances_needed=needed, utilization_at_load=utilization,
        excluded_reason=None, notes=tuple(notes),
    )  # fmt: skip
