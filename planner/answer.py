"""The planner's answer to the user's question, in one place.

Two questions, each answered directly:
- with a load (`serve_qps`): the cheapest way to carry it per month — instances × $/h × 730 h,
  with the batch, the p90 latency at that load and the utilisation it runs at;
- without one: the lowest $ per million inferences at the stated utilisation (and it says so).

`rank_key` orders a plan's serving options for either question (options that are not an
answer — do not fit, miss the objective — come last, each with why); `answer_of(plan)` reads
the first row. The app's headline, the plan table's first row, the report's first page and
`tradeoff plan --json` (`answer`) all come from here, so they cannot disagree.

`recommendation` writes the sentence the app, the CLI text output and the PDF lead with: the
cheapest way to serve and to train, what the chosen variant saves against the baseline per
month, and the caveats that apply.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from planner.records import FlatRecord
from profiler import units
from profiler.conditions import is_busy

if TYPE_CHECKING:
    from planner.inference import InferenceOption
    from planner.training import TrainingOption

MONTHLY_AT_LOAD = "monthly cost at the stated load"
PER_MILLION_AT_UTILISATION = "$ per million inferences at the stated utilisation"


def rank_key(option: InferenceOption, at_load: bool) -> tuple[bool, float]:
    """Sort key: answers first, cheapest first — by $ per month at a load, else by $ per million."""
    value = option.usd_per_month if at_load else option.usd_per_million
    is_answer = option.excluded_reason is None and option.fits_memory and option.meets_slo and value is not None
    return (not is_answer, value if (is_answer and value is not None) else math.inf)


def is_answer(option: InferenceOption, at_load: bool) -> bool:
    return not rank_key(option, at_load)[0]


@dataclass(frozen=True)
class ServingAnswer(FlatRecord):
    """The first-ranked serving option, restated as the answer (every figure projected)."""

    basis: str
    instance: str
    provider: str
    region: str
    accelerator: str
    gpu_model: str
    instances: int | None
    gpus_per_instance: int
    precision: str
    batch: int
    latency_ms: float | None  # one batch's projected time
    latency_p90_ms: float | None  # at the stated load (fill + queueing + batch), None without a load
    utilization: float  # at the load, or the stated utilisation
    usd_per_month: float | None
    usd_per_million: float | None
    qps: float | None
    slo_ms: float | None
    uncertainty_fraction: float | None = None
    uncertainty_basis: str = ""
    headline: str = ""


@dataclass(frozen=True)
class TrainingAnswer(FlatRecord):
    instance: str
    provider: str
    region: str
    accelerator: str
    gpus: int
    instances: int
    hours: float
    usd_on_demand: float
    parallelism: str
    headline: str = ""


@dataclass(frozen=True)
class Answer(FlatRecord):
    serving: ServingAnswer | None
    training: TrainingAnswer | None
    #: why there is no serving answer (nothing fits, nothing meets the objective), else None
    serving_unanswered: str | None = None
    training_unanswered: str | None = None


def _where(o: Any) -> str:
    return f"{o.instance}, {o.provider} {o.region}"


def _band(fraction: float | None) -> str:
    return "" if not fraction else f" (±{fraction * 100:.0f} %)"


def _month_band(o: InferenceOption) -> str:
    """'(±30 %: $384–$768)' — the monthly cost when every time is at the band's ends; the
    instance count often holds, so the cost band is narrower than the time band."""
    if not o.uncertainty_fraction:
        return ""
    lo, hi = o.usd_per_month_low, o.usd_per_month_high
    if lo is None or hi is None:
        return _band(o.uncertainty_fraction)
    if math.isclose(lo, hi):
        return f" (the same within ±{o.uncertainty_fraction * 100:.0f} % on time)"
    return f" ({units.usd(lo)}–{units.usd(hi)} within ±{o.uncertainty_fraction * 100:.0f} % on time)"


def serving_answer(options: tuple[InferenceOption, ...], qps: float | None, slo_ms: float | None, util: float) -> (
    tuple[ServingAnswer | None, str | None]
):  # fmt: skip
    """The answer from options already in `rank_key` order, or (None, why there is none)."""
    at_load = bool(qps)
    if not options or not is_answer(options[0], at_load):
        if not options:
            return None, "no accelerator in the catalog selection can be projected"
        reasons = sorted({o.excluded_reason for o in options if o.excluded_reason})
        why = reasons[0] if len(reasons) == 1 else f"{len(options)} options, none fits and meets the objective"
        return None, f"no option can serve this model as asked: {why}"
    o = options[0]
    gpu = o.gpu_model or o.accelerator
    prec = o.precision if not o.float_precision else f"{o.precision} (the rest {o.float_precision})"
    if at_load:
        assert o.instances_needed is not None and o.usd_per_month is not None and qps is not None
        n = o.instances_needed
        if o.gpus_per_instance == 1:
            what = f"{n} × {gpu} ({_where(o)})" if n > 1 else f"{gpu} ({_where(o)})"
        else:
            what = f"{n} × {o.instance} ({o.gpus_per_instance} × {gpu} each, {o.provider} {o.region})"
        lm = o.ttft_ms is not None
        within = f" within {units.duration_ms(slo_ms)} {'per request' if lm else 'p90'}" if slo_ms else ""
        if lm:  # a decoder LM: continuous batching, its latencies are time to first token and per token
            how = (
                f"{units.number(o.concurrency or o.batch)} sequences in flight, "
                f"TTFT {units.duration_ms(o.ttft_ms)}, TPOT {units.duration_ms(o.tpot_ms)}, "
                f"{units.usd(o.usd_per_million_tokens)} per million output tokens"
            )
        else:
            how = f"batch {o.batch}, {units.duration_ms(o.latency_p90_at_load_ms)} p90 at this load"
        headline = (
            f"Serve {units.number(qps)} req/s{within} on {what} at {prec}: {units.usd(o.usd_per_month)}/month"
            f"{_month_band(o)} — {how}, {(o.utilization_at_load or 0) * 100:.0f} % utilised (projected)"
        )
        util_used = o.utilization_at_load if o.utilization_at_load is not None else util
    else:
        gpus = f"{o.gpus_per_instance} × {gpu}" if o.gpus_per_instance > 1 else gpu
        headline = (
            f"Cheapest per inference at {util * 100:.0f} % utilisation: {gpus} ({_where(o)}) at {prec}, "
            f"batch {o.batch}, {units.usd(o.usd_per_million)} per million inferences{_band(o.uncertainty_fraction)} "
            "(projected; no load given, so ranked by $ per million)"
        )
        util_used = util
    return ServingAnswer(
        basis=MONTHLY_AT_LOAD if at_load else PER_MILLION_AT_UTILISATION, instance=o.instance,
        provider=o.provider, region=o.region, accelerator=o.accelerator, gpu_model=o.gpu_model,
        instances=o.instances_needed, gpus_per_instance=o.gpus_per_instance, precision=o.precision,
        batch=o.batch, latency_ms=o.latency_ms, latency_p90_ms=o.latency_p90_at_load_ms,
        utilization=util_used, usd_per_month=o.usd_per_month, usd_per_million=o.usd_per_million,
        qps=qps, slo_ms=slo_ms, uncertainty_fraction=o.uncertainty_fraction,
        uncertainty_basis=o.uncertainty_basis, headline=headline,
    ), None  # fmt: skip


def training_answer(options: tuple[TrainingOption, ...]) -> tuple[TrainingAnswer | None, str | None]:
    """The first training option when it fits (the training plan ranks those first)."""
    if not options:
        return None, "no accelerator in the catalog selection can be projected for training"
    o = options[0]
    if not o.fits_memory or o.excluded_reason:
        return None, f"no option can train this model: {o.excluded_reason or 'does not fit'}"
    headline = (
        f"Train on {o.gpus} × {o.accelerator} ({o.instances} × {o.instance}, {o.provider} {o.region}, "
        f"{o.parallelism}): {units.hours(o.hours)}, {units.usd(o.usd_on_demand)} on demand"
        f"{_band(o.uncertainty_fraction)} (projected)"
    )
    return TrainingAnswer(
        instance=o.instance, provider=o.provider, region=o.region, accelerator=o.accelerator, gpus=o.gpus,
        instances=o.instances, hours=o.hours, usd_on_demand=o.usd_on_demand, parallelism=o.parallelism,
        headline=headline,
    ), None  # fmt: skip


def answer_of(
    serving: tuple[InferenceOption, ...],
    training: tuple[TrainingOption, ...] | None,
    qps: float | None,
    slo_ms: float | None,
    utilization: float,
) -> Answer:
    s, s_why = serving_answer(serving, qps, slo_ms, utilization)
    t, t_why = training_answer(training) if training is not None else (None, None)
    return Answer(serving=s, training=t, serving_unanswered=s_why, training_unanswered=t_why)


# ----------------------------------------------------------------------------- recommendation


def caveats_of(profile: Any, comparison_significant: bool | None = None) -> tuple[str, ...]:
    """What the reader must know before trusting the figures: where the model was measured,
    whether its weights are real, whether the measured change is within noise."""
    out = []
    env = profile.environment
    device = str(profile.config.device)
    if profile.totals.latency_ms is None:
        out.append("latency not measured here (counted only); every time is projected from FLOPs and bytes")
    elif device.startswith("cuda"):
        out.append("measured on this machine's GPU and projected to the catalog GPUs")
    else:
        out.append("measured on this machine's CPU and projected to the GPUs")
    if _random_weights(profile):
        out.append("random weights: fidelity is measured on random inputs, not on your data")
    if comparison_significant is False:
        out.append("the chosen variant's measured speed change is within noise")
    if env is not None and is_busy(env.foreign_cpu_percent):
        out.append(f"the machine was busy during measurement ({env.foreign_cpu_percent:.0f} % other load)")
    return tuple(out)


def _random_weights(profile: Any) -> bool:
    """A Hugging Face config is built with random weights, and so is every demo but the trained ones."""
    fmt, source = str(profile.model.format), str(profile.model.source)
    if fmt == "hf-config":
        return True
    if fmt == "demo":
        from profiler.demos import TRAINED_DEMOS

        return source.split(":", 1)[-1] not in TRAINED_DEMOS
    return False


def recommendation(
    baseline: Answer | None,
    chosen: Answer | None = None,
    chosen_label: str | None = None,
    caveats: tuple[str, ...] = (),
    sep: str = " ",
) -> str:
    """One paragraph: the cheapest way to serve and to train (the chosen variant's when there is
    one), what it saves against the baseline, and the caveats."""
    lead = chosen if chosen is not None else baseline
    parts: list[str] = []
    if lead is None:
        return "No plan: open a model to plan its cost."
    who = f"the {chosen_label} variant" if chosen is not None and chosen_label else "the model"
    if lead.serving is not None:
        parts.append(f"For {who}: {_lower_first(lead.serving.headline)}.")
    elif lead.serving_unanswered:
        parts.append(f"For {who}: {lead.serving_unanswered}.")
    if lead.training is not None:
        parts.append(f"{lead.training.headline}.")
    elif lead.training_unanswered:
        parts.append(f"{lead.training_unanswered[0].upper()}{lead.training_unanswered[1:]}.")
    if chosen is not None and baseline is not None and chosen.serving and baseline.serving:
        parts.append(_savings(baseline.serving, chosen.serving))
    if caveats:
        parts.append("Caveats: " + "; ".join(caveats) + ".")
    return sep.join(p for p in parts if p)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:1].isupper() and not text[1:2].isupper() else text


def _savings(base: ServingAnswer, chosen: ServingAnswer) -> str:
    if base.usd_per_month is not None and chosen.usd_per_month is not None:
        b, c, unit = base.usd_per_month, chosen.usd_per_month, "/month"
    elif base.usd_per_million is not None and chosen.usd_per_million is not None:
        b, c, unit = base.usd_per_million, chosen.usd_per_million, " per million inferences"
    else:
        return ""
    if math.isclose(b, c, rel_tol=1e-9):
        return f"Against the baseline it saves nothing: both cost {units.usd(b)}{unit} (projected)."
    verb = "saves" if c < b else "costs"
    return (
        f"Against the baseline ({units.usd(b)}{unit}) it {verb} {units.usd(abs(b - c))}{unit} "
        f"({abs(b - c) / b * 100:.0f} %{' more' if c > b else ''}) (projected)."
    )
