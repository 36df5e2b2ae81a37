"""Decoder-LM serving (planner/llm_serving.py): KV capacity, continuous batching, objectives,
the fleet for a load, and the option fields the planner takes from it."""

from __future__ import annotations

import argparse
import dataclasses
import math
from typing import Any

import pytest
from plan_fixtures import llama2_7b, llama2_70b

from planner.catalog import Catalog, Instance
from planner.inference import HOURS_PER_MONTH, ServeSettings, _Replica, lm_option_fields
from planner.llm_serving import LMReplicaModel, LMServing, Objectives, max_rate, replica_model, serve_decoder_lm
from planner.lm import kv_shape_from_layers
from planner.options import PlanOptions
from planner.plan import plan
from planner.roofline import Efficiency, make_target, usable_memory_bytes
from planner.vocab import PeakPrecision
from planner.workload import Workload
from profiler.errors import InputError
from profiler.result import Profile
from tradeoff.options import add_plan_arguments, plan_options_from_args

LLAMA2_7B_KV_BYTES_FP16 = 2 * 32 * 4096 * 2  # K and V × 32 blocks × 4096 wide × 2 bytes
LLAMA2_70B_KV_BYTES_FP16 = 2 * 80 * 8 * 128 * 2  # grouped-query attention: 8 KV heads of 128


def _instance(catalog: Catalog, name: str) -> Instance:
    return next(i for i in catalog.instances if i.instance == name)


def _settings(prof: Profile, **kw: Any) -> ServeSettings:
    base: dict[str, Any] = dict(
        precision=PeakPrecision.FP16, slo_ms=None, qps=None, utilization=0.6, max_batch=64, efficiency=None,
        calibration=None, lm=kv_shape_from_layers(prof), decoder_lm=True, output_tokens=256,
    )  # fmt: skip
    base.update(kw)
    return ServeSettings(**base)


def _serve(catalog: Catalog, prof: Profile, instance: str, **kw: Any) -> LMServing:
    inst = _instance(catalog, instance)
    acc = catalog.accelerator(inst.accelerator)
    assert acc is not None
    s = _settings(prof, **kw)
    out = serve_decoder_lm(Workload.from_profile(prof), s.lm, acc, inst, s)
    assert out is not None
    return out


def _model(
    catalog: Catalog, prof: Profile, acc_name: str, precision: PeakPrecision, gpus: int, output: int, **eff: Any
) -> LMReplicaModel:
    acc = catalog.accelerator(acc_name)
    assert acc is not None
    efficiency = dataclasses.replace(Efficiency(0.70, 0.80, 5.0), **eff) if eff else None
    t = make_target(acc, precision, gpus=gpus, efficiency=efficiency)
    assert t is not None
    return replica_model(Workload.from_profile(prof), kv_shape_from_layers(prof), output, t, usable_memory_bytes(acc))


# ----------------------------------------------------------------------------- arithmetic


def test_kv_bytes_per_token_mha_and_gqa(catalog: Catalog) -> None:
    m7 = _model(catalog, llama2_7b(seq=512), "A100-SXM4-80GB", PeakPrecision.FP16, 1, 256)
    assert m7.kv_bytes_per_token == LLAMA2_7B_KV_BYTES_FP16 == 524_288
    prof70 = llama2_70b(seq=512)
    assert prof70.totals.params == 68_976_648_192
    m70 = _model(catalog, prof70, "A100-SXM4-80GB", PeakPrecision.FP16, 4, 256)
    assert m70.kv_bytes_per_token == LLAMA2_70B_KV_BYTES_FP16 == 327_680
    # fp8 serving keeps its KV cache at the float serving precision: one byte
    m8 = _model(catalog, prof70, "H100-SXM", PeakPrecision.FP8, 4, 256)
    assert m8.kv_bytes_per_token == LLAMA2_70B_KV_BYTES_FP16 / 2


