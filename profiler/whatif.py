"""The what-if engine: apply a variant to the loaded baseline, re-measure it, compare outputs.

A `WhatIfSession` holds the baseline model (loaded once), its profiles and outputs per input
shape, and a scratch folder for exported/quantized ONNX files. `variant_events` yields the same
events as a plain profile run, ending with one whose `result` is a `VariantResult`.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import progress
from .analyze import Cancelled, Event, ProfileRequest, profile_events, resolve_specs
from .backend import backend_for
from .comparison import Comparison, RatioEstimate, baseline_stale, interleave, summarize
from .errors import InputError, MeasureError, StudioError, first_line
from .fidelity import Fidelity, compare
from .inputs import check_input_sizes
from .loaded_model import LoadedModel, make_inputs
from .measure import Timing
from .result import InputSpec, LayerRow, Profile
from .variant import Variant


@dataclass(frozen=True)
class VariantResult:
    """One measured variant: its profile, fidelity against the baseline, and ratios to it."""

    variant: Variant
    profile: Profile | None
    baseline: Profile | None
    fidelity: Fidelity | None
    delta: dict[str, float | None]
    notes: tuple[str, ...] = ()
    prune_report: dict[str, Any] | None = None
    effective_macs: int | None = None
    error: str | None = None
    #: variant ÷ baseline latency from an interleaved experiment, with its interval
    latency_ratio: RatioEstimate | None = None
    #: variant ÷ baseline inferences per second at the same batch (the inverse of latency_ratio)
    throughput_ratio: RatioEstimate | None = None
    #: the experiment: both sides' latency in it and the machine's state
    comparison: Comparison | None = None
    #: recovery by distillation after structured pruning (profiler/torch_backend/distill.py):
    #: None when the variant asked for none; written to JSON only when present
    recover: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        d = {
            "variant": self.variant.to_dict(),
            "profile": None if self.profile is None else self.profile.to_dict(),
            "baseline": None if self.baseline is None else self.baseline.to_dict(),
            "fidelity": None if self.fidelity is None else self.fidelity.to_dict(),
            "delta": dict(self.delta),
            "notes": list(self.notes),
            "prune_report": self.prune_report,
            "effective_macs": self.effective_macs,
            "error": self.error,
            "latency_ratio": None if self.latency_ratio is None else self.latency_ratio.to_dict(),
            "throughput_ratio": None if self.throughput_ratio is None else self.throughput_ratio.to_dict(),
            "comparison": None if self.comparison is None else self.comparison.to_dict(),
        }
        if self.recover is not None:
            d["recover"] = dict(self.recover)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> VariantResult:
        return cls(
            variant=Variant.from_dict(d["variant"]),
            profile=None if d.get("profile") is None else Profile.from_dict(d["profile"]),
            baseline=None if d.get("baseline") is None else Profile.from_dict(d["baseline"]),
            fidelity=None if d.get("fidelity") is None else Fidelity.from_dict(d["fidelity"]),
            delta=dict(d.get("delta") or {}),
            notes=tuple(d.get("notes") or ()),
            prune_report=d.get("prune_report"),
            effective_macs=d.get("effective_macs"),
            error=d.get("error"),
            latency_ratio=None if d.get("latency_ratio") is None else RatioEstimate.from_dict(d["latency_ratio"]),
            throughput_ratio=None
            if d.get("throughput_ratio") is None
            else RatioEstimate.from_dict(d["throughput_ratio"]),
            comparison=None if d.get("comparison") is None else Comparison.from_dict(d["comparison"]),
            recover=None if d.get("recover") is None else dict(d["recover"]),
        )


def ratio(a: float | None, b: float | None) -> float | None:
    """a ÷ b, or None when either is missing or b is zero."""
    if a is None or b is None or b == 0:
        return None
    return round(a / b, 6)


def deltas(variant: Profile, baseline: Profile) -> dict[str, float | None]:
    """Variant ÷ baseline for latency, params, MACs, weight bytes and peak memory."""
    vt, bt = variant.totals, baseline.totals
    return {
        "latency": ratio(
            vt.latency_ms.median if vt.latency_ms else None, bt.latency_ms.median if bt.latency_ms else None
        ),
        "params": ratio(vt.params, bt.params),
        "macs": ratio(vt.macs, bt.macs),
        "weight_bytes": ratio(vt.weight_bytes, bt.weight_bytes),
        "peak_memory": ratio(vt.peak_memory_bytes, bt.peak_memory_bytes),
    }


def load_sample_inputs(path: str) -> dict[str, Any]:
    """Arrays from an .npz, named after the model inputs (`y` = labels); headers and sizes are
    checked before any array is read, and nothing is unpickled."""
    from .inputs import load_sample_arrays

    return load_sample_arrays(path)


class WhatIfSession:
    """The loaded baseline and everything derived from it that variants reuse."""

    def __init__(
        self,
        loaded: LoadedModel,
        base: ProfileRequest,
        *,
        sample_inputs: dict[str, Any] | None = None,
        scratch_dir: str | None = None,
    ) -> None:
        self.loaded = loaded
        self.base = base
        self.samples = sample_inputs or {}
        self._scratch = tempfile.TemporaryDirectory(prefix="tradeoff-") if scratch_dir is None else None
        self.scratch = Path(scratch_dir or self._scratch.name)  # type: ignore[union-attr]
        self._baselines: dict[Any, tuple[Profile, Any]] = {}
        self.prune_memo: dict[Any, dict[str, Any]] = {}  # per input shape: output shape, output layers
        self.base_activation_peak: int | None = None  # the baseline's, at the base shape (memory guard)
        self._counter = 0

    # --- inputs -----------------------------------------------------------------------------

    def request_for(self, variant: Variant) -> ProfileRequest:
        return dataclasses.replace(
            self.base,
            batch=variant.batch or self.base.batch,
            seq_len=variant.seq_len or self.base.seq_len,
            device=variant.device,
            runtime=None,
        )

    def specs_for(self, variant: Variant) -> tuple[InputSpec, ...]:
        specs = resolve_specs(self.loaded, self.request_for(variant))
        if self.samples and variant.batch is None and variant.seq_len is None and variant.image_size is None:
            specs = tuple(
                InputSpec(s.name, tuple(int(x) for x in self.samples[s.name].shape), s.dtype)
                if s.name in self.samples
                else s
                for s in specs
            )
        if variant.image_size:
            specs = tuple(
                InputSpec(s.name, (*s.shape[:2], variant.image_size, variant.image_size), s.dtype)
                if len(s.shape) == 4 and s.dtype.startswith("float")
                else s
                for s in specs
            )
            check_input_sizes(specs, file=self.loaded.info.source)
        return specs

    def torch_inputs(self, specs: tuple[InputSpec, ...], device: str = "cpu") -> tuple[tuple[Any, ...], dict[str, Any]]:
        """Seeded random inputs, or the user's samples where they fit these shapes."""
        import torch

        args, kwargs = make_inputs(dataclasses.replace(self.loaded, float_dtype=None), specs, device=device)
        if not self.samples:
            return args, kwargs
        names = [s.name for s in specs]

        def sample(name: str, current: Any) -> Any:
            arr = self.samples.get(name)
            if arr is None or tuple(arr.shape) != tuple(current.shape):
                return current
            return torch.from_numpy(arr).to(current.dtype).to(device)

        if kwargs:
            return args, {k: sample(k, v) for k, v in kwargs.items()}
        return tuple(sample(n, a) for n, a in zip(names, args, strict=True)), kwargs

    def numpy_feeds(self, specs: tuple[InputSpec, ...]) -> dict[str, Any]:
        args, kwargs = self.torch_inputs(specs)
        tensors = list(args) if not kwargs else [kwargs[s.name] for s in specs]
        return {s.name: t.numpy() for s, t in zip(specs, tensors, strict=True)}

    @property
    def labels(self) -> Any:
        return self.samples.get("y")

    # --- baseline -----------------------------------------------------------------------------

    def baseline(self, variant: Variant, should_stop: Callable[[], bool] = lambda: False) -> Iterator[Event]:
        """Profile (once per shape and device) and run the baseline; the final event holds it."""
        key = (variant.shape_key(), variant.device)
        if variant.device == "cuda":
            from .torch_backend.precision import set_tf32

            set_tf32(False)  # the baseline is strict fp32
        if key in self._baselines:
            cached, _ = self._baselines[key]
            yield Event("baseline", 0.5, "baseline (cached)", profile=cached, stage="baseline")
            return
        specs = self.specs_for(variant)
        request = self.request_for(variant)
        request = dataclasses.replace(request, shapes=tuple((s.name, s.shape) for s in specs), batch=None, seq_len=None)
        profile: Profile | None = None
        for event in profile_events(self.loaded, request, should_stop=should_stop):
            if event.kind == "finished":
                profile = event.profile
            else:
                yield dataclasses.replace(
                    event, fraction=event.fraction * 0.4, message="baseline: " + event.message, stage="baseline"
                )
        assert profile is not None
        outputs = None if self.loaded.on_meta else self._run_baseline(specs, variant.device)
        self._baselines[key] = (profile, outputs)
        yield Event("baseline", 0.4, "baseline measured", profile=profile, stage="baseline")

    def _run_baseline(self, specs: tuple[InputSpec, ...], device: str) -> Any:
        return backend_for(self.loaded).outputs(self.loaded, self, specs, device)

    # --- variants -------------------------------------------------------------------------------

    def variant_events(
        self, variant: Variant, should_stop: Callable[[], bool] = lambda: False, *, timed: bool = True
    ) -> Iterator[Event]:
        """Transform, measure and compare one variant; the last event carries a VariantResult.

        `timed=False` screens it: counted and its outputs compared, but not timed (no latency,
        no interleaved experiment). The optimizer screens most of its candidates this way, since
        a cloud cost is projected from the counts, and times only the ones it recommends."""
        base_profile: Profile | None = None
        try:
            for event in self.baseline(variant.baseline(), should_stop):
                if event.kind == "baseline":
                    base_profile = event.profile
                else:
                    yield event
            # A model asked to run in another runtime is not the baseline: the transform refuses it.
            identity = variant == variant.baseline() and variant.runtime in (None, backend_for(self.loaded).runtime)
            if identity:
                assert base_profile is not None
                _, outputs = self._baselines[(variant.shape_key(), variant.device)]
                fid = None if outputs is None else compare(outputs, outputs, self.labels)
                base_timed = base_profile.totals.latency_ms is not None
                result = VariantResult(
                    variant,
                    base_profile,
                    base_profile,
                    fid,
                    deltas(base_profile, base_profile),
                    notes=("identity variant: the baseline itself",),
                    latency_ratio=RatioEstimate.identity() if base_timed else None,
                    throughput_ratio=RatioEstimate.identity() if base_timed else None,
                )
                yield Event("finished", 1.0, "done", profile=base_profile, result=result)
                return
            yield Event("progress", 0.4, "transforming the model")
            recovered: dict[str, Any] | None = None
            if variant.recover_steps:  # prune, recover by distillation, then convert (0.4-0.6)
                from .recovery import transform_recovered

                target, notes, report, density, recovered = transform_recovered(self, variant, should_stop)
            else:
                # pruning, conversion and quantization report their own stages inside this window
                with progress.stage("transforming the model", 0.4, 0.6):
                    target, notes, report, density = self.transform(variant)
            measured: Profile | None = None
            experiment: list[tuple[RatioEstimate, Comparison]] = []
            assert base_profile is not None

            def beside_baseline() -> Generator[Event, None, Timing]:
                # The variant's end to end is timed once, alternately with the baseline, after it
                # is counted and passed the memory guard; the profile takes those samples.
                ratio, comparison, timing = yield from self._compare(variant, target, should_stop)
                experiment.append((ratio, comparison))
                return timing

            compared = timed and self.base.latency and base_profile.totals.latency_ms is not None
            request = dataclasses.replace(
                self.request_for(variant),
                shapes=tuple((s.name, s.shape) for s in self.specs_for(variant)),
                batch=None,
                seq_len=None,
            )
            if not timed:
                request = dataclasses.replace(request, latency=False, layer_latency=False)
            events = profile_events(
                target, request, should_stop=should_stop, end_to_end=beside_baseline if compared else None
            )
            for event in events:
                if event.kind == "finished":
                    measured = event.profile
                elif event.stage == "compare":
                    yield event  # its fractions are the run's already
                else:
                    yield dataclasses.replace(event, fraction=_variant_fraction(event.fraction))
            assert measured is not None
            ratio, comparison = experiment[0] if experiment else (None, None)
            if comparison is not None:  # the experiment's figures, exactly
                base_profile = self._refresh_baseline(variant, base_profile, comparison)
                measured = dataclasses.replace(
                    measured, totals=dataclasses.replace(measured.totals, latency_ms=comparison.variant_ms)
                )
            profile = dataclasses.replace(
                measured,
                config=dataclasses.replace(
                    measured.config,
                    precision=variant.precision,
                    prune=variant.prune,
                    prune_method=variant.method if variant.pruned else None,
                ),
                warnings=tuple(measured.warnings) + tuple(notes),
            )
            if variant.precision == "int8" and not backend_for(target).counts_int8:
                profile = _carry_counts_for_quantized(profile, base_profile)
            yield Event("progress", 0.96, "comparing outputs")
            held_out = None
            if recovered is not None and not recovered.get("skipped"):
                from .torch_backend.distill import split_indices

                total = recovered["samples"] + recovered["held_out"]
                held_out = (split_indices(total)[1], total)
            fid = self._fidelity(variant, target, held_out, notes)
            effective = None
            if density is not None:
                effective = _effective_macs(profile.layers, density)
                notes.append(
                    f"unstructured: {100 * (1 - report['nonzero_after'] / report['params_after']):.1f}% of weights are zero "
                    if report and "nonzero_after" in report
                    else "unstructured pruning"
                )
            delta = deltas(profile, base_profile)
            if ratio is not None:
                delta["latency"] = ratio.value  # the interleaved experiment's, not two separate runs'
            if report is not None:
                delta["param_ratio_pruned"] = report.get("param_ratio")
            result = VariantResult(
                variant,
                profile,
                base_profile,
                fid,
                delta,
                notes=tuple(notes),
                prune_report=report,
                effective_macs=effective,
                latency_ratio=ratio,
                throughput_ratio=None if ratio is None else ratio.inverse(),
                comparison=comparison,
                recover=recovered,
            )
            yield Event("finished", 1.0, "done", profile=profile, result=result)
        except StudioError:
            raise
        except Exception as exc:  # a transform or run failing is the variant's error, not a crash
            raise InputError(
                self.loaded.info.source,
                f"variant {variant.label()} failed: {type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}",
            ) from exc

    def run(self, variant: Variant, should_stop: Callable[[], bool] = lambda: False) -> VariantResult:
        """Drain `variant_events`; a failure becomes a VariantResult with `error` set."""
        try:
            for event in self.variant_events(variant, should_stop):
                if event.kind == "finished":
                    return event.result  # type: ignore[no-any-return]
        except StudioError as exc:
            return VariantResult(variant, None, None, None, {}, error=exc.problem)
        raise AssertionError("variant run ended without a result")

    # --- the comparison -------------------------------------------------------------------------

    def _compare(
        self, variant: Variant, target: LoadedModel, should_stop: Callable[[], bool]
    ) -> Generator[Event, None, tuple[RatioEstimate, Comparison, Timing]]:
        """Time the baseline and the variant alternately in one run (profiler/comparison.py)."""
        specs = self.specs_for(variant)
        device, threads = str(variant.device), self.base.threads
        base_call = backend_for(self.loaded).timed_call(self.loaded, specs, device, threads)
        variant_call = backend_for(target).timed_call(target, specs, device, threads)
        try:
            with base_call as (run_base, sync), variant_call as (run_variant, variant_sync):
                run_base, run_variant = _with_tf32(variant, run_base, run_variant)
                rounds = interleave(
                    run_base,
                    run_variant,
                    budget_s=self.base.budget_s,
                    sync=sync or variant_sync,
                    should_stop=should_stop,
                )
                while True:
                    try:
                        fraction, message = next(rounds)
                    except StopIteration as done:
                        run = done.value
                        break
                    yield Event("progress", 0.62 + 0.23 * fraction, message, stage="compare")
        except (StudioError, Cancelled):
            raise
        except Exception as exc:
            raise MeasureError(
                self.loaded.info.source, f"comparing with the baseline failed: {type(exc).__name__}: {first_line(exc)}"
            ) from None
        if run.cancelled:
            raise Cancelled()
        ratio, comparison = summarize(run)
        timing = Timing(
            samples_ms=run.variant_samples_ms, warmup=2, stopped_because="interleaved", conditions=run.conditions
        )
        return ratio, comparison, timing

    def _refresh_baseline(self, variant: Variant, base: Profile, comparison: Comparison) -> Profile:
        """The cached baseline with the comparison's fresh timing, when the machine's state has
        changed since the baseline was measured; otherwise the cached one, unchanged."""
        reason = baseline_stale(base, comparison)
        if reason is None or base.totals.latency_ms is None:
            return base
        env = base.environment
        refreshed = dataclasses.replace(
            base,
            totals=dataclasses.replace(base.totals, latency_ms=comparison.baseline_ms),
            environment=None
            if env is None
            else dataclasses.replace(
                env, foreign_cpu_percent=comparison.foreign_cpu_percent, cpu_mhz=comparison.cpu_mhz
            ),
            warnings=tuple(w for w in base.warnings if not w.startswith("baseline re-measured"))
            + (f"baseline re-measured beside a variant: {reason}",),
        )
        key = (variant.shape_key(), variant.device)
        _, outputs = self._baselines[key]
        self._baselines[key] = (refreshed, outputs)
        return refreshed

    # --- transforms -------------------------------------------------------------------------------

    def transform(
        self, variant: Variant
    ) -> tuple[LoadedModel, list[str], dict[str, Any] | None, dict[str, float] | None]:
        """The variant as a LoadedModel ready to profile, with notes, prune report and densities."""
        target, notes, report, density = backend_for(self.loaded).transform(self, variant)
        if variant.runtime == "onnxruntime" and not target.is_onnx:
            from .conversion import to_onnxruntime

            target, more = to_onnxruntime(self, target, variant)
            notes = notes + more
        return target, notes, report, density

    def scratch_path(self, stem: str) -> Path:
        """A new file name in the scratch folder for a transformed model."""
        self._counter += 1
        return self.scratch / f"{self._counter:04d}-{stem}.onnx"

    def calibration_feeds(self, variant: Variant) -> list[dict[str, Any]] | None:
        """Static int8 calibration uses the user's sample inputs (none: dynamic quantization)."""
        if not self.samples:
            return None
        specs = self.specs_for(variant)
        feeds = self.numpy_feeds(specs)
        return [feeds]

    def _fidelity(
        self,
        variant: Variant,
        target: LoadedModel,
        held_out: tuple[Any, int] | None = None,
        notes: list[str] | None = None,
    ) -> Fidelity | None:
        """Outputs compared with the baseline's; with `held_out` (the sample indices a recovered
        variant did not train on, and the sample count) on those rows only, baseline accuracy too."""
        key = (variant.shape_key(), variant.device)
        _, baseline_out = self._baselines[key]
        if baseline_out is None:
            return None
        specs = self.specs_for(variant)
        out = backend_for(target).outputs(target, self, specs, variant.device)
        labels = self.labels
        if held_out is not None:
            rows, total = held_out
            if baseline_out.shape[:1] == (total,) and out.shape[:1] == (total,):
                baseline_out, out = baseline_out[rows], out[rows]
                if labels is not None and len(labels) == total:
                    labels = labels[rows]
                if notes is not None:
                    notes.append(f"fidelity and accuracy: on the {len(rows)} held-out samples, not trained on")
            elif notes is not None:
                notes.append("fidelity: these inputs are not the samples recovery split; measured on all of them")
        return compare(baseline_out, out, labels)

    def close(self) -> None:
        if self._scratch is not None:
            self._scratch.cleanup()


