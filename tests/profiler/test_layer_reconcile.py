"""Per-layer times add up to end to end (profiler.layer_reconcile), for both back-ends."""

from __future__ import annotations

import math
import statistics
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from profiler.layer_reconcile import (
    NOOP_MODULES_LABEL,
    SHAPE_OPS_LABEL,
    apply_to_rows,
    is_zero_cost,
    note,
    reconcile,
    shape_ops_scope,
)
from profiler.result import LayerRow


def _row(
    name: str, op: str, *, macs: int = 0, out: tuple[tuple[int, ...], ...] = ((1, 128, 256),), scope: str = ""
) -> LayerRow:
    return LayerRow(
        name=name,
        type=op,
        params=0,
        macs=macs,
        flops=2 * macs,
        weight_bytes=0,
        activation_bytes=4 * sum(math.prod(s) for s in out),
        latency_ms=None,
        counted=True,
        scope=scope,
        output_shapes=out,
    )


# -- the arithmetic ------------------------------------------------------------------------------


def test_rows_sum_to_the_end_to_end_median_and_keep_their_raw_figure() -> None:
    samples = {"a": [4.0, 5.0, 6.0], "b": [1.0, 1.0, 2.0], "c": [0.5, 0.5, 0.5]}
    rec = reconcile(samples, 3.25, overhead_ms=0.1)
    assert rec.reconciled_sum_ms == pytest.approx(3.25, rel=1e-9)
    assert rec.raw_sum_ms == pytest.approx(5.0 + 1.0 + 0.5)
    # the overhead comes off each row before one common scale: (5-.1):(1-.1):(.5-.1)
    assert rec.rows["a"].latency_ms / rec.rows["c"].latency_ms == pytest.approx(4.9 / 0.4)
    assert rec.rows["a"].raw_ms == 5.0
    for r in rec.rows.values():
        assert r.p10_ms <= r.latency_ms <= r.p90_ms
    assert rec.rows["a"].p90_ms > rec.rows["a"].p10_ms  # the spread is kept, scaled


def test_no_end_to_end_median_means_no_scaling() -> None:
    rec = reconcile({"a": [2.0], "b": [1.0]}, None, overhead_ms=0.5)
    assert rec.scale == 1.0 and rec.rows["a"].latency_ms == pytest.approx(1.5)
    assert "not scaled" in (note(rec, profiler="x") or "")


def test_an_8_byte_unsqueeze_never_dominates() -> None:
    """The reported case: an Unsqueeze on 8 bytes showed 27 % of a BERT's per-node sum."""
    rows = (
        _row("/enc/Unsqueeze", "Unsqueeze", out=((1, 1),), scope="enc"),
        _row("/enc/Shape", "Shape", out=((3,),), scope="enc"),
        _row("/enc/Gather", "Gather", out=((),), scope="enc"),
        _row("/enc/MatMul", "MatMul", macs=128 * 256 * 256, scope="enc"),
        _row("/enc/Softmax", "Softmax", scope="enc"),
    )
    samples = {
        "/enc/Unsqueeze": [4.0, 3.9, 4.2],  # a thread wake-up landed here in every run
        "/enc/Shape": [0.006, 0.006, 0.007],
        "/enc/Gather": [0.3, 0.01, 0.01],
        "/enc/MatMul": [8.0, 8.2, 7.9],
        "/enc/Softmax": [2.6, 2.5, 2.7],
    }
    zero = [r.name for r in rows if is_zero_cost(r)]
    assert set(zero) == {"/enc/Unsqueeze", "/enc/Shape", "/enc/Gather"}
    rec = reconcile(samples, 2.88, overhead_ms=0.006, zero_cost=zero)
    out = apply_to_rows(rows, rec)
    total = sum(r.latency_ms or 0.0 for r in out)
    assert total == pytest.approx(2.88, rel=1e-6)
    for r in out:
        if r.name in zero:
            assert (r.latency_ms or 0.0) / total < 0.01, r
            assert r.scope == f"enc/{SHAPE_OPS_LABEL}"
        else:
            assert r.scope == "enc"
    assert [r.name for r in out] == [r.name for r in rows]  # one row per node, names unchanged
    unsq = next(r for r in out if r.name == "/enc/Unsqueeze")
    assert unsq.latency_raw_ms == pytest.approx(4.0)  # the profiler's figure is kept beside it
    text = note(rec, profiler="onnxruntime profiler") or ""
    assert "×" in text and "2.88 ms" in text and "latency_raw_ms" in text and SHAPE_OPS_LABEL in text


