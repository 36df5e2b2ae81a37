"""A what-if variant: the baseline model plus pruning, precision, batch, shape, runtime, device.

A plain, hashable, JSON-serialisable value. The identity variant (all defaults) is the baseline.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from .errors import InputError
from .vocab import Precision, PruneMethod

PRECISIONS = tuple(p.value for p in Precision)


@dataclass(frozen=True)
class Variant:
    """Knobs applied to the baseline. `None` means "as the baseline has it"."""

    prune: float = 0.0
    prune_method: str | None = None  # structured | unstructured; None when prune == 0
    layer_prune: tuple[tuple[str, float], ...] = ()  # per-layer overrides (module path, ratio)
    precision: str = "fp32"
    batch: int | None = None
    seq_len: int | None = None
    image_size: int | None = None
    runtime: str | None = None  # torch | onnxruntime; None: the model's own
    device: str = "cpu"
    round_to: int | None = None  # round pruned channel counts to a multiple (hardware-friendly)

    def __post_init__(self) -> None:
        # Canonical form, so equal knobs give equal (and equally hashed) variants however they
        # were written: the method is named exactly when something is pruned.
        if self.prune_method is not None and self.prune_method not in {m.value for m in PruneMethod}:
            raise InputError("--prune-method", f"{self.prune_method!r} is not structured or unstructured")
        pruned = self.prune > 0 or any(r > 0 for _, r in self.layer_prune)
        object.__setattr__(self, "prune_method", (self.prune_method or "structured") if pruned else None)
        if not 0.0 <= self.prune < 1.0:
            raise InputError("--prune", f"{self.prune} is outside 0 <= R < 1")
        for name, ratio in self.layer_prune:
            if not 0.0 <= ratio < 1.0:
                raise InputError("--prune", f"layer {name!r}: ratio {ratio} is outside 0 <= R < 1")
        if self.prune_method is not None and self.prune_method not in {m.value for m in PruneMethod}:
            raise InputError("--prune-method", f"{self.prune_method!r} is not structured or unstructured")
        if self.precision not in PRECISIONS:
            raise InputError("--precision", f"{self.precision!r} is not one of {', '.join(PRECISIONS)}")
        for label, value in (("--batch", self.batch), ("--seq-len", self.seq_len), ("image size", self.image_size)):
            if value is not None and value <= 0:
                raise InputError(label, f"{value} must be positive")
        if self.device not in ("cpu", "cuda"):
            raise InputError("--device", f"{self.device!r} is not cpu or cuda")
        if self.runtime not in (None, "torch", "onnxruntime"):
            raise InputError("--runtime", f"{self.runtime!r} is not torch or onnxruntime")

    @property
    def pruned(self) -> bool:
        return self.prune > 0 or any(r > 0 for _, r in self.layer_prune)

    @property
    def method(self) -> str:
        """The pruning method in force (structured unless said otherwise)."""
        return self.prune_method or "structured"

    def shape_key(self) -> tuple[int | None, int | None, int | None]:
        """Variants with the same key run on the same inputs, so fidelity compares like with like."""
        return (self.batch, self.seq_len, self.image_size)

    def baseline(self) -> Variant:
        """The baseline at this variant's shapes and device: what deltas and fidelity compare with."""
        return Variant(batch=self.batch, seq_len=self.seq_len, image_size=self.image_size, device=self.device,
                       runtime=self.runtime if self.runtime == "torch" else None)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["layer_prune"] = [list(x) for x in self.layer_prune]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Variant:
        names = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        kw["layer_prune"] = tuple((str(n), float(r)) for n, r in d.get("layer_prune", ()))
        kw["prune"] = float(d.get("prune", 0.0))
        return cls(**kw)

    def key(self) -> str:
        """A stable text key (cache key in the worker runner)."""
        return json.dumps(self.to_dict(), sort_keys=True)

    def label(self) -> str:
        """Short human label: `prune 0.5 structured · int8 · batch 8`."""
        parts = []
        if self.pruned:
            parts.append(f"prune {self.prune:g} {self.method}" + (f" (+{len(self.layer_prune)} layer overrides)" if self.layer_prune else ""))
        parts.append(self.precision)
        if self.batch:
            parts.append(f"batch {self.batch}")
        if self.seq_len:
            parts.append(f"seq {self.seq_len}")
        if self.image_size:
            parts.append(f"image {self.image_size}")
        if self.runtime:
            parts.append(self.runtime)
        if self.device != "cpu":
            parts.append(self.device)
        return " · ".join(parts)

    def with_(self, **changes: Any) -> Variant:
        return replace(self, **changes)
