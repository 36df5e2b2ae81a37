"""profiler/compare.py: layer alignment (name, scope, order), totals ratios, the document's round trip."""

from __future__ import annotations

import json

from profiler.compare import (
    COMPARE_SCHEMA,
    Comparison,
    align_layers,
    build_comparison,
    comparison_csv,
    input_mismatch,
    layer_kind,
    module_path,
    render_comparison,
)
from profiler.fidelity import Fidelity
from profiler.result import InputSpec, LatencyStats, LayerRow, ModelInfo, Profile, RunConfig, Totals


def row(
    name: str, type_: str, macs: int, *, scope: str = "", params: int = 0, latency: float | None = None
) -> LayerRow:
    return LayerRow(
        name=name, type=type_, params=params, macs=macs, flops=2 * macs, weight_bytes=4 * params,
        activation_bytes=16, latency_ms=latency, counted=True, scope=scope,
    )  # fmt: skip


def profile(
    rows: list[LayerRow], *, name: str = "m", median: float | None = None, shape: tuple[int, ...] = (1, 4)
) -> Profile:
    lat = None if median is None else LatencyStats(median=median, p10=median * 0.9, p90=median * 1.1, samples=10)
    totals = Totals(
        params=sum(r.params for r in rows), macs=sum(r.macs for r in rows), flops=sum(r.flops for r in rows),
        weight_bytes=sum(r.weight_bytes for r in rows), activation_bytes=sum(r.activation_bytes for r in rows),
        latency_ms=lat, activation_peak_bytes=64,
    )  # fmt: skip
    return Profile(
        model=ModelInfo(name, f"{name}.py", "python"), inputs=(InputSpec("x", shape, "float32"),), config=RunConfig(),
        environment=None, totals=totals, layers=tuple(rows),
    )  # fmt: skip


def test_layer_kind_and_module_path() -> None:
    assert layer_kind("Conv2d") == layer_kind("Conv") == "conv"
    assert layer_kind("Linear") == layer_kind("Gemm") == "linear"
    assert layer_kind("BatchNorm2d") == layer_kind("BatchNormalization")
    assert module_path(row("/layer1/layer1.0/conv1/Conv", "Conv", 1, scope="layer1/layer1.0/conv1")) == "layer1.0.conv1"
    assert module_path(row("layer1.0.conv1", "Conv2d", 1, scope="layer1.0")) == "layer1.0.conv1"


def test_align_by_name_then_only_a_and_only_b() -> None:
    a = (row("fc1", "Linear", 100), row("fc2", "Linear", 50), row("drop", "Dropout", 0))
    b = (row("fc1", "Linear", 60), row("fc2", "Linear", 30), row("extra", "Softmax", 0))
    pairs = align_layers(a, b)
    by = {(p.name_a, p.name_b): p for p in pairs}
    assert by[("fc1", "fc1")].match == "name" and by[("fc1", "fc1")].macs_delta == -40
    assert by[("drop", None)].match == "only_a"
    assert by[(None, "extra")].match == "only_b"
    assert len(pairs) == 4


def test_align_by_scope_torch_vs_onnx() -> None:
    a = (row("conv1", "Conv2d", 10), row("bn1", "BatchNorm2d", 0), row("fc", "Linear", 5))
    b = (row("/conv1/Conv", "Conv", 10, scope="conv1"), row("/fc/Gemm", "Gemm", 5, scope="fc"))
    pairs = align_layers(a, b)
    assert [(p.name_a, p.name_b, p.match) for p in pairs] == [
        ("conv1", "/conv1/Conv", "scope"),
        ("bn1", None, "only_a"),
        ("fc", "/fc/Gemm", "scope"),
    ]


def test_align_by_order_within_a_kind() -> None:
    a = (row("0", "Linear", 100), row("1", "ReLU", 0), row("2", "Linear", 50))
    b = (row("fc1", "Linear", 80), row("act", "ReLU", 0), row("fc2", "Linear", 40))
    pairs = align_layers(a, b)
    assert [(p.name_a, p.name_b, p.match) for p in pairs] == [
        ("0", "fc1", "order"),
        ("1", "act", "order"),
        ("2", "fc2", "order"),
    ]
    assert [p.macs_delta for p in pairs] == [-20, 0, -10]


def test_ratios_document_round_trip_csv_and_text() -> None:
    pa = profile([row("fc1", "Linear", 100, params=10, latency=1.0), row("fc2", "Linear", 50, latency=1.0)], median=2.0)
    pb = profile([row("fc1", "Linear", 50, params=5, latency=0.5), row("fc2", "Linear", 50, latency=0.5)], median=1.0)
    fid = Fidelity(cosine=0.99, max_abs_error=0.1, max_rel_error=0.2, top1_agreement=1.0, accuracy=None)
    c = build_comparison("a.py", pa, "b.py", pb, fidelity=fid)
    c.check()
    assert c.ratios["macs"] == 100 / 150 and c.ratios["params"] == 0.5 and c.ratios["latency_median_ms"] == 0.5
    d = json.loads(json.dumps(c.to_dict()))
    assert d["schema"] == COMPARE_SCHEMA and d["a"]["source"] == "a.py"
    assert d["layers"][0]["latency_ms_delta"] == -0.5
    back = Comparison.from_dict(d)
    assert back.to_dict() == c.to_dict()
    text = render_comparison(c, top=1)
    assert "B ÷ A" in text and "cosine 0.990000" in text and "fc1" in text
    lines = comparison_csv(c).splitlines()
    assert lines[0].startswith("name_a,name_b,match") and len(lines) == 3


def test_input_mismatch_says_why() -> None:
    assert input_mismatch(profile([]), profile([])) is None
    why = input_mismatch(profile([]), profile([], shape=(1, 8)))
    assert why is not None and "1x4" in why and "1x8" in why
    c = build_comparison("a", profile([]), "b", profile([], shape=(1, 8)), fidelity_note="the input specs differ")
    assert "not comparable" in render_comparison(c)
