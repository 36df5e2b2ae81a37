"""The report's last section: assumptions and method, price dates and sources, warnings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import fmt
from .inputs import cheapest_serving, cheapest_training
from .sections_base import (
    SectionBase,
    _muted,
)

#: characters of an assumption's value shown in the PDF (the exports' plan.json holds all of it)
LONG_VALUE = 320


class AssumptionSections(SectionBase):
    """What is measured, counted and projected; the plan assumptions; price sources."""

    def assumptions(self) -> None:
        """The method and the numbers behind the projection; flows on after the cost section (its
        heading kept with the first bullets), its long tables splitting across pages as tables do."""
        self.doc.keep_together(self._method)
        self._assumption_tables()

    def _method(self) -> None:
        d, b = self.doc, self.base
        d.heading("Assumptions and method", 1)
        d.heading("What is measured, counted and projected", 2)
        lat = b.totals.latency_ms
        d.bullets([
            "Measured on this machine: end-to-end latency (median, p10, p90 of "
            + (f"{lat.samples} timed runs" if lat is not None else "timed runs — not taken in this report (--no-latency)")
            + "), per-layer latency (" + (b.layer_latency_method or "not measured") + "), peak memory, and every variant's latency and output fidelity "
            "(cosine, max error, top-1 agreement) against the baseline on the same inputs.",
            "Counted from the model (not timed): parameters (tied weights once), MACs and FLOPs (2 FLOPs per multiply-accumulate, counted at the "
            "aten level), weight and activation bytes.",
            "Projected (never measured here): every latency, throughput, $ figure, energy and time on catalog hardware — a roofline model per layer "
            "(max of compute time and memory time, plus a fixed cost per kernel) with the efficiencies below; training time from FLOPs and MFU.",
        ], size=8.5)  # fmt: skip

    def _assumption_tables(self) -> None:
        from .layout import Column

        d, b = self.doc, self.base
        if self.pb is None:
            return
        a = self.pb.assumptions
        rows: list[list[str]] = []
        mfu = a.get("mfu")
        rows.append(["MFU (training)", f"{mfu:g} (set)" if mfu is not None else
                     "default per class: " + ", ".join(f"{k} {v:g}" for k, v in (a.get("mfu_default_by_class") or {}).items())])  # fmt: skip
        rows.append(["Utilisation when serving", f"{a.get('utilization')}"])
        for cls, eff in (a.get("efficiency_by_class") or {}).items():
            rows.append([f"Efficiency, {cls} class", f"compute {eff.get('compute'):g} of peak FLOPS · memory {eff.get('memory'):g} of peak bandwidth · "
                         f"{eff.get('kernel_overhead_us'):g} µs per kernel"])  # fmt: skip
        labels = {
            "precision": "Serving precision", "train_precision": "Training precision", "pue": "PUE", "power_fraction": "Power drawn (fraction of TDP)",
            "memory_usable_fraction": "Usable fraction of accelerator memory", "hours_per_month": "Hours per month", "max_batch": "Largest serving batch",
            "slo_ms": "Latency objective (ms)", "serve_qps": "Requests per second", "profiled_batch": "Profiled batch",
            "profiled_precision": "Profiled precision", "params": "Parameters (baseline)", "forward_flops": "Forward FLOPs (baseline, counted)",
            "tensor_parallel": "Tensor parallelism", "queueing": "Queueing", "train_flops_per_forward": "Training FLOPs per forward FLOP",
            "causal_attention_halved": "Causal attention halved", "adam_bytes_per_param": "Training bytes per parameter (weights, grads, Adam)",
            "micro_batch": "Training micro-batch", "scaling_per_doubling": "Scaling efficiency per doubling of nodes", "epochs": "Epochs",
            "train_tokens": "Training tokens", "train_samples": "Training samples", "catalog_as_of": "Newest price date", "catalog_oldest_as_of": "Oldest price date",
        }  # fmt: skip
        for key, label in labels.items():
            if key in a and a[key] is not None:
                v = a[key]
                rows.append([label, fmt.value(v)])
        shown = set(labels) | {"mfu", "mfu_default_by_class", "efficiency_by_class", "utilization"}
        for key, v in a.items():
            if key in shown or v is None or key in ("catalog_files", "filters"):
                continue
            rows.append([key.replace("_", " ").capitalize(), fmt.value(v)])
        filters = a.get("filters") or {}
        active = {k: v for k, v in filters.items() if v}
        rows.append(["Catalog filters", ", ".join(f"{k}: {v}" for k, v in active.items()) if active else "none"])
        d.heading("Numbers the projection used (tradeoff.plan/1 assumptions)", 2)
        # short values two pairs to a row (half the height); long ones (explanations) one to a row
        short = [r for r in rows if len(r[1]) <= 40]
        long = [r for r in rows if len(r[1]) > 40]
        half = (len(short) + 1) // 2
        paired = [[*short[i], *(short[i + half] if i + half < len(short) else ["", ""])] for i in range(half)]
        d.table([Column("Assumption", 1.5, wrap=True), Column("Value", 1.3, wrap=True), Column("Assumption", 1.5, wrap=True),
                 Column("Value", 1.3, wrap=True)], paired, size=7.0, after=2)  # fmt: skip
        if long:  # explanations and per-class tables: their start here, the whole in plan.json
            cut = [
                [k, v if len(v) <= LONG_VALUE else v[: LONG_VALUE - 1].rsplit(" ", 1)[0] + " … (in full in plan.json)"]
                for k, v in long
            ]
            d.table(
                [Column("Assumption", 1.5, wrap=True), Column("Value", 4.1, wrap=True)], cut, size=7.0, header=False
            )
        d.heading("Price dates and sources", 2)
        self.sources()
        warnings = list(self.pb.warnings) + list(b.warnings)
        if warnings:
            d.heading("Warnings", 2)
            d.bullets(sorted(set(warnings))[:20], size=7.5)

    def sources(self) -> None:
        from .layout import Column

        d = self.doc
        used = {self._key(o) for o in self.pb.inference.options}
        cat = self.x.catalog
        if cat is None:
            d.paragraph("Catalog files: " + ", ".join(self.pb.assumptions.get("catalog_files") or []), size=8)
            return
        by_source: dict[str, list[Any]] = {}
        for inst in cat.instances:
            if (inst.provider, inst.instance, inst.region) in used:
                by_source.setdefault(inst.source, []).append(inst)
        rows = []
        for src, insts in sorted(by_source.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            dates = sorted({i.as_of for i in insts})
            providers = sorted({i.provider for i in insts})
            rows.append(
                [
                    ", ".join(providers),
                    str(len(insts)),
                    dates[0] if len(dates) == 1 else f"{dates[0]} – {dates[-1]}",
                    src,
                ]
            )
        d.table(
            [
                Column("Provider", 0.9),
                Column("Rows", 0.4, "r"),
                Column("As of", 1.05),
                Column("Source of the prices", 4.2, wrap=True),
            ],
            rows,
            size=7,
        )
        # the specifications of the accelerators this report's tables name (the answers, the top
        # options); the exports' plan.json carries every row's origin
        acc_names = set(self.shown_accelerators) or {o.accelerator for o in self.pb.inference.options}
        for plan in (self.pb, self.pc):
            for o in (cheapest_serving(plan), cheapest_training(plan)):
                if o is not None:
                    acc_names.add(o.accelerator)
        arows = []
        for acc in cat.accelerators:
            if acc.name in acc_names:
                arows.append([acc.name, acc.as_of, acc.source])
        if arows:
            d.table(
                [
                    Column("Accelerator", 1.0),
                    Column("Specs as of", 0.8),
                    Column("Source of the specifications", 4.8, wrap=True),
                ],
                arows,
                size=6.5,
            )
        d.paragraph("Catalog files: " + ", ".join(Path(f).name for f in cat.files), size=7.5, color=_muted())
