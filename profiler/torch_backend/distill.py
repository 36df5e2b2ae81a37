"""Recovery after structured pruning by knowledge distillation (Hinton, Vinyals & Dean, 2015).

The pruned model (the student) is trained a few steps to reproduce the baseline's (the
teacher's) outputs on the session's sample inputs — the user's `--inputs`, unlabelled allowed,
or a demo's bundled samples. Never on random inputs: without samples there is no recovery, and
the variant says so.

Choices:
- loss: for class-like outputs (last axis > 1) KL(softmax(teacher/T) ‖ softmax(student/T)) · T²
  with T = 4; when labels `y` are given and match the outputs, plus cross-entropy on them:
  `(1 - LABEL_WEIGHT) · KD + LABEL_WEIGHT · CE` with LABEL_WEIGHT = 0.3. Other outputs: mean
  squared error against the teacher's.
- optimiser: Adam, lr 1e-3, minibatches of up to 64 samples drawn (seeded) from the training
  part, for `steps` steps or until `budget_s` runs out; float32, in the worker, where the model
  is (the CPU; a GPU only when the baseline was moved there to be measured on it).
- BatchNorm and dropout train as in training mode (the pruned layers' statistics change), and
  the model is put back in eval mode after.
- honesty: the samples are split once, seeded — a fixed 2/3 trains, the other 1/3 is held out.
  `quality_before`/`quality_after` are measured on the held-out part only, and the variant's
  fidelity is measured on that part too (profiler/whatif.py), so what recovery learnt from its
  training samples does not flatter it.

Limits: a few hundred steps on a few hundred samples is not a training run. It shows how much
of the pruning loss comes back cheaply on data like the samples, not the accuracy a full
fine-tune on the real training set would reach; with few held-out samples the figures are noisy.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import progress
from ..analyze import Cancelled

TEMPERATURE = 4.0
LABEL_WEIGHT = 0.3
LEARNING_RATE = 1e-3
MINIBATCH = 64
TRAIN_FRACTION = 2 / 3
SPLIT_SEED = 0
MIN_SAMPLES = 3  # at least 2 to train on and 1 held out


@dataclass(frozen=True)
class RecoverRecord:
    """What recovery did: the `recover` record of a VariantResult (docs/CONTRACT.md)."""

    steps: int  # steps asked for
    steps_done: int
    seconds: float
    loss_first: float | None
    loss_last: float | None
    samples: int  # training samples (the held-out ones are `held_out`)
    held_out: int
    labelled: bool
    quality_before: dict[str, float | None]  # {cosine, accuracy} on the held-out samples
    quality_after: dict[str, float | None]
    skipped: str | None = None  # why no training happened (then steps_done is 0)
    #: the time budget asked for (seconds; None: none)
    budget_s: float | None = None
    #: why training ended: "steps" (all asked ran) or "budget" (the time budget ran out first);
    #: None when it did not run (skipped)
    stopped_because: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "steps": self.steps,
            "steps_done": self.steps_done,
            "seconds": self.seconds,
            "loss_first": self.loss_first,
            "loss_last": self.loss_last,
            "samples": self.samples,
            "held_out": self.held_out,
            "labelled": self.labelled,
            "quality_before": dict(self.quality_before),
            "quality_after": dict(self.quality_after),
            "skipped": self.skipped,
            "budget_s": self.budget_s,
            "stopped_because": self.stopped_because,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RecoverRecord:
        return cls(
            steps=int(d.get("steps", 0)),
            steps_done=int(d.get("steps_done", 0)),
            seconds=float(d.get("seconds", 0.0)),
            loss_first=d.get("loss_first"),
            loss_last=d.get("loss_last"),
            samples=int(d.get("samples", 0)),
            held_out=int(d.get("held_out", 0)),
            labelled=bool(d.get("labelled", False)),
            quality_before=dict(d.get("quality_before") or {}),
            quality_after=dict(d.get("quality_after") or {}),
            skipped=d.get("skipped"),
            budget_s=None if d.get("budget_s") is None else float(d["budget_s"]),
            stopped_because=d.get("stopped_because"),
        )


def split_indices(n: int, seed: int = SPLIT_SEED) -> tuple[Any, Any]:
    """(train, held_out) sample indices: a seeded permutation, its first 2/3 to train on."""
    import numpy as np

    order = np.random.default_rng(seed).permutation(n)
    cut = min(n - 1, max(1, int(round(n * TRAIN_FRACTION))))
    return np.sort(order[:cut]), np.sort(order[cut:])


def skipped(steps: int, why: str, budget_s: float | None = None) -> RecoverRecord:
    return RecoverRecord(steps, 0, 0.0, None, None, 0, 0, False, {}, {}, skipped=why, budget_s=budget_s)


def first_tensor(out: Any) -> Any:
    """The first output tensor (logits for HF models), keeping the graph."""
    if hasattr(out, "logits"):
        out = out.logits
    if isinstance(out, dict):
        out = next(iter(out.values()))
    while isinstance(out, (tuple, list)):
        out = out[0]
    return out


def sample_tensors(samples: dict[str, Any], names: list[str]) -> tuple[dict[str, Any], int] | str:
    """The samples of every model input as float/int tensors sharing one leading N, or why not."""
    import torch

    missing = [n for n in names if n not in samples]
    if missing:
        return f"recovery needs samples for every model input (missing: {', '.join(missing)})"
    tensors = {n: torch.from_numpy(samples[n]) for n in names}
    sizes = {int(t.shape[0]) if t.ndim else 0 for t in tensors.values()}
    if len(sizes) != 1:
        return "recovery needs the sample inputs to share their first (batch) axis"
    n = sizes.pop()
    if n < MIN_SAMPLES:
        return f"recovery needs at least {MIN_SAMPLES} samples ({n} given): some train, some are held out"
    return {k: v.float() if v.is_floating_point() else v for k, v in tensors.items()}, n


def recover(
    student: Any,
    teacher: Any,
    inputs: dict[str, Any],
    labels: Any,
    steps: int,
    *,
    positional: bool = True,
    budget_s: float | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    clock: Callable[[], float] = time.perf_counter,
) -> RecoverRecord:
    """Train `student` (in place) towards `teacher`'s outputs on the training part of `inputs`
    ({name: tensor [N, …]}, in the model's input order; passed by position when `positional`)
    and `labels` ([N, …] or None); quality before and after on the held-out part.

    Raises analyze.Cancelled when `should_stop()` turns true (checked every step), and reports
    progress (a cancel check point too) through profiler.progress."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    n = int(next(iter(inputs.values())).shape[0])
    train_idx, held_idx = split_indices(n)
    tr, ho = torch.from_numpy(train_idx), torch.from_numpy(held_idx)
    # where the models are (the CPU, unless the baseline was moved to a GPU to be measured there)
    device = next((p.device for p in student.parameters()), torch.device("cpu"))
    inputs = {k: v.to(device) for k, v in inputs.items()}

    def call(model: Any, idx: Any) -> Any:
        picked = {k: v[idx] for k, v in inputs.items()}
        out = model(*picked.values()) if positional else model(**picked)
        return first_tensor(out).float()

    teacher.eval()
    with torch.no_grad():
        t_train, t_held = call(teacher, tr), call(teacher, ho)
    classes = t_train.ndim >= 2 and t_train.shape[-1] > 1
    y = None
    if labels is not None and classes:
        arr = np.asarray(labels)
        if arr.shape[:1] == (n,) and arr.size == n * int(np.prod(t_train.shape[1:-1], dtype=np.int64)):
            y = torch.from_numpy(arr.astype(np.int64)).reshape(n, *t_train.shape[1:-1]).to(device)
    y_train = None if y is None else y[tr]

    def quality() -> dict[str, float | None]:
        student.eval()
        with torch.no_grad():
            s = call(student, ho).double()
        t = t_held.double()
        a, b = t.flatten(), s.flatten()
        denom = float(a.norm() * b.norm())
        cosine = float(a @ b) / denom if denom > 0 else (1.0 if float(a.norm()) == float(b.norm()) else 0.0)
        cosine = cosine if math.isfinite(cosine) else -1.0
        accuracy = None
        if y is not None:
            accuracy = float((s.argmax(-1) == y[ho]).double().mean())
        return {"cosine": round(cosine, 6), "accuracy": None if accuracy is None else round(accuracy, 6)}

    before = quality()
    params = [p for p in student.parameters() if p.is_floating_point()]
    for p in params:  # a model loaded for inference may have gradients switched off
        p.requires_grad_(True)
    optimiser = torch.optim.Adam(params, lr=LEARNING_RATE)
    gen = torch.Generator().manual_seed(SPLIT_SEED)
    batch = min(MINIBATCH, len(train_idx))
    start = clock()
    loss_first = loss_last = None
    done = 0
    stopped_because = "steps"
    student.train()
    try:
        for step in range(steps):
            if should_stop():
                raise Cancelled()
            if budget_s is not None and clock() - start >= budget_s:
                stopped_because = "budget"
                break
            pick = torch.randperm(len(train_idx), generator=gen)[:batch]
            s = call(student, tr[pick])
            t = t_train[pick]
            if classes:
                loss = F.kl_div(
                    F.log_softmax(s / TEMPERATURE, -1).flatten(0, -2),
                    F.log_softmax(t / TEMPERATURE, -1).flatten(0, -2),
                    reduction="batchmean",
                    log_target=True,
                ) * (TEMPERATURE**2)
                if y_train is not None:
                    ce = F.cross_entropy(s.flatten(0, -2), y_train[pick].flatten())
                    loss = (1 - LABEL_WEIGHT) * loss + LABEL_WEIGHT * ce
            else:
                loss = F.mse_loss(s, t)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            value = float(loss.detach())
            loss_first = value if loss_first is None else loss_first
            loss_last = value
            done = step + 1
            if done % 10 == 0 or done == steps:
                # with a budget, the bar moves with whichever end comes first
                fraction = done / steps
                if budget_s is not None and budget_s > 0:
                    fraction = max(fraction, min(1.0, (clock() - start) / budget_s))
                budget = "" if budget_s is None else f" (budget {budget_s:g} s)"
                progress.report(fraction, f"recovering: step {done}/{steps}{budget}, loss {value:.4g}")
    finally:
        student.eval()
        for p in student.parameters():
            p.grad = None
    seconds = clock() - start
    after = quality()
    return RecoverRecord(
        steps=steps,
        steps_done=done,
        seconds=round(seconds, 3),
        loss_first=None if loss_first is None else round(loss_first, 6),
        loss_last=None if loss_last is None else round(loss_last, 6),
        samples=len(train_idx),
        held_out=len(held_idx),
        labelled=y is not None,
        quality_before=before,
        quality_after=after,
        budget_s=budget_s,
        stopped_because=stopped_because,
    )
