"""FLOP formulas FlopCounterMode lacks, and which ops cost no FLOPs by convention.

Convention (torch's `torch/utils/flop_counter.py`): 2 FLOPs per multiply-accumulate, counted
for the contractions (matmul, convolution, attention); elementwise, normalisation, pooling and
data-movement ops count zero. An op that is neither counted nor zero by convention is
"unsupported": listed, and its layer flagged, never silently dropped.
"""

from __future__ import annotations

import math
from typing import Any

# aten op packets that move or reshape data, reduce, normalise, or create tensors: zero FLOPs by
# convention. Pointwise and view ops are recognised from their tags and schemas instead.
_ZERO_COST_NAMES = frozenset(
    """
    _native_batch_norm_legit_no_training _native_batch_norm_legit native_batch_norm batch_norm
    native_layer_norm native_group_norm _fused_rms_norm rms_norm
    _softmax _safe_softmax _log_softmax softmax log_softmax
    max_pool2d_with_indices max_pool1d max_pool2d max_pool3d max_pool3d_with_indices
    avg_pool1d avg_pool2d avg_pool3d _adaptive_avg_pool2d adaptive_avg_pool2d _adaptive_avg_pool3d
    adaptive_max_pool2d mean sum prod amax amin max min argmax argmin var var_mean std std_mean
    norm linalg_vector_norm cumsum cumprod logsumexp topk sort argsort all any
    embedding embedding_bag index_select gather scatter scatter_add index index_put index_put_
    _index_put_impl_ masked_fill masked_scatter take cat stack split split_with_sizes chunk
    unbind clone _to_copy copy_ contiguous empty empty_like empty_strided zeros zeros_like ones
    ones_like full full_like fill_ zero_ new_zeros new_ones new_empty new_full new_empty_strided
    arange linspace tril triu tril_ triu_ scalar_tensor lift_fresh detach alias
    _local_scalar_dense item repeat repeat_interleave expand_copy roll flip constant_pad_nd
    pad reflection_pad2d replication_pad2d upsample_nearest2d upsample_bilinear2d
    upsample_nearest1d upsample_linear1d _upsample_bilinear2d_aa _upsample_nearest_exact2d
    native_dropout dropout bernoulli bernoulli_ rand randn rand_like randn_like normal_ uniform_
    randint randperm nonzero unique _unique2 one_hot where masked_select _assert_async
    _assert_tensor_metadata sym_constrain_range sym_constrain_range_for_size
    _embedding_bag _pdist_forward cdist _cdist_forward pixel_shuffle pixel_unshuffle
    channel_shuffle im2col col2im resize_ set_ slice_scatter select_scatter
    diagonal_scatter as_strided_scatter bucketize searchsorted count_nonzero histc bincount
    _empty_affine_quantized _empty_per_channel_affine_quantized quantize_per_tensor
    quantize_per_tensor_dynamic quantize_per_channel dequantize q_scale q_zero_point int_repr
    fake_quantize_per_tensor_affine fake_quantize_per_channel_affine
    _unsafe_index _unsafe_masked_index _unsafe_view view reshape _reshape_alias as_strided
    unsafe_split unsafe_split_with_sizes unsafe_chunk floor_divide aminmax index_add index_fill
    index_copy _thnn_fused_lstm_cell _thnn_fused_gru_cell glu _weight_norm_interface _weight_norm
    """.split()
)
# Mixture-of-experts routing (topk, sort, histc, bincount, one_hot, nonzero, where, index_add,
# scatter, floor_divide of the sorted slots) only chooses and moves rows: zero, like the rest
# of data movement; the experts' matmuls are counted (formulas_rnn_moe.py). The fused RNN cell
# kernels take gates whose matmuls were already counted and only apply the gate nonlinearities.


