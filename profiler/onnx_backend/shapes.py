"""Shape inference for the ONNX analysis: fixed inputs, ONNX inference over folded shape
arithmetic, and onnxruntime's symbolic inference (for contrib ops) as a fallback.

The symbolic inference sees only the part of the graph whose shapes are still unknown, writes
no file and never changes the working directory. Heavy imports happen inside the functions.
"""

from __future__ import annotations

import os
from typing import Any

from ..errors import InputError
from ..result import InputSpec
from .folding import (
    _DATA_FIELDS,
    _FOLD_LIMIT,
    _fold_small_constants,
)
from .formulas import (
    _domain,
    _prod,
)
from .graph import (
    _declared_dims,
    _np_dtype_name,
    _opset,
    _outer_refs,
    _real_inputs,
    _short,
    _subgraphs,
)


def _fix_inputs(path: str, model: Any, inputs: tuple[InputSpec, ...]) -> None:
    """Give every graph input a concrete shape from `inputs`; raises InputError on a mismatch."""
    graph_inputs = {vi.name: vi for vi in _real_inputs(model.graph)}
    by_name = {spec.name: spec for spec in inputs}
    for name in by_name:
        if name not in graph_inputs:
            listed = ", ".join(graph_inputs) or "none"
            raise InputError(path, f"the model has no input named {name!r} (its inputs: {listed})")
    for name, vi in graph_inputs.items():
        declared = _declared_dims(vi)
        spec = by_name.get(name)
        if spec is None:
            if (
                vi.type.HasField("tensor_type")
                and all(isinstance(d, int) for d in declared)
                and vi.type.tensor_type.HasField("shape")
            ):
                continue
            raise InputError(
                path, f"no shape given for input {name!r} (declared {list(declared)}); pass --input-shape {name}=…"
            )
        if not vi.type.HasField("tensor_type"):
            raise InputError(path, f"input {name!r} is not a tensor; only tensor inputs can be profiled")
        model_dtype = _np_dtype_name(vi.type.tensor_type.elem_type)
        if spec.dtype != model_dtype:
            raise InputError(path, f"input {name!r} is {model_dtype} in the model, not {spec.dtype}")
        if any(d <= 0 for d in spec.shape):
            raise InputError(path, f"input {name!r}: shape {list(spec.shape)} has a non-positive size")
        if vi.type.tensor_type.HasField("shape"):
            if len(declared) != len(spec.shape):
                raise InputError(
                    path, f"input {name!r} has {len(declared)} dims in the model, got shape {list(spec.shape)}"
                )
            for i, (d, s) in enumerate(zip(declared, spec.shape, strict=True)):
                if isinstance(d, int) and d > 0 and d != s:
                    raise InputError(path, f"input {name!r} dim {i} is fixed at {d} in the model, got {s}")
        shape = vi.type.tensor_type.shape
        shape.ClearField("dim")
        for s in spec.shape:
            shape.dim.add().dim_value = int(s)


def _value_shape(vi: Any) -> tuple[int, tuple[int, ...] | None]:
    if not vi.type.HasField("tensor_type"):
        return 0, None
    tt = vi.type.tensor_type
    if not tt.HasField("shape"):
        return tt.elem_type, None
    dims = []
    for d in tt.shape.dim:
        if not d.HasField("dim_value") or d.dim_value < 0:
            return tt.elem_type, None
        dims.append(int(d.dim_value))
    return tt.elem_type, tuple(dims)


def _collect_types(graph: Any) -> dict[str, tuple[int, tuple[int, ...] | None]]:
    types: dict[str, tuple[int, tuple[int, ...] | None]] = {}
    for vi in list(graph.input) + list(graph.value_info) + list(graph.output):
        dtype, shape = _value_shape(vi)
        old = types.get(vi.name)
        if old is None or (old[1] is None and shape is not None) or (old[0] == 0 and dtype):
            types[vi.name] = (
                dtype or (old[0] if old else 0),
                shape if shape is not None else (old[1] if old else None),
            )
    return types


def _infer_types(model: Any, warnings: list[str]) -> tuple[dict[str, tuple[int, tuple[int, ...] | None]], Any]:
    """Dtype and concrete shape per tensor name: ONNX inference, repeated over folded shape arithmetic.

    Each round folds the shape computations whose inputs the previous round resolved (values
    already computed are kept from round to round); it stops when every node output has a
    shape or a round folds nothing new (at most `_INFER_ROUNDS` rounds).
    Returns the types and the last inferred model (for the symbolic fallback).
    """
    known: dict[str, tuple[int, ...] | None] = {}
    inferred = model
    types: dict[str, tuple[int, tuple[int, ...] | None]] = {}
    last_folded = -1
    cache: dict[str, Any] = {}
    for _ in range(_INFER_ROUNDS):
        folded, count = _fold_small_constants(model, known, cache)
        if count == last_folded:
            break
        last_folded = count
        inferred = _infer(folded, warnings)
        types = _collect_types(inferred.graph)
        known = {name: shape for name, (_, shape) in types.items()}
        if all(known.get(o) is not None for n in model.graph.node for o in n.output if o):
            break
    return types, inferred


