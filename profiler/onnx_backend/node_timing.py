"""Per-node ONNX timing with onnxruntime's profiler, attributed to the graph's rows.

Per node: a second session with onnxruntime's profiler on, `warmup + runs` runs, and the JSON
trace parsed (`per_node_samples_ms`). Each `cat == "Node"` event named "<node>_kernel_time" is
one kernel; events are grouped into runs by the enclosing "model_run" event and summed per row
per run, so a row has one sample per timed run. The session uses the same optimisation level
as the end-to-end timing (default: all). Optimisations rename, fuse or remove nodes; a profiled
name is attributed, in this order:
- to the row of that name;
- for the NCHWc layout transformer's "<output tensor>_nchwc", to the original node (the
  producer of that tensor, or the nearest node upstream of it with the same op type, e.g. the
  Conv of a fused Conv+Relu);
- to the rows it replaced: onnxruntime writes its optimised graph out (weights to a side file;
  models over `MAX_OPTIMIZED_DUMP_BYTES` skip this), and walking the original graph back from
  a fused node's outputs to tensors that still exist finds the nodes folded into it (a Gemm
  from MatMul+Add, a SkipLayerNormalization from Add+LayerNormalization, the Reshapes around a
  Gemm); the time is split over them by FLOPs (else output bytes, else equally);
- to the row its name starts with ("<row>/MatMulAddFusion");
- else it stays unassigned under its own name (ReorderInput, MemcpyToHost …).
Nodes whose name is empty or repeated are given the analysis's row names (`unique_node_names`)
before the session is built, so keys match the rows' names. Rows with no kernel of their own
(fused into a neighbour, removed, folded into a constant) have no samples.

`profiler_floor_ms` measures what the profiler reports for a node that does nothing (a chain
of one-element Adds); the backend subtracts it per event and scales the rows to the
end-to-end median (`profiler.layer_reconcile`).

Imports of onnxruntime, onnx and numpy happen inside the functions.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import MeasureError
from ..result import InputSpec
from .timing import _ort_message, _run_or_raise, make_session, random_feeds

if TYPE_CHECKING:
    pass


def _node_events(
    trace: list[dict[str, Any]], warmup: int
) -> tuple[list[dict[str, float]], dict[str, str], list[dict[str, int]]]:
    """Kernel µs per node name for each run after `warmup`, each name's op type, and event counts."""
    import bisect

    windows = sorted(
        (e["ts"], e["ts"] + e["dur"]) for e in trace if e.get("cat") == "Session" and e.get("name") == "model_run"
    )
    starts = [w[0] for w in windows]
    per_run: list[dict[str, float]] = [defaultdict(float) for _ in windows]
    counts: list[dict[str, int]] = [defaultdict(int) for _ in windows]
    op_of: dict[str, str] = {}
    for e in trace:
        if e.get("cat") != "Node" or not str(e.get("name", "")).endswith("_kernel_time"):
            continue
        args = e.get("args") or {}
        name = str(args.get("node_name") or e["name"][: -len("_kernel_time")])
        k = bisect.bisect_right(starts, e["ts"]) - 1
        if k < 0 or e["ts"] > windows[k][1]:
            continue
        per_run[k][name] += float(e["dur"])
        counts[k][name] += 1
        op_of.setdefault(name, str(args.get("op_name", "")))
    return per_run[warmup:], op_of, counts[warmup:]


def _original_node(name: str, op_name: str, graph: Any, producers: dict[str, int], names: list[str]) -> str | None:
    """The row an "<output>_nchwc" node stands for: the output's producer, or upstream of it by op type."""
    if not name.endswith("_nchwc"):
        return None
    index = producers.get(name[: -len("_nchwc")])
    first = index
    for _ in range(4):  # a fused Conv+Add+Relu puts a few nodes between the named tensor and the Conv
        if index is None:
            break
        node = graph.node[index]
        if not op_name or node.op_type == op_name:
            return names[index]
        index = producers.get(node.input[0]) if node.input else None
    return names[first] if first is not None else None


# --- per node: attribution of fused / renamed nodes, the profiler's floor ----------------------

