"""`tradeoff compare A B`: two models (or saved profiles) side by side — totals and B ÷ A ratios,
per-layer rows aligned (profiler/compare.py says how), output fidelity of B against A on the
same inputs, and the serving cost of each at the stated load (planner/compare_costs.py, shared
with the app). `--pdf FILE` also writes the comparison as a PDF (gui/report/section_compare.py,
Qt, imported only then)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from tradeoff.commands import Subparsers
from tradeoff.options import add_model_options, add_plan_arguments, positive_int

HELP = "two models (or saved profiles) side by side: totals, aligned layers, output fidelity, cost"


def add_parser(sub: Subparsers) -> argparse.ArgumentParser:
    p = sub.add_parser("compare", help=HELP)
    add_model_options(p)
    p.add_argument("model_b", metavar="B", help="the second model (same forms as MODEL), or a tradeoff.profile/1 JSON")
    p.add_argument("--top", type=positive_int, default=10, help="aligned layers shown (largest change first)")
    p.add_argument(
        "--pdf",
        metavar="FILE.pdf",
        help="also write the comparison as a PDF (totals, top layer changes, fidelity, cost)",
    )
    add_plan_arguments(p)
    return p


def _read_profile(path: str) -> Any:
    from profiler.errors import InputError
    from profiler.result import Profile, SchemaError

    try:
        with open(path, encoding="utf-8") as f:
            return Profile.from_dict(json.load(f))
    except (OSError, ValueError, SchemaError) as exc:
        raise InputError(path, f"not a readable tradeoff.profile/1 document: {exc}") from None


def run(args: argparse.Namespace) -> int:
    from planner.compare_costs import serving_costs
    from planner.plan import plan
    from profiler.compare import build_comparison, comparison_csv, render_comparison
    from profiler.fidelity import Fidelity
    from profiler.result import Profile
    from profiler.textsafe import terminal_safe
    from tradeoff.commands.plan import _is_profile_json
    from tradeoff.options import catalog_from_args, check_inputs_option, check_model_option, plan_options_from_args
    from tradeoff.output import emit
    from tradeoff.worker_runs import compare_in_worker

    plan_options = plan_options_from_args(args)  # a bad plan option fails before anything runs
    if args.pdf:
        from tradeoff.commands.report import _check_destination

        _check_destination(args.pdf)  # before minutes of measuring
    sources = [args.model, args.model_b]
    given: list[Profile | None] = []
    for source in sources:
        if source.endswith(".json") and _is_profile_json(source):
            given.append(_read_profile(source))
        else:
            check_model_option(argparse.Namespace(model=source))
            given.append(None)
    check_inputs_option(args)
    profiles: list[Profile]
    fidelity = None
    if all(g is not None for g in given):
        profiles = [g for g in given if g is not None]
        note: str | None = "both sides are saved profiles: there is no model to run"
    else:
        result = compare_in_worker(args, [None if g is not None else s for g, s in zip(given, sources, strict=True)])
        profiles = [
            g if g is not None else Profile.from_dict(d) for g, d in zip(given, result["profiles"], strict=True)
        ]
        fidelity = None if result["fidelity"] is None else Fidelity.from_dict(result["fidelity"])
        note = result["fidelity_note"]
    for p in profiles:
        p.check()
    catalog = catalog_from_args(args)
    costs = serving_costs([plan(p, plan_options, catalog) for p in profiles])
    comparison = build_comparison(
        sources[0], profiles[0], sources[1], profiles[1], fidelity=fidelity, fidelity_note=note, costs=costs
    )
    comparison.check()
    emit(args, comparison.to_dict(), render_comparison(comparison, top=args.top), comparison_csv(comparison))
    if args.pdf:
        from gui.report.section_compare import render_compare_pdf

        pages = render_compare_pdf(comparison, args.pdf, top=args.top)
        if args.json != "-":  # stdout carries the JSON document then
            print(terminal_safe(f"wrote {args.pdf}: {pages} page{'s' if pages != 1 else ''}"))
    for w in catalog.warnings:
        print(terminal_safe(f"warning: {w}"), file=sys.stderr)
    return 0
