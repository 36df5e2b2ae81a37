"""Progress from inside long calls (profiler/progress.py) and through the real worker.

The unit tests drive a Reporter with a fake clock and call its heartbeat by hand; the worker
tests prune real models in a spawned worker: demo:mlp (fast), and a model whose forward is slow
only while Torch-Pruning traces it (it runs with autograd on, nothing else in a run does), so
that building the dependency graph is one long opaque call, as on a large model.
"""

from __future__ import annotations

import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from profiler import progress
from profiler.analyze import ProfileRequest
from profiler.events import Cancelled, Finished, Progress, RunEvent
from profiler.tasks import request_to_dict
from profiler.variant import Variant
from profiler.worker import Runner

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # spawn hands sys.path to the worker, which imports this module's tasks
    sys.path.insert(0, str(HERE))

Sent = list[tuple[float, str, "str | None", bool]]


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sink() -> Iterator[tuple[Sent, FakeClock, progress.Reporter]]:
    sent: Sent = []
    clock = FakeClock()
    reporter = progress.install(lambda *a: sent.append(a), clock=clock, heartbeat_s=3600.0)
    try:
        yield sent, clock, reporter
    finally:
        progress.uninstall(reporter)


def fractions(sent: Sent) -> list[float]:
    return [s[0] for s in sent]


# --- the module on its own ------------------------------------------------------------------------


def test_without_a_sink_every_call_is_a_no_op() -> None:
    assert not progress.active()
    before = threading.active_count()
    with progress.stage("anything", 0.2, 0.4), progress.ticking("opaque"):
        progress.report(0.5, "half")
        progress.check()
        assert progress.depth() == 0
    assert progress.publish(0.3) == 0.3
    assert threading.active_count() == before  # no heartbeat thread either


def test_nested_stages_map_into_the_enclosing_window(sink: tuple[Sent, FakeClock, progress.Reporter]) -> None:
    sent, _, _ = sink
    with progress.stage("transforming the model", 0.45, 0.6):
        with progress.stage("pruning: building the dependency graph", 0.0, 0.5):
            progress.report(0.5)
        with progress.stage("pruning: removing channels", 0.5, 1.0):
            progress.report(1.0, "group 3/3")
    first: dict[str, float] = {}  # (a repeated fraction goes out nudged up by 1e-6)
    for f, m, _, _ in sent:
        first.setdefault(m, f)
    assert first["pruning: building the dependency graph"] == pytest.approx(0.45, abs=1e-5)
    assert max(f for f, m, *_ in sent if "dependency" in m) == pytest.approx(0.45 + 0.15 * 0.25, abs=1e-5)
    assert first["pruning: removing channels"] == pytest.approx(0.525, abs=1e-5)
    assert first["pruning: removing channels (group 3/3)"] == pytest.approx(0.6, abs=1e-5)
    # a stage change is marked so that the worker's throttle lets it through
    assert [s for s in sent if s[3]] and all(s[2] == s[1] for s in sent if s[3])


def test_fractions_never_go_backwards_and_strictly_increase(sink: tuple[Sent, FakeClock, progress.Reporter]) -> None:
    sent, _, reporter = sink
    with progress.stage("a", 0.5, 0.8):
        progress.report(0.9)
        progress.report(0.2)  # lower than before: sent just above the last one
    with progress.stage("b", 0.1, 0.3):  # a window below the run's position starts where it is
        progress.report(1.0)
    assert progress.publish(0.05) > fractions(sent)[-1]  # the task's own events obey the same floor
    values = fractions(sent)
    assert all(b > a for a, b in zip(values, values[1:], strict=False)), values
    assert max(values) <= 1.0 and reporter.floor >= 0.77


def test_the_heartbeat_moves_a_silent_stage_toward_its_end_with_the_seconds(
    sink: tuple[Sent, FakeClock, progress.Reporter],
) -> None:
    sent, clock, reporter = sink
    with progress.stage("pruning: building the dependency graph", 0.2, 0.4, expect_s=10.0):
        seen = []
        for _ in range(40):
            clock.now += 5.0
            reporter.beat()
            seen.append(sent[-1])
    values = [s[0] for s in seen]
    assert all(b > a for a, b in zip(values, values[1:], strict=False))
    assert values[0] > 0.2 and values[-1] < 0.4  # moving, and never past the stage's end
    assert values[1] - 0.2 == pytest.approx(0.2 * progress.HEARTBEAT_SHARE * (10 / (10 + 10)), rel=1e-3)
    assert seen[0][1] == "pruning: building the dependency graph (5 s)"
    assert seen[-1][1] == "pruning: building the dependency graph (200 s)"