#: optimised graphs of models up to this size are written out to map fused nodes back to rows;
#: bigger ones (the weights are written again) fall back on the names alone
MAX_OPTIMIZED_DUMP_BYTES = 1 << 30
_FLOOR_NODES = 64
_floor_cache: dict[tuple[int | None, str], float] = {}


@dataclass(frozen=True)
class NodeSamples:
    """Per-node profiling, attributed to the analysis's rows (times in ms, one entry per timed run).

    `samples_ms[row]`: the row's kernel time in each timed run, including its share of fused
    nodes; `events_per_run[row]`: how many kernel events landed on it per run (fractional for a
    share); `unassigned_ms[key]`: per-run time of nodes that map to no row (ReorderInput …);
    `fused_share`: median over runs of the fraction of kernel time that was reported under
    another node's name and split over the rows it replaced; `absent`: rows with no kernel of
    their own (fused into a neighbour, removed or folded into a constant by onnxruntime).
    """

    samples_ms: dict[str, list[float]]
    events_per_run: dict[str, float]
    unassigned_ms: dict[str, list[float]]
    fused_share: float
    absent: tuple[str, ...]
    runs: int


def _size_with_external(path: str) -> int:
    """The model file's bytes plus its external data files' (best effort)."""
    folder = os.path.dirname(os.path.abspath(path))
    total = os.path.getsize(path)
    try:
        import onnx

        graph = onnx.load(path, load_external_data=False).graph
        locations = {e.value for t in graph.initializer for e in t.external_data if e.key == "location"}
        total += sum(os.path.getsize(os.path.join(folder, loc)) for loc in locations)
    except Exception:  # an unreadable file fails later, with its own message
        pass
    return total


def _optimized_graph(path: str) -> Any | None:
    """The optimised graph onnxruntime wrote (initializers left out), or None."""
    import onnx

    if not os.path.exists(path):
        return None
    try:
        return onnx.load(path, load_external_data=False).graph
    except Exception:
        return None


def _covers(original: Any, names: list[str], optimized: Any | None) -> dict[str, list[str]]:
    """For each optimised node not named like a row: the original rows it replaced.

    A fused node's outputs keep the name of the last original tensor it computes (onnxruntime's
    fusions do); walking the original graph back from there, every node whose inputs are not
    materialised in the optimised graph was folded into it. A node whose outputs are new
    tensors (the Gemm between the Reshapes of a MatMul+Add fusion) takes the cover of the first
    node downstream that writes an original tensor.
    """
    if optimized is None:
        return {}
    rows = set(names)
    producer = {out: i for i, node in enumerate(original.node) for out in node.output if out}
    materialised = {t for n in optimized.node for t in (*n.input, *n.output) if t}
    materialised |= {v.name for v in optimized.input} | {t.name for t in optimized.initializer}
    consumers: dict[str, list[Any]] = defaultdict(list)
    for node in optimized.node:
        for t in node.input:
            consumers[t].append(node)

    def back(outputs: list[str]) -> list[str]:
        found: list[str] = []
        stack = [producer[t] for t in outputs if t in producer]
        seen: set[int] = set()
        while stack and len(seen) < 64:  # a fusion spans a few nodes: bound the walk
            i = stack.pop()
            if i in seen:
                continue
            seen.add(i)
            found.append(names[i])
            for t in original.node[i].input:
                if t and t not in materialised and t in producer:
                    stack.append(producer[t])
        return found

    out: dict[str, list[str]] = {}
    for node in optimized.node:
        if not node.name or node.name in rows:
            continue
        current, hops = node, 0
        while hops < 4 and not any(t in producer for t in current.output):
            nxt = [c for t in current.output for c in consumers.get(t, ())]
            if not nxt:
                break
            current, hops = nxt[0], hops + 1
        cover = back([t for t in current.output if t in producer])
        if cover:
            out[node.name] = cover
    return out


def _by_name(key: str, rows: set[str]) -> str | None:
    """A fused node named after its first original ("<row>/MatMulAddFusion", "<row>/…/")."""
    head = key.rstrip("/")
    while "/" in head:
        head = head.rsplit("/", 1)[0]
        if head in rows:
            return head
    return None


