"""Progress from inside long calls: a process-wide, thread-safe sink the worker installs.

The worker drains a task's generator of events, but one long call (Torch-Pruning's dependency
graph, an ONNX export, a quantizer) yields nothing while it runs. Code anywhere below a task
reports through this module instead::

    from . import progress

    with progress.stage("pruning: building the dependency graph", 0.0, 0.5):
        pruner = build()                       # a heartbeat keeps the fraction moving meanwhile
    with progress.stage("pruning: removing channels", 0.7, 1.0):
        for i, group in enumerate(groups):
            group.prune()
            progress.report((i + 1) / len(groups), f"group {i + 1}/{len(groups)}")

* ``stage(name, lo, hi)`` maps into the enclosing stage's window (the outermost into the run's
  0…1): a stage at 0.0–0.5 inside one at 0.45–0.6 reports 0.45–0.525 overall.
* ``report(fraction, message)`` says how far the innermost stage is (0…1 of its window); it is
  also a check point: when the run was cancelled it raises ``Stopped``.
* Every stage has a heartbeat (one daemon thread per run): while nothing is reported, the
  fraction creeps toward the stage's end (never reaching it) and the message shows the seconds
  spent, so the percentage always moves. ``ticking(...)`` gives a stage opened with
  ``tick=False`` a heartbeat around one opaque call.
* Fractions sent never go backwards within a run (each is at least the last one, nudged up).

With no sink installed (the app and CLI processes, plain library use, tests) every call returns
at once. Standard library only: the worker's entry module imports this in every spawned process.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

__all__ = [
    "SendFn",
    "Stopped",
    "Reporter",
    "active",
    "check",
    "depth",
    "position",
    "install",
    "installed",
    "publish",
    "report",
    "stage",
    "ticking",
    "uninstall",
    "TRANSFORM_WINDOWS",
]

# (fraction 0…1, message, stage name, force): force marks a stage change, which throttling lets by
SendFn = Callable[[float, str, "str | None", bool], None]

HEARTBEAT_S = 0.5  # how often the heartbeat looks at the innermost stage
HEARTBEAT_SHARE = 0.95  # the heartbeat alone never takes a stage past 95 % of its window
ELAPSED_AFTER_S = 1.0  # the message shows seconds spent once a stage has run this long
_NUDGE = 1e-6  # a repeated fraction is sent this much higher: fractions strictly increase

# Where each part of a variant's transform lies inside the transform window (0…1 of it); the
# parts always run in this order: prune, then precision, then export to ONNX, then quantize.
TRANSFORM_WINDOWS: dict[str, tuple[float, float]] = {
    "pruning": (0.0, 0.6),
    "precision": (0.6, 0.7),
    "export": (0.7, 0.85),
    "quantize": (0.85, 1.0),
}


class Stopped(BaseException):
    """The run was cancelled: raised by ``report``/``check``. A BaseException, so that the
    ``except Exception`` of a transform that tries a fallback does not swallow it."""


@dataclass
class _Stage:
    name: str
    lo: float  # absolute window of this stage in the run's 0…1
    hi: float
    tick: bool
    expect_s: float  # the heartbeat reaches half of what is left after this long without reports
    started: float
    last_report: float  # when the stage last reported (or started)
    local: float = 0.0  # how far the stage said it is, 0…1 of its window
    detail: str | None = None
    ticking: int = 0  # open ticking() blocks: a heartbeat even when tick is False
    muted: bool = False  # a nested stage at the top level, and everything inside it: silent

    def absolute(self, local: float) -> float:
        return self.lo + (self.hi - self.lo) * min(1.0, max(0.0, local))


@dataclass
class Reporter:
    """One run's progress: the stack of open stages, the highest fraction sent, the heartbeat."""

    send: SendFn
    should_stop: Callable[[], bool] = lambda: False
    clock: Callable[[], float] = time.monotonic
    heartbeat_s: float = HEARTBEAT_S
    floor: float = -1.0  # the highest fraction accepted so far (-1: none yet)
    stack: list[_Stage] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    closed: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    # -- sending ---------------------------------------------------------------------------------

    def _raise_floor(self, fraction: float) -> float:
        """`fraction`, clipped to 0…1 and raised to just above the last one (never backwards)."""
        fraction = min(1.0, max(0.0, fraction))
        if fraction <= self.floor:
            fraction = min(1.0, self.floor + _NUDGE)
        self.floor = fraction
        return fraction

    def _emit(self, fraction: float, message: str, stage: str | None, force: bool) -> None:
        with self.lock:
            if not self.closed.is_set():
                self.send(self._raise_floor(fraction), message, stage, force)

    def publish(self, fraction: float) -> float:
        """An absolute fraction from the task's own events; returns the fraction to send. Inside
        an open stage it counts as that stage's progress: its heartbeat goes on from there."""
        with self.lock:
            fraction = self._raise_floor(fraction)
            if self.stack and not self.stack[-1].muted:
                st = self.stack[-1]
                if st.hi > st.lo:
                    st.local = max(st.local, min(1.0, (fraction - st.lo) / (st.hi - st.lo)))
                st.last_report = self.clock()
            return fraction

    # -- stages ----------------------------------------------------------------------------------

    def enter(self, name: str, lo: float, hi: float, tick: bool, expect_s: float, nested: bool = False) -> _Stage:
        with self.lock:
            now = self.clock()
            if (nested and not self.stack) or (self.stack and self.stack[-1].muted):
                st = _Stage(name, 0.0, 1.0, False, 1.0, now, now, muted=True)  # no window: say nothing
                self.stack.append(st)
                return st
            a, b = (self.stack[-1].absolute(lo), self.stack[-1].absolute(hi)) if self.stack else (lo, hi)
            # a stage that starts below what was already sent begins where the run is
            a = min(max(a, self.floor), max(b, self.floor))
            if self.stack:  # the parent is at least where its child starts, and not idle meanwhile
                self._advance_parent(a, now)
            st = _Stage(name, a, max(a, b), tick, max(0.1, expect_s), now, now)
            self.stack.append(st)
            self._emit(a, name, name, True)
            if tick:
                self._start_heartbeat()
            return st

    def leave(self, st: _Stage) -> None:
        with self.lock:
            if st in self.stack:
                del self.stack[self.stack.index(st) :]
            if self.stack and not st.muted:  # a child that ended is done: its parent goes on from its end
                self._advance_parent(st.hi, self.clock())

    def _advance_parent(self, absolute: float, now: float) -> None:
        parent = self.stack[-1]
        width = parent.hi - parent.lo
        if width > 0:
            parent.local = max(parent.local, min(1.0, (absolute - parent.lo) / width))
        parent.last_report = now

    def report(self, fraction: float, message: str | None) -> None:
        with self.lock:
            if not self.stack:
                return
            st = self.stack[-1]
            if st.muted:
                return
            st.local = max(st.local, min(1.0, max(0.0, fraction)))
            st.last_report = self.clock()
            if message is not None:
                st.detail = message
            self._emit(st.absolute(st.local), self._message(st), st.name, False)

    def tick_on(self, st: _Stage) -> None:
        with self.lock:
            st.ticking += 1
            self._start_heartbeat()

    def tick_off(self, st: _Stage) -> None:
        with self.lock:
            st.ticking = max(0, st.ticking - 1)

    # -- the heartbeat ---------------------------------------------------------------------------

    def _message(self, st: _Stage) -> str:
        parts = [st.detail] if st.detail else []
        elapsed = self.clock() - st.started
        if elapsed >= ELAPSED_AFTER_S:
            parts.append(f"{elapsed:.0f} s")
        return f"{st.name} ({', '.join(parts)})" if parts else st.name

    def beat(self) -> None:
        """One heartbeat: move the innermost stage a little toward its end (time-based)."""
        with self.lock:
            if not self.stack:
                return
            st = self.stack[-1]
            if st.muted or not (st.tick or st.ticking):
                return
            quiet = self.clock() - st.last_report
            creep = 1.0 - 1.0 / (1.0 + quiet / st.expect_s)  # 0 → 1, slower and slower: always moving
            local = st.local + (1.0 - st.local) * HEARTBEAT_SHARE * creep
            self._emit(st.absolute(local), self._message(st), st.name, False)

    def _start_heartbeat(self) -> None:
        if self._thread is not None or self.closed.is_set():
            return
        self._thread = threading.Thread(target=self._heartbeat, name="progress-heartbeat", daemon=True)
        self._thread.start()

    def _heartbeat(self) -> None:
        while not self.closed.wait(self.heartbeat_s):
            try:
                self.beat()
            except Exception:  # noqa: BLE001 - a broken pipe is the worker's to notice, not the heartbeat's
                return

    def close(self) -> None:
        with self.lock:
            self.closed.set()
            self.stack.clear()


