"""Record a torch.profiler trace of a model (or one what-if variant) for TensorBoard and Perfetto,
and start TensorBoard with the PyTorch profiler plugin on it.

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
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError, MeasureError, first_line
from .safe_io import write_bytes_atomic

#: torch-tb-profiler's endpoint listing the runs it found under --logdir.
RUNS_ENDPOINT = "/data/plugin/pytorch_profiler/runs"
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
        return cls(
            logdir=Path(d["logdir"]), run_name=str(d["run_name"]), run_dir=Path(d["run_dir"]),
            trace_files=tuple(Path(p) for p in d["trace_files"]), chrome_trace=Path(d["chrome_trace"]),
            steps=int(d["steps"]), notes=tuple(d.get("notes", ())),
        )  # fmt: skip


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
    for kind, data in trace_events(source, logdir, variant=variant, request=request, trust=trust,
                                   run_name=run_name, session=session, should_stop=should_stop):
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
        raise InputError(source, "torch.profiler traces PyTorch models; an ONNX model runs in onnxruntime "
                                 "(open the PyTorch model, or use onnxruntime's own profiling)")
    if loaded.on_meta:
        raise InputError(source, "the model is on the meta device (too large to hold here): there is nothing to run and trace")
    if variant == variant.baseline():
        target, notes = loaded, []
    else:
        yield "progress", {"fraction": 0.2, "message": "transforming the model"}
        try:
            target, notes, _, _ = session._transform(variant)
        except InputError:
            raise
        except Exception as exc:
            raise InputError(source, f"variant {variant.label()} failed: {type(exc).__name__}: {first_line(exc)}") from exc
    if should_stop():
        return
    import torch
    from torch.profiler import ProfilerActivity, profile, record_function, schedule, tensorboard_trace_handler

    from .loading import make_inputs

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
            with profile(
                activities=activities,
                schedule=schedule(wait=0, warmup=WARMUP_STEPS, active=ACTIVE_STEPS, repeat=1),
                on_trace_ready=handler, record_shapes=True, profile_memory=True, with_stack=False,
            ) as prof, torch.inference_mode():
                for step in range(steps):
                    with record_function(f"forward#{step}"):
                        module(*args, **kwargs)
                    if variant.device == "cuda":
                        torch.cuda.synchronize()
                    prof.step()
                    yield "progress", {"fraction": 0.3 + 0.6 * (step + 1) / steps, "message": f"step {step + 1}/{steps}"}
                    if should_stop():
                        return
        except (RuntimeError, ValueError, TypeError) as exc:
            raise MeasureError(source, f"the forward raised while tracing: {type(exc).__name__}: {first_line(exc)}") from None
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
    result = TraceResult(logdir=root, run_name=name, run_dir=run_dir, trace_files=tuple(placed),
                         chrome_trace=chrome, steps=ACTIVE_STEPS, notes=tuple(notes))
    yield "finished", {"result": result.to_dict()}


def _worker_name() -> str:
    """`host_pid`, the worker name torch's handler uses by default (the plugin groups by it)."""
    return f"{socket.gethostname()}_{os.getpid()}"




