"""Plain-text rendering of a profile for the terminal, and its per-layer CSV.

Text from the model file (names, types, ops, paths, warnings) goes through
`profiler.textsafe.terminal_safe` in the table and `csv_safe` in the CSV.
"""

from __future__ import annotations

import csv
import io

from . import units
from .result import LayerRow, Profile
from .textsafe import csv_safe_row, terminal_safe


def human_count(n: float | None, unit: str = "") -> str:
    """1234567 -> '1.23 M' (decimal prefixes; `profiler.units.count`)."""
    return units.count(n, unit)


def human_bytes(n: float | None) -> str:
    """Bytes with binary prefixes: 46758048 -> '44.6 MiB' (`profiler.units.size_bytes`)."""
    return units.size_bytes(n)


def _format_table(header: list[str], rows: list[list[str]], align_right: set[int]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in align_right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    out = [line(header), "  ".join("-" * w for w in widths)]
    out.extend(line(r) for r in rows)
    return "\n".join(out)


def _layer_cells(r: LayerRow, total_latency: float, total_macs: int) -> list[str]:
    lat_share = (r.latency_ms or 0.0) / total_latency if total_latency else 0.0
    mac_share = r.macs / total_macs if total_macs else 0.0
    return [
        terminal_safe(r.name) + ("" if r.counted else " *"),
        terminal_safe(r.type),
        human_count(r.params),
        human_count(r.macs),
        human_bytes(r.activation_bytes),
        units.duration_ms(r.latency_ms),
        units.percent(lat_share) if r.latency_ms is not None else units.DASH,
        units.percent(mac_share),
    ]


def render_profile(profile: Profile, top: int = 10) -> str:
    """The `tradeoff profile` terminal report: header, top layers by latency and MACs, totals."""
    t = profile.totals
    env = profile.environment
    cfg = profile.config
    ts = terminal_safe
    lines = [
        f"{ts(profile.model.name)}  ({ts(profile.model.format)}: {ts(profile.model.source)})",
        "inputs: " + ", ".join(f"{ts(i.name)} {'x'.join(map(str, i.shape))} {ts(i.dtype)}" for i in profile.inputs),
        ts(f"config: {cfg.device} / {cfg.runtime} / {cfg.precision}, batch {cfg.batch}, threads {cfg.threads or '—'}"),
    ]
    if env is not None:
        lines.append(
            ts(
                f"machine: {env.cpu}, {env.cores} cores; GPU: {env.gpu or 'no NVIDIA GPU'}; torch {env.torch}, onnxruntime {env.onnxruntime}"
            )
        )
    header = ["layer", "type", "params", "MACs", "output", "latency", "% time", "% MACs"]
    total_lat = sum(r.latency_ms or 0.0 for r in profile.layers)
    right = {2, 3, 4, 5, 6, 7}
    if any(r.latency_ms is not None for r in profile.layers):
        by_latency = sorted(profile.layers, key=lambda r: r.latency_ms or 0.0, reverse=True)[:top]
        lines += ["", f"Top {len(by_latency)} layers by measured latency ({ts(profile.layer_latency_method)}):"]
        lines.append(_format_table(header, [_layer_cells(r, total_lat, t.macs) for r in by_latency], right))
    by_macs = sorted(profile.layers, key=lambda r: r.macs, reverse=True)[:top]
    lines += ["", f"Top {len(by_macs)} layers by MACs (counted):"]
    lines.append(_format_table(header, [_layer_cells(r, total_lat, t.macs) for r in by_macs], right))
    lat = t.latency_ms
    lines += [
        "",
        f"Totals ({len(profile.layers)} layers):",
        f"  params          {t.params:,}  ({human_count(t.params)})",
        f"  MACs            {t.macs:,}  ({human_count(t.macs)}; FLOPs = 2 x MACs = {human_count(t.flops)})",
        f"  weights         {human_bytes(t.weight_bytes)}",
        f"  activations     {human_bytes(t.activation_bytes)} written in all; peak live {human_bytes(t.activation_peak_bytes)}",
    ]
    if lat is not None:
        cv = "" if lat.cv is None else f", CV {units.percent(lat.cv, 0)}"
        lines.append(
            f"  latency         {units.duration_ms(lat.median)} median (p10 {units.duration_ms(lat.p10)}, "
            f"p90 {units.duration_ms(lat.p90)}, {lat.samples} samples{cv}), measured"
            + (f" on {ts(profile.timed_as)}" if profile.timed_as else "")
        )
        foreign = env.foreign_cpu_percent if env is not None else None
        if foreign is not None or (env is not None and env.cpu_mhz):
            clock = f", CPU clock {env.cpu_mhz:.0f} MHz" if env is not None and env.cpu_mhz else ""
            other = "unknown" if foreign is None else f"{foreign:.0f} % of the CPU"
            lines.append(f"  conditions      other programs used {other} while timing{clock}")
        noise = units.noise_note(lat, foreign)
        if noise:
            lines.append(f"  warning         {noise}: small differences are not measurable now")
        if total_lat:
            lines.append(
                f"  layer sum       {units.duration_ms(total_lat)} ({units.percent(total_lat / lat.median, 0)} of end to end)"
            )
        lines.append(f"  peak memory     {human_bytes(t.peak_memory_bytes)}")
    else:
        lines.append(
            "  latency         not measured"
            + (" (meta device: the planner projects it)" if any("meta" in w for w in profile.warnings) else "")
        )
    if profile.unsupported_ops:
        lines += ["", "Ops with no FLOP formula (their layers are marked *, and their FLOPs are not in the totals):"]
        lines += [f"  {ts(op)}: {n} call(s)" for op, n in sorted(profile.unsupported_ops.items())]
    for w in profile.warnings:
        lines.append(f"note: {ts(w)}")
    return "\n".join(lines)


LAYER_CSV_COLUMNS = [
    "name",
    "type",
    "scope",
    "params",
    "macs",
    "flops",
    "weight_bytes",
    "activation_bytes",
    "latency_ms",
    "counted",
    "input_shapes",
    "output_shapes",
    "unsupported_ops",
]


def layers_csv(profile: Profile) -> str:
    """The per-layer table as CSV text (shapes as `1x3x224x224;…`, empty cells for unmeasured;
    a text cell that a spreadsheet would run as a formula is quoted, see `textsafe.csv_safe`)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(LAYER_CSV_COLUMNS)
    for r in profile.layers:
        writer.writerow(
            csv_safe_row(
                [
                    r.name,
                    r.type,
                    r.scope,
                    r.params,
                    r.macs,
                    r.flops,
                    r.weight_bytes,
                    r.activation_bytes,
                    "" if r.latency_ms is None else r.latency_ms,
                    str(r.counted).lower(),
                    ";".join("x".join(map(str, s)) for s in r.input_shapes),
                    ";".join("x".join(map(str, s)) for s in r.output_shapes),
                    ";".join(r.unsupported_ops),
                ]
            )
        )
    return buf.getvalue()
