"""The worker process's side of the run protocol (profiler/worker.py has the caller's side):
`worker_main` serves requests from the pipe one at a time, drives each task's generator to
exactly one terminal event, and turns every exception into a typed `Failed` event.

Each run installs a `profiler.progress` sink: code deep inside a task (pruning, export,
quantization) reports stages from any thread, and the heartbeat keeps the fraction moving through
one long call. Those reports and the task's own `Progress` events share one throttle and one
never-backwards floor.

Standard library, profiler.events and profiler.progress only at module level: spawn re-imports
this module in every worker.
"""

from __future__ import annotations

import collections
import importlib
import os
import re
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from . import progress
from .events import Cancelled, Failed, FailureKind, Finished, Progress, Started, failure_kind
from .events import RunEvent as Event

__all__ = ["PROGRESS_INTERVAL_S", "failed_event", "load_task", "worker_main"]

PROGRESS_INTERVAL_S = 0.05  # progress events are throttled to ~20/s in the worker


def _first_line(text: str) -> str:
    for line in str(text).splitlines():
        if line.strip():
            return " ".join(line.split())
    return ""


def failed_event(exc: BaseException, run_id: int = 0) -> Failed:
    """The ``Failed`` event for an exception: its kind, one line, its file and machine-readable facts."""
    from .errors import StudioError

    exc_kind = getattr(exc, "failure_kind", None)
    if exc_kind is None and (isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError"):
        exc_kind = "memory"
    if isinstance(exc, StudioError):
        details = dict(getattr(exc, "details", {}) or {})
        kind = failure_kind(exc_kind, int(exc.exit_code), details)
        stage = details.pop("stage", None)
        details.pop("needs_trust", None)
        return Failed(
            kind, _first_line(str(exc)), exc.file, None if stage is None else str(stage), details, run_id=run_id
        )
    text = _first_line(str(exc))
    message = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return Failed(failure_kind(exc_kind, 3, {}), message, run_id=run_id)


class EventNotPicklable(Exception):
    """A task yielded something that cannot cross the pipe (a live module, a lambda, a tensor on CUDA...)."""


class _Control:
    """State the listener thread and the main loop share inside the worker."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.queue: collections.deque[tuple[int, str, dict[str, Any]]] = collections.deque()
        self.max_requested = 0  # newest run id asked for: every older one is superseded
        self.cancelled_upto = 0  # every run id <= this was cancelled
        self.current_id = 0
        self.current_stop: threading.Event | None = None
        self.closing = False

    def _stale(self, run_id: int) -> bool:
        return run_id < self.max_requested or run_id <= self.cancelled_upto or self.closing

    def request(self, run_id: int, task: str, payload: dict[str, Any]) -> None:
        with self.cond:
            self.max_requested = max(self.max_requested, run_id)
            self._signal_current()
            self.queue.append((run_id, task, payload))
            self.cond.notify_all()

    def cancel(self, run_id: int) -> None:
        with self.cond:
            self.cancelled_upto = max(self.cancelled_upto, run_id)
            self._signal_current()

    def close(self) -> None:
        with self.cond:
            self.closing = True
            self._signal_current()
            self.cond.notify_all()

    def _signal_current(self) -> None:
        if self.current_stop is not None and self._stale(self.current_id):
            self.current_stop.set()

    def next(self) -> tuple[int, str, dict[str, Any], threading.Event | None] | None:
        """The next request (its stop event is None when it was already superseded); None to exit."""
        with self.cond:
            while not self.queue and not self.closing:
                self.cond.wait()
            if self.closing:
                return None
            run_id, task, payload = self.queue.popleft()
            if self._stale(run_id):
                return run_id, task, payload, None
            self.current_id = run_id
            self.current_stop = threading.Event()
            return run_id, task, payload, self.current_stop

    def done(self) -> None:
        with self.cond:
            self.current_stop = None


def _listen(conn: Any, control: _Control, finished: threading.Event) -> None:
    """Read control messages while a task runs; the only reader of the worker's end of the pipe."""
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            control.close()  # the parent went away
            if not finished.wait(2.0):  # a task that ignores should_stop: do not linger as an orphan
                os._exit(0)
            return
        op = msg[0]
        if op == "run":
            control.request(msg[1], msg[2], msg[3])
        elif op == "cancel":
            control.cancel(msg[1])
        elif op == "close":
            control.close()
            return


class _Throttle:
    """At most one progress event per PROGRESS_INTERVAL_S, from any thread; a stage change
    (`force`), a task message naming a new step and the end (fraction 1) always pass."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = -PROGRESS_INTERVAL_S
        self._last_step = ""

    def allow(self, fraction: float, force: bool = False) -> bool:
        with self._lock:
            now = time.monotonic()
            if not force and fraction < 1.0 and now - self._last < PROGRESS_INTERVAL_S:
                return False
            self._last = now
            return True

    def allow_task_event(self, event: Progress) -> bool:
        """A task's own event: "model loaded" must not vanish behind a heartbeat sent 10 ms
        before it, while "round 3" after "round 2" is the same step and may be dropped."""
        step = _STEP_COUNTS.sub("", event.message)
        with self._lock:
            new_step, self._last_step = step != self._last_step, step
        return self.allow(event.fraction, force=new_step)


_STEP_COUNTS = re.compile(r"[\d/().,%]+")  # "round 3 (2 s)" and "round 4 (3 s)" are one step


def _progress_sink(send: Callable[[Event], None], run_id: int, throttle: _Throttle) -> progress.SendFn:
    """What the run's progress reporter calls (the task's thread or the heartbeat's)."""

    def send_progress(fraction: float, message: str, stage: str | None, force: bool) -> None:
        if throttle.allow(fraction, force):
            send(Progress(fraction, message, stage, run_id=run_id))

    return send_progress


_TASKS: dict[str, Callable[..., Any]] = {}


def load_task(name: str) -> Callable[..., Any]:
    fn = _TASKS.get(name)
    if fn is None:
        module_name, sep, attr = name.partition(":")
        if not sep or not module_name or not attr:
            raise ValueError(f"a task is named 'package.module:function', not {name!r}")
        obj: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
        if not callable(obj):
            raise TypeError(f"task {name!r} is not callable")
        fn = _TASKS[name] = obj
    return fn


def _run_one(
    send: Callable[[Event], None],
    run_id: int,
    task: str,
    payload: dict[str, Any],
    state: dict[str, Any],
    stop: threading.Event,
) -> None:
    """Drive one task to exactly one terminal event."""
    send(Started(task=task, pid=os.getpid(), run_id=run_id))
    should_stop = stop.is_set
    gen: Any = None
    throttle = _Throttle()
    reporter = progress.install(_progress_sink(send, run_id, throttle), should_stop=should_stop)
    send = _ending_progress(send, reporter)
    try:
        fn = load_task(task)
        gen = fn(payload, state, should_stop)
        if not hasattr(gen, "__next__"):  # a plain function: its return value is the result
            if stop.is_set():
                send(Cancelled("stopped", run_id=run_id))
            else:
                send(Finished(gen, run_id=run_id))
            return
        while True:
            try:
                item = next(gen)
            except StopIteration as end:
                if stop.is_set():
                    send(Cancelled("stopped", run_id=run_id))
                elif end.value is not None:
                    send(Finished(end.value, run_id=run_id))
                else:
                    send(Failed(FailureKind.MODEL_FAILED, f"task {task} ended without a result", run_id=run_id))
                return
            if not isinstance(item, Event):
                raise TypeError(f"task {task} yielded {type(item).__name__}, not a run event (profiler.events)")
            event = replace(item, run_id=run_id)
            if isinstance(event, Finished | Failed):
                _close(gen)
                send(replace(event, cached=False) if isinstance(event, Finished) else event)
                return
            if isinstance(event, Cancelled) or stop.is_set():  # every yield is also a check point
                _close(gen)
                send(Cancelled("stopped", run_id=run_id))
                return
            if isinstance(event, Progress):
                event = replace(event, fraction=progress.publish(event.fraction))  # never backwards
                if not throttle.allow_task_event(event):
                    continue
            send(event)
    except BaseException as exc:  # noqa: BLE001 - every failure (SystemExit too) becomes an event
        if stop.is_set() or type(exc).__name__ == "Cancelled":
            send(Cancelled("stopped", run_id=run_id))
        else:
            send(failed_event(exc, run_id))
    finally:
        progress.uninstall(reporter)
        _close(gen)


def _ending_progress(send: Callable[[Event], None], reporter: progress.Reporter) -> Callable[[Event], None]:
    """`send` that stops the run's progress before its terminal event: no heartbeat after it."""

    def send_event(event: Event) -> None:
        if event.terminal:
            progress.uninstall(reporter)
        send(event)

    return send_event


def _close(gen: Any) -> None:
    """Close a task's generator (its ``finally`` blocks run); errors there were already reported."""
    close = getattr(gen, "close", None)
    if close is not None:
        try:
            close()
        except BaseException:  # noqa: BLE001, S110
            pass


def worker_main(conn: Any, parent_pid: int | None = None, scratch: str | None = None) -> None:
    """Entry point of the worker process (spawned): serve requests until told to close."""
    from .process_guard import isolate_worker, kill_process_tree

    isolate_worker(parent_pid if parent_pid is not None else os.getppid(), scratch)
    try:  # a Ctrl+C in the terminal goes to the whole process group; the parent decides
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except (ValueError, OSError):
        pass
    control = _Control()
    finished = threading.Event()
    listener = threading.Thread(target=_listen, args=(conn, control, finished), name="worker-listener", daemon=True)
    listener.start()
    state: dict[str, Any] = {}
    send_lock = threading.Lock()  # the task's thread and the progress heartbeat both send

    def send(event: Event) -> None:
        # conn.send pickles before it writes: an unpicklable event raises here (and becomes the
        # run's Failed event in _run_one) without leaving half a message in the pipe.
        try:
            with send_lock:
                conn.send(event)
        except (BrokenPipeError, EOFError, ConnectionError):
            control.close()  # the parent went away
        except Exception as exc:
            raise EventNotPicklable(
                f"the task's {event.kind} event is not plain picklable data ({type(exc).__name__}: {_first_line(str(exc))})"
            ) from None

    try:
        while True:
            item = control.next()
            if item is None:
                break
            run_id, task, payload, stop = item
            if stop is None:
                send(Cancelled("superseded", run_id=run_id))
                continue
            try:
                _run_one(send, run_id, task, payload, state, stop)
            finally:
                # whatever the model started dies with the run (detached ones too: we reap them)
                kill_process_tree(os.getpid(), include_self=False, group=False)
                control.done()
    finally:
        finished.set()
