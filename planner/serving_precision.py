"""Which precision serving is projected at, when the user has not chosen one.

Nobody serves a float model in fp32 on a GPU with tensor cores: the default ("auto") is the
16-bit format that model class is usually served in — bf16 for transformers and decoder LMs
(their activations need bf16's range; vLLM and TensorRT-LLM serve Llama-class checkpoints in
their bf16), fp16 for convolutional and other models (TensorRT's usual format, and the one
T4 and V100 have). Each accelerator then projects at that format or its fallback (bf16 ↔ fp16,
planner.vocab.FALLBACK), so the default is what the target supports best without calibration.
int8 and fp8 need a quantized model whose fidelity was measured: they are projected only when
asked, or for the layers a measured int8 variant actually quantized (its share carries over
exactly; the rest of it runs at the same 16-bit default as the baseline, so the two compare
like for like).

Choices (PlanOptions): `precision` set → that precision over the whole model (a what-if; an
int8 variant asked at int8 keeps its measured mix); `serve_as_measured` → each layer at the
precision it ran at (the profile's own, fp32 for most measurements); else auto.
"""

from __future__ import annotations

from dataclasses import dataclass

from planner.model_class import ModelClass
from planner.roofline import serving_precisions
from planner.vocab import PeakPrecision
from planner.workload import Workload

#: The 16-bit format each model class is served in by default.
AUTO_FLOAT: dict[ModelClass, PeakPrecision] = {
    ModelClass.DECODER_LLM: PeakPrecision.BF16,
    ModelClass.TRANSFORMER: PeakPrecision.BF16,
    ModelClass.CNN_VISION: PeakPrecision.FP16,
    ModelClass.OTHER: PeakPrecision.FP16,
}


@dataclass(frozen=True)
class ServingPrecision:
    """(precision, float_precision) for `make_target`, whether it is the auto default, and why."""

    precision: PeakPrecision
    float_precision: PeakPrecision | None
    auto: bool
    choice: str


def choose_serving_precision(
    workload: Workload, model_class: ModelClass, asked: PeakPrecision | None, as_measured: bool = False
) -> ServingPrecision:
    if asked is not None:
        p, f = serving_precisions(workload, asked)
        return ServingPrecision(p, f, False, f"{asked}, as asked")
    if as_measured:
        p, f = serving_precisions(workload, None)
        return ServingPrecision(p, f, False, "as measured (each layer at the precision it ran at)")
    auto = AUTO_FLOAT[model_class]
    other = PeakPrecision.FP16 if auto is PeakPrecision.BF16 else PeakPrecision.BF16
    why = f"auto: {auto} for a {model_class.value.replace('_', ' ')} model ({other} where the accelerator lacks {auto})"
    if workload.has_int8:
        return ServingPrecision(
            PeakPrecision.INT8, auto, True, why + "; the measured variant's int8 layers at int8"
        )  # fmt: skip
    return ServingPrecision(auto, None, True, why)