def test_kv_capacity_is_memory_left_beside_the_weights(catalog: Catalog) -> None:
    m = _model(catalog, llama2_7b(seq=4096), "A100-SXM4-80GB", PeakPrecision.FP16, 1, 256)
    usable = 80 * 1024**3 * 0.9
    assert m.usable_bytes == pytest.approx(usable)
    assert m.weight_bytes == 6_738_415_616 * 2
    left = usable - m.weight_bytes - m.working_set_bytes
    assert m.kv_seqs == math.floor(left / (4352 * LLAMA2_7B_KV_BYTES_FP16)) == 27
    # a replica over 2 GPUs holds the weights once: more than twice the sequences
    m2 = _model(catalog, llama2_7b(seq=4096), "A100-SXM4-80GB", PeakPrecision.FP16, 2, 256)
    assert m2.kv_seqs is not None and m2.kv_seqs > 2 * m.kv_seqs


def test_batch_one_decode_is_bandwidth_bound(catalog: Catalog) -> None:
    """Llama-2-7B in fp16 is 13.48 GB of weights (6,738,415,616 params, Touvron et al. 2023); an
    A100-SXM4-80GB streams 2,039 GB/s (NVIDIA A100 datasheet, catalog row): every token reads
    every weight, so batch-1 decode cannot beat 2039 ÷ 13.48 ≈ 151 tokens/s."""
    ceiling = 2039e9 / (6_738_415_616 * 2)
    assert ceiling == pytest.approx(151.3, abs=0.1)
    ideal = _model(catalog, llama2_7b(seq=16), "A100-SXM4-80GB", PeakPrecision.FP16, 1, 16, memory=1.0,
                   kernel_overhead_us=0.0)  # fmt: skip
    idle = ideal.at(0.0)
    assert idle is not None and str(idle.bound) == "memory"
    assert 1 / idle.tpot_s == pytest.approx(ceiling, rel=0.01)  # + the KV of 24 tokens and activations
    # the planner's defaults: 80 % of the bandwidth and 5 µs per kernel launch (355 kernels)
    default = _model(catalog, llama2_7b(seq=16), "A100-SXM4-80GB", PeakPrecision.FP16, 1, 16).at(0.0)
    assert default is not None
    assert default.tpot_s == pytest.approx(6_738_415_616 * 2 / (2039e9 * 0.8) + 355 * 5e-6, rel=0.01)


def test_little_law_identities_and_monotone_in_rate(catalog: Catalog) -> None:
    m = _model(catalog, llama2_7b(seq=1024), "H100-SXM", PeakPrecision.BF16, 1, 256)
    previous = None
    for rate in (0.5, 2.0, 5.0, 10.0):
        p = m.at(rate)
        assert p is not None
        assert p.decode_batch == pytest.approx(rate * 256 * p.tpot_s)
        assert p.request_s == pytest.approx(p.ttft_s + 255 * p.tpot_s)
        assert p.concurrency == pytest.approx(rate * p.request_s)
        if previous is not None:
            assert p.tpot_s > previous.tpot_s and p.ttft_s > previous.ttft_s
        previous = p
    assert m.at(m.stable_rate() * 1.01) is None  # past saturation there is no steady state


def test_peak_is_limited_by_kv_then_max_batch(catalog: Catalog) -> None:
    long = _serve(catalog, llama2_7b(seq=4096), "p5.4xlarge", max_batch=256)
    assert long.binding == "kv" and long.kv_capacity_seqs == 27
    assert long.point.concurrency == pytest.approx(27, rel=1e-6) and long.batch == 27
    assert any("KV cache (27 sequences of 4352 tokens)" in n for n in long.notes)
    short = _serve(catalog, llama2_7b(seq=512), "p5.4xlarge", max_batch=64)
    assert short.binding == "max_batch" and short.point.concurrency == pytest.approx(64, rel=1e-6)
    assert short.output_tokens_per_s == pytest.approx(short.rate_per_s * 256)


