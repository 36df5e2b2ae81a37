"""The planner's command-line face: plan options, the ranked table, the hardware listing.

The lead wires these into `tradeoff plan` and `tradeoff hardware`; nothing here prints.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Sequence
from typing import Any

from planner.catalog import Catalog, load_catalog
from planner.options import DEFAULT_MAX_BATCH, DEFAULT_OUTPUT_TOKENS, DEFAULT_PUE, DEFAULT_UTILIZATION, PlanOptions
from planner.plan import Plan
from planner.vocab import PeakPrecision
from profiler.errors import InputError
from profiler.textsafe import terminal_safe


def add_plan_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the plan-only options of CONTRACT.md (and the planner's extensions). Values stay
    strings here; `plan_options_from_args` parses them so a bad one is an InputError."""
    g = parser.add_argument_group("plan")
    g.add_argument("--train-tokens", metavar="N", help="training set size in tokens (accepts 2e12)")
    g.add_argument("--train-samples", metavar="N", help="training set size in samples")
    g.add_argument("--epochs", metavar="E", help="passes over the training set (default 1)")
    g.add_argument("--mfu", metavar="F", help="model FLOPs utilisation, 0 < F ≤ 1 (default per accelerator class)")
    g.add_argument("--gpu", metavar="NAME[,NAME…]", help="only these accelerators (names as `tradeoff hardware` lists them)")
    g.add_argument("--provider", metavar="NAME[,…]", help="only these providers")
    g.add_argument("--region", metavar="NAME", help="only this region")
    g.add_argument("--serve-qps", metavar="Q", help="requests per second to serve")
    g.add_argument("--slo-ms", metavar="MS", help="latency objective per request")
    g.add_argument("--utilization", metavar="U", help=f"average accelerator utilisation when serving (default {DEFAULT_UTILIZATION})")
    g.add_argument("--catalog", metavar="FILE.csv", action="append", help="extra or overriding catalog rows (repeatable)")
    x = parser.add_argument_group("plan (extensions)")
    x.add_argument("--serve-precision", metavar="P", help="serving precision (default: the profile's): fp32, tf32, fp16, bf16, fp8, int8")
    x.add_argument("--train-precision", metavar="P", help="training precision (default bf16; fp16 where there is no bf16)")
    x.add_argument("--train-gpus", metavar="N", help="GPUs to train on (default: one instance, or the memory minimum)")
    x.add_argument("--micro-batch", metavar="N", help="training micro-batch per GPU (default: the profiled batch)")
    x.add_argument("--pue", metavar="X", help=f"data-centre PUE, ≥ 1 (default {DEFAULT_PUE})")
    x.add_argument("--scaling-efficiency", metavar="F", help="throughput kept per doubling of nodes (default 0.95)")
    x.add_argument("--max-batch", metavar="N", help=f"largest serving batch tried (default {DEFAULT_MAX_BATCH})")
    x.add_argument("--output-tokens", metavar="N", help=f"generated tokens per request, decoder LMs (default {DEFAULT_OUTPUT_TOKENS})")
    x.add_argument("--decoder-lm", choices=("auto", "yes", "no"), default="auto", help="treat the model as a decoder LM")
    x.add_argument("--kv-layers", metavar="N", help="transformer blocks holding a KV cache")
    x.add_argument("--kv-heads", metavar="N", help="key/value heads per block")
    x.add_argument("--head-dim", metavar="N", help="width of one head")
    x.add_argument("--compute-efficiency", metavar="F", help="fraction of peak FLOPS reached (default per class)")
    x.add_argument("--memory-efficiency", metavar="F", help="fraction of peak bandwidth reached (default per class)")
    x.add_argument("--kernel-overhead-us", metavar="US", help="fixed cost per kernel launch (default per class)")
    x.add_argument("--calibrate", metavar="DEVICE", help="calibrate per layer type against the local measurement on DEVICE (a catalog row)")
    x.add_argument("--discount", metavar="D", help="discount on every catalog price, 0 ≤ D < 1 (e.g. 0.3 for 30 %%)")
    x.add_argument("--exclude-suspect-prices", action="store_true", help="skip price rows flagged quality=suspect")


