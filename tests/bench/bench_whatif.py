"""Benchmark of the what-if engine in the measurement worker (issue 3, item 7). Prints figures; asserts nothing.

    .venv/bin/python tests/bench/bench_whatif.py [--rounds 3] [--tries 10] [--threads N] [--skip-throughput]
        [--only knobs|cancel|throughput]

Run it on an otherwise idle machine: on 2 cores, a second busy process makes torch's 2 intra-op
threads wait on each other at every parallel op (batch 1 runs ~10x faster than batch 2 then).
The load average at start and end is printed beside the figures.

(a) knob changes: demo:resnet18, batch 1, CPU, warm worker (the baseline already measured), the
    app's live settings ProfileRequest(budget_s=0.5, layer_runs=2). For each knob change:
    submit -> first per-layer partial result (the variant's first 'static' or 'layer' event;
    an identity variant has none, so its 'finished' counts) and submit -> 'finished'.
    Targets (issue 3): final result < 1 s median, first per-layer result < 0.3 s.
(b) cancellation: submit, wait for the first 'progress' (or 150 ms: mid-transform), cancel ->
    `Runner.busy` false. Target: < 200 ms. Done for int8 and for structured pruning, whose
    dependency-graph pass has no check point inside it.
(c) throughput vs batch (identity variants = the baseline measured at each batch):
    images/s = batch / median latency for demo:resnet18, demo:mobilenetv2, demo:mlp;
    tokens/s = batch * 64 / median latency for demo:gpt-small at seq 64.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from profiler.analyze import ProfileRequest  # noqa: E402
from profiler.events import Cancelled, Finished, RunEvent  # noqa: E402
from profiler.tasks import request_to_dict  # noqa: E402
from profiler.variant import Variant  # noqa: E402
from profiler.whatif import VariantResult  # noqa: E402
from profiler.worker import Runner  # noqa: E402

TASK = "profiler.tasks:variant_task"
LIVE = ProfileRequest(budget_s=0.5, layer_runs=2)  # the app's live settings
THROUGHPUT = ProfileRequest(budget_s=1.0, layer_latency=False)

KNOBS: list[tuple[str, Variant]] = [
    ("prune 0.1 structured", Variant(prune=0.1)),
    ("prune 0.2 structured", Variant(prune=0.2)),
    ("prune 0.3 structured", Variant(prune=0.3)),
    ("prune 0.4 structured", Variant(prune=0.4)),
    ("prune 0.5 structured", Variant(prune=0.5)),
    ("int8", Variant(precision="int8")),
    ("batch 2", Variant(batch=2)),
    ("fp32 (back to baseline)", Variant()),
]


def payload(source: str, variant: Variant, request: ProfileRequest) -> dict[str, Any]:
    return {
        "source": source,
        "trust": False,
        "request": request_to_dict(request),
        "inputs": None,
        "variant": variant.to_dict(),
    }


def timed_run(
    runner: Runner, source: str, variant: Variant, request: ProfileRequest, timeout_s: float = 300.0
) -> tuple[float | None, float, RunEvent]:
    """(s to the first static/layer event of the variant, s to the terminal event, terminal event)."""
    first: float | None = None
    t0 = time.perf_counter()
    run_id = runner.submit(TASK, payload(source, variant, request))
    deadline = t0 + timeout_s
    while time.perf_counter() < deadline:
        for event in runner.poll(0.002):
            if event.run_id != run_id:
                continue
            now = time.perf_counter() - t0
            if first is None and event.kind in ("static", "layer"):
                first = now
            if event.terminal:
                return first, now, event
    raise RuntimeError(f"{variant.label()}: no result within {timeout_s} s")


def fmt(samples: list[float], unit: str = "ms") -> str:
    if not samples:
        return "—"
    scale = 1000.0 if unit == "ms" else 1.0
    xs = [s * scale for s in samples]
    return f"median {statistics.median(xs):7.0f} {unit}  max {max(xs):7.0f} {unit}  (n={len(xs)})"


def bench_knobs(rounds: int) -> None:
    print(
        f"(a) knob change -> result, demo:resnet18 batch 1, cpu, warm worker, budget_s=0.5 layer_runs=2, threads {LIVE.threads}"
    )
    with Runner(grace_s=1.0) as runner:
        t0 = time.perf_counter()
        _, cold, end = timed_run(runner, "demo:resnet18", Variant(), LIVE)
        print(f"    cold start (spawn, import, load, baseline): {cold:.2f} s [{end.kind}]")
        for _, variant in KNOBS:  # warm every baseline shape once (batch 2 has its own)
            timed_run(runner, "demo:resnet18", variant, LIVE)
        print(f"    warm-up of all knobs done in {time.perf_counter() - t0:.1f} s; pid {runner.worker_pid}")
        firsts: dict[str, list[float]] = {name: [] for name, _ in KNOBS}
        finals: dict[str, list[float]] = {name: [] for name, _ in KNOBS}
        failures: list[str] = []
        for _ in range(rounds):
            for name, variant in KNOBS:
                first, final, end = timed_run(runner, "demo:resnet18", variant, LIVE)
                if end.kind != "finished":
                    failures.append(f"{name}: {end}")
                    continue
                finals[name].append(final)
                firsts[name].append(first if first is not None else final)
        print(f"    {'knob':<26} {'submit -> first per-layer result':<44} {'submit -> finished'}")
        for name, _ in KNOBS:
            print(f"    {name:<26} {fmt(firsts[name]):<44} {fmt(finals[name])}")
        all_first = [x for v in firsts.values() for x in v]
        all_final = [x for v in finals.values() for x in v]
        print(f"    {'ALL knob changes':<26} {fmt(all_first):<44} {fmt(all_final)}")
        for f in failures:
            print(f"    failed: {f}")


def bench_cancel(tries: int) -> None:
    print("(b) cancel -> worker idle (Runner.busy false), demo:resnet18, warm worker")
    print("    'at first progress': as soon as the run reports anything; 'after 150 ms': mid-transform")
    print("    (inside Torch-Pruning's dependency-graph pass, or torch's int8 quantization and its measurement)")
    with Runner(grace_s=1.0) as runner:
        timed_run(runner, "demo:resnet18", Variant(), LIVE)
        for label, variant in (("int8", Variant(precision="int8")), ("prune 0.3 structured", Variant(prune=0.3))):
            for when in ("at first progress", "after 150 ms"):
                idle: list[float] = []
                killed = 0
                for _ in range(tries):
                    run_id = runner.submit(TASK, payload("demo:resnet18", variant, LIVE))
                    submitted = time.perf_counter()
                    if when == "at first progress":
                        while time.perf_counter() < submitted + 120:
                            if any(e.run_id == run_id and e.kind == "progress" for e in runner.poll(0.002)):
                                break
                    else:
                        while time.perf_counter() < submitted + 0.15:
                            runner.poll(0.002)
                    t0 = time.perf_counter()
                    runner.cancel()
                    while runner.busy:
                        for e in runner.poll(0.001):
                            if e.run_id == run_id and isinstance(e, Cancelled) and e.killed:
                                killed += 1
                    idle.append(time.perf_counter() - t0)
                    if runner.worker_pid is None:  # killed: warm a fresh worker before the next try
                        timed_run(runner, "demo:resnet18", Variant(), LIVE)
                name = f"{label}, {when}"
                print(f"    {name:<40} {fmt(idle)}   killed after the grace period: {killed}/{tries}")


def bench_throughput() -> None:
    print("(c) throughput vs batch (identity variants, budget_s=1.0, no per-layer timing)")
    cases: list[tuple[str, list[int], int | None]] = [
        ("demo:resnet18", [1, 2, 4, 8, 16, 32], None),
        ("demo:mobilenetv2", [1, 2, 4, 8, 16, 32], None),
        ("demo:mlp", [1, 2, 4, 8, 16, 32], None),
        ("demo:gpt-small", [1, 2, 4, 8], 64),
    ]
    with Runner(grace_s=1.0) as runner:
        for source, batches, seq in cases:
            unit = "tokens/s" if seq else "images/s"
            cells = []
            for b in batches:
                _, _, end = timed_run(runner, source, Variant(batch=b, seq_len=seq), THROUGHPUT)
                if end.kind != "finished":
                    cells.append(f"b{b}: {end.kind}")
                    continue
                assert isinstance(end, Finished)
                r = VariantResult.from_dict(end.result)
                lat = r.profile.totals.latency_ms if r.profile else None
                if lat is None:
                    cells.append(f"b{b}: —")
                    continue
                per_s = b * (seq or 1) / (lat.median / 1000.0)
                cells.append(f"b{b}: {per_s:,.0f} ({lat.median:.1f} ms)")
            print(f"    {source:<17} {unit:<9} " + "  ".join(cells))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3, help="passes over the knob list")
    ap.add_argument("--tries", type=int, default=10, help="cancellations per case")
    ap.add_argument("--threads", type=int, default=None, help="intra-op threads (default: torch's, = cores)")
    ap.add_argument("--skip-throughput", action="store_true")
    ap.add_argument("--only", choices=["knobs", "cancel", "throughput"], help="run one part only")
    args = ap.parse_args()
    global LIVE, THROUGHPUT
    LIVE = dataclasses.replace(LIVE, threads=args.threads)
    THROUGHPUT = dataclasses.replace(THROUGHPUT, threads=args.threads)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"cores {os.cpu_count()}, load average at start {load:.2f}")
    if args.only in (None, "knobs"):
        bench_knobs(args.rounds)
    if args.only in (None, "cancel"):
        bench_cancel(args.tries)
    if args.only == "throughput" or (args.only is None and not args.skip_throughput):
        bench_throughput()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average at end {load:.2f}")


if __name__ == "__main__":
    main()
