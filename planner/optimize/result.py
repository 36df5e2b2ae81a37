"""The `tradeoff.optimize/1` document: the recommendation, why it won and what bound it, the
Pareto front of cost against quality, and every variant tried."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from profiler import units
from profiler.codec import Record, decode_document, encode_document
from profiler.result import ModelInfo
from profiler.textsafe import csv_safe_row, terminal_safe

from .space import Budget, QualityFloor, SearchSpace
from .trial import Trial, cost_bucket

OPTIMIZE_SCHEMA = "tradeoff.optimize/1"
#: a variant cheaper per inference at capacity by at least this much is named as the one to
#: revisit at a higher load (smaller differences are inside the planner's own band)
CAPACITY_NOTE = 0.05


@dataclass(frozen=True)
class Recommendation(Record):
    """The variant to ship, by index into `trials`, and the sentences that justify it."""

    __document__ = OPTIMIZE_SCHEMA

    trial: int
    label: str
    is_baseline: bool
    why: str
    bound: str
    saved_usd: float | None  # baseline − recommended, on the cost basis (positive: saved)
    saved_fraction: float | None


@dataclass(frozen=True)
class Measurements(Record):
    __document__ = OPTIMIZE_SCHEMA

    screened: int
    timed: int
    failed: int
    seconds: float
    grid_size: int  # the exhaustive grid of the same space at the same resolution (overrides aside)


@dataclass(frozen=True)
class OptimizeResult(Record):
    __document__ = OPTIMIZE_SCHEMA

    model: ModelInfo
    objective: str  # in words: "$ per month serving 200 req/s, cheapest catalog option"
    basis: str  # usd_per_month | usd_per_million
    floor: QualityFloor
    space: SearchSpace
    budget: Budget
    max_latency_ms: float | None
    trials: tuple[Trial, ...]
    pareto: tuple[int, ...]  # trial indices on the cost–quality front, cheapest first
    sensitivity: tuple[dict[str, Any], ...]
    recommendation: Recommendation | None
    stopped_because: str
    measurements: Measurements
    plan_options: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return encode_document(self, OPTIMIZE_SCHEMA)

    @classmethod
    def from_dict(cls, d: Any, *, document: str | None = None, path: str = "$") -> OptimizeResult:
        return decode_document(cls, d, OPTIMIZE_SCHEMA)

    @property
    def baseline(self) -> Trial | None:
        return next((t for t in self.trials if t.phase == "baseline"), None)

    @property
    def recommended(self) -> Trial | None:
        return None if self.recommendation is None else self.trials[self.recommendation.trial]

    def check(self) -> None:
        """Invariants the tests hold every document to."""
        for i, t in enumerate(self.trials):
            assert t.index == i, "trials are numbered in order"
        for i in self.pareto:
            assert self.trials[i].ok, "the front holds priced trials only"
        r = self.recommendation
        if r is not None:
            t = self.trials[r.trial]
            assert t.ok and t.feasible, "the recommendation keeps the floor"
            assert t.label == r.label


def pareto_front(trials: list[Trial]) -> tuple[int, ...]:
    """Trials no other trial beats on both cost (lower, ties by COST_TIE, then at capacity) and
    quality (higher); one per variant (its timed trial when it has one). Cheapest first."""
    latest: dict[str, Trial] = {}
    for t in trials:
        if t.ok and t.quality is not None:
            key = t.variant.key()
            if key not in latest or t.timed:
                latest[key] = t
    pts = list(latest.values())

    def cost_key(t: Trial) -> float:
        assert t.cost is not None and t.cost.value is not None
        return cost_bucket(t.cost.value)

    def quality_key(t: Trial) -> tuple[float, float]:
        return (t.quality if t.quality is not None else float("-inf"), t.fidelity.cosine if t.fidelity else -1.0)

    front = []
    for t in pts:
        dominated = any(
            cost_key(o) <= cost_key(t) and quality_key(o) >= quality_key(t)
            and (cost_key(o) < cost_key(t) or quality_key(o) > quality_key(t))
            for o in pts if o is not t
        )  # fmt: skip
        if not dominated:
            front.append(t)
    front.sort(key=lambda t: (cost_key(t), tuple(-q for q in quality_key(t))))
    return tuple(t.index for t in front)


def _money(value: float | None, basis: str) -> str:
    return units.usd(value, per="/month" if basis == "usd_per_month" else " per million inferences")


def recommend(
    trials: list[Trial], best: Trial | None, basis: str, floor: QualityFloor, stopped: str
) -> Recommendation | None:
    """The recommendation's sentences: why it won (its cost against the baseline's) and what
    bound it (the cheaper variant that broke the floor, the fleet minimum, the space, the budget)."""
    base = next((t for t in trials if t.phase == "baseline"), None)
    if best is None or base is None or base.cost is None or best.cost is None:
        return None
    feasible = {t.variant.key() for t in trials if t.ok and t.feasible}
    assert best.cost.value is not None and base.cost.value is not None
    saved = base.cost.value - best.cost.value
    fraction = saved / base.cost.value if base.cost.value else None
    is_base = best.variant.key() == base.variant.key()
    where = f"{best.cost.instances or 1} × {best.cost.instance}" if best.cost.instance else "no instance"
    count = len(feasible)
    if is_base:
        why = (
            f"no variant is cheaper than the baseline ({_money(base.cost.value, basis)} on {where}) "
            f"while keeping {floor.describe()}: the baseline stays"
        )
    else:
        pct = "" if fraction is None else f", {units.percent(fraction)} less"
        why = (
            f"the cheapest of the {count} variants that keep {floor.describe()}: "
            f"{_money(best.cost.value, basis)} on {where} against {_money(base.cost.value, basis)} for the baseline{pct}"
        )
    cheaper_bad = [
        t for t in trials
        if t.ok and not t.feasible and t.cost is not None and t.cost.value is not None
        and cost_bucket(t.cost.value) < cost_bucket(best.cost.value)
    ]  # fmt: skip
    if cheaper_bad:
        nearest = min(cheaper_bad, key=lambda t: (-(t.quality or -1e9), t.index))
        assert nearest.cost is not None
        bound = (
            f"the quality floor: the best cheaper variant tried, {nearest.label}, would cost "
            f"{_money(nearest.cost.value, basis)} but {'; '.join(nearest.why_not) or 'misses the floor'}"
        )
    elif best.cost.instances in (None, 1) and is_base:
        bound = "the fleet minimum: the load fits one instance whatever the variant, so no variant costs less"
    elif best.cost.instances in (None, 1):
        bound = "the fleet minimum: one instance serves the load; nothing is cheaper"
    elif stopped.startswith("budget"):
        bound = f"the {stopped}: a longer search may find a cheaper variant"
    else:
        others = [t for t in trials if t.ok and t.variant.key() != best.variant.key()]
        cheapest = min(others, key=lambda t: (*t.rank_key(), t.index), default=None)
        bound = "the search space: no variant tried is cheaper at this load, whatever its quality"
        if cheapest is not None and cheapest.cost is not None:
            bound += f" (the next cheapest, {cheapest.label}, costs {_money(cheapest.cost.value, basis)})"
    cap_best = min(
        (t for t in trials if t.ok and t.feasible and t.cost is not None and t.cost.usd_per_million_at_capacity),
        key=lambda t: t.cost.usd_per_million_at_capacity or 0.0,  # type: ignore[union-attr]
        default=None,
    )
    if (
        cap_best is not None and cap_best.variant.key() != best.variant.key() and basis == "usd_per_month"
        and cap_best.cost is not None and best.cost.usd_per_million_at_capacity
        and (cap_best.cost.usd_per_million_at_capacity or 0) < (1 - CAPACITY_NOTE) * best.cost.usd_per_million_at_capacity
    ):  # fmt: skip
        gain = 1 - (cap_best.cost.usd_per_million_at_capacity or 0) / best.cost.usd_per_million_at_capacity
        bound += (
            f"; at a higher load {cap_best.label} would be the cheaper one "
            f"({units.percent(gain)} less per inference with the fleet fully used)"
        )
    return Recommendation(
        trial=best.index, label=best.label, is_baseline=is_base, why=why, bound=bound,
        saved_usd=round(saved, 6), saved_fraction=None if fraction is None else round(fraction, 6),
    )  # fmt: skip


def choice_rule(r: OptimizeResult) -> str:
    """How a report built from the search says its variant was chosen."""
    return f"recommended by the optimizer for the {r.objective}, keeping {r.floor.describe()}"


def quality_text(t: Trial, reference_accuracy: float | None = None) -> str:
    """ "accuracy 99.2%", with the baseline's on the same rows when those were other rows than
    the baseline's own (`reference_accuracy`: its accuracy on all of them); else "cosine 0.9987"."""
    f = t.fidelity
    if f is None:
        return "—"
    if f.accuracy is not None:
        text = f"accuracy {units.percent(f.accuracy)}"
        if (
            reference_accuracy is not None and f.baseline_accuracy is not None
            and abs(f.baseline_accuracy - reference_accuracy) > 1e-9
        ):  # fmt: skip
            text += f" (baseline {units.percent(f.baseline_accuracy)} on the same held-out samples)"
        return text
    return f"cosine {f.cosine:.4f}"


