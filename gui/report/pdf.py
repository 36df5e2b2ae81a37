"""The cost report PDF: QPdfWriter + QPainter, real text, vector charts, page numbers, A4/Letter.

`render_report_pdf(inputs, path, page_size="a4")` lays out the sections below and writes the
file atomically (a temporary file in the destination folder, then `os.replace`); an unwritable
destination raises InputError and leaves nothing behind. Works headless: a QGuiApplication is
created when none exists (QT_QPA_PLATFORM=offscreen needs no display).

Sections: title, model, date and environment, and the one-page summary (baseline vs the chosen
variant; cheapest hardware to serve and to train; savings) · where the cost is (layer heatmap,
top-20 layers) · variants explored (table, Pareto chart) · serving and training cost (ranked
hardware, charts) · cost per hardware (a table and a chart per accelerator) · assumptions and
method (what is measured, counted or projected; MFU, utilisation, efficiencies; price dates and
sources).

Every number comes from the core's objects (Profile, VariantResult, Sweep, Plan, Catalog);
the report only formats them and compares baseline with chosen (gui.report.inputs.Savings).
"""

from __future__ import annotations

import gc
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from profiler.errors import InputError

from . import fmt
from .inputs import ReportInputs, Savings, cheapest_monthly, cheapest_serving, cheapest_training

TOP_LAYERS = 20
RANKED_SERVING = 12
RANKED_TRAINING = 10


def ensure_gui_application() -> Any:
    """The running Qt application, or a new QApplication (offscreen when there is no display).
    A QApplication rather than a bare QGuiApplication, so widgets can still be made later in
    the same process (the app, pytest-qt) — Qt allows one application object per process."""
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication

    from .qt_compat import protect_none_refcount

    protect_none_refcount()
    app = QCoreApplication.instance()
    if app is None:
        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QApplication(["tradeoff-report"])
    from PySide6.QtGui import QGuiApplication

    if not isinstance(app, QGuiApplication):
        raise RuntimeError("a QCoreApplication runs in this process: painting a PDF needs a QGuiApplication")
    return app


def render_report_pdf(inputs: ReportInputs, path: str | os.PathLike[str], *, page_size: str = "a4") -> int:
    """Lay out and write the report to `path`; returns the number of pages."""
    dest = Path(path)
    if page_size.lower() not in ("a4", "letter"):
        raise InputError("--page-size", f"{page_size!r} is not a4 or letter")
    if dest.is_dir():
        raise InputError(str(path), "is a folder: name the PDF file to write")
    from profiler.safe_io import atomic_output

    ensure_gui_application()
    # a temporary beside the PDF, renamed over it when complete (written in place to a FIFO or
    # a device, honouring the umask); removed on any failure
    with atomic_output(dest) as tmp:
        return _render_to(inputs, str(tmp), page_size)


def _render_to(inputs: ReportInputs, path: str, page_size: str) -> int:
    from profiler import __version__

    from .layout import Doc, make_writer

    title = f"{inputs.title}: {inputs.model_name}"
    writer = make_writer(path, page_size, title=title, creator=f"Tradeoff Studio {__version__}")
    date = inputs.created.strftime("%Y-%m-%d %H:%M %Z").strip()
    doc = Doc(
        writer, header=f"{title} · {date}", footer_left=f"Tradeoff Studio {__version__} · {inputs.created:%Y-%m-%d}"
    )
    try:
        _Report(doc, inputs).build()
        pages = doc.paint()
    finally:
        # Drop every Qt object (fonts and colours in the page closures, the writer) now, while
        # the application exists: left to interpreter exit, PySide6 may free them after it.
        doc.pages.clear()
        doc.writer = None  # type: ignore[assignment]  # released while the application exists
        del doc
        del writer  # flushes and closes the file
        gc.collect()
    return pages


# ------------------------------------------------------------------------------------------


