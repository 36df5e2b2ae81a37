"""Security corpus, part 1: files that can run code need trust, and every model runs in the worker.

Each attack is built from public formats; payloads only create or change marker files under
tmp_path. The command-line cases run `tradeoff` as a real process, as a user would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import psutil
import pytest
import torch
from torch import nn

from profiler.errors import InputError
from profiler.loading import load_model

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")

ROOT = Path(__file__).resolve().parents[2]


def tradeoff(
    *argv: str, timeout_s: float = 120, cwd: Path | None = None, tmpdir: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if tmpdir is not None:
        env["TMPDIR"] = str(tmpdir)
    return subprocess.run(
        [sys.executable, "-m", "tradeoff", *argv],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
    )


def assert_one_error(proc: subprocess.CompletedProcess[str], code: int, *words: str) -> str:
    assert proc.returncode == code, (proc.returncode, proc.stdout[-500:], proc.stderr[-2000:])
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("error: ")]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for w in words:
        assert w.lower() in lines[0].lower(), lines[0]
    return lines[0]


# --- torch.export archives -------------------------------------------------------------------


def _dynamic_pt2(path: Path) -> None:
    class Double(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * 2

    batch = torch.export.Dim("b", min=2, max=64)
    ep = torch.export.export(Double(), (torch.randn(4, 3),), dynamic_shapes={"x": {0: batch}})
    torch.export.save(ep, str(path))


def _rewrite_zip(
    src: Path,
    dst: Path,
    edit: dict[str, bytes] | None = None,
    add: dict[str, bytes] | None = None,
    transform: object = None,
) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if callable(transform):
                data = transform(info.filename, data)
            zout.writestr(info, data)
        prefix = zin.namelist()[0].split("/", 1)[0]
        for name, data in (add or {}).items():
            zout.writestr(f"{prefix}/{name}", data)


def sympy_payload_pt2(tmp_path: Path, marker: Path) -> Path:
    """A real .pt2 whose symbolic-shape expression, handed to sympy by torch.export.load, touches
    `marker` when evaluated."""
    plain = tmp_path / "plain.pt2"
    _dynamic_pt2(plain)
    evil = tmp_path / "evil.pt2"

    def transform(name: str, data: bytes) -> bytes:
        if not name.endswith("model.json"):
            return data
        text = data.decode()
        assert "expr_str" in text
        i = text.index('"expr_str": "') + len('"expr_str": "')
        j = text.index('"', i)
        payload = f"(__import__('pathlib').Path({str(marker)!r}).touch(), {text[i:j]})[1]"
        return (text[:i] + payload.replace('"', '\\"') + text[j:]).encode()

    _rewrite_zip(plain, evil, transform=transform)
    return evil


def test_pt2_shape_expression_payload_does_not_run_without_trust(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    evil = sympy_payload_pt2(tmp_path, marker)
    with pytest.raises(InputError) as info:
        load_model(str(evil))
    assert info.value.details.get("needs_trust") is True
    assert "--trust" in str(info.value) and "runs code" in str(info.value)
    assert not marker.exists()
    # the payload is live: the user's explicit trust is what lets it run
    try:
        load_model(str(evil), trust=True)
    except InputError:
        pass
    assert marker.exists(), "the payload is not a real attack (torch no longer evaluates it?)"


def test_pt2_with_native_library_is_refused_and_nothing_unpacked(tmp_path: Path) -> None:
    plain = tmp_path / "plain.pt2"
    _dynamic_pt2(plain)
    evil = tmp_path / "aoti.pt2"
    _rewrite_zip(
        plain,
        evil,
        add={
            "data/aotinductor/model/model.so": b"\x7fELF" + os.urandom(2048),
            "data/aotinductor/model/model.wrapper.cpp": b"// wrapper",
            "data/aotinductor/model/model_metadata.json": b"{}",
        },
    )
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    before = set(scratch.iterdir())
    proc = tradeoff("profile", str(evil), "--no-latency", cwd=tmp_path, tmpdir=scratch)
    assert_one_error(proc, 2, "--trust", str(evil))
    assert set(scratch.iterdir()) == before


def test_torchscript_file_writer_needs_trust(tmp_path: Path) -> None:
    victim = tmp_path / "victim.pth"
    victim.write_bytes(b"zzzz")

    class Writer(nn.Module):
        def __init__(self, path: str) -> None:
            super().__init__()
            self.path = path

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            t = torch.from_file(self.path, shared=True, size=4, dtype=torch.uint8)
            t.copy_(torch.tensor([65, 66, 67, 10], dtype=torch.uint8))
            return x

    path = tmp_path / "writer.pt"
    torch.jit.script(Writer(str(victim))).save(str(path))  # type: ignore[no-untyped-call]
    for argv in (["--no-latency", "--input-shape", "1x3"], ["--input-shape", "1x3"]):
        proc = tradeoff("profile", str(path), *argv)
        assert_one_error(proc, 2, "--trust", "TorchScript")
    assert victim.read_bytes() == b"zzzz"


# --- every model runs in the worker, with a time limit ----------------------------------------

FACTORY = """
import os, sys, time, signal
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)
    def forward(self, x):
{body}
        return self.fc(x)

