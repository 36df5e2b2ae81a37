"""Open every MODEL form of docs/CONTRACT.md into a `LoadedModel`, or fail with a one-line InputError.

Trust (SECURITY.md): only ONNX and plain Hugging Face configs are opened without it. A file that
runs code when loaded — a pickled module, a torch.export archive, a TorchScript archive, a
Hugging Face folder with its own code — is refused with `details={"needs_trust": True}` unless
the caller passes `trust=True`, which only the user's explicit choice may set (`--trust`, the
app's confirmation). A `.py` factory runs because the user named a Python file. Torch files are
first read with torch's weights-only unpickler, which refuses any global it does not know, so a
bare state_dict is recognised without trust.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import zipfile
from pathlib import Path
from typing import Any

from . import progress
from .errors import InputError, first_line
from .hf_config import load_hf_config
from .inputs import InputTemplate
from .loaded_model import LoadedModel, make_inputs
from .result import ModelInfo
from .vocab import ModelFormat

TORCH_SUFFIXES = (".pt", ".pth", ".ts", ".ckpt", ".bin")
SUPPORTED = ".onnx, .pt2, .pt/.pth/.ts (TorchScript or pickled module), .py[:callable], config.json or a folder holding one, demo:NAME"


# what each kind of MODEL is doing while it opens (progress stages inside "loading the model")
_LOADING_STAGES = {
    "hf": "loading: building the model from its config",
    "onnx": "loading: reading the ONNX graph",
    "pt2": "loading: reading the torch.export program",
    "torch": "loading: reading the torch file",
}


def load_model(source: str, *, trust: bool = False) -> LoadedModel:
    """Open `source` (a path, `file.py:callable`, or `demo:NAME`)."""
    if source.startswith("demo:"):
        with progress.stage("loading: building the built-in model", 0.1, 1.0, nested=True):
            return _load_demo(source)
    with progress.stage("loading: checking the file", 0.0, 0.1, nested=True):
        kind, path, callable_name = check_source(source)
    with progress.stage(_LOADING_STAGES.get(kind, "loading: running the model factory"), 0.1, 1.0, nested=True):
        return _open(kind, path, callable_name, source, trust)


def _open(kind: str, path: Path, callable_name: str | None, source: str, trust: bool) -> LoadedModel:
    if kind == "hf":
        return load_hf_config(path, source, trust=trust)
    if kind == "onnx":
        return load_onnx_file(path, source)
    if kind == "pt2":
        return _load_export(path, source, trust=trust)
    if kind == "torch":
        return _load_torch_file(path, source, trust=trust)
    return _load_factory(path, callable_name or "build_model", source)


def check_source(source: str) -> tuple[str, Path, str | None]:
    """What kind of MODEL `source` names — `onnx`, `pt2`, `torch`, `python` or `hf` — with the
    file to read and the factory's name; or a one-line InputError. Reads no more than the
    file system's metadata and runs nothing, so the CLI checks it before starting a worker."""
    path_text, callable_name = _split_callable(source)
    path = Path(path_text)
    try:
        if not path.exists():
            if path.is_symlink():
                raise InputError(source, "is a broken symbolic link")
            raise InputError(source, "no such file")
        if path.is_dir():
            config = path / "config.json"
            if config.is_file():
                return "hf", config, None
            raise InputError(source, "is a directory without a config.json; open a model file instead")
        size = path.stat().st_size
    except OSError as exc:  # symlink loops, permissions, names the OS rejects
        raise InputError(source, f"cannot be read: {exc.strerror or exc}") from None
    if size == 0:
        raise InputError(source, "the file is empty")
    suffix = path.suffix.lower()
    kinds = {".onnx": "onnx", ".pt2": "pt2", ".py": "python", ".json": "hf", **dict.fromkeys(TORCH_SUFFIXES, "torch")}
    if suffix not in kinds:
        raise InputError(source, f"unsupported file type {suffix or '(no extension)'!r}; supported: {SUPPORTED}")
    return kinds[suffix], path, callable_name


def _split_callable(source: str) -> tuple[str, str | None]:
    m = re.fullmatch(r"(.+\.py):([A-Za-z_][A-Za-z0-9_.]*)", source)
    if m:
        return m.group(1), m.group(2)
    return source, None


def _name_of(path: Path) -> str:
    return path.stem if path.name != "config.json" else path.parent.name or "model"


