"""`tradeoff compare A B --pdf FILE`: the compare page as a PDF (gui/report/section_compare.py),
written atomically; an unwritable destination fails before anything is measured."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tradeoff.main import main

ARGS = ["compare", "demo:mlp", "demo:mlp", "--no-latency", "--serve-qps", "10", "--gpu", "H100", "--provider", "aws"]


@pytest.fixture(scope="module")
def compare_pdf(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    pdf = tmp_path_factory.mktemp("compare-pdf") / "mlp-vs-mlp.pdf"
    return pdf, main([*ARGS, "--pdf", str(pdf)])


def test_compare_writes_a_pdf(compare_pdf: tuple[Path, int]) -> None:
    pdf, code = compare_pdf
    assert code == 0
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and b"%%EOF" in data[-1024:]
    assert not list(pdf.parent.glob("*.tmp*")), "no temporary left beside the PDF"


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler's pdftotext is not installed")
def test_pdf_text_shows_totals_layers_fidelity_and_cost(compare_pdf: tuple[Path, int]) -> None:
    pdf, code = compare_pdf
    assert code == 0
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    for words in (
        "mlp vs mlp",
        "Totals",
        "Parameters",
        "536 k",  # demo:mlp's 535,818 parameters, both sides
        "1.00×",
        "Largest layer changes",
        "Output fidelity of B against A",
        "Top-1 agreement",
        "Serving cost (projected)",
        "B costs the same as A per month",
        "Page 1 of",
    ):
        assert words in text, f"{words!r} not in the PDF's text"
    assert "fc1" in text and "same name" in text


def test_pdf_with_json_on_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pdf = tmp_path / "c.pdf"
    assert main([*ARGS, "--pdf", str(pdf), "--json", "-"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out)["schema"] == "tradeoff.compare/1"  # nothing else on stdout
    assert pdf.read_bytes().startswith(b"%PDF")


def test_unwritable_pdf_fails_before_measuring(tmp_path: Path, capsys: Any) -> None:
    dest = tmp_path / "no-such-folder" / "c.pdf"
    code = main([*ARGS, "--pdf", str(dest)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith(f"error: {dest}: ") and "does not exist" in err
    assert not dest.parent.exists()


def test_pdf_naming_a_folder_is_refused(tmp_path: Path, capsys: Any) -> None:
    code = main([*ARGS, "--pdf", str(tmp_path)])
    assert code == 2 and "is a folder" in capsys.readouterr().err
