"""The per-layer figures both layer views show: one plain object, shared by the tree and the table.

It holds the profile's rows (counted), the latency measured so far per layer (filled in while
a run streams `layer` events), and the roofline projection on the chosen target. It computes
column totals and maxima once per update so that the item models answer `data()` in O(1).

One colour scale per column: a cell's heat is its value's share of the column's model total
(`heat_level`), for a layer and for a group alike, so the darkest cell is the biggest share.
With a reference profile (the baseline, `reference_source`) and a variant on screen, two Δ
columns show the variant minus the baseline per layer (matched by name).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gui.fmt import fmt_bytes, fmt_count, fmt_share
from profiler import units
from profiler.result import LayerRow, Profile

COL_NAME, COL_TYPE, COL_PARAMS, COL_MACS, COL_ACT, COL_LAT, COL_PROJ, COL_SHARE, COL_DLAT, COL_DMACS = range(10)
HEADERS = ("Layer", "Type", "Params", "MACs", "Activations", "Latency", "Projected", "Share", "Δ latency", "Δ MACs")
NUMERIC_COLUMNS = (COL_PARAMS, COL_MACS, COL_ACT, COL_LAT, COL_PROJ, COL_SHARE, COL_DLAT, COL_DMACS)
#: the variant minus the baseline (shown only while a variant other than the baseline is on screen)
DELTA_COLUMNS = (COL_DLAT, COL_DMACS)
#: the column a Δ column compares
DELTA_OF = {COL_DLAT: COL_LAT, COL_DMACS: COL_MACS}
#: a share at or above this is painted at full strength (the scale below it is a square root, so
#: that a 1 % layer still shows while a third of the model reads clearly darker)
HEAT_FULL_SHARE = 0.5


def heat_level(share: float | None) -> float:
    """0…1 colour strength of a cell holding `share` (0…1) of its column's model total: the same
    scale for layers and groups, √(share ÷ 0.5) capped at 1 (50 % → full, 12.5 % → half)."""
    if share is None or not share > 0:
        return 0.0
    return min(1.0, math.sqrt(share / HEAT_FULL_SHARE))


def accelerator_of(label: str) -> str:
    """'H100-SXM' from the planner's projection label 'H100-SXM ±20 % (…)'."""
    return label.split(" ±", 1)[0].split(" (", 1)[0].strip()


HEADER_TIPS = {
    COL_PARAMS: "Parameters of the layer (counted)",
    COL_MACS: "Multiply-accumulates per forward pass (counted; FLOPs = 2 × MACs)",
    COL_ACT: "Activation memory: bytes of the layer's output activations (counted)",
    COL_LAT: "Measured latency: wall-clock time of the layer, measured here with module hooks or the runtime's profiler",
    COL_PROJ: "Projected latency: roofline projection on the target chosen in the Planner tab (projected, not measured)",
    COL_SHARE: "Share of the model's measured latency (of MACs until latency is measured)",
    COL_DLAT: "The variant's measured latency minus the baseline's, per layer (ms), and as a change",
    COL_DMACS: "The variant's MACs minus the baseline's, per layer, and as a change",
}


@dataclass(frozen=True)
class ProjectedLayer:
    """What the roofline says about one layer on the target (all projected)."""

    time_ms: float
    intensity_flops_per_byte: float | None
    bound: str
    flops: float
    bytes: float


