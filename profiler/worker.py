"""Run measurement tasks in a spawned worker process, one at a time, superseding and cancelling.

A *task* is a generator function named ``"package.module:function"`` that yields the typed run
events of ``profiler.events`` (run id left at 0)::

    def task(payload: dict, state: dict, should_stop: Callable[[], bool]) -> Iterator[RunEvent]:
        yield Progress(0.1, "counting")
        ...
        yield Finished({...})

``state`` is a dict that lives as long as the worker process (a loaded baseline model stays there
between requests). The worker imports the task, drives it, stamps each event with the run id and
sends it over a ``Pipe`` as is (frozen dataclasses of plain data). The model is superqt's
generator workers and Orange3's ``run(data, state)`` tasks (docs/ARCHITECTURE.md, "A knob change,
end to end"), without Qt: the GUI's controller calls ``Runner.poll()`` from a ``QTimer``; the CLI
calls ``Runner.wait()``.

Protocol, as the caller sees it (the event types of ``profiler.events``):

* ``Started`` — the worker took the run (``task``, ``pid``; ``cached=True`` for a cache hit);
* ``Progress`` (throttled to ~20/s at the source), ``StaticResult``, ``LayerMeasured`` — passed
  through unchanged;
* exactly one terminal event per run: ``Finished`` (``result``, ``cached``), ``Failed``
  (``failure``: a ``FailureKind``; ``message``, ``file``, ``stage``, ``fields``; ``exit_code``
  follows from the kind) or ``Cancelled`` (``reason`` superseded | cancelled | stopped | closed,
  ``killed``).

A run that was superseded or cancelled only ever reports ``Cancelled`` (its other events are
stale and dropped, and a result it still finished with goes to the cache). A task exception never
reaches the caller: it becomes a ``Failed`` event. A worker that dies (segfault, ``os._exit``,
``kill -9``, the OOM killer) fails the current run with kind ``model_failed`` and
``fields["worker_died"]``, and the next ``submit`` starts a fresh worker. A time limit (counted
from the worker's ``Started``) and a cancel both ask the task to stop first and kill the worker
only when it has not stopped within ``grace_s``, so a cooperative task keeps the worker (and its
``state``) alive. ``cache_key`` answers a repeated request from the results of earlier finished
runs (``Started`` + ``Finished`` with ``cached=True``) without touching the worker; treat cached
results as read-only.

This module stays import-light (standard library and ``profiler.events`` only at module level):
spawn re-imports it in every worker, and the GUI imports it at start-up.
"""

from __future__ import annotations

import collections
import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from multiprocessing.connection import wait as _mp_wait
from typing import Any

from .events import Cancelled, Failed, FailureKind, Finished, Started
from .events import RunEvent as Event
from .worker_process import failed_event, worker_main

__all__ = ["Event", "Runner", "TaskFn", "failed_event"]

TaskFn = Callable[[dict[str, Any], dict[str, Any], Callable[[], bool]], Iterator[Event]]

_CACHE_SIZE = 64
_KEEP_TERMINALS = 256


# --------------------------------------------------------------------------------------------
# The caller's side
# --------------------------------------------------------------------------------------------


@dataclass
class _Run:
    run_id: int
    task: str
    payload: dict[str, Any]
    time_limit_s: float | None
    cache_key: str | None
    started_at: float | None = None


@dataclass
class _Stopping:
    run: _Run
    kill_at: float
    outcome: Failed | Cancelled  # reported when the worker acknowledges, or when it is killed


def _death_message(exitcode: int | None) -> str:
    if exitcode is None:
        return "the measurement process stopped answering"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        else:
            name = f"signal {name}"
        hint = "; perhaps it ran out of memory" if exitcode == -signal.SIGKILL else ""
        return f"the measurement process died ({name}{hint})"
    return f"the measurement process died (exit code {exitcode})"


