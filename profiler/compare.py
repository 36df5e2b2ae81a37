"""Two models side by side (`tradeoff compare A B`): totals and their B ÷ A ratios, per-layer rows
aligned, output fidelity of B against A, and the serving cost of each (computed by the caller:
the planner sits above this package).

Layers are aligned in three passes, each over the rows the earlier passes left unmatched:

1. **name** — the same layer name in both (a model and its pruned or quantized copy);
2. **scope** — the same module path: a torch row's name ("layer1.0.conv1"), an ONNX node's scope
   rebuilt as a dotted path ("layer1/layer1.0/conv1" → "layer1.0.conv1"); several rows under one
   path pair in their order (PyTorch vs its ONNX export);
3. **order** — rows of the same kind of layer (Conv2d ≈ Conv, Linear ≈ Gemm, BatchNorm2d ≈
   BatchNormalization, …) pair in their order within the model (a renamed or re-nested copy).

What is left is listed as only in A (`only_a`) or only in B (`only_b`). Qt-free; torch loads
only in the worker (profiler/tasks.py `compare_task`).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .fidelity import Fidelity
from .result import LayerRow, Profile
from .textsafe import csv_safe_row, terminal_safe

COMPARE_SCHEMA = "tradeoff.compare/1"

#: layer kinds that are the same operation under another runtime's name
_KIND_ALIASES = {
    "gemm": "linear",
    "matmul": "linear",
    "batchnormalization": "batchnorm",
    "maxpool": "maxpool",
    "averagepool": "avgpool",
    "globalaveragepool": "adaptiveavgpool",
    "convtranspose": "convtranspose",
    "layernormalization": "layernorm",
    "gelu": "gelu",
    "softmax": "softmax",
}


def layer_kind(type_name: str) -> str:
    """A runtime-neutral kind: "Conv2d" and "Conv" are both "conv", "Gemm" is "linear"."""
    t = re.sub(r"[0-9]d$", "", type_name.strip().lower())  # conv2d → conv, batchnorm1d → batchnorm
    t = t.split("::")[-1]
    return _KIND_ALIASES.get(t, t)


def module_path(row: LayerRow) -> str:
    """The module a row belongs to, as a dotted path: a torch row's name; for an ONNX node
    ("/layer1/layer1.0/conv1/Conv", scope "layer1/layer1.0/conv1") its scope, rebuilt."""
    if not row.name.startswith("/"):
        return row.name
    path = ""
    for part in (p for p in row.scope.split("/") if p and not p.startswith("(")):
        path = part if not path or part.startswith(path + ".") else f"{path}.{part}"
    return path


@dataclass(frozen=True)
class LayerPair:
    """One aligned row: A's layer and B's (either None when only in the other), and B − A."""

    name_a: str | None
    name_b: str | None
    match: str  # name | scope | order | only_a | only_b
    type_a: str | None
    type_b: str | None
    params_a: int | None
    params_b: int | None
    macs_a: int | None
    macs_b: int | None
    memory_bytes_a: int | None  # weight + activation bytes
    memory_bytes_b: int | None
    latency_ms_a: float | None
    latency_ms_b: float | None

    @staticmethod
    def _delta(a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None else b - a

    @property
    def params_delta(self) -> int | None:
        d = self._delta(self.params_a, self.params_b)
        return None if d is None else int(d)

    @property
    def macs_delta(self) -> int | None:
        d = self._delta(self.macs_a, self.macs_b)
        return None if d is None else int(d)

    @property
    def memory_bytes_delta(self) -> int | None:
        d = self._delta(self.memory_bytes_a, self.memory_bytes_b)
        return None if d is None else int(d)

    @property
    def latency_ms_delta(self) -> float | None:
        return self._delta(self.latency_ms_a, self.latency_ms_b)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name_a": self.name_a, "name_b": self.name_b, "match": self.match,
            "type_a": self.type_a, "type_b": self.type_b,
            "params_a": self.params_a, "params_b": self.params_b, "params_delta": self.params_delta,
            "macs_a": self.macs_a, "macs_b": self.macs_b, "macs_delta": self.macs_delta,
            "memory_bytes_a": self.memory_bytes_a, "memory_bytes_b": self.memory_bytes_b,
            "memory_bytes_delta": self.memory_bytes_delta,
            "latency_ms_a": self.latency_ms_a, "latency_ms_b": self.latency_ms_b,
            "latency_ms_delta": self.latency_ms_delta,
        }  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LayerPair:
        values: dict[str, Any] = {k: d.get(k) for k in cls.__dataclass_fields__}
        return cls(**values)


def _pair(a: LayerRow | None, b: LayerRow | None, match: str) -> LayerPair:
    def side(r: LayerRow | None) -> tuple[Any, ...]:
        if r is None:
            return (None,) * 6
        return (r.name, r.type, r.params, r.macs, r.weight_bytes + r.activation_bytes, r.latency_ms)

    na, ta, pa, ma, wa, la = side(a)
    nb, tb, pb, mb, wb, lb = side(b)
    return LayerPair(na, nb, match, ta, tb, pa, pb, ma, mb, wa, wb, la, lb)


def align_layers(a: tuple[LayerRow, ...], b: tuple[LayerRow, ...]) -> list[LayerPair]:
    """Pair A's rows with B's: by name, then by module path, then by order within a layer kind
    (the module docstring); in A's order, each row only in B after the A row it followed."""
    match_of_a: dict[int, tuple[int, str]] = {}
    used_b: set[int] = set()

    b_by_name = {r.name: j for j, r in enumerate(b)}
    for i, r in enumerate(a):
        j = b_by_name.get(r.name)
        if j is not None:
            match_of_a[i] = (j, "name")
            used_b.add(j)

    def by_key(rows: tuple[LayerRow, ...], skip: set[int], key: Any) -> dict[str, list[int]]:
        groups: dict[str, list[int]] = {}
        for k, r in enumerate(rows):
            if k not in skip:
                groups.setdefault(key(r), []).append(k)
        return groups

    for stage, key in (("scope", module_path), ("order", lambda r: layer_kind(r.type))):
        ga = by_key(a, set(match_of_a), key)
        gb = by_key(b, used_b, key)
        for k, a_idx in ga.items():
            if not k:
                continue
            for i, j in zip(a_idx, gb.get(k, []), strict=False):
                match_of_a[i] = (j, stage)
                used_b.add(j)

    # B-only rows go after the B row before them that has a partner (or first)
    b_partner = {j: i for i, (j, _) in match_of_a.items()}
    only_b_after: dict[int, list[int]] = {}
    anchor = -1
    for j in range(len(b)):
        if j in b_partner:
            anchor = b_partner[j]
        elif j not in used_b:
            only_b_after.setdefault(anchor, []).append(j)
    pairs = [_pair(None, b[j], "only_b") for j in only_b_after.get(-1, [])]
    for i, r in enumerate(a):
        if i in match_of_a:
            j, stage = match_of_a[i]
            pairs.append(_pair(r, b[j], stage))
        else:
            pairs.append(_pair(r, None, "only_a"))
        pairs.extend(_pair(None, b[j], "only_b") for j in only_b_after.get(i, []))
    return pairs


