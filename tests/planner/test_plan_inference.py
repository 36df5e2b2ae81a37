from __future__ import annotations

import pytest
from plan_fixtures import decoder_profile, layer, linear, llama2_7b, make_profile, mlp, resnet50

from planner.answer import MONTHLY_AT_LOAD, PER_MILLION_AT_UTILISATION
from planner.catalog import Catalog, load_catalog
from planner.inference import HOURS_PER_MONTH, InferenceOption
from planner.lm import detect_decoder_lm, kv_shape_from_layers, lm_shape
from planner.options import PlanOptions
from planner.plan import Plan, plan
from planner.serving_load import latency_at_load_s
from planner.vocab import PeakPrecision
from profiler.errors import InputError
from profiler.result import InputSpec


def test_without_a_load_ranked_by_cost_per_million_at_the_stated_utilisation(catalog: Catalog) -> None:
    p = plan(resnet50(), PlanOptions(slo_ms=50, precision=PeakPrecision.FP16), catalog)
    p.check()
    opts = p.inference.options
    assert len(opts) == len(catalog.instances)
    prices = [o.usd_per_million for o in opts]
    assert all(x is not None for x in prices) and prices == sorted(prices)  # type: ignore[type-var]
    for o in opts:
        assert o.latency_source == "projected" and o.fits_memory and o.meets_slo and o.excluded_reason is None
        per_instance = o.throughput_per_instance_per_s
        assert per_instance is not None and o.throughput_per_s == pytest.approx(per_instance / o.gpus_per_instance)
        assert o.instances_needed is None and o.usd_per_month is None and o.utilization_at_load is None
        assert o.usd_per_million == pytest.approx(o.usd_per_hour / (per_instance * 0.6 * 3600) * 1e6)
        if o.usd_per_hour_spot:
            assert o.usd_per_million_spot == pytest.approx(o.usd_per_million * o.usd_per_hour_spot / o.usd_per_hour)
        else:
            assert o.usd_per_million_spot is None
    a = p.answer
    assert a is not None and a.serving is not None and a.serving.basis == PER_MILLION_AT_UTILISATION
    assert "60 % utilisation" in a.serving.headline and a.serving.instance == opts[0].instance


def test_at_a_load_ranked_by_monthly_cost_with_the_fewest_instances(catalog: Catalog) -> None:
    qps, slo = 500.0, 50.0
    p = plan(resnet50(), PlanOptions(serve_qps=qps, slo_ms=slo, precision=PeakPrecision.FP16), catalog)
    p.check()
    opts = p.inference.options
    monthly = [o.usd_per_month for o in opts]
    assert all(x is not None for x in monthly) and monthly == sorted(monthly)  # type: ignore[type-var]
    for o in opts:
        n = o.instances_needed
        assert n is not None and o.utilization_at_load is not None and o.latency_p90_at_load_ms is not None
        assert o.usd_per_month == pytest.approx(n * o.usd_per_hour * HOURS_PER_MONTH)
        # the cost per million is what the fleet costs per million requests it serves at this load
        assert o.usd_per_million == pytest.approx(o.usd_per_month / (qps * HOURS_PER_MONTH * 3600) * 1e6)
        assert o.utilization_at_load <= 0.6 + 1e-9 and o.latency_p90_at_load_ms <= slo
        # utilisation is the load over the fleet's capacity at the chosen batch
        capacity = n * o.replicas_per_instance * o.batch / (o.latency_ms / 1e3)  # type: ignore[operator]
        assert o.utilization_at_load == pytest.approx(qps / capacity)
        if n > 1:  # one instance fewer could not carry the load under the ceiling and the objective
            rate = qps / ((n - 1) * o.replicas_per_instance)
            assert all(
                latency_at_load_s(b, _batch_s(p, o, b), rate)[1] > 0.6
                or latency_at_load_s(b, _batch_s(p, o, b), rate)[0] * 1e3 > slo
                for b in (1, o.batch)
            )
    a = p.answer
    assert a is not None and a.serving is not None and a.serving.basis == MONTHLY_AT_LOAD
    first = opts[0]
    assert a.serving.usd_per_month == first.usd_per_month and a.serving.instances == first.instances_needed
    assert a.serving.headline.startswith("Serve 500 req/s within 50.0 ms p90 on ")


