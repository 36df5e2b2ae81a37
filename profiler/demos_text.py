"""Demo text model in plain torch: GPT-2 small in Hugging Face's GPT2LMHeadModel layout.

Importing this module does not import torch: `text_classes()` defines the `nn.Module`
classes on call. `profiler.demos` calls it once, caches the result and renames the classes
into its own namespace (so pickles name `profiler.demos.GPT`); use them through it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

GPT2_VOCAB_SIZE = 50257
GPT2_MAX_SEQ_LEN = 1024

TEXT_CLASS_NAMES = ("CausalSelfAttention", "GPTMLP", "GPTBlock", "GPT")


def text_classes() -> dict[str, type[torch.nn.Module]]:
    """Define the GPT-2 `nn.Module` classes (imports torch); a new set per call."""
    import torch
    import torch.nn.functional as F
    from torch import Tensor, nn

    # --- GPT-2 small (HF GPT2LMHeadModel layout, Linear instead of Conv1D) -------------------

    class CausalSelfAttention(nn.Module):
        def __init__(self, n_embd: int, n_head: int, dropout: float) -> None:
            super().__init__()
            self.n_embd = n_embd
            self.n_head = n_head
            self.dropout = dropout
            self.c_attn = nn.Linear(n_embd, 3 * n_embd)
            self.c_proj = nn.Linear(n_embd, n_embd)
            self.resid_dropout = nn.Dropout(dropout)

        def forward(self, x: Tensor) -> Tensor:
            batch, seq, _ = x.shape
            head_dim = self.n_embd // self.n_head
            q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
            q = q.view(batch, seq, self.n_head, head_dim).transpose(1, 2)
            k = k.view(batch, seq, self.n_head, head_dim).transpose(1, 2)
            v = v.view(batch, seq, self.n_head, head_dim).transpose(1, 2)
            y = F.scaled_dot_product_attention(
                q, k, v, dropout_p=self.dropout if self.training else 0.0, is_causal=True
            )
            y = y.transpose(1, 2).contiguous().view(batch, seq, self.n_embd)
            out: Tensor = self.resid_dropout(self.c_proj(y))
            return out

    class GPTMLP(nn.Module):
        def __init__(self, n_embd: int, dropout: float) -> None:
            super().__init__()
            self.c_fc = nn.Linear(n_embd, 4 * n_embd)
            self.act = nn.GELU(approximate="tanh")
            self.c_proj = nn.Linear(4 * n_embd, n_embd)
            self.dropout = nn.Dropout(dropout)

        def forward(self, x: Tensor) -> Tensor:
            out: Tensor = self.dropout(self.c_proj(self.act(self.c_fc(x))))
            return out

    class GPTBlock(nn.Module):
        def __init__(self, n_embd: int, n_head: int, dropout: float) -> None:
            super().__init__()
            self.ln_1 = nn.LayerNorm(n_embd, eps=1e-5)
            self.attn = CausalSelfAttention(n_embd, n_head, dropout)
            self.ln_2 = nn.LayerNorm(n_embd, eps=1e-5)
            self.mlp = GPTMLP(n_embd, dropout)

        def forward(self, x: Tensor) -> Tensor:
            x = x + self.attn(self.ln_1(x))
            x = x + self.mlp(self.ln_2(x))
            return x

    class GPT(nn.Module):
        def __init__(
            self,
            vocab_size: int = GPT2_VOCAB_SIZE,
            n_positions: int = GPT2_MAX_SEQ_LEN,
            n_embd: int = 768,
            n_layer: int = 12,
            n_head: int = 12,
            dropout: float = 0.1,
        ) -> None:
            super().__init__()
            self.wte = nn.Embedding(vocab_size, n_embd)
            self.wpe = nn.Embedding(n_positions, n_embd)
            self.drop = nn.Dropout(dropout)
            self.h = nn.ModuleList(GPTBlock(n_embd, n_head, dropout) for _ in range(n_layer))
            self.ln_f = nn.LayerNorm(n_embd, eps=1e-5)
            self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
            # GPT-2 init: N(0, 0.02), residual projections scaled by 1/sqrt(2 * n_layer).
            for module in self.modules():
                if isinstance(module, (nn.Linear, nn.Embedding)):
                    nn.init.normal_(module.weight, mean=0.0, std=0.02)
                if isinstance(module, nn.Linear) and module.bias is not None:
                    nn.init.zeros_(module.bias)
            for param_name, param in self.named_parameters():
                if param_name.endswith("c_proj.weight"):
                    nn.init.normal_(param, mean=0.0, std=0.02 / (2 * n_layer) ** 0.5)
            # Tied after init so the embedding keeps its own init; parameters() dedups it.
            self.lm_head.weight = self.wte.weight

        def forward(self, input_ids: Tensor) -> Tensor:
            positions = torch.arange(input_ids.shape[1], device=input_ids.device)
            x = self.drop(self.wte(input_ids) + self.wpe(positions))
            for block in self.h:
                x = block(x)
            logits: Tensor = self.lm_head(self.ln_f(x))
            return logits

    return {
        "CausalSelfAttention": CausalSelfAttention,
        "GPTMLP": GPTMLP,
        "GPTBlock": GPTBlock,
        "GPT": GPT,
    }
