"""Record a torch.profiler trace of a model (or one what-if variant) for TensorBoard and Perfetto.

Layout written under LOGDIR (what `torch.profiler.tensorboard_trace_handler` writes, and what
torch-tb-profiler lists as one run per folder)::

    LOGDIR/
      RUN/                                   one run (the model and variant, slugged)
        WORKER.TIMESTAMP.pt.trace.json       Chrome-trace JSON from the handler
      RUN.perfetto.json                      the same trace, for https://ui.perfetto.dev

Every file is recorded into a hidden temporary folder inside LOGDIR, then renamed into place, so
TensorBoard (which scans LOGDIR while it runs) never loads a half-written trace, and an
unwritable LOGDIR is an InputError (exit 2) that leaves nothing behind.

Qt-free; torch is imported inside the functions. The app runs `trace_task` in the measurement
worker (`Runner.submit("profiler.trace:trace_task", payload)`); the CLI does the same.

Starting and supervising TensorBoard lives in `profiler.tensorboard`; its public names are
re-exported here for callers that import them from this module.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InputError, MeasureError, first_line
from .events import Finished, Progress, RunEvent
from .safe_io import write_bytes_atomic
from .tensorboard import RUNS_ENDPOINT as RUNS_ENDPOINT
from .tensorboard import TensorBoardProcess as TensorBoardProcess
from .tensorboard import TiedProcess as TiedProcess
from .tensorboard import free_port as free_port
from .tensorboard import install_stop_handlers as install_stop_handlers
from .tensorboard import spawn_tied as spawn_tied
from .tensorboard import start_tensorboard as start_tensorboard
from .tensorboard import stop_all_tensorboards as stop_all_tensorboards
from .tensorboard import tensorboard_available as tensorboard_available
from .textsafe import terminal_safe

#: profiler schedule: one warm-up step (not recorded), then ACTIVE_STEPS recorded forwards.
WARMUP_STEPS = 1
ACTIVE_STEPS = 3


@dataclass(frozen=True)
class TraceResult:
    """What `record_trace` wrote. Paths are absolute."""

    logdir: Path
    run_name: str
    run_dir: Path
    trace_files: tuple[Path, ...]
    chrome_trace: Path
    steps: int
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "logdir": str(self.logdir), "run_name": self.run_name, "run_dir": str(self.run_dir),
            "trace_files": [str(p) for p in self.trace_files], "chrome_trace": str(self.chrome_trace),
            "steps": self.steps, "notes": list(self.notes),
        }  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TraceResult:
        """Read a `tradeoff.trace/1` document (its `schema` key optional); SchemaError with the
        path of the first value that does not fit."""
        from .codec import SchemaError, decode

        doc = "tradeoff.trace/1"
        if not isinstance(d, dict):
            raise SchemaError(doc, "$", f"expected an object, found {type(d).__name__}")

        def get(key: str, tp: Any) -> Any:
            if key not in d:
                raise SchemaError(doc, f"$.{key}", "missing")
            return decode(tp, d[key], document=doc, path=f"$.{key}")

        return cls(
            logdir=Path(get("logdir", str)),
            run_name=get("run_name", str),
            run_dir=Path(get("run_dir", str)),
            trace_files=tuple(Path(p) for p in get("trace_files", tuple[str, ...])),
            chrome_trace=Path(get("chrome_trace", str)),
            steps=get("steps", int),
            notes=decode(tuple[str, ...], d.get("notes", []), document=doc, path="$.notes"),
        )


def run_name_for(model_name: str, variant_label: str | None = None) -> str:
    """A folder-safe run name: `resnet18`, `resnet18_prune-0.5-structured_int8`."""
    text = model_name if not variant_label else f"{model_name}_{variant_label}"
    text = text.replace(" · ", "_").replace(" ", "-")
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-._") or "run"


def _prepare_logdir(logdir: str | os.PathLike[str]) -> Path:
    path = Path(logdir).expanduser().resolve()
    if path.exists() and not path.is_dir():
        raise InputError(str(logdir), "is a file, not a folder: --logdir needs a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = tempfile.mkdtemp(prefix=".tradeoff-probe-", dir=path)
        os.rmdir(probe)
    except OSError as exc:
        raise InputError(str(logdir), f"cannot write: {exc.strerror or exc}") from None
    return path


def record_trace(
    source: str,
    logdir: str | os.PathLike[str],
    *,
    variant: Any = None,
    request: Any = None,
    trust: bool = False,
    run_name: str | None = None,
    session: Any = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> TraceResult:
    """Drain `trace_events` and return the TraceResult (raises InputError / MeasureError)."""
    result = None
    for kind, data in trace_events(
        source,
        logdir,
        variant=variant,
        request=request,
        trust=trust,
        run_name=run_name,
        session=session,
        should_stop=should_stop,
    ):
        if kind == "finished":
            result = TraceResult.from_dict(data["result"])
    if result is None:
        raise MeasureError(source, "the trace was cancelled")
    return result


def trace_events(
    source: str,
    logdir: str | os.PathLike[str],
    *,
    variant: Any = None,
    request: Any = None,
    trust: bool = False,
    run_name: str | None = None,
    session: Any = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Load `source`, apply `variant` (a profiler.variant.Variant; None = the baseline), and
    profile WARMUP_STEPS + ACTIVE_STEPS forwards under torch.profiler (CPU, and CUDA when the
    variant runs there), with shapes and memory recorded. Yields `(kind, data)` worker events;
    the last is `("finished", {"result": TraceResult.to_dict()})`.

    `session` may be a WhatIfSession already holding the loaded model (the worker's)."""
    from .analyze import ProfileRequest
    from .variant import Variant
    from .whatif import WhatIfSession

    root = _prepare_logdir(logdir)
    variant = variant or Variant()
    if session is None:
        from .loading import load_model

        session = WhatIfSession(load_model(source, trust=trust), request or ProfileRequest())
    loaded = session.loaded
    yield "progress", {"fraction": 0.1, "message": "model loaded"}
    if loaded.is_onnx or (variant.runtime or "torch") == "onnxruntime":
        raise InputError(
            source,
            "torch.profiler traces PyTorch models; an ONNX model runs in onnxruntime "
            "(open the PyTorch model, or use onnxruntime's own profiling)",
        )
    if loaded.on_meta:
        raise InputError(
            source, "the model is on the meta device (too large to hold here): there is nothing to run and trace"
        )
    if variant == variant.baseline():
        target, notes = loaded, []
    else:
        yield "progress", {"fraction": 0.2, "message": "transforming the model"}
        try:
            target, notes, _, _ = session.transform(variant)
        except InputError:
            raise
        except Exception as exc:
            raise InputError(
                source, f"variant {variant.label()} failed: {type(exc).__name__}: {first_line(exc)}"
            ) from exc
    if should_stop():
        return
    import torch
    from torch.profiler import ProfilerActivity, profile, record_function, schedule, tensorboard_trace_handler

    from .loaded_model import make_inputs

    specs = session.specs_for(variant)
    args, kwargs = make_inputs(target, specs, device=variant.device)
    name = run_name or run_name_for(loaded.info.name, None if variant == variant.baseline() else variant.label())
    run_dir = root / name
    activities = [ProfilerActivity.CPU]
    if variant.device == "cuda" and torch.cuda.is_available():
        activities.append(ProfilerActivity.CUDA)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".tmp", dir=root))
    try:
        handler = tensorboard_trace_handler(str(tmp), worker_name=_worker_name())
        yield "progress", {"fraction": 0.3, "message": "recording the trace"}
        steps = WARMUP_STEPS + ACTIVE_STEPS
        module = target.module
        try:
            with (
                profile(
                    activities=activities,
                    schedule=schedule(wait=0, warmup=WARMUP_STEPS, active=ACTIVE_STEPS, repeat=1),
                    on_trace_ready=handler,
                    record_shapes=True,
                    profile_memory=True,
                    with_stack=False,
                ) as prof,
                torch.inference_mode(),
            ):
                for step in range(steps):
                    with record_function(f"forward#{step}"):
                        module(*args, **kwargs)
                    if variant.device == "cuda":
                        torch.cuda.synchronize()
                    prof.step()
                    yield (
                        "progress",
                        {"fraction": 0.3 + 0.6 * (step + 1) / steps, "message": f"step {step + 1}/{steps}"},
                    )
                    if should_stop():
                        return
        except (RuntimeError, ValueError, TypeError) as exc:
            raise MeasureError(
                source, f"the forward raised while tracing: {type(exc).__name__}: {first_line(exc)}"
            ) from None
        written = sorted(tmp.glob("*.pt.trace.json*"))
        if not written:
            raise MeasureError(source, "torch.profiler wrote no trace (kineto unavailable in this torch build?)")
        try:
            run_dir.mkdir(exist_ok=True)
            placed = []
            for f in written:
                dest = run_dir / f.name
                os.replace(f, dest)
                placed.append(dest)
        except OSError as exc:
            raise InputError(str(run_dir), f"cannot write: {exc.strerror or exc}") from None
        chrome = root / f"{name}.perfetto.json"
        write_bytes_atomic(chrome, placed[-1].read_bytes())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result = TraceResult(
        logdir=root,
        run_name=name,
        run_dir=run_dir,
        trace_files=tuple(placed),
        chrome_trace=chrome,
        steps=ACTIVE_STEPS,
        notes=tuple(notes),
    )
    yield "finished", {"result": result.to_dict()}