def test_raw_is_only_kept_where_it_differs() -> None:
    rows = (_row("a", "MatMul", macs=10), _row("b", "Relu"))
    rec = reconcile({"a": [3.0], "b": [1.0]}, 4.0)
    out = apply_to_rows(rows, rec)
    assert all(r.latency_raw_ms is None for r in out)
    assert note(rec, profiler="hooks") is None  # nothing was changed: nothing to say
    rec = reconcile({"a": [3.0], "b": [1.0]}, 2.0)
    out = apply_to_rows(rows, rec)
    assert [r.latency_raw_ms for r in out] == [3.0, 1.0] and [r.latency_ms for r in out] == [1.5, 0.5]


def test_zero_cost_classification() -> None:
    assert is_zero_cost(_row("s", "Shape", out=((4,),)))
    assert is_zero_cost(_row("r", "Reshape"))  # a view at any size
    assert is_zero_cost(_row("c", "Concat", out=((4,),)))  # on a shape tensor
    assert not is_zero_cost(_row("c", "Concat", out=((1, 128, 256),)))  # on activations
    assert not is_zero_cost(_row("g", "Gather"))  # an embedding lookup
    assert not is_zero_cost(_row("m", "MatMul", macs=5, out=((1, 2),)))
    assert is_zero_cost(_row("d", "Dropout"))  # torch, eval mode
    assert not is_zero_cost(_row("x", "Dropout (own ops)"))
    assert shape_ops_scope("") == SHAPE_OPS_LABEL
    assert shape_ops_scope("layer1.0", NOOP_MODULES_LABEL) == f"layer1.0/{NOOP_MODULES_LABEL}"


# -- ONNX: fused nodes land on their rows, rows add up ------------------------------------------


def _encoder_like(tmp_path: Path) -> str:
    """MatMul+Add (fused into one Gemm by onnxruntime), Relu, and a shape subgraph feeding a Reshape."""
    import numpy as np

    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.standard_normal((256, 256)).astype(np.float32), "w")
    b = numpy_helper.from_array(rng.standard_normal((256,)).astype(np.float32), "b")
    zero = numpy_helper.from_array(np.array([0], dtype=np.int64), "zero")
    minus1 = numpy_helper.from_array(np.array([-1], dtype=np.int64), "minus1")
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["mm"], name="/enc/dense/MatMul"),
        helper.make_node("Add", ["mm", "b"], ["add"], name="/enc/dense/Add"),
        helper.make_node("Relu", ["add"], ["act"], name="/enc/act/Relu"),
        helper.make_node("Shape", ["x"], ["shape"], name="/enc/Shape"),
        helper.make_node("Gather", ["shape", "zero"], ["batch"], name="/enc/Gather", axis=0),
        helper.make_node("Concat", ["batch", "minus1"], ["new_shape"], name="/enc/Concat", axis=0),
        helper.make_node("Reshape", ["act", "new_shape"], ["y"], name="/enc/Reshape"),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [64, 256])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [w, b, zero, minus1],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path / "enc.onnx"
    onnx.save(model, str(path))
    return str(path)


