"""Recovery by knowledge distillation after structured pruning, on demo:digits-cnn.

    python tests/bench/bench_distill.py [--steps 200] [--ratios 0.3,0.5] [--json]

For each structured pruning ratio: accuracy and cosine fidelity of the pruned model on the
held-out third of the bundled samples (the 120 the recovery does not train on), before and after
N steps of distillation towards the unpruned model on the other 240, with the loss and the
seconds the training took (CPU). Also the variant's fidelity as the what-if engine reports it
(the same held-out samples) and its parameter ratio. A few hundred steps on 240 samples is not a
training run: these figures show what comes back cheaply, on data like the samples.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--ratios", default="0.3,0.5")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON too")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))

    from profiler.analyze import ProfileRequest
    from profiler.loading import load_model
    from profiler.tasks import _bundled
    from profiler.variant import Variant
    from profiler.whatif import WhatIfSession

    session = WhatIfSession(
        load_model("demo:digits-cnn"), ProfileRequest(latency=False), sample_inputs=_bundled("demo:digits-cnn")
    )
    rows = []
    try:
        base = session.run(Variant())
        assert base.fidelity is not None
        print(f"demo:digits-cnn baseline accuracy on all 360 samples: {base.fidelity.accuracy:.3f}")
        print(f"recovery: {args.steps} steps of distillation (T=4, KL·T² ×0.7 + CE on labels ×0.3, Adam lr 1e-3)")
        header = (
            f"{'prune':>6} {'params':>7} {'acc before':>10} {'acc after':>9} {'cos before':>10} {'cos after':>9} "
            f"{'loss first':>10} {'loss last':>9} {'seconds':>7}"
        )
        print(header)
        for ratio in (float(r) for r in args.ratios.split(",")):
            result = session.run(Variant(prune=ratio, recover_steps=args.steps))
            if result.error or result.recover is None:
                print(f"{ratio:>6g} failed: {result.error}")
                continue
            rec = result.recover
            params = (result.prune_report or {}).get("param_ratio")
            b, a = rec["quality_before"], rec["quality_after"]
            print(
                f"{ratio:>6g} {params:>7.3f} {b['accuracy']:>10.3f} {a['accuracy']:>9.3f} {b['cosine']:>10.4f} "
                f"{a['cosine']:>9.4f} {rec['loss_first']:>10.4f} {rec['loss_last']:>9.4f} {rec['seconds']:>7.2f}"
            )
            held_base = result.fidelity.baseline_accuracy if result.fidelity else None
            rows.append({"prune": ratio, "param_ratio": params, "baseline_held_out_accuracy": held_base, **rec})
        held = rows[0]["baseline_held_out_accuracy"] if rows else None
        print(
            "accuracy and cosine on the 120 held-out samples (seeded split; the 240 others train); "
            f"the unpruned model's accuracy on them: {held}"
        )
    finally:
        session.close()
    if args.json:
        print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
