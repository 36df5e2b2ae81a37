"""Training MFU defaults that depend on the work: model class × scale × accelerator class.

Every default is either read from a published run (paper and table named beside it) or stated
as a planner choice. Each carries the FLOP convention of its source, because an MFU is only
defined together with the FLOP count it divides:

- `6nd`: 6 · N · D, N = parameters, D = tokens (Kaplan et al. 2020; what Llama 2's GPU-hours
  imply below, and how the Llama 3 MFU is read here: the Llama 3 paper does not print its FLOP
  formula);
- `6n_attention`: 3 × the forward pass with attention counted in full, PaLM's MFU convention
  (Chowdhery et al. 2022, arXiv:2204.02311, Appendix B: 6N + 12·L·H·Q·T FLOPs per token);
  for a model without tokens this is the only convention (3 × forward FLOPs per sample).

`planner.training` converts a default into the plan's `--flop-convention` so that the projected
time stays the source's: MFU_selected = MFU_source × FLOPs_selected ÷ FLOPs_source (the same
seconds of work, counted in other FLOPs). A planner choice is read in the selected convention.

Published MFU used (bf16 dense peak unless said):

| run | MFU | source |
| --- | --- | --- |
| Llama 3 405B, 8K–16K H100 | 38–43 % | Dubey et al. 2024, arXiv:2407.21783, Table 4 |
| Llama 2 7B, A100-80GB, 2T tokens | 39.1 % (6·N·D, derived) | Touvron et al. 2023, arXiv:2307.09288, Table 2: 184,320 GPU-hours |
| Llama 2 70B, A100-80GB, 2T tokens | 42.8 % (6·N·D, derived) | idem: 1,720,320 GPU-hours |
| PaLM 540B, 6144 TPU v4 | 46.2 % | Chowdhery et al. 2022, Table 3 |
| Megatron-Turing NLG 530B | 30.2 % | PaLM paper, Table 3 |
| GPT-3 175B, V100 | 21.3 % | PaLM paper, Table 3 |
| ResNet-50, 8× H100-SXM5-80GB | 18 % (derived) | MLPerf Training v3.0, closed, ID 3.0-2053 (Dell XE9680, MXNet): 13.466 min to 75.90 % top-1 |

Derivations. Llama 2: MFU = 6 · N · 2e12 ÷ (GPU-hours × 3600 × 312e12); 7B (N = 6.738e9):
8.086e22 ÷ 2.070e23 = 0.391; 70B (N = 68.98e9): 8.277e23 ÷ 1.932e24 = 0.428. MLPerf ResNet-50:
3 × 8.18 GFLOP per 224² image (4.09 GMACs) × 1,281,167 images × 37 epochs = 1.163e18 FLOPs
in 13.466 min on 8 × 989.4 TFLOPS = 6.39e18 peak FLOPs → 0.182. The epochs to reach 75.9 %
are not in the results table; ≈ 37 at NVIDIA's global batch of 3,264 (LARS) is recalled from the
submissions' logs, not re-read here (35–40 moves the MFU by −5 %/+8 %).
"""

from __future__ import annotations

from dataclasses import dataclass

from planner.model_class import ModelClass, ModelKind
from planner.vocab import AcceleratorClass

#: The plan's FLOP conventions (`PlanOptions.flop_convention`).
FLOP_6N_ATTENTION = "6n_attention"
FLOP_6ND = "6nd"
FLOP_CONVENTIONS = (FLOP_6N_ATTENTION, FLOP_6ND)


@dataclass(frozen=True)
class MfuDefault:
    """An MFU default: the value, the published low/high around it, the FLOP convention of the
    source (None: a planner choice, read in whatever convention the plan uses) and the source."""

    mfu: float
    low: float
    high: float
    convention: str | None
    source: str

    @property
    def uncertainty_fraction(self) -> float:
        """Relative half-width of the time band: the larger of the slow side (mfu ÷ low − 1) and
        the fast side (1 − mfu ÷ high), since time ∝ 1 ÷ MFU."""
        return max(self.mfu / self.low - 1.0, 1.0 - self.mfu / self.high)

    def scaled(self, factor: float, why: str) -> MfuDefault:
        return MfuDefault(self.mfu * factor, self.low * factor, self.high * factor, self.convention,
                          f"{self.source}; × {factor:g} {why}")  # fmt: skip


