"""`tradeoff compare A B`: totals and ratios, aligned layers, fidelity on the same inputs, costs,
saved profiles as either side, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tradeoff.main import main

FACTORY = """
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.fc1 = nn.Linear(16, hidden)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(hidden, 10)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


def build_model():
    torch.manual_seed(0)
    return Net(HIDDEN), (torch.randn(4, 16),)


def build_sequential():
    torch.manual_seed(1)
    return nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 10)), (torch.randn(4, 16),)


def build_wide_input():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(20, 10)), (torch.randn(4, 20),)
"""


def write(tmp_path: Path, name: str, hidden: int) -> str:
    path = tmp_path / f"{name}.py"
    path.write_text(FACTORY.replace("HIDDEN", str(hidden)))
    return str(path)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def run_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code, out, err = run([*argv, "--json", "-"], capsys)
    assert code == 0, err
    doc: dict[str, Any] = json.loads(out)
    return doc


def test_a_model_against_a_narrower_copy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = write(tmp_path, "a", 32), write(tmp_path, "b", 16)
    doc = run_json(["compare", a, b, "--no-latency", "--serve-qps", "10"], capsys)
    assert doc["schema"] == "tradeoff.compare/1"
    assert doc["a"]["source"] == a and doc["a"]["profile"]["schema"] == "tradeoff.profile/1"
    layers = {row["name_a"]: row for row in doc["layers"]}
    assert layers["fc1"]["match"] == "name" and layers["fc1"]["name_b"] == "fc1"
    assert layers["fc1"]["params_delta"] == (16 * 16 + 16) - (16 * 32 + 32)
    assert layers["fc1"]["macs_delta"] == 4 * 16 * 16 - 4 * 16 * 32
    assert layers["fc1"]["latency_ms_delta"] is None  # nothing timed
    ratios = doc["totals"]["ratio_b_over_a"]
    pa, pb = doc["totals"]["a"]["params"], doc["totals"]["b"]["params"]
    assert ratios["params"] == pytest.approx(pb / pa) and ratios["params"] < 1
    assert ratios["latency_median_ms"] is None
    fid = doc["fidelity"]
    assert fid is not None and -1 <= fid["cosine"] <= 1 and fid["top1_agreement"] is not None
    costs = doc["costs"]
    assert costs["a"]["serving"]["usd_per_month"] is not None and costs["b"]["serving"]["headline"]
    assert costs["difference"]["basis"] == "usd_per_month"


def test_alignment_by_order_and_the_text_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = write(tmp_path, "a", 32)
    csv_path = tmp_path / "layers.csv"
    code, out, err = run(["compare", a, f"{a}:build_sequential", "--csv", str(csv_path), "--top", "2"], capsys)
    assert code == 0, err
    assert "B ÷ A" in out and "layers aligned: 3 by order" in out and "fidelity of B against A: cosine" in out
    assert "latency (p10–p90)" in out and "cost (projected):" in out
    rows = csv_path.read_text().splitlines()
    assert rows[0].startswith("name_a,name_b,match") and len(rows) == 4
    assert "fc1,0,order" in rows[1]


def test_torch_against_its_onnx_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import warnings

    import torch

    from profiler.loading import load_model

    module = load_model("demo:digits-cnn", trust=False).module
    onnx_path = tmp_path / "digits.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation notice
        torch.onnx.export(
            module, (torch.randn(1, 1, 8, 8),), str(onnx_path), input_names=["x"], output_names=["logits"],
            dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}}, dynamo=False,
        )  # fmt: skip
    doc = run_json(["compare", "demo:digits-cnn", str(onnx_path), "--no-latency", "--batch", "1"], capsys)
    fid = doc["fidelity"]
    assert fid["cosine"] > 0.99999 and fid["max_abs_error"] < 1e-3 and fid["top1_agreement"] == 1.0
    assert fid["accuracy"] is not None and fid["accuracy"] == fid["baseline_accuracy"]  # the demo's labelled samples
    match = {row["name_a"]: (row["name_b"], row["match"]) for row in doc["layers"]}
    assert match["conv1"] == ("/conv1/Conv", "scope") and match["head"] == ("/head/Gemm", "scope")
    assert match["bn1"] == (None, "only_a")  # folded into the conv by the export
    assert doc["totals"]["ratio_b_over_a"]["macs"] == pytest.approx(1.0)
    # an export with a fixed batch of 1 takes the samples one at a time
    fixed = tmp_path / "digits-fixed.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (torch.randn(1, 1, 8, 8),), str(fixed), input_names=["x"], dynamo=False)
    doc = run_json(["compare", "demo:digits-cnn", str(fixed), "--no-latency"], capsys)
    assert doc["fidelity"]["cosine"] > 0.99999 and doc["fidelity"]["accuracy"] is not None
    assert "1 at a time" in doc["fidelity_note"]


def test_saved_profiles_and_mismatched_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = write(tmp_path, "a", 32)
    saved = tmp_path / "a.json"
    code, _, err = run(["profile", a, "--no-latency", "--json", str(saved), "--no-calibration-record"], capsys)
    assert code == 0, err
    doc = run_json(["compare", str(saved), write(tmp_path, "b", 16), "--no-latency"], capsys)
    assert doc["fidelity"] is None and "saved profile" in doc["fidelity_note"]
    assert doc["a"]["profile"]["model"]["source"] == a
    both = run_json(["compare", str(saved), str(saved)], capsys)  # no worker at all
    assert both["totals"]["ratio_b_over_a"]["params"] == 1.0
    assert all(row["match"] == "name" for row in both["layers"])
    wide = run_json(["compare", a, f"{a}:build_wide_input", "--no-latency"], capsys)
    assert wide["fidelity"] is None and "input specs differ" in wide["fidelity_note"]


def test_bad_input_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.onnx"
    code, out, err = run(["compare", "demo:mlp", str(missing)], capsys)
    assert code == 2 and out == ""
    assert err.startswith(f"error: {missing}: ") and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    broken = tmp_path / "broken.json"
    broken.write_text('{"schema": "tradeoff.profile/1", "model": 3}')
    code, _, err = run(["compare", str(broken), "demo:mlp"], capsys)
    assert code == 2 and err.startswith(f"error: {broken}: not a readable tradeoff.profile/1 document")
    code, _, err = run(["compare", "demo:mlp", "demo:mlp", "--serve-qps", "many"], capsys)
    assert code == 2 and err.startswith("error: --serve-qps: ")
