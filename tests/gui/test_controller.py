"""The run controller debounces, supersedes, and re-emits the worker's events as signals."""

from __future__ import annotations

from typing import Any

from gui.controller import InProcessRunner, RunController
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
    message, kind, code = blocker.args
    assert "no-such-model" in message and code == 2
    c.close()
