"""Input shapes: what a model file declares, what the user overrides, and the concrete result.

A template dimension is an int, a symbolic name (`"batch"`, `"sequence_length"`) or None. The
leading dimension is the batch; `--seq-len` fills the sequence dimension of token inputs;
`--input-shape` replaces whole shapes. A dimension left without a value is an error that names
it, so the user knows exactly what to pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import InputError
from .result import InputSpec

_DIM_SEP = re.compile(r"[x×,]")


@dataclass(frozen=True)
class InputTemplate:
    """One declared model input. `seq_dim` is the index of its sequence dimension, if any."""

    name: str
    dims: tuple[int | str | None, ...]
    dtype: str
    seq_dim: int | None = None
    vocab_size: int | None = None

    @property
    def is_tokens(self) -> bool:
        return self.dtype.startswith("int")


def parse_shape(text: str, *, source: str = "--input-shape") -> tuple[int, ...]:
    """Parse `1x3x224x224` (also `1,3,224,224`) into positive ints."""
    parts = [p.strip() for p in _DIM_SEP.split(text.strip())]
    if not parts or any(not p for p in parts):
        raise InputError(source, f"bad shape {text!r}: expected sizes like 1x3x224x224")
    dims: list[int] = []
    for p in parts:
        if not (p.isascii() and p.isdigit()):  # '²'.isdigit() is True, int('²') is not
            raise InputError(source, f"bad shape {text!r}: {p!r} is not a positive integer")
        v = int(p)
        if v <= 0 or v > 1 << 31:
            raise InputError(source, f"bad shape {text!r}: {v} is out of range (1 … 2^31)")
        dims.append(v)
    return tuple(dims)


def parse_shape_options(values: list[str] | None) -> dict[str | None, tuple[int, ...]]:
    """`--input-shape` values: `SHAPE` (key None: the first input) or `NAME=SHAPE`."""
    out: dict[str | None, tuple[int, ...]] = {}
    for value in values or []:
        name, sep, shape = value.partition("=")
        if sep:
            if not name.strip():
                raise InputError("--input-shape", f"bad value {value!r}: name before '=' is empty")
            out[name.strip()] = parse_shape(shape)
        else:
            out[None] = parse_shape(value)
    return out


def _looks_like_seq(name: str) -> bool:
    n = name.lower()
    return any(k in n for k in ("seq", "len", "token", "time", "position"))


def _seq_index(t: InputTemplate, dims: list[int | str | None]) -> int | None:
    """Which dimension of `t` is its sequence length, if it has one."""
    if t.seq_dim is not None:
        return t.seq_dim
    if t.is_tokens and len(dims) >= 2:
        return 1
    return next((k for k, d in enumerate(dims) if isinstance(d, str) and _looks_like_seq(d)), None)


def resolve_inputs(
    templates: tuple[InputTemplate, ...],
    *,
    file: str,
    shapes: dict[str | None, tuple[int, ...]] | None = None,
    batch: int | None = None,
    seq_len: int | None = None,
) -> tuple[InputSpec, ...]:
    """Concrete input specs from templates and overrides; raises InputError naming a missing dim."""
    shapes = dict(shapes or {})
    if not templates and shapes:
        # A format that declares nothing (TorchScript, pickle): the user's shapes define inputs.
        templates = tuple(
            InputTemplate(name=name or f"input{i}", dims=shape, dtype="float32")
            for i, (name, shape) in enumerate(shapes.items())
        )
        shapes = {t.name: t.dims for t in templates}  # type: ignore[misc]
    if not templates:
        raise InputError(file, "the file does not say what inputs the model takes: pass --input-shape (e.g. 1x3x224x224)",
                         details={"missing_dim": {"input": None, "dim": None, "symbol": None, "declared": []}})
    known = {t.name for t in templates}
    for name in shapes:
        if name is not None and name not in known:
            raise InputError("--input-shape", f"no input named {name!r}; the model's inputs are {', '.join(sorted(known))}")
    if seq_len is not None and not any(_seq_index(t, list(t.dims)) is not None for t in templates):
        raise InputError("--seq-len", "the model has no sequence dimension (inputs: "
                         + ", ".join(f"{t.name} {'x'.join(str(d) for d in t.dims)}" for t in templates) + ")")
    specs: list[InputSpec] = []
    for i, t in enumerate(templates):
        dims: list[int | str | None] = list(t.dims)
        override = shapes.get(t.name, shapes.get(None) if i == 0 else None)
        if override is not None:
            if dims and len(override) != len(dims):
                raise InputError(
                    "--input-shape",
                    f"input {t.name!r} has {len(dims)} dimensions, the shape given has {len(override)}",
                )
            dims = list(override)
        if batch is not None and dims:
            dims[0] = batch
        if seq_len is not None:
            seq_index = _seq_index(t, dims)
            if seq_index is not None and seq_index < len(dims):
                dims[seq_index] = seq_len
        resolved: list[int] = []
        for k, d in enumerate(dims):
            if isinstance(d, int) and d > 0:
                resolved.append(d)
                continue
            if k == 0 and batch is None and isinstance(d, str | None):
                resolved.append(1)  # an unset batch dimension defaults to 1, as the table says
                continue
            label = f" ({d!r})" if isinstance(d, str) else ""
            hint = "--seq-len N or " if isinstance(d, str) and _looks_like_seq(d) else ""
            raise InputError(
                file,
                f"input {t.name!r} dimension {k}{label} has no value: pass {hint}--input-shape {t.name}=…",
                details={"missing_dim": {"input": t.name, "dim": k, "symbol": d if isinstance(d, str) else None,
                                         "declared": [x if isinstance(x, int) else None for x in dims]}},
            )
        specs.append(InputSpec(name=t.name, shape=tuple(resolved), dtype=t.dtype))
    return tuple(specs)
