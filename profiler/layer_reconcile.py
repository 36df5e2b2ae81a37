"""Per-layer times that add up to end to end: the arithmetic both back-ends share.

A per-layer profiler (torch forward hooks, onnxruntime's profiler) times each layer inside a
forward that it slows down: every layer pays a fixed cost for being timed, and the profiled
forward as a whole runs slower or faster than the plain one measured end to end. Raw rows
therefore do not add up to the end-to-end median, and a layer that does nothing (an 8-byte
Unsqueeze) can show the profiler's own cost as a visible share of the model.

`reconcile` turns per-row, per-run raw samples into rows that sum to the end-to-end median:

1. subtract the profiler's measured per-event floor (the time it reports for a node that does
   nothing), times the number of profiled events that landed on the row, from every sample;
2. cap zero-cost rows (shape arithmetic, views) at that floor: an op on a few bytes cannot
   take longer than a dispatch, so anything above it is scheduling noise of the whole run;
3. scale every row by one factor so the rows' medians sum to the end-to-end median; the time
   the profiler put on no row (nodes the runtime added) is thereby spread proportionally.

The raw median is kept (`RowLatency.raw_ms`), and p10/p90 over the runs go through the same
steps. `note` says in one sentence what was done, for `Profile.layer_latency_note`.

Qt-free and import-light: no torch, no onnx.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from . import units
from .measure import percentile
from .result import LayerRow

__all__ = [
    "NOOP_MODULES_LABEL",
    "SHAPE_OPS_LABEL",
    "Reconciliation",
    "RowLatency",
    "apply_to_rows",
    "is_zero_cost",
    "note",
    "reconcile",
    "shape_ops_scope",
]

#: the scope suffix that folds zero-cost rows together in the app's tree
SHAPE_OPS_LABEL = "(shape ops)"
#: the same for torch modules that do nothing in eval mode (Dropout, Identity, Flatten)
NOOP_MODULES_LABEL = "(no-op modules)"

# Ops that move no data in onnxruntime (views, metadata) whatever their size.
_VIEW_OPS = frozenset({"Identity", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Shape", "Size", "Constant"})
# Ops that are arithmetic on shape tensors when their outputs are tiny (a handful of int64s).
_SHAPE_ARITHMETIC_OPS = frozenset(
    """
    Gather Concat Cast Slice Range Equal Where Expand ConstantOfShape Mul Add Sub Div Not And Or
    Less Greater LessOrEqual GreaterOrEqual ReduceProd Tile NonZero Max Min Mod Neg Abs Floor Ceil
    """.split()
)
# torch modules that do no arithmetic in eval mode.
_TORCH_NOOP_TYPES = frozenset({"Identity", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "Flatten", "Unflatten"})
#: "a handful of int64s": outputs at most this many elements in all count as shape tensors
TINY_ELEMENTS = 64
# Raw and reconciled figures closer than this (relative) are the same figure: no raw kept.
_SAME_REL = 0.005


def _numel(shape: Sequence[int]) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


def is_zero_cost(row: LayerRow) -> bool:
    """True for a row that does no work worth timing: a view, shape metadata, shape arithmetic.

    ONNX: Identity/Reshape/Flatten/Squeeze/Unsqueeze/Shape/Size/Constant always; Gather, Concat,
    Cast, Slice, elementwise … when every output is known and they hold ≤ `TINY_ELEMENTS`
    elements together. torch: Identity, Dropout (eval), Flatten and Unflatten modules.
    """
    op = row.type.split("::")[-1].split(" ")[0]
    if row.macs:
        return False
    if op in _VIEW_OPS or op in _TORCH_NOOP_TYPES and "own ops" not in row.type:
        return True
    if op in _SHAPE_ARITHMETIC_OPS and row.output_shapes:
        return sum(_numel(s) for s in row.output_shapes) <= TINY_ELEMENTS
    return False


def shape_ops_scope(scope: str, label: str = SHAPE_OPS_LABEL) -> str:
    """The scope that folds a zero-cost row with its siblings: "<scope>/(shape ops)"."""
    return f"{scope}/{label}" if scope else label


@dataclass(frozen=True)
class RowLatency:
    """One row's reconciled time and spread (ms), and the profiler's raw median (ms)."""

    latency_ms: float
    raw_ms: float
    p10_ms: float
    p90_ms: float


@dataclass(frozen=True)
class Reconciliation:
    """Reconciled rows and how they were obtained (all times in ms)."""

    rows: dict[str, RowLatency]
    #: the end-to-end median the rows were scaled to (None: not scaled)
    e2e_median_ms: float | None
    #: per profiled event, subtracted before scaling
    overhead_ms: float
    #: the factor applied after the subtraction (1.0 when not scaled)
    scale: float
    #: median per run of the time the profiler reported on no row (spread by the scaling)
    unassigned_ms: float = 0.0
    #: zero-cost rows (capped at the overhead, grouped by `apply_to_rows`)
    zero_cost: frozenset[str] = frozenset()

    @property
    def raw_sum_ms(self) -> float:
        """What the profiler's raw medians add up to, rows and unassigned time together."""
        return sum(r.raw_ms for r in self.rows.values()) + self.unassigned_ms

    @property
    def reconciled_sum_ms(self) -> float:
        return sum(r.latency_ms for r in self.rows.values())


