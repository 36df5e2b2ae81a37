"""Loading an ONNX file safely: size limits, protobuf sanity, structure, external data, functions.

Nothing a file merely declares is allocated. The .onnx file is refused over
`MAX_ONNX_FILE_BYTES` (protobuf's 2 GiB limit) and external data files over
`MAX_EXTERNAL_DATA_BYTES`, from their sizes, before anything is read; only tensors of at most
`_FOLD_LIMIT` elements are ever read or evaluated, and a node is evaluated only when the size of
its result is bounded beforehand (`_fold_output_bound`); ONNX's data propagation (which turns a
1-D tensor of N elements into N shape entries) is not used; model-local functions that would
inline to more than `MAX_INLINED_NODES` nodes are refused. onnxruntime's symbolic inference
sees only the part of the graph whose shapes are still unknown, writes no file and never
changes the working directory. No custom-op library is ever loaded: an op of an unknown domain
is counted as unsupported, and onnxruntime refuses to run it (MeasureError).
Imports of onnx happen inside the functions.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import InputError
from .formulas import (
    _prod,
    _tensor_bytes,
)
from .graph import (
    _declared_dims,
    _np_dtype_name,
    _opset,
    _real_inputs,
    _short,
    _subgraphs,
)


@dataclass(frozen=True)
class OnnxGraphInfo:
    """The inputs an ONNX file declares and its default-domain opset.

    `inputs` holds (name, dims, dtype) per graph input that is not an initializer; a dim is an
    int, a symbolic name ("batch") or None; dtype is the numpy name ("float32", "int64").
    `opset` is 0 when the model imports no default-domain opset.
    """

    inputs: tuple[tuple[str, tuple[int | str | None, ...], str], ...]
    opset: int


def _all_tensors(model: Any) -> Iterator[Any]:
    """Every TensorProto in the model: initializers, Constant values and attributes, subgraphs."""

    def in_graph(graph: Any) -> Iterator[Any]:
        yield from graph.initializer
        for sparse in graph.sparse_initializer:
            yield sparse.values
            yield sparse.indices
        for node in graph.node:
            yield from in_attrs(node.attribute)

    def in_attrs(attrs: Any) -> Iterator[Any]:
        for attr in attrs:
            if attr.HasField("t"):
                yield attr.t
            yield from attr.tensors
            if attr.HasField("sparse_tensor"):
                yield attr.sparse_tensor.values
                yield attr.sparse_tensor.indices
            if attr.HasField("g"):
                yield from in_graph(attr.g)
            for g in attr.graphs:
                yield from in_graph(g)

    yield from in_graph(model.graph)
    for fn in model.functions:
        for node in fn.node:
            yield from in_attrs(node.attribute)


def _external_entries(path: str, model: Any) -> list[tuple[Any, str, int, int]]:
    """Validate every external-data reference; returns (tensor, file, offset, length).

    A location must name a file inside the model's folder (no absolute paths, no "..", no
    symlink leading out) that exists and holds the bytes the model says it does. This is
    checked before any external byte is read.
    """
    base = os.path.realpath(os.path.dirname(os.path.abspath(path)))
    entries: list[tuple[Any, str, int, int]] = []
    sizes: dict[str, int] = {}
    for tensor in _all_tensors(model):
        if tensor.data_location != 1:  # TensorProto.EXTERNAL
            continue
        info = {e.key: e.value for e in tensor.external_data}
        location = info.get("location", "")
        name = tensor.name or "(unnamed)"
        if not location or "\x00" in location:
            raise InputError(path, f"not a valid ONNX model: tensor {name!r} has external data without a location")
        if os.path.isabs(location) or location.startswith(("\\", "/")) or (len(location) > 1 and location[1] == ":"):
            raise InputError(
                path,
                f"external data {location!r} of tensor {name!r} is an absolute path; it must lie in the model's folder",
            )
        target = os.path.realpath(os.path.join(base, location))
        if os.path.commonpath([base, target]) != base:
            raise InputError(
                path,
                f"external data {location!r} of tensor {name!r} lies outside the model's folder; refusing to read it",
            )
        if target not in sizes:
            if not os.path.isfile(target):
                raise InputError(
                    path, f"external data file {location!r} (tensor {name!r}) is missing; keep it beside the model"
                )
            sizes[target] = os.path.getsize(target)
            if sizes[target] > MAX_EXTERNAL_DATA_BYTES:
                raise InputError(
                    path,
                    f"external data file {location!r} is {_size_text(sizes[target])}, over the "
                    f"{_size_text(MAX_EXTERNAL_DATA_BYTES)} this tool accepts per file; refusing to read it",
                )
        try:
            offset = int(info.get("offset", "0") or 0)
            expected = _tensor_bytes(tensor.data_type, tensor.dims)
            length = int(info["length"]) if info.get("length") else expected
        except ValueError:
            raise InputError(
                path, f"not a valid ONNX model: bad external data offset or length for tensor {name!r}"
            ) from None
        if offset < 0 or length < 0:
            raise InputError(
                path, f"not a valid ONNX model: negative external data offset or length for tensor {name!r}"
            )
        if offset + length > sizes[target]:
            raise InputError(
                path,
                f"external data file {location!r} is shorter than the model says (truncated?): tensor {name!r} needs bytes {offset}..{offset + length}",
            )
        entries.append((tensor, target, offset, length))
    return entries


#: An .onnx file is one protobuf message, and protobuf cannot encode one over 2 GiB: larger
#: models keep their weights in external data files. A bigger file is refused from its size,
#: before a byte of it is read (onnx.load would read all of it, then fail).
MAX_ONNX_FILE_BYTES = 2 * 1024**3
#: One external data file may hold at most this much (1 TiB, well beyond any model that could be
#: run here); the analysis reads only the small tensors it needs from it, never the whole file.
MAX_EXTERNAL_DATA_BYTES = 1024**4


def _size_text(n: int) -> str:
    for unit, scale in (("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


def _protobuf_start_ok(head: bytes) -> bool:
    """Whether `head` can begin a protobuf message: its first key names a field >= 1 with a
    valid wire type. A file of zeros (a sparse file) or text fails this from its first bytes."""
    key = shift = 0
    for byte in head[:10]:
        key |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return key >> 3 >= 1 and key & 7 in (0, 1, 2, 5)
    return False


def _check_structure(path: str, model: Any) -> None:
    if not model.HasField("graph") or (not model.graph.node and not model.graph.output):
        raise InputError(path, "not a valid ONNX model: no graph (truncated, or not an ONNX file?)")
    if not model.opset_import:
        raise InputError(path, "not a valid ONNX model: no opset_import (truncated file?)")
    graph = model.graph
    # protobuf hands back bytes for string fields that are not valid UTF-8
    for node in graph.node:
        if any(isinstance(x, bytes) for x in (node.name, node.op_type, node.domain, *node.input, *node.output)):
            raise InputError(path, "not a valid ONNX model: a node's name, type or edge is not UTF-8 text")
    for vi in (*graph.input, *graph.output, *graph.initializer):
        if isinstance(vi.name, bytes):
            raise InputError(path, "not a valid ONNX model: an input, output or weight name is not UTF-8 text")
    known = {i.name for i in graph.input} | {t.name for t in graph.initializer}
    known |= {s.values.name for s in graph.sparse_initializer}
    for node in graph.node:
        known.update(o for o in node.output if o)
    for node in graph.node:
        for name in node.input:
            if name and name not in known:
                who = node.name or node.op_type
                raise InputError(
                    path,
                    f"not a valid ONNX model: node {who!r} reads {name!r}, which no node, input or initializer provides (truncated file?)",
                )
    for out in graph.output:
        if out.name not in known:
            raise InputError(
                path, f"not a valid ONNX model: graph output {out.name!r} is never produced (truncated file?)"
            )


#: No real activation holds 2^48 elements (a petabyte at fp32): a shape beyond that comes from a
#: corrupt or hostile graph (a Reshape that multiplies elements), and counting it is meaningless.
ABSURD_ELEMENTS = 1 << 48


def _refuse_absurd_tensors(path: str, types: dict[str, Any]) -> None:
    for name, (_dtype, dims) in types.items():
        if dims and all(isinstance(d, int) and d >= 0 for d in dims) and _prod(dims) > ABSURD_ELEMENTS:
            raise InputError(
                path, f"tensor {name!r} would hold {_prod(dims):.3g} elements: the graph declares an impossible shape"
            )


#: Model-local functions that call each other can describe an exponential graph in a few bytes
#: (F1 calls F2 twice, F2 calls F3 twice …); inlining them (here, or in onnxruntime) would build
#: it. A model whose functions expand to more nodes than this is refused before that.
MAX_INLINED_NODES = 5_000_000


def _refuse_function_explosion(path: str, model: Any) -> None:
    if not model.functions:
        return
    bodies = {(f.domain, f.name, getattr(f, "overload", "")): f for f in model.functions}
    by_name = {(f.domain, f.name): key for key, f in bodies.items()}
    sizes: dict[Any, float] = {}

    def nodes_of(node_list: Any, depth: int) -> float:
        total = 0.0
        for node in node_list:
            key = (node.domain, node.op_type, getattr(node, "overload", ""))
            if key not in bodies:
                key = by_name.get((node.domain, node.op_type), key)
            total += size(key, depth + 1) if key in bodies else 1
            for g in _subgraphs(node):
                total += nodes_of(g.node, depth + 1)
        return total

    def size(key: Any, depth: int) -> float:
        if key not in sizes:
            sizes[key] = math.inf  # a function that calls itself never ends
            if depth < 64:
                sizes[key] = nodes_of(bodies[key].node, depth)
        return sizes[key]

    total = nodes_of(model.graph.node, 0)
    if total > MAX_INLINED_NODES:
        shown = "an unbounded number of" if math.isinf(total) else f"{total:.3g}"
        raise InputError(
            path, f"its model-local functions expand to {shown} nodes (at most {MAX_INLINED_NODES:,} are accepted)"
        )


def load_checked_model(path: str, *, inline_functions: bool = True) -> Any:
    """`onnx.load` without external data, checked for truncation and unsafe external paths.

    Raises InputError with one line for a missing, empty, corrupt or truncated file, one over
    `MAX_ONNX_FILE_BYTES` (refused from its size, unread), external data outside the model's
    folder, missing, too short or over `MAX_EXTERNAL_DATA_BYTES`, and model-local functions
    that would inline to over `MAX_INLINED_NODES` nodes. External bytes are not read here.
    """
    import onnx

    if not os.path.exists(path):
        raise InputError(path, "file not found")
    if os.path.isdir(path):
        raise InputError(path, "is a folder, not an ONNX file")
    size = os.path.getsize(path)
    if size == 0:
        raise InputError(path, "empty file: not a valid ONNX model")
    if size > MAX_ONNX_FILE_BYTES:
        raise InputError(
            path,
            f"is {_size_text(size)}: an ONNX file holds at most {_size_text(MAX_ONNX_FILE_BYTES)} "
            "(larger models keep their weights in external data files); refusing to read it",
        )
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise InputError(path, f"cannot read the file: {_short(exc)}") from None
    if not _protobuf_start_ok(head):
        raise InputError(path, "not a valid ONNX model: the file does not start like a protobuf message")
    try:
        model = onnx.load(path, load_external_data=False)
    except OSError as exc:
        raise InputError(path, f"cannot read the file: {_short(exc)}") from None
    except Exception as exc:  # DecodeError, ValueError: onnx raises several kinds for bad bytes
        raise InputError(path, f"not a valid ONNX model: {_short(exc)}") from None
    _check_structure(path, model)
    _external_entries(path, model)
    _refuse_function_explosion(path, model)
    if inline_functions and model.functions:
        try:
            import onnx.inliner

            model = onnx.inliner.inline_local_functions(model)
        except Exception:  # a model-local function the inliner cannot expand stays a call
            pass
    return model


def read_onnx_inputs(path: str) -> OnnxGraphInfo:
    """The declared inputs and opset of an ONNX file; raises InputError for a file that is not one."""
    model = load_checked_model(path, inline_functions=False)
    inputs = []
    for vi in _real_inputs(model.graph):
        if vi.type.HasField("tensor_type"):
            dtype = _np_dtype_name(vi.type.tensor_type.elem_type)
        else:
            dtype = vi.type.WhichOneof("value") or "unknown"
        inputs.append((vi.name, _declared_dims(vi), dtype))
    return OnnxGraphInfo(inputs=tuple(inputs), opset=_opset(model))
