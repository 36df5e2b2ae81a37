"""Training layouts that fit (DDP, FSDP, FSDP × TP), exclusion, the comm model, the FLOP
conventions, per-class MFU defaults and their round trip through JSON and the CLI."""

from __future__ import annotations

import argparse
import json

import pytest
from plan_fixtures import llama2_7b, llama2_70b, mlp, resnet50

from planner.catalog import Catalog
from planner.model_class import ModelClass, ModelKind
from planner.options import PlanOptions
from planner.parallelism import fewest_gpus, link_gb_s, tp_degrees
from planner.plan import Plan, plan
from planner.training import TrainingOption
from planner.training_defaults import FLOP_6ND, mfu_default
from planner.vocab import AcceleratorClass, Parallelism
from profiler.errors import InputError
from tradeoff.options import add_plan_arguments, plan_options_from_args

GIB = 1024**3


def test_70b_first_option_fits_and_excluded_rank_last(catalog: Catalog) -> None:
    """The reported bug: with --gpu H100 every H100 option needed more than a GPU for one
    micro-batch's activations (84 GiB at seq 4096 > 72 GiB usable), none fitted, and the plan's
    first row was a 1-GPU instance that 'does not fit'. Now tensor parallelism inside an 8-GPU
    instance makes it fit, and single-GPU instances are excluded with the reason, last."""
    prof = llama2_70b()
    assert prof.totals.params == 68_976_648_192
    p = plan(prof, PlanOptions(train_tokens=2e12, gpus=("H100",)), catalog)
    p.check()
    opts = p.training.options  # type: ignore[union-attr]
    first = opts[0]
    assert first.fits_memory and first.excluded_reason is None
    assert first.memory_per_gpu_gb <= first.memory_usable_gb
    assert first.tp_degree > 1 and first.parallelism == f"fsdp × tp{first.tp_degree}"
    assert first.gpus % first.tp_degree == 0 and first.tp_degree <= first.gpus_per_instance
    excluded = [o for o in opts if o.excluded_reason]
    assert excluded and all(not o.fits_memory for o in excluded)
    assert opts[-len(excluded) :] == tuple(excluded)  # after every option that fits
    single = next(o for o in excluded if o.gpus_per_instance == 1)
    assert "single GPU" in single.excluded_reason  # type: ignore[operator]
    for o in opts:
        if o.fits_memory:
            assert o.memory_per_gpu_gb <= o.memory_usable_gb + 1e-9, o.instance
    assert p.answer is not None and p.answer.training is not None  # the plan leads with a trainable option
    assert p.answer.training.instance == first.instance


def test_fsdp_without_tp_when_activations_fit(catalog: Catalog) -> None:
    p = plan(llama2_70b(), PlanOptions(train_tokens=1e9, gpus=("H200",)), catalog)
    o = next(o for o in p.training.options if o.instance == "p5en.48xlarge")  # type: ignore[union-attr]
    # 16 B × 69.0e9 = 1,028 GiB of states + 84 GiB of activations: FSDP over 32 GPUs, no TP needed
    assert o.parallelism == "fsdp" and o.tp_degree == 1 and o.min_gpus == 25 and o.gpus == 32


def test_fewest_gpus_layouts() -> None:
    assert fewest_gpus(10 * GIB, 5 * GIB, 72 * GIB, 8).parallelism is Parallelism.DDP
    fsdp = fewest_gpus(100 * GIB, 12 * GIB, 72 * GIB, 8)
    assert (fsdp.need, fsdp.parallelism, fsdp.tp) == (2, Parallelism.FSDP, 1)
    tp = fewest_gpus(1028 * GIB, 84 * GIB, 72 * GIB, 8)
    # TP 2: 42 GiB of activations → 36 GPUs; TP 4: 21 → 24; TP 8: 10.5 → 24 (tie keeps TP 4)
    assert (tp.need, tp.tp) == (24, 4)
    none = fewest_gpus(1028 * GIB, 84 * GIB, 72 * GIB, 1)
    assert none.need is None and none.reason and "single GPU" in none.reason
    assert tp_degrees(8) == [1, 2, 4, 8] and tp_degrees(1) == [1] and tp_degrees(6) == [1, 2]


