"""Bounded constant folding for ONNX shape inference, and the small-data handling it relies on.

Only tensors of at most `_FOLD_LIMIT` elements are ever read or evaluated, and a node is
evaluated only when the size of its result is bounded beforehand (`_fold_output_bound`).
Imports of onnx and numpy happen inside the functions.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from .formulas import (
    _BITS,
    _domain,
    _prod,
    _tensor_bytes,
)
from .graph import (
    _attr_value,
    _opset,
    _subgraphs,
)

_DATA_FIELDS = ("raw_data", "float_data", "int32_data", "string_data", "int64_data", "double_data", "uint64_data")


def _strip_large_data(model: Any) -> None:
    """Drop the bytes of every tensor over `_FOLD_LIMIT` elements: analysis needs their dims, not their values.

    Small tensors stay: shape inference and the folding read them (Reshape targets, axes).
    Large integer tensors go too: read as a shape, a 2**24-entry one would become a tensor
    of rank 2**24 in every inference that meets it. Constant nodes' values (in subgraphs too)
    are stripped the same way.
    """

    def strip(t: Any) -> None:
        if t.data_location != 1 and _prod(t.dims) > _FOLD_LIMIT:
            for f in _DATA_FIELDS:
                t.ClearField(f)

    def in_graph(graph: Any) -> None:
        for t in graph.initializer:
            strip(t)
        for node in graph.node:
            for a in node.attribute:
                if a.HasField("t"):
                    strip(a.t)
                for t in a.tensors:
                    strip(t)
                if a.HasField("g"):
                    in_graph(a.g)
                for g in a.graphs:
                    in_graph(g)

    in_graph(model.graph)


def _load_small_external(model: Any, entries: list[tuple[Any, str, int, int]]) -> None:
    """Read external bytes only for small tensors (shape inference may need their values).

    A tensor is read when it has at most `_FOLD_LIMIT` elements and its declared length is
    exactly what those elements take, so what is read is bounded whatever the file claims (and
    a length that disagrees with the dims, which would make the values unreadable, is not read);
    other tensors keep only their dims.
    """
    for tensor, target, offset, length in entries:
        if (
            tensor.data_type not in _BITS
            or _prod(tensor.dims) > _FOLD_LIMIT
            or length != _tensor_bytes(tensor.data_type, tensor.dims)
        ):
            continue
        with open(target, "rb") as fh:
            fh.seek(offset)
            data = fh.read(length)
        tensor.raw_data = data
        tensor.data_location = 0
        del tensor.external_data[:]


_FOLD_LIMIT = 4096  # elements: fold only small tensors (shape arithmetic), never weights

# Ops the folding may evaluate, by how their output size is bounded from their inputs before
# they run. Every other op (sequences, subgraphs, Einsum, custom domains …) is never evaluated.
_FOLD_ELEMENTWISE = frozenset(
    """
    Abs Acos Acosh Add And Asin Asinh Atan Atanh BitShift BitwiseAnd BitwiseNot BitwiseOr BitwiseXor
    Cast CastLike Ceil Celu Clip Cos Cosh DequantizeLinear Div Elu Equal Erf Exp Floor Gelu Greater
    GreaterOrEqual HardSigmoid HardSwish Identity IsInf IsNaN LeakyRelu Less LessOrEqual Log Max Mean
    Min Mish Mod Mul Neg Not Or Pow PRelu QuantizeLinear Reciprocal Relu Round Selu Shrink Sigmoid Sign
    Sin Sinh Softplus Softsign Sqrt Sub Sum Tan Tanh ThresholdedRelu Where Xor
    """.split()
)  # output: the inputs broadcast together
_FOLD_AT_MOST_FIRST = frozenset(
    """
    ArgMax ArgMin Compress CumSum DepthToSpace EyeLike Flatten Hardmax LogSoftmax ReduceL1 ReduceL2
    ReduceLogSum ReduceLogSumExp ReduceMax ReduceMean ReduceMin ReduceProd ReduceSum ReduceSumSquare
    Reshape ReverseSequence Scatter ScatterElements ScatterND Slice Softmax SpaceToDepth Split Squeeze
    Transpose Trilu Unsqueeze
    """.split()
)  # outputs: at most as many elements as the first input, all together


def _shape_values(value: Any) -> list[int] | None:
    """A 1-D (or scalar) integer tensor's values as ints, or None when it is not one."""
    import numpy as np

    arr = np.asarray(value)
    if arr.ndim > 1 or arr.dtype.kind not in "iu":
        return None
    return [int(v) for v in arr.reshape(-1)]


