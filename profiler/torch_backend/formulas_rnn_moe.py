"""FLOP formulas for fused recurrent layers and mixture-of-experts grouped matmuls.

Same convention as flops.py: 2 FLOPs per multiply-accumulate, contractions only. Formulas take
shapes (FlopCounterMode's `shape_wrapper` turns every tensor argument, lists included, into its
shape) and return FLOPs.

Recurrent layers (`mkldnn_rnn_layer` on CPU, `_cudnn_rnn` on CUDA, `miopen_rnn` on ROCm): every
time step of every sequence multiplies the step's input by W_ih ([gates*hidden, input]) and the
previous hidden state by W_hh ([gates*hidden, hidden or proj]), and, with `proj_size`, the new
hidden state by W_hr ([proj, hidden]). So MACs = steps x batch x (sum of the 2-D weights' sizes),
where steps x batch is every row of the input but the feature dimension (packed sequences: the
packed rows). Gate nonlinearities and bias adds are elementwise: zero.

Grouped matmuls (`_grouped_mm`, what transformers' default `grouped_mm` experts run): the rows
of the routed tokens (tokens x top_k) are multiplied by their expert's weight, so MACs = rows x
K x N, the experts actually executed, never all experts. The offsets are data (unknown on the
meta device), so every row is taken as routed, which is what a model without expert
parallelism does.
"""

from __future__ import annotations

import math
from typing import Any


def _rows(shape: Any) -> int:
    """Rows of a [..., features] input: time steps x batch, or packed rows."""
    return math.prod(shape[:-1]) if len(shape) > 1 else 1


def _matrix_macs(weights: Any) -> int:
    return sum(int(w[0]) * int(w[1]) for w in weights if w is not None and len(w) == 2)


def mkldnn_rnn_layer_flops(
    input: Any, weight0: Any, weight1: Any, *args: Any, out_shape: Any = None, **kwargs: Any
) -> int:
    """One layer, one direction of a oneDNN LSTM: weight0 = W_ih, weight1 = W_hh."""
    return 2 * _rows(input) * _matrix_macs((weight0, weight1))


def fused_rnn_flops(input: Any, weight: Any, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    """cuDNN / MIOpen RNN over all layers and directions: `weight` lists every layer's tensors;
    the 2-D ones are W_ih, W_hh (and W_hr), the 1-D ones biases. Every layer sees as many
    steps x batch rows as the input has."""
    return 2 * _rows(input) * _matrix_macs(weight)


def grouped_mm_flops(a: Any, b: Any, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    """`_grouped_mm(a, b, offs)`: 2-D x 3-D (routed rows x per-expert weight), 3-D x 3-D
    (batched), 3-D x 2-D: MACs = output elements x K. 2-D x 2-D groups the contracted dimension
    (a weight gradient): MACs = M x K x N over all groups."""
    if len(a) == 2 and len(b) == 2:
        return 2 * int(a[0]) * int(a[1]) * int(b[1])
    out = out_shape if out_shape is not None else _grouped_out(a, b)
    return 2 * math.prod(out) * int(a[-1])


def _grouped_out(a: Any, b: Any) -> tuple[int, ...]:
    if len(a) == 2:  # [rows, K] x [G, K, N] -> [rows, N]
        return (int(a[0]), int(b[-1]))
    if len(b) == 2:  # [G, M, K] x [K, N_total] -> [M, N_total]
        return (int(a[1]), int(b[-1]))
    return (int(a[0]), int(a[1]), int(b[-1]))


def scaled_grouped_mm_flops(a: Any, b: Any, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    """FP8 `_scaled_grouped_mm`: the same contraction; the scales are elementwise."""
    return grouped_mm_flops(a, b, out_shape=out_shape)


def rnn_moe_formulas() -> dict[Any, Any]:
    """These formulas keyed by op packet, for the ops the installed torch has."""
    import torch

    aten = torch.ops.aten
    table: dict[Any, Any] = {}
    for name, formula in (
        ("mkldnn_rnn_layer", mkldnn_rnn_layer_flops),
        ("_cudnn_rnn", fused_rnn_flops),
        ("miopen_rnn", fused_rnn_flops),
        ("_grouped_mm", grouped_mm_flops),
        ("_scaled_grouped_mm", scaled_grouped_mm_flops),
    ):
        packet = getattr(aten, name, None)
        if packet is not None:
            table[packet] = formula
    fallback = _transformers_grouped_mm_fallback()
    if fallback is not None:
        table[fallback] = grouped_mm_flops
    return table


def _transformers_grouped_mm_fallback() -> Any:
    """transformers' custom op for grouped matmuls where torch's kernel cannot run (CPU before
    torch 2.11, unaligned weights). A custom op is opaque to the dispatch mode: its loop of
    matmuls is never seen, so the op itself needs the formula. Registered only once
    transformers has defined it; transformers is never imported here."""
    import sys

    import torch

    if "transformers.integrations.moe" not in sys.modules:
        return None
    try:
        return torch.ops.transformers.grouped_mm_fallback
    except (AttributeError, RuntimeError):
        return None
