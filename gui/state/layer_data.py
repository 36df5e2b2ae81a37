"""The per-layer figures both layer views show: one plain object, shared by the tree and the table.

It holds the profile's rows (counted), the latency measured so far per layer (filled in while
a run streams `layer` events), and the roofline projection on the chosen target. It computes
column totals and maxima once per update so that the item models answer `data()` in O(1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gui.fmt import fmt_bytes, fmt_count, fmt_ms, fmt_share
from profiler import units
from profiler.result import LayerRow, Profile

COL_NAME, COL_TYPE, COL_PARAMS, COL_MACS, COL_ACT, COL_LAT, COL_PROJ, COL_SHARE = range(8)
HEADERS = ("Layer", "Type", "Params", "MACs", "Activations", "Latency", "Projected", "Share")
NUMERIC_COLUMNS = (COL_PARAMS, COL_MACS, COL_ACT, COL_LAT, COL_PROJ, COL_SHARE)
HEADER_TIPS = {
    COL_PARAMS: "Parameters of the layer (counted)",
    COL_MACS: "Multiply-accumulates per forward pass (counted; FLOPs = 2 × MACs)",
    COL_ACT: "Activation memory: bytes of the layer's output activations (counted)",
    COL_LAT: "Measured latency: wall-clock time of the layer, measured here with module hooks or the runtime's profiler",
    COL_PROJ: "Projected latency: roofline projection on the target chosen in the Planner tab (projected, not measured)",
    COL_SHARE: "Share of the model's measured latency (of MACs until latency is measured)",
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
        self.recompute()
        return same

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
        return None

    def share_of(self, col: int, value: float | None) -> float | None:
        """`value` as a share of its column's total (the Share column: itself)."""
        if value is None:
            return None
        if col == COL_SHARE:
            return value
        total = self.totals.get(col)
        return value / total if total else None

    def heat_of(self, col: int, value: float | None) -> float:
        """0…1 for the cell colour: the value relative to the column's largest leaf."""
        if value is None:
            return 0.0
        peak = self.maxima.get(col) or 0.0
        return min(1.0, value / peak) if peak > 0 else 0.0

    @staticmethod
    def display(col: int, value: float | None) -> str:
        if col == COL_PARAMS:
            return fmt_count(value)
        if col == COL_MACS:
            return fmt_count(value)
        if col == COL_ACT:
            return fmt_bytes(value)
        if col in (COL_LAT, COL_PROJ):
            return fmt_ms(value)
        if col == COL_SHARE:
            return fmt_share(value)
        return "" if value is None else str(value)

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
        return ""

    def exact(self, col: int, value: float | None) -> str:
        """The exact figure for a tooltip."""
        if value is None:
            return "not available"
        if col in (COL_PARAMS, COL_MACS):
            return f"{int(value):,}"
        if col == COL_ACT:
            return f"{int(value):,} bytes"
        if col in (COL_LAT, COL_PROJ):
            return units.duration_ms(value, 6)
        if col == COL_SHARE:
            return units.percent(value, 3)
        return str(value)

    def tooltip(self, col: int, value: float | None, i: int | None, leaves: list[int] | None = None) -> str:
        """The cell's tooltip: exact figure, provenance, share; for latency also p10–p90 and raw.

        `i` is the row of a layer's cell; `leaves`, for a group's cell, the rows it sums.
        """
        text = f"{HEADERS[col]}: {self.exact(col, value)}\n{self.provenance(col, i)}"
        if col == COL_LAT and value is not None:
            text += self.latency_lines(i, leaves)
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