def _batch_s(p: Plan, o: InferenceOption, batch: int) -> float:
    """The projected time of `batch` on the option's replica (the serving path's own arithmetic)."""
    from planner.roofline import latency_s, make_target
    from planner.workload import Workload

    cat = load_catalog(include_user=False)
    acc = cat.accelerator(o.accelerator)
    assert acc is not None
    t = make_target(acc, PeakPrecision(o.precision), gpus=o.gpus_per_replica)
    assert t is not None
    return latency_s(Workload.from_profile(resnet50()), t, batch)


def test_a_small_model_at_a_small_load_is_served_by_one_small_instance(catalog: Catalog) -> None:
    """The report that started this: a small conv net at 200 req/s ranked an 8-GPU instance first."""
    p = plan(resnet50(), PlanOptions(serve_qps=200, slo_ms=50), catalog)
    first = p.inference.options[0]
    assert first.gpus_per_instance == 1 and first.instances_needed == 1
    assert first.usd_per_month == min(o.usd_per_month for o in p.inference.options if o.usd_per_month is not None)


def test_options_that_cannot_answer_come_last_with_why(catalog: Catalog) -> None:
    big = llama2_7b(seq=512)
    p = plan(big, PlanOptions(precision=PeakPrecision.FP32, gpus=("T4", "L4"), serve_qps=1.0), catalog)
    p.check()
    flags = [o.excluded_reason is not None for o in p.inference.options]
    assert flags == sorted(flags)  # answers first
    for o in p.inference.options:
        if not o.fits_memory:
            assert o.excluded_reason and o.excluded_reason.startswith("does not fit") and o.usd_per_month is None


def test_unreachable_slo_keeps_batch_one_and_flags_it(catalog: Catalog) -> None:
    p = plan(resnet50(), PlanOptions(slo_ms=0.001, gpus=("T4",)), catalog)
    p.check()
    assert p.inference.options and all(o.batch == 1 and not o.meets_slo and o.fits_memory for o in p.inference.options)


def test_filters_and_unknown_names(catalog: Catalog) -> None:
    p = plan(mlp(), PlanOptions(gpus=("A100-80GB",), providers=("aws", "azure")), catalog)
    assert {o.accelerator for o in p.inference.options} == {"A100-SXM4-80GB", "A100-PCIe-80GB"}
    assert {o.provider for o in p.inference.options} == {"aws", "azure"}
    p = plan(mlp(), PlanOptions(region="us-central1"), catalog)
    assert {o.region for o in p.inference.options} == {"us-central1"}
    with pytest.raises(InputError, match="unknown accelerator"):
        plan(mlp(), PlanOptions(gpus=("GTX-480",)), catalog)
    with pytest.raises(InputError) as exc:
        plan(mlp(), PlanOptions(region="mars-1"), catalog)
    assert exc.value.file == "--region"


def test_model_too_big_for_one_gpu_spans_several(catalog: Catalog) -> None:
    p = plan(llama2_7b(seq=512), PlanOptions(precision=PeakPrecision.FP32, gpus=("T4", "V100")), catalog)
    p.check()
    by = {(o.provider, o.instance, o.region): o for o in p.inference.options}
    single_t4 = by[("aws", "g4dn.xlarge", "us-east-1")]
    assert not single_t4.fits_memory and single_t4.usd_per_million is None and single_t4.latency_ms is None
    eight_v100 = by[("aws", "p3.16xlarge", "us-east-1")]
    # a decoder LM takes the replica size with the largest capacity (planner.llm_serving): 2 V100s
    # hold the fp32 weights but leave KV room for 2 sequences only, so it spans more
    assert eight_v100.fits_memory and eight_v100.gpus_per_replica >= 2
    assert eight_v100.gpus_per_replica * eight_v100.replicas_per_instance == 8
    # unfitting options come last
    fits = [o.fits_memory for o in p.inference.options]
    assert fits == sorted(fits, reverse=True)


