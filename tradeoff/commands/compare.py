"""`tradeoff compare A B`: two models (or saved profiles) side by side — totals and B ÷ A ratios,
per-layer rows aligned (profiler/compare.py says how), output fidelity of B against A on the
same inputs, and the serving cost of each at the stated load."""

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
    costs = _costs([plan(p, plan_options, catalog) for p in profiles])
    comparison = build_comparison(
        sources[0], profiles[0], sources[1], profiles[1], fidelity=fidelity, fidelity_note=note, costs=costs
    )
    comparison.check()
    emit(args, comparison.to_dict(), render_comparison(comparison, top=args.top), comparison_csv(comparison))
    for w in catalog.warnings:
        print(terminal_safe(f"warning: {w}"), file=sys.stderr)
    return 0


def _costs(plans: list[Any]) -> dict[str, Any]:
    """Each plan's serving answer and the difference (B − A) on the basis both share."""
    out: dict[str, Any] = {}
    answers = []
    for side, p in zip(("a", "b"), plans, strict=True):
        s = p.answer.serving if p.answer is not None else None
        answers.append(s)
        out[side] = {
            "serving": None if s is None else s.to_dict(),
            "unanswered": None if p.answer is None else p.answer.serving_unanswered,
        }
    a, b = answers
    out["difference"] = None
    if a is not None and b is not None:
        for basis in ("usd_per_month", "usd_per_million"):
            va, vb = getattr(a, basis), getattr(b, basis)
            if va is not None and vb is not None:
                out["difference"] = {"basis": basis, "b_minus_a": vb - va, "ratio_b_over_a": vb / va if va else None}
                break
    return out
