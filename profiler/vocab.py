"""Closed vocabularies shared by the core, the planner, the CLI and the app."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

_E = TypeVar("_E", bound=StrEnum)


class Precision(StrEnum):
    FP32 = "fp32"
    TF32 = "tf32"
    FP16 = "fp16"
    BF16 = "bf16"
    INT8 = "int8"

    @property
    def bytes_per_element(self) -> float:
        """Bytes per weight element stored at this precision (`BYTES_PER_ELEMENT`)."""
        return BYTES_PER_ELEMENT[self]


class Device(StrEnum):
    CPU = "cpu"
    CUDA = "cuda"


class Runtime(StrEnum):
    TORCH = "torch"
    ONNXRUNTIME = "onnxruntime"


class ModelFormat(StrEnum):
    ONNX = "onnx"
    TORCH_EXPORT = "torch.export"
    TORCHSCRIPT = "torchscript"
    PICKLE = "pickle"
    PYTHON = "python"
    HF_CONFIG = "hf-config"
    DEMO = "demo"


class PruneMethod(StrEnum):
    STRUCTURED = "structured"
    UNSTRUCTURED = "unstructured"


#: Bytes per element of each precision's weights, as stored for inference (the one table;
#: `planner.vocab.ELEMENT_BYTES` extends it with fp8).
BYTES_PER_ELEMENT: dict[Precision, float] = {
    Precision.FP32: 4,
    Precision.TF32: 4,
    Precision.FP16: 2,
    Precision.BF16: 2,
    Precision.INT8: 1,
}


def parse(kind: type[_E], value: object, what: str) -> _E:
    """`value` as a member of `kind`; ValueError (`what: 'x' is not one of a, b`) otherwise."""
    if isinstance(value, kind):
        return value
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return kind(value)
    except ValueError:
        raise ValueError(f"{what}: {value!r} is not one of {choices(kind)}") from None


def choices(kind: type[StrEnum]) -> str:
    """`fp32, tf32, fp16` — the values of a vocabulary, for messages and help."""
    return ", ".join(m.value for m in kind)