def test_the_heartbeat_runs_on_its_own_thread() -> None:
    sent: Sent = []
    with progress.installed(lambda *a: sent.append(a), heartbeat_s=0.02):
        with progress.stage("opaque", 0.0, 1.0, expect_s=0.1):
            time.sleep(0.5)  # an opaque call: nothing reports
    assert len(sent) >= 5
    values = fractions(sent)
    assert all(b > a for a, b in zip(values, values[1:], strict=False)) and values[-1] < 1.0
    n = len(sent)
    time.sleep(0.1)
    assert len(sent) == n  # uninstalled: no heartbeat after the run


def test_ticking_gives_an_untimed_stage_a_heartbeat(sink: tuple[Sent, FakeClock, progress.Reporter]) -> None:
    sent, clock, reporter = sink
    with progress.stage("converting", 0.0, 1.0, tick=False):
        clock.now += 5
        reporter.beat()
        n = len(sent)
        with progress.ticking("exporting"):
            clock.now += 5
            reporter.beat()
    assert n == 1 and len(sent) == 3
    assert sent[-1][1] == "converting (exporting, 10 s)" and sent[-1][0] > sent[-2][0]


def test_a_nested_stage_at_the_top_level_is_silent_with_everything_inside(
    sink: tuple[Sent, FakeClock, progress.Reporter],
) -> None:
    sent, clock, reporter = sink
    with progress.stage("pruning", 0.0, 0.6, nested=True):  # no caller window: 0–60 % would lie
        with progress.stage("pruning: copying the model", 0.0, 0.1):
            progress.report(1.0)
            clock.now += 5
            reporter.beat()
    assert sent == []
    with progress.stage("transforming the model", 0.45, 0.5), progress.stage("pruning", 0.0, 0.6, nested=True):
        pass
    assert [m for _, m, _, _ in sent] == ["transforming the model", "pruning"]


def test_report_is_a_check_point_that_a_fallback_cannot_swallow() -> None:
    stop = threading.Event()
    with progress.installed(lambda *a: None, should_stop=stop.is_set):
        with progress.stage("pruning: removing channels"):
            progress.report(0.1)
            stop.set()
            with pytest.raises(progress.Stopped):
                try:
                    progress.report(0.2)
                except Exception:  # noqa: BLE001 - what a transform with a fallback does
                    pytest.fail("Stopped was caught as an Exception")
            with pytest.raises(progress.Stopped):
                progress.check()


def test_the_worker_throttle_lets_stage_changes_and_new_task_steps_through() -> None:
    from profiler.worker_process import _Throttle

    throttle = _Throttle()
    assert throttle.allow(0.1)  # a heartbeat
    assert not throttle.allow(0.11)  # another within 50 ms: dropped
    assert throttle.allow(0.12, force=True)  # a stage change: never dropped
    assert throttle.allow_task_event(Progress(0.2, "model loaded"))  # a new step of the task
    assert throttle.allow_task_event(Progress(0.3, "comparing with the baseline: round 2"))
    assert not throttle.allow_task_event(Progress(0.31, "comparing with the baseline: round 3"))  # same step
    assert throttle.allow_task_event(Progress(1.0, "comparing with the baseline: round 4"))  # the end


# --- through the worker ---------------------------------------------------------------------------

TASK = "profiler.tasks:variant_task"
QUICK = ProfileRequest(budget_s=0.2, layer_runs=1)
STATIC = ProfileRequest(latency=False)

SLOW_TRACE_MODEL = """
import time
import torch


class SlowWhenTraced(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.body = torch.nn.Sequential(
            torch.nn.Conv2d(3, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv2d(16, 16, 3, padding=1)
        )
        self.head = torch.nn.Linear(16, 4)

    def forward(self, x):
        if torch.is_grad_enabled():  # only Torch-Pruning's tracer runs the model with autograd on
            time.sleep({seconds})
        return self.head(self.body(x).mean(dim=(2, 3)))


def build_model():
    return SlowWhenTraced(), (torch.randn(1, 3, 16, 16),)
"""


def slow_trace_model(tmp_path: Path, seconds: float) -> str:
    path = tmp_path / "slow_trace.py"
    path.write_text(textwrap.dedent(SLOW_TRACE_MODEL).replace("{seconds}", str(seconds)))
    return str(path)


def prune_payload(source: str, request: ProfileRequest = QUICK) -> dict[str, Any]:
    variant = Variant.from_dict({"prune": 0.45, "prune_method": "structured"})
    return {
        "source": source,
        "trust": False,
        "request": request_to_dict(request),
        "inputs": None,
        "variant": variant.to_dict(),
    }


def collect(
    runner: Runner, run_id: int, timeout_s: float = 300.0, on: Callable[[RunEvent], None] | None = None
) -> tuple[RunEvent, list[tuple[float, Progress]]]:
    seen: list[tuple[float, Progress]] = []

    def on_event(ev: RunEvent) -> None:
        if isinstance(ev, Progress):
            seen.append((time.monotonic(), ev))
        if on is not None:
            on(ev)

    end = runner.wait(run_id, timeout_s, on_event=on_event)
    return end, seen