# --- demo -----------------------------------------------------------------------------------


def _load_demo(source: str) -> LoadedModel:
    from . import demos

    name = source.split(":", 1)[1]
    try:
        spec = demos.demo_spec(name)
    except KeyError:
        raise InputError(source, f"no built-in model {name!r}; choose one of {', '.join(demos.DEMO_NAMES)}") from None
    module = demos.build_demo(name)
    templates = tuple(
        InputTemplate(
            name=inp_name,
            dims=shape,
            dtype=dtype,
            seq_dim=spec.seq_dim[1] if spec.seq_dim and spec.seq_dim[0] == i else None,
            vocab_size=spec.vocab_size if dtype.startswith("int") else None,
        )
        for i, (inp_name, shape, dtype) in enumerate(spec.inputs)
    )
    return LoadedModel(
        info=ModelInfo(name=name, source=source, format=ModelFormat.DEMO), templates=templates, module=module
    )


# --- ONNX -----------------------------------------------------------------------------------


def load_onnx_file(path: Path, source: str) -> LoadedModel:
    from .onnx_backend.validation import read_onnx_inputs

    info = read_onnx_inputs(str(path))
    templates = tuple(
        InputTemplate(name=name, dims=tuple(dims), dtype=dtype, seq_dim=None) for name, dims, dtype in info.inputs
    )
    return LoadedModel(
        info=ModelInfo(name=_name_of(path), source=source, format=ModelFormat.ONNX),
        templates=templates,
        onnx_path=str(path),
        structured_prunable=False,
    )


# --- torch.export ---------------------------------------------------------------------------


def _needs_trust(source: str, what: str) -> InputError:
    """The refusal for a file that would run code when loaded; the app asks the user instead."""
    return InputError(
        source,
        f"{what}: opening it runs code from the file with your permissions; "
        "pass --trust only if you trust where it came from",
        details={"needs_trust": True},
    )


def _load_export(path: Path, source: str, *, trust: bool = False) -> LoadedModel:
    """A torch.export archive. Loading one is running code: torch.export.load hands the
    archive's symbolic-shape expressions to sympy (which evaluates them), unpickles some
    members, and dlopens AOTInductor libraries it carries. No validation short of
    re-implementing the loader could be shown complete, so an archive opens only with trust."""
    if not zipfile.is_zipfile(path):
        raise InputError(source, "not a torch.export archive (.pt2 files are zip archives)")
    check_zip(path, source)
    if not trust:
        raise _needs_trust(
            source, "is a torch.export archive, which can carry code (shape expressions, pickles, native libraries)"
        )
    import torch

    try:
        with _quiet_logs("torch.export", "torch._export", "torch._export.serde.serialize"):
            ep = torch.export.load(str(path))
    except Exception as exc:  # corrupt archives raise many types; all mean the same to a user
        raise InputError(source, f"not a loadable torch.export archive: {first_line(exc)}") from None
    templates: list[InputTemplate] = []
    user_inputs = set(ep.graph_signature.user_inputs)
    for node in ep.graph.nodes:
        if node.op != "placeholder" or node.name not in user_inputs:
            continue
        val = node.meta.get("val")
        if val is None or not hasattr(val, "shape"):
            continue
        dims: list[int | str | None] = []
        for d in val.shape:
            dims.append(int(d) if isinstance(d, int) else str(d))
        dtype = str(val.dtype).replace("torch.", "")
        templates.append(InputTemplate(name=node.name, dims=tuple(dims), dtype=dtype))
    type_names: dict[str, str] = {}
    for node in ep.graph.nodes:
        for fqn, type_str in (node.meta.get("nn_module_stack") or {}).values():
            type_names.setdefault(fqn, str(type_str).rsplit(".", 1)[-1])
    module: Any
    run_module: Any = ep.module()  # what users run, and what end to end is timed on
    try:
        # Per-layer rows need module names: an unflattened copy keeps them (its forward is
        # slower than ep.module()'s, so it is used for counting and hooks, not end to end).
        module = torch.export.unflatten(ep)
    except Exception:  # unflatten is best effort; the flat module still runs and counts
        module, run_module = run_module, None
    return LoadedModel(
        info=ModelInfo(name=_name_of(path), source=source, format=ModelFormat.TORCH_EXPORT),
        templates=tuple(templates),
        module=module,
        type_names=type_names,
        structured_prunable=False,
        run_module=run_module,
    )


