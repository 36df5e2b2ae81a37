"""`tradeoff profile` on the command line: the table, the JSON and CSV, and the main options.

Most tests call `tradeoff.main.main(argv)` in this process (capsys holds stdout/stderr); one runs the
installed console script end to end.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

from profiler import __version__
from tradeoff.main import main

MLP_PARAMS = 784 * 512 + 512 + 512 * 256 + 256 + 256 * 10 + 10
MLP_MACS = 784 * 512 + 512 * 256 + 256 * 10
REPO_ROOT = Path(__file__).resolve().parents[2]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def run_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code, out, err = run([*argv, "--json", "-"], capsys)
    assert code == 0, err
    doc: dict[str, Any] = json.loads(out)  # all of stdout, nothing else
    return doc


def tradeoff_command() -> list[str]:
    script = Path(sys.executable).with_name("tradeoff")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tradeoff"]


def test_profile_prints_a_table_with_totals(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["profile", "demo:mlp"], capsys)
    assert code == 0
    assert "error" not in err.lower() and "Traceback" not in err
    assert "mlp" in out.splitlines()[0]
    assert "Totals" in out
    assert f"{MLP_PARAMS:,}" in out and f"{MLP_MACS:,}" in out
    assert "by measured latency" in out and "by MACs" in out
    for layer in ("fc1", "fc2", "head"):
        assert layer in out
    # the median in the unit that reads best (µs / ms / s), as the app and the PDF show it
    assert re.search(r"latency +[0-9.,]+ (ns|µs|ms|s) median \(p10 ", out), out


def test_json_to_stdout_is_only_the_document(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(["profile", "demo:mlp"], capsys)
    assert doc["schema"] == "tradeoff.profile/1"
    assert doc["model"] == {"name": "mlp", "source": "demo:mlp", "format": "demo"}
    assert doc["inputs"] == [{"name": "x", "shape": [1, 1, 28, 28], "dtype": "float32"}]
    for key in ("config", "environment", "totals", "layers", "unsupported_ops", "warnings"):
        assert key in doc
    totals = doc["totals"]
    assert totals["params"] == MLP_PARAMS and totals["macs"] == MLP_MACS and totals["flops"] == 2 * MLP_MACS
    lat = totals["latency_ms"]
    assert set(lat) >= {"median", "p10", "p90", "samples"}
    assert 0 < lat["p10"] <= lat["median"] <= lat["p90"]
    assert isinstance(lat["samples"], int) and lat["samples"] > 0
    assert isinstance(totals["peak_memory_bytes"], int) and totals["peak_memory_bytes"] > 0
    assert {r["name"] for r in doc["layers"]} == {"flatten", "fc1", "act1", "fc2", "act2", "head"}
    for row in doc["layers"]:
        assert set(row) >= {
            "name",
            "type",
            "params",
            "macs",
            "flops",
            "weight_bytes",
            "activation_bytes",
            "latency_ms",
            "counted",
        }
        assert isinstance(row["latency_ms"], float) and row["counted"] is True
    assert doc["config"]["runtime"] == "torch" and doc["config"]["device"] == "cpu"
    assert doc["config"]["precision"] == "fp32" and doc["config"]["batch"] == 1
    env = doc["environment"]
    assert env["cores"] >= 1 and env["python"] and env["torch"]


@pytest.fixture(scope="module")
def static_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, Path]:
    """One `profile demo:mlp --no-latency --json FILE --csv FILE` (a worker each run: shared by the
    tests of the static figures): stdout, the JSON file, the CSV file."""
    tmp = tmp_path_factory.mktemp("static")
    json_path, csv_path = tmp / "out" / "p.json", tmp / "p.csv"
    json_path.parent.mkdir()
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["profile", "demo:mlp", "--no-latency", "--json", str(json_path), "--csv", str(csv_path)])
    assert code == 0, err.getvalue()
    return out.getvalue(), json_path, csv_path


@pytest.fixture(scope="module")
def one_thread_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], int, int]:
    """One measured `profile demo:mlp --threads 1`: its document, and this process's torch threads
    before and after it."""
    import torch

    path = tmp_path_factory.mktemp("threads") / "p.json"
    before = torch.get_num_threads()
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(["profile", "demo:mlp", "--threads", "1", "--json", str(path)])
    after = torch.get_num_threads()
    assert code == 0
    return json.loads(path.read_text(encoding="utf-8")), before, after


def test_json_and_csv_files(static_run: tuple[str, Path, Path]) -> None:
    out, json_path, csv_path = static_run
    assert "Totals" in out  # the table still goes to stdout when JSON goes to a file
    doc = json.loads(json_path.read_text(encoding="utf-8"))
    assert doc["schema"] == "tradeoff.profile/1"
    rows = list(csv.DictReader(io.StringIO(csv_path.read_text(encoding="utf-8"))))
    header = csv_path.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert {"name", "type", "params", "macs", "flops"} <= set(header)
    assert [r["name"] for r in rows] == [r["name"] for r in doc["layers"]]
    fc1 = next(r for r in rows if r["name"] == "fc1")
    assert fc1["type"] == "Linear" and int(fc1["params"]) == 784 * 512 + 512
    assert int(fc1["macs"]) == 784 * 512 and int(fc1["flops"]) == 2 * 784 * 512
    assert sum(int(r["macs"]) for r in rows) == doc["totals"]["macs"]


def test_no_latency_gives_nulls(static_run: tuple[str, Path, Path]) -> None:
    doc = json.loads(static_run[1].read_text(encoding="utf-8"))
    assert doc["totals"]["latency_ms"] is None
    assert doc["totals"]["peak_memory_bytes"] is None
    assert all(r["latency_ms"] is None for r in doc["layers"])
    assert doc["totals"]["macs"] == MLP_MACS  # static figures are still there


def test_no_latency_table_says_not_measured(static_run: tuple[str, Path, Path]) -> None:
    out = static_run[0]
    assert "not measured" in out and "by measured latency" not in out


def test_threads_recorded(one_thread_run: tuple[dict[str, Any], int, int]) -> None:
    doc = one_thread_run[0]
    assert doc["config"]["threads"] == 1
    assert doc["environment"]["threads"] == 1
    assert doc["totals"]["latency_ms"]["samples"] > 0


def test_threads_do_not_leak_into_the_process(one_thread_run: tuple[dict[str, Any], int, int]) -> None:
    _, before, after = one_thread_run
    assert after == before


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.strip() == f"tradeoff-studio {__version__}"


def test_batch_scales_shape_and_macs(static_run: tuple[str, Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    one = json.loads(static_run[1].read_text(encoding="utf-8"))
    four = run_json(["profile", "demo:mlp", "--no-latency", "--batch", "4"], capsys)
    assert four["inputs"][0]["shape"] == [4, 1, 28, 28]
    assert four["config"]["batch"] == 4
    assert four["totals"]["macs"] == 4 * one["totals"]["macs"]
    assert four["totals"]["flops"] == 4 * one["totals"]["flops"]
    assert four["totals"]["params"] == one["totals"]["params"]


def test_input_shape_option(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(["profile", "demo:mlp", "--no-latency", "--input-shape", "x=2x1x28x28"], capsys)
    assert doc["inputs"][0]["shape"] == [2, 1, 28, 28]
    assert doc["totals"]["macs"] == 2 * MLP_MACS


def test_top_limits_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["profile", "demo:mlp", "--no-latency", "--top", "2"], capsys)
    assert code == 0
    assert "Top 2 layers by MACs" in out


def test_hf_config_folder_from_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("transformers")
    folder = tmp_path / "tiny-gpt2"
    folder.mkdir()
    (folder / "config.json").write_text(
        json.dumps(
            {
                "model_type": "gpt2",
                "architectures": ["GPT2LMHeadModel"],
                "n_embd": 32,
                "n_layer": 1,
                "n_head": 2,
                "vocab_size": 64,
                "n_positions": 32,
                "bos_token_id": 0,
                "eos_token_id": 0,
            }
        )
    )
    doc = run_json(["profile", str(folder), "--no-latency", "--batch", "2", "--seq-len", "8"], capsys)
    assert doc["model"]["format"] == "hf-config"
    assert doc["inputs"] == [{"name": "input_ids", "shape": [2, 8], "dtype": "int64"}]
    assert doc["config"]["seq_len"] == 8


def test_onnx_from_the_command_line_is_measured_with_onnxruntime(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import torch
    from torch import nn

    path = tmp_path / "small.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4)).eval(),
            (torch.randn(1, 16),),
            str(path),
            dynamo=False,
            input_names=["x"],
            output_names=["y"],
            dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}},
        )
    doc = run_json(["profile", str(path), "--batch", "3", "--threads", "1"], capsys)
    assert doc["model"]["format"] == "onnx"
    assert doc["config"]["runtime"] == "onnxruntime" and doc["config"]["threads"] == 1
    assert doc["inputs"][0]["shape"] == [3, 16]
    assert doc["totals"]["params"] == 16 * 32 + 32 + 32 * 4 + 4
    assert doc["totals"]["macs"] == 3 * (16 * 32 + 32 * 4)
    assert doc["totals"]["latency_ms"]["samples"] > 0
    assert doc["layer_latency_method"] == "onnxruntime-profiling"


def test_console_script_end_to_end(tmp_path: Path) -> None:
    """The installed entry point: exit 0, stdout is exactly the JSON, nothing on stderr."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        [*tradeoff_command(), "profile", "demo:mlp", "--no-latency", "--json", "-", "--csv", str(tmp_path / "l.csv")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    doc = json.loads(result.stdout)
    assert doc["schema"] == "tradeoff.profile/1" and doc["totals"]["params"] == MLP_PARAMS
    assert (tmp_path / "l.csv").read_text(encoding="utf-8").startswith("name,type,")
