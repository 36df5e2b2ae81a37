"""Input shapes: what a model file declares, what the user overrides, and the concrete result.

A template dimension is an int, a symbolic name (`"batch"`, `"sequence_length"`) or None. The
leading dimension is the batch; `--seq-len` fills the sequence dimension of token inputs;
`--input-shape` replaces whole shapes. A dimension left without a value is an error that names
it, so the user knows exactly what to pass.

Limits (each refusal is a one-line InputError, exit 2):

- one dimension: 1 … 2^31 (`parse_shape`);
- one input: at most MAX_INPUT_ELEMENTS (2^31) elements, and all inputs together no more
  bytes than the memory free now (`check_input_sizes`, run by `resolve_inputs`); the message
  names the input and the option that set the offending size (--batch, --seq-len,
  --input-shape, or the model file's own declaration);
- sample inputs (`--inputs FILE.npz`, `check_inputs_file` / `load_sample_arrays`): every
  member must be a plain .npy array (no pickled objects); the bytes its headers declare are
  checked against MAX_SAMPLE_BYTES (2 GiB) and the free memory before any array is read.
"""

from __future__ import annotations

import math
import os
import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .errors import InputError
from .result import InputSpec

_DIM_SEP = re.compile(r"[x×,]")

#: most elements one model input may have (a larger one is a typo, or a model file's mistake).
MAX_INPUT_ELEMENTS = 1 << 31
#: most bytes the arrays of a `--inputs` .npz may take once loaded, all members together.
MAX_SAMPLE_BYTES = 2 * 1024**3
#: most members a `--inputs` .npz may have.
MAX_SAMPLE_MEMBERS = 1024
_MAX_DIM = 1 << 31


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
            raise InputError(source, f"bad shape {text[:80]!r}: {p[:20]!r} is not a positive integer")
        if len(p.lstrip("0")) > 10:  # int() of thousands of digits is slow, then refused anyway
            raise InputError(source, f"bad shape {text[:80]!r}: {p[:20]}… is out of range (1 … 2^31)")
        v = int(p)
        if v <= 0 or v > _MAX_DIM:
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
        raise InputError(
            file,
            "the file does not say what inputs the model takes: pass --input-shape (e.g. 1x3x224x224)",
            details={"missing_dim": {"input": None, "dim": None, "symbol": None, "declared": []}},
        )
    known = {t.name for t in templates}
    for name in shapes:
        if name is not None and name not in known:
            raise InputError(
                "--input-shape", f"no input named {name!r}; the model's inputs are {', '.join(sorted(known))}"
            )
    if seq_len is not None and not any(_seq_index(t, list(t.dims)) is not None for t in templates):
        raise InputError(
            "--seq-len",
            "the model has no sequence dimension (inputs: "
            + ", ".join(f"{t.name} {'x'.join(str(d) for d in t.dims)}" for t in templates)
            + ")",
        )
    specs: list[InputSpec] = []
    all_origins: dict[str, tuple[str | None, ...]] = {}
    for i, t in enumerate(templates):
        dims: list[int | str | None] = list(t.dims)
        origins: list[str | None] = [None] * len(dims)  # who set each size: an option, or None = the model file
        override = shapes.get(t.name, shapes.get(None) if i == 0 else None)
        if override is not None:
            if dims and len(override) != len(dims):
                raise InputError(
                    "--input-shape",
                    f"input {t.name!r} has {len(dims)} dimensions, the shape given has {len(override)}",
                )
            dims = list(override)
            origins = [f"--input-shape {t.name}=…"] * len(dims)
        if batch is not None and dims:
            dims[0] = batch
            origins[0] = "--batch"
        if seq_len is not None:
            seq_index = _seq_index(t, dims)
            if seq_index is not None and seq_index < len(dims):
                dims[seq_index] = seq_len
                origins[seq_index] = "--seq-len"
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
                details={
                    "missing_dim": {
                        "input": t.name,
                        "dim": k,
                        "symbol": d if isinstance(d, str) else None,
                        "declared": [x if isinstance(x, int) else None for x in dims],
                        "dtype": t.dtype,
                        "symbols": [x if isinstance(x, str) else None for x in dims],
                    }
                },
            )
        spec = InputSpec(name=t.name, shape=tuple(resolved), dtype=t.dtype)
        all_origins[t.name] = tuple(origins)
        check_input_sizes((spec,), file=file, origins=all_origins, memory=False)
        specs.append(spec)
    check_input_sizes(tuple(specs), file=file, origins=all_origins)
    return tuple(specs)


