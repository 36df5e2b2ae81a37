"""Hostile and broken model files, and the one-error-line check, shared by the CLI and reliability tests.

tests/cli/test_bad_inputs.py (usage errors and broken inputs, every case in this process and in a real
child process) and tests/reliability/test_hostile_files.py (bit flips, absurd dimensions, zip bombs, odd
names, hostile pickles) build their files and check their outcomes with these helpers.

The contract both check (docs/CONTRACT.md, issue 8): exit 2 (3 for a model that loads but cannot run),
one line `error: FILE: …` on stderr, no traceback, nothing on stdout, and no pickle's code run without
--trust.
"""

from __future__ import annotations

import functools
import io
import json
import os
import pickle
import random
import shlex
import subprocess
import sys
import tempfile
import warnings
import zipfile
from pathlib import Path
from typing import Any

from tradeoff.main import main

REPO_ROOT = Path(__file__).resolve().parents[1]
#: the file a hostile payload creates when its code runs
MARKER = "PWNED"
MIB = 2**20


# --- running the CLI and checking the outcome ---------------------------------------------------


def run_cli(argv: list[str], cap: Any) -> tuple[int, str, str]:
    """`tradeoff ARGV` in this process; `cap` is capsys or capfd. argparse's usage errors count too."""
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = cap.readouterr()
    return code, out, err


def assert_error_line(
    code: int,
    out: str,
    err: str,
    *,
    codes: tuple[int, ...] = (2,),
    names: str | None = None,
    says: tuple[str, ...] = (),
) -> str:
    """Exit in `codes`, nothing on stdout, exactly one `error: …` line on stderr, no traceback; the line
    names `names` and contains each of `says` (case-insensitive). Returns the line."""
    assert code in codes, f"exit {code}, expected {codes}; stderr: {err[-2000:]!r}"
    assert "Traceback" not in err, err[-3000:]
    lines = err.splitlines()
    assert len(lines) == 1, f"stderr has {len(lines)} lines: {err[-2000:]!r}"
    line = lines[0]
    assert line.startswith("error: "), line
    if names is not None:
        assert names in line, f"{names!r} not named in {line!r}"
    for word in says:
        assert word.lower() in line.lower(), f"{word!r} not in {line!r}"
    assert out == "", f"stdout on error: {out[:500]!r}"
    return line


def assert_no_payload_ran(root: Path) -> None:
    """No hostile payload under `root` ran (it would have created a MARKER file)."""
    for p in root.rglob(MARKER):
        raise AssertionError(f"a pickle ran code without --trust: {p}")


# --- in a real process --------------------------------------------------------------------------

# Runs each case through tradeoff.main.main with file-descriptor-level capture, so warnings and
# C-level output that a user's terminal would show count too. An argument "hex:…" is a path given
# as the hex of its bytes (names that are not UTF-8 survive JSON).
DRIVER = r"""
import json, os, sys, tempfile, traceback, warnings
from tradeoff.main import main

cases = json.load(open(sys.argv[1]))
results = {}
for name, argv in cases.items():
    argv = [os.fsdecode(bytes.fromhex(a[4:])) if a.startswith("hex:") else a for a in argv]
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
"""


def hexed(path: str) -> str:
    """A path argument for DRIVER that survives JSON whatever its bytes."""
    return "hex:" + os.fsencode(path).hex()


def run_in_a_real_process(
    root: Path, argvs: dict[str, list[str]], env: dict[str, str] | None = None
) -> dict[str, list[Any]]:
    """Every argv of `argvs` in one child process (cwd `root`): name -> [exit code, stdout, stderr]."""
    (root / "cases.json").write_text(json.dumps(argvs))
    (root / "driver.py").write_text(DRIVER)
    subprocess.run(
        [sys.executable, str(root / "driver.py"), str(root / "cases.json"), str(root / "results.json")],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **(env or {})},
        check=True,
        timeout=300,
        capture_output=True,
    )
    results: dict[str, list[Any]] = json.loads((root / "results.json").read_text())
    return results


# --- model files --------------------------------------------------------------------------------


@functools.cache
def sample_models() -> dict[str, bytes]:
    """Small valid model files, built once per process, by name:

    - mlp.onnx: demo:mlp exported to ONNX (input x 1x1x28x28, fixed)
    - mlp_ts.pt: demo:mlp traced to TorchScript (no input shapes stored)
    - lin.pt2: nn.Linear(3, 2) through torch.export at batch 2 (the batch is fixed)
    - sd.pt: a torch.save zip of nn.Linear(4, 4).state_dict() (weights without an architecture)
    - module.pt: a torch.save zip of a whole nn.Sequential (a pickled module: needs --trust)
    """
    import torch
    from torch import nn

    from profiler.demos import build_demo

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        mlp = build_demo("mlp").eval()
        x = torch.randn(1, 1, 28, 28)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(mlp, (x,), str(d / "mlp.onnx"), dynamo=False, input_names=["x"], output_names=["y"])
            torch.jit.trace(mlp, x).save(str(d / "mlp_ts.pt"))  # type: ignore[no-untyped-call]
            torch.export.save(torch.export.export(nn.Linear(3, 2).eval(), (torch.randn(2, 3),)), str(d / "lin.pt2"))
        torch.save(nn.Linear(4, 4).state_dict(), str(d / "sd.pt"))
        torch.save(nn.Sequential(nn.Linear(4, 4)), str(d / "module.pt"))
        return {p.name: p.read_bytes() for p in d.iterdir()}


