"""`plan()`: a profile, the options and the catalog in; a `tradeoff.plan/1` document out."""

from __future__ import annotations

import csv
import dataclasses
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from planner.answer import Answer, answer_of, rank_key
from planner.calibration_store import load_stored_calibrations
from planner.catalog import Accelerator, Catalog, Instance
from planner.efficiency_defaults import efficiency_table
from planner.inference import HOURS_PER_MONTH, InferenceOption, ServeSettings, plan_inference
from planner.lm import LMShape, detect_decoder_lm, lm_shape
from planner.model_class import classify
from planner.options import PlanOptions
from planner.parallelism import COMM_MODEL
from planner.roofline import (
    DEFAULT_EFFICIENCY,
    MEMORY_USABLE_FRACTION,
    Calibration,
    Efficiency,
    calibrate,
)
from planner.serving_precision import choose_serving_precision
from planner.training import (
    ADAM_BYTES_PER_PARAM,
    CAUSAL_ATTENTION_HALVED,
    DEFAULT_MFU,
    TRAIN_FLOPS_PER_FORWARD,
    TrainingPlan,
    plan_training,
    training_compute,
)
from planner.training_defaults import defaults_table as mfu_defaults_table
from planner.vocab import (
    ELEMENT_BYTES,
    PROJECTED,
    PROJECTED_CALIBRATED,
    AcceleratorKind,
    PeakPrecision,
    as_peak_precision,
)
from planner.workload import Workload
from profiler.codec import Record, decode_document, encode_document
from profiler.errors import InputError
from profiler.precision_share import PrecisionShare, precision_share
from profiler.result import ModelInfo, Profile

#: how serving at a load is modelled, in the plan's assumptions (planner.serving_load, llm_serving)
LOAD_MODEL = (
    "dynamic batching: p90 ≈ batch fill (b−1)/λ + M/D/1 queueing × ln 10 + the batch's projected time; "
    "the fewest instances keeping utilisation ≤ the ceiling and p90 ≤ the objective"
)
LM_LOAD_MODEL = (
    "continuous batching with chunked prefill: concurrency by Little's law, TTFT = prefill ÷ (1 − load) "
    "+ half an iteration, request = TTFT + (output − 1) × TPOT; KV cache caps the concurrent sequences"
)

PLAN_SCHEMA = "tradeoff.plan/1"


@dataclass(frozen=True)
class InferencePlan(Record):
    __document__ = PLAN_SCHEMA

    options: tuple[InferenceOption, ...]
    decoder_lm: bool
    detection: str
    lm: LMShape | None
    prompt_tokens: int | None
    output_tokens: int | None


@dataclass(frozen=True, kw_only=True)
class Plan:
    """Training and serving cost projected over the catalog. Every time and price derived from
    the hardware is projected, never measured. Fields in the order of the JSON document."""

    model: ModelInfo
    profile_config: dict[str, Any] = field(default_factory=dict)
    assumptions: dict[str, Any]
    training: TrainingPlan | None
    inference: InferencePlan
    calibration: Calibration | None = None
    warnings: tuple[str, ...] = ()
    #: the answer the app, the CLI and the report lead with (planner.answer); None in old documents
    answer: Answer | None = None

    def to_dict(self) -> dict[str, Any]:
        return encode_document(self, PLAN_SCHEMA)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Plan:
        """SchemaError (an InputError and a ValueError) names the path of the first value that does not fit."""
        return decode_document(cls, d, PLAN_SCHEMA)

    def check(self) -> None:
        """Assert the plan's invariants (ordering, labels, arithmetic of every row)."""
        opts = self.inference.options
        at_load = bool(self.assumptions.get("serve_qps"))
        keys = [rank_key(o, at_load) for o in opts]
        assert keys == sorted(keys), "inference options not ranked (answers cheapest first, the rest after)"
        if self.answer is not None and opts and self.answer.serving is not None:
            first = opts[0]
            assert (self.answer.serving.instance, self.answer.serving.region) == (first.instance, first.region), (
                "answer is not the first option"
            )
        for o in opts:
            assert o.latency_source in (PROJECTED, PROJECTED_CALIBRATED), "inference latency not labelled projected"
            assert o.fits_memory or o.usd_per_million is None, f"{o.instance}: priced but does not fit"
            assert not o.meets_slo or o.fits_memory, f"{o.instance}: meets the SLO without fitting"
            if o.usd_per_month is not None and o.instances_needed is not None:
                assert math.isclose(o.usd_per_month, o.instances_needed * o.usd_per_hour * HOURS_PER_MONTH), (
                    "usd_per_month"
                )
            assert o.gpus_per_replica * o.replicas_per_instance <= o.gpus_per_instance, f"{o.instance}: replicas"
        if self.training is not None:
            self.training.check()
        assert "catalog_as_of" in self.assumptions, "assumptions lack catalog_as_of"