def _number(option: str, raw: str | None, kind: Callable[[float], Any] = float) -> Any:
    if raw is None:
        return None
    try:
        value = float(raw.replace("_", ""))
    except ValueError:
        raise InputError(option, f"{raw!r} is not a number") from None
    if not math.isfinite(value):
        raise InputError(option, f"{raw!r} is not a finite number")
    if kind is int:
        if value != int(value):
            raise InputError(option, f"{raw!r} is not a whole number")
        return int(value)
    return kind(value)


def _names(raw: str | None) -> tuple[str, ...]:
    return tuple(n.strip() for n in raw.split(",") if n.strip()) if raw else ()


def _precision(option: str, raw: str | None) -> PeakPrecision | None:
    if raw is None:
        return None
    try:
        return PeakPrecision(raw.lower())
    except ValueError:
        raise InputError(option, f"{raw!r} is not one of {', '.join(str(p) for p in PeakPrecision)}") from None


def plan_options_from_args(args: argparse.Namespace) -> PlanOptions:
    """PlanOptions from parsed arguments; raises InputError('--option', 'problem')."""

    def get(name: str) -> Any:
        return getattr(args, name, None)  # the lead's parser may lack some options

    catalog = get("catalog")
    kw: dict[str, Any] = {
        "train_tokens": _number("--train-tokens", get("train_tokens")),
        "train_samples": _number("--train-samples", get("train_samples")),
        "mfu": _number("--mfu", get("mfu")),
        "gpus": _names(get("gpu")),
        "providers": _names(get("provider")),
        "region": get("region"),
        "serve_qps": _number("--serve-qps", get("serve_qps")),
        "slo_ms": _number("--slo-ms", get("slo_ms")),
        "catalog_file": catalog[-1] if isinstance(catalog, list) and catalog else catalog,
        "precision": _precision("--serve-precision", get("serve_precision")),
        "train_gpus": _number("--train-gpus", get("train_gpus"), int),
        "micro_batch": _number("--micro-batch", get("micro_batch"), int),
        "kv_layers": _number("--kv-layers", get("kv_layers"), int),
        "kv_heads": _number("--kv-heads", get("kv_heads"), int),
        "head_dim": _number("--head-dim", get("head_dim"), int),
        "compute_efficiency": _number("--compute-efficiency", get("compute_efficiency")),
        "memory_efficiency": _number("--memory-efficiency", get("memory_efficiency")),
        "kernel_overhead_us": _number("--kernel-overhead-us", get("kernel_overhead_us")),
        "calibrate_with": get("calibrate"),
        "include_suspect_prices": not get("exclude_suspect_prices"),
        "decoder_lm": {"yes": True, "no": False}.get(get("decoder_lm") or "auto"),
    }
    optional = {
        "epochs": _number("--epochs", get("epochs")),
        "utilization": _number("--utilization", get("utilization")),
        "train_precision": _precision("--train-precision", get("train_precision")),
        "pue": _number("--pue", get("pue")),
        "scaling_per_doubling": _number("--scaling-efficiency", get("scaling_efficiency")),
        "max_batch": _number("--max-batch", get("max_batch"), int),
        "output_tokens": _number("--output-tokens", get("output_tokens"), int),
        "price_discount": _number("--discount", get("discount")),
    }
    kw.update({k: v for k, v in optional.items() if v is not None})
    options = PlanOptions(**kw)
    options.check()
    return options


def catalog_from_args(args: argparse.Namespace) -> Catalog:
    """The catalog in use: shipped + user config dir + every --catalog FILE (InputError when
    one of those files cannot be used)."""
    extra = getattr(args, "catalog", None)
    return load_catalog(extra=extra or None)


# ----------------------------------------------------------------------------- tables


