"""A what-if variant: the baseline model plus pruning, precision, batch, shape, runtime, device.

A plain, hashable, JSON-serialisable value. The identity variant (all defaults) is the baseline.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from .codec import Record
from .errors import InputError
from .vocab import Device, Precision, PruneMethod, Runtime, choices

PRECISIONS = tuple(p.value for p in Precision)
VARIANT_DOCUMENT = "variant"


@dataclass(frozen=True, init=False)
class Variant(Record):
    """Knobs applied to the baseline. `None` means "as the baseline has it".

    JSON through the record codec: `from_dict` raises SchemaError naming the path at fault."""

    __document__ = VARIANT_DOCUMENT

    prune: float = 0.0
    prune_method: PruneMethod | None = None  # None when nothing is pruned
    layer_prune: tuple[tuple[str, float], ...] = ()  # per-layer overrides (module path, ratio)
    precision: Precision = Precision.FP32
    batch: int | None = None
    seq_len: int | None = None
    image_size: int | None = None
    runtime: Runtime | None = None  # None: the model's own
    device: Device = Device.CPU
    round_to: int | None = None  # round pruned channel counts to a multiple (hardware-friendly)
    recover_steps: int | None = None  # knowledge-distillation steps after structured pruning (None: none)
    #: seconds allowed for those steps: distillation stops at recover_steps or this, whichever
    #: comes first (None: no budget; only with recover_steps)
    recover_budget_s: float | None = None

    def __init__(
        self,
        prune: float = 0.0,
        prune_method: PruneMethod | str | None = None,
        layer_prune: tuple[tuple[str, float], ...] = (),
        precision: Precision | str = Precision.FP32,
        batch: int | None = None,
        seq_len: int | None = None,
        image_size: int | None = None,
        runtime: Runtime | str | None = None,
        device: Device | str = Device.CPU,
        round_to: int | None = None,
        recover_steps: int | None = None,
        recover_budget_s: float | None = None,
    ) -> None:
        # The edges (CLI, app knobs, JSON) may pass plain strings: parsed here, once, into the
        # vocabularies (InputError naming the option when unknown).
        values = {
            "prune": prune, "prune_method": _parse(prune_method, PruneMethod, "--prune-method"),
            "layer_prune": layer_prune, "precision": _parse(precision, Precision, "--precision"),
            "batch": batch, "seq_len": seq_len, "image_size": image_size,
            "runtime": _parse(runtime, Runtime, "--runtime"), "device": _parse(device, Device, "--device"),
            "round_to": round_to, "recover_steps": recover_steps or None,
            "recover_budget_s": None if recover_budget_s is None else float(recover_budget_s),
        }  # fmt: skip
        for name, value in values.items():
            object.__setattr__(self, name, value)
        # Canonical form, so equal knobs give equal (and equally hashed) variants however they
        # were written: the method is named exactly when something is pruned.
        pruned = self.prune > 0 or any(r > 0 for _, r in self.layer_prune)
        object.__setattr__(self, "prune_method", (self.prune_method or PruneMethod.STRUCTURED) if pruned else None)
        if not pruned:  # nothing pruned, nothing to recover: the same variant as without it
            object.__setattr__(self, "recover_steps", None)
        if self.recover_steps is None:  # a budget alone trains nothing
            object.__setattr__(self, "recover_budget_s", None)
        if not 0.0 <= self.prune < 1.0:
            raise InputError("--prune", f"{self.prune} is outside 0 <= R < 1")
        for name, ratio in self.layer_prune:
            if not 0.0 <= ratio < 1.0:
                raise InputError("--prune", f"layer {name!r}: ratio {ratio} is outside 0 <= R < 1")
        if self.recover_steps is not None and self.recover_steps < 0:
            raise InputError("--recover-steps", f"{self.recover_steps} must not be negative")
        budget = self.recover_budget_s
        if budget is not None and not (math.isfinite(budget) and budget > 0):
            raise InputError("--recover-budget", f"{budget:g} must be a positive, finite number of seconds")
        for label, value in (("--batch", self.batch), ("--seq-len", self.seq_len), ("image size", self.image_size)):
            if value is not None and value <= 0:
                raise InputError(label, f"{value} must be positive")

    @property
    def pruned(self) -> bool:
        return self.prune > 0 or any(r > 0 for _, r in self.layer_prune)

    @property
    def method(self) -> PruneMethod:
        """The pruning method in force (structured unless said otherwise)."""
        return self.prune_method or PruneMethod.STRUCTURED

    def shape_key(self) -> tuple[int | None, int | None, int | None]:
        """Variants with the same key run on the same inputs, so fidelity compares like with like."""
        return (self.batch, self.seq_len, self.image_size)

    def baseline(self) -> Variant:
        """The baseline at this variant's shapes and device: what deltas and fidelity compare with."""
        return Variant(
            batch=self.batch,
            seq_len=self.seq_len,
            image_size=self.image_size,
            device=self.device,
            runtime=self.runtime if self.runtime == Runtime.TORCH else None,
        )

    def to_dict(self) -> dict[str, Any]:
        # recover_steps and recover_budget_s are written only when set: documents and cache keys
        # of variants without them stay as they were (reading a document without them gives None).
        d = super().to_dict()
        for name in ("recover_steps", "recover_budget_s"):
            if d.get(name) is None:
                d.pop(name, None)
        return d

    def key(self) -> str:
        """A stable text key (cache key in the worker runner)."""
        return json.dumps(self.to_dict(), sort_keys=True)

    def label(self) -> str:
        """Short human label: `prune 0.5 structured · int8 · batch 8`."""
        parts = []
        if self.pruned:
            parts.append(
                f"prune {self.prune:g} {self.method}"
                + (f" (+{len(self.layer_prune)} layer overrides)" if self.layer_prune else "")
            )
        parts.append(self.precision)
        if self.batch:
            parts.append(f"batch {self.batch}")
        if self.seq_len:
            parts.append(f"seq {self.seq_len}")
        if self.image_size:
            parts.append(f"image {self.image_size}")
        if self.runtime:
            parts.append(self.runtime)
        if self.device != Device.CPU:
            parts.append(self.device)
        if self.recover_steps:
            parts.append(f"recover {self.recover_steps} steps")
            if self.recover_budget_s is not None:
                parts[-1] += f" (budget {self.recover_budget_s:g} s)"
        return " · ".join(parts)

    def with_(self, **changes: Any) -> Variant:
        return replace(self, **changes)


def _parse(value: Any, kind: type[StrEnum], option: str) -> Any:
    if value is None or isinstance(value, kind):
        return value
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return kind(value)
    except ValueError:
        allowed = f"one of {choices(kind)}" if len(kind) > 2 else " or ".join(m.value for m in kind)
        raise InputError(option, f"{value!r} is not {allowed}") from None
