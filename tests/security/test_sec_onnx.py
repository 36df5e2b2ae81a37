"""Hostile ONNX files: nothing a file merely declares is allocated, read, written or loaded.

Every file is built here from the public format (onnx.helper): a 130-byte ConstantOfShape of
2**30 elements, the other ops whose output size the file controls (Expand, Tile, Range, Pad,
Resize, Upsample, OneHot, sequences …), .onnx and external-data files far larger than they may be
(sparse, so they use no disk), a folder with a user's "model-inferred.onnx" that onnxruntime's
quantizer would overwrite and delete, a model that makes onnxruntime's symbolic shape inference
give up (it saves a file into the working directory then), and nodes of custom-op domains.

The memory-hungry cases run in a child process with an address-space limit, which reports its
own peak resident set: a regression fails the test instead of exhausting the machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from profiler.errors import InputError, MeasureError
from profiler.onnx_backend.analysis import analyze_onnx
from profiler.onnx_backend.timing import make_session
from profiler.onnx_backend.validation import (
    MAX_EXTERNAL_DATA_BYTES,
    MAX_ONNX_FILE_BYTES,
    read_onnx_inputs,
)
from profiler.result import InputSpec

REPO_ROOT = Path(__file__).resolve().parents[2]
F32 = TensorProto.FLOAT
I64 = TensorProto.INT64
MIB = 2**20
GIB = 2**30
X1 = (InputSpec("x", (1,), "float32"),)

# Python-level file events while a case watches (audit hooks cannot be removed: one, switched on and off).
_EVENTS: list[tuple[str, str, str]] | None = None


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _EVENTS is None:
        return
    if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
        mode = args[1] if len(args) > 1 and isinstance(args[1], str) else "r"
        flags = args[2] if len(args) > 2 and isinstance(args[2], int) else 0
        writes = any(c in mode for c in "wax+") or flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
        _EVENTS.append(("write" if writes else "read", os.path.abspath(os.fsdecode(args[0])), event))
    elif event in ("os.remove", "os.rename", "os.mkdir", "os.rmdir", "shutil.rmtree") and args:
        _EVENTS.append(("write", os.path.abspath(os.fsdecode(args[0])), event))


sys.addaudithook(_audit)


class _Watch:
    """Records the Python-level opens, removes and renames while active."""

    def __enter__(self) -> list[tuple[str, str, str]]:
        global _EVENTS
        _EVENTS = []
        return _EVENTS

    def __exit__(self, *exc: object) -> None:
        global _EVENTS
        _EVENTS = None


def _vi(name: str, shape: list[Any] | None, dtype: int = F32) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, dtype, shape)


def _save(
    path: Path,
    nodes: list[Any],
    inputs: list[Any],
    outputs: list[Any],
    inits: tuple[Any, ...] | list[Any] = (),
    opset: int = 17,
    extra: tuple[Any, ...] | list[Any] = (),
) -> Path:
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset), *extra])
    onnx.save(model, str(path))
    return path


def _const(name: str, values: Any, dtype: Any = np.int64) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(values, dtype=dtype), name)


def _one_line(exc: BaseException, path: Path | str) -> str:
    message = str(exc)
    assert "\n" not in message and message.startswith(str(path)), message
    return message


# --- 1. constant folding checks sizes before it evaluates; const-derived tensors count ----------


def _constant_of_shape(path: Path, n: int, dtype: int = F32, consumer: str = "Add") -> Path:
    fill = helper.make_tensor("value", dtype, [1], [1])
    nodes = [helper.make_node("ConstantOfShape", ["s"], ["c"], value=fill)]
    if consumer == "Add":
        nodes.append(helper.make_node("Add", ["x", "c"], ["y"]))
    else:
        nodes.append(helper.make_node(consumer, ["c"], ["y"]))
    return _save(path, nodes, [_vi("x", [1], dtype)], [_vi("y", None, dtype)], [_const("s", [n])])


_CHILD = r"""
import json, resource, sys
limit = 2 * 1024**3
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
import onnx
from profiler.onnx_backend.analysis import analyze_onnx
from profiler.onnx_backend.shapes import _symbolic_infer
from profiler.result import InputSpec