#: torch writes archive members uncompressed; a member that expands past this, or more than
#: COMPRESSION_RATIO_LIMIT times, is refused before anything reads it (a zip bomb).
COMPRESSED_MEMBER_LIMIT = 256 * 2**20
COMPRESSION_RATIO_LIMIT = 100


def check_zip(path: Path, source: str) -> None:
    """Refuse zips whose directory is unreadable, whose names are not text, or whose members
    declare sizes that cannot be true or would expand without bound."""
    try:
        archive_size = path.stat().st_size
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if info.compress_type == zipfile.ZIP_STORED:
                    if info.file_size > archive_size:
                        raise InputError(
                            source,
                            f"archive member {info.filename!r} declares {info.file_size:,} bytes, more than the whole file: the archive is corrupt",
                        )
                    continue
                ratio = info.file_size / max(1, info.compress_size)
                if info.file_size > COMPRESSED_MEMBER_LIMIT or ratio > COMPRESSION_RATIO_LIMIT:
                    raise InputError(
                        source,
                        f"archive member {info.filename!r} would expand to {info.file_size:,} bytes (x{ratio:.0f}): refused as a likely zip bomb",
                    )
    except (zipfile.BadZipFile, OSError, ValueError) as exc:  # ValueError: names that are not UTF-8
        raise InputError(source, f"not a readable zip archive: {first_line(exc)}") from None


# --- TorchScript and pickles ----------------------------------------------------------------


