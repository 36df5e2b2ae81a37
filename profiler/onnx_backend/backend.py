"""The ONNX `Backend` (see `profiler.backend`): an .onnx file counted statically and timed in onnxruntime.

onnx, onnxruntime and numpy are imported inside the methods.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..analyze import Cancelled, Event
from ..errors import InputError
from ..loaded_model import LoadedModel

if TYPE_CHECKING:
    from ..analyze import ProfileRequest
    from ..backend import Backend, StaticResult, TimedCall, Transformed
    from ..result import InputSpec, Profile
    from ..variant import Variant
    from ..whatif import WhatIfSession


class OnnxBackend:
    name = "onnx"
    runtime = "onnxruntime"
    counts_int8 = True  # QLinear*, MatMulInteger, DynamicQuantizeMatMul … have formulas

    def handles(self, loaded: LoadedModel) -> bool:
        return loaded.onnx_path is not None

    def check_runtime(self, loaded: LoadedModel, runtime: str) -> None:
        if runtime != "onnxruntime":
            raise InputError(loaded.info.source, "an ONNX model runs with --runtime onnxruntime")

    def require_device(self, loaded: LoadedModel, runtime: str, device: str) -> None:
        return  # the session reports a missing CUDA provider itself

    def weights_loaded_again(self, device: str) -> bool:
        return True  # an onnxruntime session loads its own copy

    def static(self, loaded: LoadedModel, specs: tuple[InputSpec, ...], device: str) -> StaticResult:
        from .analysis import analyze_onnx

        assert loaded.onnx_path is not None
        a = analyze_onnx(loaded.onnx_path, specs)
        return a.layers, a.params, a.weight_bytes, a.unsupported_ops, a.activation_peak_bytes

    def measure(
        self,
        loaded: LoadedModel,
        specs: tuple[InputSpec, ...],
        request: ProfileRequest,
        base: Profile,
        clock: Callable[[], float],
        should_stop: Callable[[], bool],
    ) -> Generator[Event, None, Profile]:
        import os

        from ..backend import measured_profile
        from .timing import time_onnx

        assert loaded.onnx_path is not None
        if request.timing is not None:  # already timed beside the baseline
            timing, rss_growth = request.timing, None
        else:
            yield Event("progress", 0.3, "timing end to end")
            timing, rss_growth = time_onnx(
                loaded.onnx_path,
                specs,
                threads=request.threads,
                clock=clock,
                budget_s=request.budget_s,
                should_stop=should_stop,
            )
        if timing.stopped_because == "cancelled":
            raise Cancelled()
        rows = base.layers
        method = None
        if request.layer_latency:
            import statistics

            from .. import layer_reconcile as lr
            from .. import units
            from .node_timing import per_node_samples_ms, profiler_floor_ms

            yield Event("progress", 0.7, "timing each node")
            node = per_node_samples_ms(
                loaded.onnx_path,
                specs,
                threads=request.threads,
                runs=request.layer_runs,
                weights={r.name: (float(r.flops), float(r.activation_bytes)) for r in rows},
            )
            # Nodes onnxruntime removed or folded into constants ran in no time at all.
            samples = {r.name: node.samples_ms.get(r.name, [0.0] * node.runs) for r in rows}
            unassigned = [sum(v[k] for v in node.unassigned_ms.values()) for k in range(node.runs)]
            rec = lr.reconcile(
                samples,
                timing.stats().median,
                overhead_ms=profiler_floor_ms(request.threads),
                events_per_run=node.events_per_run,
                zero_cost=[r.name for r in rows if lr.is_zero_cost(r)],
                unassigned_ms=statistics.median(unassigned) if unassigned else 0.0,
            )
            rows = lr.apply_to_rows(rows, rec)
            extra = []
            if node.fused_share > 0:
                extra.append(
                    f"the {units.percent(node.fused_share)} of profiled time onnxruntime reported under fused "
                    "nodes is split over the rows they replaced by FLOPs"
                )
            without_kernel = sum(1 for n in node.absent if n not in rec.zero_cost)
            if without_kernel:
                extra.append(f"{without_kernel} nodes with no kernel of their own (fused or removed) show 0")
            base = dataclasses.replace(
                base, layer_latency_note=lr.note(rec, profiler="onnxruntime profiler", extra=extra)
            )
            for r in rows:
                if r.latency_ms is not None:
                    yield Event("layer", 0.8, layer=r.name, latency_ms=r.latency_ms)
            method = "onnxruntime-profiling"
        # As for torch on the CPU: weights plus the largest set of tensors alive at once (from the
        # graph's liveness); the process RSS growth stays beside it, and 0 growth is not "no memory".
        peak = (
            base.totals.weight_bytes + base.totals.activation_peak_bytes
            if base.totals.activation_peak_bytes is not None
            else None
        )
        totals = dataclasses.replace(
            base.totals, latency_ms=timing.stats(), peak_memory_bytes=peak, rss_growth_bytes=rss_growth
        )
        threads = request.threads or len(os.sched_getaffinity(0))
        return measured_profile(
            base, loaded, request.device, rows=rows, totals=totals, method=method, threads=threads, timing=timing
        )

    @contextmanager
    def timed_call(
        self, loaded: LoadedModel, specs: tuple[InputSpec, ...], device: str, threads: int | None
    ) -> Iterator[TimedCall]:
        from .timing import make_session, random_feeds

        assert loaded.onnx_path is not None
        # no spinning: in a comparison another session (or torch) runs between this one's calls
        ort_session = make_session(loaded.onnx_path, threads=threads, device=device, spin=False)
        feeds = random_feeds(ort_session, specs)
        yield (lambda: ort_session.run(None, feeds)), None

    def outputs(self, loaded: LoadedModel, session: WhatIfSession, specs: tuple[InputSpec, ...], device: str) -> Any:
        import numpy as np

        from .timing import make_session

        assert loaded.onnx_path is not None
        ort_session = make_session(loaded.onnx_path, threads=session.base.threads, device=device)
        return np.asarray(ort_session.run(None, session.numpy_feeds(specs))[0], dtype=np.float64)

    def transform(self, session: WhatIfSession, variant: Variant) -> Transformed:
        from .transforms import prune_onnx_unstructured, quantize_onnx

        assert session.loaded.onnx_path is not None
        source = session.loaded.info.source
        path = Path(session.loaded.onnx_path)
        notes: list[str] = []
        report = None
        density = None
        if variant.runtime == "torch":
            raise InputError(
                source, "an ONNX model runs with onnxruntime; open the torch model to measure it with PyTorch"
            )
        if variant.pruned:
            if variant.method == "structured":
                raise InputError(
                    source,
                    "structured pruning needs the model's Python code (an nn.Module: demo, .py factory, HF config or "
                    "trusted pickle) because removing channels rewrites the graph; ONNX offers --prune-method unstructured",
                )
            if variant.layer_prune:
                raise InputError(source, "per-layer pruning ratios need an nn.Module; ONNX takes a global ratio")
            path, density, considered, zeroed = prune_onnx_unstructured(
                path, session.scratch_path("pruned"), variant.prune
            )
            report = {
                "method": "unstructured",
                "ratio_asked": variant.prune,
                "params_before": considered,
                "params_after": considered,
                "nonzero_after": considered - zeroed,
                "param_ratio": 1.0,
                "sparsity": zeroed / considered if considered else 0.0,
                "strategy": "global-magnitude",
            }
            notes.append(
                "unstructured pruning zeroes weights: dense kernels still multiply them, so latency does not change"
            )
        if variant.precision in ("fp16", "bf16", "tf32"):
            raise InputError(
                "--precision",
                f"{variant.precision} for an ONNX model is not offered: use fp32 or int8, or open the torch model",
            )
        if variant.precision == "int8":
            path, qnotes = quantize_onnx(
                path, session.scratch_path("int8"), calibration=session.calibration_feeds(variant)
            )
            notes += qnotes
        loaded = dataclasses.replace(session.loaded, onnx_path=str(path), warnings=[])
        return loaded, notes, report, density

    def variant_memory_bytes(self, session: WhatIfSession, variant: Variant) -> int | None:
        return None  # the profile run's own guard (weights + counted peak) covers an ONNX variant


BACKEND: Backend = OnnxBackend()