def _worker_name() -> str:
    """`host_pid`, the worker name torch's handler uses by default (the plugin groups by it)."""
    return f"{socket.gethostname()}_{os.getpid()}"


def render_trace_result(result: TraceResult) -> str:
    """What `tradeoff trace` prints about a recorded trace (paths and notes made terminal-safe:
    they carry the model's name and the variant's notes)."""
    ts = terminal_safe
    lines = [
        f"wrote run {ts(repr(result.run_name))} to {ts(result.run_dir)} ({len(result.trace_files)} trace file(s), "
        f"{result.steps} profiled steps)",
        f"Chrome trace for Perfetto (https://ui.perfetto.dev): {ts(result.chrome_trace)}",
    ]
    lines += [f"note: {ts(n)}" for n in result.notes]
    return "\n".join(lines)


def trace_task(payload: dict[str, Any], state: dict[str, Any], should_stop: Callable[[], bool]) -> Iterator[RunEvent]:
    """Worker task: payload {"source", "trust", "request", "inputs", "variant", "logdir", "run_name"}
    (the keys of `profiler.tasks.variant_task`, plus the log folder). Reuses the worker's
    loaded model when the same source was measured before."""
    import warnings

    from .tasks import _session
    from .variant import Variant

    warnings.simplefilter("ignore")
    session = _session(payload, state)
    variant = Variant.from_dict(payload.get("variant") or {})
    for kind, data in trace_events(
        payload["source"],
        payload["logdir"],
        variant=variant,
        trust=bool(payload.get("trust")),
        run_name=payload.get("run_name"),
        session=session,
        should_stop=should_stop,
    ):
        # trace_events speaks (kind, data) for trace_model and the CLI; the worker hears typed events
        if kind == "finished":
            yield Finished(data.get("result"))
            return
        if kind == "progress":
            yield Progress(float(data.get("fraction", 0.0)), str(data.get("message", "")))
