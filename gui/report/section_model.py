"""Report sections about the model itself: where the cost is (layers) and the variants explored."""

from __future__ import annotations

from gui import measured_change

from ..theme import LIGHT
from . import fmt
from .sections_base import (
    TOP_LAYERS,
    SectionBase,
    _muted,
)

#: rows timed on a busy machine or with a wide spread: amber, neither gain nor loss (the report
#: is printed on white: the light theme's amber)
WARN = LIGHT.warn


class ModelSections(SectionBase):
    """The layer heatmap and top layers; the variants table and Pareto chart."""

    def layers(self, *, split: bool = False) -> None:
        """The heatmap and the top layers' table, kept on one page (a new one when they do not
        fit); with `split`, the heatmap (with the section's heading) and the table each kept
        whole, so the heatmap can fill the end of the page before (`sections._Report.build`
        chooses)."""
        if split:
            self.doc.keep_together(self._layers_heatmap)
            self.doc.keep_together(self._layers_table)
        else:
            self.doc.keep_together(self._layers)

    def _layers(self) -> None:
        self._layers_heatmap()
        self._layers_table()

    def _layers_heatmap(self) -> None:
        from .figures import HeatRow, draw_heatmap

        d, b = self.doc, self.base
        layers = list(b.layers)
        d.heading("Where the cost is: layers", 1)
        d.paragraph(
            f"{len(layers)} layers of {b.model.name} at {b.config.precision}, batch {b.config.batch}. Parameters, MACs, weight bytes and "
            "output bytes are counted from the model; latency per layer is measured here "
            + (f"({b.layer_latency_method})" if b.layer_latency_method else "(not measured in this run)")
            + ".",
            size=9,
        )
        names = [r.name for r in layers]
        measured = any(r.latency_ms is not None for r in layers)
        rows = [
            HeatRow("Parameters", [float(r.params) for r in layers]),
            HeatRow("MACs", [float(r.macs) for r in layers]),
            HeatRow("Weight bytes", [float(r.weight_bytes) for r in layers]),
            HeatRow("Output bytes", [float(r.activation_bytes) for r in layers]),
            HeatRow(
                "Latency (measured)",
                [r.latency_ms for r in layers] if measured else [],
                note="latency not measured (--no-latency)",
            ),
        ]
        groups: list[tuple[str, int, int]] = []
        for i, r in enumerate(layers):
            g = r.name.split(".")[0] if "." in r.name else (r.scope.split(".")[0] if r.scope else r.name)
            if groups and groups[-1][0] == g:
                groups[-1] = (g, groups[-1][1], i)
            else:
                groups.append((g, i, i))
        d.figure(
            200,
            lambda p, rect: draw_heatmap(p, rect, names, rows, groups),
            caption="Layer heatmap: each cell is the layer's share of the row's total (darker = larger), layers left to right in execution order.",
            min_height_pt=150,  # five rows of cells stay readable at 150 pt
        )

    def _layers_table(self) -> None:
        from .layout import Column

        d, b = self.doc, self.base
        layers = list(b.layers)
        measured = any(r.latency_ms is not None for r in layers)
        by_latency = measured
        key = (lambda r: r.latency_ms or 0.0) if by_latency else (lambda r: r.macs)
        top = sorted(layers, key=key, reverse=True)[:TOP_LAYERS]
        lat_total = sum(r.latency_ms or 0.0 for r in layers)
        macs_total = b.totals.macs
        d.heading(f"Top {len(top)} layers by {'measured latency' if by_latency else 'MACs (latency not measured)'}", 2)
        table_rows = []
        for i, r in enumerate(top, 1):
            table_rows.append([
                str(i), r.name + ("" if r.counted else " *"), r.type, fmt.human_count(r.params), fmt.human_count(r.macs),
                fmt.human_bytes(r.weight_bytes), fmt.human_bytes(r.activation_bytes),
                fmt.ms(r.latency_ms),
                "—" if r.latency_ms is None or not lat_total else fmt.pct(r.latency_ms / lat_total),
                fmt.pct(r.macs / macs_total) if macs_total else "—",
            ])  # fmt: skip
        d.table([Column("#", 0.35, "r"), Column("Layer", 2.6), Column("Type", 1.3), Column("Params", 0.8, "r"), Column("MACs", 0.85, "r"),
                 Column("Weights", 0.85, "r"), Column("Output", 0.85, "r"), Column("Latency (measured)", 1.0, "r"), Column("% time", 0.7, "r"),
                 Column("% MACs", 0.7, "r")], table_rows, size=7.2)  # fmt: skip
        notes = []
        if any(not r.counted for r in layers):
            notes.append(
                "* an op in this layer has no FLOP formula: its MACs are not in the totals ("
                + ", ".join(sorted(b.unsupported_ops))
                + ")."
            )
        if len(layers) > len(top):
            notes.append(
                f"The other {len(layers) - len(top)} layers are in the per-layer export (layers.csv, profile.json)."
            )
        if measured and b.totals.latency_ms is not None and lat_total:
            notes.append(f"Per-layer times sum to {fmt.ms(lat_total)} against {fmt.ms(b.totals.latency_ms.median)} end to end (measured); "
                         "% time is each layer's share of the per-layer sum.")  # fmt: skip
        for n in notes:
            d.paragraph(n, size=7.5, color=_muted())

    # --- variants ----------------------------------------------------------------------------

    def variants(self) -> None:
        """The variants' table and their Pareto chart, kept on one page."""
        self.doc.keep_together(self._variants)

    def _variants(self) -> None:
        from .figures import ScatterPoint, draw_pareto
        from .layout import Column

        d, x = self.doc, self.x
        d.heading("Variants explored", 1)
        if x.sweep is None or not x.sweep.entries:
            d.paragraph(
                "No variant was measured: run `tradeoff report` with lists such as --prune 0,0.5 --precision fp32,int8.",
                size=9,
                italic=True,
            )
            return
        d.paragraph(
            "Each variant was applied to the model and measured on this machine; fidelity compares its outputs with the baseline's on "
            "the same inputs. Pareto-optimal (★): no other variant is at least as good on latency per sample, output cosine and size, "
            f"and better on one. Batch {self.base.config.batch} unless the variant names another. MACs and weights are counted; latency, "
            "its p10–p90 and its change against the baseline at the same batch are measured.",
            size=9,
        )
        from PySide6.QtGui import QColor

        warn = QColor(WARN)
        rows = []
        highlight = []
        colors = {}
        noisy: list[str] = []
        busy = False
        compared = False
        chosen_id = id(self.chosen) if self.chosen is not None else None
        for i, e in enumerate(x.sweep.entries):
            r = e.result
            if id(r) == chosen_id:
                highlight.append(i)
            if r.error is not None or r.profile is None:
                rows.append(["", r.variant.label(), "failed", "", "", "", "", "", (r.error or "")[:80]])
                continue
            t = r.profile.totals
            f = r.fidelity
            compared = compared or (r.latency_ratio is not None and r.latency_ratio.rounds > 0)
            warning = fmt.noise(r) if t.latency_ms is not None else ""
            if warning:  # flagged in the row (amber, ⚠) and spelled out under the table
                colors[i] = warn
                noisy.append(f"{r.variant.label()}: {warning}")
                busy = busy or measured_change.machine_busy(r)
            rows.append([
                "★" if e.pareto else "", r.variant.label() + (" ⚠" if warning else "") + ("  (chosen)" if id(r) == chosen_id else ""),
                fmt.ms(None if t.latency_ms is None else t.latency_ms.median), fmt.spread(t.latency_ms),
                fmt.speed_change(r, self.base.config.batch) if t.latency_ms is not None else fmt.DASH,
                fmt.human_count(t.macs), fmt.human_bytes(t.weight_bytes),
                fmt.fidelity(None if f is None else f.cosine), "—" if f is None or f.top1_agreement is None else fmt.pct(f.top1_agreement),
            ])  # fmt: skip
        d.table([Column("★", 0.3, "c"), Column("Variant", 2.6, wrap=True), Column("Latency (measured)", 0.9, "r"),
                 Column("p10–p90", 1.0, "r"), Column("vs baseline (measured)", 1.5, "r"), Column("MACs", 0.7, "r"),
                 Column("Weights", 0.8, "r"), Column("Cosine (measured)", 0.9, "r"), Column("Top-1 agree", 0.7, "r")],
                rows, size=6.8, highlight=highlight, colors=colors)  # fmt: skip
        if compared:
            d.paragraph(
                "How “vs baseline” was measured: "
                + measured_change.METHOD_NOTE
                + " Each variant's latency and p10–p90 are from its own run beside the baseline.",
                size=7.5,
                color=_muted(),
            )
        if noisy:
            d.paragraph(
                ("⚠ The machine was busy while " if busy else "⚠ Timing was noisy while ")
                + ("these were timed" if len(noisy) == len(x.sweep.entries) else "some of these were timed")
                + f" ({len(noisy)} of {len(x.sweep.entries)} rows, in amber, ⚠): their latency and change are less certain than "
                "the intervals suggest; measure again on an idle machine before relying on them.",
                size=7.5,
                color=warn,
                bold=True,
            )
            d.bullets(noisy[:12], size=7.5, color=warn)
        points = []
        measured = any(
            e.result.profile is not None and e.result.profile.totals.latency_ms is not None for e in x.sweep.entries
        )
        for e in x.sweep.entries:
            r = e.result
            if r.error is not None or r.profile is None:
                continue
            t = r.profile.totals
            lo = hi = None
            if measured:
                if t.latency_ms is None:
                    continue
                per = max(1, r.profile.config.batch)
                xv, lo, hi = t.latency_ms.median / per, t.latency_ms.p10 / per, t.latency_ms.p90 / per
            else:
                xv = float(t.weight_bytes)
            yv = r.fidelity.cosine if r.fidelity is not None else 1.0
            plain = (
                not r.variant.pruned
                and r.variant.precision == "fp32"
                and r.variant.batch is None
                and r.variant.runtime in (None, "torch")
            )
            points.append(
                ScatterPoint(
                    xv, yv, r.variant.label(), e.pareto, baseline=plain, chosen=id(r) == chosen_id, x_lo=lo, x_hi=hi
                )
            )
        xlabel = "latency per sample, ms (measured)" if measured else "weight bytes (counted; latency not measured)"
        from .figures import tick_label

        xf = tick_label if measured else (lambda v: fmt.human_bytes(v))
        d.figure(230, lambda p, rect: draw_pareto(p, rect, points, xlabel=xlabel, ylabel="output cosine vs baseline (measured)", xfmt=xf,
                                                  yfmt=tick_label), min_height_pt=150,
                 caption="Pareto chart: filled orange = Pareto-optimal on latency per sample, output cosine and size (the front is "
                         "three-dimensional, so a dominated point can sit anywhere in this view); hollow = dominated; blue square = "
                         "baseline; ring = chosen; whiskers = each variant's p10–p90 (points whose whiskers overlap are not told "
                         "apart by this measurement).")  # fmt: skip
        notes = sorted({n for e in x.sweep.entries for n in e.result.notes if not n.startswith("identity")})
        if notes:
            d.heading("Notes from the measurements", 2)
            d.bullets(notes[:12], size=7.5)
