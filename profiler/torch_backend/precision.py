"""Precision that really changes the model and runs.

- fp16 / bf16: weights and floating inputs converted (`module.to(dtype)`).
- tf32 (CUDA only): fp32 weights, TF32 tensor-core matmuls switched on while measuring.
- int8, torch runtime, CPU: torch's dynamic quantization of Linear layers
  (`torch.ao.quantization.quantize_dynamic`; deprecated upstream in favour of torchao but
  working, and measured 1.4x faster on the project's CPUs where torchao int8 ran 10x slower).
- int8, CUDA: torchao weight-only int8, when torchao is installed.
- int8, ONNX Runtime: `onnxruntime.quantization.quantize_dynamic`, or `quantize_static` with
  calibration when sample inputs are given (see onnx_export.py).

Each conversion returns notes that say plainly when a precision has no fast path here.
"""

from __future__ import annotations

import copy
from typing import Any

from .. import progress
from ..environment import cpu_flags
from ..errors import InputError


def fast_path_note(precision: str, device: str) -> str | None:
    """A note when this CPU has no native support for `precision` (None when it has, or on CUDA)."""
    if device != "cpu":
        return None
    flags = cpu_flags()
    if precision == "fp16" and not ({"avx512_fp16", "amx_fp16"} & flags):
        return "fp16 has no fast path on this CPU (no AVX512-FP16/AMX-FP16): the measured latency is not what a GPU would show; the planner projects target hardware"
    if precision == "bf16" and not ({"avx512_bf16", "amx_bf16"} & flags):
        return "bf16 has no fast path on this CPU (no AVX512-BF16/AMX-BF16): the measured latency is not what a GPU would show; the planner projects target hardware"
    return None


def convert_torch(model: Any, precision: str, device: str, *, source: str = "model") -> tuple[Any, list[str]]:
    """A copy of `model` at `precision` on `device`, and notes about the conversion."""
    if precision in ("fp32", "tf32"):
        if precision == "tf32" and device != "cuda":
            raise InputError("--precision", "tf32 exists on CUDA only (tensor-core matmuls); use fp32 on the CPU")
        return model, []
    # a copy and a conversion of every weight: long on a large model, so a stage with a heartbeat
    with progress.stage(f"precision: converting to {precision}", *progress.TRANSFORM_WINDOWS["precision"], nested=True):
        return _convert(model, precision, device, source)


def _convert(model: Any, precision: str, device: str, source: str) -> tuple[Any, list[str]]:
    import torch

    notes: list[str] = []
    if precision in ("fp16", "bf16"):
        dtype = torch.float16 if precision == "fp16" else torch.bfloat16
        converted = copy.deepcopy(model).to(dtype)
        note = fast_path_note(precision, device)
        if note:
            notes.append(note)
        return converted, notes
    if precision == "int8":
        if device == "cuda":
            return _int8_cuda(model, source), ["int8 on CUDA: torchao weight-only int8 quantization"]
        work = _conv1d_as_linear(copy.deepcopy(model).cpu())
        # A head tied to the token embedding stays fp32: quantizing it would make a second,
        # int8 copy of weights the embedding still holds in fp32.
        embedding_weights = {id(m.weight) for m in work.modules() if isinstance(m, torch.nn.Embedding)}
        targets = {
            name
            for name, m in work.named_modules()
            if isinstance(m, torch.nn.Linear) and id(m.weight) not in embedding_weights
        }
        tied = [name for name, m in work.named_modules() if isinstance(m, torch.nn.Linear) and name not in targets]
        with _quiet_deprecations():
            qconfig = torch.ao.quantization.default_dynamic_qconfig
            quantized = torch.ao.quantization.quantize_dynamic(
                work, {name: qconfig for name in targets}, dtype=torch.qint8
            )
        if tied:
            notes.append(f"int8: {', '.join(tied)} is tied to the token embedding and stays fp32 (shared weights)")
        n_linear = len(targets)
        n_conv = sum(1 for m in model.modules() if isinstance(m, torch.nn.modules.conv._ConvNd))
        notes.append("int8: torch dynamic quantization of Linear layers (weights int8, activations quantized per call)")
        if n_conv:
            notes.append(
                f"int8 (torch dynamic) leaves the {n_conv} convolution(s) in fp32; "
                "--runtime onnxruntime quantizes convolutions too"
            )
        if not n_linear:
            notes.append("int8: this model has no Linear layers, so nothing was quantized")
        return quantized, notes
    raise InputError("--precision", f"unsupported precision {precision!r}")


def _conv1d_as_linear(model: Any) -> Any:
    """Replace Hugging Face `Conv1D` (a Linear with a transposed weight, GPT-2 style) by
    `nn.Linear`, so dynamic quantization sees it. The copy computes the same function."""
    import torch

    for parent in list(model.modules()):
        for child_name, child in list(parent.named_children()):
            if type(child).__name__ != "Conv1D" or not hasattr(child, "nf"):
                continue
            n_in, n_out = child.weight.shape
            linear = torch.nn.Linear(n_in, n_out, bias=child.bias is not None, dtype=child.weight.dtype)
            with torch.no_grad():
                linear.weight.copy_(child.weight.t())
                if child.bias is not None:
                    linear.bias.copy_(child.bias)
            setattr(parent, child_name, linear)
    return model


def _int8_cuda(model: Any, source: str) -> Any:
    try:
        import torchao  # noqa: F401
        from torchao.quantization import int8_weight_only, quantize_
    except ImportError:
        raise InputError("--precision", "int8 on CUDA needs torchao (pip install torchao)") from None
    converted = copy.deepcopy(model).cuda()
    quantize_(converted, int8_weight_only())
    return converted


class _quiet_deprecations:
    """quantize_dynamic warns that it is deprecated; the notes already say which path ran."""

    def __enter__(self) -> None:
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", UserWarning)

    def __exit__(self, *exc: Any) -> None:
        self._ctx.__exit__(*exc)


def convert_inputs(
    args: tuple[Any, ...], kwargs: dict[str, Any], precision: str
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Floating inputs follow the weights for fp16/bf16; int8 models take fp32 inputs."""
    import torch

    if precision not in ("fp16", "bf16"):
        return args, kwargs
    dtype = torch.float16 if precision == "fp16" else torch.bfloat16

    def conv(t: Any) -> Any:
        return t.to(dtype) if isinstance(t, torch.Tensor) and t.is_floating_point() else t

    return tuple(conv(a) for a in args), {k: conv(v) for k, v in kwargs.items()}


def int8_weight_bytes(params: int, weight_bytes_fp32: int, quantized_params: int) -> int:
    """Weight bytes after int8 quantization of `quantized_params` of the fp32 weights."""
    return weight_bytes_fp32 - 3 * quantized_params


def set_tf32(enabled: bool) -> None:
    """Allow (or forbid) TF32 tensor-core matmuls and convolutions on CUDA, process-wide."""
    import torch

    torch.backends.cuda.matmul.allow_tf32 = enabled
    torch.backends.cudnn.allow_tf32 = enabled