def write(d: Path, name: str, data: bytes | str) -> Path:
    """`data` written to `d/name` (parent folders made as needed)."""
    p = d / name
    p.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        p.write_text(data, encoding="utf-8")
    else:
        p.write_bytes(data)
    return p


def random_bytes(n: int = 4096) -> bytes:
    """`n` seeded random bytes that are no pickle (no PROTO opcode first), no zip and no protobuf model."""
    rng = random.Random(1234)
    data = bytes(rng.randrange(256) for _ in range(n))
    assert not data.startswith(b"\x80")
    return data


def truncated(data: bytes) -> bytes:
    """The first half of `data`."""
    return data[: len(data) // 2]


def onnx_with_symbolic_dim(data: bytes, dim: int, name: str) -> bytes:
    """The ONNX model `data` with dimension `dim` of its first input made symbolic (`name`, no value)."""
    import onnx

    model = onnx.load_from_string(data)
    d = model.graph.input[0].type.tensor_type.shape.dim[dim]
    d.ClearField("dim_value")
    d.dim_param = name
    return bytes(model.SerializeToString())


# --- hostile pickles ----------------------------------------------------------------------------


class Payload:
    """Unpickling this calls os.system: a hostile checkpoint."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return os.system, (self.command,)


def payload(d: Path) -> Payload:
    """A payload that, when its code runs, creates `d/MARKER`."""
    return Payload(f"touch {shlex.quote(str(d / MARKER))}")


def pt2_with_member(
    data: bytes, member_suffix: str, new: bytes, config_patch: tuple[str, bytes, bytes] | None = None
) -> bytes:
    """The zip `data` with the member ending in `member_suffix` replaced by `new` (and one text replacement
    `config_patch` = (member suffix, old, new) applied)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename.endswith(member_suffix):
                content = new
            if config_patch and info.filename.endswith(config_patch[0]):
                assert config_patch[1] in content
                content = content.replace(config_patch[1], config_patch[2], 1)
            z.writestr(info.filename, content)
    return out.getvalue()


HOSTILE_KINDS = (
    ".ckpt raw pickle",
    ".ckpt torch zip (Lightning-style dict)",
    ".bin raw pickle (protocol 2)",
    ".bin torch zip",
    ".bin legacy (non-zip) torch.save",
    ".pt2 whose sample inputs are a hostile pickle",
    ".pt2 whose weight is a hostile pickle",
)


def hostile_file(kind: str, d: Path) -> Path:
    """A file of one of HOSTILE_KINDS in `d` whose pickle, once unpickled, creates `d/MARKER`."""
    import torch
    from torch import nn

    evil = payload(d)
    if kind == ".ckpt raw pickle":
        return write(d, "evil.ckpt", pickle.dumps(evil, protocol=4))
    if kind == ".ckpt torch zip (Lightning-style dict)":
        p = d / "evil.ckpt"
        torch.save({"state_dict": nn.Linear(2, 2).state_dict(), "hyper_parameters": evil, "epoch": 3}, str(p))
        return p
    if kind == ".bin raw pickle (protocol 2)":
        return write(d, "pytorch_model.bin", pickle.dumps(evil, protocol=2))
    if kind == ".bin torch zip":
        p = d / "pytorch_model.bin"
        torch.save(evil, str(p))
        return p
    if kind == ".bin legacy (non-zip) torch.save":
        p = d / "legacy.bin"
        torch.save(evil, str(p), _use_new_zipfile_serialization=False)
        return p
    buf = io.BytesIO()
    torch.save(evil, buf)
    lin = sample_models()["lin.pt2"]
    if kind == ".pt2 whose sample inputs are a hostile pickle":
        return write(d, "evil_inputs.pt2", pt2_with_member(lin, "sample_inputs/model.pt", buf.getvalue()))
    if kind == ".pt2 whose weight is a hostile pickle":
        return write(
            d,
            "evil_weight.pt2",
            pt2_with_member(
                lin,
                "data/weights/weight_0",
                buf.getvalue(),
                ("model_weights_config.json", b'"use_pickle": false', b'"use_pickle": true'),
            ),
        )
    raise AssertionError(kind)
