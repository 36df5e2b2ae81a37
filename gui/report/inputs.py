"""What a report is made of: the core's result objects, gathered once, read by the PDF.

`ReportInputs` holds only objects the core computed (Profile, VariantResult, Sweep, Plan,
Catalog); the PDF formats them and never recomputes a measured or projected number. The only
arithmetic the report does is comparing two of the planner's numbers (baseline vs chosen:
difference and ratio), which `Savings` does in one place.

The app's main window provides `report_inputs() -> ReportInputs` (see gui.report.export); the
CLI builds one with `build_report_inputs` after measuring the variants in the worker.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: default fidelity floor for the chosen variant: cosine similarity of outputs vs the baseline.
DEFAULT_MIN_COSINE = 0.99


@dataclass(frozen=True)
class ReportInputs:
    """Everything one report shows.

    - `baseline`: the baseline Profile (measured here, or counted only with --no-latency).
    - `results`: every variant explored (profiler.whatif.VariantResult), failed ones included.
    - `sweep`: `profiler.sweep.build_sweep` over `results` (Pareto flags); None without variants.
    - `chosen`: the VariantResult the summary compares with the baseline; None = baseline only.
    - `plan_baseline` / `plan_chosen`: planner.plan.Plan of the baseline / chosen profile.
    - `catalog`: the planner Catalog in use (price sources and dates); optional.
    - `choice_rule`: one sentence saying how `chosen` was picked.
    """

    baseline: Any
    results: tuple[Any, ...] = ()
    sweep: Any = None
    chosen: Any = None
    plan_baseline: Any = None
    plan_chosen: Any = None
    catalog: Any = None
    created: _dt.datetime = field(default_factory=lambda: _dt.datetime.now().astimezone())
    title: str = "Cost report"
    choice_rule: str = ""
    #: the optimizer's search (planner.optimize.result.OptimizeResult) this report was made
    #: from: page 1's Recommendation is then its recommendation, with its reasons and front
    optimize: Any = None
    #: the plan of every measured variant by its label (page 1 lists each variant's projected
    #: serving cost beside its measured change); empty without a catalog
    plans: dict[str, Any] = field(default_factory=dict)
    #: the fidelity floor the automatic choice used (output cosine vs the baseline)
    min_cosine: float = DEFAULT_MIN_COSINE

    @property
    def model_name(self) -> str:
        return str(self.baseline.model.name)

    @property
    def chosen_label(self) -> str | None:
        return None if self.chosen is None else str(self.chosen.variant.label())


@dataclass(frozen=True)
class Savings:
    """Baseline vs chosen for one cost: both values as the planner projected them, the
    difference (baseline − chosen, positive = saved) and its share of the baseline."""

    baseline: float | None
    chosen: float | None

    @property
    def saved(self) -> float | None:
        if self.baseline is None or self.chosen is None:
            return None
        return self.baseline - self.chosen

    @property
    def saved_fraction(self) -> float | None:
        if self.saved is None or not self.baseline:
            return None
        return self.saved / self.baseline


def cheapest_serving(plan: Any) -> Any:
    """The planner's serving answer (planner.answer): the first-ranked option when it fits and
    meets the objective — by $ per month at the load when one was given, else by $ per million.
    None when nothing qualifies. The app's headline and `tradeoff plan` read the same row."""
    if plan is None or plan.answer is None or plan.answer.serving is None:
        return None
    return plan.inference.options[0]


def cheapest_monthly(plan: Any) -> Any:
    """The serving answer when a load was given (it is then ranked by $ per month); else None."""
    o = cheapest_serving(plan)
    return o if o is not None and o.usd_per_month is not None else None


def cheapest_training(plan: Any) -> Any:
    """The planner's training answer: the first-ranked option when it can train the model."""
    if plan is None or plan.training is None or plan.answer is None or plan.answer.training is None:
        return None
    return plan.training.options[0]


def serving_cost(plan: Any) -> float | None:
    """The figure the serving answer is ranked by: $ per month at the load, else $ per million."""
    o = cheapest_serving(plan)
    if o is None:
        return None
    cost: float | None = o.usd_per_month if o.usd_per_month is not None else o.usd_per_million
    return cost


def report_recommendation(inputs: ReportInputs, *, caveats: bool = True) -> str:
    """The planner's recommendation for a report (planner.answer.recommendation): the PDF's first
    page and `tradeoff report`'s terminal output print the same sentence (the PDF without its
    caveats, `caveats=False`, and lists them on their own under it)."""
    from planner.answer import caveats_of, recommendation

    chosen = inputs.chosen
    ratio = None if chosen is None else getattr(chosen, "latency_ratio", None)
    significant = None if ratio is None else bool(ratio.significant)
    profile = chosen.profile if chosen is not None and chosen.profile is not None else inputs.baseline
    return recommendation(
        None if inputs.plan_baseline is None else inputs.plan_baseline.answer,
        None if inputs.plan_chosen is None else inputs.plan_chosen.answer,
        None if chosen is None else chosen.variant.label(),
        caveats_of(profile, significant) if caveats else (),
    )


