"""Built-in demo models: public architectures re-implemented in plain torch.

Why plain torch: the PyPI torchvision wheel does not import against the CPU torch build, and
demos must work offline, so nothing here downloads weights. The architectures match
torchvision's ResNet-18/50 and MobileNetV2 and GPT-2 small module for module (same submodule
names, same parameter counts), so profiles of a demo read like profiles of the real model.

Importing this module does not import torch (the app and CLI list demos before torch is
loaded): the `nn.Module` classes are defined on first use by `_classes()`, and the module's
`__getattr__` exposes them as `profiler.demos.BasicBlock` etc. so that pickling a demo model
(`torch.save(model)`) finds its classes again. The architectures themselves live in
`profiler.demos_vision` (ResNet, MobileNetV2) and `profiler.demos_text` (GPT-2).
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from profiler.demos_text import GPT2_MAX_SEQ_LEN, GPT2_VOCAB_SIZE, TEXT_CLASS_NAMES, text_classes
from profiler.demos_vision import VISION_CLASS_NAMES, vision_classes

if TYPE_CHECKING:
    import torch

__all__ = ["DEMO_NAMES", "DemoSpec", "build_demo", "bundled_samples", "demo_spec"]


@dataclass(frozen=True)
class DemoSpec:
    """What a demo model takes as input, for building example inputs and sweeping shapes.

    `inputs` holds (input name, default shape, dtype name) per positional input, e.g.
    ("x", (1, 3, 224, 224), "float32"). `seq_dim` is (input index, dim) of the sequence
    length for token models; `image_dims` is (input index, H dim, W dim) for image models
    whose spatial size may vary; `vocab_size` bounds token ids to [0, vocab_size);
    `max_seq_len` is the longest sequence a token model accepts (its position table).
    """

    name: str
    description: str
    inputs: tuple[tuple[str, tuple[int, ...], str], ...]
    seq_dim: tuple[int, int] | None
    image_dims: tuple[int, int, int] | None
    vocab_size: int | None
    max_seq_len: int | None = None


_IMAGE_INPUT = (("x", (1, 3, 224, 224), "float32"),)

_SPECS: dict[str, DemoSpec] = {
    spec.name: spec
    for spec in (
        DemoSpec(
            name="resnet18",
            description="ResNet-18 image classifier (torchvision layout), 11.7 M parameters",
            inputs=_IMAGE_INPUT,
            seq_dim=None,
            image_dims=(0, 2, 3),
            vocab_size=None,
        ),
        DemoSpec(
            name="resnet50",
            description="ResNet-50 v1.5 image classifier (torchvision layout), 25.6 M parameters",
            inputs=_IMAGE_INPUT,
            seq_dim=None,
            image_dims=(0, 2, 3),
            vocab_size=None,
        ),
        DemoSpec(
            name="mobilenetv2",
            description="MobileNetV2 image classifier (torchvision layout), 3.5 M parameters",
            inputs=_IMAGE_INPUT,
            seq_dim=None,
            image_dims=(0, 2, 3),
            vocab_size=None,
        ),
        DemoSpec(
            name="gpt-small",
            description="GPT-2 small decoder returning logits, 124 M parameters (tied lm_head)",
            inputs=(("input_ids", (1, 128), "int64"),),
            seq_dim=(0, 1),
            image_dims=None,
            vocab_size=GPT2_VOCAB_SIZE,
            max_seq_len=GPT2_MAX_SEQ_LEN,
        ),
        DemoSpec(
            name="digits-cnn",
            description="Trained 8x8 handwritten-digit CNN (99.4 % held-out accuracy), 40.6 k parameters, "
            "with 360 labelled held-out samples",
            # Fixed spatial size: the head expects 64 × 2 × 2 features after two pools.
            inputs=(("x", (1, 1, 8, 8), "float32"),),
            seq_dim=None,
            image_dims=None,
            vocab_size=None,
        ),
        DemoSpec(
            name="mlp",
            description="Three-layer MLP classifier for 28x28 images, 0.5 M parameters",
            # Fixed spatial size: fc1 expects exactly 784 flattened pixels.
            inputs=(("x", (1, 1, 28, 28), "float32"),),
            seq_dim=None,
            image_dims=None,
            vocab_size=None,
        ),
    )
}

DEMO_NAMES: tuple[str, ...] = tuple(_SPECS)


def demo_spec(name: str) -> DemoSpec:
    """Return the input description of demo `name`; raise KeyError for an unknown name."""
    try:
        return _SPECS[name]
    except KeyError:
        raise KeyError(f"unknown demo {name!r}; known demos: {', '.join(DEMO_NAMES)}") from None


def build_demo(name: str, device: str = "cpu") -> torch.nn.Module:
    """Build demo `name` in eval mode with random weights seeded by `torch.manual_seed(0)`.

    Weights are initialised on the CPU and then moved to `device`, so every device gets the
    same weights; the caller's CPU random state is left as it was. `device="meta"` builds
    the structure only (no memory, no initialisation), for shape and FLOP analysis.
    Raise KeyError for an unknown name.
    """
    import torch

    demo_spec(name)  # KeyError before any work
    builder = _BUILDERS[name]
    if torch.device(device).type == "meta":
        with torch.device("meta"):
            model = builder()
    else:
        # fork_rng(devices=[]) saves and restores only the CPU generator, which is the one
        # used here because construction happens on the CPU.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            with torch.device("cpu"):
                model = builder()
        model = model.to(device)
    return model.eval()


# ---------------------------------------------------------------------------------------------
# Model classes, defined on first use so that importing this module does not import torch.

_CLASS_NAMES = VISION_CLASS_NAMES + TEXT_CLASS_NAMES


def __getattr__(name: str) -> Any:
    # PEP 562: resolves `profiler.demos.ResNet` (as pickle does) without eager torch import.
    if name in _CLASS_NAMES:
        return _classes()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@functools.cache
def _classes() -> dict[str, type[torch.nn.Module]]:
    """The demo `nn.Module` classes (imports torch), defined once and named as this module's."""
    classes = {**vision_classes(), **text_classes()}
    assert tuple(classes) == _CLASS_NAMES
    for class_name, cls in classes.items():
        # Module-level names, so pickle resolves them through this module's __getattr__.
        cls.__module__ = __name__
        cls.__qualname__ = class_name
    return classes


