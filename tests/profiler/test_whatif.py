"""The what-if engine (issue 3, items 1-4 and 8): every transform really changes the model.

Each test runs a real variant through `WhatIfSession` (the same code the worker runs) on the
demo models, on tiny transformers configs with random weights, and on an ONNX export of
demo:mlp, then checks what the transform must have changed (params, MACs, weight bytes,
outputs) and what it must have left alone (the output layer, the output shape, the MACs of a
quantized model). Sessions are module-scoped: a model loads once and its baseline per shape is
cached, as in the worker. Timing is kept short (static analysis, or a 0.3 s budget).
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from profiler.analyze import ProfileRequest, resolve_specs  # noqa: E402
from profiler.errors import InputError  # noqa: E402
from profiler.fidelity import Fidelity, compare  # noqa: E402
from profiler.loading import load_model, make_inputs  # noqa: E402
from profiler.torch_backend.precision import cpu_flags  # noqa: E402
from profiler.torch_backend.pruning import output_layers, prune_structured, prune_unstructured  # noqa: E402
from profiler.variant import Variant  # noqa: E402
from profiler.whatif import VariantResult, WhatIfSession, load_sample_inputs  # noqa: E402

FAST = ProfileRequest(budget_s=0.3, layer_runs=1)  # measured, briefly
STATIC = ProfileRequest(latency=False)  # counted only: what pruning/precision change is static

#: the layer producing each classifier's output: structured pruning must keep its out_features
OUTPUT_LAYER = {"demo:mlp": "head", "demo:resnet18": "fc", "demo:mobilenetv2": "classifier.1"}
#: the CNNs run their transforms at 64x64 (the same weights; 12x fewer MACs to count and run than 224x224)
SMALL = {"demo:resnet18": 64, "demo:mobilenetv2": 64}


@pytest.fixture(autouse=True)
def _quiet() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _session(source: str, request: ProfileRequest, **kw: object) -> Iterator[WhatIfSession]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        session = WhatIfSession(load_model(source), request, **kw)  # type: ignore[arg-type]
    try:
        yield session
    finally:
        session.close()


@pytest.fixture(scope="module")
def mlp() -> Iterator[WhatIfSession]:
    yield from _session("demo:mlp", FAST)


@pytest.fixture(scope="module")
def resnet() -> Iterator[WhatIfSession]:
    yield from _session("demo:resnet18", STATIC)


@pytest.fixture(scope="module")
def mobilenet() -> Iterator[WhatIfSession]:
    yield from _session("demo:mobilenetv2", STATIC)


@pytest.fixture(scope="module")
def sessions(mlp: WhatIfSession, resnet: WhatIfSession, mobilenet: WhatIfSession) -> dict[str, WhatIfSession]:
    return {"demo:mlp": mlp, "demo:resnet18": resnet, "demo:mobilenetv2": mobilenet}


def ok(result: VariantResult) -> VariantResult:
    """The variant ran: no error, a checked profile, a baseline and fidelity."""
    assert result.error is None, result.error
    assert result.profile is not None and result.baseline is not None
    result.profile.check()
    assert result.fidelity is not None
    return result


def row(result_profile: object, name: str) -> object:
    rows = {r.name: r for r in result_profile.layers}  # type: ignore[attr-defined]
    assert name in rows, f"no row {name!r} in {sorted(rows)}"
    return rows[name]


def failed(result: VariantResult) -> str:
    """The variant failed cleanly: one line of error, nothing else filled in."""
    assert result.error, "expected the variant to fail with a message"
    assert "\n" not in result.error
    assert result.profile is None and result.fidelity is None
    return result.error


def _inputs(session: WhatIfSession, variant: Variant = Variant()) -> tuple[tuple[object, ...], dict[str, object]]:
    return session.torch_inputs(session.specs_for(variant))


# --- the Variant value ----------------------------------------------------------------------------


def test_variant_is_a_plain_hashable_json_value() -> None:
    v = Variant(
        prune=0.5,
        prune_method="unstructured",
        layer_prune=(("fc1", 0.7),),
        precision="int8",
        batch=8,
        seq_len=16,
        image_size=128,
        runtime="onnxruntime",
        round_to=8,
    )
    assert {v: 1}[Variant.from_dict(v.to_dict())] == 1  # hashable, equal after a round trip
    assert Variant.from_dict(json.loads(json.dumps(v.to_dict()))) == v
    assert json.loads(v.key()) == v.to_dict()
    assert Variant().to_dict()["prune_method"] is None
    assert Variant(prune=0.3).method == "structured"
    assert Variant() == Variant().baseline()
    assert Variant(precision="int8", batch=4).baseline() == Variant(batch=4)
    for bad in (
        {"prune": 1.0},
        {"prune": -0.1},
        {"precision": "fp8"},
        {"batch": 0},
        {"device": "tpu"},
        {"runtime": "tensorrt"},
        {"prune_method": "random"},
        {"layer_prune": (("fc1", 1.5),)},
    ):
        with pytest.raises(InputError):
            Variant(**bad)  # type: ignore[arg-type]


def test_variant_round_trip_is_exact_for_the_default_method() -> None:
    for v in (Variant(prune=0.3), Variant(prune_method="structured"), Variant(prune=0.5, layer_prune=(("fc1", 0.2),))):
        back = Variant.from_dict(json.loads(json.dumps(v.to_dict())))
        assert back == v and hash(back) == hash(v), (v, back)


# --- identity -------------------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["demo:mlp", "demo:resnet18"])
def test_identity_variant_has_exact_fidelity_and_unit_deltas(sessions: dict[str, WhatIfSession], source: str) -> None:
    r = ok(sessions[source].run(Variant()))
    f = r.fidelity
    assert f is not None
    assert f.cosine == 1.0
    assert f.max_abs_error == 0.0 and f.max_rel_error == 0.0
    assert f.top1_agreement == 1.0
    assert r.profile == r.baseline
    measured = {k: v for k, v in r.delta.items() if v is not None}
    assert measured and all(v == 1.0 for v in measured.values()), r.delta
    if source == "demo:mlp":  # measured with a latency budget: every delta is there, and 1.0
        assert set(measured) >= {"latency", "params", "macs", "weight_bytes", "peak_memory"}
    assert r.prune_report is None and r.effective_macs is None


# --- structured pruning ---------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["demo:mlp", "demo:resnet18", "demo:mobilenetv2"])
def test_structured_prune_removes_channels_but_keeps_the_output_layer(
    sessions: dict[str, WhatIfSession], source: str
) -> None:
    session = sessions[source]
    r = ok(session.run(Variant(prune=0.5, image_size=SMALL.get(source))))
    p, b = r.profile, r.baseline
    assert p is not None and b is not None
    assert p.totals.params < b.totals.params and p.totals.macs < b.totals.macs
    assert (
        r.delta["params"] is not None and r.delta["params"] < 1 and r.delta["macs"] is not None and r.delta["macs"] < 1
    )
    param_ratio = p.totals.params / b.totals.params
    if source == "demo:mlp":  # the 10-way head is kept whole, the two hidden widths halve
        assert 0.3 < param_ratio < 0.6
    else:  # a channel ratio p keeps about (1-p)^2 of the parameters
        assert abs(param_ratio - 0.25) <= 0.15, param_ratio
    rep = r.prune_report
    assert rep is not None
    assert rep["ratio_asked"] == 0.5 and rep["method"] == "structured"
    assert rep["param_ratio"] == pytest.approx(param_ratio, abs=1e-5)
    assert OUTPUT_LAYER[source] in rep["kept_layers"]
    head, base_head = row(p, OUTPUT_LAYER[source]), row(b, OUTPUT_LAYER[source])
    assert head.output_shapes == base_head.output_shapes  # type: ignore[attr-defined]
    assert [i.shape for i in p.inputs] == [i.shape for i in b.inputs]
    assert any("channel ratio 0.5" in n and "parameters kept" in n for n in r.notes), r.notes
    assert p.config.prune == 0.5 and p.config.prune_method == "structured"


@pytest.mark.parametrize("source", ["demo:resnet18", "demo:mobilenetv2"])
def test_structured_prune_rounds_channels_and_keeps_output_shape(
    sessions: dict[str, WhatIfSession], source: str
) -> None:
    session = sessions[source]
    model = session.loaded.module
    args, kwargs = _inputs(session, Variant(image_size=64))
    before = {n: m.out_channels for n, m in model.named_modules() if isinstance(m, torch.nn.Conv2d)}
    # Without rounding, 0.3 of these widths leaves counts that are not multiples of 8 (64 -> 44.8).
    assert any(int(c * 0.7) % 8 for c in before.values())
    pruned, rep = prune_structured(model, args, kwargs, 0.3, round_to=8, source=source)
    after = {n: m.out_channels for n, m in pruned.named_modules() if isinstance(m, torch.nn.Conv2d)}
    assert after.keys() == before.keys()
    assert all(c % 8 == 0 for c in after.values()), {n: c for n, c in after.items() if c % 8}
    assert sum(after.values()) < sum(before.values())
    assert rep.params_after < rep.params_before
    head = dict(pruned.named_modules())[OUTPUT_LAYER[source]]
    assert head.out_features == dict(model.named_modules())[OUTPUT_LAYER[source]].out_features == 1000
    with torch.no_grad():
        assert pruned(*args, **kwargs).shape == model(*args, **kwargs).shape == (1, 1000)
    # the baseline module is untouched
    assert {n: m.out_channels for n, m in model.named_modules() if isinstance(m, torch.nn.Conv2d)} == before


def test_round_to_travels_with_the_variant(mlp: WhatIfSession) -> None:
    r = ok(mlp.run(Variant(prune=0.3, round_to=64)))
    assert r.profile is not None
    for name in ("fc1", "fc2"):
        width = row(r.profile, name).output_shapes[0][-1]  # type: ignore[attr-defined]
        assert width % 64 == 0, (name, width)


def test_per_layer_override_prunes_only_that_layers_group_more(mlp: WhatIfSession) -> None:
    plain = ok(mlp.run(Variant(prune=0.25)))
    override = ok(mlp.run(Variant(prune=0.25, layer_prune=(("fc1", 0.75),))))
    assert plain.profile is not None and override.profile is not None

    def width(r: VariantResult, name: str) -> int:
        return row(r.profile, name).output_shapes[0][-1]  # type: ignore[attr-defined]

    assert width(plain, "fc1") == 384 and width(override, "fc1") == 128  # fc1's group: 0.75, not 0.25
    assert width(plain, "fc2") == width(override, "fc2") == 192  # fc2's own group: the global 0.25
    assert width(plain, "head") == width(override, "head") == 10
    assert override.profile.totals.params < plain.profile.totals.params
    unknown = mlp.run(Variant(prune=0.25, layer_prune=(("no_such_layer", 0.5),)))
    assert "no_such_layer" in failed(unknown)


# --- unstructured pruning -------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["demo:mlp", "demo:resnet18"])
def test_unstructured_prune_zeroes_half_the_prunable_weights_and_keeps_the_shape(
    sessions: dict[str, WhatIfSession], source: str
) -> None:
    session = sessions[source]
    r = ok(session.run(Variant(prune=0.5, prune_method="unstructured", image_size=SMALL.get(source))))
    p, b = r.profile, r.baseline
    assert p is not None and b is not None
    assert p.totals.params == b.totals.params and r.delta["params"] == 1.0
    assert p.totals.macs == b.totals.macs
    assert r.effective_macs is not None and 0 < r.effective_macs < p.totals.macs
    rep = r.prune_report
    assert rep is not None and rep["method"] == "unstructured" and rep["ratio_asked"] == 0.5
    assert rep["params_after"] == rep["params_before"] == b.totals.params
    # Sparsity among the prunable weights (Linear/Conv weights, output layer excluded).
    model = session.loaded.module
    args, kwargs = _inputs(session, Variant(image_size=SMALL.get(source)))
    kept = {id(m) for m in output_layers(model, args, kwargs)}
    prunable = sum(
        m.weight.numel()
        for m in model.modules()
        if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d)) and id(m) not in kept
    )
    zeros_before = sum(int((q == 0).sum()) for q in model.parameters())
    zeroed = (rep["params_after"] - rep["nonzero_after"]) - zeros_before
    assert zeroed / prunable == pytest.approx(0.5, abs=0.01)
    assert any("latency does not change" in n for n in r.notes), r.notes
    assert p.config.prune_method == "unstructured"


def test_unstructured_prune_leaves_the_output_layer_dense() -> None:
    model = load_model("demo:mlp").module
    x = torch.randn(2, 1, 28, 28)
    pruned, rep = prune_unstructured(model, 0.5, keep=output_layers(model, (x,), {}))
    assert rep.kept_layers == ("head",)
    assert bool((pruned.head.weight != 0).all())
    zeros = int((pruned.fc1.weight == 0).sum() + (pruned.fc2.weight == 0).sum())
    assert zeros / (pruned.fc1.weight.numel() + pruned.fc2.weight.numel()) == pytest.approx(0.5, abs=0.01)
    assert int((model.fc1.weight == 0).sum()) == 0  # the original is untouched


# --- precision ------------------------------------------------------------------------------------


@pytest.mark.parametrize("precision", ["fp16", "bf16"])
@pytest.mark.parametrize("source", ["demo:mlp", "demo:resnet18"])
def test_half_precision_halves_weight_bytes_and_changes_outputs_slightly(
    sessions: dict[str, WhatIfSession], source: str, precision: str
) -> None:
    # resnet18 at 64x64: the same weights, and fp16/bf16 convolutions are ~30x slower on this CPU
    variant = Variant(precision=precision, image_size=SMALL.get(source))
    r = ok(sessions[source].run(variant))
    p, b, f = r.profile, r.baseline, r.fidelity
    assert p is not None and b is not None and f is not None
    assert r.delta["weight_bytes"] == pytest.approx(0.5, abs=0.001)
    assert p.totals.params == b.totals.params and p.totals.macs == b.totals.macs
    assert 0.99 < f.cosine <= 1.0 + 1e-12
    assert f.max_abs_error > 0  # really ran in lower precision
    assert f.top1_agreement is not None
    assert p.config.precision == precision
    native = {"fp16": {"avx512_fp16", "amx_fp16"}, "bf16": {"avx512_bf16", "amx_bf16"}}[precision]
    no_fast_path = [n for n in r.notes if "no fast path on this CPU" in n]
    if native & cpu_flags():
        assert not no_fast_path, r.notes
    else:
        assert no_fast_path and precision in no_fast_path[0], r.notes


@pytest.mark.parametrize("source", ["demo:mlp", "demo:resnet18"])
def test_int8_torch_dynamic_quarters_linear_weights_and_keeps_macs(
    sessions: dict[str, WhatIfSession], source: str
) -> None:
    r = ok(sessions[source].run(Variant(precision="int8", image_size=SMALL.get(source))))
    p, b, f = r.profile, r.baseline, r.fidelity
    assert p is not None and b is not None and f is not None
    linear = [x.name for x in b.layers if x.type == "Linear"]
    assert linear
    for name in linear:
        ratio = row(p, name).weight_bytes / row(b, name).weight_bytes  # type: ignore[attr-defined]
        assert 0.2 < ratio < 0.3, (name, ratio)
    assert p.totals.weight_bytes < b.totals.weight_bytes
    assert p.totals.macs == b.totals.macs and r.delta["macs"] == 1.0
    assert all(x.counted for x in p.layers), [x.name for x in p.layers if not x.counted]
    assert f.cosine > 0.99
    assert p.config.precision == "int8" and p.config.runtime == "torch"
    assert any("torch dynamic quantization" in n for n in r.notes), r.notes
    if source == "demo:resnet18":
        assert any("convolution" in n and "fp32" in n for n in r.notes), r.notes


def test_int8_with_onnxruntime_runs_the_quantized_export(mlp: WhatIfSession) -> None:
    r = ok(mlp.run(Variant(precision="int8", runtime="onnxruntime")))
    p, b, f = r.profile, r.baseline, r.fidelity
    assert p is not None and b is not None and f is not None
    assert p.config.runtime == "onnxruntime" and p.config.precision == "int8"
    assert f.cosine > 0.99
    assert p.totals.macs == b.totals.macs
    assert r.delta["weight_bytes"] is not None and r.delta["weight_bytes"] < 0.3
    assert p.totals.latency_ms is not None  # measured with onnxruntime
    assert any("ONNX Runtime dynamic quantization" in n for n in r.notes), r.notes


def test_tf32_on_cpu_is_a_clean_error(mlp: WhatIfSession) -> None:
    assert "CUDA" in failed(mlp.run(Variant(precision="tf32")))


# --- batch and shape ------------------------------------------------------------------------------


def test_batch_scales_inputs_and_macs(mlp: WhatIfSession, resnet: WhatIfSession) -> None:
    base = ok(mlp.run(Variant())).profile
    assert base is not None
    for variant in (Variant(batch=4), Variant(batch=4, precision="int8")):
        r = ok(mlp.run(variant))
        assert r.profile is not None and r.baseline is not None
        assert r.profile.inputs[0].shape == (4, 1, 28, 28)
        assert r.profile.totals.macs == 4 * base.totals.macs
        assert r.profile.config.batch == 4
        assert r.baseline.inputs[0].shape[0] == 4  # deltas compare at the same batch
        assert r.delta["macs"] == 1.0
    r = ok(resnet.run(Variant(batch=2, image_size=64)))
    assert r.profile is not None
    assert r.profile.inputs[0].shape == (2, 3, 64, 64)
    assert r.profile.totals.macs == 2 * ok(resnet.run(Variant(image_size=64))).profile.totals.macs  # type: ignore[union-attr]


def test_image_size_changes_macs_not_params(resnet: WhatIfSession) -> None:
    small = ok(resnet.run(Variant(image_size=64))).profile
    large = ok(resnet.run(Variant(image_size=128))).profile
    assert small is not None and large is not None
    assert small.inputs[0].shape == (1, 3, 64, 64) and large.inputs[0].shape == (1, 3, 128, 128)
    assert small.totals.params == large.totals.params
    assert 3.5 < large.totals.macs / small.totals.macs < 4.5  # ~ pixels, give or take padding


def test_seq_len_on_a_model_without_tokens_is_not_silently_ignored(mlp: WhatIfSession) -> None:
    r = mlp.run(Variant(seq_len=8))
    assert r.error is not None or any("seq" in n.lower() and "identity" not in n for n in r.notes), (r.error, r.notes)


def test_seq_len_changes_inputs_and_macs_of_gpt_small() -> None:
    for session in _session("demo:gpt-small", STATIC):
        short = ok(session.run(Variant(seq_len=8))).profile
        long = ok(session.run(Variant(seq_len=16))).profile
        assert short is not None and long is not None
        assert short.inputs[0].shape == (1, 8) and long.inputs[0].shape == (1, 16)
        assert short.totals.params == long.totals.params
        assert 1.9 * short.totals.macs < long.totals.macs < 2.2 * short.totals.macs


# --- a transformers architecture (config.json with random weights) --------------------------------

HF_CONFIGS = {
    "bert": {
        "model_type": "bert",
        "architectures": ["BertForSequenceClassification"],
        "hidden_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 128,
        "max_position_embeddings": 64,
        "vocab_size": 128,
    },
    "llama": {
        "model_type": "llama",
        "architectures": ["LlamaForCausalLM"],
        "hidden_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "intermediate_size": 128,
        "max_position_embeddings": 64,
        "vocab_size": 128,
    },
    "gpt2": {
        "model_type": "gpt2",
        "architectures": ["GPT2LMHeadModel"],
        "n_embd": 64,
        "n_layer": 2,
        "n_head": 4,
        "n_positions": 64,
        "vocab_size": 128,
        "bos_token_id": 0,
        "eos_token_id": 0,
    },
}


@pytest.fixture(scope="module")
def hf(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, WhatIfSession]]:
    pytest.importorskip("transformers")
    root = tmp_path_factory.mktemp("hf")
    out: dict[str, WhatIfSession] = {}
    for name, config in HF_CONFIGS.items():
        (root / name).mkdir()
        (root / name / "config.json").write_text(json.dumps(config), encoding="utf-8")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loaded = load_model(str(root / name / "config.json"))
        assert not loaded.on_meta
        out[name] = WhatIfSession(loaded, ProfileRequest(latency=False, seq_len=16))
    yield out
    for s in out.values():
        s.close()


@pytest.mark.parametrize("arch", ["bert", "llama"])
def test_transformers_structured_prune_works_or_says_why(hf: dict[str, WhatIfSession], arch: str) -> None:
    session = hf[arch]
    r = session.run(Variant(prune=0.5))  # never raises
    if r.error is None:
        ok(r)
        assert r.profile is not None and r.baseline is not None
        assert r.profile.totals.params < r.baseline.totals.params
        assert [i.shape for i in r.profile.inputs] == [i.shape for i in r.baseline.inputs]
        assert r.prune_report is not None and r.prune_report["kept_layers"]
    else:
        assert "structured pruning" in failed(r)


def test_llama_structured_prune_succeeds(hf: dict[str, WhatIfSession]) -> None:
    r = ok(hf["llama"].run(Variant(prune=0.5)))
    assert r.profile is not None and r.baseline is not None
    assert r.profile.totals.params < r.baseline.totals.params
    assert r.prune_report is not None and "lm_head" in r.prune_report["kept_layers"]


def test_bert_structured_prune_succeeds_with_same_output_shape(hf: dict[str, WhatIfSession]) -> None:
    session = hf["bert"]
    model = session.loaded.module
    args, kwargs = _inputs(session)
    pruned, rep = prune_structured(model, args, kwargs, 0.5)
    assert rep.params_after < rep.params_before and "classifier" in rep.kept_layers
    with torch.no_grad():
        assert pruned(*args, **kwargs).logits.shape == model(*args, **kwargs).logits.shape


@pytest.mark.parametrize("arch", ["bert", "llama"])
def test_transformers_unstructured_and_int8_succeed(hf: dict[str, WhatIfSession], arch: str) -> None:
    session = hf[arch]
    sparse = ok(session.run(Variant(prune=0.5, prune_method="unstructured")))
    assert sparse.profile is not None and sparse.baseline is not None
    assert sparse.delta["params"] == 1.0
    assert sparse.prune_report is not None and sparse.prune_report["sparsity"] > 0.3
    assert sparse.effective_macs is not None and sparse.effective_macs < sparse.profile.totals.macs
    int8 = ok(session.run(Variant(precision="int8")))
    assert int8.delta["macs"] == 1.0 and int8.delta["params"] == 1.0
    assert int8.delta["weight_bytes"] is not None and int8.delta["weight_bytes"] < 0.6
    assert int8.fidelity is not None and int8.fidelity.cosine > 0.99


def test_gpt2_unstructured_prune_zeroes_conv1d_weights(hf: dict[str, WhatIfSession]) -> None:
    r = ok(hf["gpt2"].run(Variant(prune=0.5, prune_method="unstructured")))
    assert r.prune_report is not None
    assert r.prune_report["layers_pruned"] > 0
    assert r.prune_report["sparsity"] > 0.3


def test_gpt2_int8_quantizes_conv1d_weights(hf: dict[str, WhatIfSession]) -> None:
    r = ok(hf["gpt2"].run(Variant(precision="int8")))
    assert r.delta["weight_bytes"] is not None and r.delta["weight_bytes"] < 0.6


def test_int8_keeps_the_parameter_count_of_a_tied_lm_head(hf: dict[str, WhatIfSession]) -> None:
    r = ok(hf["gpt2"].run(Variant(precision="int8")))
    assert r.delta["params"] == 1.0


def test_failed_onnx_export_writes_nothing_to_stdout(
    hf: dict[str, WhatIfSession], capfd: pytest.CaptureFixture[str]
) -> None:
    capfd.readouterr()
    r = hf["llama"].run(Variant(precision="int8", runtime="onnxruntime"))  # GQA attention does not export
    out = capfd.readouterr().out
    assert "ONNX" in failed(r)
    assert "Torch IR graph" not in out and out == ""


# --- an ONNX model ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def onnx_mlp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, WhatIfSession]]:
    pytest.importorskip("onnxruntime")
    path = tmp_path_factory.mktemp("onnx") / "mlp.onnx"
    module = load_model("demo:mlp").module
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (torch.randn(1, 1, 28, 28),), str(path), input_names=["x"], dynamo=False)
    for session in _session(str(path), FAST):
        yield path, session


def test_onnx_structured_prune_is_a_clean_error_naming_the_reason(onnx_mlp: tuple[Path, WhatIfSession]) -> None:
    _, session = onnx_mlp
    message = failed(session.run(Variant(prune=0.5)))
    assert "nn.Module" in message and "unstructured" in message
    assert "nn.Module" in failed(
        session.run(Variant(prune=0.5, prune_method="unstructured", layer_prune=(("fc1", 0.5),)))
    )
    assert "fp16" in failed(session.run(Variant(precision="fp16")))


def test_onnx_with_runtime_torch_is_a_clean_error(onnx_mlp: tuple[Path, WhatIfSession]) -> None:
    _, session = onnx_mlp
    assert "onnxruntime" in failed(session.run(Variant(runtime="torch")))


def test_onnx_unstructured_prune_zeroes_weights_and_keeps_params(onnx_mlp: tuple[Path, WhatIfSession]) -> None:
    from onnx import load, numpy_helper

    from profiler.onnx_backend.transforms import prune_onnx_unstructured

    path, session = onnx_mlp
    r = ok(session.run(Variant(prune=0.5, prune_method="unstructured")))
    p, b = r.profile, r.baseline
    assert p is not None and b is not None
    assert p.totals.params == b.totals.params and p.totals.macs == b.totals.macs
    assert r.prune_report is not None and r.prune_report["sparsity"] == pytest.approx(0.5, abs=0.001)
    assert r.effective_macs is not None and r.effective_macs == pytest.approx(p.totals.macs / 2, rel=0.02)
    assert r.fidelity is not None and r.fidelity.cosine < 1.0
    assert any("latency does not change" in n for n in r.notes)
    # the file itself: half of the contraction weights are now exactly zero
    out, density, considered, zeroed = prune_onnx_unstructured(path, path.with_name("pruned.onnx"), 0.5)
    weights = [numpy_helper.to_array(i) for i in load(str(out)).graph.initializer if i.dims and len(i.dims) == 2]
    total = sum(w.size for w in weights)
    assert total == considered and zeroed == pytest.approx(total / 2, abs=2)
    assert sum(int((w == 0).sum()) for w in weights) == zeroed
    assert all(0.3 < d < 0.7 for d in density.values()), density


def test_onnx_int8_runs(onnx_mlp: tuple[Path, WhatIfSession]) -> None:
    _, session = onnx_mlp
    r = ok(session.run(Variant(precision="int8")))
    assert r.profile is not None and r.profile.config.runtime == "onnxruntime"
    assert r.profile.totals.latency_ms is not None
    assert r.delta["weight_bytes"] is not None and r.delta["weight_bytes"] < 0.3
    assert r.fidelity is not None and r.fidelity.cosine > 0.99


def test_onnx_variant_peak_memory_is_comparable_with_the_baseline(onnx_mlp: tuple[Path, WhatIfSession]) -> None:
    _, session = onnx_mlp
    # zeroed weights: the same dense tensors as the baseline, so the same memory, give or take
    for _ in range(3):
        r = ok(session.run(Variant(prune=0.3, prune_method="unstructured")))
        assert r.profile is not None and r.profile.totals.peak_memory_bytes != 0
        d = r.delta["peak_memory"]
        assert d is None or 0.5 <= d <= 2.0, (d, r.profile.totals.peak_memory_bytes)


# --- fidelity on arrays -----------------------------------------------------------------------------


def test_compare_identical_outputs() -> None:
    a = np.arange(40, dtype=np.float64).reshape(4, 10) / 7.0
    f = compare(a, a.copy())
    assert (f.cosine, f.max_abs_error, f.max_rel_error, f.top1_agreement) == (1.0, 0.0, 0.0, 1.0)
    assert f.accuracy is None and f.baseline_accuracy is None
    assert Fidelity.from_dict(f.to_dict()) == f


def test_compare_identical_random_outputs_is_exactly_one() -> None:
    for seed in range(20):
        a = np.random.default_rng(seed).standard_normal((4, 10))
        assert compare(a, a.copy()).cosine == 1.0, seed


def test_compare_labels_give_accuracy_of_both() -> None:
    base = np.array([[0.9, 0.1, 0.0], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6], [0.5, 0.4, 0.1]])
    var = np.array([[0.9, 0.1, 0.0], [0.1, 0.8, 0.1], [0.7, 0.2, 0.1], [0.1, 0.8, 0.1]])
    y = np.array([0, 1, 2, 0])
    f = compare(base, var, y)
    assert f.baseline_accuracy == 1.0  # argmax 0,1,2,0
    assert f.accuracy == 0.5  # argmax 0,1,0,1
    assert f.top1_agreement == 0.5
    assert 0 < f.cosine < 1 and f.max_abs_error == pytest.approx(0.5)
    assert compare(base, var, None).accuracy is None


def test_compare_shape_mismatch_raises() -> None:
    with pytest.raises(ValueError, match="shapes differ"):
        compare(np.zeros((1, 10)), np.zeros((1, 11)))


def test_compare_non_finite_variant_is_json_safe() -> None:
    f = compare(np.ones((1, 4)), np.array([[1.0, np.inf, np.nan, 1.0]]))
    assert all(math.isfinite(x) for x in (f.cosine, f.max_abs_error, f.max_rel_error))
    json.dumps(f.to_dict(), allow_nan=False)


# --- user inputs (--inputs FILE.npz) ---------------------------------------------------------------


@pytest.fixture(scope="module")
def npz_with_labels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """8 images and labels `y` equal to the baseline's own predictions (baseline accuracy 1.0)."""
    x = np.random.default_rng(0).standard_normal((8, 1, 28, 28)).astype(np.float32)
    with torch.inference_mode():
        y = load_model("demo:mlp").module(torch.from_numpy(x)).argmax(-1).numpy()
    path = tmp_path_factory.mktemp("npz") / "samples.npz"
    np.savez(path, x=x, y=y)
    return path


