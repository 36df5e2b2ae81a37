"""Loading every MODEL form of docs/CONTRACT.md, counting references, input shapes, safe pickles.

Everything here is static analysis (`latency=False`) on tiny models unless the point is a
published count; the models are written into `tmp_path` by the tests themselves.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import pickle
import shlex
import warnings
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from profiler import hf_config
from profiler.analyze import ProfileRequest, profile_model
from profiler.errors import InputError
from profiler.inputs import InputTemplate, parse_shape, resolve_inputs
from profiler.loading import LoadedModel, load_model, make_inputs
from profiler.result import InputSpec, ModelInfo, Profile

HAS_ONNX_ANALYSIS = importlib.util.find_spec("profiler.onnx_backend.analysis") is not None
needs_onnx_analysis = pytest.mark.skipif(
    not HAS_ONNX_ANALYSIS, reason="profiler/onnx_analysis.py (read_onnx_inputs, analyze_onnx) is not in the tree yet"
)


# --- models and helpers (module level, so pickle finds the classes) -------------------------


class Residual(nn.Module):
    """A parent with work of its own (the add), so unflattened exports must keep its class."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.fc = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = x + self.fc(x)
        return out


class TinyNet(nn.Module):
    """1x3x8x8 -> 5. MACs per sample: conv 4*8*8*3*3*3 = 6912, res.fc 16, head 20."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.act = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flat = nn.Flatten()
        self.res = Residual(4)
        self.head = nn.Linear(4, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.head(self.res(self.flat(self.pool(self.act(self.conv(x))))))
        return out


TINY_PARAMS = (4 * 3 * 9 + 4) + (4 * 4 + 4) + (4 * 5 + 5)
TINY_CONV_MACS = 4 * 8 * 8 * 3 * 3 * 3
TINY_MACS = TINY_CONV_MACS + 4 * 4 + 4 * 5


class Attention(nn.Module):
    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return F.scaled_dot_product_attention(q, k, v, is_causal=False)


class TiedPair(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(4, 4)
        self.b = nn.Linear(4, 4)
        self.b.weight = self.a.weight  # shared: 16 weights counted once

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.b(self.a(x))
        return out


class MarkerPayload:
    """Unpickling this runs `func(*args)`: what a hostile checkpoint does."""

    def __init__(self, func: Any, args: tuple[Any, ...]) -> None:
        self.func = func
        self.args = args

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return self.func, self.args


def static(source: str | Path, *, trust: bool = False, **request: Any) -> Profile:
    """Load and count (no timing); every profile must keep its invariants."""
    loaded = load_model(str(source), trust=trust)
    profile = profile_model(loaded, ProfileRequest(latency=False, **request))
    profile.check()
    return profile


def in_memory(module: nn.Module, inputs: tuple[tuple[str, tuple[int, ...]], ...]) -> LoadedModel:
    """A LoadedModel around a module built here, with float inputs of the given shapes."""
    return LoadedModel(
        info=ModelInfo(name=type(module).__name__, source=type(module).__name__, format="python"),
        templates=tuple(InputTemplate(name=n, dims=s, dtype="float32") for n, s in inputs),
        module=module.eval(),
    )


def rows_by_name(profile: Profile) -> dict[str, Any]:
    return {r.name: r for r in profile.layers}


def export_onnx(module: nn.Module, path: Path, shape: tuple[int, ...], dynamic: dict[int, str]) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter announces its own deprecation
        torch.onnx.export(
            module.eval(),
            (torch.randn(*shape),),
            str(path),
            dynamo=False,
            input_names=["x"],
            output_names=["y"],
            dynamic_axes={"x": dynamic, "y": {0: "batch"}},
        )
    return path


def write_json(path: Path, data: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def unique_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())  # parameters() yields a tied one once


TINY_GPT2 = {
    "model_type": "gpt2",
    "architectures": ["GPT2LMHeadModel"],
    "n_embd": 32,
    "n_layer": 2,
    "n_head": 2,
    "vocab_size": 100,
    "n_positions": 64,
    "bos_token_id": 0,
    "eos_token_id": 0,
}
TINY_BERT = {
    "model_type": "bert",
    "architectures": ["BertModel"],
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "vocab_size": 100,
    "max_position_embeddings": 64,
}
TINY_RESNET = {
    "model_type": "resnet",
    "architectures": ["ResNetModel"],
    "embedding_size": 8,
    "hidden_sizes": [8, 16],
    "depths": [1, 1],
    "num_channels": 3,
    "layer_type": "basic",
}


# --- ONNX -----------------------------------------------------------------------------------


@needs_onnx_analysis
def test_onnx_loads_with_dynamic_batch(tmp_path: Path) -> None:
    path = export_onnx(TinyNet(), tmp_path / "tiny.onnx", (1, 3, 8, 8), {0: "batch"})
    loaded = load_model(str(path))
    assert loaded.is_onnx and loaded.info.format == "onnx"
    assert loaded.info.name == "tiny"
    assert [t.name for t in loaded.templates] == ["x"]
    assert tuple(loaded.templates[0].dims[1:]) == (3, 8, 8)
    assert not isinstance(loaded.templates[0].dims[0], int) or loaded.templates[0].dims[0] <= 0  # symbolic batch

    one = profile_model(loaded, ProfileRequest(latency=False))
    one.check()
    assert one.inputs == (InputSpec("x", (1, 3, 8, 8), "float32"),)
    assert one.config.runtime == "onnxruntime"
    assert one.totals.params == TINY_PARAMS
    assert sum(r.macs for r in one.layers if r.type == "Conv") == TINY_CONV_MACS
    assert one.totals.macs >= TINY_MACS

    three = static(path, batch=3)
    assert three.inputs[0].shape == (3, 3, 8, 8)
    assert three.config.batch == 3
    assert three.totals.macs == 3 * one.totals.macs
    assert three.totals.params == one.totals.params


@needs_onnx_analysis
def test_onnx_dynamic_dim_without_value_names_it(tmp_path: Path) -> None:
    path = export_onnx(TinyNet(), tmp_path / "dyn.onnx", (1, 3, 8, 8), {0: "batch", 2: "height"})
    loaded = load_model(str(path))
    with pytest.raises(InputError) as info:
        profile_model(loaded, ProfileRequest(latency=False))
    assert "height" in str(info.value)
    assert str(path) in str(info.value)
    # Giving the whole shape resolves it.
    p = profile_model(loaded, ProfileRequest(latency=False, shapes=(("x", (2, 3, 8, 8)),)))
    assert p.inputs[0].shape == (2, 3, 8, 8)


def test_dynamic_dim_without_value_is_an_error_naming_it() -> None:
    templates = (InputTemplate(name="x", dims=("batch", 3, "height", 8), dtype="float32"),)
    with pytest.raises(InputError) as info:
        resolve_inputs(templates, file="m.onnx")
    assert "height" in str(info.value) and "m.onnx" in str(info.value) and "--input-shape" in str(info.value)
    (spec,) = resolve_inputs(templates, file="m.onnx", shapes={"x": (2, 3, 5, 8)})
    assert spec.shape == (2, 3, 5, 8)
    (spec,) = resolve_inputs(templates, file="m.onnx", shapes={None: (1, 3, 5, 8)}, batch=6)
    assert spec.shape == (6, 3, 5, 8)
    seq = (InputTemplate(name="ids", dims=("batch", "sequence_length"), dtype="int64"),)
    with pytest.raises(InputError, match="sequence_length"):
        resolve_inputs(seq, file="m.onnx")
    assert resolve_inputs(seq, file="m.onnx", seq_len=7)[0].shape == (1, 7)


# --- torch.export, TorchScript, pickles -----------------------------------------------------


def test_torch_export_keeps_paths_and_class_names(tmp_path: Path) -> None:
    path = tmp_path / "tiny.pt2"
    ep = torch.export.export(TinyNet().eval(), (torch.randn(2, 3, 8, 8),))
    torch.export.save(ep, str(path))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        with pytest.raises(InputError, match="--trust") as refused:
            load_model(str(path))  # an archive can carry code: it opens only with trust
        assert refused.value.details == {"needs_trust": True}
        p = static(path, trust=True)
    assert p.model.format == "torch.export"
    assert p.inputs[0].shape == (2, 3, 8, 8)  # the exported example's shape
    rows = rows_by_name(p)
    assert rows["conv"].type == "Conv2d" and rows["conv"].macs == 2 * TINY_CONV_MACS
    assert rows["res.fc"].type == "Linear" and rows["head"].type == "Linear"
    assert {"conv", "act", "res.fc", "head"} <= set(rows)
    assert not [r.type for r in p.layers if "InterpreterModule" in r.type or "UnflattenedModule" in r.type]
    own = [r for r in p.layers if r.name == "res"]  # the residual add, under its parent's path
    assert all(r.type.startswith("Residual") for r in own)
    assert p.totals.params == TINY_PARAMS
    assert p.totals.macs == 2 * TINY_MACS


@pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")
@pytest.mark.parametrize("suffix", [".pt", ".ts"])
def test_torchscript_needs_shapes_then_counts(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"traced{suffix}"
    torch.jit.trace(TinyNet().eval(), torch.randn(1, 3, 8, 8)).save(str(path))  # type: ignore[no-untyped-call]
    with pytest.raises(InputError, match="--trust") as refused:
        load_model(str(path))  # compiled code: it opens only with trust
    assert refused.value.details == {"needs_trust": True}
    loaded = load_model(str(path), trust=True)
    assert loaded.info.format == "torchscript"
    with pytest.raises(InputError, match="--input-shape"):
        profile_model(loaded, ProfileRequest(latency=False))
    p = static(path, trust=True, shapes=((None, (2, 3, 8, 8)),))
    assert p.inputs[0].shape == (2, 3, 8, 8)
    assert p.totals.params == TINY_PARAMS
    assert p.totals.macs == 2 * TINY_MACS


@pytest.mark.parametrize("suffix", [".pt", ".pth"])
def test_pickled_module_loads_only_with_trust(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"whole{suffix}"
    torch.save(TinyNet(), str(path))
    with pytest.raises(InputError, match="--trust"):
        load_model(str(path))
    loaded = load_model(str(path), trust=True)
    assert loaded.info.format == "pickle"
    assert isinstance(loaded.module, TinyNet) and not loaded.module.training
    p = static(path, trust=True, shapes=((None, (1, 3, 8, 8)),))
    assert p.totals.params == TINY_PARAMS and p.totals.macs == TINY_MACS
    assert rows_by_name(p)["conv"].type == "Conv2d"


def _write_hostile(kind: str, path: Path, payload: MarkerPayload) -> None:
    if kind == "raw pickle":
        path.write_bytes(pickle.dumps(payload))
    else:  # torch's zip format, as torch.save writes it
        torch.save(payload, str(path))


@pytest.mark.parametrize("suffix", [".pt", ".pth"])
@pytest.mark.parametrize("kind", ["raw pickle", "torch zip"])
@pytest.mark.parametrize("how", ["os.system", "open"])
def test_hostile_pickle_never_runs(tmp_path: Path, suffix: str, kind: str, how: str) -> None:
    marker = tmp_path / "PWNED"
    if how == "os.system":
        payload = MarkerPayload(os.system, (f"touch {shlex.quote(str(marker))}",))
    else:
        payload = MarkerPayload(open, (str(marker), "w"))
    path = tmp_path / f"evil{suffix}"
    _write_hostile(kind, path, payload)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(InputError) as info:
            load_model(str(path))
    assert "--trust" in str(info.value)
    assert str(path) in str(info.value)
    assert not marker.exists(), "the pickle ran code without --trust"
    # The payload is live: a plain unpickle does create the file (so the test above means something).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "raw pickle":
            obj = pickle.loads(path.read_bytes())
        else:
            obj = torch.load(str(path), weights_only=False)
    if hasattr(obj, "close"):
        obj.close()
    assert marker.exists()


@pytest.mark.parametrize("suffix", [".pt", ".pth"])
def test_state_dict_is_refused_asking_for_the_architecture(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"weights{suffix}"
    torch.save(TinyNet().state_dict(), str(path))
    with pytest.raises(InputError) as info:
        load_model(str(path))
    text = str(info.value)
    assert str(path) in text and "architecture" in text and ".py" in text
    with pytest.raises(InputError, match="architecture"):
        load_model(str(path), trust=True)  # trusting it does not make weights a model


# --- the user's Python factory --------------------------------------------------------------

FACTORY = """
import torch
from torch import nn