_LLM_LARGE = MfuDefault(
    0.40, 0.30, 0.46, FLOP_6ND,
    "decoder LLM ≥ 1e9 params: 0.40, Llama 3 405B 38–43 % BF16 MFU on H100 (arXiv:2407.21783 Table 4) and "
    "Llama 2 7B/70B 39 %/43 % implied by Table 2's A100 GPU-hours (arXiv:2307.09288), read as 6·N·D; "
    "band 0.30 (MT-NLG, PaLM Table 3) to 0.46 (PaLM 540B, PaLM Table 3)",
)  # fmt: skip
_LLM_SMALL = MfuDefault(
    0.35, 0.25, 0.46, None,
    "decoder LLM < 1e9 params: 0.35, planner choice (small matmuls and the vocabulary head keep small "
    "models below the large-run figures; no published run collected); band 0.25 (planner) to 0.46 (PaLM Table 3)",
)  # fmt: skip
_TRANSFORMER = MfuDefault(
    0.35, 0.20, 0.46, None,
    "transformer (encoder, ViT, seq2seq): 0.35, planner choice between the MLPerf-derived CNN figure and the "
    "LLM runs; band 0.20 (planner; GPT-3 21 %, PaLM Table 3) to 0.46 (PaLM Table 3)",
)  # fmt: skip
_CNN = MfuDefault(
    0.18, 0.13, 0.28, FLOP_6N_ATTENTION,
    "CNN vision: 0.18, MLPerf Training v3.0 ResNet-50 on 8× H100-SXM5 (ID 3.0-2053): 13.466 min to 75.9 % "
    "top-1 in ≈ 37 epochs = 18 % of bf16 peak (convolutions, normalisation and input pipeline keep CNNs "
    "far below LLM MFU); band 0.13 to 0.28, planner choice (A100 parts reach a larger share of their lower peak)",
)  # fmt: skip
_OTHER = MfuDefault(
    0.20, 0.10, 0.40, None,
    "other (MLP, RNN, mixed): 0.20, planner choice at the CNN figure's order (small kernels, launch-bound); "
    "band 0.10 to 0.40, planner choice",
)  # fmt: skip
_LEGACY = MfuDefault(
    0.40, 0.30, 0.46, FLOP_6ND,
    "no model class given: the decoder-LLM figure, 0.40 (Llama 3 Table 4; Llama 2 Table 2)",
)  # fmt: skip

#: Scale per accelerator class. Inference-class GDDR parts (L4, T4, A10, L40S): 0.75, a planner
#: choice (no published training MFU was collected for them; less bandwidth per FLOP costs
#: utilisation); CPUs: 0.5, a planner choice (training is projected on GPUs only).
CLASS_FACTOR: dict[AcceleratorClass, float] = {
    AcceleratorClass.DATACENTER: 1.0,
    AcceleratorClass.INFERENCE: 0.75,
    AcceleratorClass.CPU: 0.5,
}


def mfu_default(kind: ModelKind | None, accelerator_class: AcceleratorClass) -> MfuDefault:
    """The MFU default for this kind of model on this class of accelerator, with its band and source."""
    if kind is None:
        base = _LEGACY
    elif kind.model_class is ModelClass.DECODER_LLM:
        base = _LLM_LARGE if kind.large else _LLM_SMALL
    elif kind.model_class is ModelClass.TRANSFORMER:
        base = _TRANSFORMER
    elif kind.model_class is ModelClass.CNN_VISION:
        base = _CNN
    else:
        base = _OTHER
    factor = CLASS_FACTOR[accelerator_class]
    return base if factor == 1.0 else base.scaled(factor, f"for {accelerator_class} accelerators (planner choice)")


def default_mfu(kind: ModelKind | None, accelerator_class: AcceleratorClass) -> tuple[float, str]:
    """(MFU, source text) — `mfu_default` without the band."""
    d = mfu_default(kind, accelerator_class)
    return d.mfu, d.source


def defaults_table() -> dict[str, dict[str, object]]:
    """Every default on a data-centre part, for the plan's assumptions."""
    rows = {
        "decoder_llm_large": _LLM_LARGE, "decoder_llm_small": _LLM_SMALL, "transformer": _TRANSFORMER,
        "cnn_vision": _CNN, "other": _OTHER,
    }  # fmt: skip
    table: dict[str, dict[str, object]] = {
        k: {"mfu": d.mfu, "low": d.low, "high": d.high, "convention": d.convention or "as selected",
            "source": d.source}
        for k, d in rows.items()
    }  # fmt: skip
    table["accelerator_class_factor"] = {str(k): v for k, v in CLASS_FACTOR.items()}
    return table