def _scalar(value: Any) -> float | None:
    import numpy as np

    arr = np.asarray(value)
    if arr.size != 1 or arr.dtype.kind not in "iuf":
        return None
    x = float(arr.reshape(-1)[0])
    return x if math.isfinite(x) else None


def _broadcast_numel(shapes: Iterable[tuple[int, ...]]) -> int:
    """An upper bound of the elements of `shapes` broadcast together (the largest size per axis)."""
    shapes = list(shapes)
    rank = max((len(s) for s in shapes), default=0)
    return _prod(max((s[len(s) - rank + i] for s in shapes if len(s) - rank + i >= 0), default=1) for i in range(rank))


def _resize_bound(node: Any, args: list[Any], opset: int, attrs: dict[str, Any]) -> int | None:
    """Output elements of Resize / Upsample from their sizes or scales (None when they give neither)."""
    shape = tuple(args[0].shape)
    if node.op_type == "Upsample" and "scales" in attrs:
        scales: list[float] | None = [float(v) for v in attrs["scales"]]
        sizes = None
    else:
        scales_at, sizes_at = (1, None) if node.op_type == "Upsample" or opset <= 10 else (2, 3)
        scales_v = args[scales_at] if scales_at < len(args) else None
        sizes_v = args[sizes_at] if sizes_at is not None and sizes_at < len(args) else None
        sizes = _shape_values(sizes_v) if sizes_v is not None and sizes_v.size else None
        scales = [float(v) for v in scales_v.reshape(-1)] if scales_v is not None and scales_v.size else None
    axes = [int(a) % max(len(shape), 1) for a in attrs.get("axes", range(len(shape)))]
    if sizes is not None:
        if len(sizes) != len(axes) or any(v < 0 for v in sizes):
            return None
        policy = attrs.get("keep_aspect_ratio_policy", b"stretch")
        policy = policy.decode() if isinstance(policy, bytes) else str(policy)
        if policy != "stretch":  # one scale for every axis: the smaller or larger ratio
            if any(shape[a] == 0 for a in axes):
                return 0
            ratios = [v / shape[a] for v, a in zip(sizes, axes, strict=True)]
            scales = [max(ratios) if policy == "not_smaller" else min(ratios)] * len(axes)
        else:
            out = list(shape)
            for a, v in zip(axes, sizes, strict=True):
                out[a] = v
            return _prod(out)
    if scales is None or len(scales) != len(axes) or any(not math.isfinite(v) or v < 0 for v in scales):
        return None
    out = list(shape)
    for axis, scale in zip(axes, scales, strict=True):
        out[axis] = math.ceil(shape[axis] * scale)
    return _prod(out)


