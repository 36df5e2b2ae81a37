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

from profiler.worker import RunEvent, Runner  # noqa: E402

GRACE_S = 0.5
T = "worker_tasks:"


@pytest.fixture
def runner() -> Iterator[Runner]:
    with Runner(grace_s=GRACE_S) as r:
        yield r


def _wait_for(runner: Runner, run_id: int, kind: str, timeout_s: float = 10.0) -> list[RunEvent]:
    """Poll until run ``run_id`` sends an event of ``kind``; return everything polled so far."""
    seen: list[RunEvent] = []
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        seen += runner.poll(0.05)
        if any(e.run_id == run_id and e.kind == kind for e in seen):
            return seen
    raise AssertionError(f"run {run_id} sent no {kind!r} in {timeout_s} s: {seen}")


def _echo_works(runner: Runner, pid_before: int | None = None) -> None:
    run = runner.submit(T + "echo", {"after": "recovery"})
    end = runner.wait(run, timeout_s=10)
    assert end.kind == "finished", end
    assert end.payload["result"]["echo"] == {"after": "recovery"}
    if pid_before is not None:
        assert end.payload["result"]["pid"] != pid_before  # a fresh worker


def test_finished_result_and_event_stream(runner: Runner) -> None:
    seen: list[RunEvent] = []
    run = runner.submit(T + "echo", {"x": [1, 2.5, "three"]})
    end = runner.wait(run, timeout_s=10, on_event=seen.append)
    assert end == seen[-1]
    assert [e.kind for e in seen] == ["started", "progress", "finished"]
    assert all(e.run_id == run for e in seen)
    assert seen[1].payload == {"fraction": 0.5, "message": "echoing"}
    assert end.payload["result"]["echo"] == {"x": [1, 2.5, "three"]}
    assert end.payload["cached"] is False
    assert end.payload["result"]["pid"] == runner.worker_pid != os.getpid()
    assert not runner.busy
    assert runner.wait(run) == end  # asking again answers at once


def test_state_persists_across_requests(runner: Runner) -> None:
    first = runner.wait(runner.submit(T + "remember", {}), timeout_s=10)
    second = runner.wait(runner.submit(T + "remember", {}), timeout_s=10)
    assert first.payload["result"]["calls"] == 1
    assert second.payload["result"]["calls"] == 2
    assert second.payload["result"]["loads"] == 1  # the "model" was loaded once
    assert first.payload["result"]["pid"] == second.payload["result"]["pid"]


def test_supersede_cancels_the_old_run_quickly_and_runs_the_new_one(runner: Runner) -> None:
    old = runner.submit(T + "slow", {"seconds": 10})
    _wait_for(runner, old, "progress")
    pid = runner.worker_pid
    t0 = time.monotonic()
    new = runner.submit(T + "echo", {"n": 2})
    cancelled = runner.wait(old, timeout_s=5)
    latency = time.monotonic() - t0
    assert cancelled.kind == "cancelled"
    assert cancelled.payload == {"reason": "superseded", "killed": False}
    assert latency < 0.2, f"the superseded run took {latency * 1000:.0f} ms to stop"
    end = runner.wait(new, timeout_s=5)
    assert end.kind == "finished" and end.payload["result"]["echo"] == {"n": 2}
    assert end.payload["result"]["pid"] == pid  # stopped cooperatively: same worker, state kept


def test_stubborn_run_is_killed_after_grace_and_the_new_run_still_finishes(runner: Runner) -> None:
    old = runner.submit(T + "stubborn", {"seconds": 30})
    _wait_for(runner, old, "progress")
    pid = runner.worker_pid
    t0 = time.monotonic()
    new = runner.submit(T + "echo", {"n": 3})
    cancelled = runner.wait(old, timeout_s=5)
    waited = time.monotonic() - t0
    assert cancelled.kind == "cancelled" and cancelled.payload["killed"] is True
    assert GRACE_S <= waited < GRACE_S + 1.0
    end = runner.wait(new, timeout_s=10)
    assert end.kind == "finished" and end.payload["result"]["echo"] == {"n": 3}
    assert end.payload["result"]["pid"] != pid
    assert pid is not None and not _alive(pid)