def render_optimize(r: OptimizeResult) -> str:
    """The terminal's text: recommendation first, then the front, then how the search went."""
    lines = [f"Optimize {r.model.name}: {r.objective}", f"quality floor: {r.floor.describe()}"]
    rec, best = r.recommendation, r.recommended
    if rec is None or best is None:
        lines.append("no recommendation: " + r.stopped_because)
    else:
        lines.append("")
        lines.append(f"Recommendation: {rec.label}" + (" (the baseline)" if rec.is_baseline else ""))
        lines.append(f"  why: {rec.why}")
        lines.append(f"  bound by: {rec.bound}")
        ref = r.baseline.fidelity.accuracy if r.baseline and r.baseline.fidelity else None
        lines.append(
            f"  quality: {quality_text(best, ref)}"
            + (f"; the baseline: {quality_text(r.baseline)}" if r.baseline and not rec.is_baseline else "")
        )
        if not best.timed:
            lines.append("  not timed here: the search stopped before confirming it beside the baseline")
        if best.latency_ratio is not None and not rec.is_baseline:
            lr = best.latency_ratio
            verdict = "" if lr.significant else " — no measurable change"
            lines.append(
                f"  latency here: {lr.value:.3f}× the baseline's [{lr.ci_low:.3f}, {lr.ci_high:.3f}] "
                f"({units.percent(lr.confidence, 0)} interval, {lr.rounds} interleaved rounds){verdict}"
            )
        lines.append(
            "  costs are projected by the planner from the counted work; quality and latency are measured here"
        )
    lines.append("")
    lines.append("Pareto front (cost ↓, quality ↑):")
    for i in r.pareto:
        t = r.trials[i]
        assert t.cost is not None
        mark = "*" if rec is not None and i == rec.trial else " "
        ok = "" if t.feasible else "  below the floor"
        lines.append(f" {mark} {_money(t.cost.value, r.basis):>16}  {quality_text(t):>18}  {t.label}{ok}")
    m = r.measurements
    lines.append("")
    lines.append(
        f"{len(r.trials)} variants tried ({m.screened} screened, {m.timed} timed, {m.failed} failed) in "
        f"{units.duration_s(m.seconds)}; "
        f"the exhaustive grid of this space is {m.grid_size}; stopped: {r.stopped_because}"
    )
    return "\n".join(terminal_safe(line) for line in lines)


