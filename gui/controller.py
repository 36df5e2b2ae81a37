"""The run controller: drives the measurement worker from a QTimer and re-emits Qt signals.

The UI thread never measures: `RunController` submits `profiler.tasks:variant_task` runs to a
`profiler.worker.Runner` (a spawned process), polls it every 30 ms while busy, debounces knob
changes (250 ms: dragging a slider asks once, when it rests), and lets a new request supersede
the current one. Stale events never reach the signals.

Tests inject an in-process runner with the same `submit/poll/cancel/busy/close` API
(`InProcessRunner` below), so GUI tests need no process start.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from typing import Any, Protocol

from PySide6.QtCore import QObject, QTimer, Signal

from profiler.analyze import ProfileRequest
from profiler.events import (
    Cancelled,
    Failed,
    FailureKind,
    Finished,
    LayerMeasured,
    Progress,
    RunEvent,
    Started,
    StaticResult,
)
from profiler.result import Profile
from profiler.tasks import request_to_dict
from profiler.variant import Variant
from profiler.whatif import VariantResult

VARIANT_TASK = "profiler.tasks:variant_task"
POLL_BUSY_MS = 30
DEBOUNCE_MS = 250
#: Live knob changes measure quickly: ~1 s per change on resnet18, enough to compare variants.
LIVE_BUDGET_S = 0.5
LIVE_LAYER_RUNS = 2
TIME_LIMIT_S = 600.0
WORKER_NICENESS = 5


class RunnerLike(Protocol):
    busy: bool

    def submit(
        self,
        task: str,
        payload: dict[str, Any] | None = None,
        *,
        time_limit_s: float | None = None,
        cache_key: str | None = None,
    ) -> int: ...

    def poll(self, timeout_s: float = 0.0) -> list[RunEvent]: ...

    def cancel(self) -> None: ...

    def close(self) -> None: ...


def _default_runner() -> RunnerLike:
    from profiler.worker import Runner

    return Runner()  # type: ignore[return-value]


class RunController(QObject):
    """Owns the runner; one model at a time; signals say what happened."""

    run_started = Signal(int, object)  # run id, Variant
    progress_changed = Signal(float, str)  # fraction 0…1, message
    static_ready = Signal(object)  # Profile: counted rows, before timing
    baseline_ready = Signal(object)  # Profile: the baseline at this variant's shapes
    layer_measured = Signal(str, float)  # layer name, latency in ms
    run_finished = Signal(object)  # VariantResult
    #: profiler.events.Failed: react to its `failure` (a FailureKind: needs_trust, missing_dim, …)
    #: and `fields` ({"missing_dim": {"input", …}}, {"worker_died": True}); `message` is for people.
    run_failed = Signal(object)
    run_cancelled = Signal()
    busy_changed = Signal(bool)

    def __init__(
        self,
        runner_factory: Callable[[], RunnerLike] | None = None,
        parent: QObject | None = None,
        *,
        debounce_ms: int = DEBOUNCE_MS,
        request: ProfileRequest | None = None,
    ) -> None:
        super().__init__(parent)
        self._runner_factory = runner_factory or _default_runner
        self._runner: RunnerLike | None = None
        self._base_request = request or ProfileRequest(
            budget_s=LIVE_BUDGET_S, layer_runs=LIVE_LAYER_RUNS, threads=app_measure_threads()
        )
        self.source: str | None = None
        self.trust = False
        self.shapes: tuple[tuple[str | None, tuple[int, ...]], ...] = ()
        self._pending: Variant | None = None
        self._run_id: int | None = None
        self._run_variant: Variant | None = None
        self._busy = False
        self._niced_pid: int | None = None
        self._debounce = QTimer(self, singleShot=True, interval=debounce_ms)
        self._debounce.timeout.connect(self._submit_pending)
        self._poll = QTimer(self, interval=POLL_BUSY_MS)
        self._poll.timeout.connect(self._on_poll_timer)

    # -- requests -------------------------------------------------------------------------------

    @property
    def runner(self) -> RunnerLike:
        if self._runner is None:
            self._runner = self._runner_factory()
        return self._runner

    @property
    def busy(self) -> bool:
        return self._busy

    @property
    def current_variant(self) -> Variant | None:
        return self._run_variant

    def worker_pid(self) -> int | None:
        return getattr(self._runner, "worker_pid", None) if self._runner is not None else None

    def set_model(
        self, source: str, trust: bool = False, shapes: tuple[tuple[str | None, tuple[int, ...]], ...] = ()
    ) -> None:
        """Switch to `source`; the next request measures it (the worker loads it once)."""
        self.source, self.trust, self.shapes = source, trust, tuple(shapes)

    def request(self, variant: Variant, *, immediate: bool = False) -> None:
        """Measure `variant`: after the debounce delay, superseding whatever runs now."""
        self._pending = variant
        if immediate:
            self._debounce.stop()
            self._submit_pending()
        else:
            self._debounce.start()

    def cancel(self) -> None:
        """Stop the running measurement (its `Cancelled` event follows) or drop the one waiting
        out the debounce; either way `run_cancelled` tells the window to show the last result's
        knobs again."""
        self._debounce.stop()
        had_pending, self._pending = self._pending is not None, None
        if self._runner is not None and self._run_id is not None:
            self._runner.cancel()
        elif had_pending:  # the request waited out the debounce, nothing runs: no event will come
            self._set_busy(False)
            self.run_cancelled.emit()

    def close(self) -> None:
        self._debounce.stop()
        self._poll.stop()
        if self._runner is not None:
            self._runner.close()
            self._runner = None

    def cache_key(self, variant: Variant) -> str:
        return f"{self.source}|{self.trust}|{self.shapes!r}|{variant.key()}"

    def payload(self, variant: Variant) -> dict[str, Any]:
        from dataclasses import replace

        request = replace(self._base_request, shapes=self.shapes)
        return {
            "source": self.source,
            "trust": self.trust,
            "request": request_to_dict(request),
            "inputs": None,
            "variant": variant.to_dict(),
        }

    def _submit_pending(self) -> None:
        variant, self._pending = self._pending, None
        if variant is None or self.source is None:
            return
        self._run_variant = variant
        self._run_id = self.runner.submit(
            VARIANT_TASK, self.payload(variant), time_limit_s=TIME_LIMIT_S, cache_key=self.cache_key(variant)
        )
        self._set_busy(True)
        self._poll.start()
        self._on_poll_timer()  # a cached result is there already: show it without a timer tick

    # -- events ---------------------------------------------------------------------------------

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.busy_changed.emit(busy)

    def _on_poll_timer(self) -> None:
        runner = self._runner
        if runner is None:
            return
        for event in runner.poll(0.0):
            self._dispatch(event)
        if not runner.busy and self._run_id is None:
            self._poll.stop()

    def _dispatch(self, event: RunEvent) -> None:
        if event.run_id != self._run_id:
            return  # a superseded run's terminal event: its successor speaks for it
        if isinstance(event, Started):
            self._lower_worker_priority(event.pid)
            self.run_started.emit(event.run_id, self._run_variant)
        elif isinstance(event, Progress):
            self.progress_changed.emit(float(event.fraction), event.message)
        elif isinstance(event, StaticResult):
            profile = Profile.from_dict(event.profile)
            (self.baseline_ready if event.baseline else self.static_ready).emit(profile)
        elif isinstance(event, LayerMeasured):
            if event.latency_ms is not None:
                self.layer_measured.emit(event.layer, float(event.latency_ms))
        elif isinstance(event, Finished):
            self._end_run()
            result = event.result
            try:
                vr = VariantResult.from_dict(result) if isinstance(result, dict) else None
            except Exception as exc:  # a malformed result is a bug in the core: report it, carry on
                self._fail(event, f"the measurement returned an unreadable result ({exc})")
                return
            if vr is None:
                self._fail(event, "the measurement returned no result")
            elif vr.error:
                self._fail(event, vr.error)
            else:
                self.run_finished.emit(vr)
        elif isinstance(event, Failed):
            self._end_run()
            self.run_failed.emit(event)
        elif isinstance(event, Cancelled):
            self._end_run()
            self.run_cancelled.emit()

    def _fail(self, event: RunEvent, message: str) -> None:
        self.run_failed.emit(Failed(FailureKind.MODEL_FAILED, message, run_id=event.run_id))

    def _lower_worker_priority(self, pid: object) -> None:
        """Nice the worker by +5 once: on a machine whose cores the timing saturates, the OS
        would otherwise starve the UI for 100+ ms at a time. The UI needs little CPU, so the
        measurement loses almost nothing, and the window keeps answering."""
        if not isinstance(pid, int) or pid == self._niced_pid:
            return
        self._niced_pid = pid
        try:
            import psutil

            proc = psutil.Process(pid)
            proc.nice(max(proc.nice(), WORKER_NICENESS))
        except Exception:  # another OS, or the worker already gone: not worth an error
            pass

    def _end_run(self) -> None:
        self._run_id = None
        if self._pending is None or not self._debounce.isActive():
            self._set_busy(False)


# --- an in-process runner for tests and debugging ----------------------------------------------


def app_measure_threads() -> int:
    """Intra-op threads for measurements started from the app: one core fewer than the machine
    has, so the window keeps a core to paint on (on a 2-core machine a worker using both cores
    stalled the event loop for ~100 ms at a time). The CLI uses every core unless --threads."""
    import os

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores - 1)


class InProcessRunner:
    """The Runner API, running task generators in this process one event per `poll` step.

    Same protocol as `profiler.worker.Runner` (started → … → one terminal event; superseding;
    caching by `cache_key`), without a process: fast GUI tests. It loads torch in the caller's
    process, so the app itself never uses it.
    """

    def __init__(self, *, events_per_poll: int = 8) -> None:
        self._next_id = 0
        self._gen: Generator[RunEvent, None, None] | None = None
        self._run_id = 0
        self._cache_key: str | None = None
        self._cache: dict[str, Any] = {}
        self._backlog: list[RunEvent] = []
        self._state: dict[str, Any] = {}
        self._stop = False
        self.events_per_poll = events_per_poll
        self.submitted: list[tuple[str, dict[str, Any]]] = []
        self.worker_pid = None

    @property
    def busy(self) -> bool:
        return self._gen is not None

    def submit(
        self,
        task: str,
        payload: dict[str, Any] | None = None,
        *,
        time_limit_s: float | None = None,
        cache_key: str | None = None,
    ) -> int:
        self.cancel()
        self._next_id += 1
        run_id = self._next_id
        self.submitted.append((task, dict(payload or {})))
        if cache_key is not None and cache_key in self._cache:
            self._backlog += [
                Started(task=task, cached=True, run_id=run_id),
                Finished(self._cache[cache_key], cached=True, run_id=run_id),
            ]
            return run_id
        from profiler.worker_process import load_task

        self._stop = False
        self._run_id, self._cache_key = run_id, cache_key
        self._gen = load_task(task)(dict(payload or {}), self._state, lambda: self._stop)
        self._backlog.append(Started(task=task, run_id=run_id))
        return run_id

    def cancel(self) -> None:
        if self._gen is not None:
            self._stop = True
            self._gen.close()
            self._gen = None
            self._backlog.append(Cancelled("cancelled", run_id=self._run_id))

    def poll(self, timeout_s: float = 0.0) -> list[RunEvent]:
        from dataclasses import replace

        from profiler.worker_process import failed_event

        end = time.monotonic() + 0.02
        for _ in range(self.events_per_poll):
            if self._gen is None or time.monotonic() > end:
                break
            try:
                event = replace(next(self._gen), run_id=self._run_id)
            except StopIteration:
                self._gen = None
                self._backlog.append(
                    Cancelled("stopped", run_id=self._run_id)
                    if self._stop
                    else Failed(FailureKind.MODEL_FAILED, "task ended without a result", run_id=self._run_id)
                )
                break
            except Exception as exc:  # the worker's contract: every exception becomes a failed event
                self._gen = None
                self._backlog.append(failed_event(exc, self._run_id))
                break
            if event.terminal:
                self._gen = None
                if isinstance(event, Finished) and self._cache_key is not None:
                    self._cache[self._cache_key] = event.result
            self._backlog.append(event)
        events, self._backlog = self._backlog, []
        return events

    def close(self) -> None:
        self.cancel()
        self._backlog.clear()