def _build_resnet18() -> torch.nn.Module:
    c = _classes()
    return c["ResNet"](c["BasicBlock"], [2, 2, 2, 2])


def _build_resnet50() -> torch.nn.Module:
    c = _classes()
    return c["ResNet"](c["Bottleneck"], [3, 4, 6, 3])


def _build_mobilenetv2() -> torch.nn.Module:
    return _classes()["MobileNetV2"]()


def _build_gpt_small() -> torch.nn.Module:
    return _classes()["GPT"]()


def _build_mlp() -> torch.nn.Module:
    from torch import nn

    return nn.Sequential(
        OrderedDict(
            [
                ("flatten", nn.Flatten()),
                ("fc1", nn.Linear(28 * 28, 512)),
                ("act1", nn.ReLU()),
                ("fc2", nn.Linear(512, 256)),
                ("act2", nn.ReLU()),
                ("head", nn.Linear(256, 10)),
            ]
        )
    )


def _build_digits_cnn() -> torch.nn.Module:
    import torch

    from profiler.demos_digits import build_digits_cnn, load_trained_digits_cnn

    if torch.empty(0).device.type == "meta":  # structure only: no weights to load
        return build_digits_cnn()
    return load_trained_digits_cnn()


#: Demos whose weights were trained (every other demo has random weights).
TRAINED_DEMOS = frozenset({"digits-cnn"})


def bundled_samples(name: str) -> dict[str, Any] | None:
    """Labelled samples that ship with demo `name` ({'x': …, 'y': …}), or None: the what-if
    uses them when the user gives no --inputs, so fidelity shows real accuracy."""
    if name not in TRAINED_DEMOS:
        return None
    from profiler.demos_digits import heldout_samples

    return heldout_samples()


_BUILDERS = {
    "resnet18": _build_resnet18,
    "resnet50": _build_resnet50,
    "mobilenetv2": _build_mobilenetv2,
    "gpt-small": _build_gpt_small,
    "digits-cnn": _build_digits_cnn,
    "mlp": _build_mlp,
}
assert tuple(_BUILDERS) == DEMO_NAMES
