"""The serving cost of two models side by side (`tradeoff compare`, the app's Compare window and
the compare page of the PDF): each plan's `answer.serving` and the difference B − A on the
basis both share. Qt-free; the `costs` part of a `tradeoff.compare/1` document (docs/CONTRACT.md).

The profiler cannot import the planner, so `profiler.compare.build_comparison` takes these costs
from its caller: the command line (tradeoff/commands/compare.py) and the app
(gui/window/comparing.py) both compute them here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from profiler.errors import StudioError
from profiler.result import Profile

from .answer import ServingAnswer
from .catalog import Catalog
from .options import PlanOptions
from .plan import Plan, plan

#: the difference is reported on the first basis both answers have: $/month when a load was given
BASES = ("usd_per_month", "usd_per_million")


def serving_costs(plans: Sequence[Plan | str]) -> dict[str, Any]:
    """Each plan's serving answer (A, B) and the difference (B − A) on the basis both share.

    An item may be a string instead of a Plan: why that side has no plan (the app keeps going
    when one side cannot be planned); it becomes that side's `unanswered`."""
    if len(plans) != 2:
        raise ValueError(f"two plans are compared, not {len(plans)}")
    out: dict[str, Any] = {}
    answers: list[ServingAnswer | None] = []
    for side, p in zip(("a", "b"), plans, strict=True):
        if isinstance(p, str):
            answers.append(None)
            out[side] = {"serving": None, "unanswered": p}
            continue
        s = p.answer.serving if p.answer is not None else None
        answers.append(s)
        out[side] = {
            "serving": None if s is None else s.to_dict(),
            "unanswered": None if p.answer is None else p.answer.serving_unanswered,
        }
    a, b = answers
    out["difference"] = None
    if a is not None and b is not None:
        for basis in BASES:
            va, vb = getattr(a, basis), getattr(b, basis)
            if va is not None and vb is not None:
                out["difference"] = {"basis": basis, "b_minus_a": vb - va, "ratio_b_over_a": vb / va if va else None}
                break
    return out


def plan_each(profiles: Sequence[Profile], options: PlanOptions, catalog: Catalog) -> list[Plan | str]:
    """Plan each profile with the same options, for `serving_costs`. A side that cannot be
    planned with the training inputs is planned for serving only (the serving answer does not
    depend on them); one that cannot be planned at all becomes the reason, a string."""
    out: list[Plan | str] = []
    for profile in profiles:
        try:
            out.append(plan(profile, options, catalog))
            continue
        except (StudioError, ValueError) as exc:
            first = _reason(exc)
        try:
            serving_only = replace(options, train_tokens=None, train_samples=None, epochs=1.0, mfu=None)
            out.append(plan(profile, serving_only, catalog))
        except (StudioError, ValueError):
            out.append(first)
    return out


def _reason(exc: Exception) -> str:
    if isinstance(exc, StudioError):
        return f"cannot plan: {exc.problem}"
    return f"cannot plan: {exc}"