_INFER_ROUNDS = 8  # each resolves one more level of shapes computed from shapes (Shape -> Reshape -> Shape …)


def _normalize_constants(graph: Any) -> None:
    """Rewrite Constant nodes' value_int(s)/value_float(s) as a `value` tensor.

    onnxruntime's symbolic shape inference reads only `value` (it fails on the others, which
    torch's dynamo exporter emits). Subgraphs are rewritten too.
    """
    import onnx

    for node in graph.node:
        for g in _subgraphs(node):
            _normalize_constants(g)
        if node.op_type != "Constant" or _domain(node) != "" or len(node.attribute) != 1:
            continue
        a = node.attribute[0]
        if a.name in ("value_ints", "value_floats") and max(len(a.ints), len(a.floats)) > _FOLD_LIMIT:
            # A long list: keep its type and length, not its values (see _strip_large_data).
            t = onnx.TensorProto()
            t.name = "value"
            t.data_type = onnx.TensorProto.INT64 if a.name == "value_ints" else onnx.TensorProto.FLOAT
            t.dims.append(max(len(a.ints), len(a.floats)))
        elif a.name == "value_int":
            t = onnx.helper.make_tensor("value", onnx.TensorProto.INT64, [], [a.i])
        elif a.name == "value_ints":
            t = onnx.helper.make_tensor("value", onnx.TensorProto.INT64, [len(a.ints)], list(a.ints))
        elif a.name == "value_float":
            t = onnx.helper.make_tensor("value", onnx.TensorProto.FLOAT, [], [a.f])
        elif a.name == "value_floats":
            t = onnx.helper.make_tensor("value", onnx.TensorProto.FLOAT, [len(a.floats)], list(a.floats))
        else:
            continue
        del node.attribute[:]
        node.attribute.append(onnx.helper.make_attribute("value", t))


def _infer(model: Any, warnings: list[str]) -> Any:
    """ONNX shape inference, without its data propagation.

    Data propagation turns every 1-D tensor of known length N that reaches one of its ops (Add,
    Mul, Concat, Gather …) into a list of N shape entries, whatever its type: a 100-byte file
    whose ConstantOfShape([2**30]) feeds an Add makes it allocate tens of GB. What it would
    find (the values of shape arithmetic) `_fold_small_constants` computes instead, bounded.
    """
    import onnx

    try:
        return onnx.shape_inference.infer_shapes(model, check_type=False, strict_mode=False, data_prop=False)
    except Exception as exc:
        warnings.append(f"ONNX shape inference failed ({_short(exc, 100)}); using declared shapes only")
        return model


def _load_symbolic_shape_infer() -> Any:
    """onnxruntime's SymbolicShapeInference class, loaded from its file.

    `import onnxruntime.tools.…` runs the package's __init__, which imports torch when it is
    installed (seconds, and a process that need not load torch would). The module itself
    needs only onnx, numpy and sympy.
    """
    import importlib.util
    import sys

    if "onnxruntime.tools.symbolic_shape_infer" in sys.modules or "torch" in sys.modules:
        from onnxruntime.tools.symbolic_shape_infer import SymbolicShapeInference

        return SymbolicShapeInference
    name = "_tradeoff_symbolic_shape_infer"
    if name not in sys.modules:
        ort_spec = importlib.util.find_spec("onnxruntime")
        if ort_spec is None or ort_spec.origin is None:
            raise ImportError("onnxruntime is not installed")
        file = os.path.join(os.path.dirname(ort_spec.origin), "tools", "symbolic_shape_infer.py")
        spec = importlib.util.spec_from_file_location(name, file)
        if spec is None or spec.loader is None:
            raise ImportError(file)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[name] = module
    return sys.modules[name].SymbolicShapeInference


