"""Static per-node analysis of an ONNX model: params, weight bytes, MACs, FLOPs, activations.

The graph's inputs are fixed to concrete shapes, shapes are inferred (ONNX's own inference
with data propagation; onnxruntime's symbolic inference as a fallback for contrib ops), and
every node gets a `LayerRow`. Nothing here runs the model: timing is in `onnx_timing`.

Counting conventions (the same as the torch side, `torch_flops.py`):

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
its outputs (0, with a warning, where a shape is unknown).

`activation_peak_bytes` replays the graph in order with liveness: a node's outputs are
allocated while its inputs are still alive, and a tensor is freed after its last consumer.
Graph inputs and weights are not activations; graph outputs stay alive to the end; Reshape,
Flatten, Squeeze, Unsqueeze and Identity outputs share their input's buffer (onnxruntime runs
them in place). A tensor computed from weights alone that holds more bytes than the weights it
comes from (ConstantOfShape, Expand, Tile, Range … of constants) is memory too: it counts in its
row's `activation_bytes` and in the peak, resident for the whole run when runtimes fold it at
load time, or as a run-time tensor over `MAX_FOLDED_ELEMENTS` (dequantized weights excepted:
runtimes fuse them into their consumer). None when some activation's size is unknown.

Hostile files: nothing a file merely declares is allocated. The .onnx file is refused over
`MAX_ONNX_FILE_BYTES` (protobuf's 2 GiB limit) and external data files over
`MAX_EXTERNAL_DATA_BYTES`, from their sizes, before anything is read; only tensors of at most
`_FOLD_LIMIT` elements are ever read or evaluated, and a node is evaluated only when the size of
its result is bounded beforehand (`_fold_output_bound`); ONNX's data propagation (which turns a
1-D tensor of N elements into N shape entries) is not used; model-local functions that would
inline to more than `MAX_INLINED_NODES` nodes are refused. onnxruntime's symbolic inference
sees only the part of the graph whose shapes are still unknown, writes no file and never
changes the working directory. No custom-op library is ever loaded: an op of an unknown domain
is counted as unsupported, and onnxruntime refuses to run it (MeasureError).

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

import ast
import math
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .errors import InputError
from .result import InputSpec, LayerRow

__all__ = [
    "COUNTED_OPS",
    "ZERO_COST_OPS",
    "OnnxAnalysis",
    "OnnxGraphInfo",
    "analyze_onnx",
    "load_checked_model",
    "node_scope",
    "op_key",
    "read_onnx_inputs",
    "unique_node_names",
]

MS_DOMAIN = "com.microsoft"

# Element widths in bits by TensorProto data type (STRING = 8 has no fixed width).
_BITS: dict[int, int] = {
    1: 32,  # FLOAT
    2: 8,  # UINT8
    3: 8,  # INT8
    4: 16,  # UINT16
    5: 16,  # INT16
    6: 32,  # INT32
    7: 64,  # INT64
    9: 8,  # BOOL
    10: 16,  # FLOAT16
    11: 64,  # DOUBLE
    12: 32,  # UINT32
    13: 64,  # UINT64
    14: 64,  # COMPLEX64
    15: 128,  # COMPLEX128
    16: 16,  # BFLOAT16
    17: 8,  # FLOAT8E4M3FN
    18: 8,  # FLOAT8E4M3FNUZ
    19: 8,  # FLOAT8E5M2
    20: 8,  # FLOAT8E5M2FNUZ
    21: 4,  # UINT4
    22: 4,  # INT4
    23: 4,  # FLOAT4E2M1
    24: 8,  # FLOAT8E8M0
    25: 2,  # UINT2
    26: 2,  # INT2
}
# Data types whose constants count as parameters: floats, and the narrow ints of quantized weights.
_PARAM_DTYPES = frozenset({1, 2, 3, 10, 11, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26})
_INT32 = 6

# --- what costs nothing, what is counted ------------------------------------------------------

_ZERO_DEFAULT = frozenset(
    """
    Abs Acos Acosh Add And Asin Asinh Atan Atanh BitShift BitwiseAnd BitwiseNot BitwiseOr
    BitwiseXor Cast CastLike Ceil Celu Clip Cos Cosh Div Dropout Elu Equal Erf Exp Floor Gelu
    Greater GreaterOrEqual HardSigmoid HardSwish Identity IsInf IsNaN LeakyRelu Less LessOrEqual
    Log Max Mean Min Mish Mod Mul Neg Not Or Pow PRelu Reciprocal Relu Round Selu Shrink Sigmoid
    Sign Sin Sinh Softplus Softsign Sqrt Sub Sum Swish Tan Tanh ThresholdedRelu Where Xor
    BatchNormalization GroupNormalization InstanceNormalization LayerNormalization
    LpNormalization LRN MeanVarianceNormalization RMSNormalization SimplifiedLayerNormalization
    SkipSimplifiedLayerNormalization
    Softmax LogSoftmax Hardmax
    AveragePool GlobalAveragePool GlobalLpPool GlobalMaxPool LpPool MaxPool MaxRoiPool MaxUnpool
    RoiAlign
    ArgMax ArgMin CumSum ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp ReduceMax ReduceMean
    ReduceMin ReduceProd ReduceSum ReduceSumSquare TopK
    AffineGrid CenterCropPad Col2Im Compress Concat Constant ConstantOfShape DepthToSpace Expand
    EyeLike Flatten Gather GatherElements GatherND GridSample NonZero OneHot Pad Range Reshape
    Resize ReverseSequence Scatter ScatterElements ScatterND Shape Size Slice SpaceToDepth Split
    Squeeze Tile Transpose Trilu Unique Unsqueeze Upsample NonMaxSuppression
    QuantizeLinear DequantizeLinear DynamicQuantizeLinear
    Bernoulli Multinomial RandomNormal RandomNormalLike RandomUniform RandomUniformLike
    BlackmanWindow HammingWindow HannWindow
    Optional OptionalGetElement OptionalHasElement SequenceAt SequenceConstruct SequenceEmpty
    SequenceErase SequenceInsert SequenceLength SplitToSequence ConcatFromSequence
    """.split()
)
_ZERO_MS = frozenset(
    """
    BiasAdd BiasDropout BiasGelu BiasSoftmax BiasSplitGelu DequantizeLinear
    EmbedLayerNormalization FastGelu GatherBlockQuantized Gelu GemmaRotaryEmbedding GridSample
    GroupNorm LayerNormalization NhwcMaxPool QLinearAdd QLinearAveragePool QLinearConcat
    QLinearGlobalAveragePool QLinearLeakyRelu QLinearMul QLinearReduceMean QLinearSigmoid
    QLinearSoftmax QLinearWhere QuantizeLinear QuickGelu Range RotaryEmbedding
    SimplifiedLayerNormalization SkipGroupNorm SkipLayerNormalization
    SkipSimplifiedLayerNormalization Trilu Unique
    """.split()
)
#: (domain, op_type) pairs that cost zero FLOPs by convention ("" is the default ONNX domain).
ZERO_COST_OPS: frozenset[tuple[str, str]] = frozenset(
    {("", op) for op in _ZERO_DEFAULT} | {(MS_DOMAIN, op) for op in _ZERO_MS}
)
_CONTROL_FLOW = frozenset({"If", "Loop", "Scan"})
_ALIAS_OPS = frozenset({"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity"})
_NORM_OPS = frozenset(
    {
        "BatchNormalization", "GroupNormalization", "InstanceNormalization", "LayerNormalization",
        "RMSNormalization", "SimplifiedLayerNormalization", "SkipLayerNormalization",
        "SkipSimplifiedLayerNormalization", "EmbedLayerNormalization", "GroupNorm", "SkipGroupNorm",
    }
)

# Inputs that hold statistics, quantization parameters or resize factors: weights, not params.
_NON_PARAM_INPUTS: dict[tuple[str, str], frozenset[int]] = {
    ("", "BatchNormalization"): frozenset({3, 4}),
    ("", "QuantizeLinear"): frozenset({1, 2}),
    ("", "DequantizeLinear"): frozenset({1, 2}),
    (MS_DOMAIN, "QuantizeLinear"): frozenset({1, 2}),
    (MS_DOMAIN, "DequantizeLinear"): frozenset({1, 2}),
    ("", "QLinearConv"): frozenset({1, 2, 4, 5, 6, 7}),
    ("", "QLinearMatMul"): frozenset({1, 2, 4, 5, 6, 7}),
    ("", "MatMulInteger"): frozenset({2, 3}),
    ("", "ConvInteger"): frozenset({2, 3}),
    ("", "Resize"): frozenset({1, 2, 3}),
    ("", "Upsample"): frozenset({1}),
    (MS_DOMAIN, "DynamicQuantizeMatMul"): frozenset({2, 3}),
    (MS_DOMAIN, "MatMulIntegerToFloat"): frozenset({2, 3, 4, 5}),
    (MS_DOMAIN, "MatMulNBits"): frozenset({2, 3, 4}),
    (MS_DOMAIN, "QAttention"): frozenset({3, 4, 6, 7}),
    (MS_DOMAIN, "QGemm"): frozenset({1, 2, 4, 5, 7, 8}),
}
# Inputs of which only the shape or dtype is read: a weight there is not used by the node.
_METADATA_INPUTS: dict[tuple[str, str], frozenset[int]] = {
    ("", "Shape"): frozenset({0}),
    ("", "Size"): frozenset({0}),
    ("", "CastLike"): frozenset({1}),
    ("", "EyeLike"): frozenset({0}),
    ("", "RandomNormalLike"): frozenset({0}),
    ("", "RandomUniformLike"): frozenset({0}),
}
# int32 inputs that are quantized biases (parameters), by op.
_INT32_PARAM_INPUTS: dict[tuple[str, str], int] = {("", "QLinearConv"): 8, (MS_DOMAIN, "QGemm"): 6}


class _Unknown(Exception):
    """A shape the formula needs could not be inferred."""


class _NoFormula(Exception):
    """This use of the op has no formula (e.g. an Einsum over three operands)."""


def _prod(values: Iterable[int]) -> int:
    return int(math.prod(values))


@dataclass
class _Ctx:
    """What a formula sees of one node: its input/output shapes and attributes."""

    node: Any
    shapes: dict[str, tuple[int, ...] | None]
    attrs: dict[str, Any]

    def inp(self, i: int, *, required: bool = True) -> tuple[int, ...] | None:
        names = self.node.input
        if i >= len(names) or not names[i]:
            if required:
                raise _Unknown(f"input {i} missing")
            return None
        shape = self.shapes.get(names[i])
        if shape is None and required:
            raise _Unknown(f"shape of {names[i]!r} unknown")
        return shape

    def out(self, i: int = 0) -> tuple[int, ...] | None:
        names = self.node.output
        if i >= len(names) or not names[i]:
            return None
        return self.shapes.get(names[i])

    def attr(self, name: str, default: Any = None) -> Any:
        return self.attrs.get(name, default)


def _conv_out_numel(ctx: _Ctx, x: tuple[int, ...], w: tuple[int, ...]) -> int:
    """Output elements of a Conv from its attributes, when inference gave no output shape."""
    spatial = x[2:]
    n = len(spatial)
    kernel = list(ctx.attr("kernel_shape") or w[2:])
    strides = list(ctx.attr("strides") or [1] * n)
    dilations = list(ctx.attr("dilations") or [1] * n)
    pads = list(ctx.attr("pads") or [0] * (2 * n))
    auto_pad = ctx.attr("auto_pad", b"NOTSET")
    auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else str(auto_pad)
    out = []
    for i, size in enumerate(spatial):
        span = dilations[i] * (kernel[i] - 1) + 1
        if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            out.append(-(-size // strides[i]))
        elif auto_pad == "VALID":
            out.append((size - span) // strides[i] + 1)
        else:
            out.append((size + pads[i] + pads[i + n] - span) // strides[i] + 1)
    return x[0] * w[0] * _prod(out)


def _conv_formula(x_pos: int, w_pos: int) -> Callable[[_Ctx], int]:
    def formula(ctx: _Ctx) -> int:
        w = ctx.inp(w_pos)
        assert w is not None
        y = ctx.out(0)
        if y is not None:
            return _prod(y) * _prod(w[1:])
        x = ctx.inp(x_pos)
        assert x is not None
        return _conv_out_numel(ctx, x, w) * _prod(w[1:])

    return formula


def _conv_transpose(ctx: _Ctx) -> int:
    # Every input element multiplies a (M/group) x kernel slice of W = (C, M/group, *kernel).
    x, w = ctx.inp(0), ctx.inp(1)
    assert x is not None and w is not None
    return _prod(x) * _prod(w[1:])


def _gemm_formula(a_pos: int, b_pos: int) -> Callable[[_Ctx], int]:
    def formula(ctx: _Ctx) -> int:
        a, b = ctx.inp(a_pos), ctx.inp(b_pos)
        assert a is not None and b is not None
        m, k = (a[1], a[0]) if ctx.attr("transA", 0) else (a[0], a[1])
        n = b[0] if ctx.attr("transB", 0) else b[1]
        return m * k * n

    return formula


def _broadcast(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    n = max(len(a), len(b))
    a = (1,) * (n - len(a)) + a
    b = (1,) * (n - len(b)) + b
    return tuple(max(x, y) if min(x, y) != 0 else 0 for x, y in zip(a, b, strict=True))


def _matmul_macs(a: tuple[int, ...], b: tuple[int, ...], trans_a: bool = False, trans_b: bool = False) -> int:
    """MACs of numpy-semantics matmul (1-D operands promoted), optionally transposing the last two dims."""
    if len(a) == 1:
        a = (1, a[0])
    if len(b) == 1:
        b = (b[0], 1)
    m, k = (a[-1], a[-2]) if trans_a else (a[-2], a[-1])
    n = b[-2] if trans_b else b[-1]
    batch = _broadcast(a[:-2], b[:-2])
    return _prod(batch) * m * k * n


def _matmul_formula(a_pos: int, b_pos: int) -> Callable[[_Ctx], int]:
    def formula(ctx: _Ctx) -> int:
        a, b = ctx.inp(a_pos), ctx.inp(b_pos)
        assert a is not None and b is not None
        return _matmul_macs(a, b)

    return formula


def _fused_matmul(ctx: _Ctx) -> int:
    a, b = ctx.inp(0), ctx.inp(1)
    assert a is not None and b is not None
    if ctx.attr("transBatchA", 0) or ctx.attr("transBatchB", 0):
        y = ctx.out(0)
        if y is None:
            raise _Unknown("output shape of a batch-transposed FusedMatMul")
        k = a[-2] if ctx.attr("transA", 0) else a[-1]
        return _prod(y) * k
    return _matmul_macs(a, b, bool(ctx.attr("transA", 0)), bool(ctx.attr("transB", 0)))


def _matmul_nbits(ctx: _Ctx) -> int:
    a = ctx.inp(0)
    assert a is not None
    return _prod(a[:-1]) * int(ctx.attr("K")) * int(ctx.attr("N"))


def _einsum(ctx: _Ctx) -> int:
    raw = ctx.attr("equation", b"")
    equation = (raw.decode() if isinstance(raw, bytes) else str(raw)).replace(" ", "")
    terms = equation.split("->")[0].split(",")
    if len(terms) == 1:
        return 0  # one operand: a transpose, trace or sum, zero by convention
    if len(terms) > 2:
        raise _NoFormula("Einsum over more than two operands")
    sizes: dict[str, int] = {}
    for i, term in enumerate(terms):
        shape = ctx.inp(i)
        assert shape is not None
        if "..." in term:
            before, after = term.split("...")
            n_ell = len(shape) - len(before) - len(after)
            # Broadcast dims align from the right, so label them by their distance from the end.
            labels = list(before) + [f"...{n_ell - 1 - j}" for j in range(n_ell)] + list(after)
        else:
            labels = list(term)
        if len(labels) != len(shape):
            raise _NoFormula("Einsum equation does not match its operand ranks")
        for label, size in zip(labels, shape, strict=True):
            sizes[label] = max(sizes.get(label, 1), size)
    return _prod(sizes.values())


def _recurrent(ctx: _Ctx) -> int:
    # X: (seq, batch, in) or, with layout=1, (batch, seq, in); W: (dirs, G*H, in); R: (dirs, G*H, H).
    x, w, r = ctx.inp(0), ctx.inp(1), ctx.inp(2)
    assert x is not None and w is not None and r is not None
    steps_times_batch = x[0] * x[1]
    return steps_times_batch * (_prod(w) + _prod(r))


def _ms_attention(ctx: _Ctx) -> int:
    """com.microsoft Attention/QAttention: the QKV projection plus QK^T and AV."""
    x, w = ctx.inp(0), ctx.inp(1)
    assert x is not None and w is not None
    batch, seq, hidden_in = x[0], x[1], x[2]
    sizes = ctx.attr("qkv_hidden_sizes")
    if sizes:
        q_hidden, _, v_hidden = (int(s) for s in sizes)
    else:
        q_hidden = v_hidden = w[-1] // 3
    past_pos = 8 if ctx.node.op_type == "QAttention" else 4
    past = ctx.inp(past_pos, required=False)
    total = seq + (past[3] if past is not None and len(past) == 5 else 0)
    projection = batch * seq * hidden_in * w[-1]
    return projection + batch * seq * total * (q_hidden + v_hidden)


def _ms_multihead_attention(ctx: _Ctx) -> int:
    """com.microsoft MultiHeadAttention: QK^T and AV (projections are separate MatMuls)."""
    q = ctx.inp(0)
    assert q is not None
    k = ctx.inp(1, required=False)
    v = ctx.inp(2, required=False)
    if len(q) == 5:  # packed QKV: (B, S, H, 3, head)
        batch, seq, heads, _, head = q
        return batch * seq * seq * 2 * heads * head
    if len(q) != 3 or k is None:
        raise _NoFormula("MultiHeadAttention layout")
    batch, seq, q_hidden = q
    if len(k) == 5:  # packed KV: (B, L, H, 2, head)
        return batch * seq * k[1] * (q_hidden + k[2] * k[4])
    if v is None:
        raise _Unknown("value shape")
    if len(k) == 4:  # (B, H, L, head): already projected, past not used
        total = k[2]
    else:
        total = k[1]
        past = ctx.inp(6, required=False)
        if past is not None and len(past) == 4:
            total += past[2]
    v_hidden = v[1] * v[3] if len(v) == 4 else v[-1]
    return batch * seq * total * (q_hidden + v_hidden)


def _onnx_attention(ctx: _Ctx) -> int:
    """Opset-23 Attention: QK^T and AV over (B, heads, S, head) or (B, S, hidden) inputs."""
    q, k, v = ctx.inp(0), ctx.inp(1), ctx.inp(2)
    assert q is not None and k is not None and v is not None
    if len(q) == 4:
        batch, q_heads, seq, head = q
        total, v_head = k[2], v[3]
        kv_heads = k[1]
    else:
        q_heads = int(ctx.attr("q_num_heads", 0))
        kv_heads = int(ctx.attr("kv_num_heads", 0))
        if not q_heads or not kv_heads:
            raise _NoFormula("3-D Attention without head counts")
        batch, seq, q_hidden = q
        head, total, v_head = q_hidden // q_heads, k[1], v[2] // kv_heads
    past = ctx.inp(4, required=False)
    if past is not None and len(past) == 4:
        total += past[2]
    return batch * q_heads * seq * total * (head + v_head)


_FORMULAS: dict[tuple[str, str], Callable[[_Ctx], int]] = {
    ("", "Conv"): _conv_formula(0, 1),
    ("", "ConvInteger"): _conv_formula(0, 1),
    ("", "QLinearConv"): _conv_formula(0, 3),
    ("", "ConvTranspose"): _conv_transpose,
    ("", "Gemm"): _gemm_formula(0, 1),
    ("", "MatMul"): _matmul_formula(0, 1),
    ("", "MatMulInteger"): _matmul_formula(0, 1),
    ("", "QLinearMatMul"): _matmul_formula(0, 3),
    ("", "Einsum"): _einsum,
    ("", "LSTM"): _recurrent,
    ("", "GRU"): _recurrent,
    ("", "RNN"): _recurrent,
    ("", "Attention"): _onnx_attention,
    (MS_DOMAIN, "Attention"): _ms_attention,
    (MS_DOMAIN, "QAttention"): _ms_attention,
    (MS_DOMAIN, "MultiHeadAttention"): _ms_multihead_attention,
    (MS_DOMAIN, "FusedMatMul"): _fused_matmul,
    (MS_DOMAIN, "FusedConv"): _conv_formula(0, 1),
    (MS_DOMAIN, "FusedGemm"): _gemm_formula(0, 1),
    (MS_DOMAIN, "QGemm"): _gemm_formula(0, 3),
    (MS_DOMAIN, "MatMulNBits"): _matmul_nbits,
    (MS_DOMAIN, "MatMulIntegerToFloat"): _matmul_formula(0, 1),
    (MS_DOMAIN, "DynamicQuantizeMatMul"): _matmul_formula(0, 1),
}
#: (domain, op_type) pairs with a MAC formula.
COUNTED_OPS: frozenset[tuple[str, str]] = frozenset(_FORMULAS)


def _domain(node: Any) -> str:
    return "" if node.domain in ("", "ai.onnx") else str(node.domain)


def op_key(domain: str, op_type: str) -> str:
    """The `unsupported_ops` key of an op: "onnx::Conv", "com.microsoft::Attention"."""
    return f"onnx::{op_type}" if domain in ("", "ai.onnx") else f"{domain}::{op_type}"


# --- public results -----------------------------------------------------------------------------


@dataclass(frozen=True)
class OnnxGraphInfo:
    """The inputs an ONNX file declares and its default-domain opset.

    `inputs` holds (name, dims, dtype) per graph input that is not an initializer; a dim is an
    int, a symbolic name ("batch") or None; dtype is the numpy name ("float32", "int64").
    `opset` is 0 when the model imports no default-domain opset.
    """

    inputs: tuple[tuple[str, tuple[int | str | None, ...], str], ...]
    opset: int


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


def _short(exc: BaseException, limit: int = 160) -> str:
    text = str(exc).strip() or type(exc).__name__
    line = text.splitlines()[0].strip()
    return line if len(line) <= limit else line[: limit - 1] + "…"


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


def _tensor_bytes(dtype: int, dims: Iterable[int]) -> int:
    bits = _BITS.get(dtype, 0)
    return (_prod(dims) * bits + 7) // 8


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
            raise InputError(path, f"external data {location!r} of tensor {name!r} is an absolute path; it must lie in the model's folder")
        target = os.path.realpath(os.path.join(base, location))
        if os.path.commonpath([base, target]) != base:
            raise InputError(path, f"external data {location!r} of tensor {name!r} lies outside the model's folder; refusing to read it")
        if target not in sizes:
            if not os.path.isfile(target):
                raise InputError(path, f"external data file {location!r} (tensor {name!r}) is missing; keep it beside the model")
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
            raise InputError(path, f"not a valid ONNX model: bad external data offset or length for tensor {name!r}") from None
        if offset < 0 or length < 0:
            raise InputError(path, f"not a valid ONNX model: negative external data offset or length for tensor {name!r}")
        if offset + length > sizes[target]:
            raise InputError(path, f"external data file {location!r} is shorter than the model says (truncated?): tensor {name!r} needs bytes {offset}..{offset + length}")
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
                raise InputError(path, f"not a valid ONNX model: node {who!r} reads {name!r}, which no node, input or initializer provides (truncated file?)")
    for out in graph.output:
        if out.name not in known:
            raise InputError(path, f"not a valid ONNX model: graph output {out.name!r} is never produced (truncated file?)")


#: A tensor computed from constants alone with more elements than this (16 Mi: 64 MiB at fp32) is
#: never materialised by the analysis (it folds at most `_FOLD_LIMIT` elements anyway) and is
#: counted as a run-time tensor, alive from its node to its last use; smaller ones count as
#: resident, since runtimes fold them into the session when it loads.
MAX_FOLDED_ELEMENTS = 16 * 2**20
_WARN_FOLDED_BYTES = 64 * 2**20  # say so in the warnings when constants grow into this much

#: No real activation holds 2^48 elements (a petabyte at fp32): a shape beyond that comes from a
#: corrupt or hostile graph (a Reshape that multiplies elements), and counting it is meaningless.
ABSURD_ELEMENTS = 1 << 48


def _refuse_absurd_tensors(path: str, types: dict[str, Any]) -> None:
    for name, (_dtype, dims) in types.items():
        if dims and all(isinstance(d, int) and d >= 0 for d in dims) and _prod(dims) > ABSURD_ELEMENTS:
            raise InputError(path, f"tensor {name!r} would hold {_prod(dims):.3g} elements: the graph declares an impossible shape")


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
        raise InputError(path, f"its model-local functions expand to {shown} nodes (at most {MAX_INLINED_NODES:,} are accepted)")


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


# --- names and scopes -----------------------------------------------------------------------------


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


# --- shapes ----------------------------------------------------------------------------------------


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
            if vi.type.HasField("tensor_type") and all(isinstance(d, int) for d in declared) and vi.type.tensor_type.HasField("shape"):
                continue
            raise InputError(path, f"no shape given for input {name!r} (declared {list(declared)}); pass --input-shape {name}=…")
        if not vi.type.HasField("tensor_type"):
            raise InputError(path, f"input {name!r} is not a tensor; only tensor inputs can be profiled")
        model_dtype = _np_dtype_name(vi.type.tensor_type.elem_type)
        if spec.dtype != model_dtype:
            raise InputError(path, f"input {name!r} is {model_dtype} in the model, not {spec.dtype}")
        if any(d <= 0 for d in spec.shape):
            raise InputError(path, f"input {name!r}: shape {list(spec.shape)} has a non-positive size")
        if vi.type.tensor_type.HasField("shape"):
            if len(declared) != len(spec.shape):
                raise InputError(path, f"input {name!r} has {len(declared)} dims in the model, got shape {list(spec.shape)}")
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
            types[vi.name] = (dtype or (old[0] if old else 0), shape if shape is not None else (old[1] if old else None))
    return types


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
        if tensor.data_type not in _BITS or _prod(tensor.dims) > _FOLD_LIMIT or length != _tensor_bytes(tensor.data_type, tensor.dims):
            continue
        with open(target, "rb") as fh:
            fh.seek(offset)
            data = fh.read(length)
        tensor.raw_data = data
        tensor.data_location = 0
        del tensor.external_data[:]


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
        pads = values.get("pads") if "pads" in values else (_shape_values(args[1]) if len(args) > 1 and args[1] is not None else None)
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


def _attr_value(attr: Any) -> Any:
    import onnx

    try:
        return onnx.helper.get_attribute_value(attr)
    except Exception:
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
            elif key in (("", "Shape"), ("", "Size")) and ins and (ins[0] in dims or ins[0] in values or known.get(ins[0]) is not None):
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
                    outs = [np.array(shape[a.get("start", 0) : a.get("end", len(shape))] if "end" in a else shape[a.get("start", 0) :], dtype=np.int64)]
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


def _symbolic_infer(model: Any, warnings: list[str], types: dict[str, tuple[int, tuple[int, ...] | None]] | None = None) -> Any | None:
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


# --- the analysis -------------------------------------------------------------------------------


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
                    consts[node.output[0]] = _Const(a.sparse_tensor.values.data_type, tuple(int(d) for d in a.sparse_tensor.dims))
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
        if (_domain(node), node.op_type) == (MS_DOMAIN, "MatMulNBits") and len(node.input) > 1 and node.input[1] in consts:
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

        def take(name: str, position: int, *, key: tuple[str, str] = key, counted_op: bool = counted_op, row_weights: dict[str, bool] = row_weights) -> None:
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
                raise InputError(path, f"node {names[i]!r} would output {_prod(shape):.3g} elements: the graph declares an impossible shape")
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
            )
        )

    params = sum(param_override.get(w, all_consts[w].numel) for w, flag in weights_used.items() if flag)
    weight_bytes = sum(all_consts[w].nbytes for w in weights_used)

    if uncountable:
        listed = ", ".join(f"{k} ×{v}" for k, v in sorted(uncountable.items()))
        warnings.append(f"shapes unknown, MACs not counted for: {listed}")
    if unknown_act:
        warnings.append(f"activation size unknown for {len(unknown_act)} tensor(s) (e.g. {unknown_act[0]!r}); counted as 0 bytes")

    peak = None if unknown_act else _activation_peak(nodes, order, types, consts, derived, graph, const_only_nodes, made_at_load, big_folded)
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