def test_objectives_limit_the_batch_or_exclude_the_option(catalog: Catalog) -> None:
    free = _serve(catalog, llama2_7b(seq=512), "p5.4xlarge", max_batch=256)
    tight = _serve(catalog, llama2_7b(seq=512), "p5.4xlarge", max_batch=256, tpot_slo_ms=free.point.tpot_s * 1e3 * 0.8)
    assert tight.binding == "tpot" and tight.meets_objectives and tight.excluded_reason is None
    assert tight.point.tpot_s * 1e3 == pytest.approx(free.point.tpot_s * 1e3 * 0.8, rel=1e-6)
    assert tight.rate_per_s < free.rate_per_s
    ttft = _serve(catalog, llama2_7b(seq=512), "p5.4xlarge", max_batch=256, ttft_slo_ms=50)
    assert ttft.binding == "ttft" and ttft.point.ttft_s * 1e3 == pytest.approx(50, rel=1e-6)

    impossible = _serve(catalog, llama2_7b(seq=512), "p5.4xlarge", tpot_slo_ms=3)
    assert not impossible.meets_objectives and impossible.fits_memory
    assert impossible.excluded_reason is not None
    assert (
        impossible.excluded_reason.startswith("TPOT ")
        and "> 3 ms objective even at batch 1" in impossible.excluded_reason
    )
    slow_prompt = _serve(catalog, llama2_7b(seq=4096), "p5.4xlarge", ttft_slo_ms=10)
    assert "TTFT" in (slow_prompt.excluded_reason or "") and "prefill of 4096 tokens" in (
        slow_prompt.excluded_reason or ""
    )
    whole = _serve(catalog, llama2_7b(seq=512), "p5.4xlarge", slo_ms=100)
    assert "request" in (whole.excluded_reason or "")


def test_does_not_fit(catalog: Catalog) -> None:
    r = _serve(catalog, llama2_70b(seq=512), "p5.4xlarge")
    assert not r.fits_memory and r.excluded_reason is not None
    assert r.excluded_reason.startswith("does not fit: weights 128.5 GiB > 72.0 GiB usable on 1 × H100-SXM")


def test_replica_size_with_the_largest_capacity(catalog: Catalog) -> None:
    # 70B fp16 on 8 × A100-80GB: 2 GPUs hold the weights with KV room for 12 sequences of 4352
    # tokens; 4 GPUs hold 119 → two replicas of 4 (8 only ties, fewer GPUs win)
    r = _serve(catalog, llama2_70b(seq=4096), "p4de.24xlarge")
    assert r.target.gpus == 4 and r.replicas == 2 and r.binding == "max_batch"
    # 7B with short prompts: one replica per GPU
    assert _serve(catalog, llama2_7b(seq=512), "p5.48xlarge").target.gpus == 1


def test_load_sizing_with_headroom(catalog: Catalog) -> None:
    prof = llama2_70b(seq=1024)
    peak = _serve(catalog, prof, "p5.48xlarge")
    for qps in (0.5, 20.0, 100.0):
        r = _serve(catalog, prof, "p5.48xlarge", qps=qps)
        per_replica = min(r.rate_per_s, 0.6 * r.saturation_rate_per_s)
        assert r.instances_needed == max(1, math.ceil(qps / (r.replicas * per_replica)))
        assert r.utilization_at_load is not None and r.utilization_at_load <= 0.6 + 1e-9
        assert r.point.rate_per_s == pytest.approx(qps / (r.instances_needed * r.replicas))
        # at load the latencies are no worse than at capacity
        assert r.point.tpot_s <= peak.point.tpot_s and r.point.ttft_s <= peak.point.ttft_s


