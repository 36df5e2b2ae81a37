"""`tradeoff optimize MODEL`: search pruning × precision × runtime × batch (and per-layer
overrides) on the real model for the lowest projected serving cost that keeps a quality floor
(planner/optimize/ says how the search spends its measurements)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tradeoff.commands import Subparsers
from tradeoff.options import add_model_options, add_plan_arguments

HELP = "find the cheapest variant that keeps the quality you need (cost at the load, quality floor)"


def add_parser(sub: Subparsers) -> argparse.ArgumentParser:
    p = sub.add_parser("optimize", help=HELP, description=HELP)
    add_model_options(p, lists=True, per_variant=True)
    p.set_defaults(precision="fp32,int8")
    g = p.add_argument_group("search")
    g.add_argument("--runtimes", metavar="LIST", help="runtimes to try (default: the model's own and onnxruntime)")
    g.add_argument("--max-prune", type=float, default=0.7, metavar="R", help="largest global pruning ratio tried (0.7)")
    g.add_argument("--resolution", type=float, default=0.05, metavar="STEP", help="finest pruning step (0.05)")
    g.add_argument(
        "--no-layer-overrides", action="store_true", help="no per-layer pruning ratios (skips the sensitivity pass)"
    )
    g.add_argument("--budget", metavar="10m|40v", help="stop exploring after this time and/or this many variants")
    g.add_argument("--max-latency-ms", type=float, metavar="MS", help="latency objective, measured here per batch")
    g.add_argument("--pdf", metavar="FILE", help="also write the cost report PDF, the recommendation on page 1")
    g.add_argument("--page-size", choices=["a4", "letter"], default="a4", type=str.lower, help="paper size (a4)")
    q = p.add_argument_group("quality floor (default: accuracy within 1 point with labels, else cosine ≥ 0.99)")
    q.add_argument("--min-cosine", type=float, metavar="C", help="output cosine similarity to the baseline's")
    q.add_argument(
        "--max-accuracy-drop", type=float, metavar="PP", help="accuracy drop on labelled --inputs, in percentage points"
    )
    q.add_argument("--min-top1-agreement", type=float, metavar="F", help="share of top-1 classes kept, 0 … 1")
    add_plan_arguments(p)
    from tradeoff.cluster_runs import add_cluster_options

    add_cluster_options(p)
    return p


def _space(args: argparse.Namespace) -> Any:
    from planner.optimize.space import SearchSpace
    from profiler.errors import InputError
    from profiler.sweep import parse_list
    from profiler.vocab import Precision, PruneMethod, Runtime

    if str(args.prune) not in ("0", "0.0"):
        raise InputError("--prune", "optimize searches the pruning ratio itself: bound it with --max-prune")
    precisions = []
    for p in parse_list(args.precision, "--precision", str):
        if p.lower() not in set(Precision):
            raise InputError("--precision", f"{p!r} is not one of {', '.join(Precision)}")
        precisions.append(Precision(p.lower()))
    if args.runtimes:
        runtimes: list[Any] = []
        for r in parse_list(args.runtimes, "--runtimes", str):
            if r not in set(Runtime):
                raise InputError("--runtimes", f"{r!r} is not one of {', '.join(Runtime)}")
            runtimes.append(Runtime(r))
    elif args.runtime:
        runtimes = [Runtime(args.runtime)]
    elif args.model.lower().endswith(".onnx"):
        runtimes = [None]  # an ONNX model runs in onnxruntime already
    else:
        runtimes = [None, Runtime.ONNXRUNTIME]
    own = Runtime.ONNXRUNTIME if args.model.lower().endswith(".onnx") else Runtime.TORCH
    runtimes = list(
        dict.fromkeys(None if r == own else r for r in runtimes)
    )  # the model's own runtime is the baseline's
    batches = parse_list(args.batch, "--batch", int)
    if any(b is not None and b <= 0 for b in batches):
        raise InputError("--batch", "values must be positive")
    steps = parse_list(args.recover_steps or "0", "--recover-steps", int)
    if len(steps) > 1 or (steps[0] or 0) < 0:
        raise InputError("--recover-steps", "optimize takes one step count (every pruned variant is recovered with it)")
    space = SearchSpace(
        max_prune=args.max_prune,
        prune_methods=(PruneMethod(args.prune_method or PruneMethod.STRUCTURED),),
        precisions=tuple(precisions),
        runtimes=tuple(runtimes),
        batches=tuple(batches),
        layer_overrides=not args.no_layer_overrides,
        resolution=args.resolution,
        device=args.device,
        recover_steps=steps[0] or None,
    )
    space.check()
    return space


def run(args: argparse.Namespace) -> int:
    from planner.optimize.result import optimize_csv, render_optimize
    from planner.optimize.run import drive, gather
    from planner.optimize.search import Search
    from planner.optimize.space import QualityFloor, parse_budget
    from planner.optimize.trial import cost_of
    from profiler.errors import InputError, MeasureError
    from profiler.inputs import parse_shape_options
    from profiler.result import ModelInfo
    from profiler.textsafe import terminal_safe
    from profiler.variant_measurer import VariantMeasurer
    from tradeoff.options import (
        catalog_from_args,
        check_inputs_option,
        check_model_option,
        plan_options_from_args,
        request_from_args_base,
    )
    from tradeoff.output import emit
    from tradeoff.worker_runs import _Progress, _wants_lines

    if args.pdf:
        from tradeoff.commands.report import _check_destination

        _check_destination(args.pdf)
    if args.no_latency:
        raise InputError("--no-latency", "optimize times its recommendation; it cannot run without latency")
    options = plan_options_from_args(args)  # a bad option fails before anything runs
    space = _space(args)
    budget = parse_budget(args.budget)
    floor = QualityFloor(args.min_cosine, args.max_accuracy_drop, args.min_top1_agreement)
    floor.check()
    if args.max_latency_ms is not None and not args.max_latency_ms > 0:
        raise InputError("--max-latency-ms", "must be positive")
    check_model_option(args)
    check_inputs_option(args)
    labelled = _labelled(args)
    catalog = catalog_from_args(args)
    search = Search(
        space=space,
        floor=floor.with_default(labelled),
        cost_fn=lambda profile: cost_of(profile, options, catalog),
        budget=budget,
        max_latency_ms=args.max_latency_ms,
    )
    progress = _Progress(enabled=sys.stderr.isatty() and args.json != "-", lines=_wants_lines(args))
    base = request_from_args_base(args, parse_shape_options(args.input_shape))

    def on_ask(ask: Any, n: int) -> None:
        progress.label = f"[{n + 1}] {ask.phase}: {ask.variant.label()}"
        progress.prefix = progress.label + ": "

    interrupted = False
    from tradeoff.cluster_runs import ClusterMeasurer, check_cluster_options, wants_cluster

    check_cluster_options(args)
    measurer_cm: Any = (
        ClusterMeasurer(args)
        if wants_cluster(args)
        else VariantMeasurer(
            args.model, trust=args.trust, request=base, inputs=args.inputs, time_limit_s=args.time_limit,
            on_event=progress.on_event,
        )
    )  # fmt: skip
    with measurer_cm as measurer:
        try:
            drive(search, measurer.measure, on_ask=on_ask)
        except KeyboardInterrupt:  # Ctrl-C: what was tried is still reported
            search.cancel("interrupted")
            interrupted = True
    progress.done()
    if interrupted and not search.trials:
        raise KeyboardInterrupt  # nothing was measured: the usual interrupted exit
    if not search.trials or search.baseline_profile is None:
        first = search.trials[0].error if search.trials else "nothing ran"
        raise MeasureError(args.model, f"the baseline could not be measured ({first})")
    model = search.baseline_profile.model if search.baseline_profile else ModelInfo(args.model, args.model, "unknown")
    result = gather(search, model, options)
    result.check()
    emit(args, result.to_dict(), render_optimize(result), optimize_csv(result))
    if args.pdf:
        pages = write_report(args.pdf, search, result, options, catalog, page_size=args.page_size)
        if args.json != "-":
            print(terminal_safe(f"wrote {args.pdf}: {pages} pages, {args.page_size.upper()}"))
    if isinstance(measurer, ClusterMeasurer):  # "measured here" above means: on these nodes
        hosts = sorted({str(n.get("host")) for n in measurer.nodes if n})
        where = f"the cluster at {measurer.session.address}" + (f" (nodes: {', '.join(hosts)})" if hosts else "")
        print(terminal_safe(f"quality and latency were measured on {where}"), file=sys.stderr)
    for w in catalog.warnings:
        print(terminal_safe(f"warning: {w}"), file=sys.stderr)
    return 130 if interrupted else 0


def _labelled(args: argparse.Namespace) -> bool:
    """Whether accuracy can be measured: the user's samples carry labels (`y`), or a trained
    demo brings its own labelled held-out set."""
    if args.inputs:
        from profiler.inputs import npz_array_names

        return "y" in npz_array_names(args.inputs)
    if args.model.startswith("demo:"):
        from profiler.demos import TRAINED_DEMOS

        return args.model.split(":", 1)[1] in TRAINED_DEMOS
    return False


def write_report(path: str, search: Any, result: Any, options: Any, catalog: Any, *, page_size: str = "a4") -> int:
    """The cost report of a search: the baseline and the timed variants, the recommendation
    chosen, and page 1's Recommendation written from the search (gui.report; Qt loads here)."""
    import dataclasses

    from gui.report import build_report_inputs, render_report_pdf
    from planner.optimize.result import choice_rule

    rec = result.recommended
    chosen = None if rec is None or result.recommendation.is_baseline else rec.variant.label()
    inputs = build_report_inputs(
        search.baseline_profile, list(search.timed_results.values()), options=options, catalog=catalog,
        chosen_label=chosen,
    )  # fmt: skip
    inputs = dataclasses.replace(inputs, optimize=result, choice_rule=choice_rule(result))
    return int(render_report_pdf(inputs, path, page_size=page_size))