_lock = threading.Lock()
_reporter: Reporter | None = None


def install(
    send: SendFn,
    *,
    should_stop: Callable[[], bool] | None = None,
    clock: Callable[[], float] = time.monotonic,
    heartbeat_s: float = HEARTBEAT_S,
) -> Reporter:
    """Install the process-wide sink for one run (replacing any other); returns its reporter."""
    global _reporter
    reporter = Reporter(send, should_stop or (lambda: False), clock, heartbeat_s)
    with _lock:
        old, _reporter = _reporter, reporter
    if old is not None:
        old.close()
    return reporter


def uninstall(reporter: Reporter | None = None) -> None:
    """Remove the sink (only `reporter`, when given) and stop its heartbeat."""
    global _reporter
    with _lock:
        current = _reporter
        if current is None or (reporter is not None and current is not reporter):
            return
        _reporter = None
    current.close()


@contextlib.contextmanager
def installed(
    send: SendFn, *, should_stop: Callable[[], bool] | None = None, heartbeat_s: float = HEARTBEAT_S
) -> Iterator[Reporter]:
    """``install`` for the length of a ``with`` block."""
    reporter = install(send, should_stop=should_stop, heartbeat_s=heartbeat_s)
    try:
        yield reporter
    finally:
        uninstall(reporter)


