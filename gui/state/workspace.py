"""The app's state as plain data: the open model, the knobs, and every variant explored.

Widgets are thin bindings over this object (docs/ARCHITECTURE.md, "Rules"); the project file is
its JSON form (gui/session.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from profiler.result import Profile, Totals
from profiler.variant import Variant
from profiler.whatif import VariantResult, deltas, ratio


def counted_memory_bytes(totals: Totals) -> int:
    """What the Memory card shows, in bytes: the weights plus the peak of live activations
    (counted). Its change against the baseline is this same quantity's ratio."""
    return totals.weight_bytes + (totals.activation_peak_bytes or 0)


@dataclass
class Workspace:
    source: str | None = None
    #: the user agreed, in this session, that the model's code may run (a pickle, a .py factory…);
    #: never saved in a project nor read from one (gui/session.py)
    trust: bool = False
    shapes: tuple[tuple[str | None, tuple[int, ...]], ...] = ()
    knobs: Variant = field(default_factory=Variant)
    #: every variant measured, by `Variant.key()`, in the order explored (dicts keep order)
    results: dict[str, VariantResult] = field(default_factory=dict)
    current_key: str | None = None

    def clear(self) -> None:
        self.results.clear()
        self.current_key = None
        self.knobs = Variant()

    @property
    def reference(self) -> Profile | None:
        """The baseline the deltas compare with: the identity variant, as first measured."""
        base = self.results.get(Variant().key())
        if base is not None and base.profile is not None:
            return base.profile
        first = next(iter(self.results.values()), None)
        return None if first is None else first.baseline

    @property
    def current(self) -> VariantResult | None:
        return self.results.get(self.current_key) if self.current_key else None

    def add(self, result: VariantResult) -> None:
        key = result.variant.key()
        self.results[key] = result
        self.current_key = key

    def deltas_of(self, result: VariantResult | None) -> dict[str, float | None]:
        """The result's ratios to the reference baseline (the core's `deltas`), plus fidelity."""
        ref = self.reference
        if result is None or result.profile is None or ref is None:
            return {}
        out = deltas(result.profile, ref)
        # the Memory card's change: the ratio of the figure it shows, never of weights alone
        out["memory"] = ratio(counted_memory_bytes(result.profile.totals), counted_memory_bytes(ref.totals))
        fid = result.fidelity
        out["fidelity"] = None if fid is None else fid.cosine
        out["top1"] = None if fid is None else fid.top1_agreement
        out["accuracy"] = None if fid is None else fid.accuracy  # on labelled samples only
        return out

    def same_except_batch(self, variant: Variant) -> list[VariantResult]:
        """Measured results that differ from `variant` only in batch, ordered by batch."""
        strip = variant.with_(batch=None)
        out = [r for r in self.results.values() if r.profile is not None and r.variant.with_(batch=None) == strip]
        return sorted(out, key=lambda r: r.variant.batch or r.profile.config.batch)  # type: ignore[union-attr]
