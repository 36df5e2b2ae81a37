"""The compare page: two models side by side (a `profiler.compare.Comparison`, `tradeoff.compare/1`)
as a PDF — `tradeoff compare A B --pdf FILE` and the app's Compare window (Export PDF…).

Totals of A and B with B ÷ A, the aligned layers that changed most, the output fidelity of B
against A, and the projected serving cost of each. The words and rows are built here once by
Qt-free functions (`totals_rows`, `layer_rows`, `fidelity_lines`, `cost_rows`,
`cost_difference`) that the app's Compare window shows too, so the window and the PDF agree.
Qt loads only inside `render_compare_pdf` and the section's drawing (gui/report is import-light).
"""

from __future__ import annotations

import datetime as _dt
import gc
import os
from collections.abc import Callable
from typing import Any

from profiler import units

DASH = units.DASH

#: the totals of docs/CONTRACT.md in their order: (key, label, formatter)
TOTALS: tuple[tuple[str, str, Callable[[Any], str]], ...] = (
    ("params", "Parameters", units.count),
    ("macs", "MACs", units.count),
    ("flops", "FLOPs", units.count),
    ("weight_bytes", "Weights", units.size_bytes),
    ("activation_peak_bytes", "Activation peak", units.size_bytes),
    ("latency_median_ms", "Latency, median (measured)", units.duration_ms),
)

MATCH_WORDS = {
    "name": "same name",
    "scope": "same module",
    "order": "same kind, in order",
    "only_a": "only in A",
    "only_b": "only in B",
}


def signed(value: float | None, fmt: Callable[[float], str]) -> str:
    """`+1.2 k`, `−3.4 ms`, `±0`; `—` for no value (a row in one model only)."""
    if value is None:
        return DASH
    return ("+" if value > 0 else "−" if value < 0 else "±") + fmt(abs(value))


def _latency_cell(t: dict[str, Any], profile: Any) -> str:
    if t.get("latency_median_ms") is None:
        return "not measured"
    text = units.duration_ms(t["latency_median_ms"])
    if t.get("latency_p10_ms") is not None and t.get("latency_p90_ms") is not None:
        text += f" ({units.duration_ms(t['latency_p10_ms'])}–{units.duration_ms(t['latency_p90_ms'])})"
    lat = profile.totals.latency_ms
    if lat is not None and getattr(lat, "noisy", False):
        text += " noisy"
    return text


def totals_rows(c: Any) -> list[list[str]]:
    """[label, A, B, B ÷ A] for each total (the latency with its p10–p90)."""
    ta, tb, ratios = c.totals_a, c.totals_b, c.ratios
    rows = []
    for key, label, fmt in TOTALS:
        if key == "latency_median_ms":
            a, b = _latency_cell(ta, c.profile_a), _latency_cell(tb, c.profile_b)
        else:
            a, b = fmt(ta[key]), fmt(tb[key])
        r = ratios.get(key)
        rows.append([label, a, b, DASH if r is None else units.times(r)])
    return rows


def layer_cells(p: Any) -> list[str]:
    """One aligned row as text: A's name, B's name, how they were matched, and the four Δ (B − A)."""
    return [
        p.name_a if p.name_a is not None else DASH,
        p.name_b if p.name_b is not None else DASH,
        MATCH_WORDS.get(p.match, p.match),
        signed(p.params_delta, units.count),
        signed(p.macs_delta, units.count),
        signed(p.memory_bytes_delta, units.size_bytes),
        signed(p.latency_ms_delta, units.duration_ms),
    ]


def layer_rows(c: Any, top: int) -> tuple[str, list[list[str]]]:
    """The `top` rows that changed most (profiler.compare.top_pairs) and what they are ranked by."""
    from profiler.compare import top_pairs

    timed = any(p.latency_ms_delta is not None for p in c.layers)
    return ("|latency change|" if timed else "|MAC change|"), [layer_cells(p) for p in top_pairs(c, top)]


