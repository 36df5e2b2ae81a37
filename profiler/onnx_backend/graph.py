"""Helpers over ONNX graph protos: names, scopes, subgraphs, attributes, order, declared inputs.

Imports of onnx happen inside the functions.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from typing import Any

from .formulas import (
    _CONTROL_FLOW,
    ZERO_COST_OPS,
    _domain,
)


def _short(exc: BaseException, limit: int = 160) -> str:
    text = str(exc).strip() or type(exc).__name__
    line = text.splitlines()[0].strip()
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _np_dtype_name(elem_type: int) -> str:
    import onnx

    try:
        return str(onnx.helper.tensor_dtype_to_np_dtype(elem_type).name)
    except Exception:
        return onnx.TensorProto.DataType.Name(elem_type).lower() if elem_type else "unknown"


def _declared_dims(value_info: Any) -> tuple[int | str | None, ...]:
    tensor_type = value_info.type.tensor_type
    if not tensor_type.HasField("shape"):
        return ()
    dims: list[int | str | None] = []
    for d in tensor_type.shape.dim:
        if d.HasField("dim_value"):
            dims.append(int(d.dim_value))
        elif d.HasField("dim_param") and d.dim_param:
            dims.append(str(d.dim_param))
        else:
            dims.append(None)
    return tuple(dims)


def _real_inputs(graph: Any) -> list[Any]:
    inits = {t.name for t in graph.initializer} | {s.values.name for s in graph.sparse_initializer}
    return [i for i in graph.input if i.name not in inits]


def _opset(model: Any) -> int:
    for imp in model.opset_import:
        if imp.domain in ("", "ai.onnx"):
            return int(imp.version)
    return 0


def unique_node_names(graph: Any) -> list[str]:
    """One unique name per node of `graph`: its own, or "<OpType>_<index>" when empty.

    Repeats get a "_2", "_3"… suffix in graph order. The timing module gives the session's
    nodes these names, so per-node latencies join the rows by name.
    """
    base = [node.name or f"{node.op_type}_{i}" for i, node in enumerate(graph.node)]
    taken = set(base)
    seen: set[str] = set()
    names: list[str] = []
    for name in base:
        if name in seen:
            k = 2
            while f"{name}_{k}" in taken:
                k += 1
            name = f"{name}_{k}"
            taken.add(name)
        seen.add(name)
        names.append(name)
    return names


def node_scope(node: Any) -> str:
    """The module path a node came from ("layer1/layer1.0/conv1"), or "" when it has none."""
    name = node.name or ""
    if name.startswith("/") and name.count("/") >= 2:
        return name[1 : name.rindex("/")]
    for prop in node.metadata_props:
        if prop.key == "pkg.torch.onnx.name_scopes":
            try:
                scopes = ast.literal_eval(prop.value)
            except (ValueError, SyntaxError):
                return ""
            if isinstance(scopes, (list, tuple)):
                parts = [str(s) for s in scopes[1:-1] if str(s)]
                return "/".join(parts)
    return ""


def _attr_value(attr: Any) -> Any:
    import onnx

    try:
        return onnx.helper.get_attribute_value(attr)
    except Exception:
        return None


def _attrs(node: Any) -> dict[str, Any]:
    import onnx

    out: dict[str, Any] = {}
    for a in node.attribute:
        if a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS, onnx.AttributeProto.TENSOR):
            continue
        try:
            out[a.name] = onnx.helper.get_attribute_value(a)
        except Exception:
            continue
    return out


def _subgraphs(node: Any) -> list[Any]:
    graphs = []
    for a in node.attribute:
        if a.HasField("g"):
            graphs.append(a.g)
        graphs.extend(a.graphs)
    return graphs


def _graph_is_zero_cost(graph: Any) -> bool:
    for node in graph.node:
        key = (_domain(node), node.op_type)
        if node.op_type in _CONTROL_FLOW and key[0] == "":
            if not all(_graph_is_zero_cost(g) for g in _subgraphs(node)):
                return False
        elif key not in ZERO_COST_OPS:
            return False
    return True


def _outer_refs(graph: Any) -> set[str]:
    """Names a subgraph reads from enclosing scopes."""
    local = {i.name for i in graph.input} | {t.name for t in graph.initializer}
    refs: set[str] = set()
    for node in graph.node:
        for name in node.input:
            if name and name not in local:
                refs.add(name)
        for g in _subgraphs(node):
            refs |= _outer_refs(g) - local
        local.update(o for o in node.output if o)
    return refs


def _topological(nodes: list[Any], available: set[str]) -> list[int]:
    """Node indices in an order where each node follows its producers (stable; graph order if valid)."""
    produced_by = {o: i for i, n in enumerate(nodes) for o in n.output if o}
    deps = []
    for i, n in enumerate(nodes):
        names = [x for x in n.input if x]
        for g in _subgraphs(n):
            names.extend(_outer_refs(g))
        deps.append({produced_by[x] for x in names if x in produced_by and x not in available and produced_by[x] != i})
    if all(all(d < i for d in ds) for i, ds in enumerate(deps)):
        return list(range(len(nodes)))
    import heapq

    users: dict[int, list[int]] = defaultdict(list)
    pending = [len(ds) for ds in deps]
    for i, ds in enumerate(deps):
        for d in ds:
            users[d].append(i)
    ready = [i for i, p in enumerate(pending) if p == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for u in users[i]:
            pending[u] -= 1
            if pending[u] == 0:
                heapq.heappush(ready, u)
    order += [i for i in range(len(nodes)) if i not in set(order)]  # a cycle: keep the rest in file order
    return order