def test_cancel_leaves_the_worker_idle_within_200ms(runner: Runner) -> None:
    run = runner.submit(T + "slow", {"seconds": 10})
    _wait_for(runner, run, "progress")
    t0 = time.monotonic()
    runner.cancel()
    assert runner.busy
    events: list[RunEvent] = []
    while runner.busy and time.monotonic() - t0 < 5:
        events += runner.poll(0.01)
    idle = time.monotonic() - t0
    assert idle < 0.2, f"cancel took {idle * 1000:.0f} ms"
    assert [e.kind for e in events if e.run_id == run] == ["cancelled"]
    assert events[-1].payload["reason"] == "cancelled"
    runner.cancel()  # nothing running: a no-op
    _echo_works(runner)


@pytest.mark.parametrize(
    ("task", "words"),
    [("crash_segfault", "signal SIGSEGV"), ("crash_exit", "exit code 7")],
)
def test_a_crash_fails_the_run_and_the_next_request_works(runner: Runner, task: str, words: str) -> None:
    run = runner.submit(T + task, {})
    end = runner.wait(run, timeout_s=10)
    assert end.kind == "failed"
    assert end.payload["kind"] == "crash" and end.payload["exit_code"] == 3
    assert end.payload["message"] == f"the measurement process died ({words})"
    assert runner.worker_pid is None and not runner.busy  # restarted lazily, on the next submit
    _echo_works(runner)


def test_kill_9_of_the_worker_mid_run(runner: Runner) -> None:
    run = runner.submit(T + "slow", {"seconds": 10})
    _wait_for(runner, run, "progress")
    pid = runner.worker_pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    end = runner.wait(run, timeout_s=5)
    assert end.kind == "failed" and end.payload["kind"] == "crash"
    assert "SIGKILL" in end.payload["message"]
    _echo_works(runner, pid_before=pid)


def test_time_limit_fails_with_timeout_and_the_next_request_works(runner: Runner) -> None:
    t0 = time.monotonic()
    run = runner.submit(T + "slow", {"seconds": 10}, time_limit_s=0.3)
    end = runner.wait(run, timeout_s=5)
    assert time.monotonic() - t0 < 1.5
    assert end.kind == "failed" and end.payload["kind"] == "timeout" and end.payload["exit_code"] == 3
    assert end.payload["message"] == "the run passed its time limit of 0.3 s"
    _echo_works(runner)


def test_time_limit_kills_a_task_that_does_not_stop(runner: Runner) -> None:
    run = runner.submit(T + "stubborn", {"seconds": 30}, time_limit_s=0.2)
    _wait_for(runner, run, "started")
    pid = runner.worker_pid
    end = runner.wait(run, timeout_s=5)
    assert end.kind == "failed" and end.payload["kind"] == "timeout"
    _echo_works(runner, pid_before=pid)


def test_studio_error_keeps_its_exit_code_and_one_line(runner: Runner) -> None:
    end = runner.wait(runner.submit(T + "raise_error", {}), timeout_s=10)
    assert end.kind == "failed"
    assert end.payload["exit_code"] == 2 and end.payload["kind"] == "error"
    assert end.payload["message"] == "x.onnx: bad"


def test_other_exceptions_are_exit_3_with_the_first_line(runner: Runner) -> None:
    end = runner.wait(runner.submit(T + "raise_bug", {}), timeout_s=10)
    assert end.payload == {"message": "ValueError: first line", "exit_code": 3, "kind": "error"}
    end = runner.wait(runner.submit("no_such_module:task", {}), timeout_s=10)
    assert end.kind == "failed" and end.payload["message"].startswith("ModuleNotFoundError: ")
    end = runner.wait(runner.submit(T + "unpicklable", {}), timeout_s=10)
    assert end.kind == "failed" and "not plain picklable data" in end.payload["message"]
    _echo_works(runner)  # none of that hurt the worker


def test_memory_guard_refuses_with_a_message(runner: Runner) -> None:
    end = runner.wait(runner.submit(T + "hog", {}), timeout_s=10)
    assert end.kind == "failed"
    assert end.payload["kind"] == "memory" and end.payload["exit_code"] == 3
    message = end.payload["message"]
    assert message.startswith("hog.pt: needs about ") and "GiB is free; lower the batch or sequence length" in message


