"""The optimizer's strategy on a synthetic model whose quality and cost are known in closed form:
it must find (nearly) the grid's cheapest feasible point with a fraction of the measurements,
keep its budget, keep every trial when stopped, refuse to change a model for nothing, protect
a sensitive layer, and respect a latency objective."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace
from typing import Any

import pytest

from planner.optimize.result import OptimizeResult, pareto_front, render_optimize
from planner.optimize.run import drive, gather
from planner.optimize.search import Search
from planner.optimize.space import Budget, QualityFloor, SearchSpace, parse_budget
from planner.optimize.trial import TrialCost
from profiler.comparison import RatioEstimate
from profiler.errors import InputError
from profiler.fidelity import Fidelity
from profiler.result import ModelInfo
from profiler.variant import Variant
from profiler.vocab import Runtime

LAYERS = ("conv1", "conv2", "conv3", "fc1", "fc2")
MACS = {"conv1": 40, "conv2": 30, "conv3": 20, "fc1": 8, "fc2": 2}
SENSITIVE = {"conv1": 0.4, "conv2": 0.02, "conv3": 0.02, "fc1": 0.01, "fc2": 0.0}


class Synthetic:
    """A model whose accuracy falls with the pruned share of each layer (by its sensitivity),
    whose work is the unpruned share of MACs, and which the planner serves with a fleet sized
    to the work at the load. int8 on onnxruntime halves the work and costs 0.3 points."""

    def __init__(self, qps: float = 1000.0, sensitive: dict[str, float] | None = None, fail: set[str] | None = None):
        self.qps = qps
        self.sensitive = sensitive or SENSITIVE
        self.fail = fail or set()
        self.calls: list[tuple[Variant, bool]] = []

    def ratios(self, v: Variant) -> dict[str, float]:
        r = {name: v.prune for name in LAYERS[:-1]}  # the output layer is never pruned
        r.update(dict(v.layer_prune))
        return r

    def work(self, v: Variant) -> float:
        r = self.ratios(v)
        w = sum(MACS[n] * (1 - r.get(n, 0.0)) ** 2 for n in LAYERS) / 100
        if v.precision == "int8" and v.runtime == Runtime.ONNXRUNTIME:
            w *= 0.5
        return w

    def accuracy(self, v: Variant) -> float:
        r = self.ratios(v)
        acc = 0.98 - sum(self.sensitive[n] * r.get(n, 0.0) ** 2 * 4 for n in LAYERS)
        if v.precision == "int8":
            acc -= 0.003
        if v.precision == "fp16":
            acc -= 0.05  # a precision below the floor already unpruned
        return acc

    def measure(self, v: Variant, timed: bool) -> Any:
        self.calls.append((v, timed))
        if v.label() in self.fail:
            return SimpleNamespace(error="boom", profile=None, baseline=None)
        w = self.work(v)
        lat = SimpleNamespace(median=10 * w) if timed else None
        profile = SimpleNamespace(
            totals=SimpleNamespace(params=int(1e6 * w), macs=int(1e9 * w), weight_bytes=int(4e6 * w), latency_ms=lat),
            model=ModelInfo("synthetic", "synthetic", "demo"),
            work=w,
            layers=tuple(
                SimpleNamespace(name=n, type="Conv2d" if n.startswith("conv") else "Linear", params=1, macs=MACS[n])
                for n in LAYERS
            ),
        )
        acc = self.accuracy(v)
        fid = Fidelity(cosine=1 - (0.98 - acc), max_abs_error=0.0, max_rel_error=0.0, top1_agreement=None,
                       accuracy=acc, baseline_accuracy=0.98)  # fmt: skip
        ratio = RatioEstimate(w / self.work(Variant()), w * 0.9, w * 1.1, True, 0.95, 20) if timed else None
        return SimpleNamespace(
            error=None, profile=profile, baseline=profile if v == Variant() else None, fidelity=fid,
            latency_ratio=ratio, recover=None, notes=(),
        )  # fmt: skip

    def cost(self, profile: Any) -> TrialCost:
        per_instance_capacity = 400.0  # req/s one instance serves at work 1.0
        instances = max(1, math.ceil(self.qps * profile.work / per_instance_capacity))
        month = 500.0 * instances
        per_million = 500.0 / (per_instance_capacity / profile.work * 730 * 3600) * 1e6
        return TrialCost("usd_per_month", month, month, None, per_million, "g.x", instances, "T4")


def _search(model: Synthetic, **kw: Any) -> Search:
    space = kw.pop("space", SearchSpace(runtimes=(None, Runtime.ONNXRUNTIME)))
    floor = kw.pop("floor", QualityFloor(max_accuracy_drop_pp=1.0))
    return Search(space=space, floor=floor, cost_fn=model.cost, **kw)


def _grid_best(model: Synthetic, space: SearchSpace, floor: QualityFloor) -> tuple[float, int]:
    costs = []
    n = 0
    for precision in space.precisions:
        for runtime in space.runtimes:
            for k in range(int(round(space.max_prune / space.resolution)) + 1):
                v = Variant(prune=round(k * space.resolution, 6), precision=precision, runtime=runtime)
                n += 1
                r = model.measure(v, False)
                if not floor.violations(r.fidelity):
                    costs.append(model.cost(r.profile).value)
    return min(costs), n


def _run(model: Synthetic, **kw: Any) -> tuple[Search, OptimizeResult]:
    search = _search(model, **kw)
    drive(search, model.measure)
    result = gather(
        search,
        ModelInfo("synthetic", "synthetic", "demo"),
        SimpleNamespace(serve_qps=model.qps, slo_ms=None, to_dict=lambda: {}),
    )
    result.check()
    return search, result


def test_finds_the_grids_cheapest_feasible_cost_with_a_third_of_the_measurements() -> None:
    model = Synthetic(qps=4000)
    search, result = _run(model)
    best, grid_n = _grid_best(Synthetic(qps=4000), search.space, search.floor)
    rec = result.recommended
    assert rec is not None and rec.cost is not None and rec.feasible
    assert rec.cost.value <= 1.05 * best
    assert len(result.trials) <= 0.3 * grid_n
    assert result.trials[0].phase == "baseline" and result.trials[0].timed
    assert rec.timed, "the recommendation is confirmed by timing it beside the baseline"
    # screened trials are not timed: only the baseline and the confirmation are
    assert sum(1 for _, timed in model.calls if timed) == 2
    # every variant measured once
    keys = [(v.key(), t) for v, t in model.calls]
    assert len(keys) == len(set(keys))


def test_a_precision_below_the_floor_unpruned_is_never_combined_with_pruning() -> None:
    model = Synthetic(qps=4000)
    space = SearchSpace(precisions=("fp32", "fp16", "int8"), runtimes=(None, Runtime.ONNXRUNTIME))
    search, _ = _run(model, space=space)
    fp16 = [t for t in search.trials if t.variant.precision == "fp16"]
    assert fp16 and all(not t.variant.pruned for t in fp16)
    assert all(not t.feasible for t in fp16)


def test_at_the_fleet_minimum_nothing_is_changed_for_nothing() -> None:
    model = Synthetic(qps=10)  # one instance serves every variant
    _, result = _run(model)
    assert result.recommendation is not None and result.recommendation.is_baseline
    assert "fleet minimum" in result.recommendation.bound
    assert result.recommendation.saved_usd == 0


def test_a_sensitive_layer_is_protected_by_a_per_layer_override() -> None:
    model = Synthetic(qps=4000, sensitive={"conv1": 0.5, "conv2": 0.001, "conv3": 0.001, "fc1": 0.001, "fc2": 0.0})
    search, result = _run(model, space=SearchSpace(precisions=("fp32",)))
    assert [s["layer"] for s in search.sensitivity][:1] == ["conv1"], "probed largest first"
    rec = result.recommended
    assert rec is not None and ("conv1", 0.0) in rec.variant.layer_prune
    plain = [t for t in search.trials if t.ok and t.feasible and not t.variant.layer_prune]
    assert all(rec.cost.value < t.cost.value for t in plain)  # type: ignore[union-attr]
    assert "[layers: conv1 0]" in rec.label


def test_the_variant_budget_is_kept_and_the_confirmation_still_runs() -> None:
    model = Synthetic(qps=4000)
    search, result = _run(model, budget=Budget(variants=6))
    assert len(result.trials) <= 6
    assert result.stopped_because == "budget: 6 variants"
    assert result.recommended is not None and result.recommended.timed


def test_the_time_budget_stops_exploring() -> None:
    clock = iter(range(0, 10_000, 10)).__next__  # every reading 10 s later
    model = Synthetic(qps=4000)
    search, result = _run(model, budget=Budget(seconds=100), clock=lambda: float(clock()))
    assert result.stopped_because == "budget: 100 s"
    assert len(result.trials) < 10


def test_cancel_keeps_what_was_tried() -> None:
    model = Synthetic(qps=4000)
    search = _search(model)
    n = 0

    def stop() -> bool:
        return n >= 4

    def measure(v: Variant, timed: bool) -> Any:
        nonlocal n
        n += 1
        return model.measure(v, timed)

    drive(search, measure, should_stop=stop)
    assert search.ask() is None and search.stopped_because == "cancelled"
    assert len(search.trials) == 4


def test_a_failing_variant_is_kept_as_an_error_and_the_search_goes_on() -> None:
    model = Synthetic(qps=4000, fail={"int8 · onnxruntime"})
    search, result = _run(model)
    failed = [t for t in result.trials if t.error]
    assert [t.label for t in failed] == ["int8 · onnxruntime"]
    assert result.recommended is not None
    assert all(i != failed[0].index for i in result.pareto)


def test_a_baseline_that_fails_ends_the_search_without_a_recommendation() -> None:
    model = Synthetic(fail={"fp32"})
    search, result = _run(model)
    assert len(result.trials) == 1 and result.recommendation is None
    assert "baseline" in result.stopped_because


def test_a_latency_objective_rejects_the_recommendation_that_misses_it() -> None:
    model = Synthetic(qps=4000)
    base_ms = 10 * model.work(Variant())
    search, result = _run(model, max_latency_ms=base_ms * 0.999)  # only variants faster than the baseline pass
    rec = result.recommended
    assert rec is not None and rec.timed and rec.latency_ms is not None and rec.latency_ms <= base_ms * 0.999


def test_the_document_round_trips_and_renders() -> None:
    _, result = _run(Synthetic(qps=4000))
    doc = json.loads(json.dumps(result.to_dict()))
    assert doc["schema"] == "tradeoff.optimize/1"
    assert OptimizeResult.from_dict(doc) == result
    text = render_optimize(result)
    assert text.startswith("Optimize synthetic") and "Recommendation:" in text and "Pareto front" in text
    # the front: cheapest first, nobody on it dominated
    front = [result.trials[i] for i in result.pareto]
    costs = [t.cost.value for t in front]  # type: ignore[union-attr]
    assert costs == sorted(costs)
    assert pareto_front(list(result.trials)) == result.pareto


@pytest.mark.parametrize(
    ("text", "expected"),
    [("10m", Budget(seconds=600.0)), ("90s", Budget(seconds=90.0)), ("40v", Budget(variants=40)),
     ("1.5h,12v", Budget(seconds=5400.0, variants=12)), (None, Budget())],
)  # fmt: skip
def test_budget_parsing(text: str | None, expected: Budget) -> None:
    assert parse_budget(text) == expected


@pytest.mark.parametrize("text", ["ten minutes", "1v", "0s", "5x"])
def test_bad_budgets_name_the_option(text: str) -> None:
    with pytest.raises(InputError) as err:
        parse_budget(text)
    assert err.value.file == "--budget"


def test_quality_floor_words_and_checks() -> None:
    floor = QualityFloor(min_cosine=0.99, max_accuracy_drop_pp=1.0, min_top1_agreement=0.95)
    fid = Fidelity(0.98, 0.1, 0.1, 0.9, 0.95, 0.98)
    why = floor.violations(fid)
    assert len(why) == 3 and "accuracy drops 3.0 points" in why[0]
    assert QualityFloor().with_default(True) == QualityFloor(max_accuracy_drop_pp=1.0)
    assert QualityFloor().with_default(False) == QualityFloor(min_cosine=0.99)
    assert floor.violations(None) and not QualityFloor().violations(None)
    with pytest.raises(InputError):
        QualityFloor(max_accuracy_drop_pp=-1).check()


def test_accuracy_on_other_rows_counts_by_its_difference_from_the_baseline_there() -> None:
    from planner.optimize.result import quality_text
    from planner.optimize.space import quality_score

    held_out = Fidelity(0.99, 0.1, 0.1, 0.98, accuracy=1.0, baseline_accuracy=1.0)  # recovery's held-out third
    assert quality_score(held_out) == 1.0
    assert quality_score(held_out, reference_accuracy=0.994) == pytest.approx(0.994)
    worse = Fidelity(0.9, 0.1, 0.1, 0.9, accuracy=0.975, baseline_accuracy=1.0)
    assert quality_score(worse, 0.994) == pytest.approx(0.969)
    trial = SimpleNamespace(fidelity=held_out)
    assert quality_text(trial, 0.994) == "accuracy 100.0% (baseline 100.0% on the same held-out samples)"  # type: ignore[arg-type]
    assert quality_text(trial, 1.0) == "accuracy 100.0%"  # type: ignore[arg-type]