def maxrss():
    # This process's own peak resident set (VmHWM). ru_maxrss would also hold the parent's, which
    # Linux carries over through exec.
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)

report = {"start": maxrss()}
for name in sys.argv[1:]:
    path, _, dtype = name.partition("@")
    if name.endswith("@ssi"):
        model = onnx.load(path)
        warnings = []
        out = _symbolic_infer(model, warnings, {})  # nothing known: it sees the whole graph
        report[name] = {"rss": maxrss(), "ok": out is not None, "warnings": warnings}
        continue
    a = analyze_onnx(path, (InputSpec("x", (1,), dtype or "float32"),))
    report[name] = {"rss": maxrss(), "peak": a.activation_peak_bytes, "warnings": list(a.warnings),
                    "rows": {r.type: r.activation_bytes for r in a.layers}}
print(json.dumps(report))
"""


def _run_child(args: list[str], timeout: float = 120) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, *args], capture_output=True, text=True, timeout=timeout, cwd=REPO_ROOT
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def test_constant_of_shape_is_analysed_in_little_memory_and_counted(tmp_path: Path) -> None:
    """173 bytes asking for 2**30 elements: before the fix, static analysis took 4.3 GB (here 22 GB:
    ONNX's data propagation made 2**30 shape entries) and reported a peak of 72 B."""
    huge = _constant_of_shape(tmp_path / "cos30.onnx", 2**30)
    assert huge.stat().st_size < 200
    # 2**27 floats (512 MiB): small enough that an evaluation under the 2 GiB limit would succeed,
    # so it would show in the peak resident set instead of failing quietly.
    medium = _constant_of_shape(tmp_path / "cos27.onnx", 2**27)
    ints = _constant_of_shape(tmp_path / "cos30i.onnx", 2**30, dtype=I64, consumer="Identity")
    t0 = time.monotonic()
    report = _run_child([str(huge), str(medium), f"{ints}@ssi"])
    assert time.monotonic() - t0 < 60
    for name in (str(huge), str(medium), f"{ints}@ssi"):
        assert report[name]["rss"] < 300 * MIB, (name, report[name]["rss"] / MIB)
        assert not any("failed" in w for w in report[name]["warnings"]), report[name]["warnings"]
    big = report[str(huge)]
    # The report is honest: the 4 GiB constant and the 4 GiB sum are both alive at the Add.
    assert big["rows"]["ConstantOfShape"] == 4 * GIB and big["rows"]["Add"] == 4 * GIB
    assert big["peak"] == 8 * GIB
    assert any("computed from the model's constants" in w for w in big["warnings"])
    assert report[f"{ints}@ssi"]["ok"]


def _case(kind: str) -> tuple[list[Any], list[Any], int, int]:
    """Nodes and constants of a node computed from constants alone that yields 2**30 elements
    (or far more than folding may evaluate), its opset and its element count."""
    vals = helper.make_tensor("value", F32, [1], [1.0])
    if kind == "ConstantOfShape":
        return [helper.make_node(kind, ["s"], ["c"], value=vals)], [_const("s", [2**30])], 17, 2**30
    if kind == "Expand":
        return (
            [helper.make_node(kind, ["a", "s"], ["c"])],
            [_const("a", [1.0], np.float32), _const("s", [2**15, 2**15])],
            17,
            2**30,
        )
    if kind == "Tile":
        return (
            [helper.make_node(kind, ["a", "r"], ["c"])],
            [_const("a", [1.0, 2.0], np.float32), _const("r", [2**29])],
            17,
            2**30,
        )
    if kind == "Range":
        inits = [_const("a", 0.0, np.float32), _const("b", float(2**30), np.float32), _const("d", 1.0, np.float32)]
        return [helper.make_node(kind, ["a", "b", "d"], ["c"])], inits, 17, 2**30
    if kind == "Pad":
        return (
            [helper.make_node(kind, ["a", "p"], ["c"])],
            [_const("a", [1.0, 2.0], np.float32), _const("p", [0, 2**30 - 2])],
            17,
            2**30,
        )
    if kind == "Resize":
        inits = [_const("a", np.ones((1, 1, 2, 2)), np.float32), _const("sc", [1, 1, 2**14, 2**14], np.float32)]
        return [helper.make_node(kind, ["a", "", "sc"], ["c"])], inits, 17, 2**30
    if kind == "Upsample":
        inits = [_const("a", np.ones((1, 1, 2, 2)), np.float32), _const("sc", [1, 1, 2**14, 2**14], np.float32)]
        return [helper.make_node(kind, ["a", "sc"], ["c"])], inits, 9, 2**30
    if kind == "OneHot":
        inits = [_const("i", [0, 1, 2, 3]), _const("d", 2**28), _const("v", [0.0, 1.0], np.float32)]
        return [helper.make_node(kind, ["i", "d", "v"], ["c"])], inits, 17, 2**30
    if kind == "Add":  # broadcasting two small constants into a large one
        inits = [_const("a", np.ones((4096, 1)), np.float32), _const("b", np.ones((1, 4096)), np.float32)]
        return [helper.make_node(kind, ["a", "b"], ["c"])], inits, 17, 2**24
    if kind == "MatMul":
        inits = [_const("a", np.ones((4096, 1)), np.float32), _const("b", np.ones((1, 4096)), np.float32)]
        return [helper.make_node(kind, ["a", "b"], ["c"])], inits, 17, 2**24
    if kind == "Concat":  # one small tensor repeated: the sum of the inputs
        return (
            [helper.make_node(kind, ["a"] * 4096, ["c"], axis=0)],
            [_const("a", np.ones(4096), np.float32)],
            17,
            2**24,
        )
    if kind == "ConcatFromSequence":  # sequences are never evaluated
        nodes = [helper.make_node("SequenceConstruct", ["a"] * 8, ["q"]), helper.make_node(kind, ["q"], ["c"], axis=0)]
        return nodes, [_const("a", np.ones(4096), np.float32)], 17, 8 * 4096
    raise AssertionError(kind)


_FOLD_CASES = [
    "ConstantOfShape",
    "Expand",
    "Tile",
    "Range",
    "Pad",
    "Resize",
    "Upsample",
    "OneHot",
    "Add",
    "MatMul",
    "Concat",
    "ConcatFromSequence",
]


@pytest.mark.parametrize("kind", _FOLD_CASES)
def test_folding_bounds_a_node_before_evaluating_it(kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import onnx.reference

    evaluated: list[str] = []
    real = onnx.reference.ReferenceEvaluator

    class Recording:  # the analysis imports it from onnx.reference when it folds
        def __init__(self, proto: Any, *args: Any, **kwargs: Any) -> None:
            evaluated.append(proto.op_type)
            if proto.op_type == kind or proto.op_type == "SequenceConstruct":
                raise AssertionError(f"{proto.op_type} evaluated")  # never allocate what it asks for
            self._inner = real(proto, *args, **kwargs)

        def run(self, *args: Any, **kwargs: Any) -> Any:
            return self._inner.run(*args, **kwargs)

    monkeypatch.setattr(onnx.reference, "ReferenceEvaluator", Recording)
    nodes, inits, opset, elements = _case(kind)
    nodes = [*nodes, helper.make_node("Relu", ["c"], ["relu"]), helper.make_node("Add", ["x", "x"], ["y"])]
    path = _save(
        tmp_path / f"{kind}.onnx", nodes, [_vi("x", [1])], [_vi("y", None), _vi("relu", None)], inits, opset=opset
    )
    a = analyze_onnx(str(path), X1)
    assert kind not in evaluated and "SequenceConstruct" not in evaluated
    assert not any("failed" in w for w in a.warnings), a.warnings
    row = next(r for r in a.layers if r.type == kind)
    if row.output_shapes:  # shape inference saw the size: the row and the peak count it
        assert int(np.prod(row.output_shapes[0])) == elements
        assert row.activation_bytes == 4 * elements
        assert a.activation_peak_bytes is not None and a.activation_peak_bytes >= 4 * elements - 64 * 1024
    else:  # unknown size: no number is made up
        assert a.activation_peak_bytes is None


def test_small_shape_arithmetic_still_folds(tmp_path: Path) -> None:
    """The bound lets the everyday folding through: Shape -> Gather -> Range -> Reshape, whose
    target ONNX's own inference cannot see through."""
    nodes = [
        helper.make_node("Shape", ["x"], ["shp"]),
        helper.make_node("Gather", ["shp", "zero"], ["n"], axis=0),
        helper.make_node("Range", ["start", "n", "one"], ["idx"]),
        helper.make_node("Concat", ["minus1", "two"], ["target"], axis=0),
        helper.make_node("Reshape", ["x", "target"], ["y"]),
        helper.make_node("MatMul", ["y", "W"], ["z"]),
    ]
    inits = [
        _const("zero", 0),
        _const("start", 0),
        _const("one", 1),
        _const("minus1", [-1]),
        _const("two", [2]),
        _const("W", np.ones((2, 3)), np.float32),
    ]
    path = _save(tmp_path / "ok.onnx", nodes, [_vi("x", ["n"])], [_vi("z", None), _vi("idx", None, I64)], inits)
    a = analyze_onnx(str(path), (InputSpec("x", (8,), "float32"),))
    rows = {r.type: r for r in a.layers}
    assert rows["MatMul"].counted and rows["MatMul"].macs == 4 * 2 * 3
    assert rows["Range"].output_shapes == ((8,),)
    assert a.activation_peak_bytes is not None


def _guard_request() -> Any:
    from profiler.analyze import ProfileRequest

    return ProfileRequest(latency=True, layer_latency=True, budget_s=0.2)


def test_memory_guard_refuses_constant_derived_tensors_before_onnxruntime(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """2**40 floats from a 130-byte file: the guard that runs before latency sees them and refuses."""
    import profiler.onnx_backend.timing
    from profiler.analyze import profile_model
    from profiler.guard import NotEnoughMemory
    from profiler.loading import load_model

    path = _constant_of_shape(tmp_path / "cos40.onnx", 2**40)

    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("onnxruntime was started")

    monkeypatch.setattr(profiler.onnx_backend.timing, "make_session", never)
    with pytest.raises(MeasureError) as err:
        profile_model(load_model(str(path)), _guard_request())
    assert isinstance(err.value, NotEnoughMemory) and err.value.exit_code == 3
    assert err.value.needed >= 8 * 2**40
    assert "needs about" in _one_line(err.value, path)


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    return subprocess.run(
        [sys.executable, "-c", "import sys; from tradeoff.main import main; sys.exit(main())", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env,
    )


def test_cli_exits_3_with_one_line_for_constants_that_do_not_fit(tmp_path: Path) -> None:
    path = _constant_of_shape(tmp_path / "cos40.onnx", 2**40)
    proc = _cli("profile", str(path), cwd=tmp_path)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 3, proc.stderr[-2000:]
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}: needs about"), proc.stderr
    assert "Traceback" not in proc.stderr


# --- 2. file sizes are checked before anything is read -----------------------------------------


def _sparse(path: Path, size: int) -> Path | None:
    try:
        with open(path, "wb") as fh:
            fh.truncate(size)
    except OSError:
        return None
    return path


def test_oversized_onnx_file_is_refused_unread(tmp_path: Path) -> None:
    path = _sparse(tmp_path / "huge.onnx", 3 * GIB)
    if path is None:
        pytest.skip("this filesystem cannot hold a 3 GiB sparse file")
    assert MAX_ONNX_FILE_BYTES == 2 * GIB
    t0 = time.monotonic()
    for fn in (read_onnx_inputs, lambda p: analyze_onnx(p, X1), lambda p: make_session(p, threads=1)):
        with _Watch() as events, pytest.raises(InputError) as err:
            fn(str(path))
        assert not [e for e in events if e[1] == str(path)], events  # not even opened
        message = _one_line(err.value, path)
        assert "3.0 GiB" in message and "2.0 GiB" in message
    assert time.monotonic() - t0 < 10


def test_sparse_file_under_the_limit_is_refused_from_its_first_bytes(tmp_path: Path) -> None:
    import psutil

    path = _sparse(tmp_path / "zeros.onnx", GIB)
    if path is None:
        pytest.skip("this filesystem cannot hold a 1 GiB sparse file")
    before = psutil.Process().memory_info().rss
    t0 = time.monotonic()
    with pytest.raises(InputError) as err:
        analyze_onnx(str(path), X1)
    assert "not a valid ONNX model" in _one_line(err.value, path)
    assert time.monotonic() - t0 < 5 and psutil.Process().memory_info().rss - before < 100 * MIB


def _external(folder: Path, location: str = "model.data") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    nodes = [helper.make_node("MatMul", ["x", "W"], ["y"], name="mm")]
    graph = helper.make_graph(
        nodes, "g", [_vi("x", [2, 64])], [_vi("y", None)], [_const("W", np.ones((64, 64)), np.float32)]
    )
    path = folder / "model.onnx"
    onnx.save(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]),
        str(path),
        save_as_external_data=True,
        location=location,
        size_threshold=0,
    )
    return path


def test_oversized_external_data_is_refused_unread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _external(tmp_path / "m")
    data = path.parent / "model.data"
    if _sparse(data, MAX_EXTERNAL_DATA_BYTES + 1) is None:  # 1 TiB + 1 byte, no blocks
        import profiler.onnx_backend.validation

        monkeypatch.setattr(profiler.onnx_backend.validation, "MAX_EXTERNAL_DATA_BYTES", 1024)
        _sparse(data, 4096 * 4)
    spec = (InputSpec("x", (2, 64), "float32"),)
    for fn in (read_onnx_inputs, lambda p: analyze_onnx(p, spec), lambda p: make_session(p, threads=1)):
        with _Watch() as events, pytest.raises(InputError) as err:
            fn(str(path))
        assert not [e for e in events if e[1] == str(data)], events
        message = _one_line(err.value, path)
        assert "'model.data'" in message and "refusing to read it" in message


def test_small_tensor_claiming_a_huge_external_length_is_not_read(tmp_path: Path) -> None:
    """An int64[4] (shape inference reads such values) whose external length claims 1 GiB."""
    import psutil

    folder = tmp_path / "m"
    folder.mkdir()
    target = numpy_helper.from_array(np.array([2, 32], np.int64), "t")
    target.ClearField("raw_data")
    target.data_location = TensorProto.EXTERNAL
    for key, value in (("location", "t.bin"), ("offset", "0"), ("length", str(GIB))):
        entry = target.external_data.add()
        entry.key, entry.value = key, value
    if _sparse(folder / "t.bin", GIB) is None:
        pytest.skip("this filesystem cannot hold a 1 GiB sparse file")
    path = _save(
        folder / "model.onnx",
        [helper.make_node("Reshape", ["x", "t"], ["y"])],
        [_vi("x", [64])],
        [_vi("y", None)],
        [target],
    )
    before = psutil.Process().memory_info().rss
    with _Watch() as events:
        a = analyze_onnx(str(path), (InputSpec("x", (64,), "float32"),))
    assert not [e for e in events if e[1] == str(folder / "t.bin")]
    assert psutil.Process().memory_info().rss - before < 100 * MIB
    assert a.layers[0].type == "Reshape"


def test_exponential_model_local_functions_are_refused(tmp_path: Path) -> None:
    """F0 calls F1 twice, F1 calls F2 twice … 40 deep: 2**40 nodes once inlined, in a few KB."""
    functions = []
    for k in range(40):
        if k == 39:
            body = [helper.make_node("Relu", ["a"], ["b"])]
        else:
            body = [
                helper.make_node(f"F{k + 1}", ["a"], ["m"], domain="local"),
                helper.make_node(f"F{k + 1}", ["m"], ["b"], domain="local"),
            ]
        functions.append(
            helper.make_function(
                "local", f"F{k}", ["a"], ["b"], body, [helper.make_opsetid("", 17), helper.make_opsetid("local", 1)]
            )
        )
    graph = helper.make_graph(
        [helper.make_node("F0", ["x"], ["y"], domain="local")], "g", [_vi("x", [1])], [_vi("y", [1])]
    )
    model = helper.make_model(
        graph, functions=functions, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("local", 1)]
    )
    path = tmp_path / "laughs.onnx"
    onnx.save(model, str(path))
    t0 = time.monotonic()
    for fn in (read_onnx_inputs, lambda p: analyze_onnx(p, X1), lambda p: make_session(p, threads=1)):
        with pytest.raises(InputError) as err:
            fn(str(path))
        assert "model-local functions expand to" in _one_line(err.value, path)
    assert time.monotonic() - t0 < 10


