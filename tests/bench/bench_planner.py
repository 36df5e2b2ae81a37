"""Benchmark: re-planning over the whole hardware catalog (the app does this on every slider move).

    PYTHONPATH=. python tests/bench/bench_planner.py [PROFILE.json] [--repeat N]

Without a path it builds a synthetic ResNet-50 profile (torchvision's 25,557,032 params,
4.09 GMACs, 158 layer rows) from tests/planner/plan_fixtures.py. Prints the median time of
`plan()` with training and serving options over every catalog instance; the target is < 50 ms.
The catalog is loaded once, as the app does.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "planner"))

from planner.catalog import load_catalog  # noqa: E402
from planner.options import PlanOptions  # noqa: E402
from planner.plan import plan  # noqa: E402
from profiler.result import Profile  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("profile", nargs="?", help="a tradeoff.profile/1 JSON (default: synthetic ResNet-50)")
    ap.add_argument("--repeat", type=int, default=50)
    args = ap.parse_args()
    if args.profile:
        profile = Profile.from_dict(json.loads(Path(args.profile).read_text()))
    else:
        from plan_fixtures import resnet50

        profile = resnet50(batch=1)

    t0 = time.perf_counter()
    catalog = load_catalog(include_user=False)
    load_ms = (time.perf_counter() - t0) * 1e3
    options = PlanOptions(train_samples=1_281_167, epochs=90, serve_qps=1000, slo_ms=20)
    times = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        result = plan(profile, options, catalog)
        times.append((time.perf_counter() - t) * 1e3)
    result.check()
    n_train = len(result.training.options) if result.training else 0
    print(f"model {profile.model.name}: {len(profile.layers)} layers, {profile.totals.params:,} params")
    print(
        f"catalog: {len(catalog.instances)} instances, {len(catalog.accelerators)} accelerators, loaded in {load_ms:.1f} ms"
    )
    print(f"re-plan ({n_train} training + {len(result.inference.options)} inference options), {args.repeat} runs:")
    print(
        f"  median {statistics.median(times):.1f} ms   min {min(times):.1f} ms   max {max(times):.1f} ms   (target < 50 ms)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
