"""Every kind of bad input ends in exit 2 (or 3 when a loaded model fails to run) and one line
`error: FILE: what is wrong` on stderr, without a traceback unless `--debug`.

Each case runs twice: in this process through `tradeoff.main.main` (capsys), and in one real child
process that runs all cases with file-descriptor-level capture, so warnings and C-level output
that a user's terminal would show count too. The files and the one-error-line check come from
tests/hostile_files.py; hostile pickles and damaged model files (bit flips, zip bombs, absurd
dimensions, odd names) have their own cases in tests/reliability/test_hostile_files.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hostile_files import (
    REPO_ROOT,
    assert_error_line,
    assert_no_payload_ran,
    hostile_file,
    onnx_with_symbolic_dim,
    random_bytes,
    run_cli,
    run_in_a_real_process,
    sample_models,
    truncated,
    write,
)

from profiler.errors import InputError, MeasureError, StudioError
from tradeoff.main import main

# --- fixture files --------------------------------------------------------------------------

FORWARD_RAISES = """
import torch


class Broken(torch.nn.Module):
    def forward(self, x):
        raise RuntimeError("boom: the forward is broken\\nsecond line of the message")


def build_model():
    return Broken(), (torch.randn(1, 3),)
"""

BUILD_RAISES = """
def build_model():
    raise ValueError("cannot build")
"""

NO_FACTORY = """
import torch

def something_else():
    return torch.nn.Linear(2, 2)