# --------------------------------------------------------------------------------- totals


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or a == 0:
        return None
    return b / a


def totals_of(p: Profile) -> dict[str, Any]:
    t = p.totals
    lat = t.latency_ms
    return {
        "params": t.params,
        "macs": t.macs,
        "flops": t.flops,
        "weight_bytes": t.weight_bytes,
        "activation_peak_bytes": t.activation_peak_bytes,
        "latency_median_ms": None if lat is None else lat.median,
        "latency_p10_ms": None if lat is None else lat.p10,
        "latency_p90_ms": None if lat is None else lat.p90,
    }


RATIO_KEYS = ("params", "macs", "flops", "weight_bytes", "activation_peak_bytes", "latency_median_ms")


@dataclass(frozen=True)
class Comparison:
    """`tradeoff compare`'s result (`tradeoff.compare/1`). `fidelity` is None with the reason in
    `fidelity_note`; `costs` holds each side's serving answer (planner.answer), from the caller."""

    source_a: str
    source_b: str
    profile_a: Profile
    profile_b: Profile
    layers: tuple[LayerPair, ...]
    fidelity: Fidelity | None
    fidelity_note: str | None = None
    costs: dict[str, Any] | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def totals_a(self) -> dict[str, Any]:
        return totals_of(self.profile_a)

    @property
    def totals_b(self) -> dict[str, Any]:
        return totals_of(self.profile_b)

    @property
    def ratios(self) -> dict[str, float | None]:
        ta, tb = self.totals_a, self.totals_b
        return {k: _ratio(ta[k], tb[k]) for k in RATIO_KEYS}

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": COMPARE_SCHEMA,
            "a": {"source": self.source_a, "profile": self.profile_a.to_dict()},
            "b": {"source": self.source_b, "profile": self.profile_b.to_dict()},
            "totals": {"a": self.totals_a, "b": self.totals_b, "ratio_b_over_a": self.ratios},
            "layers": [p.to_dict() for p in self.layers],
            "fidelity": None if self.fidelity is None else self.fidelity.to_dict(),
            "fidelity_note": self.fidelity_note,
            "costs": self.costs,
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Comparison:
        if d.get("schema") != COMPARE_SCHEMA:
            raise ValueError(f"not a {COMPARE_SCHEMA} document (schema {d.get('schema')!r})")
        fid = d.get("fidelity")
        return cls(
            source_a=d["a"]["source"],
            source_b=d["b"]["source"],
            profile_a=Profile.from_dict(d["a"]["profile"]),
            profile_b=Profile.from_dict(d["b"]["profile"]),
            layers=tuple(LayerPair.from_dict(x) for x in d.get("layers", ())),
            fidelity=None if fid is None else Fidelity.from_dict(fid),
            fidelity_note=d.get("fidelity_note"),
            costs=d.get("costs"),
            notes=tuple(d.get("notes", ())),
        )

    def check(self) -> None:
        names_a = [p.name_a for p in self.layers if p.name_a is not None]
        names_b = [p.name_b for p in self.layers if p.name_b is not None]
        assert sorted(names_a) == sorted(r.name for r in self.profile_a.layers), "A's layers not each aligned once"
        assert sorted(names_b) == sorted(r.name for r in self.profile_b.layers), "B's layers not each aligned once"
        assert all((p.name_a is None) == (p.match == "only_b") for p in self.layers), "only_b rows"
        assert all((p.name_b is None) == (p.match == "only_a") for p in self.layers), "only_a rows"


