"""Crossing runtimes: a torch model measured on onnxruntime (`--runtime onnxruntime`, or int8
through ONNX Runtime's quantizer). It sits above both backends, which stay independent of each
other (the `backends-independent` contract in .importlinter)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from . import progress

if TYPE_CHECKING:
    from .loaded_model import LoadedModel
    from .variant import Variant
    from .whatif import WhatIfSession


def to_onnxruntime(
    session: WhatIfSession, module_model: LoadedModel, variant: Variant
) -> tuple[LoadedModel, list[str]]:
    """Export the torch model of `module_model` (already pruned as `variant` asks) to ONNX in the
    session's scratch folder, quantize it for int8, and open it as a plain ONNX model. Export and
    quantization report their own progress stages (profiler/onnx_backend/transforms.py)."""
    from .loading import load_onnx_file
    from .onnx_backend.transforms import export_onnx, quantize_onnx

    source = session.loaded.info.source
    specs = session.specs_for(variant)
    args, kwargs = session.torch_inputs(specs)
    notes: list[str] = []
    path = export_onnx(
        module_model.module, args, kwargs, [s.name for s in specs], session.scratch_path("export"), source=source
    )
    if variant.precision == "int8":
        path, qnotes = quantize_onnx(path, session.scratch_path("int8"), calibration=session.calibration_feeds(variant))
        notes += qnotes
    with progress.stage("converting: opening the ONNX model", 0.99, 1.0, nested=True):
        loaded = load_onnx_file(path, source)  # a plain ONNX model from here on
    return dataclasses.replace(loaded, info=session.loaded.info), notes