def _split(cover: list[str], weights: Mapping[str, tuple[float, float]]) -> list[tuple[str, float]]:
    """Shares of a fused node's time over the rows it replaced: by FLOPs, else by output bytes."""
    for k in (0, 1):
        w = {n: weights.get(n, (0.0, 0.0))[k] for n in cover}
        total = sum(w.values())
        if total > 0:
            return [(n, v / total) for n, v in w.items() if v > 0]
    return [(n, 1.0 / len(cover)) for n in cover]


def profiler_floor_ms(threads: int | None = None, device: str = "cpu") -> float:
    """The kernel time onnxruntime's profiler reports for a node that does nothing, in ms.

    Measured once per thread count on a chain of `_FLOOR_NODES` one-element Adds (no graph
    optimisation, so none is removed): the median event duration. Profiled per-node times
    include it whatever the node does (onnxruntime#20238). 0.0 where it cannot be measured.
    """
    key = (threads, device)
    if key in _floor_cache:
        return _floor_cache[key]
    import onnx
    from onnx import TensorProto, helper

    floor = 0.0
    with tempfile.TemporaryDirectory(prefix="tradeoff-ort-floor-") as tmp:
        nodes = [helper.make_node("Add", [f"t{i}", "one"], [f"t{i + 1}"], name=f"n{i}") for i in range(_FLOOR_NODES)]
        graph = helper.make_graph(
            nodes,
            "floor",
            [helper.make_tensor_value_info("t0", TensorProto.FLOAT, [1])],
            [helper.make_tensor_value_info(f"t{_FLOOR_NODES}", TensorProto.FLOAT, [1])],
            [helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0])],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        path = os.path.join(tmp, "floor.onnx")
        onnx.save(model, path)
        try:
            samples = _profile_runs(path, (InputSpec("t0", (1,), "float32"),), threads, device, "disable", 6, 2, tmp)[0]
        except Exception:  # no floor is better than no per-node times
            samples = []
        durations = sorted(us for run in samples for us in run.values())
        if durations:
            floor = statistics.median(durations) / 1000.0
    _floor_cache[key] = floor
    return floor


def _profile_runs(
    path: str,
    inputs: tuple[InputSpec, ...],
    threads: int | None,
    device: str,
    optimization: str,
    runs: int,
    warmup: int,
    tmp: str,
    vocab_size: int | None = None,
    optimized_out: str | None = None,
) -> tuple[list[dict[str, float]], dict[str, str], list[dict[str, int]]]:
    """Profile `warmup + runs` runs; kernel µs and event counts per node name for each timed run."""
    try:
        session = make_session(
            path,
            threads=threads,
            device=device,
            enable_profiling=True,
            profile_dir=tmp,
            optimization=optimization,
            optimized_out=optimized_out,
        )
    except MeasureError:
        if optimized_out is None:
            raise
        # Writing the optimised graph out is a convenience (fused nodes map by name without it).
        session = make_session(
            path, threads=threads, device=device, enable_profiling=True, profile_dir=tmp, optimization=optimization
        )
    feeds = random_feeds(session, inputs, vocab_size=vocab_size)
    run = _run_or_raise(path, session, feeds)  # the first warm-up run
    try:
        for _ in range(warmup - 1 + runs):
            run()
    except Exception as exc:
        raise MeasureError(path, f"onnxruntime could not run the model: {_ort_message(exc)}") from None
    trace_file = session.end_profiling()
    del session
    with open(trace_file, encoding="utf-8") as fh:
        trace = json.load(fh)
    return _node_events(trace, warmup)