def test_option_fields(catalog: Catalog) -> None:
    prof = llama2_7b(seq=512)
    inst = _instance(catalog, "p5.48xlarge")
    for kw in ({}, {"qps": 40.0}, {"tpot_slo_ms": 1}):
        s = _settings(prof, **kw)
        lm = _serve(catalog, prof, "p5.48xlarge", **kw)
        p = lm.point
        rep = _Replica(lm.target, lm.batch, p.request_s, lm.fits_memory, lm.meets_objectives, 0.0, lm.rate_per_s, lm=lm)
        f = lm_option_fields(rep, inst, s, ("a note",))
        assert f["notes"][0] == "a note" and f["kv_capacity_seqs"] == lm.kv_capacity_seqs
        assert f["ttft_ms"] == pytest.approx(p.ttft_s * 1e3) and f["tpot_ms"] == pytest.approx(p.tpot_s * 1e3)
        assert f["concurrency"] == pytest.approx(p.concurrency) and f["prefill_ms"] == pytest.approx(lm.prefill_ms)
        if kw.get("tpot_slo_ms"):
            assert f["excluded_reason"] and f["usd_per_million"] is None and not f["meets_slo"]
            continue
        tokens = lm.output_tokens_per_s * lm.replicas
        assert f["output_tokens_per_s"] == pytest.approx(tokens)
        if s.qps:
            month = lm.instances_needed * inst.usd_per_hour * HOURS_PER_MONTH  # type: ignore[operator]
            assert f["usd_per_month"] == pytest.approx(month)
            assert f["usd_per_million_tokens"] == pytest.approx(month / (40 * 256 * HOURS_PER_MONTH * 3600) * 1e6)
        else:
            assert f["usd_per_million_tokens"] == pytest.approx(inst.usd_per_hour / (tokens * 0.6 * 3600) * 1e6)


def test_plan_end_to_end_and_cli_flags(catalog: Catalog) -> None:
    p = plan(llama2_7b(seq=512), PlanOptions(precision=PeakPrecision.BF16, gpus=("H100",), output_tokens=128), catalog)
    p.check()
    o = p.inference.options[0]
    assert o.ttft_ms is not None and o.tpot_ms is not None and o.decode_bound in ("memory", "compute")
    assert o.latency_ms == pytest.approx(o.ttft_ms + 127 * o.tpot_ms)
    parser = argparse.ArgumentParser()
    add_plan_arguments(parser)
    opts = plan_options_from_args(parser.parse_args(["--ttft-slo-ms", "500", "--tpot-slo-ms", "40"]))
    assert (opts.ttft_slo_ms, opts.tpot_slo_ms) == (500.0, 40.0)
    with pytest.raises(InputError) as exc:
        plan_options_from_args(parser.parse_args(["--tpot-slo-ms", "0"]))
    assert exc.value.file == "--tpot-slo-ms"


# ----------------------------------------------------------------------------- published figures
#
# Offline maximum throughput (requests queued at once) is the replica's capacity without latency
# objectives: max_rate with max_batch = the benchmark's batch. Output tokens/s per GPU.
#
# [T061] NVIDIA TensorRT-LLM docs/source/performance.md, "updated for v0.6.1" (commit 138f96d4,
#   December 2023), "Peak Throughput" tables: gptSessionBenchmark, static batches of the stated
#   size. H100 (FP8, FP8 KV cache) "out tok/s/GPU"; A100 (FP16) "out tok/s" — per GPU as well
#   (the TP4 70B rows are only plausible per GPU: 670 × 4 GPUs is 60 % of A100 fp16 peak).
#   "LLaMA 7B/70B" are Llama-2-7b/70b (the build commands of the same page).
# [T10] NVIDIA TensorRT-LLM docs/source/performance/perf-overview.md (commit 00f37686, the
#   TensorRT-LLM 1.0 tables, 2025): trtllm-bench throughput, in-flight batching, "Total Output
#   Throughput (tokens/sec)"; Llama-3.1-8B-Instruct-FP8 and Llama-3.3-70B-Instruct-FP8 (ModelOpt,
#   FP8 KV cache) on H100 SXM 80GB.
# Static batching prefills a whole batch before decoding it, continuous batching overlaps them:
# the planner models the latter (chunked prefill), so [T061]'s prompt-heavy rows are a looser match.


def _llama3_8b(seq: int) -> Profile:
    from plan_fixtures import decoder_profile

    return decoder_profile(n_layers=32, d_model=4096, n_heads=32, n_kv_heads=8, d_ff=14336, vocab=128256, seq=seq,
                           name="llama-3.1-8b")  # fmt: skip


def _llama3_70b(seq: int) -> Profile:
    from plan_fixtures import decoder_profile

    return decoder_profile(n_layers=80, d_model=8192, n_heads=64, n_kv_heads=8, d_ff=28672, vocab=128256, seq=seq,
                           name="llama-3.3-70b")  # fmt: skip