def zero_cost(func: Any) -> bool:
    """True when an aten op costs no FLOPs under the counting convention."""
    import torch

    tags = getattr(func, "tags", ())
    if torch.Tag.pointwise in tags or torch.Tag.view_copy in tags or torch.Tag.inplace_view in tags:
        return True
    if getattr(func, "is_view", False):
        return True
    packet = getattr(func, "overloadpacket", None)
    name = getattr(packet, "__name__", str(func)).split(".")[-1]
    # An in-place variant (`scatter_`, `index_add_`) costs what its out-of-place op costs.
    if name in _ZERO_COST_NAMES or (name.endswith("_") and name[:-1] in _ZERO_COST_NAMES):
        return True
    namespace = getattr(func, "namespace", "")
    return namespace == "prim"


def _sdpa_flops(q_shape: Any, k_shape: Any, v_shape: Any) -> int:
    """Two batched matmuls, QK^T and AV, with 2 FLOPs per MAC; causal masks are not halved."""
    *b_dims, s_q, d_q = q_shape
    s_k = k_shape[-2]
    d_v = v_shape[-1]
    batch_heads = math.prod(b_dims)
    return int(2 * batch_heads * s_q * s_k * d_q + 2 * batch_heads * s_q * s_k * d_v)


def _sdpa_formula(query: Any, key: Any, value: Any, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    return int(_sdpa_flops(query, key, value))


def _mv_formula(a: Any, b: Any, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    return int(2 * a[0] * a[1])


def _addmv_formula(bias: Any, a: Any, b: Any, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    return int(2 * a[0] * a[1])


def _dot_formula(a: Any, b: Any, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    return int(2 * a[0])


def _int_mm_formula(a: Any, b: Any, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    return int(2 * a[0] * a[1] * b[1])


def _weight_int8pack_mm_formula(a: Any, w: Any, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    # w is [out_features, in_features]
    return int(2 * math.prod(a[:-1]) * a[-1] * w[0])


def _addbmm_formula(bias: Any, a: Any, b: Any, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    return int(2 * a[0] * a[1] * a[2] * b[2])


def _linear_dynamic_formula(x: Any, packed: Any, *args: Any, out_val: Any = None, **kwargs: Any) -> int:
    # Raw arguments: the packed weight is a ScriptObject that unpacks to (weight, bias).
    weight = packed.unpack()[0]
    return int(2 * math.prod(x.shape[:-1]) * int(weight.shape[0]) * int(weight.shape[1]))


_linear_dynamic_formula._get_raw = True  # type: ignore[attr-defined]


def extra_formulas() -> dict[Any, Any]:
    """Formulas for ops FlopCounterMode reports as zero, keyed by aten op packet.

    The fused CPU attention kernels (pytorch#195460) are the important ones: without them a
    transformer's attention matmuls vanish from the count on CPU. Fused recurrent layers and
    grouped (mixture-of-experts) matmuls come from formulas_rnn_moe.py.
    """
    import torch

    from .formulas_rnn_moe import rnn_moe_formulas

    aten = torch.ops.aten
    table: dict[Any, Any] = dict(rnn_moe_formulas())

    def add(name: str, formula: Any) -> None:
        packet = getattr(aten, name, None)
        if packet is not None:
            table[packet] = formula

    for name in (
        "_scaled_dot_product_flash_attention_for_cpu",
        "_scaled_dot_product_fused_attention_overrideable",
        "_scaled_dot_product_attention_math",
        "_scaled_dot_product_attention_math_for_mps",
    ):
        add(name, _sdpa_formula)
    add("mv", _mv_formula)
    add("addmv", _addmv_formula)
    add("dot", _dot_formula)
    add("vdot", _dot_formula)
    add("_int_mm", _int_mm_formula)
    add("_weight_int8pack_mm", _weight_int8pack_mm_formula)
    add("addbmm", _addbmm_formula)
    quantized = getattr(torch.ops, "quantized", None)
    for name in ("linear_dynamic", "linear_dynamic_fp16"):
        packet = getattr(quantized, name, None) if quantized is not None else None
        if packet is not None:
            table[packet] = _linear_dynamic_formula
    return table
