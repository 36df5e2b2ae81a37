"""The run protocol: typed events of one measurement run, as picklable frozen dataclasses.

A task (``profiler.tasks``, ``profiler.trace``) yields these objects; the worker stamps each with
its run id (``dataclasses.replace``: the only conversion) and sends it over the pipe as is; the
``Runner`` adds ``Started``, ``Cancelled`` and the failures it sees itself (a dead worker, a time
limit, memory pressure); the app's controller and the command line dispatch on the type, and on
``Failed.kind`` — never on message text. Every run ends with exactly one terminal event:
``Finished``, ``Failed`` or ``Cancelled``.

Payloads stay plain data where they cross into documents: ``StaticResult.profile`` is the
``tradeoff.profile/1`` dict and ``Finished.result`` the task's JSON-ready result (a VariantResult,
Profile or TraceResult dict) — the schemas the project already versions, cheap to pickle and
independent of how ``profiler.result`` evolves; the receiver builds objects with ``from_dict``.

Import-light (standard library only): the worker imports this in every spawned process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

__all__ = [
    "RunEvent",
    "Started",
    "Progress",
    "StaticResult",
    "LayerMeasured",
    "Finished",
    "Failed",
    "Cancelled",
    "FailureKind",
    "INPUT_FAILURES",
    "TERMINAL",
]


class FailureKind(StrEnum):
    """Why a run failed. The first three are the user's input (CLI exit 2), the rest the run (exit 3)."""

    UNUSABLE_INPUT = "unusable_input"  # a missing, corrupt or unsupported file; a bad shape or option
    NEEDS_TRUST = "needs_trust"  # the model would run code from the file: ask for trust
    MISSING_DIM = "missing_dim"  # an input size is unknown: ask for a shape (fields["missing_dim"])
    MODEL_FAILED = "model_failed"  # the model raised, or its process died (fields["worker_died"])
    OUT_OF_MEMORY = "out_of_memory"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"  # the task stopped itself with a failure that means "cancelled"


INPUT_FAILURES = frozenset({FailureKind.UNUSABLE_INPUT, FailureKind.NEEDS_TRUST, FailureKind.MISSING_DIM})


@dataclass(frozen=True, slots=True)
class RunEvent:
    """Base of every event; ``run_id`` is stamped by the worker (tasks leave it 0)."""

    run_id: int = field(default=0, kw_only=True)
    kind: ClassVar[str] = "event"  # the event's name (for logs)
    terminal: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class Started(RunEvent):
    """The worker took the run (``pid`` None and ``cached`` True for a cache hit)."""

    task: str = ""
    pid: int | None = None
    cached: bool = False
    kind: ClassVar[str] = "started"


@dataclass(frozen=True, slots=True)
class Progress(RunEvent):
    """How far the run is (0…1), a short message, and the stage it belongs to ("baseline", …)."""

    fraction: float = 0.0
    message: str = ""
    stage: str | None = None
    kind: ClassVar[str] = "progress"


@dataclass(frozen=True, slots=True)
class StaticResult(RunEvent):
    """Counted rows before timing: ``profile`` is the ``tradeoff.profile/1`` dict. ``baseline``
    marks the baseline's profile at the variant's shapes rather than the variant's own."""

    profile: dict[str, Any] = field(default_factory=dict)
    fraction: float = 0.0
    stage: str | None = None
    baseline: bool = False

    @property
    def kind(self) -> str:  # type: ignore[override]
        return "baseline" if self.baseline else "static"


@dataclass(frozen=True, slots=True)
class LayerMeasured(RunEvent):
    """One layer's measured latency (None when it could not be timed)."""

    layer: str = ""
    latency_ms: float | None = None
    stage: str | None = None
    kind: ClassVar[str] = "layer"


@dataclass(frozen=True, slots=True)
class Finished(RunEvent):
    """The run's JSON-ready result; ``cached`` when answered from the Runner's cache."""

    result: Any = None
    cached: bool = False
    kind: ClassVar[str] = "finished"
    terminal: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class Failed(RunEvent):
    """The run failed: ``kind`` says why (react to it, not to ``message``, which is one line for
    people). ``file`` is the file the failure is about (None: the model itself); ``stage`` where
    it failed ("load": the model or its inputs could not be opened, so no variant can run);
    ``fields`` machine-readable facts (``missing_dim``: {"input", "dim", "symbol", "declared"};
    ``worker_died`` and ``exitcode`` for a dead worker)."""

    failure: FailureKind = FailureKind.MODEL_FAILED
    message: str = ""
    file: str | None = None
    stage: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    kind: ClassVar[str] = "failed"
    terminal: ClassVar[bool] = True

    @property
    def exit_code(self) -> int:
        """The command line's exit code: 2 for the user's input, 3 for the run."""
        return 2 if self.failure in INPUT_FAILURES else 3

    @property
    def worker_died(self) -> bool:
        return bool(self.fields.get("worker_died"))

    @property
    def details(self) -> dict[str, Any]:
        """The core's StudioError.details shape: the fields, the stage, and the trust flag."""
        out = dict(self.fields)
        if self.failure is FailureKind.NEEDS_TRUST:
            out["needs_trust"] = True
        if self.stage is not None:
            out["stage"] = self.stage
        return out


@dataclass(frozen=True, slots=True)
class Cancelled(RunEvent):
    """The run stopped before its end: ``reason`` superseded | cancelled | stopped | closed;
    ``killed`` when the worker had to be killed because the task did not stop in time."""

    reason: str = "cancelled"
    killed: bool = False
    kind: ClassVar[str] = "cancelled"
    terminal: ClassVar[bool] = True


TERMINAL = (Finished, Failed, Cancelled)


def failure_kind(exc_kind: object, exit_code: int, details: dict[str, Any]) -> FailureKind:
    """The kind of a failure from what the exception says: a StudioError's exit code and details,
    and the exception's own ``failure_kind`` attribute ("memory", "timeout", "crash")."""
    if exit_code == 2:
        if details.get("needs_trust"):
            return FailureKind.NEEDS_TRUST
        if details.get("missing_dim") is not None:
            return FailureKind.MISSING_DIM
        return FailureKind.UNUSABLE_INPUT
    if exc_kind == "memory":
        return FailureKind.OUT_OF_MEMORY
    if exc_kind == "timeout":
        return FailureKind.TIMED_OUT
    return FailureKind.MODEL_FAILED
