"""Per-layer static analysis of an `nn.Module`: params, weight bytes, MACs, FLOPs, activations.

One forward pass (on real or meta tensors) runs under FlopCounterMode, with a recording
dispatch mode beneath it that attributes every aten op FlopCounterMode lets through to the
innermost module running at the time. Rows are leaf modules plus, for a parent module whose
own `forward` does work outside its children (a residual add, an attention matmul), a row for
that own work under the parent's path — so the layers always sum to the totals.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ..result import LayerRow

ROOT_NAME = "(root)"


@dataclass
class _ModuleStats:
    calls: int = 0
    flops: int = 0
    created_bytes: int = 0  # bytes of tensors the module's own ops allocated
    output_bytes: int = 0
    input_shapes: tuple[tuple[int, ...], ...] = ()
    output_shapes: tuple[tuple[int, ...], ...] = ()
    unsupported: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    own_ops: int = 0
    first_seen: int = 1 << 62


@dataclass(frozen=True)
class TorchAnalysis:
    """What one analysed forward pass yields, before any timing."""

    layers: tuple[LayerRow, ...]
    params: int
    weight_bytes: int
    unsupported_ops: dict[str, int]
    activation_peak_bytes: int
    flop_counter_total: int  # FlopCounterMode's own total, kept as a cross-check of the rows


def _tensors(obj: Any) -> list[Any]:
    import torch

    found: list[Any] = []

    def walk(o: Any) -> None:
        if isinstance(o, torch.Tensor):
            found.append(o)
        elif isinstance(o, (list, tuple)):
            for x in o:
                walk(x)
        elif isinstance(o, dict):
            for x in o.values():
                walk(x)
        elif hasattr(o, "to_tuple") and callable(o.to_tuple):  # transformers ModelOutput
            walk(o.to_tuple())

    walk(obj)
    return found


def _nbytes(t: Any) -> int:
    return int(t.numel()) * int(t.element_size())


def _shape(t: Any) -> tuple[int, ...]:
    return tuple(int(s) for s in t.shape)


def op_name(func: Any) -> str:
    """`aten::addmm` style name of an op overload."""
    packet = getattr(func, "overloadpacket", func)
    ns = getattr(func, "namespace", "aten")
    return f"{ns}::{getattr(packet, '__name__', str(func)).split('.')[-1]}"


def analyze_module(
    model: Any, inputs: tuple[Any, ...], kwargs: dict[str, Any] | None = None, *, hooks: bool = True
) -> TorchAnalysis:
    """Run one forward of `model` on `inputs` and count it per layer.

    Works on the meta device. Runs under `no_grad` (not `inference_mode`, under which
    FlopCounterMode counts nothing, pytorch#126268) with the fused transformer fast path off
    (it dispatches to ops with no formula). Hooks are removed and the train/eval mode restored
    in `finally`. With `hooks=False` (TorchScript, whose compiled code bypasses module hooks)
    each counted op call becomes its own row, and uncounted ops join the row before them.
    """
    import torch
    from torch.multiprocessing.reductions import StorageWeakRef
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils.flop_counter import FlopCounterMode

    from .flops import extra_formulas, zero_cost

    kwargs = kwargs or {}
    names: dict[int, str] = {}
    for name, mod in model.named_modules(remove_duplicate=True):
        names.setdefault(id(mod), name or ROOT_NAME)
    stats: dict[str, _ModuleStats] = defaultdict(_ModuleStats)
    stack: list[str] = []
    order = [0]

    # Weights and inputs are not activations: their storages are excluded from the peak.
    skip_storages: set[Any] = set()
    for t in list(model.parameters()) + list(model.buffers()) + _tensors((inputs, kwargs)):
        skip_storages.add(StorageWeakRef(t.untyped_storage()))
    live: dict[Any, int] = {}
    peak = [0, 0]  # current, peak

    def pre_hook(mod: Any, args: Any) -> None:
        name = names.get(id(mod))
        if name is None:
            return
        stack.append(name)
        st = stats[name]
        st.calls += 1
        if st.first_seen == 1 << 62:
            st.first_seen = order[0]
            order[0] += 1
            st.input_shapes = tuple(_shape(t) for t in _tensors(args))

    def post_hook(mod: Any, args: Any, output: Any) -> None:
        name = names.get(id(mod))
        if name is None:
            return
        if stack and stack[-1] == name:
            stack.pop()
        st = stats[name]
        outs = _tensors(output)
        st.output_bytes += sum(_nbytes(t) for t in outs)
        if not st.output_shapes:
            st.output_shapes = tuple(_shape(t) for t in outs)

    op_rows: list[str] = []
    # Data flow: which owner (module path or op row) last wrote each storage, and whose outputs
    # each owner read. Keyed by storage so that views and in-place ops follow the data.
    made_by: dict[Any, str] = {}
    reads: dict[str, dict[str, None]] = defaultdict(dict)
    counter = FlopCounterMode(display=False, custom_mapping=extra_formulas())
    registry = counter.flop_registry

    class _Recorder(TorchDispatchMode):
        def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kw: Any = None) -> Any:
            kw = kw or {}
            out = func(*args, **kw)
            packet = func.overloadpacket
            flops = int(registry[packet](*args, **kw, out_val=out)) if packet in registry else 0
            unsupported = packet not in registry and not zero_cost(func)
            if hooks:
                owner = stack[-1] if stack else ROOT_NAME
            else:
                if flops or unsupported or not op_rows:
                    op_rows.append(f"{op_name(func)} #{len(op_rows) + 1}")
                    stats[op_rows[-1]].first_seen = len(op_rows)
                    stats[op_rows[-1]].calls = 1
                    stats[op_rows[-1]].input_shapes = tuple(_shape(t) for t in _tensors((args, kw)))
                    stats[op_rows[-1]].output_shapes = tuple(_shape(t) for t in _tensors(out))
                owner = op_rows[-1]
            _follow_data(owner, _tensors((args, kw)), _tensors(out), made_by, reads)
            st = stats[owner]
            st.own_ops += 1
            st.flops += flops
            if unsupported:
                st.unsupported[op_name(func)] += 1
            # Track live intermediate storages to find the activation peak.
            created = 0
            for t in _tensors(out):
                ref = StorageWeakRef(t.untyped_storage())
                if ref in skip_storages or ref in live:
                    continue
                size = int(t.untyped_storage().nbytes())
                live[ref] = size
                created += size
            if created:
                st.created_bytes += created
                peak[0] += created
                for ref in [r for r in live if r.expired()]:
                    peak[0] -= live.pop(ref)
                peak[1] = max(peak[1], peak[0])
            return out

    was_training = model.training
    handles = []
    fastpath = torch.backends.mha.get_fastpath_enabled()
    try:
        model.eval()
        torch.backends.mha.set_fastpath_enabled(False)
        for mod in model.modules() if hooks else ():
            handles.append(mod.register_forward_pre_hook(pre_hook))
            handles.append(mod.register_forward_hook(post_hook, always_call=True))
        with torch.no_grad(), _Recorder(), counter:
            model(*inputs, **kwargs)
    finally:
        for h in handles:
            h.remove()
        torch.backends.mha.set_fastpath_enabled(fastpath)
        model.train(was_training)

    rows = _build_rows(model, names, stats) if hooks else _op_rows(op_rows, stats, model)
    rows = _with_inputs_from(rows, reads)
    params, weight_bytes = _unique_weights(model)
    unsupported: dict[str, int] = defaultdict(int)
    for st in stats.values():
        for op, n in st.unsupported.items():
            unsupported[op] += n
    return TorchAnalysis(
        layers=rows,
        params=params,
        weight_bytes=weight_bytes,
        unsupported_ops=dict(unsupported),
        activation_peak_bytes=peak[1],
        flop_counter_total=int(counter.get_total_flops()),
    )


def _follow_data(
    owner: str, inputs: list[Any], outputs: list[Any], made_by: dict[Any, str], reads: dict[str, dict[str, None]]
) -> None:
    """Record that `owner` read what other owners wrote, and now wrote its outputs' storages.

    Graph inputs and weights were written by no op, so they name no producer."""
    from torch.multiprocessing.reductions import StorageWeakRef

    def ref(t: Any) -> Any:
        try:
            return StorageWeakRef(t.untyped_storage())
        except (RuntimeError, NotImplementedError):  # sparse and other storage-less tensors
            return None

    for t in inputs:
        producer = made_by.get(ref(t))
        if producer is not None and producer != owner:
            reads[owner][producer] = None
    for t in outputs:
        key = ref(t)
        if key is not None:
            made_by[key] = owner


def _with_inputs_from(rows: tuple[LayerRow, ...], reads: dict[str, dict[str, None]]) -> tuple[LayerRow, ...]:
    """Each row with the rows it reads from. An owner without a row (a container whose own ops
    only reshape or add in place) is looked through to what it read, so edges join real rows."""
    import dataclasses

    known = {r.name for r in rows}

    def resolve(name: str, seen: set[str]) -> list[str]:
        if name in known:
            return [name]
        if name in seen:
            return []
        seen.add(name)
        return [p for q in reads.get(name, {}) for p in resolve(q, seen)]

    out = []
    for r in rows:
        found = dict.fromkeys(p for q in reads.get(r.name, {}) for p in resolve(q, {r.name}) if p != r.name)
        out.append(dataclasses.replace(r, inputs_from=tuple(found)) if found else r)
    return tuple(out)


def _packed_weights(mod: Any) -> list[Any]:
    """Weights of quantized modules, which keep them packed instead of as parameters."""
    if not hasattr(mod, "_packed_params") or not callable(getattr(mod, "weight", None)):
        return []
    try:
        w = mod.weight()
        b = mod.bias() if callable(getattr(mod, "bias", None)) else None
    except Exception:  # a packed format that cannot unpack here: counted as no weights
        return []
    return [t for t in (w, b) if t is not None]


def _unique_weights(model: Any) -> tuple[int, int]:
    """Params and weight bytes with tied/shared tensors counted once."""
    seen: set[int] = set()
    params = 0
    nbytes = 0
    for m in model.modules():
        for t in _packed_weights(m):
            params += int(t.numel())
            nbytes += _nbytes(t)
    for p in model.parameters():
        if id(p) in seen:
            continue
        seen.add(id(p))
        params += int(p.numel())
        nbytes += _nbytes(p)
    for b in model.buffers():
        if id(b) in seen:
            continue
        seen.add(id(b))
        nbytes += _nbytes(b)
    return params, nbytes


def _build_rows(model: Any, names: dict[int, str], stats: dict[str, _ModuleStats]) -> tuple[LayerRow, ...]:
    rows: list[tuple[int, LayerRow]] = []
    never = 1 << 62
    for mod in model.modules():
        name = names.get(id(mod))
        if name is None:
            continue
        names.pop(id(mod))  # a module reachable twice gets one row
        # Quantized Linear keeps its weights in a child module; it is still one layer.
        is_leaf = next(iter(mod.children()), None) is None or hasattr(mod, "_packed_params")
        direct_params = list(mod.parameters(recurse=False)) + _packed_weights(mod)
        direct_buffers = list(mod.buffers(recurse=False))
        n_params = sum(int(p.numel()) for p in direct_params)
        w_bytes = sum(_nbytes(t) for t in direct_params + direct_buffers)
        st = stats.get(name, _ModuleStats())
        if not is_leaf and st.flops == 0 and not st.unsupported and n_params == 0 and st.created_bytes == 0:
            continue  # a pure container: its children carry all the work
        if is_leaf and st.calls == 0 and n_params == 0:
            continue
        unsupported = tuple(sorted(st.unsupported))
        # Leaves fold under their parent; a parent's own work folds under the parent itself.
        if name == ROOT_NAME:
            scope = ""
        elif is_leaf:
            scope = name.rsplit(".", 1)[0] if "." in name else ""
        else:
            scope = name
        row = LayerRow(
            name=name,
            type=type(mod).__name__ if is_leaf else f"{type(mod).__name__} (own ops)",
            params=n_params,
            macs=st.flops // 2,
            flops=(st.flops // 2) * 2,
            weight_bytes=w_bytes,
            activation_bytes=st.output_bytes if is_leaf else st.created_bytes,
            latency_ms=None,
            counted=not unsupported,
            scope=scope,
            input_shapes=st.input_shapes,
            output_shapes=st.output_shapes,
            unsupported_ops=unsupported,
        )
        rows.append((st.first_seen if st.calls else never, row))
    rows.sort(key=lambda r: r[0])
    return tuple(r for _, r in rows)


def _op_rows(op_rows: list[str], stats: dict[str, _ModuleStats], model: Any) -> tuple[LayerRow, ...]:
    """Rows of op calls, for models whose module boundaries hooks cannot see.

    Weights cannot be attributed to op calls, so they sit in one `(weights)` row.
    """
    rows = []
    for name in op_rows:
        st = stats[name]
        unsupported = tuple(sorted(st.unsupported))
        rows.append(
            LayerRow(
                name=name,
                type=name.split(" #")[0],
                params=0,
                macs=st.flops // 2,
                flops=(st.flops // 2) * 2,
                weight_bytes=0,
                activation_bytes=st.created_bytes,
                latency_ms=None,
                counted=not unsupported,
                scope="",
                input_shapes=st.input_shapes,
                output_shapes=st.output_shapes,
                unsupported_ops=unsupported,
            )
        )
    params, weight_bytes = _unique_weights(model)
    rows.append(
        LayerRow(
            name="(weights)",
            type="parameters",
            params=params,
            macs=0,
            flops=0,
            weight_bytes=weight_bytes,
            activation_bytes=0,
            latency_ms=None,
            counted=True,
        )
    )
    return tuple(rows)


def count_elements(shape: tuple[int, ...]) -> int:
    return math.prod(shape)