def test_sample_inputs_with_labels_give_accuracy(npz_with_labels: Path) -> None:
    samples = load_sample_inputs(str(npz_with_labels))
    assert set(samples) == {"x", "y"}
    for session in _session("demo:mlp", STATIC, sample_inputs=samples):
        ident = ok(session.run(Variant()))
        assert ident.profile is not None and ident.profile.inputs[0].shape == (8, 1, 28, 28)
        assert ident.fidelity is not None and ident.fidelity.accuracy == ident.fidelity.baseline_accuracy == 1.0
        pruned = ok(session.run(Variant(prune=0.5)))
        assert pruned.fidelity is not None and pruned.fidelity.baseline_accuracy == 1.0
        assert pruned.fidelity.accuracy is not None and 0.0 <= pruned.fidelity.accuracy <= 1.0
        assert pruned.fidelity.accuracy == pruned.fidelity.top1_agreement  # labels are the baseline's answers
        static = ok(session.run(Variant(precision="int8", runtime="onnxruntime")))
        assert any("static quantization" in n for n in static.notes), static.notes
        assert static.fidelity is not None and static.fidelity.accuracy is not None
        assert static.fidelity.cosine > 0.95


def test_sample_inputs_file_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load_sample_inputs(str(tmp_path / "missing.npz"))
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(InputError, match="npz"):
        load_sample_inputs(str(bad))


def test_specs_and_inputs_follow_the_request() -> None:
    loaded = load_model("demo:mlp")
    specs = resolve_specs(loaded, ProfileRequest(batch=3))
    args, _ = make_inputs(loaded, specs)
    assert tuple(args[0].shape) == (3, 1, 28, 28)
