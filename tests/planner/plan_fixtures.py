"""Synthetic profiles for the planner's tests and benchmark (no torch: built from shapes).

FLOPs follow the project's convention (2 per multiply-accumulate); activation bytes are the
output's at fp32 (4 bytes) unless said otherwise; attention is counted in full (as the profiler
counts it), 2·b·s²·d for QKᵀ and the same for the weighted sum of V.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from profiler.result import InputSpec, LayerRow, ModelInfo, Profile, RunConfig, Totals

Shape = tuple[int, ...]


def layer(
    name: str,
    type_: str,
    *,
    params: int = 0,
    macs: int = 0,
    weight_bytes: int | None = None,
    inputs: Sequence[Shape] = (),
    outputs: Sequence[Shape] = (),
    act_bytes_per_elem: int = 4,
    param_bytes: int = 4,
    latency_ms: float | None = None,
    flops: int | None = None,
) -> LayerRow:
    out_elems = sum(math.prod(s) for s in outputs)
    return LayerRow(
        name=name, type=type_, params=params, macs=macs, flops=2 * macs if flops is None else flops,
        weight_bytes=params * param_bytes if weight_bytes is None else weight_bytes,
        activation_bytes=out_elems * act_bytes_per_elem, latency_ms=latency_ms, counted=True,
        input_shapes=tuple(tuple(s) for s in inputs), output_shapes=tuple(tuple(s) for s in outputs),
    )  # fmt: skip


def make_profile(
    layers: Sequence[LayerRow],
    *,
    name: str = "synthetic",
    batch: int = 1,
    precision: str = "fp32",
    inputs: Sequence[InputSpec] = (),
    seq_len: int | None = None,
    params: int | None = None,
) -> Profile:
    ls = tuple(layers)
    totals = Totals(
        params=sum(r.params for r in ls) if params is None else params,
        macs=sum(r.macs for r in ls), flops=sum(r.flops for r in ls),
        weight_bytes=sum(r.weight_bytes for r in ls), activation_bytes=sum(r.activation_bytes for r in ls),
    )  # fmt: skip
    p = Profile(
        model=ModelInfo(name=name, source=f"synthetic:{name}", format="demo"),
        inputs=tuple(inputs), config=RunConfig(precision=precision, batch=batch, seq_len=seq_len),
        environment=None, totals=totals, layers=ls,
    )  # fmt: skip
    p.check()
    return p


def linear(name: str, d_in: int, d_out: int, rows: Shape, *, bias: bool = False, **kw: object) -> LayerRow:
    n = math.prod(rows)
    params = d_in * d_out + (d_out if bias else 0)
    return layer(
        name, "Linear", params=params, macs=n * d_in * d_out, inputs=[(*rows, d_in)], outputs=[(*rows, d_out)], **kw
    )  # type: ignore[arg-type]


def decoder_profile(
    *,
    n_layers: int,
    d_model: int,
    n_heads: int,
    d_ff: int,
    vocab: int,
    seq: int,
    batch: int = 1,
    n_kv_heads: int | None = None,
    glu: bool = True,
    name: str = "decoder",
    precision: str = "fp32",
) -> Profile:
    """A Llama-style (glu=True, RMSNorm) or GPT-style (glu=False, LayerNorm) decoder LM."""
    kv_heads = n_kv_heads or n_heads
    hd = d_model // n_heads
    kv = kv_heads * hd
    rows = (batch, seq)
    norm = "LlamaRMSNorm" if glu else "LayerNorm"
    norm_params = d_model if glu else 2 * d_model
    L: list[LayerRow] = [
        layer("model.embed_tokens", "Embedding", params=vocab * d_model, inputs=[rows], outputs=[(*rows, d_model)])
    ]
    for i in range(n_layers):
        p = f"model.layers.{i}"
        L.append(
            layer(
                f"{p}.input_layernorm", norm, params=norm_params, inputs=[(*rows, d_model)], outputs=[(*rows, d_model)]
            )
        )
        L.append(linear(f"{p}.self_attn.q_proj", d_model, d_model, rows))
        L.append(linear(f"{p}.self_attn.k_proj", d_model, kv, rows))
        L.append(linear(f"{p}.self_attn.v_proj", d_model, kv, rows))
        attn_macs = 2 * batch * n_heads * seq * seq * hd  # QKᵀ and P·V, full (not causal-halved)
        L.append(layer(f"{p}.self_attn", "LlamaAttention" if glu else "Attention", macs=attn_macs,
                       inputs=[(*rows, d_model)], outputs=[(*rows, d_model)]))  # fmt: skip
        L.append(linear(f"{p}.self_attn.o_proj", d_model, d_model, rows))
        L.append(
            layer(
                f"{p}.post_attention_layernorm",
                norm,
                params=norm_params,
                inputs=[(*rows, d_model)],
                outputs=[(*rows, d_model)],
            )
        )
        if glu:
            L.append(linear(f"{p}.mlp.gate_proj", d_model, d_ff, rows))
            L.append(linear(f"{p}.mlp.up_proj", d_model, d_ff, rows))
            L.append(layer(f"{p}.mlp.act_fn", "SiLU", inputs=[(*rows, d_ff)], outputs=[(*rows, d_ff)]))
            L.append(linear(f"{p}.mlp.down_proj", d_ff, d_model, rows))
        else:
            L.append(linear(f"{p}.mlp.fc_in", d_model, d_ff, rows))
            L.append(layer(f"{p}.mlp.act", "GELU", inputs=[(*rows, d_ff)], outputs=[(*rows, d_ff)]))
            L.append(linear(f"{p}.mlp.fc_out", d_ff, d_model, rows))
    L.append(layer("model.norm", norm, params=norm_params, inputs=[(*rows, d_model)], outputs=[(*rows, d_model)]))
    L.append(linear("lm_head", d_model, vocab, rows))
    return make_profile(L, name=name, batch=batch, seq_len=seq, precision=precision,
                        inputs=[InputSpec("input_ids", rows, "int64")])  # fmt: skip


def llama2_7b(seq: int = 4096, batch: int = 1) -> Profile:
    """Llama-2-7B: 32 blocks, d 4096, 32 heads, SwiGLU 11008, vocab 32000 (6,738,415,616 params)."""
    return decoder_profile(
        n_layers=32, d_model=4096, n_heads=32, d_ff=11008, vocab=32000, seq=seq, batch=batch, name="llama-2-7b"
    )


def resnet50(batch: int = 1, image: int = 224) -> Profile:
    """torchvision ResNet-50's layers (25,557,032 params; 4.09 GMACs at 224×224)."""
    L: list[LayerRow] = []

    def conv(name: str, cin: int, cout: int, k: int, stride: int, hw: int) -> int:
        out = (hw + 2 * (k // 2) - k) // stride + 1
        params = cin * cout * k * k
        L.append(layer(name, "Conv2d", params=params, macs=params * out * out * batch,
                       inputs=[(batch, cin, hw, hw)], outputs=[(batch, cout, out, out)]))  # fmt: skip
        return out

    def bn(name: str, c: int, hw: int) -> None:
        s = (batch, c, hw, hw)
        L.append(layer(name, "BatchNorm2d", params=2 * c, weight_bytes=16 * c, inputs=[s], outputs=[s]))

    def relu(name: str, c: int, hw: int) -> None:
        s = (batch, c, hw, hw)
        L.append(layer(name, "ReLU", inputs=[s], outputs=[s]))

    hw = conv("conv1", 3, 64, 7, 2, image)
    bn("bn1", 64, hw)
    relu("relu", 64, hw)
    pooled = (hw + 2 - 3) // 2 + 1
    L.append(layer("maxpool", "MaxPool2d", inputs=[(batch, 64, hw, hw)], outputs=[(batch, 64, pooled, pooled)]))
    hw, cin = pooled, 64
    for stage, (blocks, width) in enumerate(zip((3, 4, 6, 3), (64, 128, 256, 512), strict=True), 1):
        for b in range(blocks):
            p = f"layer{stage}.{b}"
            stride = 2 if (b == 0 and stage > 1) else 1
            conv(f"{p}.conv1", cin, width, 1, 1, hw)
            bn(f"{p}.bn1", width, hw)
            relu(f"{p}.relu1", width, hw)
            out = conv(f"{p}.conv2", width, width, 3, stride, hw)
            bn(f"{p}.bn2", width, out)
            relu(f"{p}.relu2", width, out)
            conv(f"{p}.conv3", width, width * 4, 1, 1, out)
            bn(f"{p}.bn3", width * 4, out)
            if b == 0:
                conv(f"{p}.downsample.0", cin, width * 4, 1, stride, hw)
                bn(f"{p}.downsample.1", width * 4, out)
            relu(f"{p}.relu3", width * 4, out)
            hw, cin = out, width * 4
    L.append(layer("avgpool", "AdaptiveAvgPool2d", inputs=[(batch, 2048, hw, hw)], outputs=[(batch, 2048, 1, 1)]))
    L.append(linear("fc", 2048, 1000, (batch,), bias=True))
    return make_profile(L, name="resnet50", batch=batch, inputs=[InputSpec("x", (batch, 3, image, image), "float32")])


def mlp(batch: int = 32, d_in: int = 1000, hidden: int = 4096, d_out: int = 10) -> Profile:
    rows = (batch,)
    return make_profile(
        [linear("fc1", d_in, hidden, rows, bias=True),
         layer("relu", "ReLU", inputs=[(batch, hidden)], outputs=[(batch, hidden)]),
         linear("fc2", hidden, d_out, rows, bias=True)],
        name="mlp", batch=batch, inputs=[InputSpec("x", (batch, d_in), "float32")],
    )  # fmt: skip


def bert_encoder_profile(
    *,
    n_layers: int = 24,
    d_model: int = 1024,
    n_heads: int = 16,
    d_ff: int = 4096,
    vocab: int = 30522,
    seq: int = 384,
    batch: int = 1,
    n_outputs: int = 2,
    name: str = "bert-large",
    precision: str = "fp32",
) -> Profile:
    """A BERT encoder with a token-classification head, laid out as Hugging Face's
    `BertForQuestionAnswering` (the MLPerf Inference BERT model: BERT-Large, 24 layers, d 1024,
    16 heads, d_ff 4096, sequence 384, a 1024 → 2 span head). Attention counted in full."""
    hd = d_model // n_heads
    rows = (batch, seq)
    hidden = (*rows, d_model)
    tables = (("word_embeddings", vocab), ("position_embeddings", 512), ("token_type_embeddings", 2))
    L: list[LayerRow] = [
        layer(f"bert.embeddings.{t}", "Embedding", params=n * d_model, inputs=[rows], outputs=[hidden])
        for t, n in tables
    ]
    L.append(layer("bert.embeddings.LayerNorm", "LayerNorm", params=2 * d_model, inputs=[hidden], outputs=[hidden]))
    for i in range(n_layers):
        p = f"bert.encoder.layer.{i}"
        L.append(linear(f"{p}.attention.self.query", d_model, d_model, rows, bias=True))
        L.append(linear(f"{p}.attention.self.key", d_model, d_model, rows, bias=True))
        L.append(linear(f"{p}.attention.self.value", d_model, d_model, rows, bias=True))
        attn_macs = 2 * batch * n_heads * seq * seq * hd  # QKᵀ and P·V
        L.append(layer(f"{p}.attention.self", "BertSelfAttention", macs=attn_macs, inputs=[hidden] * 3,
                       outputs=[hidden]))  # fmt: skip
        L.append(linear(f"{p}.attention.output.dense", d_model, d_model, rows, bias=True))
        L.append(layer(f"{p}.attention.output.LayerNorm", "LayerNorm", params=2 * d_model, inputs=[hidden],
                       outputs=[hidden]))  # fmt: skip
        L.append(linear(f"{p}.intermediate.dense", d_model, d_ff, rows, bias=True))
        L.append(layer(f"{p}.intermediate.intermediate_act_fn", "GELUActivation", inputs=[(*rows, d_ff)],
                       outputs=[(*rows, d_ff)]))  # fmt: skip
        L.append(linear(f"{p}.output.dense", d_ff, d_model, rows, bias=True))
        L.append(layer(f"{p}.output.LayerNorm", "LayerNorm", params=2 * d_model, inputs=[hidden], outputs=[hidden]))
    L.append(linear("qa_outputs", d_model, n_outputs, rows, bias=True))
    return make_profile(L, name=name, batch=batch, seq_len=seq, precision=precision,
                        inputs=[InputSpec("input_ids", rows, "int64")])  # fmt: skip


def llama2_70b(seq: int = 4096, batch: int = 1) -> Profile:
    """Llama-2-70B: 80 blocks, d 8192, 64 query heads, 8 key/value heads (grouped-query
    attention), SwiGLU 28672, vocab 32000 (68,976,648,192 params; Touvron et al. 2023)."""
    return decoder_profile(
        n_layers=80, d_model=8192, n_heads=64, n_kv_heads=8, d_ff=28672, vocab=32000, seq=seq, batch=batch,
        name="llama-2-70b",
    )  # fmt: skip