def test_a_structured_prune_in_the_worker_reports_its_stages_in_order() -> None:
    with Runner(grace_s=2.0) as runner:
        end, seen = collect(runner, runner.submit(TASK, prune_payload("demo:mlp")))
    assert isinstance(end, Finished), end
    messages = [ev.message for _, ev in seen]
    values = [ev.fraction for _, ev in seen]
    assert all(b > a for a, b in zip(values, values[1:], strict=False)), values  # never backwards, never still
    assert 0.0 <= values[0] and values[-1] <= 1.0
    order = [
        "loading the model",
        "transforming the model",
        "pruning: building the dependency graph",
        "pruning: ranking channels",
        "pruning: removing channels",
        "pruning: checking the pruned model",
    ]
    where = [next(i for i, m in enumerate(messages) if m.startswith(stage)) for stage in order]
    assert where == sorted(where), messages
    # the pruning stages lie in the transform window whatif.py opens (0.4–0.6 of the run)
    pruning = [ev.fraction for _, ev in seen if ev.message.startswith("pruning")]
    assert min(pruning) >= 0.4 and max(pruning) <= 0.6


def test_a_long_dependency_graph_build_keeps_the_percentage_moving(tmp_path: Path) -> None:
    source = slow_trace_model(tmp_path, 3.0)
    with Runner(grace_s=2.0) as runner:
        end, seen = collect(runner, runner.submit(TASK, prune_payload(source, STATIC)))
    assert isinstance(end, Finished), end
    graph = [(t, ev) for t, ev in seen if ev.message.startswith("pruning: building the dependency graph")]
    assert graph, [ev.message for _, ev in seen]
    span = graph[-1][0] - graph[0][0]
    assert span >= 2.0  # the events came during the 3 s call, not after it
    values = [ev.fraction for _, ev in graph]
    assert len(values) >= 4 and all(b > a for a, b in zip(values, values[1:], strict=False)), values
    assert any(ev.message.endswith(" s)") for _, ev in graph)  # the seconds spent show


def test_cancel_during_a_long_dependency_graph_build_ends_the_run_within_the_grace_period(tmp_path: Path) -> None:
    source = slow_trace_model(tmp_path, 120.0)
    grace_s = 1.0
    with Runner(grace_s=grace_s) as runner:
        run_id = runner.submit(TASK, prune_payload(source, STATIC))
        asked: list[float] = []

        def cancel_in_graph(ev: RunEvent) -> None:
            if isinstance(ev, Progress) and "dependency graph" in ev.message and not asked:
                asked.append(time.monotonic())
                runner.cancel()

        end, _ = collect(runner, run_id, timeout_s=180.0, on=cancel_in_graph)
        took = time.monotonic() - asked[0]
    assert isinstance(end, Cancelled) and end.reason == "cancelled", end
    assert took < grace_s + 3.0, took  # the worker was killed after the grace period, not 120 s later


def looping_task(payload: dict[str, Any], state: dict[str, Any], should_stop: Callable[[], bool]) -> Iterator[RunEvent]:
    """A task whose long part never yields but reports inside a stage (as pruning's group loop)."""
    yield Progress(0.1, "starting")
    with progress.stage("looping", 0.2, 0.9):
        for i in range(10_000):
            progress.report(i / 10_000, f"step {i}")
            time.sleep(0.01)
    yield Finished({"steps": 10_000})


def test_cancel_at_a_report_is_cooperative_and_keeps_the_worker() -> None:
    with Runner(grace_s=5.0) as runner:
        run_id = runner.submit("test_progress_stages:looping_task", {})
        pid: list[int | None] = []

        def cancel_in_loop(ev: RunEvent) -> None:
            if isinstance(ev, Progress) and ev.message.startswith("looping (step") and not pid:
                pid.append(runner.worker_pid)
                runner.cancel()

        start = time.monotonic()
        end, _ = collect(runner, run_id, timeout_s=60.0, on=cancel_in_loop)
        assert isinstance(end, Cancelled) and not end.killed, end
        assert time.monotonic() - start < 30.0
        assert runner.worker_pid == pid[0]  # stopped at a check point: the worker (and its state) lives


def test_the_tasks_own_events_inside_a_stage_move_its_heartbeat_base(
    sink: tuple[Sent, FakeClock, progress.Reporter],
) -> None:
    sent, clock, reporter = sink
    with progress.stage("measuring", 0.5, 0.9, tick=True, expect_s=10.0):
        assert progress.publish(0.7) == pytest.approx(0.7)  # a yielded Progress: halfway through
        clock.now += 10.0
        reporter.beat()
    assert 0.7 < sent[-1][0] < 0.9  # from where the events left it, not from the stage's start
    assert sent[-1][0] == pytest.approx(0.7 + 0.2 * progress.HEARTBEAT_SHARE * 0.5)