CSV_COLUMNS = [
    "index", "phase", "label", "timed", "feasible", "pareto", "recommended", "quality", "cosine", "accuracy",
    "cost_basis", "cost", "usd_per_month", "usd_per_million_at_capacity", "instance", "instances",
    "params", "macs", "latency_ms", "latency_ratio", "latency_ratio_low", "latency_ratio_high", "why_not", "error",
]  # fmt: skip


def optimize_csv(r: OptimizeResult) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(CSV_COLUMNS)
    front = set(r.pareto)
    rec = None if r.recommendation is None else r.recommendation.trial
    for t in r.trials:
        c, f, lr = t.cost, t.fidelity, t.latency_ratio
        w.writerow(
            csv_safe_row(
                [
                    t.index,
                    t.phase,
                    t.label,
                    t.timed,
                    t.feasible,
                    t.index in front,
                    t.index == rec,
                    t.quality,
                    None if f is None else f.cosine,
                    None if f is None else f.accuracy,
                    None if c is None else c.basis,
                    None if c is None else c.value,
                    None if c is None else c.usd_per_month,
                    None if c is None else c.usd_per_million_at_capacity,
                    None if c is None else c.instance,
                    None if c is None else c.instances,
                    t.params,
                    t.macs,
                    t.latency_ms,
                    None if lr is None else lr.value,
                    None if lr is None else lr.ci_low,
                    None if lr is None else lr.ci_high,
                    "; ".join(t.why_not),
                    t.error,
                ]
            )  # fmt: skip
        )
    return buf.getvalue()