def reconcile(
    samples_ms: Mapping[str, Sequence[float]],
    e2e_median_ms: float | None,
    *,
    overhead_ms: float = 0.0,
    events_per_run: Mapping[str, float] | None = None,
    zero_cost: Collection[str] = (),
    unassigned_ms: float = 0.0,
) -> Reconciliation:
    """Rows from per-row, per-run raw samples (ms), scaled to sum to `e2e_median_ms`.

    `events_per_run[name]` is how many profiled events land on a row in one run (default 1;
    fractional where a fused node's time is split); `overhead_ms` is subtracted that many
    times. Rows in `zero_cost` are capped at `overhead_ms` when it is known (> 0): never above
    what a no-op costs.
    With no end-to-end median, or nothing left after the subtraction, the rows are not scaled
    (`scale` 1.0) but still have the overhead removed.
    """
    events = events_per_run or {}
    zero = frozenset(n for n in zero_cost if n in samples_ms)
    overhead_ms = max(0.0, overhead_ms)

    def adjust(name: str, value_ms: float) -> float:
        v = max(0.0, value_ms - overhead_ms * events.get(name, 1.0))
        return min(v, overhead_ms) if name in zero and overhead_ms > 0 else v

    raw: dict[str, float] = {}
    spread: dict[str, tuple[float, float, float]] = {}
    for name, values in samples_ms.items():
        if not values:
            continue
        raw[name] = statistics.median(values)
        ordered = sorted(adjust(name, v) for v in values)
        spread[name] = (adjust(name, raw[name]), percentile(ordered, 10), percentile(ordered, 90))
    adjusted_sum = sum(s[0] for s in spread.values())
    scaled = e2e_median_ms is not None and e2e_median_ms > 0 and adjusted_sum > 0
    scale = e2e_median_ms / adjusted_sum if scaled and e2e_median_ms is not None else 1.0
    rows = {}
    for name, (mid, lo, hi) in spread.items():
        # The median of adjusted samples and the adjusted median can differ by rounding: keep order.
        rows[name] = RowLatency(
            latency_ms=mid * scale, raw_ms=raw[name], p10_ms=min(lo, mid) * scale, p90_ms=max(hi, mid) * scale
        )
    return Reconciliation(
        rows=rows,
        e2e_median_ms=e2e_median_ms if scaled else None,
        overhead_ms=overhead_ms,
        scale=scale,
        unassigned_ms=unassigned_ms,
        zero_cost=zero,
    )


def _round(value_ms: float) -> float:
    return round(value_ms, 6)


def apply_to_rows(
    rows: tuple[LayerRow, ...], rec: Reconciliation, *, group_zero_cost: bool = True, label: str = SHAPE_OPS_LABEL
) -> tuple[LayerRow, ...]:
    """`rows` with the reconciled latency, the spread and (where it differs) the raw figure.

    Rows the reconciliation does not know keep their latency. With `group_zero_cost`, zero-cost
    rows move to `shape_ops_scope(scope, label)`: still one row per node with its own name, so the
    totals do not change, but the app folds them into one group per scope.
    """
    out = []
    for r in rows:
        t = rec.rows.get(r.name)
        if t is None:
            out.append(r)
            continue
        latency = _round(t.latency_ms)
        raw = _round(t.raw_ms)
        differs = abs(raw - latency) > max(1e-6, _SAME_REL * max(abs(raw), abs(latency)))
        scope = shape_ops_scope(r.scope, label) if group_zero_cost and r.name in rec.zero_cost else r.scope
        out.append(
            dataclasses.replace(
                r,
                latency_ms=latency,
                latency_raw_ms=raw if differs else None,
                latency_p10_ms=_round(t.p10_ms),
                latency_p90_ms=_round(t.p90_ms),
                scope=scope,
            )
        )
    return tuple(out)


def note(rec: Reconciliation, *, profiler: str, extra: Sequence[str] = (), label: str = SHAPE_OPS_LABEL) -> str | None:
    """One sentence for `Profile.layer_latency_note`: how the rows relate to end to end.

    `profiler` names what measured the rows ("onnxruntime's profiler", "forward hooks");
    `extra` clauses are appended ("time under fused nodes split over the rows they replaced").
    None when nothing was changed (no scaling, no overhead, no capping).
    """
    clauses: list[str] = []
    if rec.scale != 1.0 and rec.e2e_median_ms is not None:
        clauses.append(
            f"rows scaled ×{rec.scale:.3g} to the {units.duration_ms(rec.e2e_median_ms)} end-to-end median"
            + (f" after subtracting {_us(rec.overhead_ms)} {profiler} overhead per node" if rec.overhead_ms > 0 else "")
        )
    elif rec.overhead_ms > 0:
        clauses.append(
            f"{_us(rec.overhead_ms)} {profiler} overhead subtracted per node (not scaled: no end-to-end median)"
        )
    if rec.zero_cost:
        capped = " capped at that overhead and" if rec.overhead_ms > 0 else ""
        n = len(rec.zero_cost)
        clauses.append(f"{n} zero-cost row{'s' if n != 1 else ''}{capped} grouped as {label}")
    if rec.unassigned_ms > 0 and rec.raw_sum_ms > 0:
        share = rec.unassigned_ms / rec.raw_sum_ms
        if share >= 0.005:
            clauses.append(
                f"{units.percent(share, 1)} of profiled time was on nodes the runtime added, spread over all rows"
            )
    if rec.e2e_median_ms is not None and not 0.5 <= rec.scale <= 2.0:
        # Far from 1: the machine's load changed between the two timings, or the profiler distorts.
        clauses.append(
            "the per-layer runs and the end-to-end timing disagree by over 2×, so trust shares more than times"
        )
    clauses += list(extra)
    if not clauses:
        return None
    return "; ".join(clauses) + f"; raw {profiler} times in latency_raw_ms, p10–p90 over the profiled runs."


def _us(value_ms: float) -> str:
    return f"{value_ms * 1000:.3g} µs"