def test_cache_hit_answers_without_running(runner: Runner) -> None:
    first = runner.wait(runner.submit(T + "remember", {}, cache_key="variant-a"), timeout_s=10)
    assert first.payload == {"result": first.payload["result"], "cached": False}
    seen: list[RunEvent] = []
    t0 = time.monotonic()
    hit = runner.submit(T + "remember", {}, cache_key="variant-a")
    assert not runner.busy
    again = runner.wait(hit, timeout_s=1, on_event=seen.append)
    assert time.monotonic() - t0 < 0.05
    assert again.kind == "finished" and again.payload["cached"] is True
    assert again.payload["result"] == first.payload["result"]
    assert [e.kind for e in seen] == ["started", "finished"]
    third = runner.wait(runner.submit(T + "remember", {}), timeout_s=10)
    assert third.payload["result"]["calls"] == 2  # the cache hit never reached the worker
    failed = runner.wait(runner.submit(T + "raise_bug", {}, cache_key="bad"), timeout_s=10)
    assert failed.kind == "failed"
    assert runner.wait(runner.submit(T + "raise_bug", {}, cache_key="bad"), timeout_s=10).kind == "failed"  # not cached


def test_stale_events_of_superseded_runs_are_not_returned(runner: Runner) -> None:
    old = runner.submit(T + "slow", {"seconds": 10, "layers": True})
    _wait_for(runner, old, "layer")
    time.sleep(0.1)  # let events of the old run pile up in the pipe, unread
    new = runner.submit(T + "slow", {"seconds": 0.3, "layers": True})
    events: list[RunEvent] = []
    while not any(e.run_id == new and e.terminal for e in events):
        events += runner.poll(0.05)
    assert [e.kind for e in events if e.run_id == old] == ["cancelled"]
    kinds = [e.kind for e in events if e.run_id == new]
    assert kinds[0] == "started" and kinds[-1] == "finished"
    assert {"layer", "progress"} <= set(kinds)


def test_progress_is_throttled_but_layers_are_not(runner: Runner) -> None:
    seen: list[RunEvent] = []
    end = runner.wait(runner.submit(T + "slow", {"seconds": 0.5, "layers": True}), timeout_s=10, on_event=seen.append)
    steps = end.payload["result"]["steps"]
    layers = sum(e.kind == "layer" for e in seen)
    progress = sum(e.kind == "progress" for e in seen)
    assert layers == steps > 20
    assert progress <= 0.5 * 20 + 2


def test_rapid_supersedes_end_every_run_once(runner: Runner) -> None:
    runs = [runner.submit(T + "slow", {"seconds": 5}) for _ in range(5)]
    last = runner.submit(T + "echo", {"last": True})
    ends = {r: runner.wait(r, timeout_s=5) for r in [*runs, last]}
    assert [ends[r].kind for r in runs] == ["cancelled"] * 5
    assert ends[last].kind == "finished"
    assert not runner.busy and runner.poll() == []


def test_close_is_idempotent_and_cancels_what_runs() -> None:
    runner = Runner(grace_s=GRACE_S)
    run = runner.submit(T + "slow", {"seconds": 10})
    _wait_for(runner, run, "started")
    pid = runner.worker_pid
    runner.close()
    runner.close()
    assert runner.worker_pid is None and pid is not None and not _alive(pid)
    assert runner.wait(run).kind == "cancelled"
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
    assert end.kind == "failed" and end.payload["exit_code"] == 2
    assert "not plain picklable data" in end.payload["message"]
    _echo_works(runner)


def test_a_run_eating_the_last_memory_is_stopped_as_out_of_memory() -> None:
    import psutil

    # pretend the machine is nearly full: the watchdog trips once the worker holds ~300 MiB more
    reserve = psutil.virtual_memory().available - 400 * 2**20
    runner = Runner(memory_reserve_bytes=reserve, memory_min_rss_bytes=250 * 2**20)
    try:
        run = runner.submit(T + "eat_memory", {"chunk_mb": 50, "limit_mb": 4000}, time_limit_s=60)
        end = runner.wait(run, timeout_s=60)
        assert end.kind == "failed" and end.payload["kind"] == "memory", end.payload
        assert end.payload["exit_code"] == 3 and "ran out of memory" in end.payload["message"]
        assert runner.worker_pid is None  # killed, not left to the kernel's OOM killer
        again = runner.submit(T + "echo", {"x": 1})
        assert runner.wait(again, timeout_s=60).kind == "finished"  # a fresh worker carries on
    finally:
        runner.close()
