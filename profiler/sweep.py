"""`tradeoff sweep`: a grid of variants measured against the baseline, Pareto front marked.

The grid is the product of the prune, precision, batch and seq-len lists. Deltas are against
the baseline at the same batch and shape. A variant that fails keeps its row with `error` set.
Pareto optimality: no other successful variant is at least as good on latency (lower), fidelity
(higher cosine) and size (fewer weight bytes), and strictly better on one. Latency enters as
the baseline's figure times the measured ratio, and as the baseline's own when the change is not
significant, so noise never puts a variant on or off the front.
"""

from __future__ import annotations

import csv
import io
import itertools
from dataclasses import dataclass
from typing import Any

from . import units
from .codec import decode, decode_document
from .comparison import MIN_EFFECT, Comparison, RatioEstimate
from .errors import InputError
from .kernel_paths import (
    DeviceFacts,
    check_against_measurement,
    findings_lines,
    kernel_paths_record,
    predict_variant,
)
from .precision_share import mac_share_by_precision, share_caption
from .result import ModelInfo, Profile, RunConfig, Totals
from .textsafe import csv_safe_row, terminal_safe
from .variant import Variant
from .whatif import VariantResult

SWEEP_SCHEMA = "tradeoff.sweep/1"


def parse_list(text: str | None, option: str, kind: type) -> list[Any]:
    """`0,0.3,0.5` -> [0.0, 0.3, 0.5]; None -> [None]."""
    if text is None:
        return [None]
    values = []
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        try:
            values.append(kind(part))
        except ValueError:
            raise InputError(option, f"{part!r} is not a valid {kind.__name__}") from None
    if not values:
        raise InputError(option, "the list is empty")
    return values


def grid(
    prunes: list[float | None],
    precisions: list[str | None],
    batches: list[int | None],
    seq_lens: list[int | None],
    *,
    prune_method: str | None = None,
    runtime: str | None = None,
    device: str = "cpu",
) -> list[Variant]:
    """Every combination, baseline-like ones first, duplicates removed, in a stable order."""
    out: list[Variant] = []
    for prune, precision, batch, seq in itertools.product(prunes, precisions, batches, seq_lens):
        v = Variant(
            prune=float(prune or 0.0),
            prune_method=prune_method if prune else None,
            precision=precision or "fp32",
            batch=batch,
            seq_len=seq,
            runtime=runtime,
            device=device,
        )
        if v not in out:
            out.append(v)
    return out


@dataclass(frozen=True)
class SweepEntry:
    """One row of the sweep."""

    result: VariantResult
    pareto: bool
    #: the per-layer kernel-path prediction and its check against the measurement
    #: (profiler.kernel_paths.kernel_paths_record); None for a failed variant
    kernel_paths: dict[str, Any] | None = None
    #: the cluster node that measured it (host, CPU, GPU, driver, versions); None for a local run
    environment: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        r = self.result
        v = r.variant
        p = r.profile
        config = {
            "prune": v.prune,
            "prune_method": v.method if v.pruned else None,
            "precision": v.precision,
            "batch": p.config.batch if p else v.batch,
            "seq_len": v.seq_len,
            "runtime": p.config.runtime if p else (v.runtime or None),
            "device": v.device,
            **({"recover_steps": v.recover_steps} if getattr(v, "recover_steps", None) else {}),
            **({"recover_budget_s": v.recover_budget_s} if getattr(v, "recover_budget_s", None) else {}),
        }
        return {
            "config": config,
            "totals": None if p is None else p.totals.to_dict(),
            "delta": dict(r.delta) if r.error is None else None,
            "fidelity": None if r.fidelity is None else r.fidelity.to_dict(),
            "pareto": self.pareto,
            "notes": list(r.notes),
            "error": r.error,
            "prune_report": r.prune_report,
            "effective_macs": r.effective_macs,
            "label": v.label(),
            "latency_ratio": None if r.latency_ratio is None else r.latency_ratio.to_dict(),
            "throughput_ratio": None if r.throughput_ratio is None else r.throughput_ratio.to_dict(),
            "comparison": None if r.comparison is None else r.comparison.to_dict(),
            # share of MACs per precision the variant runs in (int8 dynamic quantization
            # converts only some layers); the planner projects each share at its own peak
            "mac_share": None if p is None else mac_share_by_precision(p),
            **({"recover": r.recover} if getattr(r, "recover", None) else {}),
            "kernel_paths": self.kernel_paths,
            **({"environment": self.environment} if self.environment is not None else {}),
        }


