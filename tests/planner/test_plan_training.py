from __future__ import annotations

import math

import pytest
from plan_fixtures import llama2_7b, mlp, resnet50

from planner.catalog import Catalog
from planner.options import PlanOptions
from planner.plan import plan
from planner.training import ADAM_BYTES_PER_PARAM
from profiler.errors import InputError


def by_key(p):  # type: ignore[no-untyped-def]
    assert p.training is not None
    return {(o.provider, o.instance, o.region): o for o in p.training.options}


def test_flops_are_three_forwards_per_token(catalog: Catalog) -> None:
    prof = llama2_7b(seq=1024)
    p = plan(prof, PlanOptions(train_tokens=1e9, epochs=2, gpus=("H100",)), catalog)
    p.check()
    tr = p.training
    assert tr is not None and not tr.causal_attention_halved
    per_token = prof.totals.flops / 1024
    assert tr.forward_flops_per_token == pytest.approx(per_token)
    assert tr.tokens == 2e9 and tr.flops == pytest.approx(3 * per_token * 2e9)
    assert tr.flops_6nd == pytest.approx(6 * prof.totals.params * 2e9)


def test_samples_and_epochs_for_a_non_token_model(catalog: Catalog) -> None:
    prof = resnet50(batch=4)
    p = plan(prof, PlanOptions(train_samples=1_281_167, epochs=90, gpus=("A100-80GB",)), catalog)
    tr = p.training
    assert tr is not None and tr.tokens is None and tr.flops_6nd is None
    assert tr.flops == pytest.approx(3 * prof.totals.flops / 4 * 1_281_167 * 90)
    with pytest.raises(InputError) as exc:
        plan(prof, PlanOptions(train_tokens=1e9), catalog)
    assert exc.value.file == "--train-tokens"


def test_memory_ddp_fsdp_minimum_gpus(catalog: Catalog) -> None:
    p = plan(llama2_7b(seq=4096), PlanOptions(train_tokens=1e9, gpus=("A100-80GB", "H200", "T4")), catalog)
    rows = by_key(p)
    a100 = rows[("aws", "p4de.24xlarge", "us-east-1")]
    assert a100.parallelism == "fsdp" and a100.min_gpus == 2 and a100.fits_memory
    states = ADAM_BYTES_PER_PARAM * 6_738_415_616
    assert a100.memory_per_gpu_gb * 1024**3 > states / 8
    h200 = rows[("aws", "p5en.48xlarge", "us-east-1")]
    assert h200.parallelism == "ddp" and h200.min_gpus == 1
    single = rows[("runpod", "1x_A100-80GB_SECURE", "all")]
    assert single.instances == 2 and single.gpus == 2  # rounded up to whole instances
    assert single.scaling_efficiency == pytest.approx(0.95)
    t4 = rows[("aws", "g4dn.xlarge", "us-east-1")]
    assert t4.precision == "fp16"  # T4 has no bf16
    assert t4.min_gpus is None and not t4.fits_memory  # 16 GiB of activations at seq 4096


def test_activations_that_cannot_fit_are_flagged(catalog: Catalog) -> None:
    p = plan(llama2_7b(seq=4096), PlanOptions(train_tokens=1e9, micro_batch=64, gpus=("T4",)), catalog)
    for o in p.training.options:  # type: ignore[union-attr]
        assert not o.fits_memory and o.min_gpus is None and o.notes


def test_time_energy_co2_arithmetic(catalog: Catalog) -> None:
    p = plan(mlp(), PlanOptions(train_samples=1e9, train_gpus=4, pue=1.2, gpus=("H100",), region="us-east-1"), catalog)
    rows = by_key(p)
    o = rows[("aws", "p5.4xlarge", "us-east-1")]
    assert o.instances == 4 and o.gpus == 4
    assert o.scaling_efficiency == pytest.approx(0.95**2)
    assert o.mfu == 0.20 and o.mfu_source.startswith("other")  # an MLP: the 'other' class default
    assert o.comm_efficiency == 1.0  # one GPU per instance: the network is scaling_per_doubling's
    tr = p.training
    assert tr is not None
    hours = tr.flops / (4 * 989.4e12 * 0.20 * 0.95**2) / 3600
    assert o.hours == pytest.approx(hours)
    assert o.usd_on_demand == pytest.approx(hours * 4 * 6.88)
    assert o.energy_kwh == pytest.approx(4 * 700 * hours * 1.2 / 1000)
    assert o.carbon_basis == "country:USA"
    assert o.co2_kg == pytest.approx(o.energy_kwh * 369.473 / 1000)  # type: ignore[operator]
    big = rows[("aws", "p5.48xlarge", "us-east-1")]
    assert big.instances == 1 and big.gpus == 8 and big.scaling_efficiency == 1.0


def test_unknown_tdp_leaves_energy_null(catalog: Catalog) -> None:
    p = plan(mlp(), PlanOptions(train_samples=1e6, gpus=("A10G",)), catalog)
    assert all(o.energy_kwh is None and o.co2_kg is None for o in p.training.options)  # type: ignore[union-attr]


def test_training_sorted_cheapest_first(catalog: Catalog) -> None:
    p = plan(mlp(), PlanOptions(train_samples=1e8), catalog)
    p.check()
    costs = [o.usd_on_demand for o in p.training.options]  # type: ignore[union-attr]
    assert costs == sorted(costs) and all(math.isfinite(c) for c in costs)