def build_comparison(
    source_a: str,
    profile_a: Profile,
    source_b: str,
    profile_b: Profile,
    *,
    fidelity: Fidelity | None = None,
    fidelity_note: str | None = None,
    costs: dict[str, Any] | None = None,
) -> Comparison:
    notes: list[str] = []
    if [(s.shape, s.dtype) for s in profile_a.inputs] != [(s.shape, s.dtype) for s in profile_b.inputs]:
        notes.append("the two were profiled on different input shapes: per-layer figures are not like for like")
    return Comparison(
        source_a, source_b, profile_a, profile_b, tuple(align_layers(profile_a.layers, profile_b.layers)),
        fidelity, fidelity_note, costs, tuple(notes),
    )  # fmt: skip


def input_mismatch(a: Profile, b: Profile) -> str | None:
    """Why the two cannot be run on the same inputs, or None when their input specs match
    (by position: an ONNX export may rename its inputs)."""
    sa, sb = a.inputs, b.inputs
    if len(sa) != len(sb):
        return f"A takes {len(sa)} input(s), B takes {len(sb)}"
    for x, y in zip(sa, sb, strict=True):
        if x.shape != y.shape or x.dtype != y.dtype:
            return (
                f"input {x.name} is {'x'.join(map(str, x.shape))} {x.dtype} in A, "
                f"{y.name} is {'x'.join(map(str, y.shape))} {y.dtype} in B"
            )
    return None


