"""Tasks the measurement worker runs (named `profiler.tasks:NAME` in requests).

Each task is `task(payload, state, should_stop)` yielding the typed run events of
`profiler.events` (the worker stamps their run id).
`state` lives as long as the worker process: the baseline model loads once per source and
stays loaded, with its profiles and outputs, across every variant asked of it.

Long calls report through `profiler.progress` (the worker installs its sink): loading the model
is the stage "loading the model" (0–2 %), and a variant's transform runs in a window of
`TRANSFORM_SPAN` from where the run is, unless the caller (profiler/whatif.py) opens a stage
around it itself.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

from . import progress
from .analyze import Cancelled, ProfileRequest
from .errors import StudioError
from .events import Finished, LayerMeasured, Progress, RunEvent, StaticResult

LOAD_WINDOW = (0.0, 0.02)  # loading the model, before the baseline's 0.02…0.4
MEMORY_WINDOW = (0.02, 0.03)  # a variant's memory check, before the baseline counts its layers
# A transform nobody gave a window runs from where the run is to 5 points further: whatif's
# variant_events says "transforming the model" at 0.45 and measures from 0.5; trace's at 0.2, 0.3.
TRANSFORM_SPAN = 0.05


def request_to_dict(request: ProfileRequest) -> dict[str, Any]:
    return {
        "shapes": [[name, list(shape)] for name, shape in request.shapes],
        "batch": request.batch,
        "seq_len": request.seq_len,
        "device": request.device,
        "runtime": request.runtime,
        "threads": request.threads,
        "latency": request.latency,
        "layer_latency": request.layer_latency,
        "budget_s": request.budget_s,
        "layer_runs": request.layer_runs,
    }


def request_from_dict(d: dict[str, Any]) -> ProfileRequest:
    return ProfileRequest(
        shapes=tuple((name, tuple(int(x) for x in shape)) for name, shape in d.get("shapes", ())),
        batch=d.get("batch"),
        seq_len=d.get("seq_len"),
        device=d.get("device", "cpu"),
        runtime=d.get("runtime"),
        threads=d.get("threads"),
        latency=bool(d.get("latency", True)),
        layer_latency=bool(d.get("layer_latency", True)),
        budget_s=float(d.get("budget_s", 3.0)),
        layer_runs=int(d.get("layer_runs", 5)),
    )


def _load(source: str, trust: bool) -> Any:
    """Open the model as the stage "loading the model" (the heartbeat moves it meanwhile)."""
    from .loading import load_model

    with progress.stage("loading the model", *LOAD_WINDOW, expect_s=5.0):
        return load_model(source, trust=trust)


@functools.cache
def _staged_session_class() -> type[Any]:
    """WhatIfSession whose transform reports as a stage when no caller opened one around it."""
    from .whatif import WhatIfSession

    class StagedSession(WhatIfSession):
        def transform(self, variant: Any) -> Any:
            if progress.depth():  # whatif opened its own stage: it owns the window
                return super().transform(variant)
            at = progress.position()
            with progress.stage("transforming the model", at, min(1.0, at + TRANSFORM_SPAN)):
                return super().transform(variant)

    return StagedSession


def _bundled(source: str) -> dict[str, Any] | None:
    """A demo's own labelled samples (demo:digits-cnn), used when the user gives none."""
    if not source.startswith("demo:"):
        return None
    from .demos import bundled_samples

    return bundled_samples(source.split(":", 1)[1])


def _session(payload: dict[str, Any], state: dict[str, Any]) -> Any:
    """The WhatIfSession for this source and base request, loaded once per worker."""
    from .whatif import load_sample_inputs

    key = (
        payload["source"],
        bool(payload.get("trust")),
        repr(sorted(payload.get("request", {}).items())),
        payload.get("inputs"),
    )
    sessions: dict[Any, Any] = state.setdefault("sessions", {})
    if key not in sessions:
        for old in sessions.values():  # one model at a time: a new source frees the last one
            old.close()
        sessions.clear()
        loaded = _load(payload["source"], bool(payload.get("trust")))
        samples = load_sample_inputs(payload["inputs"]) if payload.get("inputs") else _bundled(payload["source"])
        session_class = _staged_session_class()
        sessions[key] = session_class(loaded, request_from_dict(payload.get("request", {})), sample_inputs=samples)
    return sessions[key]


