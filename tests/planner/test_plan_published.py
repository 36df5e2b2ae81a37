"""Checks against published training figures.

GPT-3 175B (Brown et al. 2020, Table D.1): 3.14e23 training FLOPs for 300B tokens, which is
6·N·D. Our synthetic GPT-3: 96 blocks, d_model 12288, 96 heads, d_ff 4·d_model, vocab 50257,
context 2048 (untied head: N = 175.2e9). 3 × forward adds full (non-halved) attention,
4·L·T·d FLOPs per token forward, ≈ 3 % over 6·N·D.

Llama-2-7B (Touvron et al. 2023, Table 2): 184,320 A100-80GB GPU-hours for 2T tokens at
sequence 4096. Forward FLOPs per token from the architecture: 2 × 6.61e9 matmul parameters
(the 6.74e9 less the 0.13e9 embedding table, which is a gather) = 13.22e9, plus attention
QKᵀ and P·V in full, 2 × 2 × 32 layers × 4096 positions × 4096 width = 2.15e9, total 15.36e9.
× 3 × 2e12 tokens = 9.22e22 FLOPs; at 312 TFLOPS bf16 × MFU 0.4 → 205,150 GPU-hours, +11 %.
"""

from __future__ import annotations

import pytest
from plan_fixtures import decoder_profile, llama2_7b

from planner.catalog import Catalog
from planner.options import PlanOptions
from planner.plan import plan


def test_gpt3_training_flops(catalog: Catalog) -> None:
    gpt3 = decoder_profile(
        n_layers=96, d_model=12288, n_heads=96, d_ff=4 * 12288, vocab=50257, seq=2048, glu=False, name="gpt-3"
    )
    p = plan(gpt3, PlanOptions(train_tokens=300e9, gpus=("H100",)), catalog)
    tr = p.training
    assert tr is not None
    assert tr.flops_6nd == pytest.approx(3.14e23, rel=0.01)
    assert tr.flops == pytest.approx(3.14e23, rel=0.05)
    assert tr.flops > tr.flops_6nd  # attention on top of 2N per token


def test_llama2_7b_gpu_hours_on_a100(catalog: Catalog) -> None:
    prof = llama2_7b(seq=4096)
    assert prof.totals.params == 6_738_415_616
    assert prof.totals.flops / 4096 == pytest.approx(15.36e9, rel=0.001)
    p = plan(prof, PlanOptions(train_tokens=2e12, mfu=0.4, gpus=("A100-80GB",), providers=("aws",)), catalog)
    p.check()
    o = p.training.options[0]  # type: ignore[union-attr]
    assert o.instances == 1 and o.accelerator == "A100-SXM4-80GB"
    assert o.gpu_hours == pytest.approx(184_320, rel=0.15)
