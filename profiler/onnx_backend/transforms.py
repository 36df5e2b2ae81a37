"""ONNX-side transforms: export a torch model, quantize with ONNX Runtime, prune initializers.

Files are written into a scratch folder owned by the caller (the worker keeps one per session).
Nothing is ever written beside the user's model: ONNX Runtime's quantizer saves
"<model>-inferred.onnx" next to its input (and deletes it), so it is given a copy of the model
in a private folder of its own (`private_copy`), removed when it is done.

Export, quantization and pruning report as `profiler.progress` stages (their parts of the
transform window); each is one long library call, so the stage's heartbeat keeps it moving.
"""

from __future__ import annotations

import contextlib
import io
import logging
from pathlib import Path
from typing import Any

from .. import progress
from ..errors import InputError, MeasureError

# Ops whose weight initializers unstructured pruning may zero (the contractions).
_PRUNABLE_OPS = {"Conv", "ConvTranspose", "Gemm", "MatMul"}


def export_onnx(
    model: Any, args: tuple[Any, ...], kwargs: dict[str, Any], names: list[str], path: Path, *, source: str
) -> Path:
    """Export `model` with TorchScript-based `torch.onnx.export` (no network, no onnxscript rewrite)."""
    import warnings

    import torch

    inputs = args if not kwargs else tuple(kwargs[n] for n in names)
    module = model if not kwargs else _KeywordAdapter(model, names)
    export_stage = progress.stage("converting: exporting to ONNX", *progress.TRANSFORM_WINDOWS["export"], nested=True)
    try:
        with export_stage, warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), _silenced_fd(1):
            warnings.simplefilter("ignore")
            torch.onnx.export(
                module,
                inputs,
                str(path),
                input_names=names,
                dynamo=False,
                opset_version=17,
                do_constant_folding=True,
            )
    except Exception as exc:
        raise MeasureError(
            source,
            f"could not export to ONNX for onnxruntime: {type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}",
        ) from None
    return path


@contextlib.contextmanager
def _silenced_fd(fd: int) -> Any:
    """Point a file descriptor at /dev/null: the TorchScript exporter prints graphs from C++
    straight to fd 1, which the worker shares with `tradeoff … --json -`."""
    import os
    import sys

    sys.stdout.flush()
    saved = os.dup(fd)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)


class _KeywordAdapter:
    """Calls an HF-style model by keyword from positional export inputs."""

    def __new__(cls, model: Any, names: list[str]) -> Any:
        import torch

        class Adapter(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.inner = model

            def forward(self, *xs: Any) -> Any:
                out = self.inner(**dict(zip(names, xs, strict=True)))
                return out.logits if hasattr(out, "logits") else out

        return Adapter()


def private_copy(src: Path, folder: Path) -> Path:
    """A copy of the ONNX model `src` and its external data files in `folder`, for tools that
    write files beside their input. External data is checked first (it must lie in the model's
    folder: InputError otherwise); its locations are rewritten as plain relative paths, so the
    copy reads only the copied files. Returns the copy's path."""
    import os
    import shutil

    import onnx

    from .validation import _external_entries, load_checked_model

    model = load_checked_model(str(src), inline_functions=False)
    base = os.path.realpath(os.path.dirname(os.path.abspath(src)))
    copied: dict[str, str] = {}  # real path of a data file -> its location in the copy
    for tensor, target, _offset, _length in _external_entries(str(src), model):
        if target not in copied:
            location = os.path.relpath(target, base)
            dest = folder / location
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(target, dest)
            copied[target] = location.replace(os.sep, "/")
        for entry in tensor.external_data:
            if entry.key == "location":
                entry.value = copied[target]
    copy = folder / (Path(src).stem + ".onnx")
    onnx.save(model, str(copy))
    return copy


def quantize_onnx(src: Path, dst: Path, *, calibration: list[dict[str, Any]] | None = None) -> tuple[Path, list[str]]:
    """int8 with ONNX Runtime: static with calibration feeds when given, dynamic otherwise.

    ONNX Runtime quantizes a copy of `src` in a private folder (see the module docstring): it
    writes nothing beside `src`, which may lie in a read-only folder.
    """
    import shutil
    import tempfile

    scratch = Path(tempfile.mkdtemp(prefix="tradeoff-quantize-"))
    name = "quantizing: calibrating and quantizing to int8" if calibration else "quantizing to int8"
    try:
        with progress.stage(name, *progress.TRANSFORM_WINDOWS["quantize"], nested=True):
            return _quantize(private_copy(src, scratch), dst, source=src, calibration=calibration)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _quantize(
    src: Path, dst: Path, *, source: Path, calibration: list[dict[str, Any]] | None
) -> tuple[Path, list[str]]:
    from onnxruntime.quantization import QuantType, quantize_dynamic, quantize_static

    logging.getLogger().setLevel(logging.ERROR)  # quantize_* log a pre-processing hint at WARNING
    try:
        if calibration:
            from onnxruntime.quantization import CalibrationDataReader

            class Reader(CalibrationDataReader):  # type: ignore[misc]
                def __init__(self) -> None:
                    self._it = iter(calibration or [])
                    self._read = 0

                def get_next(self) -> dict[str, Any] | None:
                    feed = next(self._it, None)
                    if feed is not None:  # calibration runs the model once per batch: a check point
                        self._read += 1
                        total = len(calibration or [])
                        progress.report(0.8 * self._read / total, f"calibration batch {self._read}/{total}")
                    return feed

            quantize_static(str(src), str(dst), Reader(), weight_type=QuantType.QInt8, activation_type=QuantType.QUInt8)
            return dst, [f"int8: ONNX Runtime static quantization, calibrated on {len(calibration)} sample batch(es)"]
        quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8)
    except Exception as exc:
        raise MeasureError(
            str(source),
            f"ONNX Runtime could not quantize the model: {str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__}",
        ) from None
    return dst, ["int8: ONNX Runtime dynamic quantization (weights int8, activations quantized per call)"]