# --------------------------------------------------------------------------------- output


def top_pairs(c: Comparison, n: int) -> list[LayerPair]:
    """The n rows that changed most: by |latency delta| where the layers were timed, else |MAC
    delta|; a row in one model only counts with its own figure."""
    timed = any(p.latency_ms_delta is not None for p in c.layers)

    def key(p: LayerPair) -> tuple[float, float]:
        # a row in one model only counts with its own figures (what was removed or added)
        own = p.latency_ms_a if p.latency_ms_a is not None else p.latency_ms_b
        lat = (abs(p.latency_ms_delta) if p.latency_ms_delta is not None else abs(own or 0.0)) if timed else 0.0
        one = p.macs_a if p.macs_a is not None else p.macs_b
        macs = abs(p.macs_delta) if p.macs_delta is not None else float(one or 0)
        return (lat, macs)

    return sorted(c.layers, key=key, reverse=True)[:n]


def _signed(value: float | None, fmt: Callable[[float], str]) -> str:
    if value is None:
        return "—"
    return ("+" if value > 0 else "−" if value < 0 else "±") + fmt(abs(value))


def render_comparison(c: Comparison, top: int = 10) -> str:
    from . import units

    ta, tb, ratios = c.totals_a, c.totals_b, c.ratios
    out = [terminal_safe(f"A: {c.source_a}   ({c.profile_a.model.name}, {c.profile_a.config.runtime})")]
    out.append(terminal_safe(f"B: {c.source_b}   ({c.profile_b.model.name}, {c.profile_b.config.runtime})"))
    out.append("")

    def lat(t: dict[str, Any], p: Profile) -> str:
        if t["latency_median_ms"] is None:
            return "not measured"
        noisy = " noisy" if p.totals.latency_ms is not None and p.totals.latency_ms.noisy else ""
        return (
            f"{units.duration_ms(t['latency_median_ms'])} "
            f"({units.duration_ms(t['latency_p10_ms'])}–{units.duration_ms(t['latency_p90_ms'])}){noisy}"
        )

    rows = [
        ("params", units.count(ta["params"]), units.count(tb["params"]), ratios["params"]),
        ("MACs", units.count(ta["macs"]), units.count(tb["macs"]), ratios["macs"]),
        ("FLOPs", units.count(ta["flops"]), units.count(tb["flops"]), ratios["flops"]),
        ("weights", units.size_bytes(ta["weight_bytes"]), units.size_bytes(tb["weight_bytes"]), ratios["weight_bytes"]),
        (
            "activation peak",
            units.size_bytes(ta["activation_peak_bytes"]),
            units.size_bytes(tb["activation_peak_bytes"]),
            ratios["activation_peak_bytes"],
        ),
        ("latency (p10–p90)", lat(ta, c.profile_a), lat(tb, c.profile_b), ratios["latency_median_ms"]),
    ]
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows + [("", "A", "", None)])
    w2 = max(len(r[2]) for r in rows + [("", "", "B", None)])
    out.append(f"{'totals':{w0}}  {'A':>{w1}}  {'B':>{w2}}  B ÷ A")
    for name, a, b, r in rows:
        out.append(f"{name:{w0}}  {a:>{w1}}  {b:>{w2}}  {'—' if r is None else units.times(r)}")
    out.append("")

    counts: dict[str, int] = {}
    for p in c.layers:
        counts[p.match] = counts.get(p.match, 0) + 1
    order = ("name", "scope", "order", "only_a", "only_b")
    out.append("layers aligned: " + ", ".join(f"{counts[m]} by {m}" for m in order[:3] if m in counts) + "; ")
    out[-1] += f"{counts.get('only_a', 0)} only in A, {counts.get('only_b', 0)} only in B"
    picked = top_pairs(c, top)
    timed = any(p.latency_ms_delta is not None for p in c.layers)
    out.append(f"top {len(picked)} layers by {'|latency change|' if timed else '|MAC change|'}:")
    table: list[tuple[str, ...]] = [("A", "B", "match", "Δ params", "Δ MACs", "Δ memory", "Δ latency")]
    for p in picked:
        table.append(
            (
                p.name_a or "—",
                p.name_b or "—",
                p.match,
                _signed(p.params_delta, units.count),
                _signed(p.macs_delta, units.count),
                _signed(p.memory_bytes_delta, units.size_bytes),
                _signed(p.latency_ms_delta, units.duration_ms),
            )
        )
    table = [tuple(terminal_safe(x)[:40] for x in row) for row in table]
    widths = [max(len(row[k]) for row in table) for k in range(len(table[0]))]
    for row in table:
        out.append(
            "  ".join(f"{x:{w}}" if k < 3 else f"{x:>{w}}" for k, (x, w) in enumerate(zip(row, widths, strict=True)))
        )
    out.append("")

    f = c.fidelity
    if f is None:
        out.append(terminal_safe(f"fidelity: not comparable — {c.fidelity_note or 'not measured'}"))
    else:
        parts = [f"cosine {f.cosine:.6f}", f"max abs error {units.sig(f.max_abs_error)}"]
        if f.top1_agreement is not None:
            parts.append(f"top-1 agreement {units.percent(f.top1_agreement)}")
        if f.accuracy is not None:
            parts.append(f"accuracy A {units.percent(f.baseline_accuracy)}, B {units.percent(f.accuracy)}")
        out.append("fidelity of B against A: " + ", ".join(parts))
        if c.fidelity_note:
            out.append(terminal_safe(f"  {c.fidelity_note}"))

    if c.costs is not None:
        out.append("")
        out.extend(_cost_lines(c.costs))
    for n in c.notes:
        out.append(terminal_safe(f"note: {n}"))
    return "\n".join(out)


