"""Output fidelity of a variant against the baseline on the same inputs.

Computed in float64 with numpy on the first output tensor (logits for HF models): cosine
similarity, max absolute and relative error, top-1 agreement when the last axis looks like
classes, and accuracy of both when labels are given.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

#: relative error is |a-b| / max(|a|, FLOOR·max|a|): a floor keeps near-zero outputs from
#: turning tiny absolute differences into huge ratios.
REL_FLOOR = 1e-3


@dataclass(frozen=True)
class Fidelity:
    cosine: float
    max_abs_error: float
    max_rel_error: float
    top1_agreement: float | None
    accuracy: float | None  # the variant's, with labels
    baseline_accuracy: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Fidelity:
        keys = ("cosine", "max_abs_error", "max_rel_error", "top1_agreement", "accuracy", "baseline_accuracy")
        values: dict[str, Any] = {k: d.get(k) for k in keys}
        return cls(**values)


def to_numpy(out: Any) -> Any:
    """The first output tensor as a float64 numpy array."""
    import numpy as np

    try:
        import torch

        if hasattr(out, "logits"):
            out = out.logits
        if isinstance(out, dict):
            out = next(iter(out.values()))
        while isinstance(out, (tuple, list)):
            out = out[0]
        if isinstance(out, torch.Tensor):
            return out.detach().float().cpu().numpy().astype(np.float64)
    except ImportError:
        pass
    if isinstance(out, (tuple, list)):
        out = out[0]
    return np.asarray(out, dtype=np.float64)


def compare(baseline: Any, variant: Any, labels: Any = None) -> Fidelity:
    """Fidelity of `variant` outputs against `baseline` outputs (arrays of the same shape)."""
    import numpy as np

    a = np.asarray(baseline, dtype=np.float64)
    b = np.asarray(variant, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"output shapes differ: baseline {a.shape}, variant {b.shape}")
    fa, fb = a.ravel(), b.ravel()
    finite = bool(np.isfinite(fb).all())
    na, nb = float(np.linalg.norm(fa)), float(np.linalg.norm(fb))
    if not finite:
        cosine = float("nan")
    elif np.array_equal(fa, fb):
        cosine = 1.0  # exact: dot/(|a||b|) rounds to 1 ± 2e-16
    elif na == 0 and nb == 0:
        cosine = 1.0
    elif na == 0 or nb == 0:
        cosine = 0.0
    else:
        cosine = min(1.0, max(-1.0, float(np.dot(fa, fb) / (na * nb))))
    diff = np.abs(fa - fb)
    max_abs = float(diff.max()) if diff.size else 0.0
    scale = np.maximum(np.abs(fa), REL_FLOOR * (float(np.abs(fa).max()) if fa.size else 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(scale > 0, diff / scale, 0.0)
    max_rel = float(rel.max()) if rel.size else 0.0
    top1 = None
    acc = base_acc = None
    if a.ndim >= 2 and a.shape[-1] > 1:
        pa, pb = a.argmax(-1), b.argmax(-1)
        top1 = float((pa == pb).mean())
        if labels is not None:
            y = np.asarray(labels).reshape(pa.shape) if np.asarray(labels).size == pa.size else None
            if y is not None:
                acc = float((pb == y).mean())
                base_acc = float((pa == y).mean())
    return Fidelity(
        cosine=_clean(cosine),
        max_abs_error=_clean(max_abs),
        max_rel_error=_clean(max_rel),
        top1_agreement=top1,
        accuracy=acc,
        baseline_accuracy=base_acc,
    )


def _clean(x: float) -> float:
    """JSON has no NaN/Infinity: a non-finite figure (a variant that overflowed) becomes -1/inf sentinel."""
    if math.isnan(x):
        return -1.0
    return x if math.isfinite(x) else 1e308
