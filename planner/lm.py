"""Decoder language models: how the planner recognises one and sizes its KV cache.

Detection (`detect_decoder_lm`), from the profile alone:
1. an integer input of rank ≥ 2 (token ids, batch × sequence), and
2. a layer of type `Embedding`, and
3. a projection to the vocabulary: a layer whose last name component is `lm_head`,
   `embed_out` or `output`, or a last FLOP-carrying layer whose output's last dimension is the
   embedding's vocabulary size (embedding params ÷ its output width).
An encoder with a masked-LM head (BERT-MLM) passes these tests too: the shapes cannot tell
causal from bidirectional attention. `PlanOptions.decoder_lm` overrides the detection either way.

KV cache (`kv_shape_from_layers`): per transformer block, the widths of its key and value
projections — layers named `k_proj`/`v_proj`, `key`/`value`, `wk`/`wv`, `to_k`/`to_v`
(grouped-query attention is then exact); a fused QKV projection (`c_attn`, `qkv`,
`query_key_value`, `Wqkv`, `in_proj`) is taken as multi-head (a third of its width each); an
`nn.MultiheadAttention` row as multi-head of its input width. Bytes per token =
2 (K and V) × blocks × kv width × bytes per element. Explicit layers / kv heads / head dim in
the options win.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from planner.workload import token_input_shape
from profiler.result import LayerRow, Profile

_HEAD_NAMES = frozenset({"lm_head", "embed_out", "output"})
_K_NAMES = frozenset({"k_proj", "key", "wk", "to_k", "k_lin", "k"})
_V_NAMES = frozenset({"v_proj", "value", "wv", "to_v", "v_lin", "v"})
_QKV_NAMES = frozenset({"c_attn", "qkv", "qkv_proj", "query_key_value", "wqkv", "in_proj", "att_proj"})


@dataclass(frozen=True)
class LMShape:
    """What sizes the KV cache: transformer blocks and the K (= V) width of each."""

    n_layers: int
    kv_dim: int
    source: str
    #: the residual stream's width (the tensor-parallel all-reduces carry it); 0 when unknown
    hidden: int = 0

    def kv_elems_per_token(self) -> int:
        return 2 * self.n_layers * self.kv_dim

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = asdict(self)
        d["kv_elems_per_token"] = self.kv_elems_per_token()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LMShape:
        return cls(int(d["n_layers"]), int(d["kv_dim"]), str(d["source"]), int(d.get("hidden", 0)))


def _last(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower()


def _out_width(row: LayerRow) -> int | None:
    return row.output_shapes[0][-1] if row.output_shapes and row.output_shapes[0] else None


def detect_decoder_lm(profile: Profile) -> tuple[bool, str]:
    """(is a decoder LM, the evidence or what was missing)."""
    if token_input_shape(profile) is None:
        return False, "no integer token input of rank ≥ 2"
    embeddings = [r for r in profile.layers if r.type == "Embedding"]
    if not embeddings:
        return False, "token input but no Embedding layer"
    emb = max(embeddings, key=lambda r: r.params)
    width = _out_width(emb)
    vocab = emb.params // width if width else None
    for r in profile.layers:
        if _last(r.name) in _HEAD_NAMES and r.flops:
            return True, f"token input, Embedding {emb.name!r}, vocabulary head {r.name!r}"
    last = next((r for r in reversed(profile.layers) if r.flops), None)
    if last is not None and vocab and _out_width(last) == vocab:
        return (
            True,
            f"token input, Embedding {emb.name!r}, last layer {last.name!r} projects to the vocabulary ({vocab})",
        )
    return False, "token input and Embedding but no projection to the vocabulary"


def kv_shape_from_layers(profile: Profile) -> LMShape | None:
    """Blocks and K/V width read from the attention projections' output shapes, or None."""
    ks = [r for r in profile.layers if _last(r.name) in _K_NAMES and _out_width(r)]
    vs = [r for r in profile.layers if _last(r.name) in _V_NAMES and _out_width(r)]
    if ks and len(ks) == len(vs):
        return LMShape(len(ks), max(_out_width(r) or 0 for r in ks), "key/value projection widths", _in_width(ks))
    fused = [r for r in profile.layers if _last(r.name) in _QKV_NAMES and (w := _out_width(r)) and w % 3 == 0]
    if fused:
        kv = max((_out_width(r) or 0) // 3 for r in fused)
        return LMShape(len(fused), kv, "fused QKV projection widths (taken as multi-head)", _in_width(fused))
    mha = [r.input_shapes[0][-1] for r in profile.layers if r.type == "MultiheadAttention" and r.input_shapes]
    if mha:
        return LMShape(len(mha), max(mha), "MultiheadAttention input widths", max(mha))
    return None


def _in_width(rows: list[LayerRow]) -> int:
    """The width the projections read: the residual stream (0 when the shapes are not recorded)."""
    return max((r.input_shapes[0][-1] for r in rows if r.input_shapes and r.input_shapes[0]), default=0)


def lm_shape(
    profile: Profile, n_layers: int | None = None, n_kv_heads: int | None = None, head_dim: int | None = None
) -> LMShape | None:
    """Explicit shape when all three are given, else the one read from the layers."""
    if n_layers and n_kv_heads and head_dim:
        read = kv_shape_from_layers(profile)
        return LMShape(n_layers, n_kv_heads * head_dim, "explicit (options)", 0 if read is None else read.hidden)
    return kv_shape_from_layers(profile)