def trace_task(payload: dict[str, Any], state: dict[str, Any], should_stop: Callable[[], bool]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Worker task: payload {"source", "trust", "request", "inputs", "variant", "logdir", "run_name"}
    (the keys of `profiler.tasks.variant_task`, plus the log folder). Reuses the worker's
    loaded model when the same source was measured before."""
    import warnings

    from .tasks import _session
    from .variant import Variant

    warnings.simplefilter("ignore")
    session = _session(payload, state)
    variant = Variant.from_dict(payload.get("variant") or {})
    yield from trace_events(payload["source"], payload["logdir"], variant=variant, trust=bool(payload.get("trust")),
                            run_name=payload.get("run_name"), session=session, should_stop=should_stop)


# --------------------------------------------------------------------------- TensorBoard


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class TensorBoardProcess:
    """A TensorBoard server we started; `stop()` ends it (and only it)."""

    process: subprocess.Popen[bytes]
    host: str
    port: int
    logdir: Path
    log_path: Path
    _closed: bool = field(default=False, repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    @property
    def profiler_url(self) -> str:
        """The page that opens the PyTorch profiler plugin directly."""
        return self.url + "#pytorch_profiler"

    def runs(self, timeout_s: float = 5.0) -> list[str]:
        """The runs the plugin lists now (GET RUNS_ENDPOINT)."""
        import json

        with urllib.request.urlopen(self.url.rstrip("/") + RUNS_ENDPOINT, timeout=timeout_s) as r:
            data = json.loads(r.read().decode("utf-8"))
        return [str(x) for x in (data.get("runs", []) if isinstance(data, dict) else data)]

    def wait_for_run(self, run_name: str, timeout_s: float = 60.0) -> list[str]:
        """Poll until the plugin lists `run_name`; returns the runs. Raises TimeoutError."""
        end = time.monotonic() + timeout_s
        runs: list[str] = []
        while time.monotonic() < end:
            if self.process.poll() is not None:
                raise RuntimeError(f"TensorBoard exited with code {self.process.returncode}: {self.log_tail()}")
            try:
                runs = self.runs()
                if run_name in runs:
                    return runs
            except (urllib.error.URLError, OSError, ValueError):
                pass
            time.sleep(0.5)
        raise TimeoutError(f"TensorBoard did not list run {run_name!r} within {timeout_s:.0f} s (runs: {runs})")

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self, timeout_s: float = 10.0) -> None:
        if self._closed:
            return
        self._closed = True
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout_s)
        try:
            self.log_path.unlink()
        except OSError:
            pass

    def __enter__(self) -> TensorBoardProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def tensorboard_available() -> str | None:
    """None when TensorBoard and torch-tb-profiler can be imported here; else why not."""
    import importlib.util

    for mod, pkg in (("tensorboard", "tensorboard"), ("torch_tb_profiler", "torch-tb-profiler")):
        if importlib.util.find_spec(mod) is None:
            return f"{pkg} is not installed (pip install {pkg})"
    return None


def start_tensorboard(
    logdir: str | os.PathLike[str],
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    open_browser: bool = False,
    timeout_s: float = 60.0,
    opener: Callable[[str], Any] | None = None,
) -> TensorBoardProcess:
    """Start `python -m tensorboard.main --logdir LOGDIR` on HOST:PORT (a free port by default)
    and wait until it answers HTTP; open the browser on the profiler plugin when asked.
    The server reads the log folder; the caller stops it with `.stop()` (or a `with` block).

    Raises InputError when TensorBoard is missing or does not come up within `timeout_s`."""
    missing = tensorboard_available()
    if missing:
        raise InputError("tensorboard", missing)
    root = Path(logdir).expanduser().resolve()
    if not root.is_dir():
        raise InputError(str(logdir), "no such folder (record a trace into it first)")
    port = port or free_port(host)
    fd, log_name = tempfile.mkstemp(prefix="tradeoff-tensorboard-", suffix=".log")
    cmd = [sys.executable, "-m", "tensorboard.main", "--logdir", str(root), "--host", host, "--port", str(port),
           "--reload_interval", "2"]
    env = dict(os.environ)
    env.setdefault("PYTHONWARNINGS", "ignore")
    with os.fdopen(fd, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    tb = TensorBoardProcess(process=proc, host=host, port=port, logdir=root, log_path=Path(log_name))
    end = time.monotonic() + timeout_s
    while True:
        if proc.poll() is not None:
            tail = tb.log_tail(400)
            tb.stop()
            raise InputError("tensorboard", f"exited with code {proc.returncode}: {' '.join(tail.split())[-300:]}")
        try:
            with urllib.request.urlopen(tb.url + "data/logdir", timeout=2.0):
                break
        except (urllib.error.URLError, OSError):
            if time.monotonic() > end:
                tb.stop()
                raise InputError("tensorboard", f"did not answer on {tb.url} within {timeout_s:.0f} s") from None
            time.sleep(0.3)
    if open_browser:
        import webbrowser

        (opener or webbrowser.open)(tb.profiler_url)
    return tb