def test_fused_node_time_lands_on_the_rows_it_replaced(tmp_path: Path) -> None:
    from profiler.onnx_backend.analysis import analyze_onnx
    from profiler.onnx_backend.node_timing import per_node_samples_ms
    from profiler.result import InputSpec

    path = _encoder_like(tmp_path)
    spec = (InputSpec("x", (64, 256), "float32"),)
    rows = analyze_onnx(path, spec).layers
    weights = {r.name: (float(r.flops), float(r.activation_bytes)) for r in rows}
    s = per_node_samples_ms(path, spec, threads=1, runs=3, weights=weights)
    # onnxruntime runs MatMul+Add as one fused kernel: its time is the MatMul's (the FLOPs), none is lost
    assert s.fused_share > 0.5  # the fused kernel is most of the time
    assert statistics.median(s.samples_ms["/enc/dense/MatMul"]) > 0
    assert "/enc/dense/Add" not in s.samples_ms  # split by FLOPs: the bias add has none
    assert not s.unassigned_ms, s.unassigned_ms
    assert set(s.samples_ms) <= {r.name for r in rows}
    assert s.runs == 3 and all(len(v) == 3 for v in s.samples_ms.values())


@pytest.mark.serial  # the sibling xdist worker reads as a busy machine
def test_onnx_profile_rows_add_up_to_end_to_end(tmp_path: Path) -> None:
    from profiler.analyze import ProfileRequest, profile_model
    from profiler.loading import load_model

    p = profile_model(load_model(_encoder_like(tmp_path)), ProfileRequest(budget_s=0.5, layer_runs=5, threads=1))
    p.check()
    e2e = p.totals.latency_ms
    assert e2e is not None and p.layer_latency_method == "onnxruntime-profiling"
    total = sum(r.latency_ms or 0.0 for r in p.layers)
    assert total == pytest.approx(e2e.median, rel=0.10)
    shape_rows = [r for r in p.layers if r.scope.endswith(SHAPE_OPS_LABEL)]
    assert {r.name for r in shape_rows} >= {"/enc/Shape", "/enc/Gather", "/enc/Concat", "/enc/Reshape"}
    assert all((r.latency_ms or 0.0) <= 0.05 * total for r in shape_rows)
    assert all(r.latency_p10_ms is not None and r.latency_p90_ms is not None for r in p.layers)
    assert p.layer_latency_note and "end-to-end median" in p.layer_latency_note
    assert any(r.latency_raw_ms is not None for r in p.layers)


def test_torch_hook_rows_add_up_to_end_to_end() -> None:
    from profiler.analyze import ProfileRequest, profile_model
    from profiler.loading import load_model

    p = profile_model(load_model("demo:mlp"), ProfileRequest(budget_s=0.5, layer_runs=7, threads=1))
    p.check()
    e2e = p.totals.latency_ms
    assert e2e is not None and p.layer_latency_method == "hooks"
    timed = [r for r in p.layers if r.latency_ms is not None]
    assert sum(r.latency_ms or 0.0 for r in timed) == pytest.approx(e2e.median, rel=0.10)
    assert all(r.latency_p10_ms is not None and r.latency_p10_ms <= (r.latency_ms or 0.0) for r in timed)
    assert all(r.latency_p90_ms is not None and r.latency_p90_ms >= (r.latency_ms or 0.0) for r in timed)
    assert p.layer_latency_note and "forward-hook" in p.layer_latency_note
    raw_sum = sum(r.latency_raw_ms if r.latency_raw_ms is not None else (r.latency_ms or 0.0) for r in timed)
    if abs(raw_sum / e2e.median - 1) > 0.02:  # hooked runs timed differently: the hooks' figures are kept
        assert any(r.latency_raw_ms is not None for r in timed)


def test_profiler_floor_is_small_and_measured_once() -> None:
    from profiler.onnx_backend import node_timing as timing

    floor = timing.profiler_floor_ms(threads=1)
    assert 0.0 <= floor < 0.1  # a no-op node: microseconds, not the model's milliseconds
    assert timing._floor_cache[(1, "cpu")] == floor  # measured once per thread count
    assert timing.profiler_floor_ms(threads=1) == floor