def test_comm_model_nvlink_hides_pcie_pays(catalog: Catalog) -> None:
    # seq 1024: one micro-batch computes in ≈ 0.33 s on an A100; FSDP moves 3 · (n-1)/n · 2 B · 6.7e9 per micro-batch
    p = plan(llama2_7b(seq=1024), PlanOptions(train_tokens=1e10, gpus=("A100-80GB",)), catalog)
    rows = {o.instance: o for o in p.training.options}  # type: ignore[union-attr]
    sxm = rows["p4de.24xlarge"]
    assert sxm.interconnect_gb_s == 300 and "NVLink" in sxm.interconnect_basis
    assert sxm.comm_efficiency == pytest.approx(1.0) and 0 < sxm.comm_share < 0.5  # type: ignore[operator]
    pcie = rows["Standard_NC96ads_A100_v4"]  # 4 × A100 PCIe
    assert pcie.interconnect_gb_s == 32 and pcie.comm_efficiency < 1.0
    assert link_gb_s("L4")[0] == 32 and link_gb_s("T4")[0] == 16 and link_gb_s("H100-SXM")[0] == 450


def test_flop_conventions_and_mfu_conversion(catalog: Catalog) -> None:
    prof = llama2_7b(seq=4096)
    base = PlanOptions(train_tokens=1e11, gpus=("H100",), providers=("aws",))
    attn = plan(prof, base, catalog).training
    six = plan(prof, PlanOptions(train_tokens=1e11, gpus=("H100",), providers=("aws",), flop_convention=FLOP_6ND),
               catalog).training  # fmt: skip
    assert attn is not None and six is not None
    assert attn.flop_convention == "6n_attention" and six.flop_convention == "6nd"
    assert six.flops == pytest.approx(six.flops_6nd) and attn.flops == pytest.approx(attn.flops_6n_attention)
    a, s = attn.options[0], six.options[0]
    assert attn.flops_6nd is not None and a.gpu_hours_6nd is not None
    # the default comes from a 6·N·D source: same hours either way, MFU restated per convention
    assert s.mfu == pytest.approx(0.40) and a.mfu == pytest.approx(0.40 * attn.flops / attn.flops_6nd)
    assert a.hours == pytest.approx(s.hours)
    assert a.gpu_hours == pytest.approx(a.gpu_hours_6n_attention) and s.gpu_hours == pytest.approx(s.gpu_hours_6nd)
    assert a.gpu_hours_6nd < a.gpu_hours  # the same MFU number on the smaller count
    # --mfu is read in the selected convention: both hours figures move with it
    m = plan(prof, PlanOptions(train_tokens=1e11, mfu=0.5, gpus=("H100",), providers=("aws",)), catalog)
    o = m.training.options[0]  # type: ignore[union-attr]
    assert o.mfu == 0.5 and o.mfu_source == "--mfu" and o.uncertainty_fraction is None and o.hours_low is None


def test_6nd_needs_tokens(catalog: Catalog) -> None:
    p = plan(resnet50(), PlanOptions(train_samples=1e6, flop_convention=FLOP_6ND, gpus=("H100",)), catalog)
    tr = p.training
    assert tr is not None and tr.flop_convention == "6n_attention" and tr.flops_6nd is None
    assert all(o.gpu_hours_6nd is None and any("6·N·D" in n for n in o.notes) for o in tr.options)
    with pytest.raises(InputError) as exc:
        PlanOptions(flop_convention="4nd").check()
    assert exc.value.file == "--flop-convention"


