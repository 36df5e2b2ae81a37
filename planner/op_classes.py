"""Op classes: the coarse kind of work a layer type does, for calibration from measurements.

A measured profile calibrates the roofline per op class (planner/calibration_store.py): layers
of one class reach a similar fraction of the roofline on one device, whatever the model. The
classes:

- `conv`: convolutions (`Conv1d/2d/3d`, `ConvTranspose*`, ONNX `Conv`, `ConvInteger`, `QLinearConv`);
- `matmul`: dense matrix products (`Linear`, `MatMul`, `Gemm`, their integer and quantized forms,
  `Bilinear`, Hugging Face's `Conv1D` — a linear layer despite its name —, recurrent layers);
- `attention`: attention blocks and fused attention kernels (`MultiheadAttention`, ONNX
  `Attention`, `scaled_dot_product_attention`, a model's own `…Attention` module code);
- `elementwise`: normalisation, activations, pooling, softmax, dropout and arithmetic — streaming,
  memory-bound work;
- `gather`: embeddings and gathers (`Embedding`, `EmbeddingBag`, `Gather*`, `index_select`);
- `other`: everything else (reshapes, concatenations, a module's own code of another kind).
"""

from __future__ import annotations

import functools
import re

CONV = "conv"
MATMUL = "matmul"
ATTENTION = "attention"
ELEMENTWISE = "elementwise"
GATHER = "gather"
OTHER = "other"

#: Every op class, in display order.
OP_CLASSES: tuple[str, ...] = (CONV, MATMUL, ATTENTION, ELEMENTWISE, GATHER, OTHER)

# Checked in order; the first pattern that matches the layer type decides (case-insensitive,
# except the Hugging Face `Conv1D` rule before it).
_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (ATTENTION, re.compile(r"attention|attn|sdpa|scaled_dot_product", re.I)),
    (GATHER, re.compile(r"^(embedding|embeddingbag|gather|gatherelements|gathernd|index_select|take)", re.I)),
    (GATHER, re.compile(r"embedding", re.I)),
    (CONV, re.compile(r"conv", re.I)),
    (
        MATMUL,
        re.compile(
            r"linear|matmul|gemm|^bmm$|^mm$|^addmm$|einsum|bilinear|^(lstm|gru|rnn)(cell)?$|rnn_layer|_rnn$", re.I
        ),
    ),
    (
        ELEMENTWISE,
        re.compile(
            r"norm|relu|gelu|silu|swish|sigmoid|tanh|softmax|softplus|mish|elu$|hardswish|hardsigmoid|dropout|"
            r"pool|^(add|sub|mul|div|pow|sqrt|exp|log|erf|neg|abs|clip|clamp|where|cast|identity)$|activation",
            re.I,
        ),
    ),
)


@functools.lru_cache(maxsize=4096)
def op_class(layer_type: str) -> str:
    """The op class of a layer type (a torch module class name or an ONNX op type)."""
    if layer_type == "Conv1D":  # Hugging Face's GPT-2 style Conv1D is a linear layer
        return MATMUL
    for cls, pattern in _RULES:
        if pattern.search(layer_type):
            return cls
    return OTHER
