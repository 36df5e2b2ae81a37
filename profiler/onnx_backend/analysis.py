"""Static per-node analysis of an ONNX model: params, weight bytes, MACs, FLOPs, activations.

The graph's inputs are fixed to concrete shapes, shapes are inferred (ONNX's own inference
with data propagation; onnxruntime's symbolic inference as a fallback for contrib ops), and
every node gets a `LayerRow`. Nothing here runs the model: timing is in `onnx_backend.timing` and `onnx_backend.node_timing`.

Counting conventions (the same as the torch side, `torch_backend/flops.py`):

- 2 FLOPs per multiply-accumulate; `macs` stands beside `flops`. Only contractions are counted
  (`_FORMULAS`): Conv, ConvTranspose, Gemm, MatMul and their quantized forms, two-operand
  Einsum, LSTM/GRU/RNN (the W and R products; gate arithmetic is elementwise), the opset-23
  Attention and onnxruntime's com.microsoft Attention, QAttention, MultiHeadAttention,
  FusedMatMul, FusedConv, FusedGemm, QGemm, MatMulNBits, MatMulIntegerToFloat and
  DynamicQuantizeMatMul. Biases add no MACs; causal masks do not halve attention.
- Elementwise, normalisation, softmax, pooling, reduction, quantize/dequantize, reshape and
  data-movement ops cost zero by convention (`ZERO_COST_OPS`, an explicit list).
- Every other op is "unsupported": counted in `unsupported_ops` under "onnx::OpType" (default
  domain) or "domain::OpType", and its row has `counted=False`. A contraction whose shapes
  could not be inferred is reported the same way, with a warning: a number we cannot derive
  is never shown as zero. If/Loop/Scan are zero when every node of their bodies is
  zero-cost, else unsupported (their bodies are not unrolled).

Weights: graph initializers and the values of Constant nodes. A node's row counts the weights
it reads (through chains of nodes computed from weights alone, such as Identity, Transpose or
DequantizeLinear of a weight, which runtimes fold at load time: those intermediate nodes get
no weights and no activation bytes). Totals count each weight tensor once, so a tied or
shared weight appears in several rows but once in `params`. `params` counts the elements of
weights that behave like torch parameters; these count in `weight_bytes` but not in `params`,
as torch keeps them as buffers or literals: BatchNormalization running mean and variance,
quantization scales and zero points, Resize/Upsample scales, integer tensors (shapes, axes,
indices; int8/uint8/int4 weights and int32 quantized biases do count), and one-element
literals feeding non-contraction ops. MatMulNBits weights count as N*K logical parameters.

Rows: one per node of the main graph except Constant nodes (whose values are weights).
`name` is the node's name, or "<OpType>_<index>" when empty, made unique with a "_2", "_3"…
suffix (`unique_node_names`; the timing module renames the session's nodes the same way so
per-node latencies join by name). `scope` is the node's module path: for torch's legacy
exporter names like "/layer1/layer1.0/conv1/Conv" it is the components between the first and
last "/", joined by "/" ("layer1/layer1.0/conv1"); for the dynamo exporter, the
`pkg.torch.onnx.name_scopes` metadata without its root and leaf ("layer1/layer1.0/
layer1.0.conv1"); otherwise "". `input_shapes` lists the shapes of the activations a node
reads (weights excluded, as the torch side lists a module's arguments, and inputs of unknown
shape skipped); `output_shapes` its outputs' known shapes. `activation_bytes` is the bytes of
its outputs (0, with a warning, where a shape is unknown). `inputs_from` names the rows whose
outputs the node reads (`node_producers`): the graph's edges, graph inputs and weights excluded.

`activation_peak_bytes` replays the graph in order with liveness: a node's outputs are
allocated while its inputs are still alive, and a tensor is freed after its last consumer.
Graph inputs and weights are not activations; graph outputs stay alive to the end; Reshape,
Flatten, Squeeze, Unsqueeze and Identity outputs share their input's buffer (onnxruntime runs
them in place). A tensor computed from weights alone that holds more bytes than the weights it
comes from (ConstantOfShape, Expand, Tile, Range … of constants) is memory too: it counts in its
row's `activation_bytes` and in the peak, resident for the whole run when runtimes fold it at
load time, or as a run-time tensor over `MAX_FOLDED_ELEMENTS` (dequantized weights excepted:
runtimes fuse them into their consumer). None when some activation's size is unknown.

Hostile files: see `validation` (sizes, external data, functions), `folding` (bounded evaluation)
and `shapes` (symbolic inference confined, no file written).

Known limits: the counts describe the file as stored. An exporter that stores a tied weight
twice (torch's legacy exporter folds GPT-2's transposed lm_head into a second initializer)
gets it counted twice; one that merges identical initializers (the same exporter, on a freshly
initialised model whose BatchNorm/LayerNorm weights are all ones) gets them counted once.
External data is validated but only integer and small tensors are read (shape inference needs
their values); weights are never loaded, so a multi-GB model analyses in little memory.
Model-local functions are inlined before counting. GroupQueryAttention, SparseAttention and
the other com.microsoft ops not listed above are unsupported.

Importing this module imports neither onnx, onnxruntime, numpy nor torch.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError
from ..result import InputSpec, LayerRow
from .folding import (
    _load_small_external,
    _strip_large_data,
)
from .formulas import (
    _ALIAS_OPS,
    _BITS,
    _CONTROL_FLOW,
    _FORMULAS,
    _INT32,
    _INT32_PARAM_INPUTS,
    _METADATA_INPUTS,
    _NON_PARAM_INPUTS,
    _NORM_OPS,
    _PARAM_DTYPES,
    MS_DOMAIN,
    ZERO_COST_OPS,
    _Ctx,
    _domain,
    _NoFormula,
    _prod,
    _tensor_bytes,
    _Unknown,
    op_key,
)
from .graph import (
    _attrs,
    _graph_is_zero_cost,
    _outer_refs,
    _real_inputs,
    _subgraphs,
    _topological,
    node_scope,
    unique_node_names,
)
from .shapes import (
    _collect_types,
    _fix_inputs,
    _infer_types,
    _normalize_constants,
    _symbolic_infer,
)
from .validation import (
    ABSURD_ELEMENTS,
    _external_entries,
    _refuse_absurd_tensors,
    _size_text,
    load_checked_model,
)


@dataclass(frozen=True)
class OnnxAnalysis:
    """Per-node rows and whole-model figures (params and bytes with shared weights once)."""

    layers: tuple[LayerRow, ...]
    params: int
    weight_bytes: int
    unsupported_ops: dict[str, int]
    activation_peak_bytes: int | None
    warnings: tuple[str, ...] = field(default=())


# --- loading and validation -----------------------------------------------------------------------


#: A tensor computed from constants alone with more elements than this (16 Mi: 64 MiB at fp32) is
#: never materialised by the analysis (it folds at most `_FOLD_LIMIT` elements anyway) and is
#: counted as a run-time tensor, alive from its node to its last use; smaller ones count as
#: resident, since runtimes fold them into the session when it loads.
MAX_FOLDED_ELEMENTS = 16 * 2**20
_WARN_FOLDED_BYTES = 64 * 2**20  # say so in the warnings when constants grow into this much


@dataclass
class _Const:
    dtype: int
    dims: tuple[int, ...]

    @property
    def numel(self) -> int:
        return _prod(self.dims)

    @property
    def nbytes(self) -> int:
        return _tensor_bytes(self.dtype, self.dims)


def _is_param(key: tuple[str, str], position: int, const: _Const, counted: bool) -> bool:
    if position in _NON_PARAM_INPUTS.get(key, ()):
        return False
    if const.dtype == _INT32:
        return _INT32_PARAM_INPUTS.get(key) == position
    if const.dtype not in _PARAM_DTYPES:
        return False
    if const.numel <= 1:
        return counted or key[1] in _NORM_OPS
    return True


def analyze_onnx(path: str, inputs: tuple[InputSpec, ...]) -> OnnxAnalysis:
    """Count an ONNX model per node at the given input shapes.

    Units: `params` in elements, `weight_bytes` and activation sizes in bytes, `macs` in
    multiply-accumulates, `flops` = 2 * macs. Rows keep `latency_ms` None (timing is separate).
    Raises InputError for an unusable file or input shapes that do not fit the model.
    """
    model = load_checked_model(path)
    warnings: list[str] = []
    _load_small_external(model, _external_entries(path, model))
    _normalize_constants(model.graph)
    _strip_large_data(model)
    _fix_inputs(path, model, inputs)
    types, inferred = _infer_types(model, warnings)
    graph = model.graph
    _refuse_absurd_tensors(path, types)

    consts: dict[str, _Const] = {}
    for t in graph.initializer:
        consts[t.name] = _Const(t.data_type, tuple(int(d) for d in t.dims))
    for s in graph.sparse_initializer:
        consts[s.values.name] = _Const(s.values.data_type, tuple(int(d) for d in s.dims))
    for node in graph.node:
        if node.op_type == "Constant" and _domain(node) == "" and node.output:
            for a in node.attribute:
                if a.HasField("t"):
                    consts[node.output[0]] = _Const(a.t.data_type, tuple(int(d) for d in a.t.dims))
                elif a.HasField("sparse_tensor"):
                    consts[node.output[0]] = _Const(
                        a.sparse_tensor.values.data_type, tuple(int(d) for d in a.sparse_tensor.dims)
                    )
                elif a.name in ("value_float", "value_int"):
                    consts[node.output[0]] = _Const(1 if a.name == "value_float" else 7, ())
                elif a.name in ("value_floats", "value_ints"):
                    n = len(a.floats) if a.name == "value_floats" else len(a.ints)
                    consts[node.output[0]] = _Const(1 if a.name == "value_floats" else 7, (n,))
    graph_input_names = {vi.name for vi in _real_inputs(graph)}
    for name, c in consts.items():
        types.setdefault(name, (c.dtype, c.dims))
        if types[name][1] is None:
            types[name] = (c.dtype, c.dims)

    nodes = list(graph.node)
    names = unique_node_names(graph)
    order = _topological(nodes, set(consts) | graph_input_names)

    # Which tensors derive from weights alone (folded by runtimes at load time)?
    derived: dict[str, dict[str, bool]] = {}  # tensor -> {weight name: counts as param}
    const_only_nodes: set[int] = set()
    const_like = set(consts)
    for i in order:
        node = nodes[i]
        if node.op_type == "Constant" or _subgraphs(node) or node.op_type.startswith("Random"):
            continue
        ins = [x for x in node.input if x]
        if ins and all(x in const_like for x in ins):
            const_only_nodes.add(i)
            const_like.update(o for o in node.output if o)
    # MatMulNBits packs its weight: count N*K logical parameters, not the packed bytes.
    param_override: dict[str, int] = {}
    for node in nodes:
        if (
            (_domain(node), node.op_type) == (MS_DOMAIN, "MatMulNBits")
            and len(node.input) > 1
            and node.input[1] in consts
        ):
            a = _attrs(node)
            if "K" in a and "N" in a:
                param_override[node.input[1]] = int(a["K"]) * int(a["N"])

    unknown_outputs = any(
        o and types.get(o, (0, None))[1] is None
        for i, n in enumerate(nodes)
        if n.op_type != "Constant" and i not in const_only_nodes
        for o in n.output
    )
    if unknown_outputs:
        better = _symbolic_infer(inferred, warnings, types)
        if better is not None:
            for name, (dtype, shape) in _collect_types(better.graph).items():
                old = types.get(name)
                if shape is not None and (old is None or old[1] is None):
                    types[name] = (dtype or (old[0] if old else 0), shape)

    shapes = {name: shape for name, (_, shape) in types.items()}
    producers = node_producers(nodes, names)
    rows: list[LayerRow] = []
    unsupported: dict[str, int] = defaultdict(int)
    weights_used: dict[str, bool] = {}  # weight -> counts as param somewhere
    all_consts: dict[str, _Const] = dict(consts)  # plus initializers local to subgraphs
    unknown_act: list[str] = []
    uncountable: dict[str, int] = defaultdict(int)
    made_at_load: dict[str, int] = {}  # small constant-derived tensor -> bytes beyond its sources
    big_folded: dict[str, int] = {}  # constant-derived tensor over MAX_FOLDED_ELEMENTS -> bytes

    for i in order:
        node = nodes[i]
        key = (_domain(node), node.op_type)
        if key == ("", "Constant"):
            continue
        counted_op = key in _FORMULAS
        # Weights this node reads, directly or through weight-only nodes.
        row_weights: dict[str, bool] = {}

        def take(
            name: str,
            position: int,
            *,
            key: tuple[str, str] = key,
            counted_op: bool = counted_op,
            row_weights: dict[str, bool] = row_weights,
        ) -> None:
            if name in consts:
                flag = _is_param(key, position, consts[name], counted_op)
                row_weights[name] = row_weights.get(name, False) or flag
            elif name in derived:
                blocked = position in _NON_PARAM_INPUTS.get(key, ())
                for w, flag in derived[name].items():
                    row_weights[w] = row_weights.get(w, False) or (flag and not blocked)

        metadata_only = _METADATA_INPUTS.get(key, frozenset())
        for pos, name in enumerate(node.input):
            if name and pos not in metadata_only:
                take(name, pos)
        for g in _subgraphs(node):
            for name in _outer_refs(g):
                take(name, -1)
            for t in g.initializer:
                synthetic = f"{names[i]}/{g.name}/{t.name}"
                all_consts[synthetic] = _Const(t.data_type, tuple(int(d) for d in t.dims))
                row_weights[synthetic] = _is_param(key, -1, all_consts[synthetic], False)

        folded = i in const_only_nodes
        if folded:
            for o in node.output:
                if o:
                    derived[o] = dict(row_weights)
            row_weights = {}

        # MACs.
        macs = 0
        row_unsupported: tuple[str, ...] = ()
        if counted_op:
            try:
                macs = int(_FORMULAS[key](_Ctx(node, shapes, _attrs(node))))
            except _Unknown:
                row_unsupported = (op_key(*key),)
                uncountable[op_key(*key)] += 1
            except _NoFormula:
                row_unsupported = (op_key(*key),)
            except (ArithmeticError, AssertionError, IndexError, KeyError, TypeError, ValueError):
                row_unsupported = (op_key(*key),)
                uncountable[op_key(*key)] += 1
        elif key in ZERO_COST_OPS:
            pass
        elif key[0] == "" and node.op_type in _CONTROL_FLOW:
            if not all(_graph_is_zero_cost(g) for g in _subgraphs(node)):
                row_unsupported = (op_key(*key),)
        else:
            row_unsupported = (op_key(*key),)
        for op in row_unsupported:
            unsupported[op] += 1

        # Activations: the node's outputs, unless they are folded weights. A tensor computed from
        # constants that holds more than the weights it comes from (ConstantOfShape, Expand,
        # Tile, Range …) is new memory: it counts here and in the peak (`_activation_peak`).
        act_bytes = 0
        out_shapes: list[tuple[int, ...]] = []
        for o in node.output:
            if not o:
                continue
            dtype, shape = types.get(o, (0, None))
            if shape is not None:
                out_shapes.append(shape)
            if folded:
                if (key[0] == "" and node.op_type in _ALIAS_OPS) or node.op_type == "DequantizeLinear":
                    continue  # a view of a weight; or a dequantized weight, fused into its consumer
                if shape is None or dtype not in _BITS:
                    unknown_act.append(o)
                    continue
                made = _tensor_bytes(dtype, shape)
                grown = made - sum(all_consts[w].nbytes for w in derived.get(o, {}))
                if grown <= 0:
                    continue  # a rearranged or narrowed weight: runtimes keep one of the two
                act_bytes += made
                if _prod(shape) > MAX_FOLDED_ELEMENTS:
                    big_folded[o] = made
                else:
                    made_at_load[o] = grown
                continue
            if shape is None or dtype not in _BITS:
                unknown_act.append(o)
            else:
                act_bytes += _tensor_bytes(dtype, shape)
        in_shapes: list[tuple[int, ...]] = []
        for x in node.input:
            shape_x = shapes.get(x) if x and x not in consts and x not in derived else None
            if shape_x is not None:
                in_shapes.append(shape_x)

        for w, flag in row_weights.items():
            weights_used[w] = weights_used.get(w, False) or flag
        for shape in out_shapes:
            if _prod(shape) > ABSURD_ELEMENTS:
                raise InputError(
                    path,
                    f"node {names[i]!r} would output {_prod(shape):.3g} elements: the graph declares an impossible shape",
                )
        rows.append(
            LayerRow(
                name=names[i],
                type=node.op_type if key[0] == "" else f"{key[0]}::{node.op_type}",
                params=sum(param_override.get(w, all_consts[w].numel) for w, flag in row_weights.items() if flag),
                macs=macs,
                flops=2 * macs,
                weight_bytes=sum(all_consts[w].nbytes for w in row_weights),
                activation_bytes=act_bytes,
                latency_ms=None,
                counted=not row_unsupported,
                scope=node_scope(node),
                input_shapes=tuple(in_shapes),
                output_shapes=tuple(out_shapes),
                unsupported_ops=row_unsupported,
                inputs_from=producers[i],
            )
        )

    params = sum(param_override.get(w, all_consts[w].numel) for w, flag in weights_used.items() if flag)
    weight_bytes = sum(all_consts[w].nbytes for w in weights_used)

    if uncountable:
        listed = ", ".join(f"{k} ×{v}" for k, v in sorted(uncountable.items()))
        warnings.append(f"shapes unknown, MACs not counted for: {listed}")
    if unknown_act:
        warnings.append(
            f"activation size unknown for {len(unknown_act)} tensor(s) (e.g. {unknown_act[0]!r}); counted as 0 bytes"
        )

    peak = (
        None
        if unknown_act
        else _activation_peak(nodes, order, types, consts, derived, graph, const_only_nodes, made_at_load, big_folded)
    )
    from_constants = sum(made_at_load.values()) + sum(big_folded.values())
    if big_folded or from_constants >= _WARN_FOLDED_BYTES:
        example = max({**made_at_load, **big_folded}.items(), key=lambda kv: kv[1])[0]
        warnings.append(
            f"tensors computed from the model's constants (e.g. {example!r}) take {_size_text(from_constants)}: "
            "counted as activation memory"
        )
    return OnnxAnalysis(
        layers=tuple(rows),
        params=int(params),
        weight_bytes=int(weight_bytes),
        unsupported_ops=dict(unsupported),
        activation_peak_bytes=peak,
        warnings=tuple(warnings),
    )


def node_producers(nodes: list[Any], names: list[str]) -> list[tuple[str, ...]]:
    """Per node, the names of the nodes whose outputs it reads (its inputs, then what its
    subgraphs read from outside), each once, in input order.

    Graph inputs, initializers and Constant nodes (whose values are weights, with no row of their
    own) produce nothing here, so every name returned is a row's name."""
    made_by = {o: i for i, n in enumerate(nodes) if n.op_type != "Constant" or _domain(n) for o in n.output if o}
    out: list[tuple[str, ...]] = []
    for i, node in enumerate(nodes):
        read = [x for x in node.input if x]
        for g in _subgraphs(node):
            read.extend(sorted(_outer_refs(g)))
        found = dict.fromkeys(names[made_by[x]] for x in read if x in made_by and made_by[x] != i)
        out.append(tuple(found))
    return out


