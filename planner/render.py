"""The planner's text tables: the ranked plan table and the hardware listing (used by
`tradeoff plan` and `tradeoff hardware`). Nothing here parses options or prints."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from planner.answer import is_answer
from planner.catalog import Catalog
from planner.plan import Plan
from planner.vocab import PeakPrecision
from profiler import units
from profiler.textsafe import terminal_safe

# ----------------------------------------------------------------------------- tables


def _fmt(value: float | None, digits: int = 3) -> str:
    """A plain number (3 significant digits, separators, no scientific notation): `profiler.units`."""
    return units.number(value, digits)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> list[str]:
    # Cells carry names from catalog files and models: control characters are shown escaped.
    headers = [terminal_safe(h) for h in headers]
    rows = [[terminal_safe(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def render_plan_table(plan: Plan, limit: int = 15, caveats: tuple[str, ...] = ()) -> str:
    """A readable ranked table: serving cheapest first, then training cheapest first."""
    a = plan.assumptions
    ts = terminal_safe
    out = [
        f"Plan for {ts(plan.model.name)}  (all times and prices projected; catalog as of {ts(a.get('catalog_as_of'))})"
    ]
    inf = plan.inference
    lm = inf.decoder_lm
    out.extend(_answer_lines(plan))
    if caveats:
        out.append(ts("Caveats: " + "; ".join(caveats) + "."))
    out.append("")
    at_load = bool(a.get("serve_qps"))
    head = f"Serving at {a.get('precision_choice') or a.get('precision')}"
    if a.get("quantized_mac_share") is not None and a.get("precision_share"):
        head = f"Serving with {a['precision_share']}"  # only the layers the variant quantized run at int8
    if a.get("slo_ms"):
        head += f", SLO {units.duration_ms(a['slo_ms'])}"
    if at_load:
        head += f", {_fmt(a['serve_qps'])} req/s, utilisation ≤ {a.get('utilization')}; ranked by $ per month"
    else:
        head += f", utilisation {a.get('utilization')}; no load given, ranked by $ per million"
    if lm:
        head += f" — decoder LM ({inf.detection}); prompt {inf.prompt_tokens}, output {inf.output_tokens} tokens"
    out.append(ts(head))
    headers = ["#", "provider", "instance", "region", "accelerator", "prec", "batch", "latency",
               "per GPU/s", "$/M inf", "$/M spot", "inst", "$/month", "±", "ok"]  # fmt: skip
    if lm:
        headers[8:8] = ["tok/s", "$/M tok"]
    rows = []
    for n, o in enumerate(inf.options[:limit], 1):
        ok = "yes" if is_answer(o, at_load) else ("no mem" if not o.fits_memory else "no")
        r = [str(n), o.provider, o.instance, o.region, o.accelerator, o.precision, str(o.batch),
             units.duration_ms(o.latency_ms), units.count(o.throughput_per_s), units.usd(o.usd_per_million),
             units.usd(o.usd_per_million_spot),
             "—" if o.instances_needed is None else str(o.instances_needed), units.usd(o.usd_per_month),
             "—" if not o.uncertainty_fraction else f"{o.uncertainty_fraction * 100:.0f} %", ok]  # fmt: skip
        if lm:
            r[8:8] = [units.count(o.output_tokens_per_s), units.usd(o.usd_per_million_tokens)]
        rows.append(r)
    right = {0, 6, 7, 8, 9, 10, 11, 12, 13} | ({14, 15} if lm else set())
    out.extend(_table(headers, rows, right))
    if len(inf.options) > limit:
        out.append(f"… {len(inf.options) - limit} more options (see --json / --csv)")
    excluded = [o for o in inf.options if o.excluded_reason]
    if excluded:
        out.append(f"Not ranked ({len(excluded)}), for example:")
        seen: set[str] = set()
        for o in excluded:
            if o.accelerator not in seen and len(seen) < 4:
                seen.add(o.accelerator)
                out.append(ts(f"  {o.accelerator} ({o.instance}): {o.excluded_reason}"))
    tr = plan.training
    if tr is not None:
        out.append("")
        size = f"{units.count(tr.tokens)} tokens" if tr.tokens is not None else f"{units.count(tr.samples)} samples"
        convention = tr.flop_convention
        out.append(
            ts(
                f"Training on {size} × {_fmt(tr.epochs)} epoch(s): {units.count(tr.flops, 'FLOP')} "
                + ("(6·N·D)" if convention == "6nd" else "(3 × forward, attention in full)")
                + (
                    f"; 6·N·D = {units.count(tr.flops_6nd, 'FLOP')}"
                    if tr.flops_6nd is not None and convention != "6nd"
                    else ""
                )
                + f"; {tr.model_class or 'model'}: MFU per option below"
            )
        )
        headers = ["#", "provider", "instance", "region", "accelerator", "GPUs", "layout", "MFU", "days", "GPU-hours",
                   "GPU-h 6ND", "$ on-demand", "±", "$ spot", "kWh", "t CO2", "mem/GPU GB", "fits"]  # fmt: skip
        rows = []
        for n, t in enumerate(tr.options[:limit], 1):
            band = t.uncertainty_fraction
            rows.append([str(n), t.provider, t.instance, t.region, t.accelerator, str(t.gpus), t.parallelism,
                         f"{t.mfu:.2f}", _fmt(t.hours / 24), _fmt(t.gpu_hours),
                         _fmt(t.gpu_hours_6nd), units.usd(t.usd_on_demand),
                         "—" if not band else f"{band * 100:.0f} %", units.usd(t.usd_spot),
                         _fmt(t.energy_kwh), _fmt(None if t.co2_kg is None else t.co2_kg / 1000),
                         _fmt(t.memory_per_gpu_gb), "yes" if t.fits_memory else "no"])  # fmt: skip
        out.extend(_table(headers, rows, {0, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}))
        if len(tr.options) > limit:
            out.append(f"… {len(tr.options) - limit} more options (see --json / --csv)")
        first = tr.options[0] if tr.options else None
        if first is not None and first.mfu_source:
            out.append(ts(f"MFU {first.mfu:.2f}: {first.mfu_source}"))
        excluded = [t for t in tr.options if t.excluded_reason]
        if excluded:
            out.append(f"Not ranked ({len(excluded)}), for example:")
            for t in excluded[:3]:
                out.append(ts(f"  {t.accelerator} ({t.instance}): {t.excluded_reason}"))
    for w in plan.warnings:
        out.append(f"warning: {ts(w)}")
    return "\n".join(out) + "\n"


def _answer_lines(plan: Plan) -> list[str]:
    """The answer first (planner.answer): the same sentence the app and the report lead with."""
    ans = plan.answer
    if ans is None:
        return []
    lines = [""]
    if ans.serving is not None:
        lines.append(terminal_safe(ans.serving.headline))
    elif ans.serving_unanswered:
        lines.append(terminal_safe(f"Serving: {ans.serving_unanswered}"))
    if ans.training is not None:
        lines.append(terminal_safe(ans.training.headline))
    elif ans.training_unanswered:
        lines.append(terminal_safe(f"Training: {ans.training_unanswered}"))
    return lines


def hardware_document(catalog: Catalog) -> dict[str, Any]:
    """The `tradeoff.hardware/1` document of the catalog in use."""
    return catalog.to_dict()


def render_hardware_table(catalog: Catalog) -> str:
    """Accelerators (specs) and instances (prices), with where each row came from."""
    out = ["Accelerators (dense peaks, TFLOPS; memory GB; bandwidth GB/s)"]
    headers = ["name", "class", "memory", "GB/s", "fp32", "tf32", "fp16", "bf16", "fp8", "int8", "TDP W", "as of"]
    rows = []
    for acc in catalog.accelerators:
        rows.append([acc.name, str(acc.accelerator_class), _fmt(acc.memory_gb), _fmt(acc.bandwidth_gb_s),
                     *(_fmt(acc.peak_tflops(p)) for p in PeakPrecision), _fmt(acc.tdp_w), acc.as_of])  # fmt: skip
    out.extend(_table(headers, rows, set(range(2, 11))))
    out.append("")
    out.append("Instances (USD per instance-hour)")
    headers = [
        "provider",
        "instance",
        "region",
        "accelerator",
        "count",
        "GPU GB",
        "$/h",
        "$/h spot",
        "quality",
        "as of",
    ]
    rows = [[i.provider, i.instance, i.region, i.accelerator, str(i.count), _fmt(i.gpu_memory_gb),
             units.usd(i.usd_per_hour), units.usd(i.usd_per_hour_spot), i.quality, i.as_of] for i in catalog.instances]  # fmt: skip
    out.extend(_table(headers, rows, {4, 5, 6, 7}))
    out.append("")
    out.append(
        "Sources: every row's `source` is in `tradeoff hardware --json -`; files: "
        + ", ".join(terminal_safe(f) for f in catalog.files)
    )
    for w in catalog.warnings:
        out.append(f"warning: {terminal_safe(w)}")
    return "\n".join(out) + "\n"