def build_model():
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))


def make():
    return nn.Sequential(nn.Linear(8, 4)), (torch.randn(3, 8),)


def make_pair():
    return nn.Bilinear(5, 6, 2), [torch.randn(2, 5), torch.randn(2, 6)]
"""


def test_py_factory_default_build_model(tmp_path: Path) -> None:
    path = tmp_path / "factory.py"
    path.write_text(FACTORY)
    loaded = load_model(str(path))
    assert loaded.info.format == "python" and loaded.info.name == "factory"
    assert not loaded.module.training
    with pytest.raises(InputError, match="--input-shape"):
        profile_model(loaded, ProfileRequest(latency=False))  # a bare module declares no inputs
    p = static(path, shapes=((None, (2, 8)),))
    assert p.totals.params == (8 * 16 + 16) + (16 * 2 + 2)
    assert p.totals.macs == 2 * (8 * 16 + 16 * 2)
    assert [r.name for r in p.layers] == ["0", "1", "2"]


def test_py_factory_named_callable_with_example_inputs(tmp_path: Path) -> None:
    path = tmp_path / "factory.py"
    path.write_text(FACTORY)
    p = static(f"{path}:make")
    assert p.model.source == f"{path}:make"
    assert p.inputs == (InputSpec("input0", (3, 8), "float32"),)
    assert p.totals.params == 8 * 4 + 4 and p.totals.macs == 3 * 8 * 4
    p2 = static(f"{path}:make", batch=5)
    assert p2.inputs[0].shape == (5, 8) and p2.totals.macs == 5 * 8 * 4
    pair = static(f"{path}:make_pair")
    assert [i.shape for i in pair.inputs] == [(2, 5), (2, 6)]
    assert pair.totals.params == 5 * 6 * 2 + 2


def test_py_factory_missing_callable(tmp_path: Path) -> None:
    path = tmp_path / "factory.py"
    path.write_text(FACTORY)
    with pytest.raises(InputError, match="nope"):
        load_model(f"{path}:nope")


# --- Hugging Face configs -------------------------------------------------------------------


def test_hf_config_folder_gpt2_with_tied_head(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    folder = tmp_path / "tiny-gpt2"
    write_json(folder / "config.json", TINY_GPT2)
    loaded = load_model(str(folder))
    assert loaded.info.format == "hf-config" and loaded.keyword_inputs and not loaded.on_meta
    expected = unique_params(loaded.module)
    p = profile_model(loaded, ProfileRequest(latency=False, batch=2, seq_len=16))
    p.check()
    assert p.inputs == (InputSpec("input_ids", (2, 16), "int64"),)
    assert p.totals.params == expected == 30_720
    rows = rows_by_name(p)
    assert rows["lm_head"].params == rows["transformer.wte"].params == 100 * 32  # tied: both rows show it
    assert sum(r.params for r in p.layers) == p.totals.params + 100 * 32
    assert p.unsupported_ops == {}
    # Token ids stay below the vocabulary, and go in by name.
    args, kwargs = make_inputs(loaded, p.inputs)
    assert args == () and set(kwargs) == {"input_ids"}
    assert int(kwargs["input_ids"].max()) < 100 and int(kwargs["input_ids"].min()) >= 0


def test_hf_config_json_file_bert(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    path = write_json(tmp_path / "bert" / "config.json", TINY_BERT)
    loaded = load_model(str(path))
    assert loaded.info.format == "hf-config" and loaded.info.name == "BertModel"
    p = profile_model(loaded, ProfileRequest(latency=False))
    p.check()
    assert p.inputs == (InputSpec("input_ids", (1, 64), "int64"),)  # min(128, max_position_embeddings)
    assert p.totals.params == unique_params(loaded.module)
    assert p.totals.macs > 0 and p.unsupported_ops == {}


def test_hf_config_vision_resnet(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    path = write_json(tmp_path / "resnet.json", TINY_RESNET)
    p = static(path)
    assert p.inputs == (InputSpec("pixel_values", (1, 3, 224, 224), "float32"),)
    small = static(path, shapes=((None, (2, 3, 32, 32)),))
    assert small.inputs[0].shape == (2, 3, 32, 32)
    assert 0 < small.totals.macs < p.totals.macs
    assert small.totals.params == p.totals.params


def test_hf_gpt2_small_counts_exactly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("transformers")
    config = {
        "model_type": "gpt2",
        "architectures": ["GPT2LMHeadModel"],
        "n_embd": 768,
        "n_layer": 12,
        "n_head": 12,
        "vocab_size": 50257,
        "n_positions": 1024,
    }
    path = write_json(tmp_path / "gpt2" / "config.json", config)
    monkeypatch.setattr(hf_config, "META_MEMORY_SHARE", 0.0)  # count on meta: same numbers, no 500 MB init
    loaded = load_model(str(path))
    assert loaded.on_meta
    p = profile_model(loaded, ProfileRequest(latency=True))
    p.check()
    assert p.totals.params == 124_439_808
    assert p.totals.latency_ms is None and p.totals.peak_memory_bytes is None
    s, d, layers, vocab = 128, 768, 12, 50257
    per_layer = s * d * 3 * d + 2 * s * s * d + s * d * d + 2 * s * d * 4 * d  # qkv, QK^T + AV, proj, mlp
    assert p.totals.macs == layers * per_layer + s * d * vocab
    assert p.totals.flops == 2 * p.totals.macs


def test_llama2_7b_config_on_meta(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("transformers")
    import psutil

    config = {
        "model_type": "llama",
        "architectures": ["LlamaForCausalLM"],
        "hidden_size": 4096,
        "intermediate_size": 11008,
        "num_attention_heads": 32,
        "num_hidden_layers": 32,
        "num_key_value_heads": 32,
        "vocab_size": 32000,
        "max_position_embeddings": 4096,
        "tie_word_embeddings": False,
    }
    path = write_json(tmp_path / "llama-2-7b" / "config.json", config)
    if 27e9 < hf_config.META_MEMORY_SHARE * psutil.virtual_memory().available:
        # A machine with > 67 GB free would build it for real; this test is about the meta path.
        monkeypatch.setattr(hf_config, "META_MEMORY_SHARE", 0.0)
    loaded = load_model(str(path))
    assert loaded.on_meta
    assert any("meta" in w for w in loaded.warnings)
    p = profile_model(loaded, ProfileRequest())  # latency asked for, and still not faked
    p.check()
    assert p.totals.params == 6_738_415_616
    assert p.totals.latency_ms is None
    assert p.totals.peak_memory_bytes is None
    assert p.latency_source != "measured"
    assert all(r.latency_ms is None for r in p.layers)
    s, d, ff, layers, vocab = 128, 4096, 11008, 32, 32000
    per_layer = 4 * s * d * d + 2 * s * s * d + 3 * s * d * ff  # q,k,v,o; QK^T + AV; gate, up, down
    assert p.totals.macs == layers * per_layer + s * d * vocab
    assert p.unsupported_ops == {}
    assert json.loads(json.dumps(p.to_dict()))["totals"]["latency_ms"] is None


# --- demos and the counting references ------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "params", "macs"),
    [
        ("mlp", 784 * 512 + 512 + 512 * 256 + 256 + 256 * 10 + 10, 784 * 512 + 512 * 256 + 256 * 10),
        ("resnet18", 11_689_512, 1.814e9),
        ("mobilenetv2", 3_504_872, 0.3007e9),
    ],
)
def test_demo_loads_and_counts(name: str, params: int, macs: float) -> None:
    p = static(f"demo:{name}")
    assert p.model.format == "demo" and p.model.source == f"demo:{name}" and p.model.name == name
    assert p.totals.params == params
    assert p.totals.macs == pytest.approx(macs, rel=0.01)
    assert p.totals.flops == 2 * p.totals.macs
    assert p.unsupported_ops == {}
    assert all(r.counted for r in p.layers)


def test_resnet50_reference() -> None:
    p = static("demo:resnet50")
    assert p.totals.params == 25_557_032
    assert p.totals.macs == pytest.approx(4.089e9, rel=0.01)
    assert p.unsupported_ops == {}
    assert "layer4.2.conv3" in rows_by_name(p)


def test_gpt_small_reference_on_real_cpu_tensors() -> None:
    # Runs the real CPU forward, where SDPA dispatches to the fused flash kernel.
    p = static("demo:gpt-small")
    assert p.totals.params == 124_439_808
    assert p.unsupported_ops == {}
    s, d = 128, 768
    per_layer = s * d * 3 * d + 2 * s * s * d + s * d * d + 2 * s * d * 4 * d
    assert p.totals.macs == 12 * per_layer + s * d * 50257
    rows = rows_by_name(p)
    assert rows["lm_head"].params == rows["wte"].params == 50257 * 768  # tied
    assert sum(r.params for r in p.layers) == p.totals.params + 50257 * 768


def test_unknown_demo_lists_the_choices() -> None:
    with pytest.raises(InputError) as info:
        load_model("demo:nope")
    assert "demo:nope" in str(info.value) and "resnet18" in str(info.value)


# --- attention and tied weights -------------------------------------------------------------


@pytest.mark.parametrize("shape", [(2, 3, 5, 7, 8, 6), (1, 4, 16, 16, 32, 32)])
def test_sdpa_counts_the_attention_matmuls(shape: tuple[int, ...]) -> None:
    b, h, lq, s, e, ev = shape
    loaded = in_memory(Attention(), (("q", (b, h, lq, e)), ("k", (b, h, s, e)), ("v", (b, h, s, ev))))
    p = profile_model(loaded, ProfileRequest(latency=False))
    p.check()
    assert p.totals.macs == b * h * lq * s * e + b * h * lq * s * ev  # Q K^T + A V
    assert p.unsupported_ops == {}
    assert all(r.counted for r in p.layers)


def test_transformer_encoder_layer_in_eval_is_counted() -> None:
    b, s, d, heads, ff = 2, 5, 16, 2, 32
    layer = nn.TransformerEncoderLayer(d, heads, ff, batch_first=True)
    loaded = in_memory(layer, (("src", (b, s, d)),))
    p = profile_model(loaded, ProfileRequest(latency=False))
    p.check()
    assert p.totals.macs > 0
    assert p.unsupported_ops == {} and all(r.counted for r in p.layers)
    tokens = b * s
    expected = tokens * d * 3 * d + 2 * b * s * s * d + tokens * d * d + 2 * tokens * d * ff
    assert p.totals.macs == expected
    assert p.totals.params == unique_params(layer)


def test_tied_weights_count_once_in_totals() -> None:
    p = profile_model(in_memory(TiedPair(), (("x", (3, 4)),)), ProfileRequest(latency=False))
    p.check()
    rows = rows_by_name(p)
    assert rows["a"].params == rows["b"].params == 20
    assert p.totals.params == 16 + 4 + 4
    assert p.totals.weight_bytes == 4 * p.totals.params


# --- input shapes ---------------------------------------------------------------------------


def test_shape_overrides_on_a_demo() -> None:
    base = static("demo:mlp")
    assert base.inputs == (InputSpec("x", (1, 1, 28, 28), "float32"),)
    batched = static("demo:mlp", batch=3)
    assert batched.inputs[0].shape == (3, 1, 28, 28) and batched.config.batch == 3
    assert batched.totals.macs == 3 * base.totals.macs
    shaped = static("demo:mlp", shapes=((None, (2, 1, 28, 28)),))
    assert shaped.inputs[0].shape == (2, 1, 28, 28) and shaped.totals.macs == 2 * base.totals.macs
    named = static("demo:mlp", shapes=(("x", (4, 1, 28, 28)),), batch=6)  # --batch wins over the shape's first dim
    assert named.inputs[0].shape == (6, 1, 28, 28) and named.totals.macs == 6 * base.totals.macs
    with pytest.raises(InputError, match="4 dimensions"):
        static("demo:mlp", shapes=((None, (1, 784)),))
    with pytest.raises(InputError, match="no input named 'y'"):
        static("demo:mlp", shapes=(("y", (1, 1, 28, 28)),))


def test_seq_len_override_on_tokens(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    folder = tmp_path / "g"
    write_json(folder / "config.json", TINY_GPT2)
    short = static(folder, seq_len=8)
    assert short.inputs[0].shape == (1, 8) and short.config.seq_len == 8
    longer = static(folder, seq_len=32, batch=2)
    assert longer.inputs[0].shape == (2, 32)
    # 8x the tokens: the projections scale 8x, the attention matmuls 32x.
    assert 8 * short.totals.macs < longer.totals.macs < 32 * short.totals.macs


@pytest.mark.parametrize(
    ("text", "dims"),
    [("1x3x224x224", (1, 3, 224, 224)), ("1,3,224,224", (1, 3, 224, 224)), (" 2×7 ", (2, 7)), ("5", (5,))],
)
def test_parse_shape(text: str, dims: tuple[int, ...]) -> None:
    assert parse_shape(text) == dims


@pytest.mark.parametrize("text", ["", "1x", "ax3", "1x0x3", "1x-3", "1.5x2", "1xx2"])
def test_parse_shape_rejects(text: str) -> None:
    with pytest.raises(InputError, match="--input-shape"):
        parse_shape(text)


# --- the JSON document ----------------------------------------------------------------------


def test_profile_json_round_trip_with_latency() -> None:
    loaded = load_model("demo:mlp")
    p = profile_model(loaded, ProfileRequest(budget_s=0.3, layer_runs=2))
    p.check()
    assert p.totals.latency_ms is not None and p.environment is not None
    doc = json.loads(json.dumps(p.to_dict()))
    assert doc["schema"] == "tradeoff.profile/1"
    back = Profile.from_dict(doc)
    assert back == p
    back.check()
    assert back.to_dict() == doc


def test_profile_json_round_trip_static_and_nulls() -> None:
    p = static("demo:mlp")
    doc = json.loads(json.dumps(p.to_dict()))
    assert doc["totals"]["latency_ms"] is None and doc["totals"]["peak_memory_bytes"] is None
    assert all(row["latency_ms"] is None for row in doc["layers"])
    back = Profile.from_dict(doc)
    assert back == p
    back.check()
    mutated = dataclasses.replace(p, totals=dataclasses.replace(p.totals, macs=p.totals.macs + 1))
    with pytest.raises(AssertionError):
        mutated.check()
