"""Serving-efficiency defaults per model class × accelerator class, with their sources and an
uncertainty band for each (issue 14).

The roofline (planner/roofline.py) charges every layer max(FLOPs ÷ (peak × compute efficiency),
bytes ÷ (bandwidth × memory efficiency)) + a fixed kernel cost. How close real serving gets to
that depends on the work, not only on the accelerator: a BERT encoder at a large batch is a chain
of big GEMMs (compute-bound), while an inference engine runs a CNN's convolution + BatchNorm +
ReLU as one kernel, so most of the activation traffic a per-layer roofline charges never reaches
memory. One efficiency per accelerator class cannot fit both (below: with the old 0.70 / 0.80
defaults the roofline gave 44 % of the published ResNet-50 throughput on H100 and 51 % on A100;
even at 100 % of peak compute and bandwidth it gave 56 % on H100, because the per-layer bytes
alone exceed what the GPU moved). Hence a row per (model class, accelerator class).

FLOP convention: 2 FLOPs per multiply-accumulate (the profiler's), attention counted in full.
ResNet-50 v1.5 at 224×224 = 4.09 GMACs = 8.18 GFLOPs per image; BERT-Large at sequence s =
24 × (4·d² + 2·d·d_ff + 2·s·d) MACs per token (d 1024, d_ff 4096) + the 1024 → 2 span head.

Sources: MLPerf Inference, datacenter suite, Closed division, Offline scenario, NVIDIA's own
submissions (TensorRT), result logs in github.com/mlcommons/inference_results_v3.0 and _v3.1
(`closed/NVIDIA/results/<system>/<benchmark>/Offline/performance/run_1/mlperf_log_summary.txt`,
"Samples per second"), divided by the number of accelerators. Precision as submitted: ResNet-50
int8 everywhere; BERT-99 in 8 bits (int8 on A100 — NVIDIA's BERT base config says precision
"int8"; on Hopper and Ada parts NVIDIA may build fp8 engines, whose dense peak and element size
in the catalog equal int8's, so the projection is the same either way: "8-bit" below).

MLPerf's BERT runs SQuAD v1.1 padded to 384 tokens, but NVIDIA's engines skip the padding
(variable-sequence-length kernels); padding is 54 % of the tokens of SQuAD v1.1 at 384
(openreview.net/forum?id=3nzKUh9a4M), so a sample is on average 0.46 × 384 ≈ 177 real tokens.
The checks project a BERT-Large profile at 177 tokens; at 384 the published H100 and A100
figures would need more than 100 % of the 8-bit peak (2.2 and 0.87 PFLOP/s against 1.98 and
0.62), which is how the padding shows.

Fitted, not measured here: the cnn_vision and transformer rows below were chosen (round values)
to centre the H100-SXM and A100-SXM4-80GB results; the PCIe cards (H100-PCIe, A100-PCIe-80GB)
were not used in the choice and are the independent check. The inference-class rows were fitted
to the one L4 result each (no independent check: a wider band). The decoder_llm, other and
every CPU row keep the planner's round per-accelerator-class figures (roofline.DEFAULT_EFFICIENCY),
not checked against a published serving result here: the widest band.

These are tuned-engine figures (TensorRT at the MLPerf Offline batch); an eager framework at a
small batch is slower — calibrate (`--calibrate`) or override for that.
"""

from __future__ import annotations

from dataclasses import dataclass

from planner.roofline import DEFAULT_EFFICIENCY, Efficiency
from planner.vocab import AcceleratorClass

#: model classes (planner.model_class.ModelClass values; strings here to keep this module a leaf)
DECODER_LLM, TRANSFORMER, CNN_VISION, OTHER = "decoder_llm", "transformer", "cnn_vision", "other"

_DC, _INF, _CPU = AcceleratorClass.DATACENTER, AcceleratorClass.INFERENCE, AcceleratorClass.CPU