# ----------------------------------------------------------------------------- selection


def select_instances(catalog: Catalog, options: PlanOptions) -> tuple[tuple[Instance, Accelerator], ...]:
    """Instances after the --gpu, --provider and --region filters, with their accelerators.
    An unknown name in a filter raises InputError naming the option and the known names."""
    pairs = []
    for inst in catalog.instances:
        acc = catalog.accelerator(inst.accelerator)
        if acc is None or acc.kind is not AcceleratorKind.GPU:
            continue
        if not options.include_suspect_prices and inst.quality != "ok":
            continue
        pairs.append((inst, acc))
    if options.gpus:
        wanted = {g.lower() for g in options.gpus}
        known = {a.name.lower() for _, a in pairs} | {i.gpu_model.lower() for i, _ in pairs if i.gpu_model}
        unknown = sorted(wanted - known)
        if unknown:
            names = sorted({a.name for _, a in pairs} | {i.gpu_model for i, _ in pairs if i.gpu_model})
            raise InputError("--gpu", f"unknown accelerator {', '.join(unknown)}; known: {', '.join(names)}")
        pairs = [(i, a) for i, a in pairs if a.name.lower() in wanted or i.gpu_model.lower() in wanted]
    if options.providers:
        providers = {p.lower() for p in options.providers}
        known = {i.provider.lower() for i, _ in pairs}
        missing = sorted(providers - known)
        if missing:
            raise InputError("--provider", f"unknown provider {', '.join(missing)}; known: {', '.join(sorted(known))}")
        pairs = [(i, a) for i, a in pairs if i.provider.lower() in providers]
    if options.region:
        region = options.region.lower()
        kept = [(i, a) for i, a in pairs if i.region.lower() == region]
        if not kept:
            regions = sorted({i.region for i, _ in pairs})
            raise InputError("--region", f"no instance in region {options.region!r}; regions: {', '.join(regions)}")
        pairs = kept
    if options.price_discount:
        # A discount scales every price the same way: on-demand and spot alike.
        keep = 1.0 - options.price_discount
        pairs = [
            (
                dataclasses.replace(
                    i,
                    usd_per_hour=i.usd_per_hour * keep,
                    usd_per_hour_spot=None if i.usd_per_hour_spot is None else i.usd_per_hour_spot * keep,
                ),
                a,
            )
            for i, a in pairs
        ]
    return tuple(pairs)


def _efficiency_override(options: PlanOptions, model_class: str, calibrated: bool = False) -> dict[str, Efficiency]:
    """Per accelerator class: the model class's default serving efficiency
    (planner/efficiency_defaults.py) with the efficiencies the options set in its place (the
    class's activation traffic stays). Calibrated: every activation byte counts, as in the
    local measurement the factors come from (no tuned engine's fusion assumed)."""
    out = {}
    for cls, eff in efficiency_table(model_class).items():
        overhead = options.kernel_overhead_us
        out[cls] = dataclasses.replace(
            eff,
            activation_traffic=1.0 if calibrated else eff.activation_traffic,
            compute=options.compute_efficiency if options.compute_efficiency is not None else eff.compute,
            memory=options.memory_efficiency if options.memory_efficiency is not None else eff.memory,
            kernel_overhead_us=overhead if overhead is not None else eff.kernel_overhead_us,
        )
    return out


def _calibration(profile: Profile, options: PlanOptions, catalog: Catalog) -> Calibration | None:
    if options.calibrate_with is None:
        return None
    local = catalog.accelerator(options.calibrate_with)
    if local is None:
        raise InputError("--calibrate", f"no accelerator named {options.calibrate_with!r} in the catalog")
    try:
        return calibrate(profile, local)
    except ValueError as exc:
        raise InputError("--calibrate", str(exc)) from None


# ----------------------------------------------------------------------------- plan