def alignment_summary(c: Any) -> str:
    """ "12 by name, 3 by module, 0 by order; 1 only in A, 2 only in B"."""
    counts: dict[str, int] = {}
    for p in c.layers:
        counts[p.match] = counts.get(p.match, 0) + 1
    matched = ", ".join(
        f"{counts.get(m, 0)} by {w}" for m, w in (("name", "name"), ("scope", "module"), ("order", "order"))
    )
    return f"{matched}; {counts.get('only_a', 0)} only in A, {counts.get('only_b', 0)} only in B"


def fidelity_lines(c: Any) -> list[tuple[str, str]]:
    """(label, value) pairs of B's fidelity against A; one ("Fidelity", why not) pair when none."""
    f = c.fidelity
    if f is None:
        return [("Fidelity", f"not comparable — {c.fidelity_note or 'not measured'}")]
    rows = [
        ("Output cosine", units.fidelity(f.cosine)),
        ("Max abs error", units.sig(f.max_abs_error)),
        ("Max relative error", units.sig(f.max_rel_error)),
        ("Top-1 agreement", DASH if f.top1_agreement is None else units.percent(f.top1_agreement)),
    ]
    if f.accuracy is not None or f.baseline_accuracy is not None:
        rows.append(("Accuracy A (labels)", units.percent(f.baseline_accuracy)))
        rows.append(("Accuracy B (labels)", units.percent(f.accuracy)))
    else:
        rows.append(("Accuracy", "no labels"))
    rows.append(("Inputs", c.fidelity_note or "the samples, taken whole"))
    return rows


def cost_rows(c: Any) -> list[list[str]]:
    """[side, hardware, $/month, $/M inferences, headline or why none] for A and B (projected)."""
    costs = c.costs or {}
    rows = []
    for side in ("a", "b"):
        s = costs.get(side) or {}
        serving = s.get("serving")
        if serving is None:
            rows.append([side.upper(), DASH, DASH, DASH, str(s.get("unanswered") or "no serving answer")])
            continue
        n = serving.get("instances")
        hw = f"{n} × " if n and n != 1 else ""
        hw += f"{serving.get('instance', '')} ({serving.get('accelerator', '')}, {serving.get('provider', '')})"
        rows.append(
            [
                side.upper(),
                hw,
                units.usd(serving.get("usd_per_month")),
                units.usd(serving.get("usd_per_million")),
                str(serving.get("headline") or ""),
            ]
        )
    return rows


def cost_difference(c: Any) -> str:
    """ "B costs $120/month less than A, B ÷ A 0.800×", or why there is no difference to state."""
    costs = c.costs
    if costs is None:
        return "Cost not planned."
    d = costs.get("difference")
    if not d:
        return "No difference: at least one of the two has no serving answer."
    unit = " per month" if d["basis"] == "usd_per_month" else " per million inferences"
    if units.usd(abs(d["b_minus_a"])) == units.usd(0.0):
        return f"B costs the same as A{unit}."
    verb = "less" if d["b_minus_a"] < 0 else "more"
    ratio = "" if d.get("ratio_b_over_a") is None else f" (B ÷ A {units.times(d['ratio_b_over_a'])})"
    return f"B costs {units.usd(abs(d['b_minus_a']))}{unit} {verb} than A{ratio} (projected)."


def side_line(source: str, profile: Any) -> str:
    cfg = profile.config
    shapes = ", ".join(f"{i.name} {'×'.join(map(str, i.shape))}" for i in profile.inputs)
    return f"{source} — {profile.model.name}, {profile.model.format}, {cfg.runtime} on {cfg.device}; inputs {shapes or DASH}"


# --------------------------------------------------------------------------------- the page