class LayerData:
    """Rows of one profile plus live latency and projection; see the module docstring."""

    def __init__(self) -> None:
        self.profile: Profile | None = None
        self.rows: tuple[LayerRow, ...] = ()
        self.index: dict[str, int] = {}
        self.latency_ms: list[float | None] = []
        self.projected: list[ProjectedLayer | None] = []
        self.target_name = ""
        self.latency_origin = "measured"
        self.totals: dict[int, float] = {}
        self.maxima: dict[int, float] = {}
        self._basis = COL_MACS
        #: the baseline the Δ columns compare with (None: the baseline itself is shown)
        self.reference: Profile | None = None
        #: asked on every `set_profile` for the baseline (the window: `Workspace.reference`)
        self.reference_source: Callable[[], Profile | None] | None = None
        self._ref: dict[int, list[float | None]] = {COL_LAT: [], COL_MACS: []}

    def __len__(self) -> int:
        return len(self.rows)

    # -- updates --------------------------------------------------------------------------------

    def set_profile(self, profile: Profile) -> bool:
        """Take `profile`'s rows; True when the layer names are those already shown (no reset needed)."""
        same = [r.name for r in profile.layers] == [r.name for r in self.rows]
        self.profile = profile
        self.rows = profile.layers
        self.index = {r.name: i for i, r in enumerate(self.rows)}
        self.latency_ms = [r.latency_ms for r in self.rows]
        if not same:
            self.projected = [None] * len(self.rows)
        self._set_reference(self.reference_source() if self.reference_source is not None else None)
        self.recompute()
        return same

    def _set_reference(self, ref: Profile | None) -> None:
        """The baseline's rows matched by name; none when `ref` is what is shown or shares no layer."""
        by_name = {} if ref is None or ref is self.profile else {r.name: r for r in ref.layers}
        matched = [by_name.get(r.name) for r in self.rows]
        if not any(m is not None for m in matched):
            self.reference = None
            self._ref = {COL_LAT: [None] * len(self.rows), COL_MACS: [None] * len(self.rows)}
            return
        self.reference = ref
        self._ref = {
            COL_LAT: [None if m is None else m.latency_ms for m in matched],
            COL_MACS: [None if m is None else float(m.macs) for m in matched],
        }

    @property
    def has_reference(self) -> bool:
        """True while the Δ columns have something to show (a variant against its baseline)."""
        return self.reference is not None

    def set_latency(self, name: str, latency_ms: float) -> int | None:
        i = self.index.get(name)
        if i is not None:
            self.latency_ms[i] = latency_ms
        return i

    def set_projection(self, target_name: str, layers: dict[str, ProjectedLayer]) -> None:
        self.target_name = target_name
        self.projected = [layers.get(r.name) for r in self.rows]
        self.recompute()

    def recompute(self) -> None:
        self._basis = COL_LAT if any(v is not None for v in self.latency_ms) else COL_MACS
        cols: dict[int, list[float]] = {c: [] for c in NUMERIC_COLUMNS if c != COL_SHARE}
        for i in range(len(self.rows)):
            for c in cols:
                v = self.raw(i, c)
                if v is not None:
                    cols[c].append(v)
        self.totals = {c: sum(vs) for c, vs in cols.items()}
        self.maxima = {c: max(vs, default=0.0) for c, vs in cols.items()}
        for c, of in DELTA_OF.items():  # a Δ is coloured by its share of the baseline's total
            self.totals[c] = sum(v for v in self._ref.get(of, ()) if v is not None)
        basis = self.share_basis()
        self.totals[COL_SHARE] = 1.0
        self.maxima[COL_SHARE] = self.maxima.get(basis, 0.0) / self.totals[basis] if self.totals.get(basis) else 0.0

    # -- reading --------------------------------------------------------------------------------

    def share_basis(self) -> int:
        """The column "Share" divides: measured latency once any is in, MACs before."""
        return self._basis  # cached by recompute(): raw() asks for it once per cell

    def raw(self, i: int, col: int) -> float | None:
        r = self.rows[i]
        if col == COL_PARAMS:
            return float(r.params)
        if col == COL_MACS:
            return float(r.macs)
        if col == COL_ACT:
            return float(r.activation_bytes)
        if col == COL_LAT:
            return self.latency_ms[i]
        if col == COL_PROJ:
            p = self.projected[i] if i < len(self.projected) else None
            return None if p is None else p.time_ms
        if col == COL_SHARE:
            basis = self.share_basis()
            v, total = self.raw(i, basis), self.totals.get(basis)
            return None if v is None or not total else v / total
        if col in DELTA_OF:
            base = self.base(i, col)
            v = self.raw(i, DELTA_OF[col])
            return None if base is None or v is None else v - base
        return None

    def base(self, i: int, col: int) -> float | None:
        """The baseline's figure that Δ column `col` subtracts, for row `i` (None: no match)."""
        ref = self._ref.get(DELTA_OF.get(col, -1), ())
        return ref[i] if i < len(ref) else None

    def share_of(self, col: int, value: float | None) -> float | None:
        """`value` as a share of its column's total (the Share column: itself; a Δ column: of the
        baseline's total, signed)."""
        if value is None:
            return None
        if col == COL_SHARE:
            return value
        total = self.totals.get(col)
        return value / total if total else None

    def heat_of(self, col: int, value: float | None) -> float:
        """The cell's colour strength: `heat_level` of its share of the column's model total, for
        layers and groups alike (0…1); a Δ column's is signed (−1 faster/smaller … +1)."""
        share = self.share_of(col, value)
        if share is None:
            return 0.0
        if col in DELTA_OF:
            return math.copysign(heat_level(abs(share)), share)
        return heat_level(share)

    def header(self, col: int) -> str:
        """A column's header with its unit, and the accelerator the projection is for."""
        # three short lines: the columns stay narrow enough for the names at 1280 px
        if col == COL_LAT:
            return "Latency\nmeasured\n(ms)"
        if col == COL_PROJ:
            acc = accelerator_of(self.target_name)
            return f"Projected on\n{acc}\n(ms)" if acc else "Projected\n(ms)"
        if col == COL_SHARE:
            return "Share of\nlatency" if self.share_basis() == COL_LAT else "Share of\nMACs"
        if col == COL_DLAT:
            return "Δ latency vs\nbaseline (ms)"
        if col == COL_DMACS:
            return "Δ MACs vs\nbaseline"
        if col == COL_ACT:
            return "Activations\n(bytes)"
        if col == COL_PARAMS:
            return "Params\n(count)"
        if col == COL_MACS:
            return "MACs\n(count)"
        return HEADERS[col] if 0 <= col < len(HEADERS) else ""

    def delta_text(self, col: int, delta: float | None, base: float | None) -> str:
        """A Δ cell: the change against the baseline and the difference, '−23% (−0.120)'."""
        if delta is None:
            return units.DASH
        diff = LayerData.display(col, delta)
        if diff not in ("0", units.DASH) and delta > 0:
            diff = "+" + diff
        if not base:
            return diff
        return f"{units.change((base + delta) / base)} ({diff})"

    @staticmethod
    def display(col: int, value: float | None) -> str:
        """A cell's text through `profiler.units`; times in ms as the header says ('0.0474')."""
        if col in (COL_PARAMS, COL_MACS, COL_DMACS):
            return fmt_count(value)
        if col == COL_ACT:
            return fmt_bytes(value)
        if col in (COL_LAT, COL_PROJ, COL_DLAT):
            if value is None:
                return units.DASH
            return "0" if value == 0 else units.sig(value)
        if col == COL_SHARE:
            return fmt_share(value)
        return "" if value is None else units.number(value)

    def provenance(self, col: int, i: int | None = None) -> str:
        if col in (COL_PARAMS, COL_MACS, COL_ACT):
            if i is not None and col == COL_MACS and not self.rows[i].counted:
                ops = ", ".join(self.rows[i].unsupported_ops)
                return f"counted, incomplete: no FLOP formula for {ops}"
            return "counted (static analysis)"
        if col == COL_LAT:
            method = self.profile.layer_latency_method if self.profile else None
            how = f"measured here ({method})" if method else "measured here"
            if self.latency_note():
                how += ", rows reconciled with the end-to-end median (details pane)"
            return how
        if col == COL_PROJ:
            return f"projected on {self.target_name} (roofline)" if self.target_name else "projected (choose a target)"
        if col == COL_SHARE:
            return (
                "share of measured latency"
                if self.share_basis() == COL_LAT
                else "share of MACs (latency not measured yet)"
            )
        if col in DELTA_OF:
            return "this variant minus the baseline (matched by layer name)"
        return ""

    def exact(self, col: int, value: float | None) -> str:
        """The exact figure for a tooltip."""
        if value is None:
            return "not available"
        if col in (COL_PARAMS, COL_MACS):
            return f"{int(value):,}"
        if col == COL_ACT:
            return f"{int(value):,} bytes"
        if col in (COL_LAT, COL_PROJ, COL_DLAT):
            return units.duration_ms(value, 6)
        if col == COL_SHARE:
            return units.percent(value, 3)
        return units.number(value)

    def tooltip(self, col: int, value: float | None, i: int | None, leaves: list[int] | None = None) -> str:
        """The cell's tooltip: exact figure, provenance, share; for latency also p10–p90 and raw.

        `i` is the row of a layer's cell; `leaves`, for a group's cell, the rows it sums.
        """
        text = f"{HEADERS[col]}: {self.exact(col, value)}\n{self.provenance(col, i)}"
        if col == COL_LAT and value is not None:
            text += self.latency_lines(i, leaves)
        if col in DELTA_OF:
            rows = [i] if i is not None else list(leaves or ())
            bases = [self.base(k, col) for k in rows]
            if value is not None and bases and all(b is not None for b in bases):
                b = sum(b or 0.0 for b in bases)
                text += f"\nbaseline {self.exact(DELTA_OF[col], b)} → {self.exact(DELTA_OF[col], b + value)}"
                if b:
                    text += f" ({units.change((b + value) / b)})"
            return text
        share = self.share_of(col, value) if col != COL_SHARE else None
        if share is not None:
            text += f"\n{units.percent(share, 2)} of the column total"
        return text

    def latency_lines(self, i: int | None, leaves: list[int] | None = None) -> str:
        """Spread over the per-layer runs and the per-layer profiler's raw figure, one line each."""
        rows = [self.rows[i]] if i is not None else [self.rows[k] for k in leaves or ()]
        rows = [r for r in rows if r.latency_ms is not None]
        if not rows:
            return ""
        lines = ""
        lo = [r.latency_p10_ms for r in rows]
        hi = [r.latency_p90_ms for r in rows]
        if all(v is not None for v in lo + hi):
            low, high = sum(v or 0.0 for v in lo), sum(v or 0.0 for v in hi)
            span = f"{units.duration_ms(low)} – {units.duration_ms(high)}"
            lines += (
                f"\np10–p90 over the profiled runs: {span}"
                if i is not None
                else f"\nlayers' p10s – p90s add up to {span}"
            )
        else:
            lines += "\np10–p90: not recorded"
        if any(r.latency_raw_ms is not None for r in rows):
            raw = sum(r.latency_raw_ms if r.latency_raw_ms is not None else (r.latency_ms or 0.0) for r in rows)
            lines += f"\nraw profiler figure: {units.duration_ms(raw, 4)} (reconciled with end to end)"
        return lines

    def latency_note(self) -> str | None:
        """How the latency column relates to end to end (`Profile.layer_latency_note`)."""
        return self.profile.layer_latency_note if self.profile is not None else None

    def details(self, name: str) -> dict[str, Any] | None:
        i = self.index.get(name)
        if i is None:
            return None
        return {
            "row": self.rows[i],
            "latency_ms": self.latency_ms[i],
            "projected": self.projected[i] if i < len(self.projected) else None,
            "latency_note": self.latency_note(),
        }
