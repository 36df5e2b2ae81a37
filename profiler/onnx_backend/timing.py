"""Timing ONNX models with onnxruntime end to end (via `measure`): sessions, feeds, errors.

End to end: one session, random feeds, `measure()` with the injected clock; the resident-set
growth while the session is built and run is reported beside the samples. Per-node timing
(onnxruntime's profiler) lives in `node_timing.py`.

Imports of onnxruntime, onnx and numpy happen inside the functions.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import InputError, MeasureError
from ..measure import Timing, measure
from ..result import InputSpec

if TYPE_CHECKING:
    import numpy as np
    import onnxruntime

__all__ = ["make_session", "random_feeds", "time_onnx"]

_OPT_LEVELS = {
    "disable": "ORT_DISABLE_ALL",
    "basic": "ORT_ENABLE_BASIC",
    "extended": "ORT_ENABLE_EXTENDED",
    "all": "ORT_ENABLE_ALL",
}
_ORT_PREFIX = re.compile(r"^\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*[A-Z_]+\s*:\s*")
_EXTERNAL_FOLDER_KEY = "session.model_external_initializers_file_folder_path"

_NP_TYPES = {
    "tensor(float)": "float32",
    "tensor(float16)": "float16",
    "tensor(double)": "float64",
    "tensor(int64)": "int64",
    "tensor(int32)": "int32",
    "tensor(int16)": "int16",
    "tensor(int8)": "int8",
    "tensor(uint64)": "uint64",
    "tensor(uint32)": "uint32",
    "tensor(uint16)": "uint16",
    "tensor(uint8)": "uint8",
    "tensor(bool)": "bool",
}


def _ort_message(exc: BaseException) -> str:
    """The first line of an onnxruntime error, without its "[ONNXRuntimeError] : 2 : CODE :" prefix."""
    lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
    if not lines:
        return type(exc).__name__
    first = _ORT_PREFIX.sub("", lines[0])
    # Some messages put the detail on the second line ("… for the following indices\n index: 1 Got: 4 …").
    if len(lines) > 1 and (first.endswith(":") or first.endswith("indices")):
        first = f"{first} {lines[1]}"
    return first[:300]


def _session_options(threads: int | None, optimization: str) -> Any:
    import onnxruntime as ort

    if optimization not in _OPT_LEVELS:
        raise InputError(
            "--optimization",
            f"unknown onnxruntime optimisation level {optimization!r} (one of {', '.join(_OPT_LEVELS)})",
        )
    so = ort.SessionOptions()
    if threads:
        so.intra_op_num_threads = int(threads)
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = getattr(ort.GraphOptimizationLevel, _OPT_LEVELS[optimization])
    so.log_severity_level = 4  # fatal only: its errors reach the user as our one-line message instead
    return so


def make_session(
    path: str,
    *,
    threads: int | None,
    device: str = "cpu",
    enable_profiling: bool = False,
    profile_dir: str | None = None,
    optimization: str = "all",
    unique_names: bool = True,
    optimized_out: str | None = None,
    spin: bool = True,
) -> onnxruntime.InferenceSession:
    """An onnxruntime session for `path` on `device` ("cpu", or "cuda" with onnxruntime-gpu).

    `threads` sets the intra-op thread count (None: onnxruntime's default, one per core).
    With `enable_profiling`, the trace goes under `profile_dir` (default: the temp folder).
    With `unique_names` (the default; onnxruntime refuses repeated node names anyway), nodes
    with an empty or repeated name get the analysis's row names.
    With `optimized_out`, onnxruntime writes the optimised graph there (weights beside it).
    External data is checked first (it must lie in the model's folder): InputError otherwise.
    Raises InputError for a file onnxruntime cannot parse, MeasureError for one it cannot run.
    """
    import onnxruntime as ort

    from .graph import unique_node_names
    from .validation import load_checked_model

    if device not in ("cpu", "cuda"):
        raise InputError("--device", f"unknown device {device!r}: use cpu or cuda")
    model = load_checked_model(path, inline_functions=False)  # refuses unsafe external data before ORT reads it
    so = _session_options(threads, optimization)
    if not spin:
        # Threads that spin after a run steal the cores from whatever runs next: alternating two
        # sessions (a comparison) would slow both. Users' back-to-back runs keep the default.
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if enable_profiling:
        so.enable_profiling = True
        so.profile_file_prefix = os.path.join(profile_dir or tempfile.gettempdir(), "tradeoff_ort_profile")
    if optimized_out:
        # The optimised graph maps fused nodes back to rows; its weights go to a side file.
        so.optimized_model_filepath = optimized_out
        so.add_session_config_entry(
            "session.optimized_model_external_initializers_file_name", os.path.basename(optimized_out) + ".data"
        )
        so.add_session_config_entry("session.optimized_model_external_initializers_min_size_in_bytes", "1024")
    providers: list[Any] = ["CPUExecutionProvider"]
    if device == "cuda":
        if "CUDAExecutionProvider" not in ort.get_available_providers():
            raise MeasureError(
                path, "device cuda needs onnxruntime-gpu (this onnxruntime has no CUDAExecutionProvider)"
            )
        providers = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    source: Any = path
    if unique_names:
        names = unique_node_names(model.graph)
        if any(node.name != name for node, name in zip(model.graph.node, names, strict=True)):
            for node, name in zip(model.graph.node, names, strict=True):
                node.name = name
            source = model.SerializeToString()
            so.add_session_config_entry(_EXTERNAL_FOLDER_KEY, os.path.dirname(os.path.abspath(path)))
    del model
    try:
        session = ort.InferenceSession(source, sess_options=so, providers=providers)
    except Exception as exc:
        kind = type(exc).__name__
        if kind in ("InvalidProtobuf", "NoSuchFile"):
            raise InputError(path, f"not a valid ONNX model: {_ort_message(exc)}") from None
        raise MeasureError(path, f"onnxruntime could not load the model: {_ort_message(exc)}") from None
    if device == "cuda" and "CUDAExecutionProvider" not in session.get_providers():
        raise MeasureError(path, "onnxruntime could not start its CUDA provider (check the CUDA and cuDNN libraries)")
    return session


def random_feeds(
    session: Any,
    inputs: tuple[InputSpec, ...],
    seed: int = 0,
    vocab_size: int | None = None,
    *,
    source: str = "--input-shape",
) -> dict[str, np.ndarray]:
    """Random arrays for every session input, shaped by `inputs` (or the model's static shape).

    Floats ~ N(0, 1); integers uniform in [0, vocab_size or 100); bools random. Token-model
    conventions by input name: "*mask*" gets ones, "position_ids" 0 … n-1 along the last
    dim, "token_type_ids" zeros. Raises InputError (about `source`) for an input with no
    concrete shape or a dtype numpy cannot make.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    by_name = {spec.name: spec for spec in inputs}
    feeds: dict[str, np.ndarray] = {}
    for arg in session.get_inputs():
        spec = by_name.get(arg.name)
        if spec is not None:
            shape = tuple(int(d) for d in spec.shape)
        elif all(isinstance(d, int) and d >= 0 for d in arg.shape):
            shape = tuple(int(d) for d in arg.shape)
        else:
            raise InputError(source, f"no shape given for input {arg.name!r} (declared {list(arg.shape)})")
        dtype_name = _NP_TYPES.get(arg.type)
        if dtype_name is None:
            raise InputError(source, f"input {arg.name!r} has type {arg.type}, for which random inputs cannot be made")
        dtype = np.dtype(dtype_name)
        lname = arg.name.lower()
        if "mask" in lname:
            value = np.ones(shape, dtype=dtype)
        elif lname.endswith("position_ids") and shape:
            value = np.broadcast_to(np.arange(shape[-1], dtype=dtype), shape).copy()
        elif lname.endswith("token_type_ids"):
            value = np.zeros(shape, dtype=dtype)
        elif dtype.kind == "f":
            value = rng.standard_normal(shape).astype(dtype)
        elif dtype.kind == "b":
            value = rng.integers(0, 2, size=shape).astype(bool)
        else:
            high = vocab_size or 100
            if dtype.kind == "i" or dtype.kind == "u":
                high = min(high, int(np.iinfo(dtype).max) + 1)
            value = rng.integers(0, high, size=shape).astype(dtype)
        feeds[arg.name] = value
    return feeds


def _max_rss_bytes() -> int | None:
    try:
        import resource
        import sys
    except ImportError:  # Windows
        return None
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(rss if sys.platform == "darwin" else rss * 1024)


def _rss_bytes() -> int | None:
    try:
        import psutil
    except ImportError:
        return None
    return int(psutil.Process().memory_info().rss)


def _growth(before: tuple[int | None, int | None], after: tuple[int | None, int | None]) -> int | None:
    """The larger of the high-water growth and the current-RSS growth; None if neither is known.

    The high-water mark only moves when a new peak is reached (a worker that already ran a
    bigger model shows no growth), so the growth of the current RSS — the session's weights and
    arena, which stay allocated — serves as a lower bound beside it.
    """
    found = [a - b for a, b in zip(after, before, strict=True) if a is not None and b is not None]
    return max(0, *found) if found else None


def _run_or_raise(path: str, session: Any, feeds: dict[str, Any]) -> Callable[[], object]:
    def run() -> object:
        return session.run(None, feeds)

    try:
        run()
    except Exception as exc:
        raise MeasureError(path, f"onnxruntime could not run the model: {_ort_message(exc)}") from None
    return run


def time_onnx(
    path: str,
    inputs: tuple[InputSpec, ...],
    *,
    threads: int | None = None,
    clock: Callable[[], float] = time.perf_counter,
    budget_s: float = 3.0,
    should_stop: Callable[[], bool] | None = None,
    device: str = "cpu",
    vocab_size: int | None = None,
    optimization: str = "all",
) -> tuple[Timing, int | None]:
    """Time whole-model runs of `path` with onnxruntime; samples in ms, `clock` in seconds.

    Returns the Timing and the process's memory growth in bytes over building and running the
    session (resource high-water mark and psutil RSS, the larger; None where neither exists).
    Raises MeasureError with onnxruntime's first line when the model cannot run on `inputs`.
    """
    before = (_max_rss_bytes(), _rss_bytes())
    session = make_session(path, threads=threads, device=device, optimization=optimization)
    feeds = random_feeds(session, inputs, vocab_size=vocab_size)
    run = _run_or_raise(path, session, feeds)
    try:
        timing = measure(run, clock=clock, budget_s=budget_s, should_stop=should_stop)
    except Exception as exc:
        raise MeasureError(path, f"onnxruntime could not run the model: {_ort_message(exc)}") from None
    growth = _growth(before, (_max_rss_bytes(), _rss_bytes()))
    del session
    return timing, growth
