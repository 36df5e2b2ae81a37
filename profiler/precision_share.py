"""Which share of a measured variant's MACs runs in int8, and which stays in floating point.

A precision knob does not always convert the whole model:

- torch int8 (`torch.ao.quantization.quantize_dynamic`, profiler/torch_backend/precision.py)
  swaps only `nn.Linear` modules (a head tied to the token embedding stays fp32);
  convolutions, attention's own matmuls and everything else keep running in fp32. The swapped
  module's class is also named `Linear`, so the row `type` cannot tell them apart: its
  weights can. A dynamically quantized Linear stores one byte per weight (plus an fp32 bias),
  an fp32 one four — so a row of an int8 profile with MACs and fewer than 2 weight bytes per
  parameter is int8.
- ONNX Runtime int8 (`quantize_dynamic` / `quantize_static`, profiler/onnx_backend/transforms.py)
  rewrites only some node types; the rewritten nodes are integer ops (`MatMulInteger`,
  `ConvInteger`, `DynamicQuantizeMatMul`, `QLinearConv`, `QLinearMatMul`, `QGemm`, …), recognised
  by their op type in any profile (an ONNX model quantized before it was opened, too).
- fp16 / bf16 (`module.to(dtype)`) and fp32 / tf32 convert, or keep, the whole module: every MAC
  runs at the profile's precision.

The rows not in int8 run at the profile's *float precision*: fp32 for an int8 profile (both
quantizers leave the rest in fp32), the profile's own precision otherwise. Qt-free, torch-free.
"""

from __future__ import annotations

from dataclasses import dataclass

from .result import LayerRow, Profile

__all__ = [
    "INT8",
    "INT8_OP_TYPES",
    "PrecisionShare",
    "float_precision_of",
    "int8_rows",
    "is_int8_row",
    "mac_share_by_precision",
    "precision_share",
    "quantized_mac_fraction",
    "share_caption",
    "share_percent",
]

INT8 = "int8"

#: ONNX (and ONNX Runtime contrib) op types that compute with 8-bit integer operands.
INT8_OP_TYPES = frozenset({
    "ConvInteger",
    "MatMulInteger",
    "MatMulIntegerToFloat",
    "DynamicQuantizeMatMul",
    "DynamicQuantizeLSTM",
    "QAttention",
    "QGemm",
    "QLinearConv",
    "QLinearConvTranspose",
    "QLinearMatMul",
    "QOrderedMatMul",
})  # fmt: skip

#: Weight bytes per parameter below which a row of an int8 profile holds 8-bit weights: 1 for a
#: quantized Linear (its fp32 bias adds a little), 4 for fp32, 2 for fp16/bf16.
_INT8_BYTES_PER_PARAM_BELOW = 2.0


def float_precision_of(profile: Profile) -> str:
    """The precision the rows that are not int8 run at: fp32 for an int8 profile, else the profile's."""
    precision = str(profile.config.precision)
    return "fp32" if precision == INT8 else precision


def is_int8_row(row: LayerRow, profile_precision: str) -> bool:
    """True when this row's multiply-accumulates run on 8-bit integer operands."""
    if row.type in INT8_OP_TYPES or row.type.startswith("QLinear"):
        return True
    # torch dynamic quantization keeps the class name `Linear`: its int8 weights give it away
    return (
        profile_precision == INT8
        and row.macs > 0
        and row.params > 0
        and row.weight_bytes < _INT8_BYTES_PER_PARAM_BELOW * row.params
    )


def int8_rows(profile: Profile) -> tuple[bool, ...]:
    """Per row of `profile.layers` (same order): does it run in int8?"""
    precision = str(profile.config.precision)
    return tuple(is_int8_row(r, precision) for r in profile.layers)


