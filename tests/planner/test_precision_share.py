"""Cost projections follow the variant that was actually measured (profiler/precision_share.py,
planner/roofline.py `serving_precisions`, the mixed `Target`).

Real variants of the demo models go through the what-if engine (the worker's code): torch int8
(`quantize_dynamic`) converts only Linear layers, so a CNN keeps ~all its MACs in fp32 and its
projected $/M stays where the fp32 baseline's is, while a Linear-only MLP moves all its MACs to
int8 and gets cheaper; ONNX Runtime int8 rewrites Conv/MatMul into integer ops; fp16 converts the
whole module. Pruned variants are projected from their own counted rows. Counting only (no
timing), so the modules stay quick.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from plan_fixtures import layer, make_profile

from planner.catalog import Catalog
from planner.options import PlanOptions
from planner.plan import Plan, plan
from planner.roofline import make_target, project, serving_precisions
from planner.vocab import PeakPrecision
from planner.workload import Workload
from profiler.precision_share import (
    int8_rows,
    is_int8_row,
    mac_share_by_precision,
    precision_share,
    quantized_mac_fraction,
    share_caption,
    share_percent,
)
from profiler.result import Profile

torch = pytest.importorskip("torch")

from profiler.analyze import ProfileRequest  # noqa: E402
from profiler.loading import load_model  # noqa: E402
from profiler.variant import Variant  # noqa: E402
from profiler.whatif import WhatIfSession  # noqa: E402

STATIC = ProfileRequest(latency=False)


def _session(source: str) -> Iterator[WhatIfSession]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        session = WhatIfSession(load_model(source), STATIC)
    try:
        yield session
    finally:
        session.close()


@pytest.fixture(scope="module")
def resnet() -> Iterator[WhatIfSession]:
    yield from _session("demo:resnet18")


@pytest.fixture(scope="module")
def mlp() -> Iterator[WhatIfSession]:
    yield from _session("demo:mlp")


def _profile(session: WhatIfSession, variant: Variant) -> Profile:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = session.run(variant)
    assert result.profile is not None, result.error
    result.profile.check()
    return result.profile


def _plan(profile: Profile, catalog: Catalog, **options: object) -> Plan:
    """As measured (each layer at the precision it ran at) unless told otherwise: these tests are
    about the measured share; the auto 16-bit default has its own test."""
    options.setdefault("serve_as_measured", True)
    p = plan(profile, PlanOptions(**options), catalog)  # type: ignore[arg-type]
    p.check()
    assert Plan.from_dict(p.to_dict()).to_dict() == p.to_dict()  # the new fields round-trip
    return p


def _cheapest(p: Plan, accelerator: str | None = None) -> float:
    prices = [
        o.usd_per_million
        for o in p.inference.options
        if o.usd_per_million is not None and (accelerator is None or o.accelerator == accelerator)
    ]
    assert prices
    return min(prices)


# ----------------------------------------------------------------------------- a CNN: int8 on the head only


def test_torch_int8_cnn_quantizes_only_the_head_and_projects_near_fp32(resnet: WhatIfSession, catalog: Catalog) -> None:
    fp32 = _profile(resnet, Variant())
    int8 = _profile(resnet, Variant(precision="int8"))
    fc = next(r for r in int8.layers if r.name == "fc")
    # the real rows: the dynamically quantized head keeps the class name `Linear`, with 8-bit weights
    assert fc.type == "Linear" and fc.weight_bytes < 2 * fc.params
    flags = dict(zip((r.name for r in int8.layers), int8_rows(int8), strict=True))
    assert [n for n, q in flags.items() if q] == ["fc"]
    fraction = quantized_mac_fraction(int8)
    assert fraction == pytest.approx(fc.macs / int8.totals.macs) and fraction < 0.001
    assert mac_share_by_precision(int8) == pytest.approx({"int8": fraction, "fp32": 1 - fraction})
    assert share_caption(int8) == "int8 on 0.028% of MACs"
    assert mac_share_by_precision(fp32) == {"fp32": 1.0} and share_caption(fp32) is None

    p32, p8 = _plan(fp32, catalog), _plan(int8, catalog)
    # the projection changes what the variant changed: ~nothing (it used to say −90 %)
    assert _cheapest(p8) == pytest.approx(_cheapest(p32), rel=0.01)
    assert _cheapest(p8, "L4") == pytest.approx(_cheapest(p32, "L4"), rel=0.01)
    # ... while a whole-model int8 what-if (asked explicitly) is far cheaper: the test can tell them apart
    assert _cheapest(_plan(fp32, catalog, precision=PeakPrecision.INT8)) < 0.5 * _cheapest(p32)

    a = p8.assumptions
    assert a["precision_share"] == "int8 on 0.028% of MACs (1 of 21 layers); the rest fp32"
    assert a["quantized_mac_share"] == pytest.approx(fraction) and a["float_precision"] == "fp32"
    assert p32.assumptions["precision_share"] == "fp32 on all MACs" and p32.assumptions["quantized_mac_share"] is None
    for o in p8.inference.options:
        assert o.float_precision is not None and o.quantized_mac_share == pytest.approx(fraction)
        assert any("of MACs (1 of 21 layers)" in n for n in o.notes)
    assert all(o.float_precision is None and o.quantized_mac_share is None for o in p32.inference.options)


def test_mixed_projection_runs_each_layer_at_its_own_peak(resnet: WhatIfSession, catalog: Catalog) -> None:
    int8 = _profile(resnet, Variant(precision="int8"))
    l4 = catalog.accelerator("L4")
    assert l4 is not None
    wl = Workload.from_profile(int8)
    assert serving_precisions(wl) == (PeakPrecision.INT8, PeakPrecision.FP32)
    target = make_target(l4, PeakPrecision.INT8, float_precision=PeakPrecision.FP32)
    assert target is not None and target.mixed
    proj = project(wl, target, batch=64)
    proj.check()
    eff = target.efficiency.compute
    by_name = {lp.name: lp for lp in proj.layers}
    fc, conv = by_name["fc"], by_name["layer1.0.conv1"]
    assert fc.compute_ms == pytest.approx(fc.flops / (l4.peak_flops_per_s(PeakPrecision.INT8) * eff) * 1e3)  # type: ignore[operator]
    assert conv.compute_ms == pytest.approx(conv.flops / (l4.peak_flops_per_s(PeakPrecision.FP32) * eff) * 1e3)  # type: ignore[operator]
    # an fp32 row of an int8 profile holds fp32 weights: 4 bytes each, not counted as 4× the elements
    conv_row = next(r for r in int8.layers if r.name == "layer1.0.conv1")
    assert wl.weight_elems[wl.names.index("layer1.0.conv1")] == conv_row.params


# ----------------------------------------------------------------------------- Linear-only: all int8


def test_torch_int8_mlp_moves_all_macs_to_int8_and_saves(mlp: WhatIfSession, catalog: Catalog) -> None:
    fp32 = _profile(mlp, Variant())
    int8 = _profile(mlp, Variant(precision="int8"))
    share = precision_share(int8)
    assert share.int8_fraction == 1.0 and share.int8_layers == share.mac_layers == 3
    assert mac_share_by_precision(int8) == {"int8": 1.0}
    assert share_caption(int8) == "int8 on 100% of MACs"
    saving = 1 - _cheapest(_plan(int8, catalog)) / _cheapest(_plan(fp32, catalog))
    assert saving > 0.2  # a tiny model: kernel overhead keeps it from the full int8 ÷ fp32 peak ratio


def test_auto_serving_precision_keeps_the_measured_int8_share_and_serves_the_rest_in_16_bit(
    mlp: WhatIfSession, catalog: Catalog
) -> None:
    fp32 = _profile(mlp, Variant())
    int8 = _profile(mlp, Variant(precision="int8"))
    base, quant = _plan(fp32, catalog, serve_as_measured=False), _plan(int8, catalog, serve_as_measured=False)
    assert base.assumptions["precision_choice"].startswith("auto: fp16")
    assert {o.precision for o in base.inference.options} <= {"fp16", "bf16"}  # never fp32 on a GPU by default
    for o in quant.inference.options:  # int8 where the part has an int8 peak (V100, MI300X fall back)
        acc = catalog.accelerator(o.accelerator)
        assert acc is not None and o.float_precision in ("fp16", "bf16")
        assert o.precision == "int8" if acc.int8_tops else o.precision in ("fp8", "fp16", "bf16")
    assert quant.assumptions["quantized_mac_share"] == 1.0
    # like for like: the int8 variant is not dearer than the 16-bit baseline on the same instance
    assert _cheapest(quant, "L4") <= _cheapest(base, "L4")
    measured = _plan(fp32, catalog)
    assert {o.precision for o in measured.inference.options} == {"fp32"}


def test_fp16_converts_the_whole_module(mlp: WhatIfSession, catalog: Catalog) -> None:
    fp16 = _profile(mlp, Variant(precision="fp16"))
    weighted = [r for r in fp16.layers if r.params]
    assert weighted and all(r.weight_bytes == 2 * r.params for r in weighted)  # every weight in 16 bits
    assert mac_share_by_precision(fp16) == {"fp16": 1.0}
    assert quantized_mac_fraction(fp16) == 0.0 and share_caption(fp16) is None
    p = _plan(fp16, catalog)
    assert p.assumptions["precision_share"] == "fp16 on all MACs"
    assert all(o.float_precision is None and o.quantized_mac_share is None for o in p.inference.options)
    l4 = catalog.accelerator("L4")
    assert l4 is not None
    wl = Workload.from_profile(fp16)
    assert serving_precisions(wl) == (PeakPrecision.FP16, None)
    target = make_target(l4, PeakPrecision.FP16)
    assert target is not None and not target.mixed
    peak = l4.peak_flops_per_s(PeakPrecision.FP16)
    assert peak
    for lp in project(wl, target).layers:
        assert lp.compute_ms == pytest.approx(lp.flops / (peak * target.efficiency.compute) * 1e3)


# ----------------------------------------------------------------------------- a transformer: tied head stays fp32


@pytest.mark.slow
def test_torch_int8_gpt_keeps_the_tied_head_in_fp32(catalog: Catalog) -> None:
    for session in _session("demo:gpt-small"):
        fp32 = _profile(session, Variant(seq_len=8))  # a short prompt: the counting stays quick
        int8 = _profile(session, Variant(precision="int8", seq_len=8))
    flags = dict(zip((r.name for r in int8.layers), int8_rows(int8), strict=True))
    assert not flags["lm_head"]  # tied to the token embedding: quantize_dynamic leaves it fp32
    assert flags["h.0.attn.c_attn"] and flags["h.0.mlp.c_fc"]
    assert not flags["h.0.attn"]  # attention's own matmuls are not Linear modules
    fraction = quantized_mac_fraction(int8)
    assert fraction is not None and 0.5 < fraction < 0.9
    p32, p8 = _plan(fp32, catalog), _plan(int8, catalog)
    assert p8.inference.decoder_lm
    whole = _plan(fp32, catalog, precision=PeakPrecision.INT8)
    # cheaper than fp32, dearer than quantizing everything (the fp32 head and attention remain)
    assert _cheapest(whole) < _cheapest(p8) < _cheapest(p32)


# ----------------------------------------------------------------------------- ONNX Runtime int8


def test_onnx_int8_integer_ops_are_the_int8_share(resnet: WhatIfSession, catalog: Catalog) -> None:
    prof = _profile(resnet, Variant(precision="int8", runtime="onnxruntime", image_size=64))
    types = {r.type for r in prof.layers if r.macs}
    assert types <= {"ConvInteger", "MatMulInteger", "QLinearConv", "QLinearMatMul", "DynamicQuantizeMatMul"}
    assert types and quantized_mac_fraction(prof) == 1.0
    p = _plan(prof, catalog)
    assert p.assumptions["quantized_mac_share"] == 1.0
    # the dequantize chain ONNX Runtime adds (DynamicQuantizeLinear, Cast, Mul, Add) stays fp32
    assert p.assumptions["precision_share"].endswith("; layers without MACs fp32")


# ----------------------------------------------------------------------------- pruning: the variant's own rows


def test_pruned_variant_is_projected_from_its_own_rows(resnet: WhatIfSession, catalog: Catalog) -> None:
    base = _profile(resnet, Variant(image_size=64))
    pruned = _profile(resnet, Variant(prune=0.5, prune_method="structured", image_size=64))
    wl = Workload.from_profile(pruned)
    assert wl.flops == tuple(float(r.flops) for r in pruned.layers)
    ratios = {
        r.name: r.flops / b.flops
        for r, b in zip(pruned.layers, base.layers, strict=False)
        if b.flops and r.name == b.name
    }
    assert ratios["fc"] != pytest.approx(pruned.totals.flops / base.totals.flops)  # not a uniform scale of the baseline
    p = _plan(pruned, catalog)
    assert p.assumptions["forward_flops"] == pruned.totals.flops != base.totals.flops
    l4 = catalog.accelerator("L4")
    assert l4 is not None
    target = make_target(l4, PeakPrecision.FP32)
    assert target is not None
    proj = project(pruned, target)
    assert [lp.flops for lp in proj.layers] == [float(r.flops) for r in pruned.layers]


# ----------------------------------------------------------------------------- rules on synthetic rows


def test_row_rules() -> None:
    q = layer("q", "Linear", params=1000, macs=1000, weight_bytes=1000 + 40)
    f = layer("f", "Linear", params=1000, macs=1000)
    assert is_int8_row(q, "int8") and not is_int8_row(f, "int8")
    assert not is_int8_row(q, "fp32")  # the bytes rule applies to int8 profiles only
    for op in ("MatMulInteger", "ConvInteger", "QLinearConv", "QLinearMatMul", "DynamicQuantizeMatMul", "QGemm"):
        assert is_int8_row(layer("n", op, macs=10), "fp32")  # an already quantized ONNX model, too
    assert not is_int8_row(layer("n", "MatMul", macs=10), "int8")
    # an ONNX model quantized before it was opened: its integer rows are int8 at any knob
    pre = make_profile([layer("a", "MatMulInteger", macs=300), layer("b", "MatMul", macs=100)])
    assert mac_share_by_precision(pre) == {"int8": 0.75, "fp32": 0.25}
    assert serving_precisions(Workload.from_profile(pre)) == (PeakPrecision.INT8, PeakPrecision.FP32)
    # an explicitly asked precision other than the variant's is a whole-model what-if
    wl8 = Workload.from_profile(make_profile([q, f], precision="int8"))
    assert serving_precisions(wl8, PeakPrecision.FP16) == (PeakPrecision.FP16, None)
    assert serving_precisions(wl8, PeakPrecision.INT8) == (PeakPrecision.INT8, PeakPrecision.FP32)
    assert serving_precisions(Workload.from_profile(make_profile([f])), PeakPrecision.INT8) == (
        PeakPrecision.INT8,
        None,
    )
    empty = make_profile([layer("relu", "ReLU", outputs=[(1, 4)])])
    assert quantized_mac_fraction(empty) is None and mac_share_by_precision(empty) == {}


def test_share_percent_reads_at_both_ends() -> None:
    assert share_percent(0.00028) == "0.028%"
    assert share_percent(0.97) == "97%"
    assert share_percent(0.996) == "99.6%"
    assert share_percent(0.99996) == "over 99.9%"
    assert share_percent(1.0) == "100%" and share_percent(0.0) == "0%"
    assert share_percent(None) == "—"
