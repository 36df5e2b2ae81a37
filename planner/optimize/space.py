"""What the optimizer may vary, the quality it must keep, and how much it may measure."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from profiler.codec import Record
from profiler.errors import InputError
from profiler.fidelity import Fidelity
from profiler.vocab import Device, Precision, PruneMethod, Runtime

#: the floor when the user states none: labelled samples keep accuracy within 1 point, else the
#: outputs keep a cosine similarity of 0.99 to the baseline's (the report's default too)
DEFAULT_MAX_ACCURACY_DROP_PP = 1.0
DEFAULT_MIN_COSINE = 0.99


@dataclass(frozen=True)
class QualityFloor(Record):
    """The quality a variant must keep against the baseline; None = not constrained.

    `max_accuracy_drop_pp` is in percentage points of accuracy on labelled samples (the user's
    `--inputs` with a `y` array, or a trained demo's own held-out set)."""

    __document__ = "quality floor"

    min_cosine: float | None = None
    max_accuracy_drop_pp: float | None = None
    min_top1_agreement: float | None = None

    def check(self) -> None:
        for option, value in (("--min-cosine", self.min_cosine), ("--min-top1-agreement", self.min_top1_agreement)):
            if value is not None and not (math.isfinite(value) and -1.0 <= value <= 1.0):
                raise InputError(option, f"{value} is outside -1 … 1")
        if self.max_accuracy_drop_pp is not None and not (
            math.isfinite(self.max_accuracy_drop_pp) and 0 <= self.max_accuracy_drop_pp <= 100
        ):
            raise InputError("--max-accuracy-drop", f"{self.max_accuracy_drop_pp} is outside 0 … 100 points")

    @property
    def empty(self) -> bool:
        return self.min_cosine is None and self.max_accuracy_drop_pp is None and self.min_top1_agreement is None

    def with_default(self, labelled: bool) -> QualityFloor:
        """This floor, or the default one when none was stated."""
        if not self.empty:
            return self
        if labelled:
            return QualityFloor(max_accuracy_drop_pp=DEFAULT_MAX_ACCURACY_DROP_PP)
        return QualityFloor(min_cosine=DEFAULT_MIN_COSINE)

    def describe(self) -> str:
        parts = []
        if self.max_accuracy_drop_pp is not None:
            pp = self.max_accuracy_drop_pp
            parts.append(f"accuracy within {pp:g} point{'' if pp == 1 else 's'} of the baseline's")
        if self.min_cosine is not None:
            parts.append(f"output cosine ≥ {self.min_cosine:g}")
        if self.min_top1_agreement is not None:
            parts.append(f"top-1 agreement ≥ {100 * self.min_top1_agreement:g} %")
        return " and ".join(parts) or "none"

    def violations(self, fidelity: Fidelity | None) -> list[str]:
        """Why `fidelity` is below the floor (empty: it passes). No fidelity fails a stated floor."""
        if fidelity is None:
            return [] if self.empty else ["its outputs could not be compared with the baseline's"]
        out: list[str] = []
        if self.max_accuracy_drop_pp is not None:
            if fidelity.accuracy is None or fidelity.baseline_accuracy is None:
                out.append("no labelled samples to measure accuracy on")
            else:
                drop = 100 * (fidelity.baseline_accuracy - fidelity.accuracy)
                if drop > self.max_accuracy_drop_pp + 1e-9:
                    out.append(f"accuracy drops {drop:.1f} points (at most {self.max_accuracy_drop_pp:g})")
        if self.min_cosine is not None and fidelity.cosine < self.min_cosine:
            out.append(f"output cosine {fidelity.cosine:.4f} < {self.min_cosine:g}")
        if self.min_top1_agreement is not None:
            agree = fidelity.top1_agreement
            if agree is None:
                out.append("the output has no classes to agree on")
            elif agree < self.min_top1_agreement:
                out.append(f"top-1 agreement {100 * agree:.1f} % < {100 * self.min_top1_agreement:g} %")
        return out


def quality_score(fidelity: Fidelity | None, reference_accuracy: float | None = None) -> float:
    """One number to prefer the better of two variants at equal cost: accuracy on labelled
    samples when there are labels, else the output cosine to the baseline.

    With `reference_accuracy` (the baseline's accuracy on all the samples), accuracy is put on
    the baseline's scale: a variant measured on other rows (recovery's held-out third) counts by
    its difference from the baseline on those same rows, so the two compare like with like."""
    if fidelity is None:
        return -math.inf
    if fidelity.accuracy is not None:
        if reference_accuracy is not None and fidelity.baseline_accuracy is not None:
            return float(reference_accuracy + fidelity.accuracy - fidelity.baseline_accuracy)
        return float(fidelity.accuracy)
    return float(fidelity.cosine)


@dataclass(frozen=True)
class SearchSpace(Record):
    """The knobs the search may turn. Pruning ratios are continuous in [0, max_prune] and found
    to `resolution`; `runtimes` None = the model's own; `batches` None = the profiled batch."""

    __document__ = "search space"

    max_prune: float = 0.7
    prune_methods: tuple[PruneMethod, ...] = (PruneMethod.STRUCTURED,)
    precisions: tuple[Precision, ...] = (Precision.FP32, Precision.INT8)
    runtimes: tuple[Runtime | None, ...] = (None,)
    batches: tuple[int | None, ...] = (None,)
    layer_overrides: bool = True
    resolution: float = 0.05
    device: Device = Device.CPU
    #: distillation steps after structured pruning for every pruned variant (None: none)
    recover_steps: int | None = None

    def check(self) -> None:
        if not 0.0 <= self.max_prune < 1.0:
            raise InputError("--max-prune", f"{self.max_prune} is outside 0 <= R < 1")
        if not 0.0 < self.resolution <= 0.5:
            raise InputError("--resolution", f"{self.resolution} is outside 0 < STEP <= 0.5")
        if not self.precisions:
            raise InputError("--precision", "the list is empty")

    def grid_size(self) -> int:
        """Variants in the exhaustive grid of this space at its resolution (overrides aside)."""
        ratios = int(round(self.max_prune / self.resolution)) + 1 if self.max_prune > 0 else 1
        pruned = (ratios - 1) * len(self.prune_methods)
        return (1 + pruned) * len(self.precisions) * len(self.runtimes) * len(self.batches)


@dataclass(frozen=True)
class Budget(Record):
    """At most this many seconds and / or variants (None: unbounded on that side)."""

    __document__ = "budget"

    seconds: float | None = None
    variants: int | None = None


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h)?\s*$", re.I)
_VARIANTS = re.compile(r"^\s*(\d+)\s*(v|variants?)\s*$", re.I)