def plan(profile: Profile, options: PlanOptions, catalog: Catalog) -> Plan:
    """Project training (when a dataset size is given) and serving over the catalog.

    Raises InputError for a bad option or a filter that matches nothing."""
    options.check()
    wl = Workload.from_profile(profile)
    if not wl.kernels:
        raise InputError(profile.model.source, "the profile has no layer with FLOPs or bytes to project")
    pairs = select_instances(catalog, options)
    warnings = list(catalog.warnings)
    calibration = _calibration(profile, options, catalog)
    # factors measured earlier on the catalog's own devices (tradeoff profile, the app)
    stored = load_stored_calibrations(options.use_stored_calibration)
    if stored is not None:
        warnings.extend(stored.warnings)
    share = precision_share(profile)

    if options.decoder_lm is None:
        is_lm, detection = detect_decoder_lm(profile)
    else:
        is_lm, detection = options.decoder_lm, "set by the options"
    kind = classify(profile, is_lm)
    # auto: the 16-bit format the class is served in; a measured int8 variant's int8 layers stay int8
    chosen = choose_serving_precision(wl, kind.model_class, options.precision, options.serve_as_measured)
    serve_precision, float_precision = chosen.precision, chosen.float_precision
    shape = lm_shape(profile, options.kv_layers, options.kv_heads, options.head_dim) if is_lm else None
    if is_lm and shape is None:
        warnings.append("decoder LM without recognisable K/V projections: pass --kv-layers, --kv-heads, --head-dim")
    if is_lm and not wl.seq_len:
        warnings.append("decoder LM without a sequence length: prefill taken as one token")

    overrides = _efficiency_override(options, kind.model_class, calibrated=calibration is not None)
    by_class: dict[str, list[tuple[Instance, Accelerator]]] = {}
    for inst, acc in pairs:
        by_class.setdefault(str(acc.accelerator_class), []).append((inst, acc))
    inference_rows: list[InferenceOption] = []
    for cls, members in by_class.items():
        settings = ServeSettings(
            precision=serve_precision, slo_ms=options.slo_ms, qps=options.serve_qps,
            utilization=options.utilization, max_batch=options.max_batch,
            efficiency=overrides[cls], calibration=calibration,
            lm=shape, decoder_lm=is_lm, output_tokens=options.output_tokens,
            float_precision=float_precision, share=share if float_precision is not None else None,
            auto_precision=chosen.auto, model_class=str(kind.model_class),
            ttft_slo_ms=options.ttft_slo_ms, tpot_slo_ms=options.tpot_slo_ms, stored_calibrations=stored,
        )  # fmt: skip
        inference_rows.extend(plan_inference(wl, tuple(members), settings))
    # the user's question decides the order: $ per month at a load, else $ per million
    inference_rows.sort(key=lambda o: rank_key(o, bool(options.serve_qps)))
    inference = InferencePlan(
        options=tuple(inference_rows), decoder_lm=is_lm, detection=detection, lm=shape,
        prompt_tokens=wl.seq_len if is_lm else None, output_tokens=options.output_tokens if is_lm else None,
    )  # fmt: skip

    training = None
    if options.trains:
        # the model class (above) picks the MFU default
        training = plan_training(wl, training_compute(wl, options), pairs, options, catalog, kind)

    used = [i for i, _ in pairs]
    assumptions = _assumptions(options, serve_precision, overrides, used, catalog, is_lm, shape, wl, training)
    assumptions.update(_share_assumptions(share, serve_precision, float_precision))
    assumptions.update({
        "precision_choice": chosen.choice, "model_class": str(kind.model_class), "model_class_evidence": kind.evidence,
        "model_is_large": kind.large, "stored_calibrations": stored.summary() if stored is not None else {},
        "ranked_by": "usd_per_month at serve_qps" if options.serve_qps else "usd_per_million at utilization",
        "queueing": LOAD_MODEL if not is_lm else LM_LOAD_MODEL,
        "ttft_slo_ms": options.ttft_slo_ms, "tpot_slo_ms": options.tpot_slo_ms,
    })  # fmt: skip
    answer = answer_of(
        inference.options, None if training is None else training.options, options.serve_qps, options.slo_ms,
        options.utilization,
    )  # fmt: skip
    return Plan(
        model=profile.model, assumptions=assumptions, training=training, inference=inference,
        warnings=tuple(warnings), calibration=calibration, profile_config=profile.config.to_dict(), answer=answer,
    )  # fmt: skip


def _share_assumptions(
    share: PrecisionShare, serve_precision: PeakPrecision, float_precision: PeakPrecision | None
) -> dict[str, Any]:
    """What the serving projection ran at, layer by layer: the measured variant's MAC share per
    precision, and in words ('int8 on 0.028% of MACs (1 of 21 layers); the rest fp32')."""
    if float_precision is not None:
        text = share.describe(str(serve_precision), str(float_precision))
        quantized = share.int8_fraction
    else:
        text = f"{serve_precision} on all MACs"
        if share.has_int8 or serve_precision is not as_peak_precision(share.float_precision):
            text += f" (asked; the measured variant: {share.describe() or share.precision})"
        quantized = None
    return {
        "mac_share_by_precision": share.by_precision(),
        "quantized_mac_share": quantized,
        "float_precision": None if float_precision is None else str(float_precision),
        "precision_share": text,
    }