def _is_torchscript(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            return any("/code/" in n or n.endswith("constants.pkl") for n in zf.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def _load_torch_file(path: Path, source: str, *, trust: bool) -> LoadedModel:
    import pickle

    import torch

    name = _name_of(path)
    if zipfile.is_zipfile(path):
        check_zip(path, source)
    if _is_torchscript(path):
        if not trust:
            # TorchScript code can call ops that write files (torch.from_file(shared=True)) or
            # worse; no check of its code could be shown complete, so it opens only with trust.
            raise _needs_trust(source, "is a TorchScript archive, which carries compiled code")
        try:
            module = torch.jit.load(str(path), map_location="cpu")
        except Exception as exc:
            raise InputError(source, f"not a loadable TorchScript archive: {first_line(exc)}") from None
        return LoadedModel(
            info=ModelInfo(name=name, source=source, format=ModelFormat.TORCHSCRIPT),
            templates=(),
            module=module,
            hooks_supported=False,
            structured_prunable=False,
            warnings=[
                "TorchScript runs compiled code that module hooks cannot see: rows are aten op calls, not layers"
            ],
        )
    try:
        obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        # A well-formed pickle that the weights-only unpickler refused holds Python objects;
        # a stream that does not even parse (random bytes, truncation) is a corrupt file.
        if not _pickle_is_well_formed(path):
            raise InputError(
                source, "not a valid torch file (neither a TorchScript archive nor a readable pickle)"
            ) from None
        if not trust:
            raise _needs_trust(source, "holds a pickled Python object") from None
        obj = _load_trusted(path, source)
    except Exception as exc:
        raise InputError(source, f"not a valid torch file: {first_line(exc)}") from None
    if isinstance(obj, torch.nn.Module):
        obj.eval()
        return LoadedModel(
            info=ModelInfo(name=name, source=source, format=ModelFormat.PICKLE), templates=(), module=obj
        )
    if isinstance(obj, dict):
        raise InputError(
            source,
            "holds only weights (a state_dict), not a model: the architecture is needed — "
            "write a .py file whose build_model() builds the module and loads these weights, and open that",
        )
    raise InputError(source, f"holds a {type(obj).__name__}, not an nn.Module")


def _pickle_is_well_formed(path: Path) -> bool:
    """Parse the pickle stream(s) opcode by opcode, executing nothing (pickletools.genops)."""
    import pickletools

    def parses(data: bytes) -> bool:
        try:
            for _ in pickletools.genops(data):
                pass
            return True
        except Exception:  # ValueError, or anything genops raises on garbage
            return False

    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                names = [n for n in zf.namelist() if n.endswith("data.pkl")]
                if not names:
                    return False
                with zf.open(names[0]) as member:
                    return parses(member.read(64 * 2**20))  # capped: never expand a whole member
        with open(path, "rb") as f:
            return parses(f.read(64 * 2**20))
    except (OSError, zipfile.BadZipFile, ValueError):
        return False


def _load_trusted(path: Path, source: str) -> Any:
    import torch

    try:
        return torch.load(str(path), map_location="cpu", weights_only=False)
    except (AttributeError, ModuleNotFoundError) as exc:
        # A whole module pickled by reference to a class the loader cannot import: typically
        # `class Net` defined in the script that saved it (pickle stores "__main__.Net"; the
        # worker's __main__ is not that script). Say what to do instead of Python's wording.
        missing = _missing_class(exc)
        raise InputError(
            source,
            f"the pickle refers to code that is not here ({missing}): it was saved with torch.save(model) from a "
            "script that defines the model class. Open the model's code instead — a .py file with a function "
            "that builds it (file.py:build) — or export it to ONNX (torch.onnx.export) or torch.export (.pt2)",
        ) from None
    except Exception as exc:
        raise InputError(source, f"could not unpickle the model: {first_line(exc)}") from None


def _missing_class(exc: BaseException) -> str:
    """ "class Net of the saving script" from "Can't get attribute 'Net' on <module '__mp_main__' …>"."""
    text = str(exc)
    m = re.search(r"attribute '([^']+)' on <module '([^']+)'", text)
    if m:
        main = m.group(2).endswith("__main__") or m.group(2) == "__mp_main__"
        where = "the script that saved it" if main else f"module {m.group(2)}"
        return f"class {m.group(1)} of {where}"
    m = re.search(r"No module named '([^']+)'", text)
    return f"module {m.group(1)}" if m else first_line(exc)


# --- the user's Python factory --------------------------------------------------------------


def _load_factory(path: Path, callable_name: str, source: str) -> LoadedModel:
    import torch

    module_name = f"_tradeoff_user_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise InputError(source, "cannot be imported as Python")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = mod
    try:
        spec.loader.exec_module(mod)
    except SyntaxError as exc:
        raise InputError(source, f"syntax error on line {exc.lineno}: {exc.msg}") from None
    except Exception as exc:
        raise InputError(source, f"importing it raised {type(exc).__name__}: {first_line(exc)}") from None
    target: Any = mod
    for part in callable_name.split("."):
        target = getattr(target, part, None)
        if target is None:
            raise InputError(source, f"defines no {callable_name!r} (the default factory name is build_model)")
    if not callable(target):
        raise InputError(source, f"{callable_name!r} is not callable")
    try:
        built = target()
    except Exception as exc:
        raise InputError(source, f"{callable_name}() raised {type(exc).__name__}: {first_line(exc)}") from None
    example: tuple[Any, ...] | None = None
    if isinstance(built, tuple) and len(built) == 2:
        built, ex = built
        example = tuple(ex) if isinstance(ex, (tuple, list)) else (ex,)
    if not isinstance(built, torch.nn.Module):
        raise InputError(source, f"{callable_name}() returned {type(built).__name__}, not an nn.Module")
    built.eval()
    templates: tuple[InputTemplate, ...] = ()
    if example is not None:
        templates = tuple(
            InputTemplate(
                name=f"input{i}", dims=tuple(int(s) for s in t.shape), dtype=str(t.dtype).replace("torch.", "")
            )
            for i, t in enumerate(example)
            if isinstance(t, torch.Tensor)
        )
    return LoadedModel(
        info=ModelInfo(name=path.stem, source=source, format=ModelFormat.PYTHON),
        templates=templates,
        module=built,
        example_inputs=example,
    )


# --- inputs ---------------------------------------------------------------------------------


class _quiet_logs:
    """Silence libraries that log a traceback before raising what we turn into one line."""

    def __init__(self, *names: str) -> None:
        import logging

        self._loggers = [logging.getLogger(n) for n in names]
        self._levels = [lg.level for lg in self._loggers]

    def __enter__(self) -> None:
        import logging

        for lg in self._loggers:
            lg.setLevel(logging.CRITICAL + 1)

    def __exit__(self, *exc: object) -> None:
        for lg, level in zip(self._loggers, self._levels, strict=True):
            lg.setLevel(level)


def memory_available_bytes() -> int:
    import psutil

    return int(psutil.virtual_memory().available)


__all__ = ["LoadedModel", "load_model", "check_source", "make_inputs", "SUPPORTED", "os"]