def test_mfu_defaults_per_class() -> None:
    def kind(cls: ModelClass, large: bool = False) -> ModelKind:
        return ModelKind(cls, large, 0, "test")

    dc, inf = AcceleratorClass.DATACENTER, AcceleratorClass.INFERENCE
    llm = mfu_default(kind(ModelClass.DECODER_LLM, True), dc)
    assert (llm.mfu, llm.convention) == (0.40, "6nd") and "Table 4" in llm.source
    assert mfu_default(kind(ModelClass.CNN_VISION), dc).mfu == 0.18
    assert "3.0-2053" in mfu_default(kind(ModelClass.CNN_VISION), dc).source
    assert mfu_default(kind(ModelClass.DECODER_LLM), dc).mfu == 0.35
    assert mfu_default(kind(ModelClass.OTHER), inf).mfu == pytest.approx(0.15)
    assert llm.uncertainty_fraction == pytest.approx(0.40 / 0.30 - 1)


def test_band_and_round_trip(catalog: Catalog) -> None:
    p = plan(resnet50(batch=4), PlanOptions(train_samples=1.281167e6, epochs=90, gpus=("H100",)), catalog)
    o = p.training.options[0]  # type: ignore[union-attr]
    assert o.hours_low < o.hours < o.hours_high  # type: ignore[operator]
    assert o.uncertainty_fraction and "band" in o.uncertainty_basis
    assert p.assumptions["flop_convention"] == "6n_attention" and "cnn_vision" in p.assumptions["mfu_defaults"]
    assert Plan.from_dict(json.loads(json.dumps(p.to_dict()))) == p
    # an option written before these fields still loads, with their defaults
    old = {k: v for k, v in o.to_dict().items() if k not in ("excluded_reason", "tp_degree", "gpu_hours_6nd")}
    again = TrainingOption.from_dict(old)
    assert again.excluded_reason is None and again.tp_degree == 1 and again.gpu_hours_6nd is None


def test_cli_flop_convention() -> None:
    parser = argparse.ArgumentParser()
    add_plan_arguments(parser)
    opts = plan_options_from_args(parser.parse_args(["--train-tokens", "1e9", "--flop-convention", "6nd"]))
    assert opts.flop_convention == "6nd"
    assert plan_options_from_args(parser.parse_args(["--train-tokens", "1e9"])).flop_convention == "6n_attention"


def test_mlp_is_other_class(catalog: Catalog) -> None:
    p = plan(mlp(), PlanOptions(train_samples=1e6, gpus=("H100",)), catalog)
    assert p.training is not None and p.training.model_class == "other"


def test_a_deadline_scales_each_option_out_to_the_fewest_instances_that_finish(catalog: Catalog) -> None:
    prof = llama2_7b(seq=4096)
    free = plan(prof, PlanOptions(train_tokens=2e12, gpus=("H100",)), catalog)
    days = 14.0
    bound = plan(prof, PlanOptions(train_tokens=2e12, gpus=("H100",), train_days=days), catalog)
    bound.check()
    assert free.training is not None and bound.training is not None
    slow = {(o.instance, o.provider, o.region): o for o in free.training.options}
    for o in bound.training.options:
        assert o.excluded_reason is None and o.hours <= days * 24
        before = slow[(o.instance, o.provider, o.region)]
        if before.hours > days * 24:
            assert o.gpus > before.gpus
            # one instance fewer would not finish in time
            fewer = PlanOptions(train_tokens=2e12, gpus=("H100",), train_gpus=o.gpus - o.gpus_per_instance)
            again = {
                (x.instance, x.provider, x.region): x
                for x in plan(prof, fewer, catalog).training.options  # type: ignore[union-attr]
            }[(o.instance, o.provider, o.region)]
            assert again.hours > days * 24
        else:
            assert o.gpus == before.gpus
    # an impossible deadline excludes every option, with why, and leaves no training answer
    none = plan(prof, PlanOptions(train_tokens=2e12, gpus=("H100",), train_days=0.001), catalog)
    none.check()
    assert none.training is not None and all(o.excluded_reason for o in none.training.options)
    assert "day limit" in (none.training.options[0].excluded_reason or "")
    assert none.answer is not None and none.answer.training is None and none.answer.training_unanswered
