"""Built-in demo models: public architectures re-implemented in plain torch.

Why plain torch: the PyPI torchvision wheel does not import against the CPU torch build, and
demos must work offline, so nothing here downloads weights. The architectures match
torchvision's ResNet-18/50 and MobileNetV2 and GPT-2 small module for module (same submodule
names, same parameter counts), so profiles of a demo read like profiles of the real model.

Importing this module does not import torch (the app and CLI list demos before torch is
loaded): the `nn.Module` classes are defined on first use by `_classes()`, and the module's
`__getattr__` exposes them as `profiler.demos.BasicBlock` etc. so that pickling a demo model
(`torch.save(model)`) finds its classes again.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

__all__ = ["DEMO_NAMES", "DemoSpec", "build_demo", "demo_spec"]


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

_GPT2_VOCAB_SIZE = 50257
_GPT2_MAX_SEQ_LEN = 1024

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
            vocab_size=_GPT2_VOCAB_SIZE,
            max_seq_len=_GPT2_MAX_SEQ_LEN,
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

_CLASS_NAMES = (
    "BasicBlock",
    "Bottleneck",
    "ResNet",
    "Conv2dNormActivation",
    "InvertedResidual",
    "MobileNetV2",
    "CausalSelfAttention",
    "GPTMLP",
    "GPTBlock",
    "GPT",
)


def __getattr__(name: str) -> Any:
    # PEP 562: resolves `profiler.demos.ResNet` (as pickle does) without eager torch import.
    if name in _CLASS_NAMES:
        return _classes()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _make_divisible(value: float, divisor: int, min_value: int | None = None) -> int:
    """Round a channel count to a multiple of `divisor`, as torchvision's MobileNetV2 does."""
    if min_value is None:
        min_value = divisor
    new_value = max(min_value, int(value + divisor / 2) // divisor * divisor)
    # Rounding down must not remove more than 10% of the channels.
    if new_value < 0.9 * value:
        new_value += divisor
    return new_value


@functools.cache
def _classes() -> dict[str, type[torch.nn.Module]]:
    """Define the demo `nn.Module` classes (imports torch); cached, so defined once."""
    import torch
    import torch.nn.functional as F
    from torch import Tensor, nn

    # --- ResNet (torchvision.models.resnet, v1.5: stride on the 3x3 conv of Bottleneck) ------

    def conv3x3(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
        return nn.Conv2d(in_planes, out_planes, 3, stride=stride, padding=1, bias=False)

    def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
        return nn.Conv2d(in_planes, out_planes, 1, stride=stride, bias=False)

    class BasicBlock(nn.Module):
        expansion: int = 1

        def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
            super().__init__()
            self.conv1 = conv3x3(inplanes, planes, stride)
            self.bn1 = nn.BatchNorm2d(planes)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = conv3x3(planes, planes)
            self.bn2 = nn.BatchNorm2d(planes)
            self.downsample = downsample
            self.stride = stride

        def forward(self, x: Tensor) -> Tensor:
            identity = x
            out: Tensor = self.conv1(x)
            out = self.bn1(out)
            out = self.relu(out)
            out = self.conv2(out)
            out = self.bn2(out)
            if self.downsample is not None:
                identity = self.downsample(x)
            out += identity
            out = self.relu(out)
            return out

    class Bottleneck(nn.Module):
        expansion: int = 4

        def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
            super().__init__()
            self.conv1 = conv1x1(inplanes, planes)
            self.bn1 = nn.BatchNorm2d(planes)
            self.conv2 = conv3x3(planes, planes, stride)
            self.bn2 = nn.BatchNorm2d(planes)
            self.conv3 = conv1x1(planes, planes * self.expansion)
            self.bn3 = nn.BatchNorm2d(planes * self.expansion)
            self.relu = nn.ReLU(inplace=True)
            self.downsample = downsample
            self.stride = stride

        def forward(self, x: Tensor) -> Tensor:
            identity = x
            out: Tensor = self.conv1(x)
            out = self.bn1(out)
            out = self.relu(out)
            out = self.conv2(out)
            out = self.bn2(out)
            out = self.relu(out)
            out = self.conv3(out)
            out = self.bn3(out)
            if self.downsample is not None:
                identity = self.downsample(x)
            out += identity
            out = self.relu(out)
            return out

    class ResNet(nn.Module):
        def __init__(
            self,
            block: type[BasicBlock | Bottleneck],
            layers: list[int],
            num_classes: int = 1000,
        ) -> None:
            super().__init__()
            self.inplanes = 64
            self.conv1 = nn.Conv2d(3, self.inplanes, 7, stride=2, padding=3, bias=False)
            self.bn1 = nn.BatchNorm2d(self.inplanes)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
            self.layer1 = self._make_layer(block, 64, layers[0])
            self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
            self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
            self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(512 * block.expansion, num_classes)
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)

        def _make_layer(
            self,
            block: type[BasicBlock | Bottleneck],
            planes: int,
            blocks: int,
            stride: int = 1,
        ) -> nn.Sequential:
            downsample: nn.Module | None = None
            if stride != 1 or self.inplanes != planes * block.expansion:
                downsample = nn.Sequential(
                    conv1x1(self.inplanes, planes * block.expansion, stride),
                    nn.BatchNorm2d(planes * block.expansion),
                )
            layers: list[nn.Module] = [block(self.inplanes, planes, stride, downsample)]
            self.inplanes = planes * block.expansion
            layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
            return nn.Sequential(*layers)

        def forward(self, x: Tensor) -> Tensor:
            x = self.conv1(x)
            x = self.bn1(x)
            x = self.relu(x)
            x = self.maxpool(x)
            x = self.layer1(x)
            x = self.layer2(x)
            x = self.layer3(x)
            x = self.layer4(x)
            x = self.avgpool(x)
            x = torch.flatten(x, 1)
            x = self.fc(x)
            return x

    # --- MobileNetV2 (torchvision.models.mobilenetv2, width_mult=1.0) ------------------------

    class Conv2dNormActivation(nn.Sequential):
        def __init__(
            self,
            in_channels: int,
            out_channels: int,
            kernel_size: int = 3,
            stride: int = 1,
            groups: int = 1,
        ) -> None:
            padding = (kernel_size - 1) // 2
            super().__init__(
                nn.Conv2d(
                    in_channels,
                    out_channels,
                    kernel_size,
                    stride,
                    padding,
                    groups=groups,
                    bias=False,
                ),
                nn.BatchNorm2d(out_channels),
                nn.ReLU6(inplace=True),
            )
            self.out_channels = out_channels

    class InvertedResidual(nn.Module):
        def __init__(self, inp: int, oup: int, stride: int, expand_ratio: int) -> None:
            super().__init__()
            self.stride = stride
            hidden_dim = round(inp * expand_ratio)
            self.use_res_connect = stride == 1 and inp == oup
            layers: list[nn.Module] = []
            if expand_ratio != 1:
                layers.append(Conv2dNormActivation(inp, hidden_dim, kernel_size=1))
            layers += [
                Conv2dNormActivation(hidden_dim, hidden_dim, stride=stride, groups=hidden_dim),
                nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False),
                nn.BatchNorm2d(oup),
            ]
            self.conv = nn.Sequential(*layers)
            self.out_channels = oup
            self._is_cn = stride > 1

        def forward(self, x: Tensor) -> Tensor:
            out: Tensor = self.conv(x)
            if self.use_res_connect:
                return x + out
            return out

    class MobileNetV2(nn.Module):
        def __init__(self, num_classes: int = 1000, dropout: float = 0.2) -> None:
            super().__init__()
            input_channel = _make_divisible(32, 8)
            self.last_channel = _make_divisible(1280, 8)
            # (expand ratio t, output channels c, repeats n, first stride s)
            settings = [
                (1, 16, 1, 1),
                (6, 24, 2, 2),
                (6, 32, 3, 2),
                (6, 64, 4, 2),
                (6, 96, 3, 1),
                (6, 160, 3, 2),
                (6, 320, 1, 1),
            ]
            features: list[nn.Module] = [Conv2dNormActivation(3, input_channel, stride=2)]
            for t, c, n, s in settings:
                output_channel = _make_divisible(c, 8)
                for i in range(n):
                    features.append(InvertedResidual(input_channel, output_channel, s if i == 0 else 1, t))
                    input_channel = output_channel
            features.append(Conv2dNormActivation(input_channel, self.last_channel, kernel_size=1))
            self.features = nn.Sequential(*features)
            self.classifier = nn.Sequential(nn.Dropout(p=dropout), nn.Linear(self.last_channel, num_classes))
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out")
                    if m.bias is not None:
                        nn.init.zeros_(m.bias)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.ones_(m.weight)
                    nn.init.zeros_(m.bias)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.zeros_(m.bias)

        def forward(self, x: Tensor) -> Tensor:
            x = self.features(x)
            # Functional pool, as torchvision: there is no avgpool submodule in MobileNetV2.
            x = F.adaptive_avg_pool2d(x, (1, 1))
            x = torch.flatten(x, 1)
            x = self.classifier(x)
            return x

    # --- GPT-2 small (HF GPT2LMHeadModel layout, Linear instead of Conv1D) -------------------

    class CausalSelfAttention(nn.Module):
        def __init__(self, n_embd: int, n_head: int, dropout: float) -> None:
            super().__init__()
            self.n_embd = n_embd
            self.n_head = n_head
            self.dropout = dropout
            self.c_attn = nn.Linear(n_embd, 3 * n_embd)
            self.c_proj = nn.Linear(n_embd, n_embd)
            self.resid_dropout = nn.Dropout(dropout)

        def forward(self, x: Tensor) -> Tensor:
            batch, seq, _ = x.shape
            head_dim = self.n_embd // self.n_head
            q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
            q = q.view(batch, seq, self.n_head, head_dim).transpose(1, 2)
            k = k.view(batch, seq, self.n_head, head_dim).transpose(1, 2)
            v = v.view(batch, seq, self.n_head, head_dim).transpose(1, 2)
            y = F.scaled_dot_product_attention(
                q, k, v, dropout_p=self.dropout if self.training else 0.0, is_causal=True
            )
            y = y.transpose(1, 2).contiguous().view(batch, seq, self.n_embd)
            out: Tensor = self.resid_dropout(self.c_proj(y))
            return out

    class GPTMLP(nn.Module):
        def __init__(self, n_embd: int, dropout: float) -> None:
            super().__init__()
            self.c_fc = nn.Linear(n_embd, 4 * n_embd)
            self.act = nn.GELU(approximate="tanh")
            self.c_proj = nn.Linear(4 * n_embd, n_embd)
            self.dropout = nn.Dropout(dropout)

        def forward(self, x: Tensor) -> Tensor:
            out: Tensor = self.dropout(self.c_proj(self.act(self.c_fc(x))))
            return out

    class GPTBlock(nn.Module):
        def __init__(self, n_embd: int, n_head: int, dropout: float) -> None:
            super().__init__()
            self.ln_1 = nn.LayerNorm(n_embd, eps=1e-5)
            self.attn = CausalSelfAttention(n_embd, n_head, dropout)
            self.ln_2 = nn.LayerNorm(n_embd, eps=1e-5)
            self.mlp = GPTMLP(n_embd, dropout)

        def forward(self, x: Tensor) -> Tensor:
            x = x + self.attn(self.ln_1(x))
            x = x + self.mlp(self.ln_2(x))
            return x

    class GPT(nn.Module):
        def __init__(
            self,
            vocab_size: int = _GPT2_VOCAB_SIZE,
            n_positions: int = _GPT2_MAX_SEQ_LEN,
            n_embd: int = 768,
            n_layer: int = 12,
            n_head: int = 12,
            dropout: float = 0.1,
        ) -> None:
            super().__init__()
            self.wte = nn.Embedding(vocab_size, n_embd)
            self.wpe = nn.Embedding(n_positions, n_embd)
            self.drop = nn.Dropout(dropout)
            self.h = nn.ModuleList(GPTBlock(n_embd, n_head, dropout) for _ in range(n_layer))
            self.ln_f = nn.LayerNorm(n_embd, eps=1e-5)
            self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
            # GPT-2 init: N(0, 0.02), residual projections scaled by 1/sqrt(2 * n_layer).
            for module in self.modules():
                if isinstance(module, (nn.Linear, nn.Embedding)):
                    nn.init.normal_(module.weight, mean=0.0, std=0.02)
                if isinstance(module, nn.Linear) and module.bias is not None:
                    nn.init.zeros_(module.bias)
            for param_name, param in self.named_parameters():
                if param_name.endswith("c_proj.weight"):
                    nn.init.normal_(param, mean=0.0, std=0.02 / (2 * n_layer) ** 0.5)
            # Tied after init so the embedding keeps its own init; parameters() dedups it.
            self.lm_head.weight = self.wte.weight

        def forward(self, input_ids: Tensor) -> Tensor:
            positions = torch.arange(input_ids.shape[1], device=input_ids.device)
            x = self.drop(self.wte(input_ids) + self.wpe(positions))
            for block in self.h:
                x = block(x)
            logits: Tensor = self.lm_head(self.ln_f(x))
            return logits

    classes: dict[str, type[nn.Module]] = {
        "BasicBlock": BasicBlock,
        "Bottleneck": Bottleneck,
        "ResNet": ResNet,
        "Conv2dNormActivation": Conv2dNormActivation,
        "InvertedResidual": InvertedResidual,
        "MobileNetV2": MobileNetV2,
        "CausalSelfAttention": CausalSelfAttention,
        "GPTMLP": GPTMLP,
        "GPTBlock": GPTBlock,
        "GPT": GPT,
    }
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


_BUILDERS = {
    "resnet18": _build_resnet18,
    "resnet50": _build_resnet50,
    "mobilenetv2": _build_mobilenetv2,
    "gpt-small": _build_gpt_small,
    "mlp": _build_mlp,
}
assert tuple(_BUILDERS) == DEMO_NAMES