_ITEMSIZE = {
    "bool": 1,
    "uint8": 1,
    "int8": 1,
    "float16": 2,
    "bfloat16": 2,
    "int16": 2,
    "float32": 4,
    "int32": 4,
    "float64": 8,
    "int64": 8,
    "complex64": 8,
    "complex128": 16,
}


def dtype_bytes(dtype: str) -> int:
    """Bytes per element of a dtype name (`float32` -> 4); 4 when unknown."""
    name = dtype.removeprefix("torch.")
    if name in _ITEMSIZE:
        return _ITEMSIZE[name]
    m = re.search(r"(\d+)$", name)
    return max(1, int(m.group(1)) // 8) if m else 4


def _human_bytes(n: float) -> str:
    for factor, unit in ((2**50, "PiB"), (2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if n >= factor:
            return f"{n / factor:.3g} {unit}"
    return f"{int(n)} B"


def _free_memory() -> int | None:
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except Exception:  # no psutil, or /proc unreadable: the element cap still applies
        return None


def check_input_sizes(
    specs: tuple[InputSpec, ...],
    *,
    file: str,
    origins: dict[str, tuple[str | None, ...]] | None = None,
    memory: bool = True,
) -> None:
    """Refuse absurd inputs before anything is allocated: an input over MAX_INPUT_ELEMENTS
    elements, or (with `memory`) inputs whose bytes together exceed the memory free now.

    `origins` maps an input name to, per dimension, the option that set it ("--batch",
    "--seq-len", "--input-shape NAME=…") or None when the model file declared it; the error
    names the option behind the largest dimension (else it names `file`). The what-if engine
    calls this again after it substitutes an image size."""
    origins = origins or {}
    total = 0
    for spec in specs:
        numel = math.prod(spec.shape)
        size = numel * dtype_bytes(spec.dtype)
        total += size
        if numel > MAX_INPUT_ELEMENTS:
            where, option = _culprit(spec, origins.get(spec.name), file)
            raise InputError(
                where,
                f"input {spec.name!r} would be {'x'.join(map(str, spec.shape))} {spec.dtype} "
                f"({numel:.3g} elements, {_human_bytes(size)}), over the limit of 2^31 elements per input: {option}",
            )
    if not memory:
        return
    free = _free_memory()
    if free is not None and total > free:
        biggest = max(specs, key=lambda s: math.prod(s.shape) * dtype_bytes(s.dtype))
        where, option = _culprit(biggest, origins.get(biggest.name), file)
        raise InputError(
            where,
            f"the inputs would take {_human_bytes(total)} ({biggest.name!r} is "
            f"{'x'.join(map(str, biggest.shape))} {biggest.dtype}), more than the {_human_bytes(free)} of memory free: {option}",
        )


def _culprit(spec: InputSpec, origins: tuple[str | None, ...] | None, file: str) -> tuple[str, str]:
    """(what the error is about, what to change) for an input that is too large."""
    if not spec.shape:
        return file, f"pass --input-shape {spec.name}=…"
    k = max(range(len(spec.shape)), key=lambda i: spec.shape[i])
    option = origins[k] if origins and k < len(origins) else None
    if option == "--batch":
        return "--batch", "lower --batch"
    if option == "--seq-len":
        return "--seq-len", "lower --seq-len"
    if option is not None:
        return "--input-shape", f"pass a smaller --input-shape {spec.name}=…"
    return file, f"the model declares dimension {k} as {spec.shape[k]}: pass a smaller --input-shape {spec.name}=…"


# --------------------------------------------------------------------------- sample inputs (.npz)


def check_inputs_file(path: str | os.PathLike[str], *, max_bytes: int = MAX_SAMPLE_BYTES) -> None:
    """Check a `--inputs` file without loading an array: it exists, is a readable regular
    file, is an .npz (a zip of .npy arrays) whose members hold no pickled objects, and whose
    arrays, as their headers declare them, fit in `max_bytes` and in the free memory.
    Raises InputError(path, one line)."""
    with _open_inputs(path) as f:
        _check_npz(f, str(path), max_bytes)


def npz_array_names(path: str | os.PathLike[str]) -> list[str]:
    """The array names of a checked `--inputs` .npz (its members without ".npy"), none read."""
    with _open_inputs(path) as f:
        _check_npz(f, str(path), MAX_SAMPLE_BYTES)
        f.seek(0)
        with zipfile.ZipFile(f) as zf:
            return [n.removesuffix(".npy") for n in zf.namelist()]


def load_sample_arrays(path: str | os.PathLike[str], *, max_bytes: int = MAX_SAMPLE_BYTES) -> dict[str, Any]:
    """The arrays of a `--inputs` .npz by name, after `check_inputs_file`'s checks (made on the
    same open file, so it cannot change in between); never unpickles."""
    import numpy as np

    name = str(path)
    with _open_inputs(path) as f:
        _check_npz(f, name, max_bytes)
        f.seek(0)
        try:
            with np.load(f, allow_pickle=False) as data:
                return {k: data[k] for k in data.files}
        except MemoryError:
            raise InputError(name, "not enough memory to load the arrays") from None
        except Exception as exc:  # a corrupt member found while reading: still one line
            text = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            raise InputError(name, f"not a readable .npz of arrays: {text}") from None


def _open_inputs(path: str | os.PathLike[str]) -> IO[bytes]:
    name = str(path)
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise InputError(name, "no such file") from None
    except OSError as exc:
        raise InputError(name, f"cannot read: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(name, "is a folder: --inputs needs an .npz file (numpy.savez)")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(name, "is not a regular file: --inputs needs an .npz file (numpy.savez)")
    if st.st_size == 0:
        raise InputError(name, "is empty: --inputs needs an .npz file (numpy.savez)")
    try:
        return open(p, "rb")
    except OSError as exc:
        raise InputError(name, f"cannot read: {exc.strerror or exc}") from None


def _check_npz(f: IO[bytes], name: str, max_bytes: int) -> None:
    head = f.read(6)
    f.seek(0)
    if not zipfile.is_zipfile(f):
        if head == b"\x93NUMPY":
            raise InputError(
                name, "is a single .npy array: --inputs needs an .npz named after the model inputs (numpy.savez)"
            )
        raise InputError(name, "is not an .npz (a zip of .npy arrays, as numpy.savez writes)")
    f.seek(0)
    total = 0
    try:
        with zipfile.ZipFile(f) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_SAMPLE_MEMBERS:
                raise InputError(name, f"has {len(infos)} members, more than the {MAX_SAMPLE_MEMBERS} --inputs accepts")
            for info in infos:
                total += _member_bytes(zf, info, name, max_bytes)
                if total > max_bytes:
                    raise InputError(
                        name,
                        f"its arrays would take {_human_bytes(total)}+ once loaded, more than "
                        f"the {_human_bytes(max_bytes)} --inputs accepts",
                    )
    except InputError:
        raise
    except Exception as exc:  # BadZipFile, zlib.error, unsupported compression, EOFError …
        text = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise InputError(name, f"not a readable .npz of arrays: {text}") from None
    free = _free_memory()
    if free is not None and total > free:
        raise InputError(
            name,
            f"its arrays would take {_human_bytes(total)} once loaded, more than the "
            f"{_human_bytes(free)} of memory free",
        )


def _member_bytes(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, max_bytes: int) -> int:
    """Bytes the .npy member `info` declares (shape × itemsize), read from its header only."""
    import numpy as np
    from numpy.lib import format as npy

    member = info.filename
    if not member.endswith(".npy"):
        raise InputError(name, f"member {member[:80]!r} is not an .npy array (--inputs holds arrays only)")
    if info.file_size > max_bytes + 65536:
        raise InputError(
            name,
            f"member {member[:80]!r} is {_human_bytes(info.file_size)} uncompressed, more than "
            f"the {_human_bytes(max_bytes)} --inputs accepts",
        )
    with zf.open(info) as m:
        try:
            version = npy.read_magic(m)
            if version == (1, 0):
                shape, _fortran, dtype = npy.read_array_header_1_0(m)
            elif version == (2, 0):
                shape, _fortran, dtype = npy.read_array_header_2_0(m)
            else:
                from numpy.lib import _format_impl  # version 3.0 (utf-8 field names): no public reader

                shape, _fortran, dtype = getattr(_format_impl, "_read_array_header")(m, version)  # noqa: B009
        except (ValueError, TypeError, SyntaxError, EOFError, AttributeError) as exc:
            text = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
            raise InputError(name, f"member {member[:80]!r} is not a valid .npy array: {text}") from None
        header_len = m.tell()
    dtype = np.dtype(dtype)
    if dtype.hasobject:
        raise InputError(
            name, f"member {member[:80]!r} holds Python objects (a pickle): --inputs takes numeric arrays only"
        )
    if any(int(d) < 0 for d in shape):
        raise InputError(name, f"member {member[:80]!r} declares a negative dimension {tuple(shape)}")
    nbytes = math.prod(int(d) for d in shape) * dtype.itemsize
    if nbytes > info.file_size - header_len:
        raise InputError(
            name,
            f"member {member[:80]!r} declares {_human_bytes(nbytes)} of data but holds "
            f"{_human_bytes(max(0, info.file_size - header_len))}: the file is truncated or corrupt",
        )
    return nbytes
