"""Closed vocabularies shared by the core, the planner, the CLI and the app."""

from __future__ import annotations

from enum import StrEnum


class Precision(StrEnum):
    FP32 = "fp32"
    TF32 = "tf32"
    FP16 = "fp16"
    BF16 = "bf16"
    INT8 = "int8"


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


#: Bytes per element of each precision's weights, as stored for inference.
BYTES_PER_ELEMENT: dict[Precision, float] = {
    Precision.FP32: 4,
    Precision.TF32: 4,
    Precision.FP16: 2,
    Precision.BF16: 2,
    Precision.INT8: 1,
}
