"""Faults injected into the real measurement (issue 8, item 3): `profiler.tasks:variant_task` in the
real spawned worker (`profiler.worker.Runner`), as the app and `tradeoff sweep` run it.

tests/profiler/test_worker.py injects the same faults into synthetic tasks; here the worker is
killed while it measures demo:resnet18 for real, and a user model crashes it from inside its
forward (a segfault through ctypes) or never returns (the time limit). os._exit from a user model
(USER_MODEL's `exit`) behaves as the segfault does; tests/profiler/test_worker.py covers it. After each: a failed
event of the right kind, the next request (demo:mlp) works in a fresh worker, and a result the
caller kept from before is intact.
"""

from __future__ import annotations

import copy
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from profiler.analyze import ProfileRequest
from profiler.events import Failed, FailureKind, Finished, RunEvent
from profiler.tasks import request_to_dict
from profiler.variant import Variant
from profiler.whatif import VariantResult
from profiler.worker import Runner

TASK = "profiler.tasks:variant_task"
REQUEST = ProfileRequest(budget_s=0.2, layer_runs=1)


def payload(source: str, variant: Variant) -> dict[str, Any]:
    return {
        "source": source,
        "trust": False,
        "request": request_to_dict(REQUEST),
        "inputs": None,
        "variant": variant.to_dict(),
    }


def until(runner: Runner, run_id: int, kinds: set[str], timeout_s: float = 120.0) -> RunEvent:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        for event in runner.poll(0.02):
            if event.run_id == run_id and (event.kind in kinds or event.terminal):
                return event
    raise AssertionError(f"run {run_id}: none of {kinds} within {timeout_s} s")


@pytest.fixture(scope="module")
def runner() -> Iterator[Runner]:
    with Runner(grace_s=0.5) as r:
        yield r


@pytest.fixture(scope="module")
def kept(runner: Runner) -> tuple[dict[str, Any], VariantResult]:
    """A finished demo:mlp result, as the caller (the app's workspace) keeps it."""
    end = runner.wait(runner.submit(TASK, payload("demo:mlp", Variant(prune=0.3))), timeout_s=120)
    assert isinstance(end, Finished), end
    return copy.deepcopy(end.result), VariantResult.from_dict(end.result)


def _next_request_works(runner: Runner, dead_pid: int | None, kept: tuple[dict[str, Any], VariantResult]) -> None:
    t0 = time.monotonic()
    end = runner.wait(runner.submit(TASK, payload("demo:mlp", Variant(batch=2))), timeout_s=120)
    assert isinstance(end, Finished), end
    result = VariantResult.from_dict(end.result)
    assert result.error is None and result.profile is not None and result.profile.inputs[0].shape[0] == 2
    assert runner.worker_pid is not None and runner.worker_pid != dead_pid  # a fresh worker
    raw, obj = kept
    assert VariantResult.from_dict(raw) == obj and obj.profile is not None and obj.profile.totals.latency_ms is not None
    print(f"next request finished {time.monotonic() - t0:.1f} s after the fault")


def test_kill_9_while_resnet18_measures(runner: Runner, kept: tuple[dict[str, Any], VariantResult]) -> None:
    run_id = runner.submit(TASK, payload("demo:resnet18", Variant(prune=0.2)))
    event = until(runner, run_id, {"static", "layer"})  # loaded, counting or timing: mid-measurement
    assert not event.terminal, event
    pid = runner.worker_pid
    assert pid is not None and pid != os.getpid()
    os.kill(pid, signal.SIGKILL)
    end = runner.wait(run_id, timeout_s=10)
    assert isinstance(end, Failed), end
    assert end.failure is FailureKind.MODEL_FAILED and end.worker_died and end.exit_code == 3
    assert "SIGKILL" in end.message and "\n" not in end.message
    assert not runner.busy
    _next_request_works(runner, pid, kept)


USER_MODEL = """
import ctypes, os, time
import torch


class Hostile(torch.nn.Module):
    def __init__(self, how):
        super().__init__()
        self.fc = torch.nn.Linear(8, 8)
        self.how = how

    def forward(self, x):
        if self.how == "segfault":
            ctypes.string_at(0)
        elif self.how == "exit":
            os._exit(7)
        elif self.how == "hang":
            while True:
                time.sleep(0.05)
        return self.fc(x)


def segfault():
    return Hostile("segfault"), (torch.randn(1, 8),)


def exit():
    return Hostile("exit"), (torch.randn(1, 8),)


def hang():
    return Hostile("hang"), (torch.randn(1, 8),)
"""


@pytest.mark.parametrize(
    ("factory", "kind", "words", "limit"),
    [
        ("segfault", FailureKind.MODEL_FAILED, "SIGSEGV", None),
        ("hang", FailureKind.TIMED_OUT, "time limit", 1.0),
    ],
)
def test_a_user_model_that_kills_or_hangs_the_worker(
    factory: str,
    kind: FailureKind,
    words: str,
    limit: float | None,
    runner: Runner,
    kept: tuple[dict[str, Any], VariantResult],
    tmp_path: Path,
) -> None:
    model = tmp_path / "hostile_model.py"
    model.write_text(USER_MODEL)
    t0 = time.monotonic()
    run_id = runner.submit(TASK, payload(f"{model}:{factory}", Variant()), time_limit_s=limit)
    pid_seen: set[int | None] = set()
    end = runner.wait(run_id, timeout_s=60, on_event=lambda e: pid_seen.add(runner.worker_pid))
    took = time.monotonic() - t0
    assert isinstance(end, Failed), end
    assert end.failure is kind and end.exit_code == 3, end
    assert words in end.message and "\n" not in end.message, end
    if limit is not None:
        assert took < limit + 5, f"the time limit took {took:.1f} s to act"
    _next_request_works(runner, next(iter(pid_seen - {None}), None), kept)