def convert_onnx_float(src: Path, dst: Path, precision: str) -> tuple[Path, list[str]]:
    """fp16 via onnx's float16 converter is not shipped with onnx itself; refuse plainly."""
    raise InputError(
        "--precision", f"{precision} for ONNX models is not supported here: use fp32 or int8, or open the torch model"
    )


def prune_onnx_unstructured(src: Path, dst: Path, ratio: float) -> tuple[Path, dict[str, float], int, int]:
    """Zero the smallest-magnitude `ratio` of contraction weights (global ranking).

    Returns the new file, density per node name, and (weights considered, weights zeroed).
    """

    with progress.stage("pruning: zeroing the smallest weights", *progress.TRANSFORM_WINDOWS["pruning"], nested=True):
        return _prune_initializers(src, dst, ratio)


def _prune_initializers(src: Path, dst: Path, ratio: float) -> tuple[Path, dict[str, float], int, int]:
    import numpy as np
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(src))
    inits = {i.name: i for i in model.graph.initializer}
    targets: dict[str, list[str]] = {}
    for node in model.graph.node:
        if node.op_type in _PRUNABLE_OPS:
            for name in node.input[1:2]:  # the weight operand
                if name in inits and inits[name].data_type == onnx.TensorProto.FLOAT:
                    targets.setdefault(name, []).append(node.name)
    if not targets:
        raise InputError(str(src), "no float weights of Conv/Gemm/MatMul to prune")
    arrays = {name: numpy_helper.to_array(inits[name]) for name in targets}
    magnitudes = np.concatenate([np.abs(a).ravel() for a in arrays.values()])
    k = int(ratio * magnitudes.size)
    threshold = np.partition(magnitudes, k - 1)[k - 1] if k > 0 else -1.0
    density: dict[str, float] = {}
    zeroed = 0
    for name, arr in arrays.items():
        pruned = np.where(np.abs(arr) <= threshold, 0, arr).astype(arr.dtype)
        zeroed += int((pruned == 0).sum() - (arr == 0).sum())
        inits[name].CopyFrom(numpy_helper.from_array(pruned, name))
        for node_name in targets[name]:
            density[node_name] = float((pruned != 0).sum()) / pruned.size
    onnx.save(model, str(dst))
    return dst, density, int(magnitudes.size), zeroed