#: (model class, accelerator class) → efficiency; a pair not listed uses DEFAULT_EFFICIENCY[class].
#: cnn_vision: compute as the old default, a quarter of the per-layer activation bytes reach memory
#: (fused conv + BN + ReLU, activations kept in L2) on datacenter parts; inference parts (L4: 48 MB
#: L2 against 300 GB/s) keep more on chip. transformer: the GEMM chain at 65 % (datacenter) and
#: 60 % (inference) of the 8-bit tensor peak, activations as charged.
SERVING_EFFICIENCY: dict[tuple[str, AcceleratorClass], Efficiency] = {
    (CNN_VISION, _DC): Efficiency(compute=0.70, memory=0.80, kernel_overhead_us=5.0, activation_traffic=0.25),
    (CNN_VISION, _INF): Efficiency(compute=0.60, memory=0.80, kernel_overhead_us=5.0, activation_traffic=0.15),
    (TRANSFORMER, _DC): Efficiency(compute=0.65, memory=0.80, kernel_overhead_us=5.0),
    (TRANSFORMER, _INF): Efficiency(compute=0.60, memory=0.80, kernel_overhead_us=5.0),
}


@dataclass(frozen=True)
class PublishedServing:
    """One published serving result the defaults are checked against (MLPerf Inference Offline)."""

    benchmark: str  # "resnet50" | "bert-99"
    model_class: str
    accelerator: str  # catalog name
    round: str
    submitter: str
    system: str
    accelerators: int
    samples_per_s: float  # the whole system, as published
    precision: str
    fitted: bool  # used to choose the default (True) or an independent check (False)

    @property
    def per_accelerator(self) -> float:
        return self.samples_per_s / self.accelerators

    def cite(self) -> str:
        return (
            f"MLPerf Inference {self.round} Closed, datacenter, Offline: {self.submitter} {self.system} "
            f"({self.accelerators}× {self.accelerator}), {self.benchmark} {self.samples_per_s:,.6g} samples/s "
            f"({self.per_accelerator:,.0f} per accelerator, {self.precision})"
        )


_V30 = "github.com/mlcommons/inference_results_v3.0"
_V31 = "github.com/mlcommons/inference_results_v3.1"

#: Every published figure the defaults were chosen from or checked against (the results
#: repositories' `closed/NVIDIA/results/<system>/<benchmark>/Offline/performance/run_1/
#: mlperf_log_summary.txt`, "Samples per second").
PUBLISHED_SERVING: tuple[PublishedServing, ...] = (
    # v3.1 (Sept 2023), DGX-H100_H100-SXM-80GBx8_TRT: resnet50 704412, bert-99 70169.7
    PublishedServing("resnet50", CNN_VISION, "H100-SXM", "v3.1", "NVIDIA", "DGX H100", 8, 704_412, "int8", True),
    PublishedServing("bert-99", TRANSFORMER, "H100-SXM", "v3.1", "NVIDIA", "DGX H100", 8, 70_169.7, "8-bit", True),
    # v3.0 (Apr 2023), DGX-A100_A100-SXM-80GBx8_TRT: resnet50 324612, bert-99 28275.7
    PublishedServing("resnet50", CNN_VISION, "A100-SXM4-80GB", "v3.0", "NVIDIA", "DGX A100", 8, 324_612, "int8", True),
    PublishedServing("bert-99", TRANSFORMER, "A100-SXM4-80GB", "v3.0", "NVIDIA", "DGX A100", 8, 28_275.7, "int8", True),
    # independent checks, not used to choose the defaults
    # v3.1, H100-PCIe-80GBx8_TRT: resnet50 442960, bert-99 45698.5
    PublishedServing("resnet50", CNN_VISION, "H100-PCIe", "v3.1", "NVIDIA", "8× H100 PCIe server", 8, 442_960, "int8", False),
    PublishedServing("bert-99", TRANSFORMER, "H100-PCIe", "v3.1", "NVIDIA", "8× H100 PCIe server", 8, 45_698.5, "8-bit", False),
    # v3.0, A100-PCIe-80GBx1_TRT: resnet50 39152.4; A100-PCIe-80GBx8_TRT: bert-99 25602
    PublishedServing("resnet50", CNN_VISION, "A100-PCIe-80GB", "v3.0", "NVIDIA", "1× A100 PCIe server", 1, 39_152.4, "int8", False),
    PublishedServing("bert-99", TRANSFORMER, "A100-PCIe-80GB", "v3.0", "NVIDIA", "8× A100 PCIe server", 8, 25_602, "int8", False),
    # inference class, v3.1, L4x1_TRT: resnet50 12881.7, bert-99 1028.95 (fitted: no second L4-class figure)
    PublishedServing("resnet50", CNN_VISION, "L4", "v3.1", "NVIDIA", "1× L4 server", 1, 12_881.7, "int8", True),
    PublishedServing("bert-99", TRANSFORMER, "L4", "v3.1", "NVIDIA", "1× L4 server", 1, 1_028.95, "8-bit", True),
)  # fmt: skip

