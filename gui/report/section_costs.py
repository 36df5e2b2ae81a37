"""Report section on projected cost: the top 3 options per question — serve at the load, $ per
million inferences, train — each table kept with its chart. The full ranked tables (every
instance of every accelerator) are in the CSV/JSON exports, not in the PDF."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from . import fmt
from .sections_base import (
    SectionBase,
)

#: options per question in the PDF (the exports hold them all)
TOP_OPTIONS = 3
#: accelerators in each cost chart (the cheapest first)
CHART_ACCELERATORS = 6


def usable(o: Any) -> bool:
    """An inference option that can answer: fits, meets the objective, not excluded."""
    return o.excluded_reason is None and o.fits_memory and o.meets_slo


class CostSections(SectionBase):
    """Serving and training cost, top 3 per question (all projected)."""

    def costs(self) -> None:
        if self.pb is None:
            return
        self.doc.keep_together(self._costs_intro)
        self._costs_rest()

    def _costs_intro(self) -> None:
        """The section's heading and method, with the first question's table."""
        d = self.doc
        d.heading("Cost: the top 3 options per question", 1)
        a = self.pb.assumptions
        n_serve = len(self.pb.inference.options)
        n_train = 0 if self.pb.training is None else len(self.pb.training.options)
        d.paragraph(
            f"Every time, throughput and price in this section is projected from the profile with a roofline model over the "
            f"hardware catalog (prices as of {a.get('catalog_oldest_as_of')} to {a.get('catalog_as_of')}); nothing here was measured "
            f"on that hardware. Serving precision {a.get('precision_choice') or a.get('precision')}; "
            f"utilisation {'at most ' if a.get('serve_qps') else ''}{a.get('utilization')}, largest batch {a.get('max_batch')}"
            + (f", objective {fmt.ms(a['slo_ms'])}" if a.get("slo_ms") else "") + (f", {fmt.num(a['serve_qps'])} requests/s" if a.get("serve_qps") else "")
            + f". Only the {TOP_OPTIONS} best options per question are shown: the full ranked tables ({n_serve} serving options"
            + (f", {n_train} training options" if n_train else "") + ", baseline and chosen variant) are in the CSV/JSON exports — "
            "tradeoff report --export-dir DIR, or File → Export data in the app (costs.csv, plan.json; costs-chosen.csv, plan-chosen.json).",
            size=8.5,
        )  # fmt: skip
        shares = self._precision_shares()
        if shares:
            d.paragraph(" ".join(shares), size=8.5)
        primary = self.pc or self.pb
        qps = primary.assumptions.get("serve_qps")
        who = "the chosen variant" if self.pc is not None else "the model"
        if qps:
            top = primary.inference.options[:TOP_OPTIONS]
            self._serving_table(
                f"Serve {fmt.num(qps)} req/s: the {len(top)} cheapest fleets for {who} ($ per month)", top, monthly=True
            )

    def _costs_rest(self) -> None:
        d = self.doc
        primary = self.pc or self.pb
        qps = primary.assumptions.get("serve_qps")
        who = "the chosen variant" if self.pc is not None else "the model"
        by_million = sorted(
            (o for o in primary.inference.options if usable(o) and o.usd_per_million is not None),
            key=lambda o: o.usd_per_million,
        )[:TOP_OPTIONS]

        def table_and_chart() -> None:
            self._serving_table(
                f"$ per million inferences: the {len(by_million)} cheapest for {who}"
                + (" (at capacity, not at the load)" if qps else ""),
                by_million,
                monthly=False,
            )
            self._serving_chart()

        d.keep_together(table_and_chart)
        self.training_costs()

    def _serving_table(self, title: str, options: Sequence[Any], *, monthly: bool) -> None:
        from .layout import Column

        d = self.doc
        d.heading(title, 2)
        other = self.pb if self.pc is not None else None
        base_by_key = {self._key(o): o for o in self.pb.inference.options}
        rows: list[list[str]] = []
        for i, o in enumerate(options):
            self.shown_accelerators.add(o.accelerator)
            bo = base_by_key.get(self._key(o)) if other is not None else None
            ok = "yes" if usable(o) else ("no: memory" if not o.fits_memory else "no: objective")
            band = "—" if not o.uncertainty_fraction else f"±{o.uncertainty_fraction * 100:.0f} %"
            if monthly:
                row = [str(i + 1), f"{o.instance}\n{o.provider} · {o.region}", o.accelerator, o.precision, str(o.batch),
                       str(o.instances_needed or "—"), fmt.ms(o.latency_p90_at_load_ms), fmt.usd(o.usd_per_month)]  # fmt: skip
                if other is not None:
                    row.append(fmt.usd(None if bo is None else bo.usd_per_month))
            else:
                row = [str(i + 1), f"{o.instance}\n{o.provider} · {o.region}", o.accelerator, o.precision, str(o.batch),
                       fmt.ms(o.latency_ms), fmt.usd(o.usd_per_hour), fmt.usd(o.usd_per_million)]  # fmt: skip
                if other is not None:
                    row.append(fmt.usd(None if bo is None else bo.usd_per_million))
            rows.append([*row, band, ok])
        cols = [Column("#", 0.3, "r"), Column("Instance (provider · region)", 2.2, wrap=True), Column("Accelerator", 1.1),
                Column("Prec.", 0.45), Column("Batch", 0.45, "r")]  # fmt: skip
        if monthly:
            cols += [Column("Instances", 0.6, "r"), Column("p90 at the load", 0.8, "r"), Column("$/month", 0.85, "r")]
            if other is not None:
                cols.append(Column("$/month baseline", 0.85, "r"))
        else:
            cols += [Column("Batch time", 0.8, "r"), Column("$/hour", 0.7, "r"), Column("$/M inf.", 0.85, "r")]
            if other is not None:
                cols.append(Column("$/M inf. baseline", 0.85, "r"))
        cols += [Column("Band", 0.45, "r"), Column("Answers", 0.6)]
        if rows:
            d.table(cols, rows, size=7.0, after=3)
        else:
            d.paragraph("No option qualifies (none fits in memory and meets the objective).", size=8.5, italic=True)

    def _serving_chart(self) -> None:
        from .figures import BarSeries
        from .layout import ACCENT, ACCENT2

        accs: dict[str, list[Any]] = {}
        for o in self.pb.inference.options:
            accs.setdefault(o.accelerator, []).append(o)
        chosen_accs: dict[str, list[Any]] = {}
        for o in self.pc.inference.options if self.pc is not None else ():
            chosen_accs.setdefault(o.accelerator, []).append(o)

        def cheapest(opts: Sequence[Any]) -> float | None:
            prices = [o.usd_per_million for o in opts if o.usd_per_million is not None and usable(o)]
            return min(prices) if prices else None

        ranked = sorted(accs, key=lambda k: (cheapest(accs[k]) is None, cheapest(accs[k]) or 0.0))
        order = ranked[:CHART_ACCELERATORS]
        series = [BarSeries("baseline", ACCENT, [cheapest(accs[k]) for k in order])]
        if self.pc is not None:
            series.append(
                BarSeries(
                    f"chosen: {self.chosen.variant.label()}", ACCENT2, [cheapest(chosen_accs.get(k, [])) for k in order]
                )
            )
        more = f"; {len(ranked) - len(order)} more accelerators in the exports" if len(ranked) > len(order) else ""
        self._bars(
            order,
            series,
            "$ per million inferences (projected)",
            f"The {len(order)} cheapest accelerators: their cheapest instance, $ per million inferences (projected){more}.",
        )

    def _bars(self, order: list[str], series: list[Any], xlabel: str, caption: str) -> None:
        from .figures import draw_hbars

        h = 40 + len(order) * (8.0 * len(series) + 3)
        fmt_usd: Callable[[float], str] = lambda v: fmt.usd(v)  # noqa: E731
        self.doc.figure(
            h,
            lambda p, r: draw_hbars(p, r, order, series, fmt=fmt_usd, xlabel=xlabel),
            caption=caption,
            after=4,
        )

    def _precision_shares(self) -> list[str]:
        """One sentence per plan whose serving projection is mixed: the int8 share of MACs, as the
        planner states it (a precision knob converts only some layers, e.g. torch int8 only Linear)."""
        out = []
        for who, plan in (("The baseline", self.pb), ("The chosen variant", self.pc)):
            a = plan.assumptions if plan is not None else {}
            if a.get("quantized_mac_share") is not None and a.get("precision_share"):
                out.append(
                    f"{who} is projected with {a['precision_share']} (the layers its precision knob converted, as measured)."
                )
        return out

    def training_costs(self) -> None:
        d = self.doc
        tr = self.pb.training
        if tr is None:
            d.heading("Train", 2)
            d.paragraph(
                "Not projected: give a training set size (--train-tokens or --train-samples) to add it.",
                size=8.5,
                italic=True,
            )
            return
        size = f"{fmt.num(tr.tokens)} tokens" if tr.tokens is not None else f"{fmt.num(tr.samples)} samples"

        def table_and_chart() -> None:
            self._training_table(size)
            self._training_chart()

        d.keep_together(table_and_chart)

    def _training_table(self, size: str) -> None:
        from .layout import Column

        d = self.doc
        tr = self.pb.training
        ptr = self.pc.training if self.pc is not None else None
        primary = ptr or tr
        d.heading(
            f"Train {'the chosen variant' if ptr is not None else 'the model'}: the {min(TOP_OPTIONS, len(primary.options))} cheapest options",
            2,
        )
        d.paragraph(
            f"On {size} × {fmt.num(tr.epochs)} epoch(s): {fmt.human_count(tr.flops, 'FLOP')} (3 × the counted forward FLOPs)"
            + (f"; 6·N·D = {fmt.human_count(tr.flops_6nd, 'FLOP')}" if tr.flops_6nd is not None else "")
            + ". Time = FLOPs ÷ (GPUs × dense peak × MFU × scaling); cost = time × instances × $/hour. All projected.",
            size=8,
        )
        base_by_key = {self._key(o): o for o in tr.options}
        rows = []
        for i, o in enumerate(primary.options[:TOP_OPTIONS]):
            self.shown_accelerators.add(o.accelerator)
            bo = base_by_key.get(self._key(o))
            row = [str(i + 1), f"{o.instance}\n{o.provider} · {o.region}", o.accelerator, str(o.gpus), f"{o.mfu:.2f}", fmt.hours(o.hours),
                   fmt.usd(o.usd_on_demand)]  # fmt: skip
            if ptr is not None:
                row.append(fmt.usd(None if bo is None else bo.usd_on_demand))
            row += [fmt.usd(o.usd_spot), "yes" if o.fits_memory else "no"]
            rows.append(row)
        cols = [Column("#", 0.3, "r"), Column("Instance (provider · region)", 2.2, wrap=True), Column("Accelerator", 1.1),
                Column("GPUs", 0.45, "r"), Column("MFU", 0.45, "r"), Column("Time", 0.85, "r"), Column("$ on demand", 0.95, "r")]  # fmt: skip
        if ptr is not None:
            cols.append(Column("$ on demand baseline", 0.95, "r"))
        cols += [Column("$ spot", 0.85, "r"), Column("Fits", 0.4)]
        d.table(cols, rows, size=7.0, after=3)

    def _training_chart(self) -> None:
        from .figures import BarSeries
        from .layout import ACCENT, ACCENT2

        tr = self.pb.training
        ptr = self.pc.training if self.pc is not None else None

        def cheapest(opts: Sequence[Any], acc: str) -> float | None:
            prices = [o.usd_on_demand for o in opts if o.accelerator == acc and o.fits_memory]
            return min(prices) if prices else None

        ranked: list[str] = []
        for o in sorted(tr.options, key=lambda o: o.usd_on_demand):
            if o.accelerator not in ranked and o.fits_memory:
                ranked.append(o.accelerator)
        order = ranked[:CHART_ACCELERATORS]
        series = [BarSeries("baseline", ACCENT, [cheapest(tr.options, a) for a in order])]
        if ptr is not None:
            series.append(
                BarSeries(f"chosen: {self.chosen.variant.label()}", ACCENT2, [cheapest(ptr.options, a) for a in order])
            )
        more = f"; {len(ranked) - len(order)} more accelerators in the exports" if len(ranked) > len(order) else ""
        self._bars(
            order,
            series,
            "$ on demand to train (projected)",
            f"The {len(order)} cheapest accelerators to train: their cheapest instance, on-demand $ (projected){more}.",
        )
