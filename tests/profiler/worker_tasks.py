"""Tasks for the worker tests and the worker benchmark (never torch: a spawned worker starts in ~0.3 s).

Named "worker_tasks:NAME"; the tests put this folder on sys.path, which spawn passes to the worker.
"""

from __future__ import annotations

import ctypes
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from profiler.events import Finished, LayerMeasured, Progress, RunEvent

Events = Iterator[RunEvent]


def echo(payload: dict[str, Any], state: dict[str, Any], should_stop: Callable[[], bool]) -> Events:
    yield Progress(0.5, "echoing")
    yield Finished({"echo": payload, "pid": os.getpid()})


def slow(payload: dict[str, Any], state: dict[str, Any], should_stop: Callable[[], bool]) -> Events:
    """Runs ``seconds`` (default 5), checking every 10 ms, with a progress event per check."""
    seconds = float(payload.get("seconds", 5.0))
    start = time.monotonic()
    n = 0
    while (elapsed := time.monotonic() - start) < seconds:
        if should_stop():
            return
        n += 1
        if payload.get("layers"):
            yield LayerMeasured(f"layer{n}", 10.0)
        yield Progress(elapsed / seconds, f"step {n}")
        time.sleep(0.01)
    yield Finished({"steps": n})


def stubborn(payload: dict[str, Any], state: dict[str, Any], should_stop: Callable[[], bool]) -> Events:
    """Ignores should_stop and never yields while it sleeps (like a long native call)."""
    yield Progress(0.0, "sleeping")
    time.sleep(float(payload.get("seconds", 30.0)))
    yield Finished("woke up")


def crash_segfault(payload: dict[str, Any], state: dict[str, Any], should_stop: Callable[[], bool]) -> Events:
    yield Progress(0.1, "about to crash")
    ctypes.string_at(0)
    yield Finished(None)


def crash_exit(payload: dict[str, Any], state: dict[str, Any], should_stop: Callable[[], bool]) -> Events:
    yield Progress(0.1, "about to exit")
    os._exit(7)


def raise_error(payload: dict[str, Any], state: dict[str, Any], should_stop: Callable[[], bool]) -> Events:
    from profiler.errors import InputError

    yield Progress(0.1, "about to fail")
    raise InputError("x.onnx", "bad")


def raise_bug(payload: dict[str, Any], state: dict[str, Any], should_stop: Callable[[], bool]) -> Events:
    yield Progress(0.1, "about to fail")
    raise ValueError("first line\nsecond line")


def remember(payload: dict[str, Any], state: dict[str, Any], should_stop: Callable[[], bool]) -> Events:
    """Counts its calls in ``state``; ``loads`` counts the (expensive) first load only."""
    if "model" not in state:
        state["model"] = object()
        state["loads"] = state.get("loads", 0) + 1
    state["calls"] = state.get("calls", 0) + 1
    yield Finished({"calls": state["calls"], "loads": state["loads"], "pid": os.getpid()})


def hog(payload: dict[str, Any], state: dict[str, Any], should_stop: Callable[[], bool]) -> Events:
    from profiler.guard import check_memory

    yield Progress(0.0, "estimating memory")
    check_memory(1 << 60, device="cpu", what="hog.pt")  # an exbibyte
    yield Finished("allocated")


def unpicklable(payload: dict[str, Any], state: dict[str, Any], should_stop: Callable[[], bool]) -> Events:
    yield Finished(lambda: None)


def eat_memory(payload: dict[str, Any], state: dict[str, Any], should_stop: Callable[[], bool]) -> Events:
    """Touch `chunk_mb` MiB every 50 ms, up to `limit_mb`, ignoring cancellation (a runaway model)."""
    import time

    held = []
    for _ in range(int(payload["limit_mb"]) // int(payload["chunk_mb"])):
        held.append(bytearray(int(payload["chunk_mb"]) * 2**20))  # zero-filled: resident at once
        time.sleep(0.05)
    yield Finished(len(held))


def old_style(payload: dict[str, Any], state: dict[str, Any], should_stop: Callable[[], bool]) -> Iterator[Any]:
    """Yields the pre-events `(kind, data)` tuples: the worker refuses them."""
    yield "progress", {"fraction": 0.5, "message": "old"}
