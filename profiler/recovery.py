"""Recovery in a variant's transform: prune, train the pruned model towards the baseline
(`profiler.torch_backend.distill.recover`), then convert it to the variant's precision and
device. It sits above the backends because the rest of the transform may convert the model to
ONNX (profiler.conversion); the training itself lives in torch_backend/distill.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import progress
from .torch_backend.distill import recover, sample_tensors, skipped


def transform_recovered(session: Any, variant: Any, should_stop: Callable[[], bool] = lambda: False) -> tuple[Any, ...]:
    """`session.transform(variant)` with recovery between pruning and the rest of the transform:
    prune (fp32, CPU), train the pruned model towards the baseline, then convert it to the
    variant's precision and device. Returns (target, notes, prune report, densities, recover
    record as a dict). When recovery cannot run, the plain transform with a record saying why."""
    import copy
    import dataclasses

    from .whatif import WhatIfSession

    steps = int(variant.recover_steps or 0)
    budget_s = getattr(variant, "recover_budget_s", None)
    why = _unsupported(session, variant)
    specs = names = None
    if why is None:
        specs = session.specs_for(variant.with_(batch=None, seq_len=None, image_size=None))
        names = [s.name for s in specs]
        got = sample_tensors(session.samples, names) if session.samples else None
        if got is None:
            why = "recovery needs sample inputs (--inputs FILE.npz): it never trains on random inputs"
        elif isinstance(got, str):
            why = got
    if why is not None:
        with progress.stage("transforming the model", 0.4, 0.6):
            target, notes, report, density = session.transform(variant.with_(recover_steps=None, recover_budget_s=None))
        return target, [*notes, f"no recovery: {why}"], report, density, skipped(steps, why, budget_s).to_dict()

    assert specs is not None and names is not None
    pruned_only = variant.with_(precision="fp32", runtime=None, device="cpu", recover_steps=None, recover_budget_s=None)
    with progress.stage("transforming the model", 0.4, 0.45):
        pruned, notes, report, density = session.transform(pruned_only)
    args, kwargs = session.torch_inputs(specs)  # the samples, cast to the model's input dtypes
    tensors = dict(kwargs) if kwargs else dict(zip(names, args, strict=True))
    student = pruned.module
    with progress.stage("recovering by distillation", 0.45, 0.58, expect_s=30.0):
        record = recover(
            student,
            session.loaded.module,
            tensors,
            session.labels,
            steps,
            positional=not kwargs,
            budget_s=budget_s,
            should_stop=should_stop,
        )
    if pruned.run_module is not None:  # the users' module (ep.module()) gets the trained weights too
        pruned.run_module.load_state_dict(student.state_dict(), strict=False)
    before, after = record.quality_before, record.quality_after
    accuracy = (
        f"; held-out accuracy {before['accuracy']:.3f} -> {after['accuracy']:.3f}"
        if before.get("accuracy") is not None and after.get("accuracy") is not None
        else ""
    )
    notes = [
        *notes,
        f"recovered by distillation: {record.steps_done} steps{_budget_words(record)} on {record.samples} samples "
        f"({'labelled' if record.labelled else 'unlabelled'}), {record.held_out} held out{accuracy}; "
        f"held-out cosine {before['cosine']:.4f} -> {after['cosine']:.4f}. Fidelity is measured on the held-out "
        "samples only; a few steps on a small sample is not a full training run",
    ]
    rest = variant.with_(prune=0.0, layer_prune=(), recover_steps=None, recover_budget_s=None)
    if rest.precision != "fp32" or rest.device != "cpu" or rest.runtime not in (None, "torch"):
        view = copy.copy(session)
        view.loaded = dataclasses.replace(pruned, warnings=[])
        with progress.stage("converting the recovered model", 0.58, 0.6):
            target, more, _, _ = WhatIfSession.transform(view, rest)
        notes += more
    else:
        target = pruned
    return target, notes, report, density, record.to_dict()


def _unsupported(session: Any, variant: Any) -> str | None:
    if session.loaded.is_onnx or variant.runtime == "onnxruntime":
        return "recovery is offered for torch models run in torch; not for ONNX or onnxruntime variants"
    if variant.method != "structured":
        return "recovery follows structured pruning only (it would refill the zeros of unstructured pruning)"
    if session.loaded.on_meta:
        return "the model is on the meta device"
    return None


def _budget_words(record: Any) -> str:
    """' of 500 (the 30 s budget ran out)' when the budget ended training early, else ''."""
    if record.stopped_because != "budget":
        return ""
    return f" of {record.steps} (the {record.budget_s:g} s budget ran out)"
