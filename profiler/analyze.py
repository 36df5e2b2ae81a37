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

from .backend import backend_for
from .errors import MeasureError
from .inputs import resolve_inputs
from .loaded_model import LoadedModel
from .result import InputSpec, Profile, RunConfig, Totals


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
    #: end to end already timed by the caller (a `measure.Timing`: the what-if engine's
    #: interleaved comparison); the backend uses it instead of timing again. Not serialised.
    timing: Any = None


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
    end_to_end: Callable[[], Generator[Event, None, Any]] | None = None,
) -> Iterator[Event]:
    """Count, then measure, yielding events; raises Cancelled when `should_stop()` turns true.

    `end_to_end`, when given, times end to end itself once the model is counted and the memory
    guard has passed (the what-if engine times a variant beside its baseline): a generator of
    events whose return value, a `measure.Timing`, the backend uses instead of timing again."""
    from .environment import capture_environment

    def check() -> None:
        if should_stop():
            raise Cancelled()

    specs = resolve_specs(loaded, request)
    backend = backend_for(loaded)
    runtime = request.runtime or backend.runtime
    backend.check_runtime(loaded, runtime)
    backend.require_device(loaded, runtime, request.device)
    warnings = list(loaded.warnings)
    yield Event("progress", 0.05, "counting layers")
    check()
    static = backend.static(loaded, specs, request.device)
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
    _guard_memory(loaded, specs, base, request.device, backend.weights_loaded_again(request.device))
    try:
        if end_to_end is not None:
            request = dataclasses.replace(request, timing=(yield from end_to_end()))
        measured = yield from backend.measure(loaded, specs, request, base, clock, should_stop)
    except MemoryError:
        raise MeasureError(
            loaded.info.source, "ran out of memory while measuring; lower the batch or sequence length"
        ) from None
    # A backend that recorded the conditions of its timing captured the environment with them.
    env = measured.environment or capture_environment(measured.config.threads or request.threads)
    measured = dataclasses.replace(
        measured, environment=env, config=dataclasses.replace(measured.config, threads=env.threads)
    )
    yield Event("finished", 1.0, "done", profile=measured)


def profile_model(loaded: LoadedModel, request: ProfileRequest, **kwargs: Any) -> Profile:
    """Run `profile_events` to the end and return the finished profile."""
    result: Profile | None = None
    for event in profile_events(loaded, request, **kwargs):
        if event.kind == "finished":
            result = event.profile
    assert result is not None
    return result


def _guard_memory(
    loaded: LoadedModel, specs: tuple[InputSpec, ...], base: Profile, device: str, weights_again: bool
) -> None:
    """Refuse, before running it, a measurement whose inputs, weights and counted activation
    peak would not fit in free memory (it would thrash or be killed instead)."""
    from .guard import check_memory

    bytes_per = {
        "float64": 8,
        "int64": 8,
        "float32": 4,
        "int32": 4,
        "float16": 2,
        "bfloat16": 2,
        "bool": 1,
        "int8": 1,
        "uint8": 1,
    }
    inputs = sum(s.numel * bytes_per.get(s.dtype, 4) for s in specs)
    peak = base.totals.activation_peak_bytes or 0
    # Weights already resident are excluded from free memory; a backend that loads its own copy
    # (an onnxruntime session, a model moved to the GPU) needs room for them again.
    weights = base.totals.weight_bytes if weights_again else 0
    check_memory(int(inputs + weights + 1.5 * peak), device=device, what=loaded.info.source)