def active() -> bool:
    """Whether a sink is installed (callers may skip work that only feeds progress)."""
    return _reporter is not None


def position() -> float:
    """The highest fraction of the run sent so far (0 with no sink, or before the first)."""
    r = _reporter
    return 0.0 if r is None else max(0.0, r.floor)


def depth() -> int:
    """How many stages are open (0 with no sink)."""
    r = _reporter
    return 0 if r is None else len(r.stack)


_NOTHING: contextlib.nullcontext[None] = contextlib.nullcontext()  # what stage() is without a sink


def stage(
    name: str,
    lo: float = 0.0,
    hi: float = 1.0,
    *,
    tick: bool = True,
    expect_s: float = 10.0,
    nested: bool = False,
) -> contextlib.AbstractContextManager[None]:
    """A named stage covering `lo`…`hi` of the enclosing stage (of the run at the outermost).

    With `tick` the heartbeat moves it while nothing reports; `expect_s` is about how long it
    takes (the heartbeat has covered half of the window after that long). A `nested` stage
    reports only inside another one: a library-level part (pruning, export) whose window means
    something only inside its caller's (the transform's); at the top level it is silent."""
    r = _reporter
    if r is None:
        return _NOTHING
    return _open_stage(r, name, lo, hi, tick, expect_s, nested)


@contextlib.contextmanager
def _open_stage(
    r: Reporter, name: str, lo: float, hi: float, tick: bool, expect_s: float, nested: bool
) -> Iterator[None]:
    st = r.enter(name, lo, hi, tick, expect_s, nested)
    try:
        yield
    finally:
        r.leave(st)


def ticking(message: str | None = None) -> contextlib.AbstractContextManager[None]:
    """A heartbeat for one opaque call in the innermost stage (for stages opened with tick=False);
    `message` is shown as the stage's detail meanwhile."""
    r = _reporter
    if r is None or not r.stack:
        return _NOTHING
    return _ticking(r, r.stack[-1], message)


@contextlib.contextmanager
def _ticking(r: Reporter, st: _Stage, message: str | None) -> Iterator[None]:
    if message is not None:
        r.report(st.local, message)
    r.tick_on(st)
    try:
        yield
    finally:
        r.tick_off(st)


def report(fraction: float, message: str | None = None) -> None:
    """How far the innermost stage is (0…1 of its window), with an optional detail ("group
    3/12"). A check point too: raises ``Stopped`` when the run was cancelled."""
    r = _reporter
    if r is None:
        return
    if r.should_stop():
        raise Stopped()
    r.report(fraction, message)


def check() -> None:
    """A check point without progress: raises ``Stopped`` when the run was cancelled."""
    r = _reporter
    if r is not None and r.should_stop():
        raise Stopped()


def publish(fraction: float) -> float:
    """The worker's hook for a task's own ``Progress`` events (absolute fractions): returns the
    fraction to send, never below one already sent. Without a sink, `fraction` unchanged."""
    r = _reporter
    if r is None:
        return fraction
    return r.publish(fraction)
