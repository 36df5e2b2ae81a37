"""Pruning that really changes the model.

Structured: channels removed through Torch-Pruning's dependency graph (its `pruning_ratio` is a
channel ratio, so parameters fall by about 1-(1-p)^2). Output layers (classifier heads, LM heads
tied to an embedding) are kept. Attention projections are kept too: Torch-Pruning can only cut
heads consistently when told each module's head count, and a forward that reshapes by a fixed
head size would break. When the first attempt breaks the forward, a narrower attempt prunes
only the inner widths (MLP hidden layers, conv channels not on the residual stream).

Unstructured: global L1 magnitude pruning (torch.nn.utils.prune) of Linear/Conv weights, made
permanent. Dense kernels still multiply the zeros: latency does not change, only sparsity.

Both report their stages through `profiler.progress` (the "pruning" part of the transform
window): building the dependency graph can take minutes on a large model, so it has a
heartbeat, and ranking and removing channels report per group (check points for a cancel).
"""

from __future__ import annotations

import copy
import itertools
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from .. import progress
from ..errors import InputError

_ATTENTION_NAME = re.compile(r"(attn|attention|q_proj|k_proj|v_proj|o_proj|qkv|query|key|value|out_proj|in_proj)", re.I)


@dataclass(frozen=True)
class PruneReport:
    """What pruning asked for and what it obtained."""

    method: str
    ratio_asked: float
    params_before: int
    params_after: int
    nonzero_after: int
    layers_pruned: int
    kept_layers: tuple[str, ...]
    strategy: str  # "dependency-graph", "inner-widths", "global-magnitude"

    @property
    def param_ratio(self) -> float:
        """Parameters kept ÷ before (structured); the density of weights (unstructured)."""
        return self.params_after / self.params_before if self.params_before else 1.0

    @property
    def sparsity(self) -> float:
        return 1.0 - self.nonzero_after / self.params_after if self.params_after else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "ratio_asked": self.ratio_asked,
            "params_before": self.params_before,
            "params_after": self.params_after,
            "param_ratio": round(self.param_ratio, 6),
            "sparsity": round(self.sparsity, 6),
            "layers_pruned": self.layers_pruned,
            "kept_layers": list(self.kept_layers),
            "strategy": self.strategy,
        }


def _unique_params(model: Any) -> int:
    return sum(p.numel() for p in model.parameters())


def _nonzero(model: Any) -> int:
    return sum(int((p != 0).sum()) for p in model.parameters())


def output_layers(model: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Any]:
    """Layers whose output is the model's output, and heads tied to an embedding: never pruned."""
    import torch

    kept: list[Any] = []
    embedding_weights = {id(m.weight) for m in model.modules() if isinstance(m, torch.nn.Embedding)}
    for m in model.modules():
        if isinstance(m, torch.nn.Linear) and id(m.weight) in embedding_weights:
            kept.append(m)
    # The last Linear/Conv that runs produces (or feeds straight into) the output.
    last: list[Any] = []
    handles = [
        m.register_forward_hook(lambda mod, a, o: last.append(mod))
        for m in model.modules()
        if isinstance(m, (torch.nn.Linear, torch.nn.modules.conv._ConvNd))
    ]
    try:
        with torch.no_grad():
            model(*args, **kwargs)
    finally:
        for h in handles:
            h.remove()
    if last and last[-1] not in kept:
        kept.append(last[-1])
    return kept


def _first_tensor(out: Any) -> Any:
    import torch

    if isinstance(out, torch.Tensor):
        return out
    if hasattr(out, "logits"):
        return out.logits
    if isinstance(out, dict):
        return next(iter(out.values()))
    if isinstance(out, (tuple, list)):
        return _first_tensor(out[0])
    return out


def prune_structured(
    model: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    ratio: float,
    *,
    layer_ratios: dict[str, float] | None = None,
    round_to: int | None = None,
    source: str = "model",
    memo: dict[str, Any] | None = None,
) -> tuple[Any, PruneReport]:
    """A pruned copy of `model`; the original is untouched. Raises InputError when the
    architecture cannot be pruned this way (the message names the reason).

    `memo` (a dict the caller keeps per model and input shape) remembers the output shape and
    the output layers between calls, saving two forwards per knob change."""
    memo = {} if memo is None else memo
    with progress.stage("pruning", *progress.TRANSFORM_WINDOWS["pruning"], nested=True):
        return _prune_structured(model, args, kwargs, ratio, layer_ratios, round_to, source, memo)


