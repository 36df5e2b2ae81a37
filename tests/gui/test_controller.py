"""The run controller debounces, supersedes, and re-emits the worker's events as signals."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from gui.controller import InProcessRunner, RunController
from profiler.events import Cancelled, Failed, FailureKind, Finished, LayerMeasured, Progress, RunEvent, Started
from profiler.variant import Variant


def test_debounce_sends_only_the_last_request(qtbot: Any) -> None:
    runners: list[InProcessRunner] = []

    def factory() -> InProcessRunner:
        runners.append(InProcessRunner())
        return runners[-1]

    c = RunController(factory, debounce_ms=50)
    c.set_model("demo:mlp")
    for b in (2, 4, 8):
        c.request(Variant(batch=b))
    with qtbot.waitSignal(c.run_finished, timeout=30000) as blocker:
        pass
    result = blocker.args[0]
    assert result.variant == Variant(batch=8)
    assert len(runners[0].submitted) == 1
    # a second request for the same variant is answered from the cache, at once
    with qtbot.waitSignal(c.run_finished, timeout=1000):
        c.request(Variant(batch=8), immediate=True)
    c.close()


def test_failure_becomes_a_signal(qtbot: Any) -> None:
    c = RunController(InProcessRunner, debounce_ms=0)
    c.set_model("demo:no-such-model")
    with qtbot.waitSignal(c.run_failed, timeout=10000) as blocker:
        c.request(Variant(), immediate=True)
    (failure,) = blocker.args
    assert isinstance(failure, Failed) and failure.failure is FailureKind.UNUSABLE_INPUT
    assert "no-such-model" in failure.message and failure.exit_code == 2 and failure.stage == "load"
    c.close()


class _Scripted(InProcessRunner):
    """Answers every submit with the given events (typed, as the worker sends them)."""

    def __init__(self, *events: RunEvent) -> None:
        super().__init__()
        self.events = events

    def submit(self, task: str, payload: Any = None, **kw: Any) -> int:
        self._next_id += 1
        self._backlog += [replace(e, run_id=self._next_id) for e in self.events]
        return self._next_id


def test_events_become_signals_by_type(qtbot: Any) -> None:
    trust = Failed(FailureKind.NEEDS_TRUST, "m.pt: refused", "m.pt", "load")
    c = RunController(
        lambda: _Scripted(
            Started(task="t", pid=None),
            Progress(0.5, "half", "variant"),
            LayerMeasured("fc", 2.0, "variant"),
            LayerMeasured("relu", None),
            trust,
        ),
        debounce_ms=0,
    )
    c.set_model("m.pt")
    progress: list[tuple[float, str]] = []
    layers: list[tuple[str, float]] = []
    c.progress_changed.connect(lambda f, m: progress.append((f, m)))
    c.layer_measured.connect(lambda n, ms: layers.append((n, ms)))
    with qtbot.waitSignal(c.run_failed, timeout=5000) as blocker:
        c.request(Variant(), immediate=True)
    assert blocker.args == [replace(trust, run_id=1)]
    assert progress == [(0.5, "half")] and layers == [("fc", 2.0)]
    assert not c.busy
    c.close()


def test_cancelled_and_unreadable_results(qtbot: Any) -> None:
    c = RunController(lambda: _Scripted(Started(), Cancelled("superseded")), debounce_ms=0)
    c.set_model("m.pt")
    with qtbot.waitSignal(c.run_cancelled, timeout=5000):
        c.request(Variant(), immediate=True)
    c.close()
    c = RunController(lambda: _Scripted(Started(), Finished({"not": "a result"})), debounce_ms=0)
    c.set_model("m.pt")
    with qtbot.waitSignal(c.run_failed, timeout=5000) as blocker:
        c.request(Variant(), immediate=True)
    (failure,) = blocker.args
    assert failure.failure is FailureKind.MODEL_FAILED and "unreadable result" in failure.message
    c.close()
