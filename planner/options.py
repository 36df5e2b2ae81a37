"""What the user asks the planner: training size, serving load, filters and overrides.

Defaults are the planner's, documented where they are defined; every one that a projection
uses is copied into the plan's `assumptions`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from planner.vocab import PeakPrecision
from profiler.codec import Record
from profiler.errors import InputError

#: Average accelerator utilisation of a serving fleet (traffic is not flat; headroom for
#: peaks). A planner default, not a measurement: set --utilization.
DEFAULT_UTILIZATION = 0.6
#: Data centre power usage effectiveness. COST-MODELS.md §6: PUE figures were not collected;
#: 1.0 counts the IT energy only.
DEFAULT_PUE = 1.0
#: Fraction of TDP drawn while training; 1.0 makes the energy a TDP-based upper bound
#: (COST-MODELS.md §6).
DEFAULT_POWER_FRACTION = 1.0
#: Throughput kept per doubling of the number of nodes (instances). Llama 3 405B kept
#: 400/430 = 0.93 going from 8K to 16K H100s (COST-MODELS.md §3); 0.95 for the smaller
#: scales this planner is mostly used at.
DEFAULT_SCALING_PER_DOUBLING = 0.95
DEFAULT_MAX_BATCH = 64
DEFAULT_OUTPUT_TOKENS = 256


@dataclass(frozen=True)
class PlanOptions(Record):
    """Options of `tradeoff plan` (docs/CONTRACT.md), plus extensions.

    `train_tokens` and `train_samples` are dataset sizes before `epochs`; `precision` is the
    serving precision (None: auto, planner.serving_precision); `gpus` filters by accelerator name or the
    provider's GPU model name (`A100-80GB` matches both the SXM4 and PCIe 80 GB parts).
    JSON through the record codec (`to_dict`/`from_dict`; SchemaError names the path).
    """

    __document__ = "plan options"

    train_tokens: float | None = None
    train_samples: float | None = None
    epochs: float = 1.0
    mfu: float | None = None
    gpus: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()
    region: str | None = None
    serve_qps: float | None = None
    slo_ms: float | None = None
    utilization: float = DEFAULT_UTILIZATION
    catalog_file: str | None = None
    # extensions
    precision: PeakPrecision | None = None
    train_precision: PeakPrecision = PeakPrecision.BF16
    train_gpus: int | None = None
    micro_batch: int | None = None
    pue: float = DEFAULT_PUE
    power_fraction: float = DEFAULT_POWER_FRACTION
    scaling_per_doubling: float = DEFAULT_SCALING_PER_DOUBLING
    max_batch: int = DEFAULT_MAX_BATCH
    output_tokens: int = DEFAULT_OUTPUT_TOKENS
    decoder_lm: bool | None = None
    kv_layers: int | None = None
    kv_heads: int | None = None
    head_dim: int | None = None
    compute_efficiency: float | None = None
    memory_efficiency: float | None = None
    kernel_overhead_us: float | None = None
    calibrate_with: str | None = None
    include_suspect_prices: bool = True
    price_discount: float = 0.0  # negotiated/committed-use discount on every catalog price, 0 ≤ d < 1
    #: serve each layer at the precision it was measured at instead of the auto 16-bit default
    #: (planner.serving_precision); ignored when `precision` is set
    serve_as_measured: bool = False
    #: finish training within this many days: each instance type is scaled out to the fewest
    #: instances that do (None: one instance, or the memory minimum)
    train_days: float | None = None
    # decoder-LM serving (planner.llm_serving): objectives on the time to first token and the time
    # per output token (mean values of the planner's model); `slo_ms` stays the whole request's
    ttft_slo_ms: float | None = None
    tpot_slo_ms: float | None = None
    #: which FLOP count training projects and --mfu is read in: "6n_attention" (3 × forward, attention in
    #: full; PaLM arXiv:2204.02311 App. B) or "6nd" (6 · params · tokens); planner.training_defaults
    flop_convention: str = "6n_attention"
    #: calibrate targets on a device with the measurements stored for it
    #: (planner/calibration_store.py; `--no-stored-calibration` switches it off)
    use_stored_calibration: bool = True

    @property
    def trains(self) -> bool:
        return self.train_tokens is not None or self.train_samples is not None

    def check(self) -> None:
        """Raise InputError('--option', 'what is wrong') for the first bad value."""
        if not 0.0 <= self.price_discount < 1.0:
            raise InputError("--discount", f"{self.price_discount} is outside 0 <= D < 1")
        _fraction("--mfu", self.mfu)
        _fraction("--utilization", self.utilization)
        _fraction("--compute-efficiency", self.compute_efficiency)
        _fraction("--memory-efficiency", self.memory_efficiency)
        _fraction("--power-fraction", self.power_fraction)
        _fraction("--scaling-efficiency", self.scaling_per_doubling)
        _positive("--train-tokens", self.train_tokens)
        _positive("--train-samples", self.train_samples)
        _positive("--epochs", self.epochs)
        _positive("--train-days", self.train_days)
        _positive("--serve-qps", self.serve_qps)
        _positive("--slo-ms", self.slo_ms)
        _positive("--ttft-slo-ms", self.ttft_slo_ms)
        _positive("--tpot-slo-ms", self.tpot_slo_ms)
        _positive("--train-gpus", self.train_gpus)
        _positive("--micro-batch", self.micro_batch)
        _positive("--max-batch", self.max_batch)
        _positive("--output-tokens", self.output_tokens)
        _positive("--kv-layers", self.kv_layers)
        _positive("--kv-heads", self.kv_heads)
        _positive("--head-dim", self.head_dim)
        if self.kernel_overhead_us is not None and not (
            math.isfinite(self.kernel_overhead_us) and self.kernel_overhead_us >= 0
        ):
            raise InputError("--kernel-overhead-us", "must be a number ≥ 0")
        if not (math.isfinite(self.pue) and self.pue >= 1.0):
            raise InputError("--pue", "must be a number ≥ 1")
        if self.train_tokens is not None and self.train_samples is not None:
            raise InputError("--train-tokens", "give either --train-tokens or --train-samples, not both")
        if self.flop_convention not in ("6n_attention", "6nd"):
            raise InputError("--flop-convention", f"{self.flop_convention!r} is not one of 6n_attention, 6nd")


def _fraction(option: str, value: float | None) -> None:
    if value is not None and not (math.isfinite(value) and 0 < value <= 1):
        raise InputError(option, "must be in (0, 1]")


def _positive(option: str, value: float | None) -> None:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise InputError(option, "must be a number > 0")
