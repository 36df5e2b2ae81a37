"""The optimizer's strategy, as an ask/tell search: `ask()` names the next variant to measure,
`tell(result)` hands back its VariantResult, until `ask()` is None.

Where the measurements go (each step only when the space has it):

1. **baseline** — timed: its quality is the reference, its cost the one to beat.
2. **precision** — every other precision × runtime at prune 0, screened. A combination below the
   floor already unpruned is dropped (pruning only loses more), and so is one that is not
   cheaper than the baseline (at the load or at capacity): it cannot help a pruned variant either.
3. **sensitivity** — the largest prunable layers pruned alone at a probe ratio, one variant each:
   how much quality each costs, so the sensitive ones can be protected.
4. **prune** — per method, bisection on the global ratio for the largest one that keeps the floor
   (quality falls as the ratio grows), to `resolution`.
5. **combine** — each kept precision × runtime at the largest feasible ratio, stepping down once
   when the two together break the floor.
6. **layers** — per-layer overrides: the most sensitive layers kept whole (ratio 0) while the rest
   is pruned past the global boundary.
7. **refine** — at equal cost the better quality wins: the smallest ratio that still reaches the
   best cost, by bisection.
8. **batch** — the best variant at the other measured batches.
9. **confirm** — the recommendation timed beside the baseline (interleaved, with its interval);
   with a latency objective, the next one when it misses it.

Screened variants are counted and their outputs compared but not timed: a cloud cost is projected
from the counts, so timing them would spend the budget on figures the cost does not read. The
budget (seconds and/or variants) stops exploring early; one measurement is kept for the
confirmation. Every tried variant stays in `trials`, whatever stopped the search.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from profiler.result import Profile
from profiler.variant import Variant
from profiler.vocab import Precision, PruneMethod

from .space import Budget, QualityFloor, SearchSpace
from .trial import Trial, TrialCost, cost_bucket, make_trial

#: layers probed alone for their sensitivity (the largest by MACs)
SENSITIVITY_LAYERS = 6
#: layers kept whole by the per-layer override variants, at most
MAX_PROTECTED = 3
_WEIGHTED_KINDS = re.compile(r"^(conv|linear|gemm|conv1d)", re.I)
_ATTENTION_NAME = re.compile(r"(attn|attention|q_proj|k_proj|v_proj|o_proj|qkv|query|key|value|out_proj|in_proj)", re.I)


@dataclass(frozen=True)
class Ask:
    """The next variant to measure: screened (`timed=False`) or timed beside the baseline."""

    variant: Variant
    timed: bool
    phase: str


class _OutOfBudget(Exception):
    pass


_Step = Generator[Ask, Trial, Trial]


class Search:
    """One optimization of one model (see the module docstring for the strategy)."""

    def __init__(
        self,
        *,
        space: SearchSpace,
        floor: QualityFloor,
        cost_fn: Callable[[Profile], TrialCost],
        budget: Budget = Budget(),
        max_latency_ms: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        space.check()
        floor.check()
        self.space = space
        self.floor = floor
        self.budget = budget
        self.max_latency_ms = max_latency_ms
        self.cost_fn = cost_fn
        self.clock = clock
        self.trials: list[Trial] = []
        self.sensitivity: list[dict[str, Any]] = []
        self.baseline_profile: Profile | None = None
        self.stopped_because: str | None = None
        self.started = clock()
        self._memo: dict[tuple[str, bool], Trial] = {}
        #: the full VariantResult of each timed variant (baseline, confirmations), in memory only:
        #: a report of the search shows their profiles
        self.timed_results: dict[str, Any] = {}
        self._boundary: dict[PruneMethod, tuple[float, float | None]] = {}
        self._gen = self._strategy()
        self._asked_at = clock()
        self._ask: Ask | None = next(self._gen)

    # --- ask / tell ------------------------------------------------------------------------------

    def ask(self) -> Ask | None:
        return self._ask

    def tell(self, result: Any) -> None:
        """The VariantResult of the variant `ask()` named (None or one with `error`: it failed)."""
        ask = self._ask
        assert ask is not None, "tell() after the search ended"
        seconds = self.clock() - self._asked_at
        if ask.phase == "baseline" and result is not None and result.baseline is not None:
            self.baseline_profile = result.baseline
        cost = None
        if result is not None and result.error is None and result.profile is not None:
            cost = self.cost_fn(result.profile)
        base = self.trials[0] if self.trials and self.trials[0].phase == "baseline" else None
        reference = None if base is None or base.fidelity is None else base.fidelity.accuracy
        trial = make_trial(
            len(self.trials), ask.phase, ask.variant, ask.timed, seconds, result, self.floor, cost,
            self.max_latency_ms, reference,
        )  # fmt: skip
        self.trials.append(trial)
        self._memo[(ask.variant.key(), ask.timed)] = trial
        if ask.timed and trial.ok:
            self.timed_results[ask.variant.key()] = result
        self._asked_at = self.clock()
        try:
            self._ask = self._gen.send(trial)
        except StopIteration:
            self._ask = None

    def cancel(self, reason: str = "cancelled") -> None:
        """Stop now; what was tried stays."""
        if self._ask is not None:
            self.stopped_because = reason
            self._ask = None
            self._gen.close()

    @property
    def elapsed_s(self) -> float:
        return self.clock() - self.started

    def _variant(self, **knobs: Any) -> Variant:
        """A variant on the search's device, recovered by distillation when pruned and asked."""
        return Variant(device=self.space.device, recover_steps=self.space.recover_steps, **knobs)

    # --- budget ---------------------------------------------------------------------------------

    def _check_budget(self, reserve: int = 1) -> None:
        """Raise _OutOfBudget when one more exploring measurement would leave no room for
        `reserve` confirmations (variants), or is expected to overrun the time."""
        b = self.budget
        if b.variants is not None and len(self.trials) + reserve >= b.variants:
            raise _OutOfBudget(f"budget: {b.variants} variants")
        if b.seconds is not None and self.trials:
            mean = self.elapsed_s / len(self.trials)
            if self.elapsed_s + mean * (1 + reserve) > b.seconds:
                raise _OutOfBudget(f"budget: {b.seconds:g} s")

    def _try(self, variant: Variant, phase: str, timed: bool = False, *, explore: bool = True) -> _Step:
        """Measure `variant` once (a variant tried before is not measured again)."""
        known = self._memo.get((variant.key(), timed)) or (None if timed else self._memo.get((variant.key(), True)))
        if known is not None:
            return known
        if explore:
            self._check_budget()
        return (yield Ask(variant, timed, phase))

    # --- the strategy -----------------------------------------------------------------------------

    def _strategy(self) -> Generator[Ask, Trial, None]:
        batch0 = self.space.batches[0]
        base = yield from self._try(self._variant(batch=batch0), "baseline", timed=True, explore=False)
        if not base.ok:
            self.stopped_because = f"the baseline could not be measured or priced ({base.error or base.why_not})"
            return
        try:
            combos = yield from self._precisions(base, batch0)
            yield from self._sensitivities(base, batch0)
            for method in self.space.prune_methods if self.space.max_prune > 0 else ():
                yield from self._prune_boundary(method, batch0)
            yield from self._combine(combos, batch0)
            yield from self._layer_overrides(batch0)
            yield from self._refine()
            yield from self._batches()
            self.stopped_because = "converged: every step of the search ran"
        except _OutOfBudget as exc:
            self.stopped_because = str(exc)
        yield from self._confirm()

    def _precisions(self, base: Trial, batch: int | None) -> Generator[Ask, Trial, list[tuple[Precision, Any]]]:
        kept: list[tuple[Precision, Any]] = []
        for precision in self.space.precisions:
            for runtime in self.space.runtimes:
                v = self._variant(precision=precision, runtime=runtime, batch=batch)
                if v == self._variant(batch=batch):
                    continue
                t = yield from self._try(v, "precision")
                if t.ok and t.feasible and _cheaper(t, base):
                    kept.append((Precision(precision), runtime))
        return kept

    def _candidate_layers(self) -> list[str]:
        """The largest prunable layers (weights and MACs, not attention, not the output layer)."""
        p = self.baseline_profile
        if p is None:
            return []
        rows = [
            r for r in p.layers
            if r.params and r.macs and _WEIGHTED_KINDS.match(r.type) and not _ATTENTION_NAME.search(r.name)
            and not r.name.startswith("/")  # ONNX nodes: no module to prune by name
        ]  # fmt: skip
        rows = rows[:-1]  # the last weighted layer makes the output: pruning keeps it whole
        rows.sort(key=lambda r: -(r.macs or 0))
        return [r.name for r in rows[:SENSITIVITY_LAYERS]]

    def _sensitivities(self, base: Trial, batch: int | None) -> Generator[Ask, Trial, None]:
        if not (self.space.layer_overrides and PruneMethod.STRUCTURED in self.space.prune_methods):
            return
        if self.space.max_prune <= 0:
            return
        probe = min(0.5, self.space.max_prune)
        for name in self._candidate_layers():
            t = yield from self._try(self._variant(layer_prune=((name, probe),), batch=batch), "sensitivity")
            drop = None if t.quality is None or base.quality is None else base.quality - t.quality
            self.sensitivity.append(
                {"layer": name, "ratio": probe, "quality": t.quality, "drop": drop, "error": t.error, "trial": t.index}
            )
            if t.error is not None and "not possible" in t.error:
                return  # structured pruning refuses this architecture: no other layer will do

    def _prune_boundary(self, method: PruneMethod, batch: int | None) -> Generator[Ask, Trial, None]:
        """Bisect the global ratio: the largest that keeps the floor (lo) and the smallest that
        does not (hi, None when even max_prune keeps it)."""
        step = self.space.resolution
        lo, hi = 0.0, self.space.max_prune  # hi is assumed to break the floor until tried
        while hi - lo > step + 1e-9:
            mid = _snap((lo + hi) / 2, step)
            if mid <= lo + 1e-9 or mid >= hi - 1e-9:
                break
            t = yield from self._try(self._variant(prune=mid, prune_method=method, batch=batch), "prune")
            if t.ok and t.feasible:
                lo = mid
            else:
                hi = mid
        if hi >= self.space.max_prune - 1e-9:  # every ratio tried kept the floor: try the largest
            t = yield from self._try(self._variant(prune=hi, prune_method=method, batch=batch), "prune")
            if t.ok and t.feasible:
                self._boundary[method] = (hi, None)
                return
        self._boundary[method] = (lo, hi)

    def _combine(self, combos: list[tuple[Precision, Any]], batch: int | None) -> Generator[Ask, Trial, None]:
        step = self.space.resolution
        for method, (lo, _) in self._boundary.items():
            if lo <= 0:
                continue
            for precision, runtime in combos:
                ratio = lo
                for _attempt in range(2):
                    v = self._variant(
                        prune=ratio, prune_method=method, precision=precision, runtime=runtime, batch=batch
                    )
                    t = yield from self._try(v, "combine")
                    if t.ok and t.feasible:
                        break
                    ratio = _snap(ratio - step, step)
                    if ratio <= 0:
                        break

    def _layer_overrides(self, batch: int | None) -> Generator[Ask, Trial, None]:
        bound = self._boundary.get(PruneMethod.STRUCTURED)
        ranked = [s for s in self.sensitivity if s["drop"] is not None and s["error"] is None]
        if bound is None or bound[1] is None or len(ranked) < 2:
            return
        ranked.sort(key=lambda s: -s["drop"])
        best = self.best()  # its precision and runtime (the cheapest found so far) carry over
        best_combo = (Precision.FP32, None) if best is None else (best.variant.precision, best.variant.runtime)
        step = self.space.resolution
        for protect in range(1, min(MAX_PROTECTED, len(ranked) - 1) + 1):
            keep = tuple((s["layer"], 0.0) for s in ranked[:protect])
            ratio = bound[1]  # the first global ratio that broke the floor
            feasible_once = False
            while ratio <= self.space.max_prune + 1e-9:
                v = self._variant(
                    prune=ratio, layer_prune=keep, precision=best_combo[0], runtime=best_combo[1], batch=batch
                )
                t = yield from self._try(v, "layers")
                if not (t.ok and t.feasible):
                    break
                feasible_once = True
                ratio = _snap(ratio + 2 * step, step)
            if feasible_once:
                return  # protecting fewer layers was enough: more would only cost more

    def _refine(self) -> Generator[Ask, Trial, None]:
        """At the best cost, the smallest ratio that reaches it (better quality, same price)."""
        best = self.best()
        if best is None or not best.variant.pruned or best.variant.layer_prune:
            return
        step = self.space.resolution
        family = [
            t for t in self.trials
            if t.ok and t.variant.with_(prune=0.0, prune_method=None) == best.variant.with_(prune=0.0, prune_method=None)
            and t.variant.method == best.variant.method and t.variant.prune < best.variant.prune
        ]  # fmt: skip
        assert best.cost is not None and best.cost.value is not None
        dearer = [
            t.variant.prune
            for t in family
            if t.cost and t.cost.value and cost_bucket(t.cost.value) > cost_bucket(best.cost.value)
        ]
        lo = max(dearer, default=0.0)
        hi = best.variant.prune
        while hi - lo > step + 1e-9:
            mid = _snap((lo + hi) / 2, step)
            if mid <= lo + 1e-9 or mid >= hi - 1e-9:
                break
            t = yield from self._try(best.variant.with_(prune=mid), "refine")
            same = (
                t.ok
                and t.cost is not None
                and t.cost.value is not None
                and cost_bucket(t.cost.value) <= cost_bucket(best.cost.value)
            )
            if same and t.feasible:
                hi = mid
            else:
                lo = mid

    def _batches(self) -> Generator[Ask, Trial, None]:
        best = self.best()
        if best is None:
            return
        for batch in self.space.batches[1:]:
            yield from self._try(best.variant.with_(batch=batch), "batch")

    def _confirm(self) -> Generator[Ask, Trial, None]:
        """Time the recommendation beside the baseline; the next when it misses the latency objective."""
        tried: set[str] = set()
        for _ in range(3):
            best = self.best(exclude=tried)
            if best is None or best.timed:
                return
            tried.add(best.variant.key())
            t = yield from self._try(best.variant, "confirm", timed=True, explore=False)
            if t.ok and t.feasible:
                return

    # --- reading the trials -----------------------------------------------------------------------

    def best(self, exclude: set[str] | None = None) -> Trial | None:
        """The cheapest trial that keeps the floor (ties: the better quality). A variant that was
        timed counts by its timed trial (the latency objective is checked there)."""
        timed = {t.variant.key(): t for t in self.trials if t.timed}
        feasible = []
        for t in self.trials:
            key = t.variant.key()
            if exclude and key in exclude:
                continue
            latest = timed.get(key, t)
            if latest.ok and latest.feasible:
                feasible.append(latest)
        return min(feasible, key=lambda t: (*t.rank_key(), t.index), default=None)


def _cheaper(t: Trial, base: Trial) -> bool:
    """Cheaper than the baseline at the load, or (same fleet) at capacity."""
    assert t.cost is not None and base.cost is not None and t.cost.value is not None and base.cost.value is not None
    if cost_bucket(t.cost.value) < cost_bucket(base.cost.value):
        return True
    a, b = t.cost.usd_per_million_at_capacity, base.cost.usd_per_million_at_capacity
    return a is not None and b is not None and cost_bucket(a) < cost_bucket(b)


def _snap(ratio: float, step: float) -> float:
    return round(round(ratio / step) * step, 6)