def test_decoder_lm_detection() -> None:
    assert detect_decoder_lm(llama2_7b(seq=64))[0]
    assert not detect_decoder_lm(resnet50())[0]
    assert not detect_decoder_lm(mlp())[0]
    # token input + embedding, but a classifier head (BERT-style): not a decoder LM
    rows = (1, 16)
    enc = make_profile(
        [layer("embeddings.word_embeddings", "Embedding", params=30522 * 64, inputs=[rows], outputs=[(*rows, 64)]),
         linear("classifier", 64, 2, rows)],
        inputs=[InputSpec("input_ids", rows, "int64")], seq_len=16,
    )  # fmt: skip
    assert detect_decoder_lm(enc) == (False, "token input and Embedding but no projection to the vocabulary")
    # no lm_head name, but the last layer projects to the vocabulary
    gpt = make_profile(
        [layer("wte", "Embedding", params=1000 * 64, inputs=[rows], outputs=[(*rows, 64)]), linear("proj", 64, 1000, rows)],
        inputs=[InputSpec("idx", rows, "int64")], seq_len=16,
    )  # fmt: skip
    assert detect_decoder_lm(gpt)[0]


def test_kv_shape_from_layers_and_explicit() -> None:
    mha = kv_shape_from_layers(llama2_7b(seq=64))
    assert mha is not None and (mha.n_layers, mha.kv_dim) == (32, 4096)
    gqa = kv_shape_from_layers(
        decoder_profile(n_layers=4, d_model=512, n_heads=8, n_kv_heads=2, d_ff=1024, vocab=1000, seq=32)
    )
    assert gqa is not None and (gqa.n_layers, gqa.kv_dim) == (4, 128)
    assert gqa.kv_elems_per_token() == 2 * 4 * 128
    explicit = lm_shape(llama2_7b(seq=64), n_layers=80, n_kv_heads=8, head_dim=128)
    assert explicit is not None and explicit.kv_dim == 1024 and explicit.source.startswith("explicit")


def test_decode_is_bandwidth_bound_and_priced_per_token(catalog: Catalog) -> None:
    p = plan(
        llama2_7b(seq=512),
        PlanOptions(precision=PeakPrecision.BF16, gpus=("H100",), max_batch=1, output_tokens=128),
        catalog,
    )
    p.check()
    assert p.inference.decoder_lm and p.inference.prompt_tokens == 512 and p.inference.output_tokens == 128
    o = p.inference.options[0]
    assert o.decode_bound == "memory" and o.batch == 1
    # weights + KV of a 576-token mean context, at 80 % of 3350 GB/s, plus kernel launches
    byts = 6_738_415_616 * 2 + 576 * 2 * 32 * 4096 * 2
    kernels = 1 + 32 * 11 + 2  # every layer row is one launch of 5 µs
    expected_ms = byts / (3350e9 * 0.8) * 1e3 + kernels * 0.005
    assert o.tpot_ms == pytest.approx(expected_ms, rel=0.01)
    assert o.latency_ms == pytest.approx(o.ttft_ms - o.tpot_ms + 128 * o.tpot_ms)  # type: ignore[operator]
    assert o.output_tokens_per_s == pytest.approx(128 / (o.latency_ms / 1e3) * o.replicas_per_instance)  # type: ignore[operator]
    assert o.usd_per_million_tokens == pytest.approx(o.usd_per_hour / (o.output_tokens_per_s * 0.6 * 3600) * 1e6)  # type: ignore[operator]


def test_decoder_override(catalog: Catalog) -> None:
    p = plan(llama2_7b(seq=64), PlanOptions(decoder_lm=False, gpus=("H100",)), catalog)
    assert not p.inference.decoder_lm and p.inference.options[0].tpot_ms is None
    p = plan(mlp(), PlanOptions(decoder_lm=True, gpus=("H100",)), catalog)
    assert p.inference.decoder_lm and any("K/V" in w for w in p.warnings)
