"""Every kind of bad input ends in exit 2 (or 3 when a loaded model fails to run) and one line
`error: FILE: what is wrong` on stderr, without a traceback unless `--debug`.

Each case runs twice: in this process through `tradeoff.main.main` (capsys), and in one real child
process that runs all cases with file-descriptor-level capture, so warnings and C-level output
that a user's terminal would show count too.
"""

from __future__ import annotations

import json
import os
import pickle
import shlex
import subprocess
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from profiler.errors import InputError, MeasureError, StudioError
from tradeoff.main import main

REPO_ROOT = Path(__file__).resolve().parents[2]
MARKER = "PWNED"


# --- fixture files --------------------------------------------------------------------------


class _Payload:
    """Unpickling this calls os.system: a hostile checkpoint."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return os.system, (self.command,)


def _onnx_bytes(dynamic: dict[int, str] | None = None) -> bytes:
    import io

    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 8)).eval(), (torch.randn(1, 64),), buf,  # type: ignore[arg-type]
            dynamo=False, input_names=["x"], output_names=["y"],
            dynamic_axes={"x": dynamic or {0: "batch"}, "y": {0: "batch"}},
        )
    return buf.getvalue()


def _random_bytes(n: int = 4096) -> bytes:
    import random

    rng = random.Random(1234)
    data = bytes(rng.randrange(256) for _ in range(n))
    assert not data.startswith(b"\x80")  # not a pickle PROTO opcode by chance
    return data


FORWARD_RAISES = '''
import torch


class Broken(torch.nn.Module):
    def forward(self, x):
        raise RuntimeError("boom: the forward is broken\\nsecond line of the message")


def build_model():
    return Broken(), (torch.randn(1, 3),)
'''

BUILD_RAISES = '''
def build_model():
    raise ValueError("cannot build")
'''

NO_FACTORY = '''
import torch

def something_else():
    return torch.nn.Linear(2, 2)
'''


@dataclass(frozen=True)
class Case:
    """A bad invocation: `make(dir)` writes what it needs and returns the argv after `profile`."""

    make: Callable[[Path], list[str]]
    code: int
    names: Callable[[Path], str]  # the file or option the error line must name
    says: tuple[str, ...] = ()  # further words the line must contain (case-insensitive)
    real_process_bug: str | None = None  # xfail reason for the child-process run only
    extra: dict[str, Any] = field(default_factory=dict)


def _write(name: str, data: bytes | str) -> Callable[[Path], list[str]]:
    def make(d: Path) -> list[str]:
        p = d / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            p.write_text(data, encoding="utf-8")
        else:
            p.write_bytes(data)
        return [str(p), "--no-latency"]

    return make


def _path(name: str) -> Callable[[Path], str]:
    return lambda d: str(d / name)


def _const(text: str) -> Callable[[Path], str]:
    return lambda d: text


def _missing(d: Path) -> list[str]:
    return [str(d / "missing.onnx"), "--no-latency"]


def _empty_dir(d: Path) -> list[str]:
    (d / "folder").mkdir(exist_ok=True)
    (d / "folder" / "weights.bin").write_bytes(b"\0" * 16)
    return [str(d / "folder"), "--no-latency"]


def _truncated_onnx(d: Path) -> list[str]:
    data = _onnx_bytes()
    p = d / "truncated.onnx"
    p.write_bytes(data[: len(data) // 2])
    return [str(p), "--no-latency", "--trust"]


def _dynamic_height_onnx(d: Path) -> list[str]:
    import onnx

    model = onnx.load_from_string(_onnx_bytes())
    dim = model.graph.input[0].type.tensor_type.shape.dim[1]
    dim.ClearField("dim_value")
    dim.dim_param = "height"
    p = d / "dynamic.onnx"
    onnx.save(model, str(p))
    return [str(p), "--no-latency"]


def _state_dict(d: Path) -> list[str]:
    p = d / "weights.pt"
    torch.save(nn.Linear(4, 4).state_dict(), str(p))
    return [str(p), "--no-latency", "--trust"]


def _pickled_module(d: Path) -> list[str]:
    p = d / "whole.pth"
    torch.save(nn.Sequential(nn.Linear(4, 4)), str(p))
    return [str(p), "--no-latency"]


def _hostile(kind: str) -> Callable[[Path], list[str]]:
    def make(d: Path) -> list[str]:
        payload = _Payload(f"touch {shlex.quote(str(d / MARKER))}")
        p = d / f"hostile-{kind}.pt"
        if kind == "raw":
            p.write_bytes(pickle.dumps(payload))
        else:
            torch.save(payload, str(p))
        return [str(p), "--no-latency"]

    return make


def _export_fixed_batch(d: Path) -> list[str]:
    p = d / "fixed.pt2"
    torch.export.save(torch.export.export(nn.Linear(3, 2).eval(), (torch.randn(2, 3),)), str(p))
    return [str(p), "--no-latency", "--batch", "4", "--trust"]


def _state_dict_pt2(d: Path) -> list[str]:
    p = d / "weights.pt2"
    torch.save(nn.Linear(4, 4).state_dict(), str(p))
    return [str(p), "--no-latency", "--trust"]


def _truncated_pt2(d: Path) -> list[str]:
    p = d / "truncated.pt2"
    torch.export.save(torch.export.export(nn.Linear(3, 2).eval(), (torch.randn(2, 3),)), str(p))
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    return [str(p), "--no-latency", "--trust"]


def _traced(d: Path) -> list[str]:
    p = d / "ts.pt"
    torch.jit.trace(nn.Linear(3, 2).eval(), torch.randn(1, 3)).save(str(p))  # type: ignore[no-untyped-call]
    return [str(p), "--no-latency", "--trust"]


def _demo(*options: str) -> Callable[[Path], list[str]]:
    return lambda d: ["demo:mlp", "--no-latency", *options]


_WARNINGS_BUG = "torch prints a {} to stderr during loading, so stderr is not one line (see the report)"

_EXPORT_LOG_BUG = (
    "torch.export.load logs 'Ran into the following error when deserializing' with a full traceback to stderr "
    "(logger torch.export) before loading.py turns the error into one line (see the report)"
)

CASES: dict[str, Case] = {
    "missing path": Case(_missing, 2, _path("missing.onnx"), ("no such file",)),
    "directory without config.json": Case(_empty_dir, 2, _path("folder"), ("config.json",)),
    "empty .onnx": Case(_write("empty.onnx", b""), 2, _path("empty.onnx"), ("empty",)),
    "empty .pt": Case(_write("empty.pt", b""), 2, _path("empty.pt"), ("empty",)),
    "empty config.json": Case(_write("cfg/config.json", b""), 2, _path("cfg/config.json")),
    "truncated onnx": Case(_truncated_onnx, 2, _path("truncated.onnx")),
    "random bytes .onnx": Case(_write("random.onnx", _random_bytes()), 2, _path("random.onnx")),
    "random bytes .pt": Case(_write("random.pt", _random_bytes()), 2, _path("random.pt")),
    "random bytes .pt2": Case(_write("random.pt2", _random_bytes()), 2, _path("random.pt2")),
    "random bytes .ts": Case(_write("random.ts", _random_bytes()), 2, _path("random.ts")),
    "zip that is no model .pt2": Case(
        _write("notamodel.pt2", b"PK\x05\x06" + b"\0" * 18), 2, _path("notamodel.pt2"),
    ),
    "state_dict saved as .pt2": Case(_state_dict_pt2, 2, _path("weights.pt2")),
    "truncated .pt2": Case(_truncated_pt2, 2, _path("truncated.pt2")),
    "unknown extension": Case(_write("model.h5", b"HDF5 data"), 2, _path("model.h5"), ("unsupported", ".h5")),
    "no extension": Case(_write("model", b"data"), 2, _path("model"), ("unsupported",)),
    "state_dict .pt": Case(_state_dict, 2, _path("weights.pt"), ("architecture", ".py")),
    "untrusted pickled module": Case(_pickled_module, 2, _path("whole.pth"), ("--trust",)),
    "hostile pickle (torch zip)": Case(_hostile("zip"), 2, _path("hostile-zip.pt"), ("--trust",)),
    "hostile pickle (raw protocol 4)": Case(
        _hostile("raw"), 2, _path("hostile-raw.pt"), ("--trust",),
    ),
    "unknown demo": Case(lambda d: ["demo:nope", "--no-latency"], 2, _const("demo:nope"), ("resnet18",)),
    "input shape of the wrong rank": Case(_demo("--input-shape", "1x3"), 2, _const("--input-shape")),
    "input shape of the wrong size": Case(_demo("--input-shape", "1x3x5x5"), 3, _const("demo:mlp")),
    "input shape that is no shape": Case(_demo("--input-shape", "1xax3"), 2, _const("--input-shape")),
    "input shape for no such input": Case(_demo("--input-shape", "y=1x1x28x28"), 2, _const("--input-shape"), ("'y'",)),
    "onnx dim without a value": Case(_dynamic_height_onnx, 2, _path("dynamic.onnx"), ("height",)),
    "torchscript without shapes": Case(
        _traced,
        2, _path("ts.pt"), ("--input-shape",),
    ),
    "pt2 run at a batch its export fixed": Case(
        _export_fixed_batch, 3, _path("fixed.pt2"),
    ),
    ".py with a syntax error": Case(_write("syntax.py", "def build_model(:\n    pass\n"), 2, _path("syntax.py"), ("syntax",)),
    ".py without build_model": Case(_write("nofactory.py", NO_FACTORY), 2, _path("nofactory.py"), ("build_model",)),
    ".py whose build_model raises": Case(_write("buildfails.py", BUILD_RAISES), 2, _path("buildfails.py"), ("cannot build",)),
    ".py whose forward raises": Case(
        lambda d: [_write("forward.py", FORWARD_RAISES)(d)[0]], 3, _path("forward.py"), ("boom",),
    ),
    ".py:callable that does not exist": Case(
        lambda d: [_write("nofactory.py", NO_FACTORY)(d)[0] + ":make", "--no-latency"], 2, _path("nofactory.py"), ("make",),
    ),
    "config.json that is not JSON": Case(_write("bad/config.json", "{not json"), 2, _path("bad/config.json"), ("json",)),
    "folder whose config.json is not JSON": Case(
        lambda d: [_write("badfolder/config.json", "{not json")(d)[0].rsplit("/", 1)[0], "--no-latency"],
        2, _path("badfolder"), ("json",),
    ),
    "config.json without model_type": Case(_write("plain/config.json", '{"a": 1}'), 2, _path("plain/config.json"), ("model_type",)),
    "--batch 0": Case(_demo("--batch", "0"), 2, _const("--batch")),
    "--batch abc": Case(_demo("--batch", "abc"), 2, _const("--batch")),
    "--batch -3": Case(_demo("--batch=-3"), 2, _const("--batch")),
    "--batch 1.5": Case(_demo("--batch", "1.5"), 2, _const("--batch")),
    "--seq-len 0": Case(_demo("--seq-len", "0"), 2, _const("--seq-len")),
    "--prune 1.5": Case(_demo("--prune", "1.5"), 2, _const("--prune")),
    "--precision fp8": Case(_demo("--precision", "fp8"), 2, _const("--precision")),
}


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_error_line(case: Case, d: Path, code: int, out: str, err: str) -> None:
    assert code == case.code, f"exit {code}, expected {case.code}; stderr: {err!r}"
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, f"stderr has {len(lines)} lines: {err!r}"
    line = lines[0]
    assert line.startswith("error: "), line
    assert case.names(d) in line, f"{case.names(d)!r} not named in {line!r}"
    for word in case.says:
        assert word.lower() in line.lower(), f"{word!r} not in {line!r}"
    assert out == "", f"stdout on error: {out!r}"


# --- in this process ------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_in_process(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # what the real process prints is checked below
        argv = case.make(tmp_path)
    code, out, err = run_cli(["profile", *argv], capsys)
    assert_one_error_line(case, tmp_path, code, out, err)
    assert not (tmp_path / MARKER).exists(), "a pickle ran code without --trust"


@pytest.mark.parametrize("name", [".py whose forward raises", "missing path", "hostile pickle (torch zip)"])
def test_debug_lets_the_traceback_through(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = CASES[name]
    argv = case.make(tmp_path)
    expected = MeasureError if case.code == 3 else InputError
    with pytest.raises(expected) as info:
        main(["profile", *argv, "--debug"])
    assert case.names(tmp_path) in str(info.value)
    assert not (tmp_path / MARKER).exists()
    assert isinstance(info.value, StudioError) and info.value.exit_code == case.code


def test_corrupt_torch_file_does_not_advise_trust(tmp_path: Path) -> None:
    p = tmp_path / "random.pt"
    p.write_bytes(_random_bytes())
    from profiler.loading import load_model

    with pytest.raises(InputError) as info:
        load_model(str(p))
    assert "--trust" not in str(info.value)


@pytest.mark.parametrize("argv", [["--threads", "0"], ["--device", "tpu"]])
def test_argparse_option_errors_are_one_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["profile", "demo:mlp", "--no-latency", *argv], capsys)
    assert code == 2
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and argv[0] in lines[0]


# --- in a real process ----------------------------------------------------------------------

DRIVER = r'''
import json, os, sys, tempfile, traceback, warnings
from tradeoff.main import main

cases = json.load(open(sys.argv[1]))
results = {}
for name, argv in cases.items():
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        sys.stdout.flush(); sys.stderr.flush()
        saved = os.dup(1), os.dup(2)
        os.dup2(out.fileno(), 1); os.dup2(err.fileno(), 2)
        try:
            with warnings.catch_warnings():  # fresh warning registry: as if each ran alone
                try:
                    code = main(argv)
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else 1
                except BaseException:
                    traceback.print_exc()
                    code = 1
        finally:
            sys.stdout.flush(); sys.stderr.flush()
            os.dup2(saved[0], 1); os.dup2(saved[1], 2)
            os.close(saved[0]); os.close(saved[1])
        out.seek(0); err.seek(0)
        results[name] = [code, out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")]
json.dump(results, open(sys.argv[2], "w"))
'''


@pytest.fixture(scope="module")
def real_process(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[Any]]]:
    root = tmp_path_factory.mktemp("bad-inputs-real")
    argvs: dict[str, list[str]] = {}
    for i, (name, case) in enumerate(CASES.items()):
        d = root / f"case{i}"
        d.mkdir()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            argvs[name] = ["profile", *case.make(d)]
    argvs["debug: forward raises"] = ["profile", str(root / f"case{list(CASES).index('.py whose forward raises')}" / "forward.py"), "--debug"]
    (root / "cases.json").write_text(json.dumps(argvs))
    (root / "driver.py").write_text(DRIVER)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    subprocess.run(
        [sys.executable, str(root / "driver.py"), str(root / "cases.json"), str(root / "results.json")],
        cwd=root, env=env, check=True, timeout=300, capture_output=True,
    )
    return root, json.loads((root / "results.json").read_text())


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=c.real_process_bug)) if c.real_process_bug else n
        for n, c in CASES.items()
    ],
)
def test_bad_input_in_a_real_process(name: str, real_process: tuple[Path, dict[str, list[Any]]]) -> None:
    root, results = real_process
    code, out, err = results[name]
    d = root / f"case{list(CASES).index(name)}"
    assert_one_error_line(CASES[name], d, code, out, err)
    assert not (d / MARKER).exists(), "a pickle ran code without --trust"


def test_debug_in_a_real_process_shows_the_traceback(real_process: tuple[Path, dict[str, list[Any]]]) -> None:
    _, results = real_process
    code, _, err = results["debug: forward raises"]
    assert code != 0
    assert "Traceback" in err and "boom" in err


def test_console_script_missing_file(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("tradeoff")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "tradeoff"]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        [*cmd, "profile", "nowhere/model.onnx"], capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env, check=False
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.endswith("\n") and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("error: nowhere/model.onnx: ") and "no such file" in result.stderr