# --- 3. ONNX Runtime's quantizer works on a private copy ----------------------------------------


def _quantizable(folder: Path) -> Path:
    (folder / "weights").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    nodes = [
        helper.make_node("MatMul", ["x", "W1"], ["h"], name="mm1"),
        helper.make_node("Relu", ["h"], ["r"]),
        helper.make_node("MatMul", ["r", "W2"], ["y"], name="mm2"),
    ]
    inits = [
        _const("W1", rng.standard_normal((16, 32)), np.float32),
        _const("W2", rng.standard_normal((32, 8)), np.float32),
    ]
    graph = helper.make_graph(nodes, "g", [_vi("x", [4, 16])], [_vi("y", [4, 8])], inits)
    path = folder / "model.onnx"
    onnx.save(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]),
        str(path),
        save_as_external_data=True,
        location="weights/model.data",
        size_threshold=0,
    )
    return path


def _listing(folder: Path) -> dict[str, tuple[int, int, bytes]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.stat().st_size, p.read_bytes())
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("calibrated", [False, True])
def test_quantize_never_writes_beside_the_model(
    calibrated: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from profiler.onnx_backend.transforms import quantize_onnx

    folder = tmp_path / "user"
    src = _quantizable(folder)
    mine = folder / "model-inferred.onnx"  # what ONNX Runtime writes beside its input, then deletes
    mine.write_bytes(b"the user's own file\n")
    before = _listing(folder)
    scratch_root = tmp_path / "tmp"
    scratch_root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch_root))  # the private folders land here
    writes: list[str] = []
    real_infer = onnx.shape_inference.infer_shapes_path

    def infer_shapes_path(model_path: str, output_path: str = "", *args: Any, **kwargs: Any) -> Any:
        writes.append(os.path.abspath(output_path or model_path))  # C++ writes: invisible to audit hooks
        return real_infer(model_path, output_path, *args, **kwargs)

    monkeypatch.setattr(onnx.shape_inference, "infer_shapes_path", infer_shapes_path)
    for sub in (folder, folder / "weights"):
        sub.chmod(0o555)
    try:
        read_only = not os.access(folder, os.W_OK)  # False as root: chmod does not stop root
        dst = tmp_path / "out" / "int8.onnx"
        dst.parent.mkdir()
        calibration = [{"x": np.random.default_rng(k).standard_normal((4, 16)).astype(np.float32)} for k in range(3)]
        with _Watch() as events:
            out, notes = quantize_onnx(src, dst, calibration=calibration if calibrated else None)
        after = _listing(folder)
    finally:
        for sub in (folder, folder / "weights"):
            sub.chmod(0o755)
    assert after == before  # byte-identical, same times, nothing added or removed
    inside = str(folder) + os.sep
    assert not [e for e in events if e[0] == "write" and e[1].startswith(inside)], events
    assert not [w for w in writes if w.startswith(inside)], writes
    assert out == dst and onnx.load(str(dst)).graph.node
    assert any("int8" in n for n in notes)
    assert list(scratch_root.iterdir()) == []  # the private copy is gone
    if read_only:
        assert not os.access(folder, os.W_OK)  # it really was read-only, and it worked


