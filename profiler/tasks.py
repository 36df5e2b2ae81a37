"""Tasks the measurement worker runs (named `profiler.tasks:NAME` in requests).

Each task is `task(payload, state, should_stop)` yielding the typed run events of
`profiler.events` (the worker stamps their run id).
`state` lives as long as the worker process: the baseline model loads once per source and
stays loaded, with its profiles and outputs, across every variant asked of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from .analyze import Cancelled, ProfileRequest
from .errors import StudioError
from .events import Finished, LayerMeasured, Progress, RunEvent, StaticResult


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


def _session(payload: dict[str, Any], state: dict[str, Any]) -> Any:
    """The WhatIfSession for this source and base request, loaded once per worker."""
    from .loading import load_model
    from .whatif import WhatIfSession, load_sample_inputs

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
        loaded = load_model(payload["source"], trust=bool(payload.get("trust")))
        samples = load_sample_inputs(payload["inputs"]) if payload.get("inputs") else None
        sessions[key] = WhatIfSession(loaded, request_from_dict(payload.get("request", {})), sample_inputs=samples)
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
    needed = None if session.loaded.on_meta else backend_for(session.loaded).variant_memory_bytes(session, variant)
    if needed is not None:
        check_memory(needed, device=variant.device, what=session.loaded.info.source)
    try:
        for event in session.variant_events(variant, should_stop):
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
    from .loading import load_model

    warnings.simplefilter("ignore")  # library warnings would garble the terminal's stderr
    yield Progress(0.0, "opening the model")
    loaded = load_model(payload["source"], trust=bool(payload.get("trust")))
    yield Progress(0.02, "model loaded")
    try:
        for event in profile_events(loaded, request_from_dict(payload.get("request", {})), should_stop=should_stop):
            if event.kind == "finished" and event.profile is not None:
                yield Finished(event.profile.to_dict())
                return
            yield Progress(event.fraction, event.message)
    except Cancelled:
        return