"""


@dataclass(frozen=True)
class Case:
    """A bad invocation: `make(dir)` writes what it needs and returns the argv after `profile`."""

    make: Callable[[Path], list[str]]
    code: int
    names: Callable[[Path], str]  # the file or option the error line must name
    says: tuple[str, ...] = ()  # further words the line must contain (case-insensitive)


def _write(name: str, data: bytes | str | Callable[[], bytes], *options: str) -> Callable[[Path], list[str]]:
    """Writes `data` (or what calling it returns: a built model) to `name`; argv: that file, --no-latency, options."""

    def make(d: Path) -> list[str]:
        return [str(write(d, name, data() if callable(data) else data)), "--no-latency", *options]

    return make


def _model(name: str) -> Callable[[], bytes]:
    return lambda: sample_models()[name]


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


def _demo(*options: str) -> Callable[[Path], list[str]]:
    return lambda d: ["demo:mlp", "--no-latency", *options]


CASES: dict[str, Case] = {
    "missing path": Case(_missing, 2, _path("missing.onnx"), ("no such file",)),
    "directory without config.json": Case(_empty_dir, 2, _path("folder"), ("config.json",)),
    "empty .onnx": Case(_write("empty.onnx", b""), 2, _path("empty.onnx"), ("empty",)),
    "empty .pt": Case(_write("empty.pt", b""), 2, _path("empty.pt"), ("empty",)),
    "empty config.json": Case(_write("cfg/config.json", b""), 2, _path("cfg/config.json")),
    "truncated onnx": Case(
        _write("truncated.onnx", lambda: truncated(sample_models()["mlp.onnx"]), "--trust"), 2, _path("truncated.onnx")
    ),
    "random bytes .onnx": Case(_write("random.onnx", random_bytes()), 2, _path("random.onnx")),
    "random bytes .pt": Case(_write("random.pt", random_bytes()), 2, _path("random.pt")),
    "random bytes .pt2": Case(_write("random.pt2", random_bytes()), 2, _path("random.pt2")),
    "random bytes .ts": Case(_write("random.ts", random_bytes()), 2, _path("random.ts")),
    "zip that is no model .pt2": Case(
        _write("notamodel.pt2", b"PK\x05\x06" + b"\0" * 18),
        2,
        _path("notamodel.pt2"),
    ),
    "state_dict saved as .pt2": Case(_write("weights.pt2", _model("sd.pt"), "--trust"), 2, _path("weights.pt2")),
    "truncated .pt2": Case(
        _write("truncated.pt2", lambda: truncated(sample_models()["lin.pt2"]), "--trust"), 2, _path("truncated.pt2")
    ),
    "unknown extension": Case(_write("model.h5", b"HDF5 data"), 2, _path("model.h5"), ("unsupported", ".h5")),
    "no extension": Case(_write("model", b"data"), 2, _path("model"), ("unsupported",)),
    "state_dict .pt": Case(
        _write("weights.pt", _model("sd.pt"), "--trust"), 2, _path("weights.pt"), ("architecture", ".py")
    ),
    "untrusted pickled module": Case(_write("whole.pth", _model("module.pt")), 2, _path("whole.pth"), ("--trust",)),
    "unknown demo": Case(lambda d: ["demo:nope", "--no-latency"], 2, _const("demo:nope"), ("resnet18",)),
    "input shape of the wrong rank": Case(_demo("--input-shape", "1x3"), 2, _const("--input-shape")),
    "input shape of the wrong size": Case(_demo("--input-shape", "1x3x5x5"), 3, _const("demo:mlp")),
    "input shape that is no shape": Case(_demo("--input-shape", "1xax3"), 2, _const("--input-shape")),
    "input shape for no such input": Case(_demo("--input-shape", "y=1x1x28x28"), 2, _const("--input-shape"), ("'y'",)),
    "onnx dim without a value": Case(
        _write("dynamic.onnx", lambda: onnx_with_symbolic_dim(sample_models()["mlp.onnx"], 1, "height")),
        2,
        _path("dynamic.onnx"),
        ("height",),
    ),
    "torchscript without shapes": Case(
        _write("ts.pt", _model("mlp_ts.pt"), "--trust"), 2, _path("ts.pt"), ("--input-shape",)
    ),
    "pt2 run at a batch its export fixed": Case(
        _write("fixed.pt2", _model("lin.pt2"), "--batch", "4", "--trust"), 3, _path("fixed.pt2")
    ),
    ".py with a syntax error": Case(
        _write("syntax.py", "def build_model(:\n    pass\n"), 2, _path("syntax.py"), ("syntax",)
    ),
    ".py without build_model": Case(_write("nofactory.py", NO_FACTORY), 2, _path("nofactory.py"), ("build_model",)),
    ".py whose build_model raises": Case(
        _write("buildfails.py", BUILD_RAISES), 2, _path("buildfails.py"), ("cannot build",)
    ),
    ".py whose forward raises": Case(
        lambda d: [str(write(d, "forward.py", FORWARD_RAISES))],
        3,
        _path("forward.py"),
        ("boom",),
    ),
    ".py:callable that does not exist": Case(
        lambda d: [f"{write(d, 'nofactory.py', NO_FACTORY)}:make", "--no-latency"],
        2,
        _path("nofactory.py"),
        ("make",),
    ),
    "config.json that is not JSON": Case(
        _write("bad/config.json", "{not json"), 2, _path("bad/config.json"), ("json",)
    ),
    "folder whose config.json is not JSON": Case(
        lambda d: [str(write(d, "badfolder/config.json", "{not json").parent), "--no-latency"],
        2,
        _path("badfolder"),
        ("json",),
    ),
    "config.json without model_type": Case(
        _write("plain/config.json", '{"a": 1}'), 2, _path("plain/config.json"), ("model_type",)
    ),
    "--batch 0": Case(_demo("--batch", "0"), 2, _const("--batch")),
    "--batch abc": Case(_demo("--batch", "abc"), 2, _const("--batch")),
    "--batch -3": Case(_demo("--batch=-3"), 2, _const("--batch")),
    "--batch 1.5": Case(_demo("--batch", "1.5"), 2, _const("--batch")),
    "--seq-len 0": Case(_demo("--seq-len", "0"), 2, _const("--seq-len")),
    "--prune 1.5": Case(_demo("--prune", "1.5"), 2, _const("--prune")),
    "--precision fp8": Case(_demo("--precision", "fp8"), 2, _const("--precision")),
}


def assert_case(case: Case, d: Path, code: int, out: str, err: str) -> None:
    assert_error_line(code, out, err, codes=(case.code,), names=case.names(d), says=case.says)
    assert_no_payload_ran(d)


# --- in this process ------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_in_process(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # what the real process prints is checked below
        argv = case.make(tmp_path)
    code, out, err = run_cli(["profile", *argv], capsys)
    assert_case(case, tmp_path, code, out, err)


def _hostile_case(d: Path) -> list[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [str(hostile_file(".bin torch zip", d)), "--no-latency"]


# name: (make, exit code, what the error names); hostile pickles themselves: tests/reliability/test_hostile_files.py
DEBUG_CASES: dict[str, tuple[Callable[[Path], list[str]], int, Callable[[Path], str]]] = {
    ".py whose forward raises": (CASES[".py whose forward raises"].make, 3, _path("forward.py")),
    "missing path": (CASES["missing path"].make, 2, _path("missing.onnx")),
    "hostile pickle (torch zip)": (_hostile_case, 2, _path("pytorch_model.bin")),
}


@pytest.mark.parametrize("name", list(DEBUG_CASES))
def test_debug_lets_the_traceback_through(name: str, tmp_path: Path) -> None:
    make, exit_code, names = DEBUG_CASES[name]
    argv = make(tmp_path)
    expected = MeasureError if exit_code == 3 else InputError
    with pytest.raises(expected) as info:
        main(["profile", *argv, "--debug"])
    assert names(tmp_path) in str(info.value)
    assert_no_payload_ran(tmp_path)
    assert isinstance(info.value, StudioError) and info.value.exit_code == exit_code


def test_corrupt_torch_file_does_not_advise_trust(tmp_path: Path) -> None:
    p = write(tmp_path, "random.pt", random_bytes())
    from profiler.loading import load_model

    with pytest.raises(InputError) as info:
        load_model(str(p))
    assert "--trust" not in str(info.value)


@pytest.mark.parametrize("argv", [["--threads", "0"], ["--device", "tpu"]])
def test_argparse_option_errors_are_one_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["profile", "demo:mlp", "--no-latency", *argv], capsys)
    assert_error_line(code, out, err, codes=(2,), names=argv[0])


# --- in a real process ----------------------------------------------------------------------


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
    argvs["debug: forward raises"] = [
        "profile",
        str(root / f"case{list(CASES).index('.py whose forward raises')}" / "forward.py"),
        "--debug",
    ]
    return root, run_in_a_real_process(root, argvs)


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_in_a_real_process(name: str, real_process: tuple[Path, dict[str, list[Any]]]) -> None:
    root, results = real_process
    code, out, err = results[name]
    assert_case(CASES[name], root / f"case{list(CASES).index(name)}", code, out, err)


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
        [*cmd, "profile", "nowhere/model.onnx"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    line = assert_error_line(result.returncode, result.stdout, result.stderr, names="nowhere/model.onnx")
    assert result.stderr.endswith("\n")
    assert line.startswith("error: nowhere/model.onnx: ") and "no such file" in line
