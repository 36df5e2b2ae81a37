"""The measurement worker (issue 3, item 5): results, state, supersede, cancel, crashes, limits, cache.

Every test spawns a real worker process (~0.1–0.3 s); the tasks live in worker_tasks.py and never
import torch.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # spawn hands sys.path to the worker, which imports "worker_tasks"
    sys.path.insert(0, str(HERE))

from profiler.events import Cancelled, Failed, FailureKind, Finished, LayerMeasured, Progress, RunEvent, Started  # noqa: E402
from profiler.worker import Runner  # noqa: E402

GRACE_S = 0.5
T = "worker_tasks:"


@pytest.fixture
def runner() -> Iterator[Runner]:
    with Runner(grace_s=GRACE_S) as r:
        yield r


def _wait_for(runner: Runner, run_id: int, kind: type[RunEvent], timeout_s: float = 10.0) -> list[RunEvent]:
    """Poll until run ``run_id`` sends an event of type ``kind``; return everything polled so far."""
    seen: list[RunEvent] = []
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        seen += runner.poll(0.05)
        if any(e.run_id == run_id and isinstance(e, kind) for e in seen):
            return seen
    raise AssertionError(f"run {run_id} sent no {kind!r} in {timeout_s} s: {seen}")


def _echo_works(runner: Runner, pid_before: int | None = None) -> None:
    run = runner.submit(T + "echo", {"after": "recovery"})
    end = runner.wait(run, timeout_s=10)
    assert isinstance(end, Finished), end
    assert end.result["echo"] == {"after": "recovery"}
    if pid_before is not None:
        assert end.result["pid"] != pid_before  # a fresh worker


def test_finished_result_and_event_stream(runner: Runner) -> None:
    seen: list[RunEvent] = []
    run = runner.submit(T + "echo", {"x": [1, 2.5, "three"]})
    end = runner.wait(run, timeout_s=10, on_event=seen.append)
    assert end == seen[-1]
    assert [type(e) for e in seen] == [Started, Progress, Finished]
    assert all(e.run_id == run for e in seen)
    assert seen[1] == Progress(0.5, "echoing", run_id=run)
    assert end.result["echo"] == {"x": [1, 2.5, "three"]}
    assert end.cached is False
    assert end.result["pid"] == runner.worker_pid != os.getpid()
    assert not runner.busy
    assert runner.wait(run) == end  # asking again answers at once


def test_state_persists_across_requests(runner: Runner) -> None:
    first = runner.wait(runner.submit(T + "remember", {}), timeout_s=10)
    second = runner.wait(runner.submit(T + "remember", {}), timeout_s=10)
    assert first.result["calls"] == 1
    assert second.result["calls"] == 2
    assert second.result["loads"] == 1  # the "model" was loaded once
    assert first.result["pid"] == second.result["pid"]


def test_supersede_cancels_the_old_run_quickly_and_runs_the_new_one(runner: Runner) -> None:
    old = runner.submit(T + "slow", {"seconds": 10})
    _wait_for(runner, old, Progress)
    pid = runner.worker_pid
    t0 = time.monotonic()
    new = runner.submit(T + "echo", {"n": 2})
    cancelled = runner.wait(old, timeout_s=5)
    latency = time.monotonic() - t0
    assert isinstance(cancelled, Cancelled)
    assert cancelled == Cancelled("superseded", killed=False, run_id=old)
    assert latency < 0.2, f"the superseded run took {latency * 1000:.0f} ms to stop"
    end = runner.wait(new, timeout_s=5)
    assert isinstance(end, Finished) and end.result["echo"] == {"n": 2}
    assert end.result["pid"] == pid  # stopped cooperatively: same worker, state kept


def test_stubborn_run_is_killed_after_grace_and_the_new_run_still_finishes(runner: Runner) -> None:
    old = runner.submit(T + "stubborn", {"seconds": 30})
    _wait_for(runner, old, Progress)
    pid = runner.worker_pid
    t0 = time.monotonic()
    new = runner.submit(T + "echo", {"n": 3})
    cancelled = runner.wait(old, timeout_s=5)
    waited = time.monotonic() - t0
    assert isinstance(cancelled, Cancelled) and cancelled.killed is True
    assert GRACE_S <= waited < GRACE_S + 1.0
    end = runner.wait(new, timeout_s=10)
    assert isinstance(end, Finished) and end.result["echo"] == {"n": 3}
    assert end.result["pid"] != pid
    assert pid is not None and not _alive(pid)


def test_cancel_leaves_the_worker_idle_within_200ms(runner: Runner) -> None:
    run = runner.submit(T + "slow", {"seconds": 10})
    _wait_for(runner, run, Progress)
    t0 = time.monotonic()
    runner.cancel()
    assert runner.busy
    events: list[RunEvent] = []
    while runner.busy and time.monotonic() - t0 < 5:
        events += runner.poll(0.01)
    idle = time.monotonic() - t0
    assert idle < 0.2, f"cancel took {idle * 1000:.0f} ms"
    assert [type(e) for e in events if e.run_id == run] == [Cancelled]
    assert events[-1].reason == "cancelled"
    runner.cancel()  # nothing running: a no-op
    _echo_works(runner)


@pytest.mark.parametrize(
    ("task", "words"),
    [("crash_segfault", "signal SIGSEGV"), ("crash_exit", "exit code 7")],
)
def test_a_crash_fails_the_run_and_the_next_request_works(runner: Runner, task: str, words: str) -> None:
    run = runner.submit(T + task, {})
    end = runner.wait(run, timeout_s=10)
    assert isinstance(end, Failed)
    assert end.failure is FailureKind.MODEL_FAILED and end.worker_died and end.exit_code == 3
    assert end.message == f"the measurement process died ({words})"
    assert runner.worker_pid is None and not runner.busy  # restarted lazily, on the next submit
    _echo_works(runner)


def test_kill_9_of_the_worker_mid_run(runner: Runner) -> None:
    run = runner.submit(T + "slow", {"seconds": 10})
    _wait_for(runner, run, Progress)
    pid = runner.worker_pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    end = runner.wait(run, timeout_s=5)
    assert isinstance(end, Failed) and end.failure is FailureKind.MODEL_FAILED and end.worker_died
    assert "SIGKILL" in end.message
    _echo_works(runner, pid_before=pid)


def test_time_limit_fails_with_timeout_and_the_next_request_works(runner: Runner) -> None:
    t0 = time.monotonic()
    run = runner.submit(T + "slow", {"seconds": 10}, time_limit_s=0.3)
    end = runner.wait(run, timeout_s=5)
    assert time.monotonic() - t0 < 1.5
    assert isinstance(end, Failed) and end.failure is FailureKind.TIMED_OUT and end.exit_code == 3
    assert end.message == "the run passed its time limit of 0.3 s"
    _echo_works(runner)


def test_time_limit_kills_a_task_that_does_not_stop(runner: Runner) -> None:
    run = runner.submit(T + "stubborn", {"seconds": 30}, time_limit_s=0.2)
    _wait_for(runner, run, Started)
    pid = runner.worker_pid
    end = runner.wait(run, timeout_s=5)
    assert isinstance(end, Failed) and end.failure is FailureKind.TIMED_OUT
    _echo_works(runner, pid_before=pid)


def test_studio_error_keeps_its_exit_code_and_one_line(runner: Runner) -> None:
    end = runner.wait(runner.submit(T + "raise_error", {}), timeout_s=10)
    assert isinstance(end, Failed)
    assert end.exit_code == 2 and end.failure is FailureKind.UNUSABLE_INPUT and end.file == "x.onnx"
    assert end.message == "x.onnx: bad"


def test_other_exceptions_are_exit_3_with_the_first_line(runner: Runner) -> None:
    run = runner.submit(T + "raise_bug", {})
    end = runner.wait(run, timeout_s=10)
    assert end == Failed(FailureKind.MODEL_FAILED, "ValueError: first line", run_id=run)
    assert end.exit_code == 3 and not end.worker_died
    end = runner.wait(runner.submit("no_such_module:task", {}), timeout_s=10)
    assert isinstance(end, Failed) and end.message.startswith("ModuleNotFoundError: ")
    end = runner.wait(runner.submit(T + "unpicklable", {}), timeout_s=10)
    assert isinstance(end, Failed) and "not plain picklable data" in end.message
    _echo_works(runner)  # none of that hurt the worker


def test_memory_guard_refuses_with_a_message(runner: Runner) -> None:
    end = runner.wait(runner.submit(T + "hog", {}), timeout_s=10)
    assert isinstance(end, Failed)
    assert end.failure is FailureKind.OUT_OF_MEMORY and end.exit_code == 3
    message = end.message
    assert message.startswith("hog.pt: needs about ") and "GiB is free; lower the batch or sequence length" in message


def test_cache_hit_answers_without_running(runner: Runner) -> None:
    first = runner.wait(runner.submit(T + "remember", {}, cache_key="variant-a"), timeout_s=10)
    assert isinstance(first, Finished) and first.cached is False
    seen: list[RunEvent] = []
    t0 = time.monotonic()
    hit = runner.submit(T + "remember", {}, cache_key="variant-a")
    assert not runner.busy
    again = runner.wait(hit, timeout_s=1, on_event=seen.append)
    assert time.monotonic() - t0 < 0.05
    assert isinstance(again, Finished) and again.cached is True
    assert again.result == first.result
    assert [type(e) for e in seen] == [Started, Finished]
    third = runner.wait(runner.submit(T + "remember", {}), timeout_s=10)
    assert third.result["calls"] == 2  # the cache hit never reached the worker
    failed = runner.wait(runner.submit(T + "raise_bug", {}, cache_key="bad"), timeout_s=10)
    assert isinstance(failed, Failed)
    assert isinstance(
        runner.wait(runner.submit(T + "raise_bug", {}, cache_key="bad"), timeout_s=10), Failed
    )  # not cached


def test_stale_events_of_superseded_runs_are_not_returned(runner: Runner) -> None:
    old = runner.submit(T + "slow", {"seconds": 10, "layers": True})
    _wait_for(runner, old, LayerMeasured)
    time.sleep(0.1)  # let events of the old run pile up in the pipe, unread
    new = runner.submit(T + "slow", {"seconds": 0.3, "layers": True})
    events: list[RunEvent] = []
    while not any(e.run_id == new and e.terminal for e in events):
        events += runner.poll(0.05)
    assert [type(e) for e in events if e.run_id == old] == [Cancelled]
    kinds = [type(e) for e in events if e.run_id == new]
    assert kinds[0] is Started and kinds[-1] is Finished
    assert {LayerMeasured, Progress} <= set(kinds)


def test_progress_is_throttled_but_layers_are_not(runner: Runner) -> None:
    seen: list[RunEvent] = []
    end = runner.wait(runner.submit(T + "slow", {"seconds": 0.5, "layers": True}), timeout_s=10, on_event=seen.append)
    steps = end.result["steps"]
    layers = sum(isinstance(e, LayerMeasured) for e in seen)
    progress = sum(isinstance(e, Progress) for e in seen)
    assert layers == steps > 20
    assert progress <= 0.5 * 20 + 2


def test_rapid_supersedes_end_every_run_once(runner: Runner) -> None:
    runs = [runner.submit(T + "slow", {"seconds": 5}) for _ in range(5)]
    last = runner.submit(T + "echo", {"last": True})
    ends = {r: runner.wait(r, timeout_s=5) for r in [*runs, last]}
    assert [type(ends[r]) for r in runs] == [Cancelled] * 5
    assert isinstance(ends[last], Finished)
    assert not runner.busy and runner.poll() == []


def test_close_is_idempotent_and_cancels_what_runs() -> None:
    runner = Runner(grace_s=GRACE_S)
    run = runner.submit(T + "slow", {"seconds": 10})
    _wait_for(runner, run, Started)
    pid = runner.worker_pid
    runner.close()
    runner.close()
    assert runner.worker_pid is None and pid is not None and not _alive(pid)
    assert isinstance(runner.wait(run), Cancelled)
    with pytest.raises(RuntimeError):
        runner.submit(T + "echo", {})


def test_the_worker_module_is_import_light() -> None:
    code = "import sys, profiler.worker, profiler.guard; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=HERE.parent.parent, capture_output=True, text=True, check=True
    )
    heavy = {"torch", "numpy", "onnxruntime", "psutil", "PySide6"} & set(out.stdout.split())
    assert not heavy


def test_guard_passes_small_estimates_and_reports_free_memory() -> None:
    from profiler.errors import MeasureError
    from profiler.guard import NotEnoughMemory, available_bytes, check_memory

    free = available_bytes("cpu")
    assert free > 0
    check_memory(1024, what="tiny.pt")
    with pytest.raises(MeasureError) as info:
        check_memory(free, what="big.pt")  # fits in what is free, not in 80 % of it
    assert isinstance(info.value, NotEnoughMemory) and info.value.exit_code == 3
    assert str(info.value).startswith("big.pt: needs about ")
    assert "usable" in str(info.value)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_an_unpicklable_request_fails_the_run_not_the_caller(runner: Runner) -> None:
    end = runner.wait(runner.submit(T + "echo", {"fn": lambda: None}), timeout_s=5)
    assert isinstance(end, Failed) and end.failure is FailureKind.UNUSABLE_INPUT and end.exit_code == 2
    assert "not plain picklable data" in end.message
    _echo_works(runner)


def test_a_run_eating_the_last_memory_is_stopped_as_out_of_memory() -> None:
    import psutil

    # pretend the machine is nearly full: the watchdog trips once the worker holds ~300 MiB more
    reserve = psutil.virtual_memory().available - 400 * 2**20
    runner = Runner(memory_reserve_bytes=reserve, memory_min_rss_bytes=250 * 2**20)
    try:
        run = runner.submit(T + "eat_memory", {"chunk_mb": 50, "limit_mb": 4000}, time_limit_s=60)
        end = runner.wait(run, timeout_s=60)
        assert isinstance(end, Failed) and end.failure is FailureKind.OUT_OF_MEMORY, end
        assert end.exit_code == 3 and "ran out of memory" in end.message
        assert runner.worker_pid is None  # killed, not left to the kernel's OOM killer
        again = runner.submit(T + "echo", {"x": 1})
        assert isinstance(runner.wait(again, timeout_s=60), Finished)  # a fresh worker carries on
    finally:
        runner.close()


def test_events_are_picklable_and_failures_derive_their_exit_code() -> None:
    import pickle

    from profiler.events import StaticResult

    events = [
        Started(task="t", pid=1, run_id=1),
        Progress(0.5, "m", "baseline", run_id=1),
        StaticResult({"schema": "tradeoff.profile/1"}, 0.1, "variant", baseline=True, run_id=1),
        LayerMeasured("fc", 1.5, "variant", run_id=1),
        Finished({"x": 1}, run_id=1),
        Failed(
            FailureKind.MISSING_DIM,
            "m.onnx: no size",
            "m.onnx",
            "load",
            {"missing_dim": {"input": "x", "dim": 2, "symbol": None, "declared": [1, None]}},
            run_id=1,
        ),
        Cancelled("superseded", killed=True, run_id=1),
    ]
    assert [pickle.loads(pickle.dumps(e)) for e in events] == events
    assert [e.terminal for e in events] == [False] * 4 + [True] * 3
    codes = {kind: Failed(kind).exit_code for kind in FailureKind}
    assert codes == {
        FailureKind.UNUSABLE_INPUT: 2,
        FailureKind.NEEDS_TRUST: 2,
        FailureKind.MISSING_DIM: 2,
        FailureKind.MODEL_FAILED: 3,
        FailureKind.OUT_OF_MEMORY: 3,
        FailureKind.TIMED_OUT: 3,
        FailureKind.CANCELLED: 3,
    }


def test_failed_event_kinds_follow_the_error_not_its_wording() -> None:
    from profiler.errors import InputError, MeasureError
    from profiler.guard import NotEnoughMemory
    from profiler.worker_process import failed_event

    trust = failed_event(InputError("m.pt", "pass --trust", details={"needs_trust": True, "stage": "load"}), 4)
    assert trust == Failed(FailureKind.NEEDS_TRUST, "m.pt: pass --trust", "m.pt", "load", {}, run_id=4)
    dim = failed_event(InputError("m.onnx", "no value", details={"missing_dim": {"input": "x"}}))
    assert dim.failure is FailureKind.MISSING_DIM and dim.fields == {"missing_dim": {"input": "x"}}
    assert failed_event(InputError("m.onnx", "trust me")).failure is FailureKind.UNUSABLE_INPUT
    assert failed_event(MeasureError("m.onnx", "forward raised")).failure is FailureKind.MODEL_FAILED
    oom = failed_event(NotEnoughMemory("m.pt", "needs more", needed=2, available=1))
    assert oom.failure is FailureKind.OUT_OF_MEMORY and oom.exit_code == 3
    assert failed_event(MemoryError()).failure is FailureKind.OUT_OF_MEMORY
    bug = failed_event(ValueError("a\nb"))
    assert (bug.failure, bug.message, bug.file, bug.exit_code) == (FailureKind.MODEL_FAILED, "ValueError: a", None, 3)


def test_a_task_yielding_something_else_fails_the_run(runner: Runner) -> None:
    end = runner.wait(runner.submit(T + "old_style", {}), timeout_s=10)
    assert isinstance(end, Failed) and end.failure is FailureKind.MODEL_FAILED
    assert "not a run event" in end.message
