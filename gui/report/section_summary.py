"""The report's first page: title, model, environment, the baseline-vs-chosen summary and its findings."""

from __future__ import annotations

from typing import Any

from . import fmt
from .inputs import Savings, cheapest_serving, cheapest_training, serving_cost
from .sections_base import (
    SectionBase,
)


class SummarySection(SectionBase):
    """Title, summary table, cheapest hardware and savings, and the "In short" findings."""

    def title_and_summary(self) -> None:
        from .layout import HEAD, MUTED, font

        d, x, b = self.doc, self.x, self.base
        d.paragraph(x.title, size=11, color=MUTED, after=1)
        d.paragraph(x.model_name, size=24, bold=True, color=HEAD, after=2)
        d.paragraph(
            f"{b.model.source}  ·  format {b.model.format}  ·  {x.created:%A %d %B %Y, %H:%M %Z}".strip(),
            size=9,
            color=MUTED,
            after=6,
        )
        env = b.environment
        cfg = b.config
        inputs_text = ", ".join(f"{i.name} {'×'.join(map(str, i.shape))} {i.dtype}" for i in b.inputs)
        rows = [
            ["Inputs", inputs_text or "—"],
            [
                "Configuration",
                f"{cfg.device} · {cfg.runtime} · {cfg.precision} · batch {cfg.batch} · threads {cfg.threads or 'default'}",
            ],
        ]
        if env is not None:
            rows += [
                [
                    "Machine (measured on)",
                    f"{env.cpu}, {env.cores} cores, {env.threads} threads; GPU: {env.gpu or 'none'}",
                ],
                [
                    "Software",
                    f"torch {env.torch or '—'} · onnxruntime {env.onnxruntime or '—'} · Python {env.python} · {env.os}",
                ],
            ]
        else:
            rows.append(["Machine", "not recorded"])
        from .layout import Column

        d.table([Column("", 1.1), Column("", 4.0, wrap=True)], rows, size=8, after=8, header=False)
        d.heading("Summary", 1)
        if self.chosen is not None:
            d.paragraph(f"Chosen variant: {self.chosen.variant.label()} — {x.choice_rule}.", size=9.5, after=3)
        else:
            rule = (x.choice_rule[:1].upper() + x.choice_rule[1:] + ".") if x.choice_rule else ""
            d.paragraph("No variant is compared: the report describes the baseline. " + rule, size=9.5, after=3)
        self.summary_table()
        self.summary_costs()
        lines = self.findings()
        if lines:
            d.heading("In short", 2)
            d.bullets(lines, size=9)
        _ = font

    def latency_stats(self) -> tuple[Any, Any, str]:
        """(baseline stats, chosen stats, basis) for the latency rows: the interleaved
        experiment's when the chosen variant has one (both sides timed alternately in one run,
        so the two medians can be compared), else each profile's own."""
        cmp = None if self.chosen is None else getattr(self.chosen, "comparison", None)
        if cmp is not None:
            return cmp.baseline_ms, cmp.variant_ms, "alternated"
        bt = self.base.totals.latency_ms
        ct = None if self.cprof is None else self.cprof.totals.latency_ms
        return bt, ct, "measured" if bt is not None else "not measured"

    def latency_medians(self) -> tuple[float | None, float | None]:
        b, c, _ = self.latency_stats()
        return (None if b is None else b.median), (None if c is None else c.median)

    def summary_table(self) -> None:
        from .layout import Column

        d, b, c = self.doc, self.base, self.cprof
        bt = b.totals
        ct = None if c is None else c.totals
        f = None if self.chosen is None else self.chosen.fidelity
        stats_b, stats_c, lat_basis = self.latency_stats()
        lat_b = None if stats_b is None else stats_b.median
        lat_c = None if stats_c is None else stats_c.median

        def change(vb: float | None, vc: float | None) -> str:
            return fmt.ratio(vc / vb) if vb and vc is not None else "—"

        def spread(lat: Any) -> str:
            return "—" if lat is None else f"{fmt.ms(lat.p10)} – {fmt.ms(lat.p90)}"

        # Latency's change is the interleaved experiment's (with its interval), never two medians.
        lat_change = "—" if self.chosen is None else fmt.speed_change(self.chosen, b.config.batch)
        rows = [
            ["Latency, median per call", fmt.ms(lat_b), fmt.ms(lat_c), lat_change, lat_basis],
            ["Latency p10 – p90", spread(stats_b), spread(stats_c), "", lat_basis],
            ["Batch", str(b.config.batch), "—" if c is None else str(c.config.batch), "", "configured"],
            ["Parameters", fmt.human_count(bt.params), fmt.human_count(None if ct is None else ct.params), change(bt.params, None if ct is None else ct.params), "counted"],
            ["Size (weights + buffers)", fmt.human_bytes(bt.weight_bytes), fmt.human_bytes(None if ct is None else ct.weight_bytes),
             change(bt.weight_bytes, None if ct is None else ct.weight_bytes), "counted"],
            ["MACs per forward", fmt.human_count(bt.macs, "MAC"), fmt.human_count(None if ct is None else ct.macs, "MAC"),
             change(bt.macs, None if ct is None else ct.macs), "counted"],
            ["FLOPs per forward (2 × MACs)", fmt.human_count(bt.flops, "FLOP"), fmt.human_count(None if ct is None else ct.flops, "FLOP"), "", "counted"],
            ["Peak memory", fmt.human_bytes(bt.peak_memory_bytes), fmt.human_bytes(None if ct is None else ct.peak_memory_bytes),
             change(bt.peak_memory_bytes, None if ct is None else ct.peak_memory_bytes), "measured" if bt.peak_memory_bytes is not None else "not measured"],
            ["Fidelity: output cosine vs baseline", "1 (reference)", fmt.fidelity(None if f is None else f.cosine), "", "measured"],
            ["Fidelity: top-1 agreement", "1 (reference)", "—" if f is None or f.top1_agreement is None else fmt.pct(f.top1_agreement), "", "measured"],
            ["Fidelity: max abs error", "0 (reference)", "—" if f is None else fmt.num(f.max_abs_error), "", "measured"],
        ]  # fmt: skip
        if f is not None and f.accuracy is not None:
            rows.append(
                ["Accuracy on the given labels", fmt.pct(f.baseline_accuracy), fmt.pct(f.accuracy), "", "measured"]
            )
        label = "Chosen variant" if self.chosen is not None else "Chosen (none)"
        d.table([Column("Metric", 2.6), Column("Baseline", 1.35, "r"), Column(label, 1.35, "r"), Column("Chosen ÷ baseline", 1.0, "r"),
                 Column("Basis", 0.9)], rows, size=8)  # fmt: skip

    def recommendation(self) -> str:
        """The planner's recommendation, as `tradeoff report` prints it (inputs.report_recommendation)."""
        from .inputs import report_recommendation

        return report_recommendation(self.x)

    def optimize_recommendation(self, result: Any) -> None:
        """The optimizer's answer (planner/optimize): the variant, why it won, what bound it, and
        the cost–quality front it was chosen from (costs projected, quality measured here)."""
        from planner.optimize.result import quality_text

        from .layout import Column

        d = self.doc
        rec, best = result.recommendation, result.recommended
        if rec is None or best is None:
            d.paragraph(f"The optimizer found no recommendation: {result.stopped_because}.", size=9.5, after=3)
            return
        d.paragraph(
            f"Optimized for the {result.objective}, keeping {result.floor.describe()}: "
            f"{rec.label}{' (the baseline stays)' if rec.is_baseline else ''}.",
            size=10, bold=True, after=2,
        )  # fmt: skip
        lines = [f"Why: {rec.why}.", f"Bound by: {rec.bound}.", f"Quality (measured): {quality_text(best)}."]
        lr = best.latency_ratio
        if lr is not None and not rec.is_baseline:
            verdict = "" if lr.significant else " — no measurable change"
            lines.append(
                f"Latency here (measured, interleaved with the baseline): {lr.value:.3f}× "
                f"[{lr.ci_low:.3f}, {lr.ci_high:.3f}], {round(100 * lr.confidence)} % interval{verdict}."
            )
        m = result.measurements
        lines.append(
            f"Searched {len(result.trials)} variants ({m.screened} screened, {m.timed} timed) of a space whose exhaustive "
            f"grid is {m.grid_size}; stopped: {result.stopped_because}."
        )
        d.bullets(lines, size=8.5)
        rows = []
        for i in result.pareto[:6]:
            t = result.trials[i]
            cost = fmt.usd(t.cost.value) + ("/month" if result.basis == "usd_per_month" else " /M")
            fleet = f"{t.cost.instances or 1} × {t.cost.instance}" if t.cost.instance else "—"
            mark = "recommended" if i == rec.trial else ("" if t.feasible else "below the floor")
            rows.append([t.label, quality_text(t), cost, fleet, mark])
        if rows:
            d.table([Column("Pareto front: variant", 3.2, wrap=True), Column("Quality (measured)", 1.3),
                     Column("Cost (projected)", 1.2, "r"), Column("Fleet", 1.3), Column("", 1.0)], rows, size=7.5, after=4)  # fmt: skip

    def summary_costs(self) -> None:
        from .layout import HEAD, Column

        d = self.doc
        if self.pb is None:
            d.paragraph("No cost projection in this report (no hardware catalog was given).", size=9, italic=True)
            return
        d.heading("Recommendation", 2)
        if self.x.optimize is not None:
            self.optimize_recommendation(self.x.optimize)
        d.paragraph(self.recommendation(), size=9.5, after=4)
        sb, sc = cheapest_serving(self.pb), cheapest_serving(self.pc)
        tb, tc = cheapest_training(self.pb), cheapest_training(self.pc)
        chosen = self.chosen is not None
        qps = self.pb.assumptions.get("serve_qps")

        def where(o: Any) -> str:
            if o is None:
                return "—"
            count = getattr(o, "instances_needed", None) or getattr(o, "instances", None)
            n = f"{count} × " if count and count > 1 else ""
            return f"{n}{o.accelerator} · {o.provider} {o.instance}"

        def saved(sv: Savings) -> list[str]:
            return [fmt.usd(sv.saved), fmt.saved_pct(sv.saved_fraction)] if chosen else ["—", "—"]

        rows: list[list[str]] = []
        rows.append(["Serve: the answer", where(sb), where(sc) if chosen else "—", "", ""])
        if qps:
            m = Savings(None if sb is None else sb.usd_per_month, None if sc is None else sc.usd_per_month)
            rows.append([f"Serve {fmt.num(qps)} req/s: $ per month", fmt.usd(m.baseline),
                         fmt.usd(m.chosen) if chosen else "—", *saved(m)])  # fmt: skip

            def at_load(o: Any) -> str:
                if o is None:
                    return "—"
                return (
                    f"batch {o.batch}, {fmt.ms(o.latency_p90_at_load_ms)} p90, "
                    f"{(o.utilization_at_load or 0) * 100:.0f} % utilised"
                )

            rows.append(["Serve: at that load", at_load(sb), at_load(sc) if chosen else "—", "", ""])
        s = Savings(None if sb is None else sb.usd_per_million, None if sc is None else sc.usd_per_million)
        rows.append([
            "Serve: $ per million inferences" + (" (at that load)" if qps else ""), fmt.usd(s.baseline),
            fmt.usd(s.chosen) if chosen else "—", *(saved(s) if not qps else ["", ""]),
        ])  # fmt: skip
        if self.pb.training is not None:
            t = Savings(None if tb is None else tb.usd_on_demand, None if tc is None else tc.usd_on_demand)
            rows.append(["Train: the answer", where(tb), where(tc) if chosen else "—", "", ""])
            rows.append(["Train: $ on demand", fmt.usd(t.baseline), fmt.usd(t.chosen) if chosen else "—", *saved(t)])
            rows.append(["Train: time", fmt.hours(None if tb is None else tb.hours),
                         fmt.hours(None if tc is None else tc.hours) if chosen else "—", "", ""])  # fmt: skip
        else:
            rows.append(["Train", "not projected (no training set size given)", "", "", ""])
        d.heading("Serving and training cost (all projected)", 2)
        d.table([Column("Cost", 1.6, wrap=True), Column("Baseline (projected)", 2.0, "r", wrap=True), Column("Chosen variant (projected)", 2.2, "r", wrap=True),
                 Column("Saved (projected)", 0.8, "r"), Column("Change", 0.6, "r")], rows, size=7.5)  # fmt: skip
        cost_b, cost_c = serving_cost(self.pb), serving_cost(self.pc)
        cost_label = "$ / month (projected)" if qps else "$ / M inf. (projected)"
        # small multiples: baseline vs chosen
        if self.chosen is not None:
            from .figures import draw_summary_bars

            bt, ct = self.base.totals, self.cprof.totals if self.cprof is not None else None
            items = [
                ("Latency (measured)", *self.latency_medians(), "ms"),
                ("Size (counted)", float(bt.weight_bytes), None if ct is None else float(ct.weight_bytes), "B"),
                ("MACs (counted)", float(bt.macs), None if ct is None else float(ct.macs), "MAC"),
                (cost_label, cost_b, cost_c, "$"),
            ]
            if self.pb.training is not None:
                t2 = Savings(None if tb is None else tb.usd_on_demand, None if tc is None else tc.usd_on_demand)
                items.append(("Training $ (projected)", t2.baseline, t2.chosen, "$"))
            d.figure(
                64,
                lambda p, r: draw_summary_bars(p, r, items),
                caption="Baseline (blue) and chosen variant (orange), each metric scaled to the larger of the two.",
            )
        _ = HEAD

    def findings(self) -> list[str]:
        out: list[str] = []
        b, c = self.base, self.cprof
        lat_b, lat_c = self.latency_medians()
        if self.chosen is not None and c is not None:
            f = self.chosen.fidelity
            parts = [
                f"{self.chosen.variant.label()} has {fmt.ratio(c.totals.params / b.totals.params if b.totals.params else None)} the parameters "
                f"and {fmt.ratio(c.totals.weight_bytes / b.totals.weight_bytes if b.totals.weight_bytes else None)} the size of the baseline"
            ]
            if lat_b and lat_c is not None:
                change = fmt.speed_change(self.chosen, b.config.batch)
                noise = fmt.noise(self.chosen)
                parts.append(
                    f"runs in {fmt.ms(lat_c)} per call against {fmt.ms(lat_b)} (measured here, batch {c.config.batch} vs {b.config.batch}"
                    + (f": {change} when timed alternately with it" if change not in ("—", "baseline") else "")
                    + (f"; {noise}" if noise else "")
                    + ")"
                )
            if f is not None:
                parts.append(f"and agrees with it at output cosine {fmt.fidelity(f.cosine)} (measured)")
            out.append(", ".join(parts) + ".")
        return out
