"""Benchmark of the worker's cancellation (issue 3, item 7). Prints figures; asserts nothing.

    .venv/bin/python tests/bench/bench_worker.py [--tries 20] [--grace 1.0]

(a) supersede: a `slow` run (checks every 10 ms) is superseded by `echo` → ms until its
    "cancelled" event, and until the new run's "finished".
(b) cancel → ms until the runner is idle (`busy` false).
(c) a stubborn run (no check points) superseded → ms until killed and the new run finished.
(d) cold start: a fresh Runner → first `echo` finished (spawn + import), and a warm `echo`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for p in (ROOT, ROOT / "tests" / "profiler"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from profiler.worker import Runner  # noqa: E402

T = "worker_tasks:"


def _until(runner: Runner, run_id: int, kind: str, timeout_s: float = 10.0) -> None:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if any(e.run_id == run_id and e.kind == kind for e in runner.poll(0.02)):
            return
    raise RuntimeError(f"run {run_id}: no {kind} event")


def _fmt(name: str, samples: list[float]) -> str:
    ms = [s * 1000 for s in samples]
    return f"{name:<44} n={len(ms):<3} median {statistics.median(ms):7.1f} ms   max {max(ms):7.1f} ms   min {min(ms):7.1f} ms"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tries", type=int, default=20)
    ap.add_argument("--grace", type=float, default=1.0)
    args = ap.parse_args()

    cold: list[float] = []
    for _ in range(3):
        t0 = time.perf_counter()
        with Runner(grace_s=args.grace) as r:
            r.wait(r.submit(T + "echo", {}), timeout_s=30)
            cold.append(time.perf_counter() - t0)

    with Runner(grace_s=args.grace) as runner:
        runner.wait(runner.submit(T + "echo", {}), timeout_s=30)  # warm
        warm: list[float] = []
        for _ in range(args.tries):
            t0 = time.perf_counter()
            runner.wait(runner.submit(T + "echo", {}), timeout_s=10)
            warm.append(time.perf_counter() - t0)

        to_cancelled: list[float] = []
        to_next_result: list[float] = []
        for i in range(args.tries):
            old = runner.submit(T + "slow", {"seconds": 30})
            _until(runner, old, "progress")
            time.sleep(0.02 + 0.005 * (i % 5))  # land at different points of the 10 ms loop
            t0 = time.perf_counter()
            new = runner.submit(T + "echo", {"i": i})
            end = runner.wait(old, timeout_s=10)
            to_cancelled.append(time.perf_counter() - t0)
            assert end.kind == "cancelled", end
            runner.wait(new, timeout_s=10)
            to_next_result.append(time.perf_counter() - t0)

        to_idle: list[float] = []
        for i in range(args.tries):
            run = runner.submit(T + "slow", {"seconds": 30})
            _until(runner, run, "progress")
            time.sleep(0.02 + 0.005 * (i % 5))
            t0 = time.perf_counter()
            runner.cancel()
            while runner.busy:
                runner.poll(0.005)
            to_idle.append(time.perf_counter() - t0)

        killed: list[float] = []
        for _ in range(min(args.tries, 5)):
            old = runner.submit(T + "stubborn", {"seconds": 60})
            _until(runner, old, "progress")
            t0 = time.perf_counter()
            new = runner.submit(T + "echo", {})
            runner.wait(new, timeout_s=30)
            killed.append(time.perf_counter() - t0)

    print(f"worker cancellation benchmark (grace {args.grace:g} s, `slow` checks every 10 ms)")
    print(_fmt("cold start: new Runner -> echo finished", cold))
    print(_fmt("warm echo round trip", warm))
    print(_fmt("supersede -> old run's 'cancelled'", to_cancelled))
    print(_fmt("supersede -> new run's 'finished'", to_next_result))
    print(_fmt("cancel -> worker idle", to_idle))
    print(_fmt("stubborn superseded -> killed, new finished", killed))
    ok = max(to_cancelled) < 0.2 and max(to_idle) < 0.2
    print(f"target (cancellation -> idle < 200 ms): {'met' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()
