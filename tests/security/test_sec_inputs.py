"""Inputs: a small .npz that declares huge arrays, pickled objects or junk is refused from its
headers, before any array is read; a missing --inputs file is an error; absurd shapes, batches
and sequence lengths are one-line InputErrors naming the input and the option to change."""

from __future__ import annotations

import io
import os
import pickle
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.lib import format as npy

from profiler.errors import InputError
from profiler.inputs import (
    MAX_INPUT_ELEMENTS,
    InputTemplate,
    check_input_sizes,
    check_inputs_file,
    load_sample_arrays,
    parse_shape,
    resolve_inputs,
)
from profiler.result import InputSpec

ROOT = Path(__file__).resolve().parents[2]
MiB = 1024**2


def _one_line(exc: pytest.ExceptionInfo[InputError], *words: str) -> str:
    text = str(exc.value)
    assert "\n" not in text and exc.value.exit_code == 2
    for w in words:
        assert w in text, (w, text)
    return text


def _npy_header(shape: tuple[int, ...], descr: str = "<f8") -> bytes:
    buf = io.BytesIO()
    npy.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _zero_bomb(path: Path, declared_bytes: int) -> Path:
    """A real bomb: `declared_bytes` of zeros behind an honest header, deflated to ~1/1000."""
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf,
        zf.open("x.npy", "w", force_zip64=True) as m,
    ):
        m.write(_npy_header((declared_bytes // 8,)))
        chunk = bytes(MiB)
        for _ in range(declared_bytes // MiB):
            m.write(chunk)
    return path


@pytest.fixture
def no_np_load(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any array read fails the test: the refusals must come from the headers alone."""

    def boom(*a: Any, **k: Any) -> Any:
        raise AssertionError("np.load was called before the file was refused")

    monkeypatch.setattr(np, "load", boom)


# --------------------------------------------------------------------------- --inputs .npz


def test_a_good_npz_loads(tmp_path: Path) -> None:
    path = tmp_path / "samples.npz"
    np.savez(path, x=np.arange(12, dtype=np.float32).reshape(3, 4), y=np.array([1, 2, 3]))
    check_inputs_file(path)
    arrays = load_sample_arrays(path)
    assert set(arrays) == {"x", "y"} and arrays["x"].shape == (3, 4) and arrays["y"].tolist() == [1, 2, 3]


def test_lying_header_is_refused_before_reading(tmp_path: Path, no_np_load: None) -> None:
    # 4.2 GB declared, a few bytes held: np.load would allocate the 4.2 GB first.
    path = _zip(tmp_path / "liar.npz", {"x.npy": _npy_header((525_000_000,)) + b"\0" * 64})
    with pytest.raises(InputError) as info:
        load_sample_arrays(path)
    _one_line(info, str(path), "x.npy", "truncated or corrupt")


def test_real_zip_bomb_over_the_cap(tmp_path: Path, no_np_load: None) -> None:
    path = _zero_bomb(tmp_path / "bomb.npz", 64 * MiB)
    assert path.stat().st_size < MiB
    with pytest.raises(InputError) as info:
        check_inputs_file(path, max_bytes=16 * MiB)
    _one_line(info, str(path), "16 MiB")


def test_bomb_over_the_free_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_np_load: None) -> None:
    path = _zero_bomb(tmp_path / "bomb.npz", 8 * MiB)
    monkeypatch.setattr("profiler.inputs._free_memory", lambda: 4 * MiB)
    with pytest.raises(InputError) as info:
        load_sample_arrays(path)
    _one_line(info, str(path), "memory free")


def test_bomb_memory_before_and_after(tmp_path: Path) -> None:
    """In a fresh process: the old loader grows by the declared size; the checked one does not."""
    path = _zero_bomb(tmp_path / "bomb.npz", 96 * MiB)
    # Current RSS with the arrays still referenced (ru_maxrss is inherited across fork/exec, so
    # a child of a big pytest process would start from the parent's high-water mark).
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        import numpy as np
        import psutil
        from profiler.inputs import load_sample_arrays
        from profiler.errors import InputError
        me = psutil.Process()
        base = me.memory_info().rss
        arrays = None
        try:
            if sys.argv[1] == "old":
                with np.load({str(path)!r}, allow_pickle=False) as d:
                    arrays = {{k: d[k] for k in d.files}}
            else:
                arrays = load_sample_arrays({str(path)!r}, max_bytes=32 * 2**20)
        except InputError as e:
            print("refused", file=sys.stderr)
        print((me.memory_info().rss - base) // 2**20)
    """)
    grown = {}
    for which in ("old", "new"):
        done = subprocess.run(
            [sys.executable, "-c", code, which], capture_output=True, text=True, timeout=60, check=True
        )
        grown[which] = int(done.stdout.split()[-1])
        assert ("refused" in done.stderr) == (which == "new")
    assert grown["old"] >= 90 and grown["new"] < 16, grown  # MiB of peak RSS growth


def test_object_arrays_are_refused_and_never_unpickled(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self) -> Any:
            return (open, (str(marker), "w"))

    data = _npy_header((1,), descr="|O") + pickle.dumps(np.array([Payload()], dtype=object), protocol=3)
    path = _zip(tmp_path / "evil.npz", {"x.npy": data})
    for fn in (check_inputs_file, load_sample_arrays):
        with pytest.raises(InputError) as info:
            fn(path)
        _one_line(info, str(path), "Python objects")
    assert not marker.exists()


@pytest.mark.parametrize(
    ("members", "words"),
    [
        ({"evil.pkl": b"\x80\x04N."}, ["evil.pkl", "not an .npy"]),
        ({"x.npy": b"not an array"}, ["x.npy", "not a valid .npy"]),
        ({"x.npy": _npy_header((-5, 2))}, ["negative"]),
        ({f"m{i}.npy": _npy_header((0,)) for i in range(1100)}, ["1100 members"]),
    ],
)
def test_junk_members(tmp_path: Path, members: dict[str, bytes], words: list[str], no_np_load: None) -> None:
    path = _zip(tmp_path / "junk.npz", members)
    with pytest.raises(InputError) as info:
        check_inputs_file(path)
    _one_line(info, str(path), *words)


def test_missing_and_wrong_kinds_of_file(tmp_path: Path, no_np_load: None) -> None:
    cases: list[tuple[Path, str]] = [(tmp_path / "missing.npz", "no such file"), (tmp_path, "is a folder")]
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    cases.append((empty, "is empty"))
    text = tmp_path / "notes.npz"
    text.write_text("hello")
    cases.append((text, "is not an .npz"))
    single = tmp_path / "one.npz"
    with open(single, "wb") as f:
        np.save(f, np.zeros(3))
    cases.append((single, "single .npy"))
    fifo = tmp_path / "fifo.npz"
    os.mkfifo(fifo)
    cases.append((fifo, "not a regular file"))
    for path, words in cases:
        for fn in (check_inputs_file, load_sample_arrays):
            with pytest.raises(InputError) as info:
                fn(path)
            _one_line(info, str(path), words)


# --------------------------------------------------------------------------- absurd shapes


IMAGE = (InputTemplate(name="pixel_values", dims=("batch", 3, 224, 224), dtype="float32"),)
TOKENS = (InputTemplate(name="input_ids", dims=("batch", "sequence_length"), dtype="int64", seq_dim=1),)


def test_huge_batch_names_the_option() -> None:
    with pytest.raises(InputError) as info:
        resolve_inputs(IMAGE, file="m.onnx", batch=4_000_000_000)
    text = _one_line(info, "--batch", "'pixel_values'", "2^31")
    assert text.startswith("--batch:")


def test_huge_seq_len_names_the_option() -> None:
    with pytest.raises(InputError) as info:
        resolve_inputs(TOKENS, file="m.onnx", seq_len=3_000_000_000)
    assert str(info.value).startswith("--seq-len:")


def test_huge_input_shape_names_the_option() -> None:
    with pytest.raises(InputError) as info:
        resolve_inputs(IMAGE, file="m.onnx", shapes={"pixel_values": (1, 3, 200_000, 200_000)})
    _one_line(info, "--input-shape", "pixel_values")


def test_huge_declared_shape_names_the_file() -> None:
    # e.g. a ViT config with image_size 200000: the model file declares it.
    declared = (InputTemplate(name="pixel_values", dims=(1, 3, 200_000, 200_000), dtype="float32"),)
    with pytest.raises(InputError) as info:
        resolve_inputs(declared, file="config.json")
    text = _one_line(info, "config.json", "pixel_values", "--input-shape")
    assert text.startswith("config.json:")


def test_inputs_over_the_free_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("profiler.inputs._free_memory", lambda: 64 * MiB)
    with pytest.raises(InputError) as info:
        resolve_inputs(IMAGE, file="m.onnx", batch=1000)  # 574 MiB of float32
    _one_line(info, "--batch", "memory free")
    assert resolve_inputs(IMAGE, file="m.onnx", batch=2)[0].shape == (2, 3, 224, 224)


def test_check_input_sizes_for_callers_that_change_shapes() -> None:
    check_input_sizes((InputSpec("x", (1, 3, 224, 224), "float32"),), file="m.pt")
    with pytest.raises(InputError):
        check_input_sizes((InputSpec("x", (1, 3, 65536, 65536), "float32"),), file="m.pt")
    assert MAX_INPUT_ELEMENTS == 2**31


@pytest.mark.parametrize("text", ["0x3", "1x-2", "1x" + "9" * 5000, "1x99999999999", "1x3000000000"])
def test_parse_shape_refuses_absurd_dims(text: str) -> None:
    with pytest.raises(InputError) as info:
        parse_shape(text)
    assert len(str(info.value)) < 300 and "\n" not in str(info.value)


def test_cli_huge_batch_is_exit_2(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tradeoff", "profile", "demo:mlp", "--no-latency", "--batch", "4000000000"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().count("\n") == 0 and "--batch" in done.stderr and "Traceback" not in done.stderr
