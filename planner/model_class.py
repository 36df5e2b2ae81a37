"""What kind of model a profile is, for the planner's per-class defaults (MFU, serving
efficiency, serving precision).

Classes, decided from the profile alone (no names of known models):
- `decoder_llm`: `planner.lm.detect_decoder_lm` (token input, embedding, vocabulary head);
- `transformer`: attention in the layers (an `nn.MultiheadAttention` row, a `*Attention*`
  layer type, or key/value/fused-QKV projections), or a token input with an embedding: BERT,
  ViT, Whisper, T5 encoders;
- `cnn_vision`: convolutions carry at least half of the forward FLOPs;
- `other`: anything else (MLPs, RNNs, small mixed models).

Scale is the unique parameter count; `large` (≥ 1e9 parameters) matters for the LLM defaults,
where large runs are sharded and reach a different MFU than small ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from profiler.result import Profile

#: Parameter count from which a model is treated as a large (multi-GPU) model.
LARGE_PARAMS = 1_000_000_000

_CONV_TYPES = frozenset({"Conv1d", "Conv2d", "Conv3d", "ConvTranspose2d", "Conv", "ConvInteger", "QLinearConv"})
_ATTENTION_NAMES = frozenset(
    {"k_proj", "v_proj", "key", "value", "wk", "wv", "to_k", "to_v", "c_attn", "qkv", "qkv_proj", "query_key_value",
     "wqkv", "in_proj", "att_proj", "k_lin", "v_lin"}
)  # fmt: skip


class ModelClass(StrEnum):
    DECODER_LLM = "decoder_llm"
    TRANSFORMER = "transformer"
    CNN_VISION = "cnn_vision"
    OTHER = "other"


@dataclass(frozen=True)
class ModelKind:
    """The class, whether the model is large, and the evidence in words."""

    model_class: ModelClass
    large: bool
    params: int
    evidence: str


def classify(profile: Profile, decoder_lm: bool | None = None) -> ModelKind:
    """The profile's model class; `decoder_lm` (the options' override) wins when not None."""
    from planner.lm import detect_decoder_lm
    from planner.workload import token_input_shape

    params = int(profile.totals.params)
    large = params >= LARGE_PARAMS
    is_lm, why = (decoder_lm, "set by the options") if decoder_lm is not None else detect_decoder_lm(profile)
    if is_lm:
        return ModelKind(ModelClass.DECODER_LLM, large, params, f"decoder LM: {why}")
    layers = profile.layers
    total_flops = sum(r.flops for r in layers) or 1
    conv_flops = sum(r.flops for r in layers if r.type in _CONV_TYPES)
    attention = [
        r for r in layers
        if r.type == "MultiheadAttention" or "attention" in r.type.lower()
        or r.name.rsplit(".", 1)[-1].lower() in _ATTENTION_NAMES
    ]  # fmt: skip
    if attention:
        return ModelKind(ModelClass.TRANSFORMER, large, params, f"attention layers ({len(attention)})")
    if token_input_shape(profile) is not None and any(r.type == "Embedding" for r in layers):
        return ModelKind(ModelClass.TRANSFORMER, large, params, "token input and an embedding")
    if conv_flops / total_flops >= 0.5:
        return ModelKind(
            ModelClass.CNN_VISION, large, params, f"convolutions carry {conv_flops / total_flops:.0%} of FLOPs"
        )
    return ModelKind(ModelClass.OTHER, large, params, "no attention, convolutions under half the FLOPs")
