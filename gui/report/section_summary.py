"""The report's first page — the decision — and the baseline-vs-chosen details after it.

Page 1: the title, the recommendation (the optimizer's when the report comes from a search, then
the planner's answer), the projected savings of the chosen variant against the baseline, what
was measured here (each measured change with its noise interval; a change inside the noise is
never worded as a gain or a loss), the caveats, and the contents. The next section repeats
every metric with its basis, the configuration and the machine.
"""

from __future__ import annotations

from typing import Any

from . import fmt
from .inputs import Savings, cheapest_serving, cheapest_training, serving_cost
from .sections_base import (
    SectionBase,
)


def fidelity_inputs(profile: Any) -> int | None:
    """How many inputs the fidelity was measured on: the leading dimension of the baseline's first
    input (the samples taken whole, or the profiled batch of random inputs)."""
    inputs = getattr(profile, "inputs", ()) or ()
    if not inputs or not inputs[0].shape:
        return None
    first = inputs[0].shape[0]
    return int(first) if isinstance(first, int) and first > 0 else None


class SummarySection(SectionBase):
    """Page 1 (the decision) and the baseline-vs-chosen details."""

    # --- page 1 -------------------------------------------------------------------------------

    def decision(self) -> None:
        """Page 1: what to do, what it saves, how sure that is, and where the rest of the report is."""
        from .layout import HEAD, MUTED

        d, x, b = self.doc, self.x, self.base
        d.paragraph(x.title, size=11, color=MUTED, after=1)
        d.paragraph(x.model_name, size=22, bold=True, color=HEAD, after=2)
        d.paragraph(
            f"{b.model.source}  ·  format {b.model.format}  ·  {x.created:%A %d %B %Y, %H:%M %Z}".strip(),
            size=9,
            color=MUTED,
            after=4,
        )
        d.heading("Recommendation", 1)
        if self.chosen is not None:
            d.paragraph(f"Chosen variant: {self.chosen.variant.label()} — {x.choice_rule}.", size=9.5, after=3)
        else:
            rule = (x.choice_rule[:1].upper() + x.choice_rule[1:] + ".") if x.choice_rule else ""
            d.paragraph("No variant is compared: the report describes the baseline. " + rule, size=9.5, after=3)
        self.summary_costs()
        if x.optimize is None:  # the optimizer's block already gives the measured change and the front
            self.variants_verdict()
        self.caveats()
        d.contents()

    def caveats(self) -> None:
        """What the reader must know before trusting page 1: the planner's caveats (where it was
        measured, random weights, noise, a busy machine) and what is measured vs projected."""
        d = self.doc
        lines = [c[:1].upper() + c[1:] + "." for c in self.caveat_list()]
        d.heading("Caveats", 2)
        d.bullets(lines, size=8.5)

    def caveat_list(self) -> list[str]:
        from gui import measured_change
        from planner.answer import caveats_of

        b, ch = self.base, self.chosen
        ratio = None if ch is None else getattr(ch, "latency_ratio", None)
        significant = None if ratio is None or ratio.rounds == 0 else bool(ratio.significant)
        profile = self.cprof if self.cprof is not None else b
        out = list(caveats_of(profile, significant))
        if ratio is not None and ratio.rounds and significant:
            out.append(
                f"the measured change is {fmt.ratio(ratio.value)} latency with a {round(100 * ratio.confidence)} % interval of "
                f"{fmt.ratio(ratio.ci_low)}–{fmt.ratio(ratio.ci_high)}; it holds for this machine, not for the projected hardware"
            )
        n = fidelity_inputs(b)
        compared = any(r.fidelity is not None and not measured_change.is_baseline(r) for r in self.x.results)
        if compared and n is not None and n < 32:
            out.append(
                f"fidelity (output cosine, top-1 agreement) was compared on {n} input{'s' if n != 1 else ''} only: it says "
                "little about accuracy on real data (give sample inputs with --inputs)"
            )
        if self.pb is not None:
            out.append(
                "every $ figure, time on catalog hardware and fleet size is projected (roofline over the catalog), not "
                "measured; latency, fidelity and peak memory are measured on this machine; sizes and MACs are counted"
            )
        return out

    def variants_verdict(self) -> None:
        """Every variant measured, in one line each: its measured change (with its interval; a
        change inside the noise reads "≈ no measurable change"), its counted size, its fidelity,
        its projected serving cost, and why it was or was not chosen."""
        from gui import measured_change

        from .inputs import _is_plain_baseline
        from .layout import Column

        x, d = self.x, self.doc
        if x.sweep is None:
            return
        pareto = {id(e.result): e.pareto for e in x.sweep.entries}
        qps = None if self.pb is None else self.pb.assumptions.get("serve_qps")
        rows: list[list[str]] = []
        for r in x.results:
            if _is_plain_baseline(r) or measured_change.is_baseline(r):
                continue
            label = r.variant.label()
            if r.error is not None or r.profile is None:
                rows.append([label, "failed", "—", "—", "—", (r.error or "failed")[:60]])
                continue
            f = r.fidelity
            cos = "—" if f is None else fmt.fidelity(f.cosine)
            if f is not None and f.accuracy is not None:
                cos += f"\naccuracy {fmt.pct(f.accuracy)}"
            plan = x.plans.get(label) if x.plans else None
            cost = serving_cost(plan)
            cost_text = "—" if cost is None else fmt.usd(cost) + ("/month" if qps else " /M inf.")
            if r is self.chosen:
                why = "chosen"
            elif f is not None and f.cosine < x.min_cosine:
                why = f"below the fidelity floor (cosine < {x.min_cosine:g})"
            elif not pareto.get(id(r), False):
                why = "dominated: another variant is at least as good on every axis"
            elif self.chosen is not None:
                why = "not cheaper than the chosen variant (projected)"
            else:
                why = "not chosen"
            bw, vw = self.base.totals.weight_bytes, r.profile.totals.weight_bytes
            size = fmt.ratio(vw / bw) if bw else "—"
            rows.append([label, fmt.speed_change(r, self.base.config.batch), size, cos, cost_text, why])
        if not rows:
            return
        n = fidelity_inputs(self.base)
        on = f", {n} input{'s' if n != 1 else ''}" if n else ""
        d.heading("Every variant measured", 2)
        d.table([Column("Variant", 1.5, wrap=True), Column("Latency vs baseline (measured here, 95 % interval)", 1.6, "r", wrap=True),
                 Column("Size (counted)", 0.6, "r"), Column(f"Output cosine (measured{on})", 1.1, "r", wrap=True),
                 Column("Serving cost (projected)", 1.0, "r", wrap=True), Column("Verdict", 1.7, wrap=True)], rows, size=7.2, after=4)  # fmt: skip

    # --- the details section ------------------------------------------------------------------

    def details(self) -> None:
        """Baseline and chosen variant in detail: configuration, machine, every metric with its
        basis, the small multiples and the findings."""
        from .layout import Column

        d, b = self.doc, self.base
        title = "Baseline and chosen variant in detail" if self.chosen is not None else "The baseline in detail"
        d.heading(title, 1, page_break=True)
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
        d.table([Column("", 1.1), Column("", 4.0, wrap=True)], rows, size=8, after=8, header=False)
        self.summary_table()
        self.summary_bars()
        lines = self.findings()
        if lines:
            d.heading("In short", 2)
            d.bullets(lines, size=9)

    def title_and_summary(self) -> None:
        """The former first page (kept for callers of the old name): the decision and the details."""
        self.decision()
        self.details()

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

        def one_run(text: str) -> str:  # a measured ratio without an interval says so
            return text if text == "—" else f"{text} (one run, no interval)"

        def spread(lat: Any) -> str:
            return "—" if lat is None else f"{fmt.ms(lat.p10)} – {fmt.ms(lat.p90)}"

        n_in = fidelity_inputs(b)
        on = f" on {n_in} input{'s' if n_in != 1 else ''}" if n_in else ""
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
             one_run(change(bt.peak_memory_bytes, None if ct is None else ct.peak_memory_bytes)),
             "measured, one run" if bt.peak_memory_bytes is not None else "not measured"],
            ["Fidelity: output cosine vs baseline", "1 (reference)", fmt.fidelity(None if f is None else f.cosine), "", f"measured{on}"],
            ["Fidelity: top-1 agreement", "1 (reference)", "—" if f is None or f.top1_agreement is None else fmt.pct(f.top1_agreement), "", f"measured{on}"],
            ["Fidelity: max abs error", "0 (reference)", "—" if f is None else fmt.num(f.max_abs_error), "", f"measured{on}"],
        ]  # fmt: skip
        if f is not None and f.accuracy is not None:
            rows.append(
                ["Accuracy on the given labels", fmt.pct(f.baseline_accuracy), fmt.pct(f.accuracy), "", f"measured{on}"]
            )
        if self.chosen is None:  # the baseline alone: no empty columns
            d.table([Column("Metric", 2.6), Column("Baseline", 1.6, "r"), Column("Basis", 1.6, wrap=True)],
                    [[r[0], r[1], r[4]] for r in rows], size=8)  # fmt: skip
            return
        d.table([Column("Metric", 2.6), Column("Baseline", 1.35, "r"), Column("Chosen variant", 1.35, "r"), Column("Chosen ÷ baseline (95 % interval)", 1.3, "r", wrap=True),
                 Column("Basis", 1.0, wrap=True)], rows, size=8)  # fmt: skip

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
        base = result.baseline
        ref = None if base is None or base.fidelity is None else base.fidelity.accuracy
        lines = [f"Why: {rec.why}.", f"Bound by: {rec.bound}.", f"Quality (measured): {quality_text(best, ref)}."]
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
        """Page 1's answer: the optimizer's recommendation (when the report comes from a search),
        the planner's sentence, and the projected costs of baseline and chosen with the savings."""
        from .layout import Column

        d = self.doc
        if self.pb is None:
            d.paragraph("No cost projection in this report (no hardware catalog was given).", size=9, italic=True)
            return
        if self.x.optimize is not None:
            self.optimize_recommendation(self.x.optimize)
        d.paragraph(self.recommendation_lead(), size=9.5, bold=True, after=5)
        sb, sc = cheapest_serving(self.pb), cheapest_serving(self.pc)
        tb, tc = cheapest_training(self.pb), cheapest_training(self.pc)
        chosen = self.chosen is not None
        qps = self.pb.assumptions.get("serve_qps")

        def where(o: Any) -> str:
            if o is None:
                return "no option qualifies"
            count = getattr(o, "instances_needed", None) or getattr(o, "instances", None)
            n = f"{count} × " if count and count > 1 else ""
            return f"{n}{o.accelerator} · {o.provider} {o.instance}"

        def at_load(o: Any) -> str:
            if o is None or o.latency_p90_at_load_ms is None:
                return ""
            return f"\nbatch {o.batch}, {fmt.ms(o.latency_p90_at_load_ms)} p90, {(o.utilization_at_load or 0) * 100:.0f} % utilised"

        def saved(sv: Savings) -> list[str]:
            return [fmt.usd(sv.saved), fmt.saved_pct(sv.saved_fraction)] if chosen else ["—", "—"]

        rows: list[list[str]] = []
        if qps:
            m = Savings(None if sb is None else sb.usd_per_month, None if sc is None else sc.usd_per_month)
            rows.append([f"Serve {fmt.num(qps)} req/s: $ per month", f"{fmt.usd(m.baseline)}\n{where(sb)}{at_load(sb)}",
                         f"{fmt.usd(m.chosen)}\n{where(sc)}{at_load(sc)}" if chosen else "—", *saved(m)])  # fmt: skip
        s = Savings(None if sb is None else sb.usd_per_million, None if sc is None else sc.usd_per_million)
        rows.append([
            "$ per million inferences" + (" at that load" if qps else ""),
            fmt.usd(s.baseline) + ("" if qps else f"\n{where(sb)}"),
            (fmt.usd(s.chosen) + ("" if qps else f"\n{where(sc)}")) if chosen else "—",
            *saved(s),
        ])  # fmt: skip
        if self.pb.training is not None:
            t = Savings(None if tb is None else tb.usd_on_demand, None if tc is None else tc.usd_on_demand)

            def train(o: Any, v: float | None) -> str:
                return f"{fmt.usd(v)} in {fmt.hours(None if o is None else o.hours)}\n{where(o)}"

            rows.append(
                ["Train: $ on demand", train(tb, t.baseline), train(tc, t.chosen) if chosen else "—", *saved(t)]
            )
        else:
            rows.append(["Train", "not projected (no training set size given)", "", "", ""])
        d.heading("What it costs (projected)", 2)
        if chosen:
            d.table([Column("Question", 1.5, wrap=True), Column("Baseline (projected)", 2.2, wrap=True),
                     Column("Chosen variant (projected)", 2.2, wrap=True), Column("Saved (projected)", 0.9, "r"),
                     Column("Change", 0.6, "r")], rows, size=7.5, after=4)  # fmt: skip
        else:  # the baseline stays: its costs alone, no empty columns
            d.table([Column("Question", 1.5, wrap=True), Column("The model, as it is (projected)", 4.4, wrap=True)],
                    [r[:2] for r in rows], size=7.5, after=4)  # fmt: skip

    def recommendation_lead(self) -> str:
        """The planner's recommendation without its caveats (page 1 lists those on their own)."""
        from .inputs import report_recommendation

        return report_recommendation(self.x, caveats=False)

    def summary_bars(self) -> None:
        """Small multiples, baseline vs chosen; the latency pair says when its change is inside the noise."""
        if self.chosen is None:
            return
        from gui import measured_change

        from .figures import draw_summary_bars

        d = self.doc
        qps = None if self.pb is None else self.pb.assumptions.get("serve_qps")
        cost_b, cost_c = serving_cost(self.pb), serving_cost(self.pc)
        cost_label = "$ / month (projected)" if qps else "$ / M inf. (projected)"
        bt, ct = self.base.totals, self.cprof.totals if self.cprof is not None else None
        lat_b, lat_c = self.latency_medians()
        quiet = measured_change.verdict(self.chosen) is None
        lat_note = "≈ no measurable change" if quiet and lat_b is not None and lat_c is not None else None
        items: list[tuple[Any, ...]] = [
            ("Latency (measured)", lat_b, lat_c, "ms", lat_note),
            ("Size (counted)", float(bt.weight_bytes), None if ct is None else float(ct.weight_bytes), "B"),
            ("MACs (counted)", float(bt.macs), None if ct is None else float(ct.macs), "MAC"),
        ]
        if self.pb is not None:
            items.append((cost_label, cost_b, cost_c, "$"))
        if self.pb is not None and self.pb.training is not None:
            tb, tc = cheapest_training(self.pb), cheapest_training(self.pc)
            t2 = Savings(None if tb is None else tb.usd_on_demand, None if tc is None else tc.usd_on_demand)
            items.append(("Training $ (projected)", t2.baseline, t2.chosen, "$"))
        d.figure(
            64,
            lambda p, r: draw_summary_bars(p, r, items),
            caption="Baseline (blue) and chosen variant (orange), each metric scaled to the larger of the two; a latency change "
            "inside the measured noise is labelled as no measurable change.",
        )

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