def parse_budget(text: str | None) -> Budget:
    """`10m`, `90s`, `1.5h` (time) or `40v` / `40 variants` (count); `10m,40v` both."""
    if not text:
        return Budget()
    seconds: float | None = None
    variants: int | None = None
    for part in str(text).split(","):
        if m := _VARIANTS.match(part):
            variants = int(m.group(1))
            if variants < 2:
                raise InputError("--budget", "at least 2 variants (the baseline and one more)")
            continue
        m = _DURATION.match(part)
        if m is None:
            raise InputError("--budget", f"{part.strip()!r} is not a duration (10m, 90s) or a count (40v)")
        unit = (m.group(2) or "s").lower()[0]
        seconds = float(m.group(1)) * {"s": 1.0, "m": 60.0, "h": 3600.0}[unit]
        if seconds <= 0:
            raise InputError("--budget", "the time budget must be positive")
    return Budget(seconds=seconds, variants=variants)


def describe_budget(budget: Budget) -> str:
    parts = []
    if budget.seconds is not None:
        parts.append(f"{budget.seconds:g} s")
    if budget.variants is not None:
        parts.append(f"{budget.variants} variants")
    return " or ".join(parts) or "unbounded"


def as_tuple(values: Any) -> tuple[Any, ...]:
    return tuple(values) if isinstance(values, (list, tuple)) else (values,)
