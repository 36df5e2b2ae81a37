"""`tradeoff optimize` end to end on the trained demo (real worker, real transforms), its errors,
and the golden `tradeoff.optimize/1` document (tests/golden/optimize.json)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from planner.optimize.result import OptimizeResult
from profiler.codec import SchemaError

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "optimize.json"
REGEN = os.environ.get("TRADEOFF_REGEN_GOLDEN") == "1"


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(cwd / "xdg")}
    return subprocess.run(
        [sys.executable, "-m", "tradeoff", *args], cwd=cwd, capture_output=True, text=True, timeout=600, env=env
    )


@pytest.fixture(scope="module")
def searched(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], subprocess.CompletedProcess[str], Path]:
    tmp = tmp_path_factory.mktemp("optimize")
    proc = _cli(
        "optimize", "demo:digits-cnn", "--serve-qps", "1e7", "--budget", "9v", "--runtimes", "torch",
        "--json", "out.json", "--csv", "out.csv", "--pdf", "out.pdf", "--no-stored-calibration", cwd=tmp,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return json.loads((tmp / "out.json").read_text()), proc, tmp


@pytest.mark.slow
def test_optimize_on_the_trained_demo(searched: Any) -> None:
    doc, proc, tmp = searched
    result = OptimizeResult.from_dict(doc)
    result.check()
    assert doc["schema"] == "tradeoff.optimize/1"
    assert len(result.trials) <= 9, "the variant budget holds"
    assert result.stopped_because == "budget: 9 variants"
    base = result.baseline
    assert base is not None and base.timed and base.fidelity is not None
    assert base.fidelity.accuracy is not None and base.fidelity.accuracy > 0.95, "real accuracy: a trained demo"
    assert result.floor.max_accuracy_drop_pp == 1.0, "labelled samples: the default floor is on accuracy"
    rec = result.recommended
    assert rec is not None and rec.feasible
    assert 100 * (base.fidelity.accuracy - rec.fidelity.accuracy) <= 1.0  # type: ignore[union-attr]
    pruned = [t for t in result.trials if t.variant.pruned and t.variant.prune >= 0.3 and not t.variant.layer_prune]
    assert pruned and all(not t.feasible for t in pruned), "pruning 30 % of a trained CNN costs real accuracy"
    # text: recommendation, reasons, the front
    out = proc.stdout
    assert "Recommendation: " in out and "why: " in out and "bound by: " in out and "Pareto front" in out
    # CSV: one row per trial
    rows = (tmp / "out.csv").read_text().splitlines()
    assert rows[0].startswith("index,phase,label") and len(rows) == 1 + len(result.trials)
    # the PDF, with the recommendation on page 1
    assert (tmp / "out.pdf").read_bytes().startswith(b"%PDF")
    assert "wrote out.pdf" in out


@pytest.mark.slow
def test_the_pdf_states_the_recommendation_on_page_one(searched: Any) -> None:
    import shutil

    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    doc, _, tmp = searched
    text = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(tmp / "out.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Optimized for the lowest projected $ per month" in text
    assert "Bound by:" in text and "Pareto front" in text


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--prune", "0.3"], "error: --prune: optimize searches the pruning ratio itself"),
        (["--budget", "soon"], "error: --budget: 'soon' is not a duration"),
        (["--no-latency"], "error: --no-latency:"),
        (["--precision", "fp12"], "error: --precision: 'fp12' is not one of"),
        (["--min-cosine", "2"], "error: --min-cosine: 2.0 is outside"),
        (["--max-prune", "1.5"], "error: --max-prune: 1.5 is outside"),
    ],
)
def test_bad_options_are_one_line_errors(tmp_path: Path, args: list[str], fragment: str) -> None:
    proc = _cli("optimize", "demo:digits-cnn", *args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()], "one line"
    assert fragment in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_missing_model_is_one_line(tmp_path: Path) -> None:
    proc = _cli("optimize", "nope.onnx", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.startswith("error: nope.onnx: ")


# --- the golden document ----------------------------------------------------------------------------


def _shape(doc: Any) -> Any:
    """Keys and value types, not values (measured figures and catalog prices change)."""
    if isinstance(doc, dict):
        return {k: _shape(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_shape(doc[0])] if doc else []
    return "number" if isinstance(doc, (int, float)) and not isinstance(doc, bool) else type(doc).__name__


@pytest.mark.slow
def test_golden_document(searched: Any) -> None:
    doc, _, _ = searched
    if REGEN:
        GOLDEN.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    golden = json.loads(GOLDEN.read_text())
    # written back exactly as read
    assert (
        json.dumps(OptimizeResult.from_dict(golden).to_dict(), indent=2, ensure_ascii=False) + "\n"
        == GOLDEN.read_text()
    )
    # a document made now has the golden's top-level keys and the same trial record shape
    assert list(doc) == list(golden)
    assert _shape(doc["trials"][0]) == _shape(golden["trials"][0])


def test_golden_document_damaged_names_the_path() -> None:
    golden = json.loads(GOLDEN.read_text())
    golden["trials"][0]["timed"] = "yes"
    with pytest.raises(SchemaError) as err:
        OptimizeResult.from_dict(golden)
    assert "$.trials[0].timed" in str(err.value)
    wrong = dict(json.loads(GOLDEN.read_text()), schema="tradeoff.sweep/1")
    with pytest.raises(SchemaError):
        OptimizeResult.from_dict(wrong)