def per_node_samples_ms(
    path: str,
    inputs: tuple[InputSpec, ...],
    *,
    threads: int | None = None,
    runs: int = 10,
    warmup: int = 2,
    device: str = "cpu",
    vocab_size: int | None = None,
    optimization: str = "all",
    weights: Mapping[str, tuple[float, float]] | None = None,
) -> NodeSamples:
    """Kernel time per row in each of `runs` profiled runs, fused nodes attributed to their rows.

    A profiled name is attributed, in this order, to: the row of that name; the Conv an
    "<output>_nchwc" node stands for; the rows an optimised node replaced (its cover in the
    graph onnxruntime wrote out, see `_covers`), split by `weights[row]` = (FLOPs, output
    bytes); the row its name starts with ("<row>/MatMulAddFusion"). What matches none stays
    in `unassigned_ms` under its own name. Raises MeasureError when the model cannot run.
    """
    from .graph import unique_node_names
    from .validation import load_checked_model

    runs = max(1, int(runs))
    warmup = max(1, int(warmup))  # the first run also allocates the arena: never timed
    with tempfile.TemporaryDirectory(prefix="tradeoff-ort-") as tmp:
        dump = (
            os.path.join(tmp, "optimized.onnx")
            if optimization != "disable" and _size_with_external(path) <= MAX_OPTIMIZED_DUMP_BYTES
            else None
        )
        timed, op_of, counts = _profile_runs(
            path, inputs, threads, device, optimization, runs, warmup, tmp, vocab_size, optimized_out=dump
        )
        optimized = _optimized_graph(dump) if dump else None

    model = load_checked_model(path, inline_functions=False)
    graph = model.graph
    names = unique_node_names(graph)
    producers = {out: i for i, node in enumerate(graph.node) for out in node.output if out}
    rows = set(names)
    covers = _covers(graph, names, optimized)
    w = weights or {}

    def attribute(key: str) -> list[tuple[str, float]]:
        if key in rows:
            return [(key, 1.0)]
        original = _original_node(key, op_of.get(key, ""), graph, producers, names)
        if original is not None:
            return [(original, 1.0)]
        if key in covers:
            return _split(covers[key], w)
        head = _by_name(key, rows)
        return [(head, 1.0)] if head is not None else []

    shares = {key: attribute(key) for run in timed for key in run}
    samples: dict[str, list[float]] = defaultdict(lambda: [0.0] * len(timed))
    events: dict[str, float] = defaultdict(float)
    unassigned: dict[str, list[float]] = defaultdict(lambda: [0.0] * len(timed))
    fused_per_run = [0.0] * len(timed)
    total_per_run = [sum(run.values()) / 1000.0 for run in timed]
    for k, run_events in enumerate(timed):
        for key, us in run_events.items():
            target = shares[key]
            if not target:
                unassigned[key][k] += us / 1000.0
                continue
            if target != [(key, 1.0)]:
                fused_per_run[k] += us / 1000.0
            for row, share in target:
                samples[row][k] += share * us / 1000.0
                events[row] += share * counts[k].get(key, 1) / len(timed)
    present = set(samples)
    return NodeSamples(
        samples_ms=dict(samples),
        events_per_run=dict(events),
        unassigned_ms=dict(unassigned),
        fused_share=statistics.median(
            f / t if t > 0 else 0.0 for f, t in zip(fused_per_run, total_per_run, strict=True)
        )
        if timed
        else 0.0,
        absent=tuple(n for n in names if n not in present),
        runs=len(timed),
    )


def per_node_latency_ms(
    path: str,
    inputs: tuple[InputSpec, ...],
    *,
    threads: int | None = None,
    runs: int = 10,
    warmup: int = 2,
    device: str = "cpu",
    vocab_size: int | None = None,
    optimization: str = "all",
    weights: Mapping[str, tuple[float, float]] | None = None,
) -> dict[str, float]:
    """Median raw kernel time per node over `runs` profiled runs, in milliseconds.

    Keys are the analysis's row names (`unique_node_names`), fused nodes' time attributed as
    `per_node_samples_ms` does (by `weights`, else equally); nodes onnxruntime added and
    that map to no row keep their own names. Raw: neither the profiler's floor removed nor
    scaled to end to end (the backend does both, `profiler.layer_reconcile`).
    Raises MeasureError when the model cannot run on `inputs`.
    """
    s = per_node_samples_ms(
        path,
        inputs,
        threads=threads,
        runs=runs,
        warmup=warmup,
        device=device,
        vocab_size=vocab_size,
        optimization=optimization,
        weights=weights,
    )
    out = {key: round(statistics.median(v), 6) for key, v in s.samples_ms.items()}
    out.update({key: round(statistics.median(v), 6) for key, v in s.unassigned_ms.items()})
    return out