def _assumptions(
    options: PlanOptions,
    serve_precision: PeakPrecision,
    overrides: dict[str, Efficiency] | None,
    used: list[Instance],
    catalog: Catalog,
    is_lm: bool,
    shape: LMShape | None,
    wl: Workload,
    training: TrainingPlan | None,
) -> dict[str, Any]:
    efficiency = overrides or {str(k): v for k, v in DEFAULT_EFFICIENCY.items()}
    a: dict[str, Any] = {
        "precision": str(serve_precision),
        "train_precision": str(options.train_precision),
        "utilization": options.utilization,
        "price_discount": options.price_discount,
        "pue": options.pue,
        "power_fraction": options.power_fraction,
        "catalog_as_of": max((i.as_of for i in used), default=catalog.as_of),
        "catalog_oldest_as_of": min((i.as_of for i in used), default=catalog.as_of),
        "catalog_files": list(catalog.files),
        "mfu": options.mfu,
        "mfu_default_by_class": {str(k): v for k, v in DEFAULT_MFU.items()},
        "efficiency_by_class": {k: v.to_dict() for k, v in efficiency.items()},
        "memory_usable_fraction": MEMORY_USABLE_FRACTION,
        "memory_gb_unit": "GiB (2^30 bytes)",
        "hours_per_month": HOURS_PER_MONTH,
        "max_batch": options.max_batch,
        "slo_ms": options.slo_ms,
        "serve_qps": options.serve_qps,
        "profiled_batch": wl.batch,
        "profiled_precision": str(wl.profiled_precision),
        "params": wl.params,
        "forward_flops": wl.total_flops,
        "element_bytes": {str(p): int(ELEMENT_BYTES[p]) for p in PeakPrecision},
        "tensor_parallel": (
            "compute and bytes divide over the GPUs; decoder LMs add two all-reduces per block (link bandwidth "
            "+ 8 µs each, planner.llm_serving.tp_allreduce_s); for other models communication is not modelled"
        ),
        "include_suspect_prices": options.include_suspect_prices,
        "filters": {"gpu": list(options.gpus), "provider": list(options.providers), "region": options.region},
    }
    if is_lm:
        a.update({
            "decoder_lm": True,
            "prompt_tokens": wl.seq_len,
            "output_tokens": options.output_tokens,
            "decode_context_tokens": (wl.seq_len or 1) + options.output_tokens / 2,
            "kv_elems_per_token": None if shape is None else shape.kv_elems_per_token(),
            "kv_shape_source": None if shape is None else shape.source,
        })  # fmt: skip
    if training is not None:
        a.update({
            "train_flops_per_forward": TRAIN_FLOPS_PER_FORWARD,
            "flop_convention": training.flop_convention,
            "mfu_defaults": mfu_defaults_table(),
            "comm_model": COMM_MODEL,
            "causal_attention_halved": CAUSAL_ATTENTION_HALVED,
            "adam_bytes_per_param": ADAM_BYTES_PER_PARAM,
            "train_activation_bytes": 2,
            "micro_batch": training.micro_batch,
            "train_gpus": options.train_gpus,
            "scaling_per_doubling": options.scaling_per_doubling,
            "epochs": options.epochs,
            "train_tokens": options.train_tokens,
            "train_samples": options.train_samples,
        })  # fmt: skip
    return a


# ----------------------------------------------------------------------------- CSV


def plan_rows(plan: Plan) -> list[dict[str, Any]]:
    """The per-option table: one row per training option, then one per inference option,
    with a `section` column; fields a section lacks are empty."""
    rows: list[dict[str, Any]] = []
    if plan.training is not None:
        rows.extend({"section": "training", **o.to_dict()} for o in plan.training.options)
    rows.extend({"section": "inference", **o.to_dict()} for o in plan.inference.options)
    return rows


def write_plan_csv(plan: Plan, dest: str | Path | IO[str]) -> None:
    """Write `plan_rows(plan)` as CSV (lists joined with '; ')."""
    rows = plan_rows(plan)
    columns: list[str] = []
    for r in rows:
        columns.extend(k for k in r if k not in columns)
    if isinstance(dest, (str, Path)):
        from profiler.safe_io import write_text_atomic

        buf = io.StringIO()
        _write(buf, columns, rows)
        write_text_atomic(dest, buf.getvalue())
    else:
        _write(dest, columns, rows)


def _write(f: IO[str], columns: list[str], rows: Iterable[dict[str, Any]]) -> None:
    from profiler.textsafe import csv_safe

    w = csv.DictWriter(f, fieldnames=columns or ["section"], lineterminator="\n")
    w.writeheader()
    for r in rows:
        # catalog names come from user-editable CSVs: no cell may read as a spreadsheet formula
        w.writerow(
            {k: csv_safe("; ".join(v) if isinstance(v, list) else ("" if v is None else v)) for k, v in r.items()}
        )


def plan_csv_text(plan: Plan) -> str:
    buf = io.StringIO()
    write_plan_csv(plan, buf)
    return buf.getvalue()
