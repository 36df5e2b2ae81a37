"""Per-op MAC formulas for ONNX nodes, and the op tables the counting uses.

What costs nothing (`ZERO_COST_OPS`), what has a formula (`COUNTED_OPS`), which inputs hold
weights that are not parameters; each formula sees one node's shapes and attributes (`_Ctx`)
and returns its multiply-accumulates. The graph walk that applies them is in `analysis`.
Imports nothing heavy.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

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
        "BatchNormalization",
        "GroupNormalization",
        "InstanceNormalization",
        "LayerNormalization",
        "RMSNormalization",
        "SimplifiedLayerNormalization",
        "SkipLayerNormalization",
        "SkipSimplifiedLayerNormalization",
        "EmbedLayerNormalization",
        "GroupNorm",
        "SkipGroupNorm",
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


def _tensor_bytes(dtype: int, dims: Iterable[int]) -> int:
    bits = _BITS.get(dtype, 0)
    return (_prod(dims) * bits + 7) // 8
