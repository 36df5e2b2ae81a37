"""`tradeoff sweep`: measure a grid of what-if variants against the baseline."""

from __future__ import annotations

import argparse

from tradeoff.cluster_runs import add_cluster_options
from tradeoff.commands import Subparsers
from tradeoff.options import add_model_options


def add_parser(sub: Subparsers) -> argparse.ArgumentParser:
    p = sub.add_parser("sweep", help="measure a grid of what-if variants against the baseline")
    add_model_options(p, lists=True, per_variant=True)
    add_cluster_options(p)
    return p


def run(args: argparse.Namespace) -> int:
    from profiler.sweep import build_sweep, render_sweep, sweep_csv
    from tradeoff.cluster_runs import check_cluster_options, sweep_on_cluster, wants_cluster
    from tradeoff.options import check_inputs_option, check_model_option, sweep_variants
    from tradeoff.output import emit
    from tradeoff.worker_runs import no_variant_error, run_in_worker

    variants = sweep_variants(args)
    check_model_option(args)
    check_inputs_option(args)
    check_cluster_options(args)
    codes: list[int] = []
    environments = None
    if wants_cluster(args):
        results, environments = sweep_on_cluster(args, variants, codes)
    else:
        results = run_in_worker(args, variants, time_limit_s=args.time_limit, exit_codes=codes)
    ok = [r for r in results if r.error is None and r.baseline is not None]
    if not ok:
        raise no_variant_error(args.model, results, codes)
    baseline = next((r.baseline for r in ok if r.variant.batch is None and r.variant.seq_len is None), ok[0].baseline)
    sweep = build_sweep(ok[0].baseline.model, baseline, results, environments=environments)
    sweep.check()
    emit(args, sweep.to_dict(), render_sweep(sweep), sweep_csv(sweep))
    return 0
