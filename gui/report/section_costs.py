"""Report sections on projected cost: serving and training by hardware, and the tables per accelerator."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import fmt
from .sections_base import (
    RANKED_SERVING,
    RANKED_TRAINING,
    SectionBase,
    _muted,
    _precision_of,
)


class CostSections(SectionBase):
    """Serving cost, training cost and the cost tables per hardware (all projected)."""

    def costs(self) -> None:
        from .figures import BarSeries, draw_hbars
        from .layout import ACCENT, ACCENT2, Column

        d = self.doc
        if self.pb is None:
            return
        d.heading("Serving cost by hardware", 1, page_break=True)
        a = self.pb.assumptions
        d.paragraph(
            f"Every time, throughput and price on this page is projected from the profile with a roofline model over the hardware catalog "
            f"(prices as of {a.get('catalog_oldest_as_of')} to {a.get('catalog_as_of')}); nothing here was measured on that hardware. "
            f"Serving precision {a.get('precision_choice') or a.get('precision')}; "
            f"utilisation {'at most ' if a.get('serve_qps') else ''}{a.get('utilization')}, largest batch {a.get('max_batch')}"
            + (f", SLO {fmt.ms(a['slo_ms'])}" if a.get("slo_ms") else "") + (f", {fmt.num(a['serve_qps'])} requests/s" if a.get("serve_qps") else "") + ".",
            size=9,
        )  # fmt: skip
        shares = self._precision_shares()
        if shares:
            d.paragraph(" ".join(shares), size=9)
        primary = self.pc or self.pb
        other = self.pb if self.pc is not None else None
        base_by_key = {self._key(o): o for o in self.pb.inference.options}
        # chart: cheapest per accelerator, baseline vs chosen
        accs: dict[str, list[Any]] = {}
        for o in self.pb.inference.options:
            accs.setdefault(o.accelerator, []).append(o)
        chosen_accs: dict[str, list[Any]] = {}
        for o in self.pc.inference.options if self.pc is not None else ():
            chosen_accs.setdefault(o.accelerator, []).append(o)

        def cheapest(opts: Sequence[Any]) -> float | None:
            prices = [o.usd_per_million for o in opts if o.usd_per_million is not None]
            return min(prices) if prices else None

        order = sorted(accs, key=lambda k: (cheapest(accs[k]) is None, cheapest(accs[k]) or 0.0))
        series = [BarSeries("baseline", ACCENT, [cheapest(accs[k]) for k in order])]
        if self.pc is not None:
            series.append(
                BarSeries(
                    f"chosen: {self.chosen.variant.label()}", ACCENT2, [cheapest(chosen_accs.get(k, [])) for k in order]
                )
            )
        h = min(330.0, 40 + len(order) * (9.5 * len(series) + 3))
        d.figure(
            h,
            lambda p, r: draw_hbars(
                p, r, order, series, fmt=lambda v: fmt.usd(v), xlabel="$ per million inferences (projected)"
            ),
            caption="Cheapest instance per accelerator, $ per million inferences (projected).",
        )
        d.heading(f"Ranked hardware to serve {'the chosen variant' if self.pc is not None else 'the model'}", 2)
        d.paragraph(
            "Ranked as the planner answers: by $ per month to carry the load (the fewest instances within the "
            "objective and the utilisation ceiling)"
            if primary.assumptions.get("serve_qps")
            else "Ranked as the planner answers: by $ per million inferences at the stated utilisation (no load given)",
            size=8.5,
        )
        rows: list[list[str]] = []
        colors: dict[int, Any] = {}  # column → QColor
        for i, o in enumerate(primary.inference.options[:RANKED_SERVING]):
            bo = base_by_key.get(self._key(o)) if other is not None else None
            ok = (
                "yes"
                if o.excluded_reason is None and o.fits_memory and o.meets_slo
                else ("no: memory" if not o.fits_memory else "no: objective")
            )
            row = [str(i + 1), f"{o.instance}\n{o.provider} · {o.region}", o.accelerator, o.precision, str(o.batch), fmt.ms(o.latency_ms),
                   fmt.usd(o.usd_per_million)]  # fmt: skip
            if other is not None:
                row.append(fmt.usd(None if bo is None else bo.usd_per_million))
            band = "—" if not o.uncertainty_fraction else f"±{o.uncertainty_fraction * 100:.0f} %"
            row += [fmt.usd(o.usd_per_month) if o.usd_per_month is not None else "—", band, ok]
            rows.append(row)
        cols = [Column("#", 0.3, "r"), Column("Instance (provider · region)", 2.2, wrap=True), Column("Accelerator", 1.1),
                Column("Prec.", 0.45), Column("Batch", 0.45, "r"), Column("Batch time (projected)", 0.9, "r"),
                Column("$/M inf. (projected)", 0.9, "r")]  # fmt: skip
        if other is not None:
            cols.append(Column("$/M baseline (projected)", 0.9, "r"))
        cols += [Column("$/month (projected)", 0.85, "r"), Column("Band", 0.45, "r"), Column("Answer", 0.6)]
        d.table(cols, rows, size=6.8, colors=colors)
        if len(primary.inference.options) > RANKED_SERVING:
            d.paragraph(f"… {len(primary.inference.options) - RANKED_SERVING} more options in the cost tables per hardware and in the CSV/JSON exports.",
                        size=7.5, color=_muted())  # fmt: skip
        self.training_costs()

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
        from .figures import BarSeries, draw_hbars
        from .layout import ACCENT, ACCENT2, Column

        d = self.doc
        tr = self.pb.training
        if tr is None:
            d.heading("Training cost", 1)
            d.paragraph(
                "Not projected: give a training set size (--train-tokens or --train-samples) to add it.",
                size=9,
                italic=True,
            )
            return
        d.heading("Training cost by hardware", 1, page_break=True)
        size = f"{fmt.num(tr.tokens)} tokens" if tr.tokens is not None else f"{fmt.num(tr.samples)} samples"
        d.paragraph(
            f"Training on {size} × {fmt.num(tr.epochs)} epoch(s): {fmt.num(tr.flops)} FLOPs (3 × the counted forward FLOPs; projected)"
            + (f"; 6·N·D = {fmt.num(tr.flops_6nd)}" if tr.flops_6nd is not None else "")
            + ". Time = FLOPs ÷ (GPUs × dense peak × MFU × scaling); cost = time × instances × $/hour. Every figure is projected.",
            size=9,
        )
        ptr = self.pc.training if self.pc is not None else None
        base_by_key = {self._key(o): o for o in tr.options}

        def cheapest(opts: Sequence[Any], acc: str) -> float | None:
            prices = [o.usd_on_demand for o in opts if o.accelerator == acc and o.fits_memory]
            return min(prices) if prices else None

        order_accs: list[str] = []
        for o in sorted(tr.options, key=lambda o: o.usd_on_demand):
            if o.accelerator not in order_accs and o.fits_memory:
                order_accs.append(o.accelerator)
        series = [BarSeries("baseline", ACCENT, [cheapest(tr.options, a) for a in order_accs])]
        if ptr is not None:
            series.append(
                BarSeries(
                    f"chosen: {self.chosen.variant.label()}", ACCENT2, [cheapest(ptr.options, a) for a in order_accs]
                )
            )
        h = min(300.0, 40 + len(order_accs) * (9.5 * len(series) + 3))
        d.figure(
            h,
            lambda p, r: draw_hbars(
                p, r, order_accs, series, fmt=lambda v: fmt.usd(v), xlabel="$ on demand to train (projected)"
            ),
            caption="Cheapest instance per accelerator to train, on-demand $ (projected).",
        )
        primary = ptr or tr
        d.heading(
            f"Ranked hardware to train {'the chosen variant' if ptr is not None else 'the model'} (cheapest first, projected)",
            2,
        )
        rows = []
        for i, o in enumerate(primary.options[:RANKED_TRAINING]):
            bo = base_by_key.get(self._key(o))
            row = [str(i + 1), f"{o.instance}\n{o.provider} · {o.region}", o.accelerator, str(o.gpus), f"{o.mfu:.2f}", fmt.hours(o.hours),
                   fmt.usd(o.usd_on_demand)]  # fmt: skip
            if ptr is not None:
                row.append(fmt.usd(None if bo is None else bo.usd_on_demand))
            row += [fmt.usd(o.usd_spot), "yes" if o.fits_memory else "no"]
            rows.append(row)
        cols = [Column("#", 0.3, "r"), Column("Instance (provider · region)", 2.2, wrap=True), Column("Accelerator", 1.1),
                Column("GPUs", 0.45, "r"), Column("MFU", 0.45, "r"), Column("Time (projected)", 0.85, "r"), Column("$ on demand (projected)", 0.95, "r")]  # fmt: skip
        if ptr is not None:
            cols.append(Column("$ baseline (projected)", 0.95, "r"))
        cols += [Column("$ spot (projected)", 0.85, "r"), Column("Fits", 0.4)]
        d.table(cols, rows, size=6.8)

    def per_hardware(self) -> None:
        from .figures import BarSeries, draw_hbars
        from .layout import ACCENT, ACCENT2, Column

        d = self.doc
        if self.pb is None:
            return
        d.heading("Cost tables per hardware", 1, page_break=True)
        d.paragraph("For each accelerator in the catalog: every instance offering it, serving cost of the baseline and of the chosen variant, "
                    "and (when projected) training cost. All figures projected.", size=9)  # fmt: skip
        chosen_by_key = {self._key(o): o for o in (self.pc.inference.options if self.pc is not None else ())}
        train_b = {self._key(o): o for o in (self.pb.training.options if self.pb.training is not None else ())}
        groups: dict[str, list[Any]] = {}
        for o in self.pb.inference.options:
            groups.setdefault(o.accelerator, []).append(o)
        for acc, opts in groups.items():
            acc_info = self.x.catalog.accelerator(acc) if self.x.catalog is not None else None
            spec = ""
            if acc_info is not None:
                peak = acc_info.peak_tflops(_precision_of(self.pb))
                spec = (f"{fmt.num(acc_info.memory_gb)} GB, {fmt.num(acc_info.bandwidth_gb_s)} GB/s"
                        + (f", {fmt.num(peak)} TFLOPS dense {self.pb.assumptions.get('precision')}" if peak else "")
                        + (f", {fmt.num(acc_info.tdp_w)} W" if acc_info.tdp_w else ""))  # fmt: skip
            n_rows = len(opts)
            n_series = 2 if self.pc is not None else 1
            # heading + table (two-line rows) + chart + gaps: the section stays on one page
            need = d.pt(26 + 30 + n_rows * 21 + 3 + 34 + n_rows * (8.5 * n_series + 2) + 12)
            d.ensure(min(need, d.bottom - d.top))
            d.heading(f"{acc}" + (f"  —  {spec}" if spec else ""), 2)
            rows = []
            for o in opts:
                co = chosen_by_key.get(self._key(o))
                to = train_b.get(self._key(o))
                row = [f"{o.instance}\n{o.provider} · {o.region}", str(o.gpus_per_instance), fmt.usd(o.usd_per_hour), str(o.batch), fmt.ms(o.latency_ms),
                       fmt.usd(o.usd_per_million)]  # fmt: skip
                if self.pc is not None:
                    row.append(fmt.usd(None if co is None else co.usd_per_million))
                if self.pb.training is not None:
                    row.append(fmt.usd(None if to is None else to.usd_on_demand))
                rows.append(row)
            cols = [Column("Instance (provider · region)", 2.4, wrap=True), Column("GPUs", 0.45, "r"), Column("$/hour", 0.7, "r"),
                    Column("Batch", 0.45, "r"), Column("Latency (projected)", 0.9, "r"), Column("$/M baseline (projected)", 1.0, "r")]  # fmt: skip
            if self.pc is not None:
                cols.append(Column("$/M chosen (projected)", 1.0, "r"))
            if self.pb.training is not None:
                cols.append(Column("Train $ baseline (projected)", 1.0, "r"))
            d.table(cols, rows, size=6.8, after=3)
            cats = [f"{o.provider} {o.instance} ({o.region})" for o in opts]
            series = [BarSeries("baseline", ACCENT, [o.usd_per_million for o in opts])]
            if self.pc is not None:
                series.append(BarSeries("chosen", ACCENT2, [None if chosen_by_key.get(self._key(o)) is None else chosen_by_key[self._key(o)].usd_per_million
                                                            for o in opts]))  # fmt: skip
            h = 34 + len(cats) * (8.5 * len(series) + 2)
            d.figure(
                h,
                lambda p, r, cats=cats, series=series, acc=acc: draw_hbars(
                    p, r, cats, series, fmt=lambda v: fmt.usd(v), xlabel=f"{acc}: $ per million inferences (projected)"
                ),
                after=8,
            )