def build_model():
{build}
    return Net(), (torch.randn(1, 4),)
"""


def factory(tmp_path: Path, name: str, body: str = "pass", build: str = "pass") -> str:
    indent = lambda text, n: "\n".join(" " * n + line for line in text.strip().splitlines())  # noqa: E731
    path = tmp_path / f"{name}.py"
    path.write_text(FACTORY.format(body=indent(body, 8), build=indent(build, 4)))
    return str(path)


@pytest.mark.parametrize(
    "body, words",
    [
        ("import ctypes; ctypes.string_at(0)", ("died", "SIGSEGV")),
        ("os._exit(0)", ("died", "exit code 0")),
        ("raise SystemExit(0)", ("SystemExit",)),
        ("raise KeyboardInterrupt", ("KeyboardInterrupt",)),
        ("os.kill(os.getpid(), signal.SIGKILL)", ("died", "SIGKILL")),
    ],
)
def test_a_model_that_kills_its_process_is_exit_3(tmp_path: Path, body: str, words: tuple[str, ...]) -> None:
    model = factory(tmp_path, "dies", body)
    proc = tradeoff("profile", model, "--json", "-")
    assert_one_error(proc, 3, model, *words)
    assert proc.stdout == ""


def test_a_hanging_model_stops_at_the_time_limit(tmp_path: Path) -> None:
    model = factory(tmp_path, "hangs", "time.sleep(3600)")
    start = time.monotonic()
    proc = tradeoff("profile", model, "--time-limit", "4")
    assert_one_error(proc, 3, model, "time limit")
    assert time.monotonic() - start < 60


@pytest.mark.parametrize("bad", ["nan", "inf", "-1", "0", "soon"])
def test_time_limit_must_be_a_real_limit(bad: str) -> None:
    proc = tradeoff("profile", "demo:mlp", "--no-latency", f"--time-limit={bad}")
    assert_one_error(proc, 2, "--time-limit")


def test_model_prints_never_reach_json_stdout(tmp_path: Path) -> None:
    forged = json.dumps({"schema": "tradeoff.profile/1", "forged": True})
    model = factory(
        tmp_path,
        "chatty",
        f"print({forged!r}, flush=True); os.write(1, b'raw fd 1\\n')",
        f"print({forged!r}, flush=True); sys.stdout.write('more\\n')",
    )
    proc = tradeoff("profile", model, "--json", "-")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)  # nothing but the document
    assert doc["schema"] == "tradeoff.profile/1" and "forged" not in doc
    assert doc["model"]["format"] == "python"


def _dead(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _wait_dead(pid: int, within_s: float = 10.0) -> bool:
    end = time.monotonic() + within_s
    while time.monotonic() < end:
        if _dead(pid):
            return True
        time.sleep(0.1)
    return False


SPAWN_CHILDREN = """
import subprocess, tempfile
pids = open({pids!r}, "a")
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
pids.write(f"{{child.pid}}\\n"); pids.flush()
r, w = os.pipe()
if os.fork() == 0:  # a detached grandchild: double fork + setsid
    os.setsid()
    if os.fork() == 0:
        os.write(w, str(os.getpid()).encode()); os.close(w)
        time.sleep(600)
    os._exit(0)
os.close(w)
pids.write(os.read(r, 32).decode() + "\\n"); pids.flush()
open({scratch!r}, "w").write(tempfile.gettempdir())
"""


@pytest.mark.parametrize("then", ["pass", "os._exit(0)", "time.sleep(3600)"])
def test_processes_a_model_starts_die_with_the_run_and_scratch_is_removed(tmp_path: Path, then: str) -> None:
    pids, scratch = tmp_path / "pids", tmp_path / "scratch"
    model = factory(tmp_path, "spawner", then, SPAWN_CHILDREN.format(pids=str(pids), scratch=str(scratch)))
    proc = tradeoff("profile", model, "--no-latency" if then == "pass" else "--threads=1", "--time-limit", "8")
    assert proc.returncode == (0 if then == "pass" else 3), proc.stderr
    started = [int(p) for p in pids.read_text().split()]
    assert len(started) == 2
    for pid in started:
        assert _wait_dead(pid), f"process {pid} started by the model outlived the run"
    folder = Path(scratch.read_text())
    assert folder.name.startswith("tradeoff-run-")
    assert not folder.exists(), "the worker's scratch folder was left behind"


def test_missing_inputs_file_is_an_error(tmp_path: Path) -> None:
    proc = tradeoff("profile", "demo:mlp", "--no-latency", "--inputs", str(tmp_path / "missing.npz"))
    assert_one_error(proc, 2, "missing.npz")


def test_sweep_where_every_variant_crashes_is_exit_3(tmp_path: Path) -> None:
    model = factory(tmp_path, "crashy", "os._exit(0)")
    proc = tradeoff("sweep", model, "--precision", "fp32", "--time-limit", "60")
    assert_one_error(proc, 3, model)