def _prune_structured(
    model: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    ratio: float,
    layer_ratios: dict[str, float] | None,
    round_to: int | None,
    source: str,
    memo: dict[str, Any],
) -> tuple[Any, PruneReport]:
    import torch

    if "reference_shape" not in memo:
        with progress.stage("pruning: finding the output layers", 0.0, 0.05), torch.no_grad():
            memo["reference_shape"] = tuple(_first_tensor(model(*args, **kwargs)).shape)
            outputs = output_layers(model, args, kwargs)  # once: a forward each time it is called
            memo["kept_names"] = {n for n, m in model.named_modules() if any(m is o for o in outputs)}
    errors: list[str] = []
    for strategy, name, lo, hi in _STRATEGIES:
        with progress.stage(name, lo, hi):
            outcome = _attempt(model, args, kwargs, ratio, layer_ratios, round_to, source, memo, strategy)
        if isinstance(outcome, str):
            errors.append(f"{strategy}: {outcome}")
            continue
        return outcome
    raise InputError(source, "structured pruning is not possible for this architecture (" + "; ".join(errors) + ")")


# (strategy, progress stage, its window in "pruning"): the first usually works, so it gets most
_STRATEGIES = (
    ("dependency-graph", "pruning: the whole dependency graph", 0.05, 0.85),
    ("inner-widths", "pruning: retrying with inner widths only", 0.85, 1.0),
)


def _attempt(
    model: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    ratio: float,
    layer_ratios: dict[str, float] | None,
    round_to: int | None,
    source: str,
    memo: dict[str, Any],
    strategy: str,
) -> tuple[Any, PruneReport] | str:
    """One pruning strategy on a copy of `model`: the pruned copy and its report, or why not."""
    import torch
    import torch_pruning as tp

    with progress.stage("pruning: copying the model", 0.0, 0.05):
        candidate = copy.deepcopy(model)
    named = dict(candidate.named_modules())
    kept = [named[n] for n in memo["kept_names"] if n in named]
    ignored = list(kept)
    for name, mod in named.items():
        if isinstance(mod, (torch.nn.Linear, torch.nn.MultiheadAttention)) and _ATTENTION_NAME.search(name):
            ignored.append(mod)
        if isinstance(mod, torch.nn.MultiheadAttention):
            ignored.append(mod)
    if strategy == "inner-widths":
        ignored += _residual_writers(candidate)
    ratio_dict = {}
    for name, r in (layer_ratios or {}).items():
        if name not in named:
            raise InputError(source, f"no layer named {name!r} to prune")
        ratio_dict[named[name]] = r
    reference_shape = memo["reference_shape"]
    try:
        # one opaque call that traces the model: minutes on a large one; the heartbeat moves it
        with progress.stage("pruning: building the dependency graph", 0.05, 0.5, expect_s=_graph_seconds(named)):
            pruner = tp.pruner.MetaPruner(
                candidate,
                example_inputs=(args, kwargs) if kwargs else args,
                importance=_reporting_importance(),
                pruning_ratio=ratio,
                pruning_ratio_dict=ratio_dict or None,
                ignored_layers=ignored,
                round_to=round_to,
                # The graph is traced from the first output tensor (HF models return ModelOutput,
                # with past_key_values the tracer cannot follow).
                forward_fn=(lambda m, ex: _first_tensor(m(*ex[0], **ex[1])))
                if kwargs
                else (lambda m, ex: _first_tensor(m(*ex))),
            )
        _step(pruner)
        with progress.stage("pruning: checking the pruned model", 0.95, 1.0), torch.no_grad():
            shape = tuple(_first_tensor(candidate(*args, **kwargs)).shape)
        if shape != reference_shape:
            raise RuntimeError(f"output shape changed from {reference_shape} to {shape}")
    except Exception as exc:  # the dependency graph met something it cannot handle
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}"
    before = _unique_params(model)
    after = _unique_params(candidate)
    original = dict(model.named_modules())
    changed = sum(
        1
        for name, mod in candidate.named_modules()
        if hasattr(mod, "weight")
        and isinstance(getattr(mod, "weight", None), torch.Tensor)
        and name in original
        and tuple(mod.weight.shape) != tuple(original[name].weight.shape)
    )
    if after == before and (ratio > 0 or layer_ratios):
        return "nothing could be removed"
    report = PruneReport(
        method="structured",
        ratio_asked=ratio,
        params_before=before,
        params_after=after,
        nonzero_after=_nonzero(candidate),
        layers_pruned=changed,
        kept_layers=tuple(n for n, m in candidate.named_modules() if m in kept),
        strategy=strategy,
    )
    candidate.eval()
    return candidate, report


