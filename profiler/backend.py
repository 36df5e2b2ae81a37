"""The one interface the rest of the core uses to reach a runtime: a `Backend` per package.

Each runtime lives in its own package, `profiler/<name>_backend/`, whose `backend` module
defines `BACKEND`, an object with the attributes and methods of `Backend` below (analysis,
timing and transforms stay in the package's own modules and are imported inside the methods).
`backend_for(loaded)` picks the backend that handles a loaded model; `backends()` finds them by
listing the `*_backend` packages, so a third runtime is added by adding a folder.

Importing this module imports nothing heavy (and none of the backends).
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable, Generator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol

from .result import LayerRow

if TYPE_CHECKING:
    from .analyze import Event, ProfileRequest
    from .loaded_model import LoadedModel
    from .result import InputSpec, Profile
    from .variant import Variant
    from .whatif import WhatIfSession

__all__ = ["Backend", "StaticResult", "TimedCall", "Transformed", "backend_for", "backends"]

#: Rows, params, weight bytes, unsupported ops (op -> count), activation peak bytes (None: unknown).
StaticResult = tuple[tuple[LayerRow, ...], int, int, dict[str, int], "int | None"]
#: A transformed variant ready to profile: the model, notes, prune report, per-layer weight density.
Transformed = tuple["LoadedModel", list[str], "dict[str, Any] | None", "dict[str, float] | None"]
#: One prepared forward call (inputs made, session built) and the sync to run after it (CUDA).
TimedCall = tuple[Callable[[], object], "Callable[[], None] | None"]


class Backend(Protocol):
    """What the core asks of a runtime. Methods take the `LoadedModel` they are given."""

    #: Short name of the backend ("torch", "onnx").
    name: str
    #: The `--runtime` value that measures a model of this backend ("torch", "onnxruntime").
    runtime: str
    #: Whether static counting knows this backend's int8 ops (when not, the what-if engine keeps
    #: the fp32 baseline's MACs for rows of an int8 variant it could not count).
    counts_int8: bool

    def handles(self, loaded: LoadedModel) -> bool:
        """Whether this backend runs `loaded`."""
        ...

    def check_runtime(self, loaded: LoadedModel, runtime: str) -> None:
        """Raise InputError when `runtime` cannot measure `loaded`."""
        ...

    def require_device(self, loaded: LoadedModel, runtime: str, device: str) -> None:
        """Raise InputError when `device` is not available to this runtime (checked before counting)."""
        ...

    def static(self, loaded: LoadedModel, specs: tuple[InputSpec, ...], device: str) -> StaticResult:
        """Count per layer at `specs`; nothing is timed."""
        ...

    def weights_loaded_again(self, device: str) -> bool:
        """Whether measuring on `device` holds a second copy of the weights (for the memory guard)."""
        ...

    def measure(
        self,
        loaded: LoadedModel,
        specs: tuple[InputSpec, ...],
        request: ProfileRequest,
        base: Profile,
        clock: Callable[[], float],
        should_stop: Callable[[], bool],
    ) -> Generator[Event, None, Profile]:
        """Time end to end (and per layer when asked), yielding events; returns the measured profile."""
        ...

    def timed_call(
        self, loaded: LoadedModel, specs: tuple[InputSpec, ...], device: str, threads: int | None
    ) -> AbstractContextManager[TimedCall]:
        """While open: a ready forward of the model as users run it, for interleaved comparisons."""
        ...

    def outputs(self, loaded: LoadedModel, session: WhatIfSession, specs: tuple[InputSpec, ...], device: str) -> Any:
        """The first output for the session's inputs at `specs`, as a float64 numpy array."""
        ...

    def transform(self, session: WhatIfSession, variant: Variant) -> Transformed:
        """The session's model changed as `variant` asks (InputError for what is not offered)."""
        ...

    def variant_memory_bytes(self, session: WhatIfSession, variant: Variant) -> int | None:
        """Bytes a variant run is expected to need, for the guard before it starts (None: not estimated)."""
        ...


def measured_profile(
    base: Profile,
    loaded: LoadedModel,
    device: str,
    *,
    rows: tuple[LayerRow, ...],
    totals: Any,
    method: str | None,
    threads: int,
    timing: Any,
) -> Profile:
    """What every backend's `measure` returns: the counted profile with what was measured, the
    machine and its state while timing (`timing.conditions`), and what end to end was timed on."""
    import dataclasses

    from .environment import capture_environment

    return dataclasses.replace(
        base,
        totals=totals,
        layers=rows,
        latency_source="measured",
        layer_latency_method=method,
        config=dataclasses.replace(base.config, threads=threads),
        environment=capture_environment(threads, timing.conditions),
        timed_as=loaded.timed_as(device),
    )


#: The backends that ship with the core; found by name too where the folder cannot be listed
#: (a frozen bundle). Others are found by listing the `*_backend` packages.
_BUILT_IN = ("onnx_backend", "torch_backend")


@functools.cache
def backends() -> tuple[Backend, ...]:
    """Every backend package's `BACKEND`, in the order of the packages' names."""
    import profiler

    names = set(_BUILT_IN)
    names.update(m.name for m in pkgutil.iter_modules(profiler.__path__) if m.ispkg and m.name.endswith("_backend"))
    return tuple(importlib.import_module(f"profiler.{name}.backend").BACKEND for name in sorted(names))


def backend_for(loaded: LoadedModel) -> Backend:
    """The backend that runs `loaded`."""
    for backend in backends():
        if backend.handles(loaded):
            return backend
    raise LookupError(f"no backend runs {loaded.info.source!r}")