def _fold_output_bound(node: Any, args: list[Any], opset: int) -> int | None:
    """How many elements evaluating `node` on `args` (numpy arrays by input position, None for an
    omitted input) yields at most, worked out BEFORE evaluating it; None when it cannot be
    bounded (the node is then not folded). The evaluator allocates about its inputs plus its
    outputs, so a bound under `_FOLD_LIMIT` keeps folding small whatever the file declares."""
    present = [a for a in args if a is not None]
    if not present or any(a.dtype.kind not in "biuf" for a in present):
        return None  # strings, objects: sizes in bytes are not bounded by element counts
    op = node.op_type
    attrs = {a.name: a for a in node.attribute}
    values = {name: _attr_value(a) for name, a in attrs.items()}
    first = args[0]
    if op in _FOLD_ELEMENTWISE:
        return _broadcast_numel(tuple(a.shape) for a in present)
    if op in _FOLD_AT_MOST_FIRST:
        return int(first.size) if first is not None else None
    if op == "Dropout":  # output and mask
        return 2 * int(first.size) if first is not None else None
    if op == "TopK":  # values and indices, k at most the axis length
        return 2 * int(first.size) if first is not None else None
    if op == "NonZero":
        return int(first.size) * max(first.ndim, 1) if first is not None else None
    if op == "Concat":
        return sum(int(a.size) for a in present)
    if op == "Gather" and first is not None and len(args) > 1 and args[1] is not None:
        axis = int(values.get("axis", 0))
        if first.ndim == 0 or not -first.ndim <= axis < first.ndim:
            return None
        return _prod(d for i, d in enumerate(first.shape) if i != axis % first.ndim) * int(args[1].size)
    if op == "GatherElements" and len(args) > 1 and args[1] is not None:
        return int(args[1].size)
    if op == "GatherND" and first is not None and len(args) > 1 and args[1] is not None:
        return _prod(args[1].shape[:-1]) * int(first.size)
    if op == "ConstantOfShape" and first is not None:
        dims = _shape_values(first)
        return None if dims is None or any(d < 0 for d in dims) else _prod(dims)
    if op == "Expand" and first is not None and len(args) > 1 and args[1] is not None:
        dims = _shape_values(args[1])
        if dims is None or any(d < 0 for d in dims):
            return None
        return _broadcast_numel([tuple(first.shape), tuple(dims)])
    if op == "Tile" and first is not None and len(args) > 1 and args[1] is not None:
        repeats = _shape_values(args[1])
        if repeats is None or len(repeats) != first.ndim or any(r < 0 for r in repeats):
            return None
        return _prod(d * r for d, r in zip(first.shape, repeats, strict=True))
    if op == "Range" and len(present) == 3 and len(args) == 3:
        start, limit, delta = (_scalar(a) for a in args)
        if start is None or limit is None or delta is None or delta == 0:
            return None
        return max(0, math.ceil((limit - start) / delta))
    if op == "Pad" and first is not None:
        pads = (
            values.get("pads")
            if "pads" in values
            else (_shape_values(args[1]) if len(args) > 1 and args[1] is not None else None)
        )
        if pads is None:
            return None
        axes_arg = args[3] if len(args) > 3 else None
        axes = _shape_values(axes_arg) if axes_arg is not None else list(range(first.ndim))
        if axes is None or len(pads) != 2 * len(axes) or first.ndim == 0:
            return None
        out = list(first.shape)
        for k, a in enumerate(axes):
            out[a % first.ndim] += int(pads[k]) + int(pads[k + len(axes)])
        return None if any(d < 0 for d in out) else _prod(out)
    if op == "OneHot" and first is not None and len(args) > 1 and args[1] is not None:
        depth = _scalar(args[1])
        return None if depth is None or depth < 0 else int(first.size) * math.ceil(depth)
    if op in ("Resize", "Upsample") and first is not None:
        return _resize_bound(node, args, opset, values)
    if op == "MatMul" and first is not None and len(args) > 1 and args[1] is not None:
        left: tuple[int, ...] = tuple(int(d) for d in first.shape)
        right: tuple[int, ...] = tuple(int(d) for d in args[1].shape)
        if not left or not right:
            return None
        left = left if len(left) > 1 else (1, left[0])
        right = right if len(right) > 1 else (right[0], 1)
        return _broadcast_numel([left[:-2], right[:-2]]) * left[-2] * right[-1]
    return None