@dataclass(frozen=True)
class Sweep:
    model: ModelInfo
    baseline: Profile
    entries: tuple[SweepEntry, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SWEEP_SCHEMA,
            "model": self.model.to_dict(),
            "baseline": {"config": self.baseline.config.to_dict(), "totals": self.baseline.totals.to_dict()},
            "variants": [e.to_dict() for e in self.entries],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SweepDocument:
        """Sweeps read back as a document view (the variants' full profiles are not stored)."""
        return SweepDocument.from_dict(d)

    def check(self) -> None:
        ok = [e for e in self.entries if e.result.error is None]
        assert all(e.result.profile is not None for e in ok), "successful variant without totals"
        assert all(not e.pareto for e in self.entries if e.result.error is not None), "a failed variant on the front"
        if ok:
            assert any(e.pareto for e in ok), "no Pareto-optimal variant among successful ones"


@dataclass(frozen=True)
class SweepDocument:
    model: ModelInfo
    baseline_config: RunConfig
    baseline_totals: Totals
    variants: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SWEEP_SCHEMA,
            "model": self.model.to_dict(),
            "baseline": {"config": self.baseline_config.to_dict(), "totals": self.baseline_totals.to_dict()},
            "variants": list(self.variants),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SweepDocument:
        """SchemaError (an InputError) names the path of the first value that does not fit."""
        body = decode_document(_SweepFile, d, SWEEP_SCHEMA)
        return cls(
            model=body.model,
            baseline_config=body.baseline.config,
            baseline_totals=body.baseline.totals,
            variants=body.variants,
        )


@dataclass(frozen=True)
class _SweepBaseline:
    config: RunConfig
    totals: Totals


@dataclass(frozen=True)
class _SweepRow:
    """What every row of `variants` must hold (checked on reading; the row is kept as a dict)."""

    config: dict[str, Any]
    totals: Totals | None
    delta: dict[str, Any] | None
    fidelity: dict[str, Any] | None
    pareto: bool
    notes: tuple[str, ...]
    error: str | None
    label: str
    latency_ratio: RatioEstimate | None = None
    throughput_ratio: RatioEstimate | None = None
    comparison: Comparison | None = None
    kernel_paths: _KernelPaths | None = None
    environment: dict[str, Any] | None = None


@dataclass(frozen=True)
class _KernelPathLayer:
    layer: str
    kind: str
    verdict: str
    reason: str
    measured: dict[str, Any] | None
    flags: tuple[str, ...]


@dataclass(frozen=True)
class _KernelPaths:
    """What a row's `kernel_paths` must hold (checked on reading)."""

    device: str
    cpu_flags: tuple[str, ...]
    cuda_capability: tuple[int, ...] | None
    summary: str
    counts: dict[str, int]
    findings: int
    layers: tuple[_KernelPathLayer, ...]


@dataclass(frozen=True)
class _SweepFile:
    model: ModelInfo
    baseline: _SweepBaseline
    variants: tuple[dict[str, Any], ...]

    def __post_init__(self) -> None:
        for i, row in enumerate(self.variants):
            decode(_SweepRow, row, document=SWEEP_SCHEMA, path=f"$.variants[{i}]")


def _objectives(r: VariantResult) -> tuple[float, float, float] | None:
    """(latency, -cosine, weight bytes): smaller is better on each."""
    if r.error is not None or r.profile is None:
        return None
    lat = r.profile.totals.latency_ms.median if r.profile.totals.latency_ms else float("inf")
    base_lat = r.baseline.totals.latency_ms if r.baseline is not None else None
    if r.latency_ratio is not None and base_lat is not None:
        # Through the measured ratio to the (shared) baseline figure: a change that is not
        # significant ties with the baseline instead of winning or losing on noise.
        lat = base_lat.median * (r.latency_ratio.value if r.latency_ratio.significant else 1.0)
    # Per-sample latency, so a larger batch competes on throughput, not on wall time per call.
    lat = lat / max(1, r.profile.config.batch)
    cos = r.fidelity.cosine if r.fidelity is not None else 0.0
    return (lat, -cos, float(r.profile.totals.weight_bytes))


def pareto_flags(results: list[VariantResult]) -> list[bool]:
    """True for each result no other result dominates."""
    objs = [_objectives(r) for r in results]
    flags = []
    for i, oi in enumerate(objs):
        if oi is None:
            flags.append(False)
            continue
        dominated = any(
            oj is not None
            and j != i
            and all(a <= b for a, b in zip(oj, oi, strict=True))
            and any(a < b for a, b in zip(oj, oi, strict=True))
            for j, oj in enumerate(objs)
        )
        flags.append(not dominated)
    return flags


def build_sweep(
    model: ModelInfo,
    baseline: Profile,
    results: list[VariantResult],
    facts: DeviceFacts | None = None,
    environments: list[dict[str, Any] | None] | None = None,
) -> Sweep:
    """The sweep of `results`: Pareto flags and each row's kernel-path record (`facts`: the
    device's; default this machine's, read once per device; a row measured on a cluster node
    uses the facts its own profile states). `environments`: each row's node, for a cluster run."""
    flags = pareto_flags(results)
    detected: dict[str, DeviceFacts] = {}

    def paths(r: VariantResult) -> dict[str, Any] | None:
        if r.error is not None or r.profile is None or r.baseline is None:
            return None
        device = str(r.variant.device)
        f = facts or detected.get(device) or detected.setdefault(device, DeviceFacts.detect(device))
        return kernel_paths_record(r.baseline, r.variant, f, r.profile)

    def node_paths(r: VariantResult, env: dict[str, Any]) -> dict[str, Any] | None:
        if r.error is not None or r.profile is None or r.baseline is None:
            return None
        return kernel_paths_record(r.baseline, r.variant, node_facts(env, str(r.variant.device)), r.profile)

    envs = environments or [None] * len(results)
    entries = tuple(
        SweepEntry(r, f, paths(r) if env is None else node_paths(r, env), env)
        for r, f, env in zip(results, flags, envs, strict=True)
    )
    return Sweep(model=model, baseline=baseline, entries=entries)


def node_facts(env: dict[str, Any], device: str) -> DeviceFacts:
    """The kernel-path facts of the cluster node a row ran on (its CPU flags, its GPU's compute
    capability), from the row's `environment`."""
    raw = env.get("kernel_facts")
    kf: dict[str, Any] = raw if isinstance(raw, dict) else {}
    cap = kf.get("cuda_capability")
    capability = (int(cap[0]), int(cap[1])) if isinstance(cap, list | tuple) and len(cap) == 2 else None
    return DeviceFacts(
        device=device,
        cpu_flags=frozenset(str(x) for x in kf.get("cpu_flags") or ()),
        cuda_capability=capability if device == "cuda" else None,
    )


SWEEP_CSV_COLUMNS = [
    "label",
    "prune",
    "prune_method",
    "precision",
    "batch",
    "seq_len",
    "runtime",
    "device",
    "latency_ms",
    "params",
    "macs",
    "weight_bytes",
    "delta_latency",
    "delta_params",
    "delta_macs",
    "cosine",
    "max_abs_error",
    "top1_agreement",
    "accuracy",
    "pareto",
    "error",
    "latency_p10_ms",
    "latency_p90_ms",
    "latency_ratio_ci_low",
    "latency_ratio_ci_high",
    "latency_change_significant",
    "noisy",
]


def sweep_csv(sweep: Sweep) -> str:
    """One row per variant (SWEEP_CSV_COLUMNS); text cells a spreadsheet would run as a
    formula are quoted (`textsafe.csv_safe`)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(SWEEP_CSV_COLUMNS)
    for e in sweep.entries:
        d = e.to_dict()
        c, t, dl, f = d["config"], d["totals"] or {}, d["delta"] or {}, d["fidelity"] or {}
        lat = (t.get("latency_ms") or {}).get("median")
        w.writerow(
            csv_safe_row(
                [
                    d["label"],
                    c["prune"],
                    c["prune_method"] or "",
                    c["precision"],
                    c["batch"],
                    c["seq_len"] or "",
                    c["runtime"] or "",
                    c["device"],
                    "" if lat is None else lat,
                    t.get("params", ""),
                    t.get("macs", ""),
                    t.get("weight_bytes", ""),
                    _blank(dl.get("latency")),
                    _blank(dl.get("params")),
                    _blank(dl.get("macs")),
                    _blank(f.get("cosine")),
                    _blank(f.get("max_abs_error")),
                    _blank(f.get("top1_agreement")),
                    _blank(f.get("accuracy")),
                    str(d["pareto"]).lower(),
                    d["error"] or "",
                    _blank((t.get("latency_ms") or {}).get("p10")),
                    _blank((t.get("latency_ms") or {}).get("p90")),
                    _blank((d["latency_ratio"] or {}).get("ci_low")),
                    _blank((d["latency_ratio"] or {}).get("ci_high")),
                    "" if d["latency_ratio"] is None else str(d["latency_ratio"]["significant"]).lower(),
                    "" if not t.get("latency_ms") else str(bool(t["latency_ms"].get("noisy"))).lower(),
                ]
            )
        )
    return buf.getvalue()


def _blank(x: Any) -> Any:
    return "" if x is None else x


def render_sweep(sweep: Sweep, facts: DeviceFacts | None = None) -> str:
    """A terminal table: one row per variant with its measured change against the baseline (with
    the interval, or '≈ no measurable change'), ratios and fidelity; * marks the Pareto front.
    Below it, per variant, the layers whose measured change contradicts the kernel-path
    prediction or that got smaller but slower (profiler/kernel_paths.py; `facts` defaults to
    this machine's). Text from the model (names, labels, errors, notes) is passed through
    `terminal_safe`."""
    b = sweep.baseline.totals
    header = ["", "variant", "latency", "p10–p90", "vs baseline (measured)", "× params", "× MACs", "weights"]
    header += ["cosine", "top-1"]
    # labelled samples (--inputs with y, or a demo's own): the accuracy each variant really has
    labelled = any(e.result.fidelity is not None and e.result.fidelity.accuracy is not None for e in sweep.entries)
    if labelled:
        header.append("accuracy")
    header.append("note")
    rows = []
    busy: list[str] = []
    for e in sweep.entries:
        r = e.result
        if r.error is not None:
            dashes = ["—"] * (len(header) - 3)
            rows.append(["", terminal_safe(r.variant.label()), *dashes, "error: " + terminal_safe(r.error)[:90]])
            continue
        assert r.profile is not None
        t = r.profile.totals
        f = r.fidelity
        noise = units.noise_note(t.latency_ms, r.comparison.foreign_cpu_percent if r.comparison else None)
        if noise:
            busy.append(f"{terminal_safe(r.variant.label())}: {noise}")
        rows.append(
            [
                "*" if e.pareto else "",
                terminal_safe(r.variant.label()),
                units.duration_ms(t.latency_ms.median if t.latency_ms else None),
                units.spread_ms(t.latency_ms),
                _change(r),
                _x(r.delta.get("params")),
                _x(r.delta.get("macs")),
                units.size_bytes(t.weight_bytes),
                units.fidelity(f.cosine if f else None),
                units.percent(f.top1_agreement) if f and f.top1_agreement is not None else units.DASH,
                *([units.percent(f.accuracy) if f and f.accuracy is not None else units.DASH] if labelled else []),
                ("noisy! " if noise else "")
                + (f"{share}; " if (share := share_caption(r.profile)) else "")
                + (terminal_safe(r.notes[0])[:70] if r.notes else ""),
            ]
        )
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    lines = [
        f"Sweep of {terminal_safe(sweep.model.name)}: baseline {units.duration_ms(b.latency_ms.median)} "
        f"(p10–p90 {units.spread_ms(b.latency_ms)}, measured), {b.params:,} params, {b.macs:,} MACs (counted)"
        if b.latency_ms
        else f"Sweep of {terminal_safe(sweep.model.name)}",
        "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)),
        "  ".join("-" * w for w in widths),
    ]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    lines.append(
        "* Pareto-optimal (latency per sample, cosine fidelity, weight bytes); × = variant ÷ baseline at the same batch"
    )
    lines.append(
        "vs baseline: variant and baseline timed alternately in one run; 95 % interval in brackets; "
        f"'≈ no measurable change' when it spans 1 or the change is under {MIN_EFFECT:.0%}"
    )
    lines += [f"! {line}" for line in busy]
    lines += _kernel_path_block(sweep, facts)
    return "\n".join(lines)


def _kernel_path_block(sweep: Sweep, facts: DeviceFacts | None) -> list[str]:
    """Per variant, at most a few lines: layers measured against their predicted kernel path
    (changes beyond the rows' p10–p90 spreads only) and layers predicted slower."""
    detected: dict[str, DeviceFacts] = {}
    block: list[str] = []
    for e in sweep.entries:
        r = e.result
        if r.error is not None or r.profile is None or r.baseline is None:
            continue
        device = str(r.variant.device)
        if e.environment is not None:
            f = node_facts(e.environment, device)
        else:
            f = facts or detected.get(device) or detected.setdefault(device, DeviceFacts.detect(device))
        predictions = predict_variant(r.baseline, r.variant, f, r.profile)
        findings = check_against_measurement(r.baseline, r.profile, predictions)
        block += [f"! {terminal_safe(line)}" for line in findings_lines(r.variant.label(), predictions, findings)]
    if not block:
        return []
    head = "per layer: kernel path predicted from the device's features; measured changes beyond the p10–p90 spread"
    return [head, *block]


def _change(r: VariantResult) -> str:
    """The measured latency change, or the plain ratio when no experiment was run (e.g. --no-latency)."""
    if r.latency_ratio is not None and r.latency_ratio.rounds == 0:
        return "baseline"
    if r.latency_ratio is not None:
        return units.speed_change(r.latency_ratio)
    return _x(r.delta.get("latency"))


def _x(v: float | None) -> str:
    return units.times(v)