#: MLPerf BERT's mean unpadded sequence: SQuAD v1.1 at 384 tokens is 54 % padding.
MLPERF_BERT_MEAN_TOKENS = 177
#: NVIDIA's ResNet-50 Offline batch on H100/A100 in those submissions (gpu_batch_size 2048).
MLPERF_RESNET50_OFFLINE_BATCH = 2048

#: (model class, accelerator class) → (relative half-width, basis). Each band is the largest
#: error of the published checks with the defaults (all listed in PUBLISHED_SERVING), rounded up.
_UNCERTAINTY: dict[tuple[str, AcceleratorClass], tuple[float, str]] = {
    (CNN_VISION, _DC): (
        0.20,
        "±20 %: ResNet-50 MLPerf Inference Offline (v3.0/v3.1, NVIDIA, TensorRT int8) on H100-SXM, A100-SXM, "
        "H100-PCIe, A100-PCIe projected within −4 % to +19 % with these defaults (fitted to the SXM results)",
    ),
    (TRANSFORMER, _DC): (
        0.15,
        "±15 %: BERT-99 MLPerf Inference Offline (v3.0/v3.1, NVIDIA, TensorRT 8-bit) on H100-SXM, A100-SXM, "
        "H100-PCIe, A100-PCIe projected within −8 % to +13 % with these defaults (fitted to the SXM results)",
    ),
    (CNN_VISION, _INF): (
        0.30,
        "±30 %: fitted to one result (ResNet-50 MLPerf Inference v3.1 Offline, NVIDIA L4, int8), no independent check",
    ),
    (TRANSFORMER, _INF): (
        0.30,
        "±30 %: fitted to one result (BERT-99 MLPerf Inference v3.1 Offline, NVIDIA L4), no independent check",
    ),
}
_UNCHECKED = (
    0.50,
    "±50 %: the planner's round per-accelerator-class efficiencies, not checked against a published serving "
    "result for this model class (calibrate with --calibrate, or override the efficiencies)",
)


def _key(model_class: str, accelerator_class: AcceleratorClass | str) -> tuple[str, AcceleratorClass]:
    return str(model_class), AcceleratorClass(accelerator_class)


def serving_efficiency(model_class: str, accelerator_class: AcceleratorClass | str) -> Efficiency:
    """The default serving efficiency of a model class (planner.model_class.ModelClass or its
    value) on an accelerator class; DEFAULT_EFFICIENCY[accelerator class] where no row is fitted."""
    key = _key(model_class, accelerator_class)
    return SERVING_EFFICIENCY.get(key) or DEFAULT_EFFICIENCY[key[1]]


def default_uncertainty(model_class: str, accelerator_class: AcceleratorClass | str) -> tuple[float, str]:
    """(relative half-width, basis in words) of a projection made with the default efficiencies:
    0.20 means the published results checked were within ±20 %."""
    return _UNCERTAINTY.get(_key(model_class, accelerator_class), _UNCHECKED)


def efficiency_table(model_class: str) -> dict[str, Efficiency]:
    """Per accelerator class, the default efficiency a model class is served at (for a plan's
    assumptions)."""
    return {str(c): serving_efficiency(model_class, c) for c in AcceleratorClass}
