"""Profile one configuration of a loaded model: count per layer, then measure, into a `Profile`.

`profile_events` is a generator of events (progress, layer measured, finished) that checks for
cancellation between units of work; `profile_model` drains it. The worker process and the CLI
both drive the generator, so the two never disagree.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any

from .errors import InputError, MeasureError, first_line
from .inputs import resolve_inputs
from .loading import LoadedModel, make_inputs
from .result import InputSpec, LayerRow, Profile, RunConfig, Totals


@dataclass(frozen=True)
class ProfileRequest:
    """What to profile: input overrides, the run configuration, and how hard to measure."""

    shapes: tuple[tuple[str | None, tuple[int, ...]], ...] = ()
    batch: int | None = None
    seq_len: int | None = None
    device: str = "cpu"
    runtime: str | None = None
    threads: int | None = None
    latency: bool = True
    layer_latency: bool = True
    budget_s: float = 3.0
    layer_runs: int = 5


@dataclass(frozen=True)
class Event:
    """One step of a profile run: `kind` is progress, static, layer or finished."""

    kind: str
    fraction: float = 0.0
    message: str = ""
    layer: str | None = None
    latency_ms: float | None = None
    profile: Profile | None = None
    result: Any = None  # the what-if engine's VariantResult on its final event
    stage: str = "variant"  # "baseline" while the what-if engine measures the baseline


class Cancelled(Exception):
    """The run was superseded or cancelled at a check point."""


def resolve_specs(loaded: LoadedModel, request: ProfileRequest) -> tuple[InputSpec, ...]:
    """Concrete inputs for this request (an error names any dimension left without a value)."""
    return resolve_inputs(
        loaded.templates,
        file=loaded.info.source,
        shapes=dict(request.shapes),
        batch=request.batch,
        seq_len=request.seq_len,
    )


def profile_events(
    loaded: LoadedModel,
    request: ProfileRequest,
    *,
    clock: Callable[[], float] = time.perf_counter,
    should_stop: Callable[[], bool] = lambda: False,
) -> Iterator[Event]:
    """Count, then measure, yielding events; raises Cancelled when `should_stop()` turns true."""
    from .environment import capture_environment

    def check() -> None:
        if should_stop():
            raise Cancelled()

    specs = resolve_specs(loaded, request)
    runtime = request.runtime or ("onnxruntime" if loaded.is_onnx else "torch")
    if loaded.is_onnx and runtime != "onnxruntime":
        raise InputError(loaded.info.source, "an ONNX model runs with --runtime onnxruntime")
    if not loaded.is_onnx and runtime == "onnxruntime":
        raise InputError(loaded.info.source, "--runtime onnxruntime needs an .onnx file (export the model first)")
    if request.device == "cuda":
        _require_cuda(loaded, runtime)
    warnings = list(loaded.warnings)
    yield Event("progress", 0.05, "counting layers")
    check()
    if loaded.is_onnx:
        static = _onnx_static(loaded, specs)
    else:
        static = _torch_static(loaded, specs, request.device)
    rows, params, weight_bytes, unsupported, act_peak = static
    config = RunConfig(
        device=request.device,
        runtime=runtime,
        precision="fp32",
        batch=specs[0].shape[0] if specs and specs[0].shape else 1,
        threads=request.threads,
        seq_len=request.seq_len,
    )
    base = Profile(
        model=loaded.info,
        inputs=specs,
        config=config,
        environment=None,
        totals=Totals(
            params=params,
            macs=sum(r.macs for r in rows),
            flops=sum(r.flops for r in rows),
            weight_bytes=weight_bytes,
            activation_bytes=sum(r.activation_bytes for r in rows),
            activation_peak_bytes=act_peak,
        ),
        layers=rows,
        unsupported_ops=unsupported,
        warnings=tuple(warnings),
    )
    yield Event("static", 0.2, "counted", profile=base)
    if not request.latency or loaded.on_meta:
        env = capture_environment(request.threads)
        yield Event("finished", 1.0, "done", profile=dataclasses.replace(base, environment=env))
        return
    check()
    _guard_memory(loaded, specs, base, request.device)
    try:
        if loaded.is_onnx:
            measured = yield from _measure_onnx(loaded, specs, request, base, clock, should_stop)
        else:
            measured = yield from _measure_torch(loaded, specs, request, base, clock, should_stop)
    except MemoryError:
        raise MeasureError(loaded.info.source, "ran out of memory while measuring; lower the batch or sequence length") from None
    env = capture_environment(measured.config.threads or request.threads)
    measured = dataclasses.replace(measured, environment=env, config=dataclasses.replace(measured.config, threads=env.threads))
    yield Event("finished", 1.0, "done", profile=measured)


def profile_model(loaded: LoadedModel, request: ProfileRequest, **kwargs: Any) -> Profile:
    """Run `profile_events` to the end and return the finished profile."""
    result: Profile | None = None
    for event in profile_events(loaded, request, **kwargs):
        if event.kind == "finished":
            result = event.profile
    assert result is not None
    return result


def _guard_memory(loaded: LoadedModel, specs: tuple[InputSpec, ...], base: Profile, device: str) -> None:
    """Refuse, before running it, a measurement whose inputs, weights and counted activation
    peak would not fit in free memory (it would thrash or be killed instead)."""
    from .guard import check_memory

    bytes_per = {"float64": 8, "int64": 8, "float32": 4, "int32": 4, "float16": 2, "bfloat16": 2, "bool": 1, "int8": 1, "uint8": 1}
    inputs = sum(s.numel * bytes_per.get(s.dtype, 4) for s in specs)
    peak = base.totals.activation_peak_bytes or 0
    # A torch model's weights are resident already (free memory excludes them); an ONNX
    # session loads its own copy.
    weights = base.totals.weight_bytes if loaded.is_onnx or device == "cuda" else 0
    check_memory(int(inputs + weights + 1.5 * peak), device=device, what=loaded.info.source)


def _require_cuda(loaded: LoadedModel, runtime: str) -> None:
    if runtime == "onnxruntime":
        return  # the session reports a missing CUDA provider itself
    import torch

    if not torch.cuda.is_available():
        raise InputError("--device", "cuda was asked for, but torch sees no CUDA device here")


StaticResult = tuple[tuple[LayerRow, ...], int, int, dict[str, int], int | None]


def _torch_static(loaded: LoadedModel, specs: tuple[InputSpec, ...], device: str) -> StaticResult:
    from .torch_analysis import analyze_module

    model = loaded.module
    target = "meta" if loaded.on_meta else device
    if not loaded.on_meta and device == "cuda":
        model.to("cuda")
    args, kwargs = make_inputs(loaded, specs, device=target)
    try:
        analysis = analyze_module(model, args, kwargs, hooks=loaded.hooks_supported)
    except (InputError, MeasureError):
        raise
    except Exception as exc:
        raise MeasureError(loaded.info.source, f"the forward pass raised {type(exc).__name__}: {first_line(exc)}") from None
    rows = analysis.layers
    if loaded.type_names:  # torch.export: unflattened modules are InterpreterModules; show the real class
        rows = tuple(
            dataclasses.replace(r, type=loaded.type_names.get(r.name, r.type).split(" ")[0] + (" (own ops)" if "own ops" in r.type else ""))
            if r.type.startswith("InterpreterModule") or r.type.startswith("UnflattenedModule")
            else r
            for r in rows
        )
    peak = None if loaded.on_meta else analysis.activation_peak_bytes
    return rows, analysis.params, analysis.weight_bytes, analysis.unsupported_ops, peak if peak is not None else analysis.activation_peak_bytes


def _onnx_static(loaded: LoadedModel, specs: tuple[InputSpec, ...]) -> StaticResult:
    from .onnx_analysis import analyze_onnx

    assert loaded.onnx_path is not None
    a = analyze_onnx(loaded.onnx_path, specs)
    return a.layers, a.params, a.weight_bytes, a.unsupported_ops, a.activation_peak_bytes


def _measure_torch(
    loaded: LoadedModel,
    specs: tuple[InputSpec, ...],
    request: ProfileRequest,
    base: Profile,
    clock: Callable[[], float],
    should_stop: Callable[[], bool],
) -> Generator[Event, None, Profile]:
    import torch

    from .torch_timing import layer_latencies_ms, time_forward

    model = loaded.module
    args, kwargs = make_inputs(loaded, specs, device=request.device)
    if request.device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    rss_before = _max_rss_bytes()
    yield Event("progress", 0.3, "timing end to end")
    try:
        timing = time_forward(
            model, args, kwargs, device=request.device, threads=request.threads,
            clock=clock, budget_s=request.budget_s, should_stop=should_stop,
        )
    except Exception as exc:
        raise MeasureError(loaded.info.source, f"the forward pass raised {type(exc).__name__}: {first_line(exc)}") from None
    if timing.stopped_because == "cancelled":
        raise Cancelled()
    rss_growth = max(0, _max_rss_bytes() - rss_before)
    if request.device == "cuda":
        peak_memory: int | None = int(torch.cuda.max_memory_allocated())
    else:
        # Weights plus the largest set of intermediate tensors alive at once in a real forward.
        peak_memory = base.totals.weight_bytes + (base.totals.activation_peak_bytes or 0)
    rows = base.layers
    method = None
    if request.layer_latency and loaded.hooks_supported:
        yield Event("progress", 0.7, "timing each layer")
        streamed: list[tuple[str, float]] = []
        names = {r.name for r in rows}
        # Slow variants (bf16 on a CPU without it) get fewer hooked runs: each costs a forward.
        runs = max(1, min(request.layer_runs, int(request.budget_s * 1000 / max(timing.stats().median, 1e-3))))
        per_layer = layer_latencies_ms(
            model, args, kwargs, names, device=request.device, threads=request.threads,
            runs=runs, on_layer=lambda n, ms: streamed.append((n, ms)), should_stop=should_stop,
        )
        for name, ms in streamed:
            yield Event("layer", 0.8, layer=name, latency_ms=ms)
        if should_stop():
            raise Cancelled()
        rows = tuple(dataclasses.replace(r, latency_ms=round(per_layer.get(r.name, 0.0), 5)) for r in rows)
        method = "hooks"
    totals = dataclasses.replace(
        base.totals, latency_ms=timing.stats(), peak_memory_bytes=peak_memory, rss_growth_bytes=rss_growth
    )
    return dataclasses.replace(
        base, totals=totals, layers=rows, latency_source="measured", layer_latency_method=method,
        config=dataclasses.replace(base.config, threads=request.threads or torch.get_num_threads()),
    )


def _measure_onnx(
    loaded: LoadedModel,
    specs: tuple[InputSpec, ...],
    request: ProfileRequest,
    base: Profile,
    clock: Callable[[], float],
    should_stop: Callable[[], bool],
) -> Generator[Event, None, Profile]:
    from .onnx_timing import per_node_latency_ms, time_onnx

    assert loaded.onnx_path is not None
    yield Event("progress", 0.3, "timing end to end")
    timing, rss_growth = time_onnx(
        loaded.onnx_path, specs, threads=request.threads, clock=clock, budget_s=request.budget_s, should_stop=should_stop
    )
    if timing.stopped_because == "cancelled":
        raise Cancelled()
    rows = base.layers
    method = None
    if request.layer_latency:
        yield Event("progress", 0.7, "timing each node")
        per_node = per_node_latency_ms(loaded.onnx_path, specs, threads=request.threads, runs=request.layer_runs)
        rows = tuple(dataclasses.replace(r, latency_ms=round(per_node[r.name], 5)) if r.name in per_node else r for r in rows)
        for r in rows:
            if r.latency_ms is not None:
                yield Event("layer", 0.8, layer=r.name, latency_ms=r.latency_ms)
        method = "onnxruntime-profiling"
    # As for torch on the CPU: weights plus the largest set of tensors alive at once (from the
    # graph's liveness); the process RSS growth stays beside it, and 0 growth is not "no memory".
    peak = base.totals.weight_bytes + base.totals.activation_peak_bytes if base.totals.activation_peak_bytes is not None else None
    totals = dataclasses.replace(
        base.totals, latency_ms=timing.stats(), peak_memory_bytes=peak, rss_growth_bytes=rss_growth
    )
    import os

    return dataclasses.replace(
        base, totals=totals, layers=rows, latency_source="measured", layer_latency_method=method,
        config=dataclasses.replace(base.config, threads=request.threads or len(os.sched_getaffinity(0))),
    )


def _max_rss_bytes() -> int:
    import resource
    import sys

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(rss if sys.platform == "darwin" else rss * 1024)