def _fold_small_constants(
    model: Any, known: dict[str, tuple[int, ...] | None], cache: dict[str, Any] | None = None
) -> tuple[Any, int]:
    """A copy of `model` whose small shape computations are replaced by their values.

    With every input shape fixed, Shape(x) of any tensor whose shape is `known` is a constant,
    and so is the small arithmetic after it (Gather, Concat, Range, Expand … over shapes, or
    over weights: torch's dynamo exporter builds absent biases as Shape(weight) -> Expand).
    Evaluating these (onnx's reference evaluator, one node at a time, tensors of at most
    `_FOLD_LIMIT` elements) lets shape inference see through what its data propagation does
    not (Range, for one). The copy serves shape inference only: rows come from the original
    graph. Returns the copy and how many nodes were folded. `cache` keeps evaluated outputs
    (tensor name -> value) between calls, so a later round evaluates only what is new.
    """
    import numpy as np
    import onnx
    from onnx import numpy_helper

    opset = _opset(model) or 13
    values: dict[str, Any] = {}
    dims: dict[str, tuple[int, ...]] = {}
    for t in model.graph.initializer:
        dims[t.name] = tuple(int(d) for d in t.dims)
        if _prod(t.dims) <= _FOLD_LIMIT and t.data_location != 1:
            try:
                values[t.name] = numpy_helper.to_array(t)
            except Exception:
                pass
    # Every value held here has at most _FOLD_LIMIT elements, and a node is evaluated only when the
    # size of what it yields is known beforehand (`_fold_output_bound`) and small too: a
    # 100-byte file asking for ConstantOfShape([2**30]) is left to shape inference, never run.
    count = 0
    folded = onnx.ModelProto()
    folded.CopyFrom(model)
    del folded.graph.node[:]
    for node in model.graph.node:
        key = (_domain(node), node.op_type)
        outs: list[Any] | None = None
        ins = [x for x in node.input if x]
        try:
            if key == ("", "Constant") and len(node.attribute) == 1 and node.attribute[0].name == "value":
                dims[node.output[0]] = tuple(int(d) for d in node.attribute[0].t.dims)
                if _prod(node.attribute[0].t.dims) <= _FOLD_LIMIT:
                    values[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
            elif (
                key in (("", "Shape"), ("", "Size"))
                and ins
                and (ins[0] in dims or ins[0] in values or known.get(ins[0]) is not None)
            ):
                if ins[0] in dims:
                    shape = dims[ins[0]]
                elif ins[0] in values:
                    shape = tuple(values[ins[0]].shape)
                else:
                    shape = known[ins[0]]  # type: ignore[assignment]
                if node.op_type == "Size":
                    outs = [np.array(_prod(shape), dtype=np.int64)]
                else:
                    a = {x.name: x.i for x in node.attribute}
                    outs = [
                        np.array(
                            shape[a.get("start", 0) : a.get("end", len(shape))]
                            if "end" in a
                            else shape[a.get("start", 0) :],
                            dtype=np.int64,
                        )
                    ]
            elif cache is not None and node.output and all(o in cache for o in node.output if o):
                outs = [cache[o] if o else np.zeros(0) for o in node.output]
            elif (
                key[0] == ""
                and ins
                and all(x in values for x in ins)
                and not _subgraphs(node)
                and not node.op_type.startswith("Random")
                and node.op_type not in ("Multinomial", "Bernoulli")
            ):
                bound = _fold_output_bound(node, [values[x] if x else None for x in node.input], opset)
                if bound is not None and bound <= _FOLD_LIMIT:
                    from onnx.reference import ReferenceEvaluator

                    result = ReferenceEvaluator(node, opsets={"": opset}).run(None, {x: values[x] for x in ins})
                    if all(np.asarray(r).size <= _FOLD_LIMIT for r in result):
                        outs = [np.asarray(r) for r in result]
                        if cache is not None:
                            cache.update((o, v) for o, v in zip(node.output, outs, strict=False) if o)
        except Exception:
            outs = None
        if outs is None or len(outs) != len(node.output):
            folded.graph.node.append(node)
            continue
        count += 1
        for name, value in zip(node.output, outs, strict=True):
            if not name:
                continue
            values[name] = value
            dims[name] = tuple(int(d) for d in value.shape)
            folded.graph.node.append(
                onnx.helper.make_node("Constant", [], [name], value=numpy_helper.from_array(value, name))
            )
    return folded, count
