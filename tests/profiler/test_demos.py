"""Tests for the built-in demo models: exact public parameter counts, shapes, meta, laziness."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from profiler.demos import DEMO_NAMES, DemoSpec, build_demo, demo_spec

REPO_ROOT = Path(__file__).resolve().parents[2]

# Parameter counts of torchvision's resnet18/resnet50/mobilenet_v2 and HF's gpt2 (tied head).
EXPECTED_PARAMS: dict[str, int] = {
    "resnet18": 11_689_512,
    "resnet50": 25_557_032,
    "mobilenetv2": 3_504_872,
    "gpt-small": 124_439_808,
    "digits-cnn": 40_618,
    "mlp": 784 * 512 + 512 + 512 * 256 + 256 + 256 * 10 + 10,
}


def _param_count(model: torch.nn.Module) -> int:
    # parameters() yields a tied parameter once, which is what "unique params" means.
    return sum(p.numel() for p in model.parameters())


def _example_inputs(spec: DemoSpec, seq_len: int | None = None) -> tuple[torch.Tensor, ...]:
    tensors: list[torch.Tensor] = []
    for index, (_, shape, dtype_name) in enumerate(spec.inputs):
        sizes = list(shape)
        if seq_len is not None and spec.seq_dim is not None and spec.seq_dim[0] == index:
            sizes[spec.seq_dim[1]] = seq_len
        dtype = getattr(torch, dtype_name)
        if spec.vocab_size is not None:
            tensors.append(torch.randint(0, spec.vocab_size, sizes, dtype=dtype))
        else:
            tensors.append(torch.randn(sizes, dtype=dtype))
    return tuple(tensors)


def test_demo_names() -> None:
    assert DEMO_NAMES == ("resnet18", "resnet50", "mobilenetv2", "gpt-small", "digits-cnn", "mlp")
    assert set(EXPECTED_PARAMS) == set(DEMO_NAMES)


@pytest.mark.parametrize("name", DEMO_NAMES)
def test_param_counts_exact(name: str) -> None:
    model = build_demo(name, device="meta")
    assert _param_count(model) == EXPECTED_PARAMS[name]


@pytest.mark.parametrize("name", DEMO_NAMES)
def test_meta_build(name: str) -> None:
    model = build_demo(name, device="meta")
    assert not model.training
    assert all(p.is_meta for p in model.parameters())
    assert all(b.is_meta for b in model.buffers())
    spec = demo_spec(name)
    inputs = tuple(t.to("meta") for t in _example_inputs(spec))
    with torch.no_grad():
        out = model(*inputs)
    assert out.is_meta


@pytest.mark.parametrize(
    ("name", "seq_len", "expected_shape"),
    [
        ("resnet18", None, (1, 1000)),
        ("resnet50", None, (1, 1000)),
        ("mobilenetv2", None, (1, 1000)),
        ("gpt-small", 16, (1, 16, 50257)),
        ("mlp", None, (1, 10)),
    ],
)
def test_cpu_forward_shape(name: str, seq_len: int | None, expected_shape: tuple[int, ...]) -> None:
    model = build_demo(name)
    assert not model.training
    assert _param_count(model) == EXPECTED_PARAMS[name]
    inputs = _example_inputs(demo_spec(name), seq_len=seq_len)
    with torch.no_grad():
        out = model(*inputs)
    assert tuple(out.shape) == expected_shape
    assert out.dtype == torch.float32
    assert torch.isfinite(out).all()
    if name == "gpt-small":
        # Checked here rather than in a second 124 M-parameter CPU build.
        assert model.get_parameter("lm_head.weight") is model.get_parameter("wte.weight")


def test_gpt_default_input_shape_on_meta() -> None:
    spec = demo_spec("gpt-small")
    assert spec.inputs == (("input_ids", (1, 128), "int64"),)
    assert spec.seq_dim == (0, 1)
    assert spec.vocab_size == 50257
    model = build_demo("gpt-small", device="meta")
    with torch.no_grad():
        out = model(torch.zeros(1, 128, dtype=torch.int64, device="meta"))
    assert tuple(out.shape) == (1, 128, 50257)


def test_gpt_lm_head_tied_on_meta() -> None:
    model = build_demo("gpt-small", device="meta")
    assert model.get_parameter("lm_head.weight") is model.get_parameter("wte.weight")


def test_gpt_module_names() -> None:
    names = {name for name, _ in build_demo("gpt-small", device="meta").named_modules()}
    for expected in (
        "wte",
        "wpe",
        "drop",
        "h.0.ln_1",
        "h.0.attn.c_attn",
        "h.0.attn.c_proj",
        "h.0.ln_2",
        "h.0.mlp.c_fc",
        "h.0.mlp.act",
        "h.0.mlp.c_proj",
        "h.11.mlp.c_proj",
        "ln_f",
        "lm_head",
    ):
        assert expected in names
    act = dict(build_demo("gpt-small", device="meta").named_modules())["h.0.mlp.act"]
    assert isinstance(act, torch.nn.GELU) and act.approximate == "tanh"


def test_resnet18_module_names_match_torchvision() -> None:
    names = {name for name, _ in build_demo("resnet18", device="meta").named_modules()}
    for expected in (
        "conv1",
        "bn1",
        "relu",
        "maxpool",
        "layer1.0.conv1",
        "layer1.0.bn1",
        "layer1.0.relu",
        "layer1.0.conv2",
        "layer1.0.bn2",
        "layer2.0.downsample.0",
        "layer2.0.downsample.1",
        "layer4.1.bn2",
        "avgpool",
        "fc",
    ):
        assert expected in names
    assert "layer1.0.downsample" not in names  # torchvision: no downsample in layer1 of R18


def test_resnet50_module_names_match_torchvision() -> None:
    modules = dict(build_demo("resnet50", device="meta").named_modules())
    assert "layer1.0.downsample.0" in modules
    assert "layer4.2.conv3" in modules
    # v1.5: the stride sits on the 3x3 conv, not on the first 1x1.
    assert modules["layer2.0.conv1"].stride == (1, 1)
    assert modules["layer2.0.conv2"].stride == (2, 2)


def test_mobilenetv2_module_names_match_torchvision() -> None:
    modules = dict(build_demo("mobilenetv2", device="meta").named_modules())
    for expected in (
        "features.0.0",
        "features.0.1",
        "features.0.2",
        "features.1.conv.0.0",
        "features.1.conv.1",
        "features.1.conv.2",
        "features.2.conv.0.0",
        "features.2.conv.1.0",
        "features.2.conv.2",
        "features.2.conv.3",
        "features.18.0",
        "classifier.0",
        "classifier.1",
    ):
        assert expected in modules
    assert "features.19" not in modules
    assert isinstance(modules["features.0.2"], torch.nn.ReLU6)
    assert isinstance(modules["classifier.0"], torch.nn.Dropout)


def test_mlp_module_names() -> None:
    names = [name for name, _ in build_demo("mlp", device="meta").named_children()]
    assert names == ["flatten", "fc1", "act1", "fc2", "act2", "head"]


def test_build_is_seeded_and_leaves_caller_rng_alone() -> None:
    torch.manual_seed(123)
    before = torch.get_rng_state()
    first = build_demo("mlp")
    assert torch.equal(torch.get_rng_state(), before)
    second = build_demo("mlp")
    for a, b in zip(first.parameters(), second.parameters(), strict=True):
        assert torch.equal(a, b)


def test_demo_model_pickles() -> None:
    # ModelFormat.PICKLE: a saved demo must load back, so its classes must be importable.
    model = build_demo("resnet18")
    buffer = io.BytesIO()
    torch.save(model, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=False)
    assert type(loaded).__name__ == "ResNet"
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(model(x), loaded(x))


def test_import_does_not_import_torch() -> None:
    code = "import sys, profiler.demos; assert 'torch' not in sys.modules, 'torch imported'"
    result = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        cwd=REPO_ROOT,
        env={"PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_spec_lookup_does_not_import_torch() -> None:
    code = (
        "import sys\n"
        "from profiler.demos import DEMO_NAMES, demo_spec\n"
        "specs = [demo_spec(n) for n in DEMO_NAMES]\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        cwd=REPO_ROOT,
        env={"PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_unknown_name_raises_key_error() -> None:
    with pytest.raises(KeyError):
        demo_spec("no-such-model")
    with pytest.raises(KeyError):
        build_demo("no-such-model")
    with pytest.raises(KeyError):
        build_demo("no-such-model", device="meta")


def test_specs_are_consistent() -> None:
    for name in DEMO_NAMES:
        spec = demo_spec(name)
        assert spec.name == name
        assert spec.description
        assert spec.inputs
        if spec.seq_dim is not None:
            index, dim = spec.seq_dim
            assert 0 <= dim < len(spec.inputs[index][1])
            assert spec.vocab_size is not None
        if spec.image_dims is not None:
            index, h_dim, w_dim = spec.image_dims
            shape = spec.inputs[index][1]
            assert (shape[h_dim], shape[w_dim]) == (224, 224)
