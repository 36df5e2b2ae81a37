"""Timing torch models: end to end (CPU clock, or CUDA events) and per layer (forward hooks).

Per-layer times come from forward pre/post hooks on an unchanged model: a leaf's time is its
inclusive time; a parent's "own ops" row is its inclusive time minus its children's, so the
rows add up to the root's time.
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ..measure import Timing, measure
from .analysis import ROOT_NAME


@contextmanager
def intra_op_threads(threads: int | None) -> Iterator[int]:
    """Set torch's intra-op thread count for the block; yields the count in force."""
    import torch

    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield torch.get_num_threads()
    finally:
        torch.set_num_threads(before)


def _cuda_event_timer(fn: Callable[[], object]) -> tuple[Callable[[], object], Callable[[], float]]:
    """Wrap `fn` so each call records CUDA events; the returned clock replays their elapsed times.

    measure() reads the clock before and after each call; reading the elapsed time between
    events (after a synchronize) gives GPU time without host launch jitter.
    """
    import torch

    state = {"t": 0.0}

    def timed() -> object:
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        out = fn()
        end.record()
        end.synchronize()
        state["t"] += start.elapsed_time(end) / 1000.0
        return out

    return timed, lambda: state["t"]


def time_forward(
    model: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    *,
    device: str = "cpu",
    threads: int | None = None,
    clock: Callable[[], float] = time.perf_counter,
    budget_s: float = 3.0,
    should_stop: Callable[[], bool] | None = None,
) -> Timing:
    """End-to-end forward latency under `inference_mode`; CUDA uses events after a sync."""
    import torch

    def call() -> object:
        return model(*args, **kwargs)

    with intra_op_threads(threads), torch.inference_mode():
        if device == "cuda":
            torch.cuda.synchronize()
            timed, event_clock = _cuda_event_timer(call)
            return measure(timed, clock=event_clock, budget_s=budget_s, should_stop=should_stop)
        return measure(call, clock=clock, budget_s=budget_s, should_stop=should_stop)


def layer_latencies_ms(
    model: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    row_names: set[str],
    *,
    device: str = "cpu",
    threads: int | None = None,
    runs: int = 5,
    clock: Callable[[], float] = time.perf_counter,
    on_layer: Callable[[str, float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    run_totals_ms: list[float] | None = None,
) -> dict[str, float]:
    """Median per-row latency in ms over `runs` hooked forwards (after one warm-up); see
    `layer_samples_ms` for the per-run samples."""
    samples = layer_samples_ms(
        model,
        args,
        kwargs,
        row_names,
        device=device,
        threads=threads,
        runs=runs,
        clock=clock,
        on_layer=on_layer,
        should_stop=should_stop,
        run_totals_ms=run_totals_ms,
    )
    return {name: statistics.median(v) for name, v in samples.items() if v}


def layer_samples_ms(
    model: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    row_names: set[str],
    *,
    device: str = "cpu",
    threads: int | None = None,
    runs: int = 5,
    clock: Callable[[], float] = time.perf_counter,
    on_layer: Callable[[str, float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    run_totals_ms: list[float] | None = None,
) -> dict[str, list[float]]:
    """Per-row latency in ms in each of `runs` hooked forwards (after one warm-up).

    `on_layer(name, ms)` is called as each row's time is first known, so a caller can stream
    partial results. A parent's own time is its inclusive time minus its children's, minus the
    hooks' own cost around each child call (measured here on an empty module), which would
    otherwise land in the parent's row.
    """
    import torch

    names: dict[int, str] = {}
    children: dict[str, list[str]] = {}
    for name, mod in model.named_modules():
        key = name or ROOT_NAME
        names.setdefault(id(mod), key)
    for name, mod in model.named_modules():
        key = name or ROOT_NAME
        children[key] = [names[id(c)] for c in mod.children() if id(c) in names]

    sync = torch.cuda.synchronize if device == "cuda" else None
    starts: dict[str, list[float]] = defaultdict(list)
    inclusive: dict[str, float] = defaultdict(float)
    calls: dict[str, int] = defaultdict(int)

    def pre(mod: Any, _args: Any) -> None:
        if sync:
            sync()
        starts[names[id(mod)]].append(clock())

    def post(mod: Any, _args: Any, _out: Any) -> None:
        if sync:
            sync()
        name = names[id(mod)]
        if starts[name]:
            inclusive[name] += clock() - starts[name].pop()
            calls[name] += 1

    overhead_s = 0.0 if sync else _hook_overhead_s(pre, post, names, clock)
    per_run: dict[str, list[float]] = defaultdict(list)
    handles = []
    try:
        for mod in model.modules():
            if id(mod) in names:
                handles.append(mod.register_forward_pre_hook(pre))
                handles.append(mod.register_forward_hook(post, always_call=True))
        with intra_op_threads(threads), torch.inference_mode():
            for run in range(runs + 1):
                if should_stop is not None and should_stop():
                    break  # superseded: the caller raises Cancelled at its next check
                inclusive.clear()
                calls.clear()
                model(*args, **kwargs)
                if run == 0:
                    continue  # warm-up: first calls pay for allocation and kernel selection
                for name in row_names:
                    kids = children.get(name, ())
                    own = (
                        inclusive.get(name, 0.0)
                        - sum(inclusive.get(c, 0.0) for c in kids)
                        - overhead_s * sum(calls.get(c, 0) for c in kids)
                    )
                    per_run[name].append(max(own, 0.0) * 1000.0)
                if run_totals_ms is not None:  # what the rows of this one run add up to
                    run_totals_ms.append(sum(per_run[n][-1] for n in row_names))
                if run == 1 and on_layer is not None:
                    for name in row_names:
                        on_layer(name, per_run[name][-1])
    finally:
        for h in handles:
            h.remove()
    return dict(per_run)


def _hook_overhead_s(pre: Any, post: Any, names: dict[int, str], clock: Callable[[], float], calls: int = 400) -> float:
    """Seconds the pre/post hooks add to one module call, measured on an nn.Identity."""
    import torch

    probe = torch.nn.Identity()
    x = torch.zeros(1)
    names[id(probe)] = "(hook probe)"

    def run() -> float:
        t0 = clock()
        for _ in range(calls):
            probe(x)
        return clock() - t0

    try:
        bare = min(run() for _ in range(3))
        handles = [probe.register_forward_pre_hook(pre), probe.register_forward_hook(post, always_call=True)]
        try:
            hooked = min(run() for _ in range(3))
        finally:
            for h in handles:
                h.remove()
    finally:
        names.pop(id(probe), None)
    return max(0.0, (hooked - bare) / calls)
