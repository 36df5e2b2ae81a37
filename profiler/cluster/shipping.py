"""Shipping a MODEL and its `--inputs` to cluster nodes by content, not by path.

A node cannot read the client's files, and a path would name different bytes on every node.
`pack_source` reads the file (or the small files of a Hugging Face folder) into a `Shipment`
named by its SHA-256; Ray's object store carries the bytes; `unpack` on the node writes them
once into a cache folder named by that hash, checks the hash, and returns the path to load.
A `demo:NAME` ships nothing. Unpacking refuses absolute names, `..`, links and anything but
plain files, so a shipment cannot write outside its own folder.
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError

#: The most one shipment may hold: Ray's object store keeps it in memory on every node.
MAX_SHIPMENT_BYTES = 2 * 2**30
#: A Hugging Face folder ships its config and code, not its weights: the studio builds the
#: architecture from the config with random weights (weights would be gigabytes for nothing).
_HF_SKIPPED_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".h5", ".msgpack", ".onnx", ".gguf")
_HF_MAX_FILE_BYTES = 16 * 2**20


@dataclass(frozen=True)
class Shipment:
    """Bytes that stand for a local file or folder on a node: `sha256` of `data`, the file's
    own name (the loader reads suffixes), and whether `data` is a tar of a folder."""

    sha256: str
    name: str
    is_folder: bool
    data: bytes


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_file(path: Path, what: str) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_SHIPMENT_BYTES:
            raise InputError(str(path), f"{what} is {size / 2**30:.1f} GiB; a cluster run ships at most 2 GiB")
        return path.read_bytes()
    except OSError as exc:
        raise InputError(str(path), f"cannot read it to ship to the cluster: {exc.strerror or exc}") from None


def _tar_folder(folder: Path) -> bytes:
    """The folder's small plain files (config, code, tokenizer files), in a stable order with
    stable metadata, so the same folder always has the same hash."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(folder.rglob("*")):
            if path.is_symlink() or not path.is_file():
                continue
            if path.suffix.lower() in _HF_SKIPPED_SUFFIXES or path.stat().st_size > _HF_MAX_FILE_BYTES:
                continue
            data = path.read_bytes()
            info = tarfile.TarInfo(path.relative_to(folder).as_posix())
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def pack_path(path: Path, what: str = "the model") -> Shipment:
    """A file, or a folder's small files as a tar."""
    if path.is_dir():
        data = _tar_folder(path)
        return Shipment(_digest(data), path.name or "model", True, data)
    data = _read_file(path, what)
    return Shipment(_digest(data), path.name, False, data)


def split_source(source: str) -> tuple[str, str]:
    """('path', ':callable') for `file.py:callable`; ('path', '') otherwise."""
    from ..loading import _split_callable

    path_text, callable_name = _split_callable(source)
    return path_text, (f":{callable_name}" if callable_name else "")


def pack_source(source: str) -> tuple[Shipment | None, str]:
    """(what to ship, the suffix to put back after the node's path): nothing for a demo.

    A `config.json` ships its folder (the architecture's code may sit beside it)."""
    if source.startswith("demo:"):
        return None, ""
    from ..loading import check_source

    kind, path, _ = check_source(source)  # a one-line InputError for a missing or unsupported file
    _, suffix = split_source(source)
    if kind == "hf" and path.is_file():
        folder = pack_path(path.parent)
        return folder, f"/{path.name}"
    return pack_path(path), suffix


def cache_root() -> Path:
    """Where a node keeps shipments: one folder per hash, reused by every task on the node."""
    return Path(os.environ.get("TRADEOFF_CLUSTER_CACHE") or Path(tempfile.gettempdir()) / "tradeoff-cluster")


def unpack(shipment: Shipment, root: Path | None = None) -> Path:
    """The shipment as a path on this node (written once per hash; the hash is checked first)."""
    if _digest(shipment.data) != shipment.sha256:
        raise InputError(shipment.name, "the shipped bytes do not match their SHA-256 (corrupted in transit)")
    if not shipment.name or "/" in shipment.name or shipment.name in (".", ".."):
        raise InputError(shipment.name, "a shipped file name must be a plain file name")
    folder = (root or cache_root()) / shipment.sha256
    target = folder / shipment.name
    if target.exists():
        return target
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{shipment.sha256[:12]}-", dir=folder.parent))
    if shipment.is_folder:
        (staging / shipment.name).mkdir()
        with tarfile.open(fileobj=io.BytesIO(shipment.data), mode="r:") as tar:
            # the "data" filter refuses absolute names, "..", links out of the folder and devices
            tar.extractall(staging / shipment.name, filter="data")
    else:
        (staging / shipment.name).write_bytes(shipment.data)
    try:
        staging.rename(folder)  # atomic: another task on the node may unpack the same hash at once
    except OSError:
        import shutil

        shutil.rmtree(staging, ignore_errors=True)
        if not target.exists():
            raise
    return target
