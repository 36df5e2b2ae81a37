"""One variant the optimizer tried: how it was measured, its quality, and what it would cost."""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from typing import Any

from profiler.codec import Record
from profiler.comparison import RatioEstimate
from profiler.fidelity import Fidelity
from profiler.result import Profile
from profiler.variant import Variant

from .space import QualityFloor, quality_score

#: two projected costs closer than this are the same cost (fleet prices are whole cents; the
#: planner's own band is far wider): the better quality wins the tie
COST_TIE = 0.005


@dataclass(frozen=True)
class TrialCost(Record):
    """The planner's serving answer for one variant (every figure projected, none measured).

    `value` is what the search minimises: $ per month at the stated load, else $ per million
    inferences. `usd_per_million_at_capacity` is the same model priced with no load (fleet fully
    used): the tie-breaker when a small load fits one instance whatever the variant."""

    __document__ = "optimize cost"

    basis: str
    value: float | None
    usd_per_month: float | None
    usd_per_million: float | None
    usd_per_million_at_capacity: float | None
    instance: str | None
    instances: int | None
    accelerator: str | None
    unanswered: str | None = None


def cost_of(profile: Profile, options: Any, catalog: Any) -> TrialCost:
    """Price one variant with the planner's serving answer (planner.answer), at the load and at
    capacity. Training is left out: the search compares serving costs."""
    from planner.plan import plan

    serving = dataclasses.replace(options, train_tokens=None, train_samples=None)
    answer = plan(profile, serving, catalog).answer
    at_load = None if answer is None else answer.serving
    capacity = at_load
    if options.serve_qps is not None:
        free = plan(profile, dataclasses.replace(serving, serve_qps=None), catalog).answer
        capacity = None if free is None else free.serving
    basis = "usd_per_month" if options.serve_qps is not None else "usd_per_million"
    if at_load is None:
        why = None if answer is None else answer.serving_unanswered
        return TrialCost(basis, None, None, None, None, None, None, None, why or "no catalog option serves it")
    return TrialCost(
        basis=basis,
        value=getattr(at_load, basis),
        usd_per_month=at_load.usd_per_month,
        usd_per_million=at_load.usd_per_million,
        usd_per_million_at_capacity=None if capacity is None else capacity.usd_per_million,
        instance=at_load.instance,
        instances=at_load.instances,
        accelerator=at_load.accelerator,
    )


@dataclass(frozen=True)
class Trial(Record):
    """A variant measured (screened: counted and compared; or timed beside the baseline too)."""

    __document__ = "optimize trial"

    index: int
    phase: str  # baseline, precision, sensitivity, prune, combine, layers, refine, batch, confirm
    variant: Variant
    label: str
    timed: bool
    seconds: float
    error: str | None = None
    fidelity: Fidelity | None = None
    quality: float | None = None
    feasible: bool = False
    why_not: tuple[str, ...] = ()
    cost: TrialCost | None = None
    params: int | None = None
    macs: int | None = None
    weight_bytes: int | None = None
    latency_ms: float | None = None  # median end to end at the measured batch, measured here
    latency_ratio: RatioEstimate | None = None  # variant ÷ baseline, interleaved, with its interval
    recover: dict[str, Any] | None = None
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None and self.cost is not None and self.cost.value is not None

    def rank_key(self) -> tuple[float, ...]:
        """Cheapest first (costs within COST_TIE are equal), then the better quality (the
        score, then the output cosine), then the fewer changes to the model, then the cheaper at
        capacity: at equal price and quality, nothing is changed for nothing."""
        assert self.cost is not None and self.cost.value is not None
        cosine = self.fidelity.cosine if self.fidelity is not None else -1.0
        return (
            cost_bucket(self.cost.value),
            -(self.quality if self.quality is not None else -1e9),
            -round(cosine, 4),
            float(changes(self.variant)),
            self.cost.usd_per_million_at_capacity or 0.0,
        )


def changes(variant: Variant) -> int:
    """How many transforms a variant applies to the model (0: the baseline)."""
    return (
        int(variant.pruned) + len(variant.layer_prune) + int(variant.precision != "fp32")
        + int(variant.runtime is not None) + int(bool(variant.recover_steps))
    )  # fmt: skip


def cost_bucket(cost: float) -> float:
    """Costs within COST_TIE of each other fall in one bucket (log scale): equal for ranking."""
    return float(round(math.log(cost) / math.log1p(COST_TIE))) if cost > 0 else -math.inf


def make_trial(
    index: int,
    phase: str,
    variant: Variant,
    timed: bool,
    seconds: float,
    result: Any,
    floor: QualityFloor,
    cost: TrialCost | None,
    max_latency_ms: float | None = None,
    reference_accuracy: float | None = None,
) -> Trial:
    """A Trial from a profiler VariantResult (or an error when it has none)."""
    if result is None or result.error is not None or result.profile is None:
        error = "no result" if result is None else (result.error or "no profile")
        return Trial(index, phase, variant, trial_label(variant), timed, round(seconds, 3), error=error)
    p = result.profile
    why = floor.violations(result.fidelity)
    if cost is not None and cost.value is None:
        why.append(f"no serving option: {cost.unanswered}")
    lat = p.totals.latency_ms.median if p.totals.latency_ms is not None else None
    if max_latency_ms is not None and timed and lat is not None and lat > max_latency_ms:
        why.append(f"measured latency {lat:.3g} ms > {max_latency_ms:g} ms")
    return Trial(
        index=index,
        phase=phase,
        variant=variant,
        label=trial_label(variant),
        timed=timed,
        seconds=round(seconds, 3),
        fidelity=result.fidelity,
        quality=None if result.fidelity is None else quality_score(result.fidelity, reference_accuracy),
        feasible=not why,
        why_not=tuple(why),
        cost=cost,
        params=p.totals.params,
        macs=p.totals.macs,
        weight_bytes=p.totals.weight_bytes,
        latency_ms=lat,
        latency_ratio=result.latency_ratio if timed else None,
        recover=result.recover,
        notes=tuple(result.notes),
    )


def trial_label(variant: Variant) -> str:
    """The variant's label, with its per-layer overrides spelled out (a layer kept whole: ×0)."""
    label = variant.label()
    if variant.layer_prune:
        layers = ", ".join(f"{name} {ratio:g}" for name, ratio in variant.layer_prune)
        label = re.sub(r" \(\+\d+ layer overrides?\)", "", label) + f" [layers: {layers}]"
    return label