def _cost_lines(costs: dict[str, Any]) -> list[str]:
    from . import units

    out = ["cost (projected):"]
    for side in ("a", "b"):
        s = costs.get(side) or {}
        serving = s.get("serving")
        if serving is None:
            out.append(terminal_safe(f"  {side.upper()}: {s.get('unanswered') or 'no serving answer'}"))
        else:
            out.append(terminal_safe(f"  {side.upper()}: {serving.get('headline', '')}"))
    d = costs.get("difference")
    if d:
        unit = "/month" if d["basis"] == "usd_per_month" else " per million inferences"
        if units.usd(abs(d["b_minus_a"])) == units.usd(0.0):
            out.append(f"  B costs the same as A{unit.replace('/', ' per ') if unit.startswith('/') else unit}")
        else:
            verb = "less" if d["b_minus_a"] < 0 else "more"
            ratio = "" if d.get("ratio_b_over_a") is None else f", B ÷ A {units.times(d['ratio_b_over_a'])}"
            out.append(f"  B costs {units.usd(abs(d['b_minus_a']))}{unit} {verb} than A{ratio}")
    return out


CSV_COLUMNS = (
    "name_a", "name_b", "match", "type_a", "type_b", "params_a", "params_b", "params_delta", "macs_a", "macs_b",
    "macs_delta", "memory_bytes_a", "memory_bytes_b", "memory_bytes_delta", "latency_ms_a", "latency_ms_b",
    "latency_ms_delta",
)  # fmt: skip


def comparison_csv(c: Comparison) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for p in c.layers:
        d = p.to_dict()
        w.writerow(csv_safe_row("" if d[k] is None else d[k] for k in CSV_COLUMNS))
    return buf.getvalue()