def _measured_latency(profile: Any) -> float | None:
    lat = profile.totals.latency_ms if profile is not None else None
    return None if lat is None else lat.median


class _Report:
    def __init__(self, doc: Any, inputs: ReportInputs) -> None:
        self.doc = doc
        self.x = inputs
        self.base = inputs.baseline
        self.chosen = inputs.chosen
        self.cprof = None if inputs.chosen is None else inputs.chosen.profile
        self.pb = inputs.plan_baseline
        self.pc = inputs.plan_chosen

    def build(self) -> None:
        self.title_and_summary()
        self.layers()
        self.variants()
        self.costs()
        self.per_hardware()
        self.assumptions()

    # --- title and summary -------------------------------------------------------------------

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

    def summary_table(self) -> None:
        from .layout import Column

        d, b, c = self.doc, self.base, self.cprof
        bt = b.totals
        ct = None if c is None else c.totals
        f = None if self.chosen is None else self.chosen.fidelity
        lat_b, lat_c = _measured_latency(b), _measured_latency(c)

        def change(vb: float | None, vc: float | None) -> str:
            return fmt.ratio(vc / vb) if vb and vc is not None else "—"

        def spread(t: Any) -> str:
            lat = None if t is None else t.latency_ms
            return "—" if lat is None else f"{fmt.ms(lat.p10)} – {fmt.ms(lat.p90)}"

        lat_basis = "measured" if lat_b is not None else "not measured"
        rows = [
            ["Latency, median per call", fmt.ms(lat_b), fmt.ms(lat_c), change(lat_b, lat_c), lat_basis],
            ["Latency p10 – p90", spread(bt), spread(ct), "", lat_basis],
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

    def summary_costs(self) -> None:
        from .layout import HEAD, Column

        d = self.doc
        if self.pb is None:
            d.paragraph("No cost projection in this report (no hardware catalog was given).", size=9, italic=True)
            return
        sb, sc = cheapest_serving(self.pb), cheapest_serving(self.pc)
        tb, tc = cheapest_training(self.pb), cheapest_training(self.pc)

        def where(o: Any) -> str:
            return "—" if o is None else f"{o.accelerator} · {o.provider} {o.instance}"

        rows: list[list[str]] = []
        s = Savings(None if sb is None else sb.usd_per_million, None if sc is None else sc.usd_per_million)
        rows.append(["Serve: cheapest instance", where(sb), where(sc) if self.chosen is not None else "—", "", ""])
        rows.append(["Serve: $ per million inferences", fmt.usd(s.baseline), fmt.usd(s.chosen) if self.chosen is not None else "—",
                     fmt.usd(s.saved) if self.chosen is not None else "—", fmt.saved_pct(s.saved_fraction) if self.chosen is not None else "—"])  # fmt: skip
        mb, mc = cheapest_monthly(self.pb), cheapest_monthly(self.pc)
        if mb is not None:
            m = Savings(mb.usd_per_month, None if mc is None else mc.usd_per_month)
            qps = self.pb.assumptions.get("serve_qps")
            if (mb.instance, mb.provider, mb.region) != (sb.instance, sb.provider, sb.region) or (
                mc is not None
                and sc is not None
                and (mc.instance, mc.provider, mc.region) != (sc.instance, sc.provider, sc.region)
            ):
                rows.append([f"Serve {fmt.num(qps)} requests/s: cheapest instance", where(mb),
                             where(mc) if self.chosen is not None else "—", "", ""])  # fmt: skip
            rows.append([f"Serve {fmt.num(qps)} requests/s: $ per month", fmt.usd(m.baseline), fmt.usd(m.chosen) if self.chosen is not None else "—",
                         fmt.usd(m.saved) if self.chosen is not None else "—", fmt.saved_pct(m.saved_fraction) if self.chosen is not None else "—"])  # fmt: skip
        if self.pb.training is not None:
            t = Savings(None if tb is None else tb.usd_on_demand, None if tc is None else tc.usd_on_demand)
            rows.append(["Train: cheapest instance", where(tb), where(tc) if self.chosen is not None else "—", "", ""])
            rows.append(["Train: $ on demand", fmt.usd(t.baseline), fmt.usd(t.chosen) if self.chosen is not None else "—",
                         fmt.usd(t.saved) if self.chosen is not None else "—", fmt.saved_pct(t.saved_fraction) if self.chosen is not None else "—"])  # fmt: skip
            rows.append(["Train: time on that instance", fmt.hours(None if tb is None else tb.hours),
                         fmt.hours(None if tc is None else tc.hours) if self.chosen is not None else "—", "", ""])  # fmt: skip
        else:
            rows.append(["Train", "not projected (no --train-tokens / --train-samples)", "", "", ""])
        d.heading("Cheapest hardware and savings (all projected)", 2)
        d.table([Column("Cost", 1.6, wrap=True), Column("Baseline (projected)", 2.0, "r", wrap=True), Column("Chosen variant (projected)", 2.2, "r", wrap=True),
                 Column("Saved (projected)", 0.8, "r"), Column("Change", 0.6, "r")], rows, size=7.5)  # fmt: skip
        # small multiples: baseline vs chosen
        if self.chosen is not None:
            from .figures import draw_summary_bars

            bt, ct = self.base.totals, self.cprof.totals if self.cprof is not None else None
            items = [
                ("Latency (measured)", _measured_latency(self.base), _measured_latency(self.cprof), "ms"),
                ("Size (counted)", float(bt.weight_bytes), None if ct is None else float(ct.weight_bytes), "B"),
                ("MACs (counted)", float(bt.macs), None if ct is None else float(ct.macs), "MAC"),
                ("$ / M inf. (projected)", s.baseline, s.chosen, "$"),
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
        lat_b, lat_c = _measured_latency(b), _measured_latency(c)
        if self.chosen is not None and c is not None:
            f = self.chosen.fidelity
            parts = [
                f"{self.chosen.variant.label()} has {fmt.ratio(c.totals.params / b.totals.params if b.totals.params else None)} the parameters "
                f"and {fmt.ratio(c.totals.weight_bytes / b.totals.weight_bytes if b.totals.weight_bytes else None)} the size of the baseline"
            ]
            if lat_b and lat_c is not None:
                parts.append(
                    f"runs in {fmt.ms(lat_c)} per call against {fmt.ms(lat_b)} (measured here, batch {c.config.batch} vs {b.config.batch})"
                )
            if f is not None:
                parts.append(f"and agrees with it at output cosine {fmt.fidelity(f.cosine)} (measured)")
            out.append(", ".join(parts) + ".")
        sb, sc = cheapest_serving(self.pb), cheapest_serving(self.pc)
        if sb is not None:
            text = f"Cheapest to serve the baseline: {sb.accelerator} on {sb.provider} {sb.instance} at {fmt.usd(sb.usd_per_million)} per million inferences (projected)"
            if sc is not None and self.chosen is not None:
                s = Savings(sb.usd_per_million, sc.usd_per_million)
                text += (
                    f"; the chosen variant: {sc.accelerator} on {sc.provider} {sc.instance} at {fmt.usd(sc.usd_per_million)} "
                    f"({fmt.saved_pct(s.saved_fraction)}, {fmt.usd(s.saved)} saved per million, projected)"
                )
            out.append(text + ".")
        tb, tc = cheapest_training(self.pb), cheapest_training(self.pc)
        if tb is not None:
            text = f"Cheapest to train the baseline: {tb.gpus} × {tb.accelerator} on {tb.provider} {tb.instance}, {fmt.usd(tb.usd_on_demand)} on demand over {fmt.hours(tb.hours)} (projected)"
            if tc is not None and self.chosen is not None:
                s = Savings(tb.usd_on_demand, tc.usd_on_demand)
                text += (
                    f"; the chosen variant: {fmt.usd(tc.usd_on_demand)} ({fmt.saved_pct(s.saved_fraction)}, projected)"
                )
            out.append(text + ".")
        return out

    # --- layers ------------------------------------------------------------------------------

    def layers(self) -> None:
        from .figures import HeatRow, draw_heatmap
        from .layout import Column

        d, b = self.doc, self.base
        layers = list(b.layers)
        d.heading("Where the cost is: layers", 1, page_break=True)
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
        )
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
        if measured and b.totals.latency_ms is not None and lat_total:
            notes.append(f"Per-layer times sum to {fmt.ms(lat_total)} against {fmt.ms(b.totals.latency_ms.median)} end to end (measured); "
                         "% time is each layer's share of the per-layer sum.")  # fmt: skip
        for n in notes:
            d.paragraph(n, size=7.5, color=_muted())

    # --- variants ----------------------------------------------------------------------------

    def variants(self) -> None:
        from .figures import ScatterPoint, draw_pareto
        from .layout import Column

        d, x = self.doc, self.x
        d.heading("Variants explored", 1, page_break=True)
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
            "and better on one. Ratios are variant ÷ baseline at the same batch.",
            size=9,
        )
        rows = []
        highlight = []
        chosen_id = id(self.chosen) if self.chosen is not None else None
        for i, e in enumerate(x.sweep.entries):
            r = e.result
            if id(r) == chosen_id:
                highlight.append(i)
            if r.error is not None or r.profile is None:
                rows.append(["", r.variant.label(), "failed", "", "", "", "", "", "", (r.error or "")[:80]])
                continue
            t = r.profile.totals
            f = r.fidelity
            rows.append([
                "★" if e.pareto else "", r.variant.label() + ("  (chosen)" if id(r) == chosen_id else ""), str(r.profile.config.batch),
                fmt.ms(None if t.latency_ms is None else t.latency_ms.median), fmt.ratio(r.delta.get("latency")),
                fmt.human_count(t.params), fmt.human_count(t.macs), fmt.human_bytes(t.weight_bytes),
                fmt.fidelity(None if f is None else f.cosine), "—" if f is None or f.top1_agreement is None else fmt.pct(f.top1_agreement),
            ])  # fmt: skip
        d.table([Column("★", 0.3, "c"), Column("Variant", 2.9), Column("Batch", 0.55, "r"), Column("Latency (measured)", 0.95, "r"),
                 Column("× latency", 0.75, "r"), Column("Params", 0.75, "r"), Column("MACs", 0.75, "r"), Column("Weights", 0.85, "r"),
                 Column("Cosine (measured)", 0.95, "r"), Column("Top-1 agree", 0.75, "r")], rows, size=7.2, highlight=highlight)  # fmt: skip
        points = []
        measured = any(
            e.result.profile is not None and e.result.profile.totals.latency_ms is not None for e in x.sweep.entries
        )
        for e in x.sweep.entries:
            r = e.result
            if r.error is not None or r.profile is None:
                continue
            t = r.profile.totals
            if measured:
                if t.latency_ms is None:
                    continue
                xv = t.latency_ms.median / max(1, r.profile.config.batch)
            else:
                xv = float(t.weight_bytes)
            yv = r.fidelity.cosine if r.fidelity is not None else 1.0
            plain = (
                not r.variant.pruned
                and r.variant.precision == "fp32"
                and r.variant.batch is None
                and r.variant.runtime in (None, "torch")
            )
            points.append(ScatterPoint(xv, yv, r.variant.label(), e.pareto, baseline=plain, chosen=id(r) == chosen_id))
        xlabel = "latency per sample, ms (measured)" if measured else "weight bytes (counted; latency not measured)"
        from .figures import tick_label

        xf = tick_label if measured else (lambda v: fmt.human_bytes(v))
        d.figure(230, lambda p, rect: draw_pareto(p, rect, points, xlabel=xlabel, ylabel="output cosine vs baseline (measured)", xfmt=xf,
                                                  yfmt=tick_label),
                 caption="Pareto chart: filled orange = Pareto-optimal on latency per sample, output cosine and size (the front is "
                         "three-dimensional, so a dominated point can sit anywhere in this view); hollow = dominated; blue square = "
                         "baseline; ring = chosen.")  # fmt: skip
        notes = sorted({n for e in x.sweep.entries for n in e.result.notes if not n.startswith("identity")})
        if notes:
            d.heading("Notes from the measurements", 2)
            d.bullets(notes[:12], size=7.5)

    # --- costs -------------------------------------------------------------------------------

    def _key(self, o: Any) -> tuple[str, str, str]:
        return (o.provider, o.instance, o.region)

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
            f"Serving precision {a.get('precision')}, utilisation {a.get('utilization')}, largest batch {a.get('max_batch')}"
            + (f", SLO {fmt.ms(a['slo_ms'])}" if a.get("slo_ms") else "") + (f", {fmt.num(a['serve_qps'])} requests/s" if a.get("serve_qps") else "") + ".",
            size=9,
        )  # fmt: skip
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
        d.heading(
            f"Ranked hardware to serve {'the chosen variant' if self.pc is not None else 'the model'} (cheapest first, projected)",
            2,
        )
        rows: list[list[str]] = []
        colors: dict[int, Any] = {}  # column → QColor
        for i, o in enumerate(primary.inference.options[:RANKED_SERVING]):
            bo = base_by_key.get(self._key(o)) if other is not None else None
            ok = "yes" if o.fits_memory and o.meets_slo else ("no: memory" if not o.fits_memory else "no: SLO")
            row = [str(i + 1), f"{o.instance}\n{o.provider} · {o.region}", o.accelerator, o.precision, str(o.batch), fmt.ms(o.latency_ms),
                   fmt.usd(o.usd_per_million)]  # fmt: skip
            if other is not None:
                row.append(fmt.usd(None if bo is None else bo.usd_per_million))
            row += [fmt.usd(o.usd_per_month) if o.usd_per_month is not None else "—", ok]
            rows.append(row)
        cols = [Column("#", 0.3, "r"), Column("Instance (provider · region)", 2.2, wrap=True), Column("Accelerator", 1.1),
                Column("Prec.", 0.45), Column("Batch", 0.45, "r"), Column("Latency (projected)", 0.9, "r"),
                Column("$/M inf. (projected)", 0.9, "r")]  # fmt: skip
        if other is not None:
            cols.append(Column("$/M baseline (projected)", 0.9, "r"))
        cols += [Column("$/month (projected)", 0.85, "r"), Column("Fits", 0.6)]
        d.table(cols, rows, size=6.8, colors=colors)
        if len(primary.inference.options) > RANKED_SERVING:
            d.paragraph(f"… {len(primary.inference.options) - RANKED_SERVING} more options in the cost tables per hardware and in the CSV/JSON exports.",
                        size=7.5, color=_muted())  # fmt: skip
        self.training_costs()

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

    # --- assumptions ---------------------------------------------------------------------------

    def assumptions(self) -> None:
        from .layout import Column

        d, b = self.doc, self.base
        d.heading("Assumptions and method", 1, page_break=True)
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
        d.table([Column("Assumption", 1.6, wrap=True), Column("Value", 4.0, wrap=True)], rows, size=7.5)
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
        acc_names = {o.accelerator for o in self.pb.inference.options}
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


def _muted() -> Any:
    from .layout import MUTED

    return MUTED


def _precision_of(plan: Any) -> Any:
    from planner.vocab import PeakPrecision

    try:
        return PeakPrecision(str(plan.assumptions.get("precision", "fp32")))
    except ValueError:
        return PeakPrecision.FP32