def test_quantize_refuses_external_data_outside_the_folder(tmp_path: Path) -> None:
    from profiler.onnx_backend.transforms import quantize_onnx

    src = _external(tmp_path / "m", location="model.data")
    outside = tmp_path / "secret.bin"
    (src.parent / "model.data").rename(outside)
    model = onnx.load(str(src), load_external_data=False)
    for t in model.graph.initializer:
        for entry in t.external_data:
            if entry.key == "location":
                entry.value = "../secret.bin"
    onnx.save(model, str(src))
    with pytest.raises(InputError) as err:
        quantize_onnx(src, tmp_path / "q.onnx")
    assert "outside the model's folder" in _one_line(err.value, src)


# --- 4. symbolic shape inference: no file, no chdir ----------------------------------------------


def test_symbolic_inference_writes_nothing_and_never_changes_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A contrib op only onnxruntime's inference knows, then an op nobody knows: its inference is
    incomplete, which made it save sym_shape_infer_temp.onnx into the working directory."""
    ms = helper.make_opsetid("com.microsoft", 1)
    nodes = [
        helper.make_node("FusedMatMul", ["x", "W"], ["h"], name="fused", domain="com.microsoft"),
        helper.make_node("Frobnicate", ["h"], ["y"], name="unknown"),
    ]
    path = _save(
        tmp_path / "m.onnx",
        nodes,
        [_vi("x", [2, 3])],
        [_vi("y", None)],
        [_const("W", np.ones((3, 4)), np.float32)],
        extra=[ms],
    )
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)

    def no_chdir(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("os.chdir called")

    monkeypatch.setattr(os, "chdir", no_chdir)
    with _Watch() as events:
        a = analyze_onnx(str(path), (InputSpec("x", (2, 3), "float32"),))
    assert os.getcwd() == str(cwd) and list(cwd.iterdir()) == []
    assert not [e for e in events if e[0] == "write"], events
    rows = {r.name: r for r in a.layers}
    assert rows["fused"].counted and rows["fused"].macs == 2 * 3 * 4  # its partial result is kept
    assert not rows["unknown"].counted


# --- 5. custom-op domains load no library --------------------------------------------------------


def _custom(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "libevil.so").write_bytes(b"\x7fELF not really")
    return _save(
        folder / "custom.onnx",
        [helper.make_node("Frobnicate", ["x"], ["y"], name="evil", domain="libevil")],
        [_vi("x", [2])],
        [_vi("y", [2])],
        extra=[helper.make_opsetid("libevil", 1)],
    )


def test_custom_domain_is_unsupported_and_loads_no_library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import onnxruntime as ort

    path = _custom(tmp_path / "m")

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a custom-op library was registered")

    monkeypatch.setattr(ort.SessionOptions, "register_custom_ops_library", refuse)
    if hasattr(ort, "register_execution_provider_library"):
        monkeypatch.setattr(ort, "register_execution_provider_library", refuse)
    a = analyze_onnx(str(path), (InputSpec("x", (2,), "float32"),))
    assert a.unsupported_ops == {"libevil::Frobnicate": 1} and not a.layers[0].counted
    with pytest.raises(MeasureError) as err:
        make_session(str(path), threads=1)
    assert "Frobnicate" in _one_line(err.value, path)
    maps = Path("/proc/self/maps")
    if maps.exists():
        assert str(path.parent) not in maps.read_text()


def test_no_code_path_registers_custom_op_libraries() -> None:
    """onnxruntime loads native code only when told to: nothing in the product tells it to."""
    forbidden = (
        "register_custom_ops_library",
        "register_execution_provider_library",
        "session.custom_op",
        "onnxruntime_extensions",
        "get_library_path",
    )
    for source in sorted([*(REPO_ROOT / "profiler").glob("*.py"), *(REPO_ROOT / "gui").rglob("*.py")]):
        text = source.read_text(encoding="utf-8")
        found = [word for word in forbidden if word in text]
        assert not found, (source.name, found)


def test_cli_reports_a_custom_domain_in_one_line(tmp_path: Path) -> None:
    path = _custom(tmp_path / "m")
    proc = _cli("profile", str(path), cwd=tmp_path)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 3, proc.stderr[-2000:]
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}: ") and "Frobnicate" in lines[0], proc.stderr