def variant_task(payload: dict[str, Any], state: dict[str, Any], should_stop: Callable[[], bool]) -> Iterator[RunEvent]:
    """Measure one variant (the identity variant is the baseline) and stream its events."""
    import warnings

    from .backend import backend_for
    from .guard import check_memory
    from .variant import Variant

    # The worker shares the terminal's stderr: library warnings there would garble CLI output.
    warnings.simplefilter("ignore")

    variant = Variant.from_dict(payload.get("variant", {}))
    try:
        session = _session(payload, state)
    except StudioError as exc:  # no variant of this model can run: say so, structurally
        exc.details.setdefault("stage", "load")
        raise
    yield Progress(0.02, "model loaded")
    with progress.stage("checking the memory it needs", *MEMORY_WINDOW):  # counts the model once: seconds
        needed = None if session.loaded.on_meta else backend_for(session.loaded).variant_memory_bytes(session, variant)
    if needed is not None:
        check_memory(needed, device=variant.device, what=session.loaded.info.source)
    try:
        for event in session.variant_events(variant, should_stop, timed=bool(payload.get("timed", True))):
            if event.kind == "finished":
                yield Finished(event.result.to_dict())
            elif event.kind in ("static", "baseline") and event.profile is not None:
                yield StaticResult(
                    event.profile.to_dict(), event.fraction, event.stage, baseline=event.kind == "baseline"
                )
            elif event.kind == "layer":
                yield LayerMeasured(event.layer, event.latency_ms, event.stage)
            else:
                yield Progress(event.fraction, event.message, event.stage)
    except Cancelled:
        return


def profile_task(payload: dict[str, Any], state: dict[str, Any], should_stop: Callable[[], bool]) -> Iterator[RunEvent]:
    """`tradeoff profile` (and `plan MODEL`) in the worker: load, count, measure; the result is
    the `tradeoff.profile/1` document. Nothing of the model runs in the calling process."""
    import warnings

    from .analyze import profile_events

    warnings.simplefilter("ignore")  # library warnings would garble the terminal's stderr
    loaded = _load(payload["source"], bool(payload.get("trust")))
    yield Progress(0.02, "model loaded")
    try:
        for event in profile_events(loaded, request_from_dict(payload.get("request", {})), should_stop=should_stop):
            if event.kind == "finished" and event.profile is not None:
                yield Finished(event.profile.to_dict())
                return
            yield Progress(event.fraction, event.message)
    except Cancelled:
        return


def compare_task(payload: dict[str, Any], state: dict[str, Any], should_stop: Callable[[], bool]) -> Iterator[RunEvent]:
    """`tradeoff compare A B` in the worker: profile each model that is not a saved profile
    (`payload["sources"]`, None for a side given as a profile), then run both on the same seeded
    inputs (or the user's / the demo's samples) for the fidelity of B against A. The result:
    {"profiles": [a, b], "fidelity": {…} | None, "fidelity_note": str | None}."""
    import warnings

    from .analyze import profile_events
    from .loading import load_model
    from .result import Profile

    warnings.simplefilter("ignore")  # library warnings would garble the terminal's stderr
    sources: list[str | None] = list(payload["sources"])
    trust = bool(payload.get("trust"))
    request = request_from_dict(payload.get("request", {}))
    given: list[dict[str, Any] | None] = list(payload.get("profiles") or [None, None])
    loaded: list[Any] = [None, None]
    profiles: list[dict[str, Any] | None] = list(given)
    windows = ((0.0, 0.45), (0.45, 0.9))
    try:
        for k, source in enumerate(sources):
            if source is None:
                continue
            lo, hi = windows[k]
            side = "AB"[k]
            with progress.stage(f"{side}: loading the model", lo, lo + 0.02, expect_s=5.0):
                loaded[k] = load_model(source, trust=trust)
            for event in profile_events(loaded[k], request, should_stop=should_stop):
                if event.kind == "finished" and event.profile is not None:
                    profiles[k] = event.profile.to_dict()
                    break
                yield Progress(lo + 0.02 + (hi - lo - 0.02) * float(event.fraction), f"{side}: {event.message}")
    except Cancelled:
        return
    fidelity, note = None, None
    if any(s is None for s in sources):
        note = "a side is a saved profile: there is no model to run"
    elif any(m.on_meta for m in loaded):
        note = "a model is on the meta device (too large to hold here): its outputs cannot be computed"
    else:
        assert profiles[0] is not None and profiles[1] is not None
        from .compare import input_mismatch

        why = input_mismatch(Profile.from_dict(profiles[0]), Profile.from_dict(profiles[1]))
        if why is not None:
            note = f"the input specs differ ({why})"
        else:
            yield Progress(0.92, "running both on the same inputs")
            fidelity, note = _compare_outputs(payload, loaded, request)
    yield Finished({"profiles": profiles, "fidelity": fidelity, "fidelity_note": note})