def _activation_peak(
    nodes: list[Any],
    order: list[int],
    types: dict[str, tuple[int, tuple[int, ...] | None]],
    consts: dict[str, _Const],
    derived: dict[str, dict[str, bool]],
    graph: Any,
    const_only_nodes: set[int],
    made_at_load: dict[str, int] | None = None,
    big_folded: dict[str, int] | None = None,
) -> int | None:
    """Peak bytes of live intermediate tensors when the nodes run in `order`.

    Tensors computed from constants alone count too: one over `MAX_FOLDED_ELEMENTS`
    (`big_folded`, its bytes) is a run-time tensor, alive from its node to its last use; a
    smaller one that a run-time node or the graph's output reads (`made_at_load`, the bytes it
    adds to the weights it comes from) is folded into the session when it loads, and stays
    resident throughout.
    """
    made_at_load = made_at_load or {}
    big_folded = big_folded or {}
    step = {node_index: k for k, node_index in enumerate(order)}
    end = len(order)
    last_use: dict[str, int] = {}
    read_at_run_time: set[str] = {out.name for out in graph.output}
    for node_index in order:
        node = nodes[node_index]
        names = [x for x in node.input if x]
        for g in _subgraphs(node):
            names.extend(_outer_refs(g))
        for x in names:
            last_use[x] = max(last_use.get(x, -1), step[node_index])
        if node_index not in const_only_nodes:
            read_at_run_time.update(names)
    for out in graph.output:
        last_use[out.name] = end
    resident = sum(n for name, n in made_at_load.items() if name in read_at_run_time)
    storage: dict[str, int] = {}  # tensor -> storage id
    size: list[int] = []
    created_at: list[int] = []
    for node_index in order:
        node = nodes[node_index]
        if node.op_type == "Constant":
            continue
        if node_index in const_only_nodes:
            for o in node.output:
                if o in big_folded:
                    storage[o] = len(size)
                    size.append(big_folded[o])
                    created_at.append(step[node_index])
            continue
        k = step[node_index]
        src = node.input[0] if node.input else ""
        if node.op_type in _ALIAS_OPS and _domain(node) == "" and src:
            if src in storage and node.output and node.output[0]:
                storage[node.output[0]] = storage[src]
                continue
            if src not in consts and src not in derived:  # a view of a graph input
                continue
        for o in node.output:
            if not o:
                continue
            dtype, shape = types.get(o, (0, None))
            if shape is None or dtype not in _BITS:
                return None
            storage[o] = len(size)
            size.append(_tensor_bytes(dtype, shape))
            created_at.append(k)
    free_at = [created_at[s] for s in range(len(size))]
    for name, sid in storage.items():
        free_at[sid] = max(free_at[sid], last_use.get(name, created_at[sid]))
    births: dict[int, list[int]] = defaultdict(list)
    deaths: dict[int, list[int]] = defaultdict(list)
    for sid in range(len(size)):
        births[created_at[sid]].append(sid)
        deaths[free_at[sid]].append(sid)
    current = peak = 0
    for k in range(end + 1):
        current += sum(size[s] for s in births.get(k, ()))
        peak = max(peak, current)
        current -= sum(size[s] for s in deaths.get(k, ()))
    return peak + resident