def _tokens_per_gpu(
    catalog: Catalog, prof: Profile, acc: str, prec: PeakPrecision, tp: int, out: int, batch: int
) -> float:
    m = _model(catalog, prof, acc, prec, tp, out)
    rate, _ = max_rate(m, Objectives(max_seqs=batch))
    return rate * out / tp


PUBLISHED_THROUGHPUT = [
    # (label, model, accelerator, precision, TP, prompt, output, batch, published tok/s/GPU)
    ("T061 A100 Llama-2-7B 128/128", llama2_7b, "A100-SXM4-80GB", PeakPrecision.FP16, 1, 128, 128, 384, 5586),  # -7 %
    ("T061 A100 Llama-2-7B 128/2048", llama2_7b, "A100-SXM4-80GB", PeakPrecision.FP16, 1, 128, 2048, 60, 1928),  # -7 %
    ("T061 A100 Llama-2-7B 2048/128", llama2_7b, "A100-SXM4-80GB", PeakPrecision.FP16, 1, 2048, 128, 52, 591),  # -9 %
    (
        "T061 A100 Llama-2-7B 2048/2048 TP2",
        llama2_7b,
        "A100-SXM4-80GB",
        PeakPrecision.FP16,
        2,
        2048,
        2048,
        64,
        782,
    ),  # +8 %
    ("T061 H100 Llama-2-7B 128/128", llama2_7b, "H100-SXM", PeakPrecision.FP8, 1, 128, 128, 768, 19694),  # +21 %
    ("T061 H100 Llama-2-7B 128/2048", llama2_7b, "H100-SXM", PeakPrecision.FP8, 1, 128, 2048, 112, 6818),  # -4 %
    ("T061 H100 Llama-2-7B 2048/128", llama2_7b, "H100-SXM", PeakPrecision.FP8, 1, 2048, 128, 80, 2244),  # +9 %
    ("T061 H100 Llama-2-7B 2048/2048", llama2_7b, "H100-SXM", PeakPrecision.FP8, 1, 2048, 2048, 48, 2740),  # -7 %
    ("T061 A100 Llama-2-70B 128/128 TP4", llama2_70b, "A100-SXM4-80GB", PeakPrecision.FP16, 4, 128, 128, 1280, 670),
    ("T061 A100 Llama-2-70B 2048/128 TP4", llama2_70b, "A100-SXM4-80GB", PeakPrecision.FP16, 4, 2048, 128, 120, 79),
    ("T10 H100 Llama-3.1-8B 128/128", _llama3_8b, "H100-SXM", PeakPrecision.FP8, 1, 128, 128, 2048, 28312),  # +22 %
    ("T10 H100 Llama-3.1-8B 128/2048", _llama3_8b, "H100-SXM", PeakPrecision.FP8, 1, 128, 2048, 2048, 22714),  # -2 %
    ("T10 H100 Llama-3.1-8B 128/4096", _llama3_8b, "H100-SXM", PeakPrecision.FP8, 1, 128, 4096, 2048, 14325),  # -6 %
    ("T10 H100 Llama-3.1-8B 500/2000", _llama3_8b, "H100-SXM", PeakPrecision.FP8, 1, 500, 2000, 2048, 17660),  # 0 %
    ("T10 H100 Llama-3.1-8B 1000/1000", _llama3_8b, "H100-SXM", PeakPrecision.FP8, 1, 1000, 1000, 2048, 15220),  # +2 %
    ("T10 H100 Llama-3.1-8B 2048/128", _llama3_8b, "H100-SXM", PeakPrecision.FP8, 1, 2048, 128, 2048, 3450),  # +14 %
    ("T10 H100 Llama-3.1-8B 2048/2048", _llama3_8b, "H100-SXM", PeakPrecision.FP8, 1, 2048, 2048, 2048, 9305),  # 0 %
    ("T10 H100 Llama-3.1-8B 5000/500", _llama3_8b, "H100-SXM", PeakPrecision.FP8, 1, 5000, 500, 2048, 3459),  # +3 %
    ("T10 H100 Llama-3.3-70B 128/4096 TP2", _llama3_70b, "H100-SXM", PeakPrecision.FP8, 2, 128, 4096, 2048, 4199 / 2),
    ("T10 H100 Llama-3.3-70B 128/2048 TP2", _llama3_70b, "H100-SXM", PeakPrecision.FP8, 2, 128, 2048, 2048, 6651 / 2),
]