def _fmt(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "—"
    if value == 0:
        return "0"
    mag = abs(value)
    if mag >= 1e6 or mag < 1e-3:
        return f"{value:.{digits - 1}e}"
    if mag >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> list[str]:
    # Cells carry names from catalog files and models: control characters are shown escaped.
    headers = [terminal_safe(h) for h in headers]
    rows = [[terminal_safe(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def render_plan_table(plan: Plan, limit: int = 15) -> str:
    """A readable ranked table: serving cheapest first, then training cheapest first."""
    a = plan.assumptions
    ts = terminal_safe
    out = [f"Plan for {ts(plan.model.name)}  (all times and prices projected; catalog as of {ts(a.get('catalog_as_of'))})"]
    inf = plan.inference
    lm = inf.decoder_lm
    out.append("")
    head = f"Serving at {a.get('precision')}"
    if a.get("slo_ms"):
        head += f", SLO {_fmt(a['slo_ms'])} ms"
    if a.get("serve_qps"):
        head += f", {_fmt(a['serve_qps'])} req/s"
    head += f", utilisation {a.get('utilization')}"
    if lm:
        head += f" — decoder LM ({inf.detection}); prompt {inf.prompt_tokens}, output {inf.output_tokens} tokens"
    out.append(ts(head))
    headers = ["#", "provider", "instance", "region", "accelerator", "prec", "batch", "latency ms",
               "per GPU/s", "$/M inf", "$/M spot", "inst", "$/month", "ok"]  # fmt: skip
    if lm:
        headers[8:8] = ["tok/s", "$/M tok"]
    rows = []
    for n, o in enumerate(inf.options[:limit], 1):
        ok = "yes" if (o.fits_memory and o.meets_slo) else ("no mem" if not o.fits_memory else "slow")
        r = [str(n), o.provider, o.instance, o.region, o.accelerator, o.precision, str(o.batch),
             _fmt(o.latency_ms), _fmt(o.throughput_per_s), _fmt(o.usd_per_million), _fmt(o.usd_per_million_spot),
             "—" if o.instances_needed is None else str(o.instances_needed), _fmt(o.usd_per_month), ok]  # fmt: skip
        if lm:
            r[8:8] = [_fmt(o.output_tokens_per_s), _fmt(o.usd_per_million_tokens)]
        rows.append(r)
    right = {0, 6, 7, 8, 9, 10, 11, 12} | ({13, 14} if lm else set())
    out.extend(_table(headers, rows, right))
    if len(inf.options) > limit:
        out.append(f"… {len(inf.options) - limit} more options (see --json / --csv)")
    tr = plan.training
    if tr is not None:
        out.append("")
        size = f"{_fmt(tr.tokens)} tokens" if tr.tokens is not None else f"{_fmt(tr.samples)} samples"
        out.append(ts(
            f"Training on {size} × {_fmt(tr.epochs)} epoch(s): {_fmt(tr.flops)} FLOPs (3 × forward)"
            + (f", 6·N·D = {_fmt(tr.flops_6nd)}" if tr.flops_6nd is not None else "")
            + ("" if tr.causal_attention_halved else "; causal attention not halved")
        ))
        headers = ["#", "provider", "instance", "region", "accelerator", "GPUs", "MFU", "days", "GPU-hours",
                   "$ on-demand", "$ spot", "kWh", "t CO2", "mem/GPU GB", "fits"]  # fmt: skip
        rows = []
        for n, t in enumerate(tr.options[:limit], 1):
            rows.append([str(n), t.provider, t.instance, t.region, t.accelerator, str(t.gpus), f"{t.mfu:.2f}",
                         _fmt(t.hours / 24), _fmt(t.gpu_hours), _fmt(t.usd_on_demand), _fmt(t.usd_spot),
                         _fmt(t.energy_kwh), _fmt(None if t.co2_kg is None else t.co2_kg / 1000),
                         _fmt(t.memory_per_gpu_gb), "yes" if t.fits_memory else "no"])  # fmt: skip
        out.extend(_table(headers, rows, {0, 5, 6, 7, 8, 9, 10, 11, 12, 13}))
        if len(tr.options) > limit:
            out.append(f"… {len(tr.options) - limit} more options (see --json / --csv)")
    for w in plan.warnings:
        out.append(f"warning: {ts(w)}")
    return "\n".join(out) + "\n"


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
    headers = ["provider", "instance", "region", "accelerator", "count", "GPU GB", "$/h", "$/h spot", "quality", "as of"]
    rows = [[i.provider, i.instance, i.region, i.accelerator, str(i.count), _fmt(i.gpu_memory_gb),
             _fmt(i.usd_per_hour), _fmt(i.usd_per_hour_spot), i.quality, i.as_of] for i in catalog.instances]  # fmt: skip
    out.extend(_table(headers, rows, {4, 5, 6, 7}))
    out.append("")
    out.append("Sources: every row's `source` is in `tradeoff hardware --json -`; files: "
               + ", ".join(terminal_safe(f) for f in catalog.files))
    for w in catalog.warnings:
        out.append(f"warning: {terminal_safe(w)}")
    return "\n".join(out) + "\n"