def _is_plain_baseline(result: Any) -> bool:
    v = result.variant
    return (
        not v.pruned
        and v.precision == "fp32"
        and v.batch is None
        and v.seq_len is None
        and v.image_size is None
        and v.runtime in (None, "torch")
    )


def _same_model(result: Any, baseline: Any) -> bool:
    """True unless the result was measured against another model's baseline (its baseline's
    source differs from this baseline's); a result that names none is kept."""
    want = getattr(getattr(baseline, "model", None), "source", None)
    source = getattr(getattr(getattr(result, "baseline", None), "model", None), "source", None)
    return not (want and source and source != want)


def build_report_inputs(
    baseline: Any,
    results: list[Any] | tuple[Any, ...] = (),
    *,
    options: Any = None,
    catalog: Any = None,
    chosen_label: str | None = None,
    min_cosine: float = DEFAULT_MIN_COSINE,
    title: str = "Cost report",
) -> ReportInputs:
    """Plan the baseline and the candidate variants over `catalog` with `options`
    (planner.options.PlanOptions; None = no cost pages) and pick the chosen variant:

    - `chosen_label` (a `Variant.label()`), when given;
    - else the Pareto-optimal variant, other than the plain baseline, whose output cosine vs the
      baseline is ≥ `min_cosine`, with the lowest projected serving $ per million inferences
      (lowest measured latency per sample when there are no plans).
    """
    from profiler.sweep import build_sweep

    # every input from the current model only: a result measured against another model's
    # baseline (an earlier model of the same session) never enters this model's report
    results = tuple(r for r in results if _same_model(r, baseline))
    ok = [r for r in results if r.error is None and r.profile is not None]
    sweep = build_sweep(baseline.model, baseline, list(results)) if results else None
    plan_fn: Callable[..., Any] | None = None
    if options is not None and catalog is not None:
        from planner.plan import plan

        plan_fn = plan

    plans: dict[str, Any] = {}

    def plan_of(profile: Any) -> Any:
        return None if plan_fn is None else plan_fn(profile, options, catalog)

    def plan_of_result(r: Any) -> Any:
        label = r.variant.label()
        if label not in plans:
            plans[label] = plan_of(r.profile)
        return plans[label]

    plan_baseline = plan_of(baseline)
    chosen = None
    plan_chosen = None
    rule = ""
    if chosen_label is not None:
        matches = [r for r in ok if r.variant.label() == chosen_label]
        if not matches:
            from profiler.errors import InputError

            labels = ", ".join(r.variant.label() for r in ok) or "none measured"
            raise InputError("--choose", f"no measured variant is labelled {chosen_label!r}; variants: {labels}")
        chosen = matches[0]
        plan_chosen = plan_of_result(chosen)
        rule = f"chosen by the user ({chosen_label})"
    else:
        flags = {id(e.result): e.pareto for e in sweep.entries} if sweep is not None else {}
        candidates = [
            r for r in ok
            if not _is_plain_baseline(r) and flags.get(id(r), False)
            and (r.fidelity is None or r.fidelity.cosine >= min_cosine)
        ]  # fmt: skip
        best: tuple[Any, ...] | None = None
        for r in candidates:
            p = plan_of_result(r)
            cost = serving_cost(p)
            lat = r.profile.totals.latency_ms
            per_sample = (lat.median / max(1, r.profile.config.batch)) if lat is not None else float("inf")
            key = (cost if cost is not None else float("inf"), per_sample)
            if best is None or key < best[0]:
                best = (key, r, p)
        if best is not None:
            _, chosen, plan_chosen = best
            rule = f"the Pareto-optimal variant with output cosine ≥ {min_cosine:g} vs the baseline and the lowest " + (
                "projected serving cost (the planner's answer: $ per month at the load, else $ per million)"
                if plan_fn is not None
                else "measured latency per sample"
            )
        elif results:
            rule = f"no variant other than the baseline is Pareto-optimal with output cosine ≥ {min_cosine:g}: the baseline stays"
    if plan_fn is not None:  # every other measured variant too: page 1 prices each one
        for r in ok:
            if not _is_plain_baseline(r):
                plan_of_result(r)
    return ReportInputs(
        baseline=baseline, results=results, sweep=sweep, chosen=chosen, plan_baseline=plan_baseline,
        plan_chosen=plan_chosen, catalog=catalog, title=title, choice_rule=rule, plans=plans, min_cosine=min_cosine,
    )  # fmt: skip