#: Tensor-parallel rows the planner still over-projects by more than 25 %: it prices the
#: all-reduces (planner.llm_serving.tp_allreduce_s) but not the efficiency lost splitting the
#: matmuls. With the all-reduces: +25 % to +31 % for [T10] TP2 (was +32 % to +40 % without),
#: +74 % for the 2023 [T061] TP4 row (was +90 %).
PUBLISHED_TP_MISSES = [
    ("T10 H100 Llama-3.3-70B 128/128 TP2", _llama3_70b, "H100-SXM", PeakPrecision.FP8, 2, 128, 128, 2048, 6378 / 2),
    ("T10 H100 Llama-3.3-70B 1000/1000 TP2", _llama3_70b, "H100-SXM", PeakPrecision.FP8, 2, 1000, 1000, 2048, 4205 / 2),
    ("T10 H100 Llama-3.3-70B 2048/2048 TP2", _llama3_70b, "H100-SXM", PeakPrecision.FP8, 2, 2048, 2048, 2048, 3082 / 2),
    ("T061 A100 Llama-2-70B 128/2048 TP4", llama2_70b, "A100-SXM4-80GB", PeakPrecision.FP16, 4, 128, 2048, 240, 525),
]


@pytest.mark.parametrize("row", PUBLISHED_THROUGHPUT, ids=[r[0] for r in PUBLISHED_THROUGHPUT])
def test_offline_throughput_against_published(catalog: Catalog, row: tuple[Any, ...]) -> None:
    _, make, acc, prec, tp, prompt, out, batch, published = row
    assert _tokens_per_gpu(catalog, make(prompt), acc, prec, tp, out, batch) == pytest.approx(published, rel=0.25)


@pytest.mark.xfail(
    strict=True, reason="split matmuls' efficiency not modelled: +25 % to +74 % over the published figure"
)
@pytest.mark.parametrize("row", PUBLISHED_TP_MISSES, ids=[r[0] for r in PUBLISHED_TP_MISSES])
def test_tensor_parallel_throughput_against_published(catalog: Catalog, row: tuple[Any, ...]) -> None:
    _, make, acc, prec, tp, prompt, out, batch, published = row
    projected = _tokens_per_gpu(catalog, make(prompt), acc, prec, tp, out, batch)
    assert projected > published  # the miss is an over-projection, never an under-projection
    assert projected == pytest.approx(published, rel=0.25)


# [T061] "Low Latency" tables (TensorRT-LLM v0.5 data on the same page): first-token latency at
# batch 1, A100 FP16. The prefill of a 2048-token prompt is compute-bound and matches; a
# 128-token prompt is dominated by fixed costs the roofline does not hold (projected 10.5 ms vs
# 16 ms for 7B; 26 ms vs 47 ms for 70B TP4), and H100 FP8 prefill reaches less of the FP8 peak
# (projected 24 ms vs 36 ms for 7B at 2048 tokens: an implied compute efficiency ≈ 0.46).
@pytest.mark.parametrize(
    ("make", "tp", "published_ms"), [(llama2_7b, 1, 133), (llama2_70b, 4, 377)], ids=["7B", "70B-TP4"]
)
def test_first_token_latency_against_published(catalog: Catalog, make: Any, tp: int, published_ms: float) -> None:
    m = _model(catalog, make(2048), "A100-SXM4-80GB", PeakPrecision.FP16, tp, 1)
    idle = m.at(0.0)
    assert idle is not None and idle.ttft_s == pytest.approx(m.prefill_s)
    assert m.prefill_s * 1e3 == pytest.approx(published_ms, rel=0.25)
