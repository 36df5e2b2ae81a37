"""The torch `Backend` (see `profiler.backend`): an nn.Module counted by hooks and timed in PyTorch.

torch, and this package's heavy modules, are imported inside the methods.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ..analyze import Cancelled, Event
from ..errors import InputError, MeasureError, first_line
from ..loaded_model import LoadedModel, make_inputs

if TYPE_CHECKING:
    from ..analyze import ProfileRequest
    from ..backend import Backend, StaticResult, TimedCall, Transformed
    from ..result import InputSpec, Profile
    from ..variant import Variant
    from ..whatif import WhatIfSession


class TorchBackend:
    name = "torch"
    runtime = "torch"
    counts_int8 = False  # dynamically quantized modules have no formula: the baseline's MACs stand

    def handles(self, loaded: LoadedModel) -> bool:
        return not loaded.is_onnx

    def check_runtime(self, loaded: LoadedModel, runtime: str) -> None:
        if runtime == "onnxruntime":
            raise InputError(loaded.info.source, "--runtime onnxruntime needs an .onnx file (export the model first)")

    def require_device(self, loaded: LoadedModel, runtime: str, device: str) -> None:
        if device != "cuda":
            return
        import torch

        if not torch.cuda.is_available():
            raise InputError("--device", "cuda was asked for, but torch sees no CUDA device here")

    def weights_loaded_again(self, device: str) -> bool:
        # The model's weights are resident already (free memory excludes them), unless they move to the GPU.
        return device == "cuda"

    def static(self, loaded: LoadedModel, specs: tuple[InputSpec, ...], device: str) -> StaticResult:
        from .analysis import analyze_module

        model = loaded.module
        target = "meta" if loaded.on_meta else device
        if not loaded.on_meta and device == "cuda":
            model.to("cuda")
        args, kwargs = make_inputs(loaded, specs, device=target)
        try:
            analysis = analyze_module(model, args, kwargs, hooks=loaded.hooks_supported)
        except (InputError, MeasureError):
            raise
        except Exception as exc:
            raise MeasureError(
                loaded.info.source, f"the forward pass raised {type(exc).__name__}: {first_line(exc)}"
            ) from None
        rows = analysis.layers
        if loaded.type_names:  # torch.export: unflattened modules are InterpreterModules; show the real class
            rows = tuple(
                dataclasses.replace(
                    r,
                    type=loaded.type_names.get(r.name, r.type).split(" ")[0]
                    + (" (own ops)" if "own ops" in r.type else ""),
                )
                if r.type.startswith("InterpreterModule") or r.type.startswith("UnflattenedModule")
                else r
                for r in rows
            )
        peak = None if loaded.on_meta else analysis.activation_peak_bytes
        return (
            rows,
            analysis.params,
            analysis.weight_bytes,
            analysis.unsupported_ops,
            peak if peak is not None else analysis.activation_peak_bytes,
        )

    def measure(
        self,
        loaded: LoadedModel,
        specs: tuple[InputSpec, ...],
        request: ProfileRequest,
        base: Profile,
        clock: Callable[[], float],
        should_stop: Callable[[], bool],
    ) -> Generator[Event, None, Profile]:
        import torch

        from ..backend import measured_profile
        from .timing import layer_samples_ms, time_forward

        model = loaded.module
        args, kwargs = make_inputs(loaded, specs, device=request.device)
        if request.device == "cuda":
            torch.cuda.reset_peak_memory_stats()
            if loaded.run_module is not None:
                loaded.run_module.to("cuda")
        rss_before = _max_rss_bytes()
        timing = request.timing  # already timed (beside the baseline), or timed here
        if timing is None:
            yield Event("progress", 0.3, "timing end to end")
        try:
            timing = timing or time_forward(
                loaded.timed_module,  # as users run it (ep.module() for torch.export), not the hooked copy
                args,
                kwargs,
                device=request.device,
                threads=request.threads,
                clock=clock,
                budget_s=request.budget_s,
                should_stop=should_stop,
            )
        except Exception as exc:
            raise MeasureError(
                loaded.info.source, f"the forward pass raised {type(exc).__name__}: {first_line(exc)}"
            ) from None
        if timing.stopped_because == "cancelled":
            raise Cancelled()
        rss_growth = None if request.timing is not None else max(0, _max_rss_bytes() - rss_before)
        if request.device == "cuda":
            peak_memory: int | None = int(torch.cuda.max_memory_allocated())
        else:
            # Weights plus the largest set of intermediate tensors alive at once in a real forward.
            peak_memory = base.totals.weight_bytes + (base.totals.activation_peak_bytes or 0)
        rows = base.layers
        method = None
        if request.layer_latency and loaded.hooks_supported:
            from .. import layer_reconcile as lr

            yield Event("progress", 0.7, "timing each layer")
            names = {r.name for r in rows}
            # Slow variants (bf16 on a CPU without it) get fewer hooked runs: each costs a forward.
            runs = max(1, min(request.layer_runs, int(request.budget_s * 1000 / max(timing.stats().median, 1e-3))))
            samples = layer_samples_ms(
                model,
                args,
                kwargs,
                names,
                device=request.device,
                threads=request.threads,
                runs=runs,
                should_stop=should_stop,
            )
            if should_stop():
                raise Cancelled()
            # A hooked forward is slower than a plain one (the hooks' cost is already taken out of the
            # parents' rows): scale the rows to the end-to-end median, keeping the hooks' figures as raw.
            rec = lr.reconcile(samples, timing.stats().median, zero_cost=[r.name for r in rows if lr.is_zero_cost(r)])
            rows = lr.apply_to_rows(rows, rec, label=lr.NOOP_MODULES_LABEL)
            rows = tuple(r if r.name in rec.rows else dataclasses.replace(r, latency_ms=0.0) for r in rows)
            for r in rows:
                yield Event("layer", 0.8, layer=r.name, latency_ms=r.latency_ms)
            base = dataclasses.replace(
                base, layer_latency_note=lr.note(rec, profiler="forward-hook", label=lr.NOOP_MODULES_LABEL)
            )
            method = "hooks"
            if loaded.run_module is not None:  # hooks need module names that ep.module() lacks
                note = (base.layer_latency_note or "").rstrip(".")
                base = dataclasses.replace(
                    base,
                    layer_latency_note=f"{note}; per-layer times from an unflattened copy of the exported "
                    "program (it keeps module names), end to end from ep.module() as users run it.",
                )
        totals = dataclasses.replace(
            base.totals, latency_ms=timing.stats(), peak_memory_bytes=peak_memory, rss_growth_bytes=rss_growth
        )
        threads = request.threads or torch.get_num_threads()
        return measured_profile(
            base, loaded, request.device, rows=rows, totals=totals, method=method, threads=threads, timing=timing
        )

    @contextmanager
    def timed_call(
        self, loaded: LoadedModel, specs: tuple[InputSpec, ...], device: str, threads: int | None
    ) -> Iterator[TimedCall]:
        import torch

        from .timing import intra_op_threads

        model = loaded.timed_module
        if device == "cuda":
            model.to("cuda")
        args, kwargs = make_inputs(loaded, specs, device=device)

        def call() -> object:
            return model(*args, **kwargs)

        with intra_op_threads(threads), torch.inference_mode():
            yield call, (torch.cuda.synchronize if device == "cuda" else None)

    def outputs(self, loaded: LoadedModel, session: WhatIfSession, specs: tuple[InputSpec, ...], device: str) -> Any:
        import torch

        from ..fidelity import to_numpy

        args, kwargs = session.torch_inputs(specs, device)
        if loaded.float_dtype:
            dtype = getattr(torch, loaded.float_dtype)
            args = tuple(a.to(dtype) if a.is_floating_point() else a for a in args)
            kwargs = {k: v.to(dtype) if v.is_floating_point() else v for k, v in kwargs.items()}
        with torch.inference_mode():
            return to_numpy(loaded.module(*args, **kwargs))

    def transform(self, session: WhatIfSession, variant: Variant) -> Transformed:
        from .precision import convert_torch, set_tf32
        from .pruning import layer_density, output_layers, prune_structured, prune_unstructured

        source = session.loaded.info.source
        if session.loaded.on_meta:
            raise InputError(
                source,
                "the model is on the meta device (too large to hold here): variants cannot be measured; the planner projects them",
            )
        model = session.loaded.module
        specs = session.specs_for(variant)
        args, kwargs = session.torch_inputs(specs)
        notes: list[str] = []
        report: dict[str, Any] | None = None
        density: dict[str, float] | None = None
        if variant.pruned:
            if variant.method == "structured":
                if not session.loaded.structured_prunable:
                    raise InputError(
                        source,
                        f"structured pruning needs an nn.Module with its Python code; a {session.loaded.info.format} "
                        "file has a fixed graph — use --prune-method unstructured",
                    )
                model, rep = prune_structured(
                    model,
                    args,
                    kwargs,
                    variant.prune,
                    layer_ratios=dict(variant.layer_prune),
                    round_to=variant.round_to,
                    source=source,
                    memo=session.prune_memo.setdefault(variant.shape_key(), {}),
                )
                report = rep.to_dict()
                notes.append(
                    f"structured: channel ratio {variant.prune:g} asked; parameters kept {100 * rep.param_ratio:.1f}% "
                    f"({rep.params_before:,} -> {rep.params_after:,}); output layers kept: {', '.join(rep.kept_layers) or 'none'}"
                )
            else:
                keep = output_layers(model, args, kwargs)
                model, rep = prune_unstructured(model, variant.prune, keep=keep)
                if rep.layers_pruned == 0:
                    # a torch.export program has no Linear/Conv modules left to find: say so
                    # rather than measure an unchanged model as a pruned one
                    raise InputError(
                        source, "unstructured pruning found no Linear or convolution layers to prune in this model"
                    )
                report = rep.to_dict()
                report["nonzero_after"] = rep.nonzero_after
                density = layer_density(model)
                notes.append(
                    "unstructured pruning zeroes weights: dense kernels still multiply them, so latency does not change"
                )
        runtime = variant.runtime or "torch"
        if runtime == "onnxruntime":
            if variant.precision not in ("fp32", "int8"):
                raise InputError(
                    "--precision", f"{variant.precision} with onnxruntime is not offered: use fp32 or int8"
                )
            # the (pruned) module as it is: profiler/conversion.py exports it for onnxruntime
            return dataclasses.replace(session.loaded, module=model, warnings=[]), notes, report, density
        if variant.device == "cuda":
            set_tf32(variant.precision == "tf32")  # TF32 tensor-core matmuls for this variant only
        converted, pnotes = convert_torch(model, variant.precision, variant.device, source=source)
        notes += pnotes
        float_dtype = {"fp16": "float16", "bf16": "bfloat16"}.get(str(variant.precision))  # inputs cast to it
        run_module = _run_module_like(session.loaded.run_module, model, variant, source)
        loaded = dataclasses.replace(
            session.loaded, module=converted, float_dtype=float_dtype, warnings=[], run_module=run_module
        )
        return loaded, notes, report, density

    def variant_memory_bytes(self, session: WhatIfSession, variant: Variant) -> int | None:
        """Weights twice (baseline + transformed copy) plus the activation peak at the base input
        shape, scaled by how much larger this variant's inputs are (x1.5 for attention's growth)."""
        from .analysis import analyze_module

        model = session.loaded.module
        weights = sum(p.numel() * p.element_size() for p in model.parameters())
        base = variant.baseline().with_(batch=None, seq_len=None, image_size=None)
        base_specs = session.specs_for(base)
        if getattr(session, "base_activation_peak", None) is None:
            args, kwargs = make_inputs(session.loaded, base_specs)
            try:
                session.base_activation_peak = analyze_module(
                    model, args, kwargs, hooks=session.loaded.hooks_supported
                ).activation_peak_bytes
            except Exception as exc:
                text = str(exc).splitlines()[0][:200] if str(exc) else ""
                raise MeasureError(
                    session.loaded.info.source, f"the forward pass raised {type(exc).__name__}: {text}"
                ) from None
        scale = sum(s.numel for s in session.specs_for(variant)) / max(1, sum(s.numel for s in base_specs))
        return int(2 * weights + 1.5 * scale * (session.base_activation_peak or 0))


def _run_module_like(run_module: Any, changed: Any, variant: Variant, source: str) -> Any:
    """The users' module (ep.module()) with the same change as the instrumented copy, so baseline
    and variant are timed on the same kind of module (None when there is no separate one).

    Both hold the same parameter names; pruned weights are copied over, then the precision is
    converted the same way."""
    if run_module is None:
        return None
    import copy

    from .precision import convert_torch

    run = copy.deepcopy(run_module)
    if variant.pruned:
        run.load_state_dict(changed.state_dict(), strict=False)
    converted, _ = convert_torch(run, variant.precision, variant.device, source=source)
    return converted


def _max_rss_bytes() -> int:
    import resource
    import sys

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(rss if sys.platform == "darwin" else rss * 1024)


BACKEND: Backend = TorchBackend()