#: at most this many runs of a model that takes a fixed batch, over the samples in slices of it
MAX_COMPARE_CHUNKS = 64


def _compare_outputs(payload: dict[str, Any], loaded: list[Any], request: ProfileRequest) -> tuple[Any, str | None]:
    """Both models' first outputs on identical inputs, compared: (fidelity dict | None, note).

    The user's (or the demo's) samples when both models take them whole; else in slices of the
    profiled batch (a model exported with a fixed batch), at most MAX_COMPARE_CHUNKS of them;
    else seeded random inputs at the profiled shapes."""
    import numpy as np

    from .analyze import resolve_specs
    from .fidelity import compare
    from .whatif import load_sample_inputs

    samples = load_sample_inputs(payload["inputs"]) if payload.get("inputs") else _bundled(str(payload["sources"][0]))
    errors: list[str] = []
    if samples:
        try:
            out_a, out_b = _outputs_pair(loaded, request, samples)
            return compare(out_a, out_b, samples.get("y")).to_dict(), None
        except Exception as exc:  # noqa: BLE001 — a model that cannot take the samples whole
            errors.append(_first_line(exc))
        specs = resolve_specs(loaded[0], request)
        inputs = [samples[s.name] for s in specs if s.name in samples]
        n = int(inputs[0].shape[0]) if inputs and len(inputs) == len(specs) and inputs[0].ndim else 0
        bs = int(specs[0].shape[0]) if specs and specs[0].shape else 0
        if bs and n > bs:
            count = min(n // bs, MAX_COMPARE_CHUNKS)
            try:
                outs = [
                    _outputs_pair(loaded, request, {k: v[c * bs : (c + 1) * bs] for k, v in samples.items()})
                    for c in range(count)
                ]
                labels = samples.get("y")
                labels = None if labels is None else labels[: count * bs]
                fid = compare(np.concatenate([o[0] for o in outs]), np.concatenate([o[1] for o in outs]), labels)
                return fid.to_dict(), f"on {count * bs} of the {n} samples, {bs} at a time (the batch both take)"
            except Exception as exc:  # noqa: BLE001
                errors.append(_first_line(exc))
    try:
        out_a, out_b = _outputs_pair(loaded, request, None)
    except Exception as exc:  # noqa: BLE001 — e.g. B's output has another shape than A's
        return None, f"the two could not be run on the same inputs ({_first_line(exc)})"
    fid = compare(out_a, out_b)
    if samples:
        return fid.to_dict(), f"on seeded random inputs: the samples did not fit both models ({errors[-1]})"
    return fid.to_dict(), "on seeded random inputs (no labelled samples: no accuracy)"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


def _outputs_pair(loaded: list[Any], request: ProfileRequest, samples: dict[str, Any] | None) -> tuple[Any, Any]:
    """A's and B's first outputs on the same inputs: A's samples (or seeded inputs) at A's
    shapes, fed to B by position (an export may rename its inputs)."""
    from .analyze import resolve_specs
    from .backend import backend_for
    from .variant import Variant

    session_class = _staged_session_class()
    sa = session_class(loaded[0], request, sample_inputs=samples)
    sb = None
    try:
        specs_a = sa.specs_for(Variant(device=request.device))
        args, kwargs = sa.torch_inputs(specs_a)
        tensors = list(args) if not kwargs else [kwargs[s.name] for s in specs_a]
        specs_b = tuple(
            type(b)(b.name, tuple(a.shape), b.dtype)
            for b, a in zip(resolve_specs(loaded[1], request), specs_a, strict=True)
        )
        arrays = {s.name: t.detach().cpu().numpy() for s, t in zip(specs_b, tensors, strict=True)}
        sb = session_class(loaded[1], request, sample_inputs=arrays)
        out_a = backend_for(loaded[0]).outputs(loaded[0], sa, specs_a, request.device)
        out_b = backend_for(loaded[1]).outputs(loaded[1], sb, specs_b, request.device)
        return out_a, out_b
    finally:
        sa.close()
        if sb is not None:
            sb.close()