class CompareSections:
    """The compare page over a `Doc` (gui/report/layout.py): set `doc`, `c` (Comparison) and
    `top`, then call `compare_page()`."""

    doc: Any
    c: Any
    top: int = 15

    def compare_page(self, title: str = "Comparison") -> None:
        from .layout import HEAD, MUTED, Column

        d, c = self.doc, self.c
        d.paragraph(title, size=11, color=MUTED, after=1)
        d.paragraph(f"{c.profile_a.model.name}  vs  {c.profile_b.model.name}", size=20, bold=True, color=HEAD, after=4)
        d.table(
            [Column("", 0.25), Column("", 5.0, wrap=True)],
            [["A", side_line(c.source_a, c.profile_a)], ["B", side_line(c.source_b, c.profile_b)]],
            size=8.5,
            header=False,
            after=6,
        )
        d.heading("Totals", 1)
        d.table(
            [Column("", 1.6), Column("A", 1.4, "r"), Column("B", 1.4, "r"), Column("B ÷ A", 0.8, "r")],
            totals_rows(c),
            size=8.5,
        )
        d.paragraph(
            "Counted figures (parameters, MACs, FLOPs, bytes) are exact; the latency was measured on this machine, "
            "each model timed on its own (median and p10–p90).",
            size=7.5,
            color=MUTED,
        )
        basis, rows = layer_rows(c, self.top)
        d.heading(f"Largest layer changes (top {len(rows)} by {basis})", 1)
        d.paragraph(f"Layers aligned: {alignment_summary(c)}. Δ is B − A.", size=8.5)
        if rows:
            d.table(
                [
                    Column("Layer in A", 2.0),
                    Column("Layer in B", 2.0),
                    Column("Match", 1.1),
                    Column("Δ params", 0.8, "r"),
                    Column("Δ MACs", 0.8, "r"),
                    Column("Δ memory", 0.8, "r"),
                    Column("Δ latency", 0.8, "r"),
                ],
                rows,
                size=7.5,
                colors={i: MUTED for i, r in enumerate(rows) if r[0] == DASH or r[1] == DASH},
            )
        d.heading("Output fidelity of B against A", 1)
        d.table(
            [Column("", 1.3), Column("", 4.0, wrap=True)], [list(x) for x in fidelity_lines(c)], size=8.5, header=False
        )
        d.heading("Serving cost (projected)", 1)
        if c.costs is None:
            d.paragraph("Cost not planned.", size=8.5)
        else:
            d.table(
                [
                    Column("", 0.3),
                    Column("Hardware", 2.2, wrap=True),
                    Column("$ / month", 0.9, "r"),
                    Column("$ / M inferences", 1.0, "r"),
                    Column("Answer", 3.2, wrap=True),
                ],
                cost_rows(c),
                size=7.5,
            )
            d.paragraph(cost_difference(c), size=9, bold=True)
            d.paragraph(
                "Each model is planned with the same options over the same catalog; every $ figure is projected "
                "with a roofline model, never measured on that hardware.",
                size=7.5,
                color=MUTED,
            )
        if c.notes:
            d.heading("Notes", 2)
            d.bullets(list(c.notes), size=8)


class _ComparePage(CompareSections):
    def __init__(self, doc: Any, comparison: Any, top: int) -> None:
        self.doc, self.c, self.top = doc, comparison, top


def render_compare_pdf(
    comparison: Any,
    path: str | os.PathLike[str],
    *,
    page_size: str = "a4",
    top: int = 15,
    title: str = "Comparison",
) -> int:
    """Write the compare page(s) of `comparison` as a PDF to `path`, atomically (as the report
    does: an unwritable destination raises InputError and leaves nothing); returns the page count."""
    from profiler import __version__
    from profiler.safe_io import atomic_output

    from .layout import Doc, make_writer
    from .pdf import check_pdf_destination, ensure_gui_application

    dest = check_pdf_destination(path, page_size)
    ensure_gui_application()
    created = _dt.datetime.now().astimezone()
    head = f"{title}: {comparison.profile_a.model.name} vs {comparison.profile_b.model.name}"
    with atomic_output(dest) as tmp:
        writer = make_writer(str(tmp), page_size, title=head, creator=f"Tradeoff Studio {__version__}")
        doc = Doc(
            writer,
            header=f"{head} · {created:%Y-%m-%d %H:%M}",
            footer_left=f"Tradeoff Studio {__version__} · {created:%Y-%m-%d}",
        )
        try:
            _ComparePage(doc, comparison, top).compare_page(title)
            pages = doc.paint()
        finally:
            # every Qt object goes while the application exists (as gui/report/pdf.py does)
            doc.pages.clear()
            doc.writer = None  # type: ignore[assignment]
            del doc
            del writer
            gc.collect()
    return pages
