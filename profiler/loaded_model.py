"""`LoadedModel`, what every backend works on, and the seeded inputs it is called with.

Below both backends (profiler/torch_backend, profiler/onnx_backend) and profiler/loading.py,
which opens files into it, so that a backend never imports the loader of another runtime.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import InputError
from .inputs import InputTemplate
from .result import InputSpec, ModelInfo


@dataclass
class LoadedModel:
    """A model ready to analyse: a torch module or an ONNX file, and what its inputs look like."""

    info: ModelInfo
    templates: tuple[InputTemplate, ...]
    module: Any = None
    onnx_path: str | None = None
    keyword_inputs: bool = False  # HF models take their inputs by name
    on_meta: bool = False
    hooks_supported: bool = True  # False for TorchScript: scripted code bypasses module hooks
    example_inputs: tuple[Any, ...] | None = None
    type_names: dict[str, str] = field(default_factory=dict)  # module path -> original class
    warnings: list[str] = field(default_factory=list)
    structured_prunable: bool = True
    float_dtype: str | None = None  # floating inputs are cast to this (fp16/bf16 variants)
    #: The module as users run it, when `module` is an instrumentable copy of it: for
    #: torch.export, `module` is unflattened (module names for per-layer rows) and `run_module`
    #: is `ep.module()`, which runs faster. None: `module` is what users run.
    run_module: Any = None

    @property
    def is_onnx(self) -> bool:
        return self.onnx_path is not None

    @property
    def timed_module(self) -> Any:
        """What end-to-end latency is measured on: the module as users run it."""
        return self.module if self.run_module is None else self.run_module

    def timed_as(self, device: str = "cpu") -> str:
        """Says what end to end was timed on, for `Profile.timed_as`."""
        if self.is_onnx:
            provider = "CUDAExecutionProvider" if device == "cuda" else "CPUExecutionProvider"
            return f"onnxruntime session ({provider})"
        if self.run_module is not None:
            return "ep.module() (the exported program as users run it)"
        if not self.hooks_supported:
            return "the scripted module (torch.jit)"
        return f"the nn.Module ({type(self.module).__name__})"


def make_inputs(
    loaded: LoadedModel, specs: tuple[InputSpec, ...], *, device: str = "cpu", seed: int = 0
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Seeded random inputs for `specs` as (args, kwargs); token ids stay below the vocabulary."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    vocab = {t.name: t.vocab_size for t in loaded.templates}
    tensors: list[Any] = []
    for spec in specs:
        dtype = getattr(torch, spec.dtype, None)
        if dtype is None:
            raise InputError(spec.name, f"unsupported input dtype {spec.dtype!r}")
        if dtype.is_floating_point:
            t = torch.randn(spec.shape, generator=gen).to(dtype)
        elif dtype == torch.bool:
            t = torch.ones(spec.shape, dtype=torch.bool)
        else:
            high = vocab.get(spec.name) or 100
            t = torch.randint(0, int(high), spec.shape, generator=gen, dtype=dtype)
        if loaded.float_dtype and t.is_floating_point():
            t = t.to(getattr(torch, loaded.float_dtype))
        tensors.append(t.to(device))
    if loaded.keyword_inputs:
        return (), {s.name: t for s, t in zip(specs, tensors, strict=True)}
    return tuple(tensors), {}