def _graph_seconds(named: dict[str, Any]) -> float:
    """About how long Torch-Pruning's graph build takes (the heartbeat's pace): ~5 ms a module,
    measured on resnet18 and GPT-2-sized models; at least 2 s."""
    return max(2.0, 0.005 * len(named))


def _step(pruner: Any) -> None:
    """Torch-Pruning's `step()`, one group at a time: ranking (the importance of every group,
    computed before the first group comes out) and removing channels report per group."""
    groups = sum(
        1
        for _ in pruner.DG.get_all_groups(
            ignored_layers=pruner.ignored_layers, root_module_types=pruner.root_module_types
        )
    )
    importance = pruner.importance
    with progress.stage("pruning: ranking channels", 0.5, 0.75, expect_s=2.0):
        importance.expected = groups
        steps = pruner.step(interactive=True)
        first = next(steps, None)
    with progress.stage("pruning: removing channels", 0.75, 0.95, expect_s=2.0):
        done = 0
        for group in itertools.chain([] if first is None else [first], steps):
            group.prune()
            done += 1
            progress.report(min(1.0, done / max(1, groups)), f"group {done}/{groups}")


def _reporting_importance() -> Any:
    """Torch-Pruning's group L2 magnitude importance, reporting each group it ranks (`expected`
    is set to the number of groups once the graph is built)."""
    import torch_pruning as tp

    class ReportingImportance(tp.importance.GroupMagnitudeImportance):  # type: ignore[misc]
        expected = 0
        ranked = 0

        def __call__(self, group: Any, **kw: Any) -> Any:
            self.ranked += 1
            progress.report(min(1.0, self.ranked / max(1, self.expected)), f"group {self.ranked}/{self.expected}")
            return super().__call__(group, **kw)

    return ReportingImportance(p=2)


def _residual_writers(model: Any) -> list[Any]:
    """Linear layers writing the most common width: in a transformer, the residual stream."""
    import torch

    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    if not linears:
        return []
    width, _ = Counter(m.in_features for m in linears).most_common(1)[0]
    return [m for m in linears if m.out_features == width]


def prune_unstructured(model: Any, ratio: float, *, keep: list[Any] | None = None) -> tuple[Any, PruneReport]:
    """A copy of `model` with the smallest-magnitude `ratio` of Linear/Conv weights set to zero
    (global L1 ranking), made permanent. Output layers in `keep` (by name) are left dense."""
    from torch.nn.utils import prune

    with progress.stage("pruning", *progress.TRANSFORM_WINDOWS["pruning"], nested=True):
        with progress.stage("pruning: copying the model", 0.0, 0.1):
            candidate = copy.deepcopy(model)
        kept_names = {n for n, m in model.named_modules() if keep and m in keep}
        targets = [(m, "weight") for n, m in candidate.named_modules() if _is_weight_layer(m) and n not in kept_names]
        before = _unique_params(candidate)
        if targets and ratio > 0:
            with progress.stage("pruning: ranking weights by magnitude", 0.1, 1.0):
                prune.global_unstructured(targets, pruning_method=prune.L1Unstructured, amount=ratio)
                for i, (m, name) in enumerate(targets):
                    prune.remove(m, name)
                    progress.report(0.9 + 0.1 * (i + 1) / len(targets))
    report = PruneReport(
        method="unstructured",
        ratio_asked=ratio,
        params_before=before,
        params_after=before,
        nonzero_after=_nonzero(candidate),
        layers_pruned=len(targets),
        kept_layers=tuple(sorted(kept_names)),
        strategy="global-magnitude",
    )
    return candidate, report


def _is_weight_layer(m: Any) -> bool:
    """Linear, convolutions, and Hugging Face's Conv1D (GPT-2's transposed Linear)."""
    import torch

    if isinstance(m, (torch.nn.Linear, torch.nn.modules.conv._ConvNd)):
        return True
    return type(m).__name__ == "Conv1D" and isinstance(getattr(m, "weight", None), torch.nn.Parameter)


def layer_density(model: Any) -> dict[str, float]:
    """Share of non-zero weights per Linear/Conv module path: effective MACs = MACs × density."""

    out: dict[str, float] = {}
    for name, m in model.named_modules():
        if _is_weight_layer(m):
            w = m.weight
            out[name] = float((w != 0).sum()) / w.numel() if w.numel() else 1.0
    return out
