"""What a profile asks of any hardware, per layer, before a target is chosen.

The profile carries per-layer FLOPs, parameters, weight bytes, output activation bytes and
input/output shapes at the profiled batch and dtype. The planner works in *elements* so that
any target precision can be applied by one multiplication:

- weight elements: `params`, or `weight_bytes ÷ bytes per element of the profiled precision`
  when that is larger (buffers such as BatchNorm running statistics);
- activation elements moved: input elements (from `input_shapes`; the output size when the
  profile has no input shapes) + output elements (from `output_shapes`, else
  `activation_bytes ÷ element size`);
- an `Embedding` reads only the rows it gathers, not its whole table: its weight traffic is
  counted as one more output-sized read, not as the table size.

FLOPs and activations scale linearly with the batch; weights do not.

Mixed precision (profiler/precision_share.py): a variant's int8 rows (quantized Linear modules,
ONNX integer ops) are marked in `int8_rows`; every other row runs at `float_precision` (fp32 for
an int8 profile). Each row's weight bytes are read at the bytes of the precision it ran at, so
an int8 profile's fp32 rows are not counted as four times as many weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from planner.vocab import ELEMENT_BYTES, PeakPrecision, as_peak_precision
from profiler.layer_reconcile import is_zero_cost
from profiler.precision_share import float_precision_of, int8_rows
from profiler.result import LayerRow, Profile

#: Layer types whose weight traffic is a gather of output-sized rows.
GATHER_TYPES = frozenset({"Embedding", "EmbeddingBag", "Gather"})

#: Integer input dtypes that hold token ids.
TOKEN_DTYPES = frozenset({"int64", "int32", "long", "int"})


@dataclass(frozen=True)
class Workload:
    """Per-layer work at the profiled batch, as parallel tuples (the planner's hot loop reads
    them thousands of times per re-plan, so no per-layer objects)."""

    model: str
    batch: int
    seq_len: int | None
    names: tuple[str, ...]
    types: tuple[str, ...]
    flops: tuple[float, ...]
    weight_elems: tuple[float, ...]
    act_elems: tuple[float, ...]
    #: unique parameters (tied weights once), from the profile's totals
    params: int
    #: forward FLOPs of the whole batch, from the profile's totals
    total_flops: float
    #: live activation elements at the forward's peak (the working set when serving)
    working_set_elems: float
    #: every layer's output elements (what training keeps for the backward pass)
    stored_act_elems: float
    profiled_precision: PeakPrecision
    #: layers that do any work; each is counted as one kernel launch
    kernels: int
    #: per layer: runs in int8 in the measured variant (empty: no layer does)
    int8_rows: tuple[bool, ...] = ()
    #: the precision every layer not in `int8_rows` runs at (fp32 for an int8 profile)
    float_precision: PeakPrecision = PeakPrecision.FP32

    @property
    def has_int8(self) -> bool:
        """The measured variant is int8 or has int8 layers: projected per layer, mixed."""
        return self.profiled_precision is PeakPrecision.INT8 or any(self.int8_rows)

    @property
    def int8_flops_fraction(self) -> float:
        """Share of the per-layer FLOPs in int8 layers (0.0 without FLOPs)."""
        total = sum(self.flops)
        if not total or not self.int8_rows:
            return 0.0
        return sum(f for f, q in zip(self.flops, self.int8_rows, strict=True) if q) / total

    @property
    def int8_weight_elems(self) -> float:
        """Weight elements held in int8 (at most `params`: tied weights count once there)."""
        if not self.int8_rows:
            return 0.0
        return min(float(self.params), sum(w for w, q in zip(self.weight_elems, self.int8_rows, strict=True) if q))

    @property
    def tokens_per_sample(self) -> int | None:
        return self.seq_len

    @classmethod
    def from_profile(cls, profile: Profile) -> Workload:
        try:
            prec = as_peak_precision(profile.config.precision)
        except ValueError:
            prec = PeakPrecision.FP32
        try:
            float_prec = as_peak_precision(float_precision_of(profile))
        except ValueError:
            float_prec = PeakPrecision.FP32
        int8 = int8_rows(profile)
        bpe = ELEMENT_BYTES[float_prec]
        names, types, flops, weights, acts = [], [], [], [], []
        out_total = 0.0
        act_bytes_total = 0
        largest_layer = 0.0
        for row, q in zip(profile.layers, int8, strict=True):
            # each row's stored bytes at the precision it ran at (an int8 profile keeps fp32 rows)
            row_bpe = ELEMENT_BYTES[PeakPrecision.INT8] if q else bpe
            out_elems = _out_elems(row, row_bpe)
            in_elems = float(sum(math.prod(s) for s in row.input_shapes)) if row.input_shapes else out_elems
            w = max(float(row.params), row.weight_bytes / row_bpe)
            a = in_elems + out_elems
            if row.type in GATHER_TYPES:
                w, a = 0.0, a + out_elems
            if is_zero_cost(row):
                # a view, shape metadata or shape arithmetic (ONNX Identity/Shape/Reshape, torch
                # Flatten, Dropout in eval): a serving engine folds it away — no bytes moved, no
                # kernel launched (profiler/layer_reconcile.py says which rows are such)
                w, a = 0.0, 0.0
            names.append(row.name)
            types.append(row.type)
            flops.append(float(row.flops))
            weights.append(w)
            acts.append(a)
            out_total += out_elems
            act_bytes_total += row.activation_bytes
            largest_layer = max(largest_layer, in_elems + out_elems)
        peak_bytes = profile.totals.activation_peak_bytes
        if peak_bytes:
            # profile-wide bytes per output element (e.g. 4 for an fp32 profile)
            act_bpe = act_bytes_total / out_total if out_total and act_bytes_total else bpe
            working_set = max(peak_bytes / act_bpe, largest_layer)
        else:
            working_set = largest_layer
        return cls(
            model=profile.model.name,
            batch=max(1, profile.config.batch),
            seq_len=seq_len_of(profile),
            names=tuple(names),
            types=tuple(types),
            flops=tuple(flops),
            weight_elems=tuple(weights),
            act_elems=tuple(acts),
            params=profile.totals.params,
            total_flops=float(profile.totals.flops),
            working_set_elems=working_set,
            stored_act_elems=out_total,
            profiled_precision=prec,
            kernels=sum(1 for f, w, a in zip(flops, weights, acts, strict=True) if f or w or a),
            int8_rows=int8 if any(int8) else (),
            float_precision=float_prec,
        )


def _out_elems(row: LayerRow, bpe: float) -> float:
    if row.output_shapes:
        return float(sum(math.prod(s) for s in row.output_shapes))
    return row.activation_bytes / bpe


def token_input_shape(profile: Profile) -> tuple[int, ...] | None:
    """Shape of the first integer input of rank ≥ 2 (token ids: batch × sequence), if any."""
    for spec in profile.inputs:
        if spec.dtype.lower().removeprefix("torch.") in TOKEN_DTYPES and len(spec.shape) >= 2:
            return spec.shape
    return None


def seq_len_of(profile: Profile) -> int | None:
    """Tokens per sample: `config.seq_len`, else the token input's second dimension."""
    if profile.config.seq_len:
        return int(profile.config.seq_len)
    shape = token_input_shape(profile)
    return None if shape is None else int(shape[1])