def _unknown_part(model: Any, types: dict[str, tuple[int, tuple[int, ...] | None]]) -> Any:
    """A copy of `model` holding only what the symbolic inference has left to do.

    Nodes whose outputs all have known shapes are cut out (their outputs become graph inputs
    of those shapes), except small Constant nodes, whose values it may need; initializers whose
    bytes were not loaded become inputs too (it would read them as values). What remains is
    where shapes are unknown: the work, and the memory the inference could spend, stay small.
    """
    import onnx
    from onnx import helper

    graph = model.graph

    def known(name: str) -> bool:
        return types.get(name, (0, None))[1] is not None and types[name][0] != 0

    keep = []
    for node in graph.node:
        outs = [o for o in node.output if o]
        small_constant = (
            node.op_type == "Constant"
            and _domain(node) == ""
            and len(node.attribute) == 1
            and node.attribute[0].HasField("t")
            and _prod(node.attribute[0].t.dims) <= _FOLD_LIMIT
        )
        if small_constant or not all(known(o) for o in outs):
            keep.append(node)
    produced = {o for n in keep for o in n.output if o}
    needed: list[str] = []
    for node in keep:
        names = [x for x in node.input if x]
        for g in _subgraphs(node):
            names.extend(_outer_refs(g))
        needed.extend(x for x in names if x not in produced)
    has_data = {
        t.name
        for t in graph.initializer
        if t.data_location != 1 and (_prod(t.dims) == 0 or any(len(getattr(t, f)) for f in _DATA_FIELDS))
    }
    out = onnx.ModelProto()
    out.CopyFrom(model)
    g = out.graph
    del g.node[:]
    g.node.extend(keep)
    del g.value_info[:]
    kept_inits = [t for t in graph.initializer if t.name in has_data]
    del g.initializer[:]
    g.initializer.extend(kept_inits)
    declared = {i.name for i in g.input}
    for name in dict.fromkeys(needed):
        if name in declared or name in has_data:
            continue
        dtype, shape = types.get(name, (0, None))
        g.input.append(helper.make_tensor_value_info(name, dtype, list(shape) if shape is not None else None))
        declared.add(name)
    # It infers only the nodes the graph's outputs need: make every unknown tensor an output.
    del g.output[:]
    for node in keep:
        if node.op_type != "Constant":
            g.output.extend(helper.make_empty_tensor_value_info(o) for o in node.output if o and not known(o))
    return out


def _guard_constant_of_shape(inference: Any) -> None:
    """Keep onnxruntime's symbolic inference from materialising a large ConstantOfShape.

    For an int64 ConstantOfShape of known size it builds the whole tensor (`np.ones(shape)`) to
    track its values; over `_FOLD_LIMIT` elements the shape is inferred without the values.
    """
    import onnx

    dispatcher = getattr(inference, "dispatcher_", None)
    if not isinstance(dispatcher, dict) or "ConstantOfShape" not in dispatcher:
        return
    original = dispatcher["ConstantOfShape"]

    def guarded(node: Any) -> Any:
        vi = inference.known_vi_.get(node.output[0]) if node.output else None
        if vi is not None and vi.type.tensor_type.elem_type == onnx.TensorProto.INT64:
            shape = inference._get_int_or_float_values(node)[0]
            dims = shape if isinstance(shape, list) else [shape]
            try:
                size = _prod(int(d) for d in dims) if shape is not None else 0
            except (TypeError, ValueError):
                size = 0  # symbolic: no values are built
            if size > _FOLD_LIMIT:
                vi.type.tensor_type.elem_type = onnx.TensorProto.FLOAT  # it records values of int64 outputs only
                try:
                    return original(node)
                finally:
                    inference.known_vi_[node.output[0]].type.tensor_type.elem_type = onnx.TensorProto.INT64
        return original(node)

    dispatcher["ConstantOfShape"] = guarded


def _symbolic_infer(
    model: Any, warnings: list[str], types: dict[str, tuple[int, tuple[int, ...] | None]] | None = None
) -> Any | None:
    """onnxruntime's symbolic shape inference, which knows the com.microsoft ops; None on failure.

    `SymbolicShapeInference.infer_shapes` saves "sym_shape_infer_temp.onnx" (and external data
    beside it) into the current folder whenever some shape stays unknown, then raises. Its
    steps are run here instead (the same calls, without that save), so nothing is written
    anywhere and the working directory is never changed (a process-wide os.chdir would race
    with other threads); a partial result is kept, since the shapes it did find are still good.
    """
    import logging

    try:
        SymbolicShapeInference = _load_symbolic_shape_infer()
    except Exception:
        return None
    if _opset(model) < 7:
        return None
    types = types if types is not None else _collect_types(model.graph)
    logger = logging.getLogger(getattr(SymbolicShapeInference, "__module__", "") or "_tradeoff_symbolic_shape_infer")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        inference = SymbolicShapeInference(2**31 - 1, True, False, 0)  # int_max, auto_merge, guess_output_rank, verbose
        _guard_constant_of_shape(inference)
        inference._preprocess(_unknown_part(model, types))
        while inference.run_:
            inference._infer_impl()
        inference._update_output_from_vi()
        return inference.out_mp_
    except Exception as exc:
        warnings.append(f"onnxruntime symbolic shape inference failed ({_short(exc, 100)})")
        return None
    finally:
        logger.setLevel(level)
