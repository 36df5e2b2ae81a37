"""A 24-variant sweep of demo:digits-cnn on a local 2-worker Ray cluster against the plain local sweep.

    python tests/bench/bench_cluster.py [--json]

The grid: pruning 0, 0.1 … 0.5 × fp32, int8 × batch 1, 8 (24 variants). Both runs are
`tradeoff sweep` as a user runs it: locally (one measurement worker, the model loaded once, one
variant after another, all cores), and with `--cluster HEAD` against a Ray head started here with
2 CPUs (each variant one Ray task on one leased core, two at a time, in the measurement worker
each Ray worker keeps between tasks). Printed: wall time of each, the time per variant, the
cluster's overhead per variant — on the node (the task's time outside the worker's run: unpacking,
leasing cores, starting a worker when none was kept) and around it (slots × wall time less the
tasks' time: scheduling, shipping, results) — and how many rows each measured. The figures are this machine's;
run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
GRID = ["--prune", "0,0.1,0.2,0.3,0.4,0.5", "--precision", "fp32,int8", "--batch", "1,8"]
SLOTS = 2


def _env() -> dict[str, str]:
    return {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}


def _sweep(out: Path, *extra: str) -> tuple[float, dict[str, Any]]:
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "tradeoff", "sweep", "demo:digits-cnn", *GRID, "--json", str(out), *extra],
        capture_output=True, text=True, env=_env(), cwd=ROOT,
    )  # fmt: skip
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"sweep failed ({done.returncode}): {done.stderr[-500:]}")
    return wall, json.loads(out.read_text())


def _head() -> tuple[subprocess.Popen[bytes], str, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    temp = tempfile.mkdtemp(prefix="rb", dir="/tmp")
    ray = str(Path(sys.executable).with_name("ray"))
    head = subprocess.Popen(
        [ray, "start", "--head", "--block", f"--port={port}", "--node-ip-address=127.0.0.1", f"--num-cpus={SLOTS}",
         "--include-dashboard=false", f"--temp-dir={temp}", "--disable-usage-stats"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env(), start_new_session=True,
    )  # fmt: skip
    for _ in range(180):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.5)
    time.sleep(2)
    return head, f"127.0.0.1:{port}", temp


def main() -> None:
    import psutil

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    psutil.cpu_percent(None)
    with tempfile.TemporaryDirectory() as tmp:
        local_s, local = _sweep(Path(tmp) / "local.json")
        head, address, temp = _head()
        try:
            cluster_s, remote = _sweep(Path(tmp) / "cluster.json", "--cluster", address)
        finally:
            import shutil
            import signal

            head.send_signal(signal.SIGINT)  # `ray start --block` stops what it started
            head.wait(timeout=60)
            shutil.rmtree(temp, ignore_errors=True)
    n = len(local["variants"])
    tasks = [(v["environment"]["seconds"]["task"], v["environment"]["seconds"]["run"]) for v in remote["variants"]]
    figures = {
        "variants": n,
        "cpu_count": os.cpu_count(),
        "machine_cpu_percent_incl_these_sweeps": psutil.cpu_percent(None),  # >> 50 %: other load too
        "local_wall_s": round(local_s, 1),
        "cluster_wall_s": round(cluster_s, 1),
        "local_s_per_variant": round(local_s / n, 2),
        "cluster_s_per_variant": round(cluster_s / n, 2),
        # the cluster's own cost per variant: on the node, what the task spent outside the
        # worker's run (unpacking, leasing cores, starting a worker when none was cached); around
        # the node, what the client waited beyond the tasks' time (scheduling, shipping, results)
        "cluster_node_overhead_s_per_variant": round(sum(t - r for t, r in tasks) / n, 3),
        "cluster_scheduling_s_per_variant": round((cluster_s * SLOTS - sum(t for t, _ in tasks)) / n, 3),
        "cluster_run_s_per_variant": round(sum(r for _, r in tasks) / n, 2),
        "local_rows_ok": sum(v["error"] is None for v in local["variants"]),
        "cluster_rows_ok": sum(v["error"] is None for v in remote["variants"]),
        "cluster_hosts": sorted({(v.get("environment") or {}).get("host", "?") for v in remote["variants"]}),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    for key, value in figures.items():
        print(f"{key:32s} {value}")


if __name__ == "__main__":
    main()
