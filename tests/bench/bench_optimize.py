"""`tradeoff optimize` against an exhaustive grid of the same space.

    python tests/bench/bench_optimize.py [--case digits|encoder|both] [--json]

For each case the optimizer runs as `tradeoff optimize` does (variants in the measurement worker,
priced by the planner at the stated load); then every point of the same space at the same
resolution — global pruning ratio 0 … max in steps × precision × runtime — is screened the same way
(counted and compared, not timed: the cost reads the counts). Printed: the recommendation's
projected cost and quality, the grid's best at the same quality floor, the ratio of the two, and
how many measurements each used. The optimizer's per-layer overrides are outside the grid (it may
beat the grid's best; it should not lose to it by more than 5 %).

Cases:
- digits: demo:digits-cnn (trained, 360 labelled held-out samples), floor: accuracy within 1
  point; serving 10 million req/s (a load at which the fleet size depends on the variant).
- encoder: a BERT-style encoder from a transformers config with random weights (4 layers, width
  256, FFN 1024, sequence 128), floor: output cosine ≥ 0.99; serving 20,000 req/s.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

ENCODER_CONFIG = {
    "model_type": "bert",
    "architectures": ["BertModel"],
    "hidden_size": 256,
    "num_hidden_layers": 4,
    "num_attention_heads": 4,
    "intermediate_size": 1024,
    "vocab_size": 8000,
    "max_position_embeddings": 256,
}


def _case(name: str, tmp: Path) -> dict[str, Any]:
    if name == "digits":
        return {"source": "demo:digits-cnn", "seq_len": None, "qps": 1e7, "labelled": True}
    folder = tmp / "encoder"
    folder.mkdir(exist_ok=True)
    (folder / "config.json").write_text(json.dumps(ENCODER_CONFIG))
    return {"source": str(folder / "config.json"), "seq_len": 128, "qps": 2e4, "labelled": False}


def run_case(name: str, tmp: Path) -> dict[str, Any]:
    from planner.catalog import load_catalog
    from planner.optimize.result import pareto_front
    from planner.optimize.run import drive, gather
    from planner.optimize.search import Search
    from planner.optimize.space import QualityFloor, SearchSpace
    from planner.optimize.trial import changes, cost_of, make_trial
    from planner.options import PlanOptions
    from profiler.analyze import ProfileRequest
    from profiler.variant import Variant
    from profiler.variant_measurer import VariantMeasurer
    from profiler.vocab import Runtime

    case = _case(name, tmp)
    catalog = load_catalog(include_user=False)
    options = PlanOptions(serve_qps=case["qps"], use_stored_calibration=False)
    space = SearchSpace(runtimes=(None, Runtime.ONNXRUNTIME))
    floor = QualityFloor().with_default(case["labelled"])
    request = ProfileRequest(seq_len=case["seq_len"], budget_s=1.0)

    def price(profile: Any) -> Any:
        return cost_of(profile, options, catalog)

    with VariantMeasurer(case["source"], trust=False, request=request, inputs=None, time_limit_s=600) as m:
        search = Search(space=space, floor=floor, cost_fn=price)
        t0 = time.monotonic()
        drive(search, m.measure)
        opt_s = time.monotonic() - t0
        result = gather(search, search.baseline_profile.model, options)  # type: ignore[union-attr]
        rec = result.recommended
        # the exhaustive grid of the same space, screened the same way
        grid = []
        steps = int(round(space.max_prune / space.resolution))
        t0 = time.monotonic()
        for precision in space.precisions:
            for runtime in space.runtimes:
                for k in range(steps + 1):
                    v = Variant(prune=round(k * space.resolution, 6), precision=precision, runtime=runtime)
                    timed = v == Variant()
                    r = m.measure(v, timed)
                    cost = price(r.profile) if r.error is None and r.profile is not None else None
                    grid.append(make_trial(len(grid), "grid", v, timed, 0.0, r, floor, cost))
        grid_s = time.monotonic() - t0
    feasible = [t for t in grid if t.ok and t.feasible]
    grid_best = min(feasible, key=lambda t: (*t.rank_key(), t.index))
    assert rec is not None and rec.cost is not None and grid_best.cost is not None
    ratio = (rec.cost.value or 0) / (grid_best.cost.value or 1)
    return {
        "case": name,
        "model": case["source"] if name == "digits" else "BERT-style encoder config (4×256, seq 128)",
        "load_qps": case["qps"],
        "floor": floor.describe(),
        "recommendation": rec.label,
        "recommendation_cost": rec.cost.value,
        "recommendation_quality": rec.quality,
        "grid_best": grid_best.label,
        "grid_best_cost": grid_best.cost.value,
        "grid_best_quality": grid_best.quality,
        "baseline_cost": result.baseline.cost.value if result.baseline and result.baseline.cost else None,
        "cost_ratio_vs_grid": round(ratio, 4),
        "optimize_measurements": len(result.trials),
        "grid_measurements": len(grid),
        "share_of_grid": round(len(result.trials) / len(grid), 3),
        "optimize_s": round(opt_s, 1),
        "grid_s": round(grid_s, 1),
        "stopped": result.stopped_because,
        "grid_front": len(pareto_front(grid)),
        "recommendation_changes": changes(rec.variant),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=("digits", "encoder", "both"), default="both")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    cases = ("digits", "encoder") if args.case == "both" else (args.case,)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in cases:
            row = run_case(name, Path(tmp))
            rows.append(row)
            print(
                f"{row['case']}: at {row['load_qps']:g} req/s, floor {row['floor']}\n"
                f"  optimize: {row['recommendation']}  ${row['recommendation_cost']:,.2f}/month  "
                f"quality {row['recommendation_quality']:.4f}  ({row['optimize_measurements']} variants, "
                f"{row['optimize_s']} s; {row['stopped']})\n"
                f"  grid:     {row['grid_best']}  ${row['grid_best_cost']:,.2f}/month  "
                f"quality {row['grid_best_quality']:.4f}  ({row['grid_measurements']} variants, {row['grid_s']} s)\n"
                f"  baseline ${row['baseline_cost']:,.2f}/month; optimize ÷ grid cost = {row['cost_ratio_vs_grid']:.3f}; "
                f"measurements {100 * row['share_of_grid']:.0f} % of the grid's",
                flush=True,
            )
    if args.json:
        print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