def _variant_fraction(profile_fraction: float) -> float:
    """A variant profile's fraction in the whole run: counting up to 0.2 maps to 0.6–0.62, the
    comparison with the baseline then takes 0.62–0.85, per-layer timing the rest to 0.95."""
    if profile_fraction <= 0.2:
        return 0.6 + 0.1 * profile_fraction
    return 0.85 + 0.1 * (profile_fraction - 0.2) / 0.8


def _with_tf32(
    variant: Variant, run_base: Callable[[], object], run_variant: Callable[[], object]
) -> tuple[Callable[[], object], Callable[[], object]]:
    """On CUDA, TF32 is a process-wide switch: the strict-fp32 baseline and a tf32 variant each
    get their own setting for their own calls."""
    if variant.device != "cuda" or variant.precision != "tf32":
        return run_base, run_variant
    from .torch_backend.precision import set_tf32

    def base() -> object:
        set_tf32(False)
        return run_base()

    def tf32() -> object:
        set_tf32(True)
        return run_variant()

    return base, tf32


def _carry_counts_for_quantized(profile: Profile, baseline: Profile) -> Profile:
    """Rows whose quantized op had no formula keep the baseline's MACs (int8 does the same MACs)."""
    by_name = {r.name: r for r in baseline.layers}
    rows: list[LayerRow] = []
    for r in profile.layers:
        b = by_name.get(r.name)
        if b is not None and not r.counted:
            r = dataclasses.replace(r, macs=b.macs, flops=b.flops, counted=True, unsupported_ops=())
        rows.append(r)
    unsupported = {op: n for op, n in profile.unsupported_ops.items() if any(op in r.unsupported_ops for r in rows)}
    totals = dataclasses.replace(profile.totals, macs=sum(r.macs for r in rows), flops=sum(r.flops for r in rows))
    return dataclasses.replace(profile, layers=tuple(rows), totals=totals, unsupported_ops=unsupported)


def _effective_macs(rows: tuple[LayerRow, ...], density: dict[str, float]) -> int:
    """MACs that multiply non-zero weights: what sparse kernels could skip the rest of."""
    return int(sum(r.macs * density.get(r.name, 1.0) for r in rows))


def now_ms() -> float:
    return time.perf_counter() * 1000