@dataclass(frozen=True)
class PrecisionShare:
    """How a profile's counted MACs split between int8 and its float precision."""

    #: the profile's precision (`config.precision`)
    precision: str
    #: what the rows that are not int8 run at
    float_precision: str
    int8_macs: int
    total_macs: int
    #: rows with MACs that run in int8, and rows with MACs at all
    int8_layers: int
    mac_layers: int

    @property
    def int8_fraction(self) -> float | None:
        """int8 MACs ÷ all MACs; None when the profile counted no MACs."""
        return self.int8_macs / self.total_macs if self.total_macs else None

    @property
    def has_int8(self) -> bool:
        """True when the profile is an int8 variant or has int8 rows (the planner then projects
        the int8 rows at the int8 peak and the rest at `float_precision`)."""
        return self.precision == INT8 or self.int8_layers > 0

    def by_precision(self) -> dict[str, float]:
        """Fraction of MACs per precision (only precisions with a share > 0; {} without MACs)."""
        fraction = self.int8_fraction
        if fraction is None:
            return {}
        out = {INT8: fraction, self.float_precision: 1.0 - fraction}
        return {k: v for k, v in out.items() if v > 0}

    def caption(self) -> str | None:
        """'int8 on 0.03% of MACs' for a profile with int8 rows or an int8 profile; None otherwise."""
        if not self.has_int8:
            return None
        return f"int8 on {share_percent(self.int8_fraction)} of MACs"

    def describe(self, int8_as: str = INT8, float_as: str | None = None) -> str | None:
        """'int8 on 0.03% of MACs (1 of 21 layers); the rest fp32' (None as in `caption`).
        `int8_as` / `float_as` name the precisions a projection ran them at, when those differ."""
        if not self.has_int8:
            return None
        rest = float_as or self.float_precision
        share = share_percent(self.int8_fraction)
        layers = f"{self.int8_layers} of {self.mac_layers} layers"
        if int8_as == INT8:
            head = f"int8 on {share} of MACs ({layers})"
        else:  # a target without an int8 peak runs the int8 layers at its fallback
            head = f"int8 layers at {int8_as} on this target: {share} of MACs ({layers})"
        tail = "layers without MACs" if self.int8_layers == self.mac_layers else "the rest"
        return f"{head}; {tail} {rest}"


def precision_share(profile: Profile) -> PrecisionShare:
    """The int8 / float split of `profile`'s counted MACs, row by row."""
    flags = int8_rows(profile)
    int8_macs = sum(r.macs for r, q in zip(profile.layers, flags, strict=True) if q)
    return PrecisionShare(
        precision=str(profile.config.precision),
        float_precision=float_precision_of(profile),
        int8_macs=int8_macs,
        total_macs=sum(r.macs for r in profile.layers),
        int8_layers=sum(1 for r, q in zip(profile.layers, flags, strict=True) if q and r.macs),
        mac_layers=sum(1 for r in profile.layers if r.macs),
    )


def mac_share_by_precision(profile: Profile) -> dict[str, float]:
    """Fraction of the counted MACs per precision, e.g. {'int8': 0.00028, 'fp32': 0.99972} for a
    ResNet-18 whose Linear head alone was quantized, {'fp16': 1.0} for an fp16 variant."""
    return precision_share(profile).by_precision()


def quantized_mac_fraction(profile: Profile) -> float | None:
    """Fraction of the counted MACs that run in int8 (0.0 for a float variant); None without MACs."""
    return precision_share(profile).int8_fraction


def share_caption(profile: Profile) -> str | None:
    """'int8 on 0.03% of MACs' for an int8 variant (or int8 rows); None for a float profile."""
    return precision_share(profile).caption()


def share_percent(fraction: float | None) -> str:
    """A share with enough digits to be read at both ends: 0.00028 → '0.028%', 0.97 → '97%',
    0.99996 → 'over 99.9%' (never '100%' unless all), 0 → '0%'. No angle brackets: labels
    that guess rich text would eat them."""
    from .units import DASH, sig

    if fraction is None:
        return DASH
    if fraction <= 0:
        return "0%"
    if fraction >= 1:
        return "100%"
    pct = 100 * fraction
    if pct > 99.9:
        return "over 99.9%"
    if pct < 0.001:
        return "under 0.001%"
    # two significant digits, but one decimal near 100% so that 99.5% does not read '100%'
    return f"{sig(pct, 2) if pct < 99 else f'{pct:.1f}'}%"
