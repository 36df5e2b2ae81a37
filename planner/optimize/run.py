"""Driving a search to its end and gathering its document: the CLI drives it synchronously,
the app on a thread, both through `drive` with their own way of measuring one variant."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from profiler.result import Profile
from profiler.variant import Variant

from .result import Measurements, OptimizeResult, pareto_front, recommend
from .search import Ask, Search

#: measure(variant, timed) -> VariantResult (one with `error` when it failed)
Measure = Callable[[Variant, bool], Any]


def drive(
    search: Search,
    measure: Measure,
    *,
    should_stop: Callable[[], bool] = lambda: False,
    on_ask: Callable[[Ask, int], None] | None = None,
) -> None:
    """Ask, measure, tell until the search ends or `should_stop()`; every result is kept."""
    while (ask := search.ask()) is not None:
        if should_stop():
            search.cancel()
            return
        if on_ask is not None:
            on_ask(ask, len(search.trials))
        search.tell(measure(ask.variant, ask.timed))


def objective_text(options: Any) -> str:
    """The objective in words, from the plan options."""
    if options.serve_qps is not None:
        qps = options.serve_qps
        text = f"lowest projected $ per month serving {f'{qps:,.0f}' if qps >= 10 else f'{qps:g}'} req/s"
    else:
        text = "lowest projected $ per million inferences"
    if options.slo_ms is not None:
        text += f" within a {options.slo_ms:g} ms latency objective"
    return text + " on the cheapest catalog option"


def gather(search: Search, model: Any, options: Any) -> OptimizeResult:
    """The search's `tradeoff.optimize/1` document (also after a cancel or an exhausted budget)."""
    trials = list(search.trials)
    basis = "usd_per_month" if options.serve_qps is not None else "usd_per_million"
    stopped = search.stopped_because or "stopped"
    best = search.best()
    return OptimizeResult(
        model=model,
        objective=objective_text(options),
        basis=basis,
        floor=search.floor,
        space=search.space,
        budget=search.budget,
        max_latency_ms=search.max_latency_ms,
        trials=tuple(trials),
        pareto=pareto_front(trials),
        sensitivity=tuple(search.sensitivity),
        recommendation=recommend(trials, best, basis, search.floor, stopped),
        stopped_because=stopped,
        measurements=Measurements(
            screened=sum(1 for t in trials if not t.timed),
            timed=sum(1 for t in trials if t.timed),
            failed=sum(1 for t in trials if t.error is not None),
            seconds=round(search.elapsed_s, 3),
            grid_size=search.space.grid_size(),
        ),
        plan_options=options.to_dict(),
    )


def model_of(search: Search, fallback: Any) -> Any:
    p: Profile | None = search.baseline_profile
    return p.model if p is not None else fallback