class Runner:
    """Runs one task at a time in a spawned worker process; see the module docstring.

    Not thread-safe: call it from one thread (the GUI thread's QTimer, or the CLI's main thread).
    Deadlines (the grace period, time limits) are enforced inside ``poll``/``wait``, so poll often
    (every 20–50 ms) while ``busy``.
    """

    def __init__(
        self,
        *,
        grace_s: float = 1.0,
        start_method: str = "spawn",
        memory_reserve_bytes: int | None = None,
        memory_min_rss_bytes: int | None = None,
    ) -> None:
        self.grace_s = float(grace_s)
        # stop a run when free memory falls below the reserve while its processes hold at least
        # min_rss (defaults: 5 % of the machine but at least 512 MiB; a quarter of the machine)
        self.memory_reserve_bytes = memory_reserve_bytes
        self.memory_min_rss_bytes = memory_min_rss_bytes
        self._ctx: Any = multiprocessing.get_context(start_method)
        self._proc: Any = None
        self._conn: Any = None
        self._next_id = 0
        self._current: _Run | None = None
        self._stopping: dict[int, _Stopping] = {}
        self._backlog: list[Event] = []
        self._cache: collections.OrderedDict[str, Any] = collections.OrderedDict()
        self._terminals: collections.OrderedDict[int, Event] = collections.OrderedDict()
        self._stale_upto = 0  # non-terminal events of runs up to this id are stale: dropped
        self._closed = False
        self._scratch: str | None = None  # the worker's temporary folder, removed when it ends
        self._seen_pids: list[int] = []  # the worker's descendants seen while it ran
        self._next_look = 0.0
        from .process_guard import remove_stale_scratch

        remove_stale_scratch()

    # -- the worker process ------------------------------------------------------------------

    @property
    def worker_pid(self) -> int | None:
        """The pid of the worker process, or None when none is running."""
        if self._proc is not None and self._proc.exitcode is None:
            return int(self._proc.pid)
        return None

    def start(self) -> None:
        """Start the worker now (optional: ``submit`` starts it when needed)."""
        self._check_open()
        self._ensure_worker()

    def _ensure_worker(self) -> None:
        if self._proc is not None and self._proc.exitcode is None:
            return
        from .process_guard import make_scratch

        self._discard_worker()
        parent, child = self._ctx.Pipe(duplex=True)
        self._scratch = make_scratch()
        proc = self._ctx.Process(
            target=worker_main, args=(child, os.getpid(), self._scratch), name="tradeoff-worker", daemon=True
        )
        proc.start()
        child.close()
        self._proc, self._conn = proc, parent

    def _discard_worker(self) -> None:
        from .process_guard import kill_process_tree, remove_scratch

        if self._proc is not None and self._seen_pids:
            # the worker is gone; anything it started that outlived it goes too
            kill_process_tree(self._proc.pid, include_self=False, group=False, known=self._seen_pids)
        self._seen_pids = []
        remove_scratch(self._scratch)
        self._scratch = None
        if self._conn is not None:
            try:
                self._conn.close()
            except OSError:
                pass
        if self._proc is not None:
            try:
                self._proc.join(0)
                self._proc.close()
            except ValueError:
                pass
        self._proc = self._conn = None

    def _kill_worker(self) -> None:
        from .process_guard import kill_process_tree

        proc = self._proc
        if proc is not None and proc.exitcode is None:
            kill_process_tree(proc.pid, known=self._seen_pids)
            proc.join(2.0)
        self._discard_worker()

    def _watch_worker(self) -> None:
        """Now and then while a run is on: note the worker's descendants (so that they can be
        killed even after a crash of the worker has re-parented them), and stop a run whose
        processes are eating the machine's last memory, before the kernel's OOM killer picks a
        victim (which may be this process, or the user's browser)."""
        now = time.monotonic()
        if now < self._next_look or self._proc is None or self._proc.exitcode is not None:
            return
        self._next_look = now + 0.25
        from .process_guard import descendant_pids, memory_pressure, remember_births

        found = descendant_pids(self._proc.pid)
        if found:
            remember_births(found)
            self._seen_pids.extend(p for p in found if p not in self._seen_pids)
        run = self._current
        if run is None:
            return
        message = memory_pressure(
            [self._proc.pid, *found], reserve_bytes=self.memory_reserve_bytes, min_rss_bytes=self.memory_min_rss_bytes
        )
        if message is not None:
            self._current = None
            self._stale_upto = max(self._stale_upto, run.run_id)
            outcome = Failed(FailureKind.OUT_OF_MEMORY, message, run_id=run.run_id)
            self._stopping[run.run_id] = _Stopping(run, now, outcome)  # killed at once, below
            self._enforce_deadlines()

    def _send(self, msg: tuple[Any, ...]) -> bool:
        if self._conn is None:
            return False
        try:
            self._conn.send(msg)
            return True
        except (BrokenPipeError, EOFError, OSError):
            return False  # the death is noticed and reported by poll()

    # -- requests ----------------------------------------------------------------------------

    def submit(
        self,
        task: str,
        payload: dict[str, Any] | None = None,
        *,
        time_limit_s: float | None = None,
        cache_key: str | None = None,
    ) -> int:
        """Start ``task`` with ``payload``, superseding the current run; returns the new run id."""
        self._check_open()
        self._next_id += 1
        run = _Run(self._next_id, task, dict(payload or {}), time_limit_s, cache_key)
        self._supersede("superseded")
        self._stale_upto = run.run_id - 1
        if cache_key is not None and cache_key in self._cache:
            self._cache.move_to_end(cache_key)
            self._emit(Started(task=task, cached=True, run_id=run.run_id))
            self._finish(Finished(self._cache[cache_key], cached=True, run_id=run.run_id))
            return run.run_id
        self._current = run
        self._ensure_worker()
        try:
            sent = self._send(("run", run.run_id, run.task, run.payload))
        except Exception as exc:  # the payload cannot be pickled: the run fails, the caller carries on
            self._current = None
            message = f"the request for {task} is not plain picklable data ({failed_event(exc).message})"
            self._emit(Started(task=task, run_id=run.run_id))
            self._finish(Failed(FailureKind.UNUSABLE_INPUT, message, run_id=run.run_id))
            return run.run_id
        if not sent:
            self._poll_worker()  # reports the death (the new run fails as a crash)
        return run.run_id

    def cancel(self) -> None:
        """Stop the current run: cooperatively at its next check point, killed after ``grace_s``."""
        self._supersede("cancelled")

    def _supersede(self, reason: str) -> None:
        run = self._current
        if run is None:
            return
        self._current = None
        self._stale_upto = max(self._stale_upto, run.run_id)
        outcome = Cancelled(reason, run_id=run.run_id)
        self._stopping[run.run_id] = _Stopping(run, time.monotonic() + self.grace_s, outcome)
        self._send(("cancel", run.run_id))

    @property
    def busy(self) -> bool:
        """True while the worker is running something (a run, or a stopping one)."""
        return self._current is not None or bool(self._stopping)

    @property
    def current_run(self) -> int | None:
        return self._current.run_id if self._current is not None else None

    # -- events ------------------------------------------------------------------------------

    def poll(self, timeout_s: float = 0.0) -> list[Event]:
        """Events that arrived (waiting up to ``timeout_s`` for the first); enforces deadlines."""
        deadline = time.monotonic() + max(0.0, timeout_s)
        while True:
            self._poll_worker()
            self._enforce_deadlines()
            if self.busy:
                self._watch_worker()
            if self._backlog or self._closed:
                break
            now = time.monotonic()
            if now >= deadline:
                break
            wake = min([deadline, *self._deadlines()])
            waitables = [
                c for c in (self._conn, self._proc.sentinel if self._proc is not None else None) if c is not None
            ]
            if waitables:
                _mp_wait(waitables, max(0.0, wake - now))
            else:
                time.sleep(min(0.05, max(0.0, wake - now)))
        events, self._backlog = self._backlog, []
        return [e for e in events if e.terminal or e.run_id > self._stale_upto]

    def wait(
        self,
        run_id: int,
        timeout_s: float | None = None,
        on_event: Callable[[Event], None] | None = None,
    ) -> Event:
        """Block until run ``run_id`` ends; return its terminal event. Raises TimeoutError."""
        if run_id in self._terminals and not any(e.run_id == run_id for e in self._backlog):
            return self._terminals[run_id]
        if run_id <= 0 or run_id > self._next_id:
            raise ValueError(f"no run {run_id} was submitted")
        end = None if timeout_s is None else time.monotonic() + timeout_s
        others: list[Event] = []
        try:
            while True:
                left = 0.25 if end is None else min(0.25, end - time.monotonic())
                if left <= 0:
                    raise TimeoutError(f"run {run_id} did not end within {timeout_s} s")
                events = self.poll(left)
                for i, ev in enumerate(events):
                    if ev.run_id != run_id:
                        others.append(ev)
                        continue
                    if on_event is not None:
                        on_event(ev)
                    if ev.terminal:
                        others.extend(events[i + 1 :])
                        return ev
                if self._closed and not self._backlog:
                    if run_id in self._terminals:
                        return self._terminals[run_id]
                    raise RuntimeError("this Runner is closed")
        finally:
            self._backlog[:0] = others

    def _deadlines(self) -> list[float]:
        out = [s.kill_at for s in self._stopping.values()]
        run = self._current
        if run is not None and run.started_at is not None and run.time_limit_s is not None:
            out.append(run.started_at + run.time_limit_s)
        return out

    def _emit(self, event: Event) -> None:
        self._backlog.append(event)

    def _finish(self, event: Event) -> None:
        self._terminals[event.run_id] = event
        while len(self._terminals) > _KEEP_TERMINALS:
            self._terminals.popitem(last=False)
        self._emit(event)

    def _remember(self, run: _Run, finished: Finished) -> None:
        if run.cache_key is not None:
            self._cache[run.cache_key] = finished.result
            self._cache.move_to_end(run.cache_key)
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)

    def clear_cache(self) -> None:
        self._cache.clear()

    def _poll_worker(self) -> None:
        """Drain the pipe; notice a dead worker."""
        conn = self._conn
        if conn is None:
            return
        dead = False
        for _ in range(10_000):  # what is there now, not a stream that never ends
            try:
                if not conn.poll():
                    break
                event = conn.recv()
            except (EOFError, OSError):
                dead = True
                break
            self._on_message(event)
        if not dead and self._proc is not None and self._proc.exitcode is not None:
            # it exited: what it wrote before dying is all in the pipe now; read it first
            while True:
                try:
                    if not conn.poll():
                        break
                    event = conn.recv()
                except (EOFError, OSError):
                    break
                self._on_message(event)
            dead = True
        if dead:
            self._on_death()

    def _on_message(self, event: Event) -> None:
        run_id = event.run_id
        run = self._current
        if run is not None and run.run_id == run_id:
            if isinstance(event, Started):
                run.started_at = time.monotonic()
            if event.terminal:
                self._current = None
                if isinstance(event, Finished):
                    self._remember(run, event)
                self._finish(event)
            else:
                self._emit(event)
            return
        stopping = self._stopping.get(run_id)
        if stopping is not None and event.terminal:
            del self._stopping[run_id]
            outcome: Event = stopping.outcome
            if isinstance(event, Finished):
                self._remember(stopping.run, event)
                if isinstance(outcome, Failed):  # a time limit passed, but the result made it: keep it
                    outcome = event
            elif isinstance(event, Failed) and isinstance(outcome, Failed):
                outcome = event
            self._finish(outcome)
        # anything else is stale: a superseded run's progress, or a run already reported

    def _on_death(self) -> None:
        from .process_guard import kill_process_tree

        proc = self._proc
        code = proc.exitcode if proc is not None else None
        if proc is not None and code is None:
            proc.join(0.5)
            code = proc.exitcode
        if proc is not None:
            kill_process_tree(proc.pid, include_self=False, known=self._seen_pids)  # its group outlives it
        self._discard_worker()
        for _, stopping in sorted(self._stopping.items()):
            self._finish(stopping.outcome)
        self._stopping.clear()
        run = self._current
        if run is not None:
            self._current = None
            self._finish(
                Failed(
                    FailureKind.MODEL_FAILED,
                    _death_message(code),
                    fields={"worker_died": True, "exitcode": code},
                    run_id=run.run_id,
                )
            )

    def _enforce_deadlines(self) -> None:
        now = time.monotonic()
        run = self._current
        if run is not None and run.started_at is not None and run.time_limit_s is not None:
            if now >= run.started_at + run.time_limit_s:
                self._current = None
                self._stale_upto = max(self._stale_upto, run.run_id)
                message = f"the run passed its time limit of {run.time_limit_s:g} s"
                timed_out = Failed(FailureKind.TIMED_OUT, message, run_id=run.run_id)
                self._stopping[run.run_id] = _Stopping(run, now + self.grace_s, timed_out)
                self._send(("cancel", run.run_id))
        if self._stopping and any(now >= s.kill_at for s in self._stopping.values()):
            self._kill_worker()
            for _, stopping in sorted(self._stopping.items()):
                outcome = stopping.outcome
                if isinstance(outcome, Cancelled):
                    outcome = replace(outcome, killed=True)
                self._finish(outcome)
            self._stopping.clear()
            current = self._current
            if current is not None:  # it was queued behind the stuck run: run it in a fresh worker
                self._ensure_worker()
                if not self._send(("run", current.run_id, current.task, current.payload)):
                    self._poll_worker()

    # -- lifetime ----------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("this Runner is closed")

    def close(self) -> None:
        """Stop the worker (asking first, killing after ``grace_s``). Idempotent."""
        if self._closed:
            return
        self._closed = True
        proc = self._proc
        if proc is not None and proc.exitcode is None:
            self._send(("close",))
            proc.join(self.grace_s if self.busy else min(self.grace_s, 0.5))
        self._kill_worker()
        for _, stopping in sorted(self._stopping.items()):
            self._finish(stopping.outcome)
        self._stopping.clear()
        if self._current is not None:
            self._finish(Cancelled("closed", run_id=self._current.run_id))
            self._current = None

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
